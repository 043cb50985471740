"""A call that raises leaves the estimator exactly as it was.

Whatever fails half-way (bad input the engine finds mid-epoch, a user's loss
or a callback raising, a KeyboardInterrupt, an invalid parameter), ``fit``
and ``partial_fit`` leave no half-trained model behind: unfitted after a
failed first fit, bit for bit the previous model otherwise.
"""

import copy
from functools import partial

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from sklosses import SGDClassifier, SGDRegressor
from sklosses.losses import Loss

# The target at which RaisingSquaredLoss raises, from inside the compiled loop.
SENTINEL = 12345.0


class RaisingSquaredLoss(Loss):
    """The squared loss, raising when it meets the target SENTINEL."""

    smoothness = 1.0

    @staticmethod
    def sample_loss(y, raw, params):
        if y == SENTINEL:
            raise ValueError("the loss met the sentinel target")
        r = raw - y
        return 0.5 * r * r

    @staticmethod
    def sample_gradient(y, raw, params):
        if y == SENTINEL:
            raise ValueError("the loss met the sentinel target")
        return raw - y


class RaiseAtEpoch:
    """A scikit-learn callback raising ``error`` at the end of epoch ``epoch``."""

    def __init__(self, epoch, error):
        self.epoch = epoch
        self.error = error

    def setup(self, estimator, context):
        self.ended = 0

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "epoch":
            self.ended += 1
            if self.ended >= self.epoch:
                raise self.error
        return False

    def teardown(self, estimator, context):
        pass


def snapshot(estimator):
    """Each attribute's object, and a copy of its value when it holds numbers."""
    saved = {}
    for name, value in vars(estimator).items():
        if isinstance(value, np.ndarray):
            saved[name] = (value, value.copy())
        elif isinstance(value, list):
            saved[name] = (value, list(value))
        else:
            saved[name] = (value, copy.copy(value))
    return saved


def assert_unchanged(estimator, before):
    """The same attributes, holding the same objects with the same bits."""
    after = vars(estimator)
    assert after.keys() == before.keys()
    for name, (value, saved) in before.items():
        assert after[name] is value, name
        if isinstance(saved, np.ndarray):
            assert value.dtype == saved.dtype and value.shape == saved.shape, name
            assert value.tobytes() == saved.tobytes(), name
        elif isinstance(saved, list):
            assert len(value) == len(saved), name
            assert all(
                a is b or a == b or (a != a and b != b)
                for a, b in zip(value, saved, strict=True)
            ), name
        elif isinstance(saved, float | int | str | bool | tuple):
            assert value == saved, name


def assert_same_model(a, b):
    for name in ("coef_", "intercept_", "t_", "loss_curve_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def with_nan(X, row):
    X = X.copy()
    X[row, 0] = np.nan
    return X


def classification(n_classes=2, n_samples=200):
    return make_classification(
        n_samples=n_samples, n_features=6, n_informative=4, n_classes=n_classes,
        random_state=0,
    )  # fmt: skip


def regression(n_samples=200):
    return make_regression(n_samples=n_samples, n_features=6, random_state=0)


def multilabel(n_samples=200):
    X, y = classification(n_samples=n_samples)
    return X, np.column_stack([y, 1 - y, X[:, 0] > 0]).astype(int)


# Every kind of model: binary, one-vs-rest in threads, softmax, multilabel,
# averaged, and the regressor.
MODELS = {
    "binary": (lambda: SGDClassifier(random_state=0), classification),
    "one-vs-rest": (
        lambda: SGDClassifier(n_jobs=2, random_state=0),
        lambda: classification(4),
    ),
    "multinomial": (
        lambda: SGDClassifier(loss="log_loss", random_state=0),
        lambda: classification(3),
    ),
    "multilabel": (lambda: SGDClassifier(random_state=0), multilabel),
    "averaged": (
        lambda: SGDClassifier(learning_rate="auto", average=True, random_state=0),
        classification,
    ),
    "regressor": (lambda: SGDRegressor(random_state=0), regression),
    "regressor auto": (
        lambda: SGDRegressor(learning_rate="auto", random_state=0),
        regression,
    ),
}


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("model", MODELS)
def test_a_failed_first_fit_leaves_the_estimator_unfitted(model, sparse):
    make, data = MODELS[model]
    X, y = data()
    X = with_nan(X, 100)
    estimator = make()
    before = snapshot(estimator)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        estimator.fit(sp.csr_matrix(X) if sparse else X, y)
    assert_unchanged(estimator, before)
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)


@pytest.mark.parametrize("model", MODELS)
def test_a_rejected_batch_leaves_the_model_bit_for_bit(model):
    make, data = MODELS[model]
    X, y = data()
    fit_params = {"classes": np.unique(y)} if model not in ("multilabel",) else {}
    if "regressor" in model:
        fit_params = {}
    estimator = make().partial_fit(X[:100], y[:100], **fit_params)
    before = snapshot(estimator)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        estimator.partial_fit(with_nan(X[100:], 50), y[100:])
    assert_unchanged(estimator, before)
    # Training goes on as if the bad batch had never come.
    estimator.partial_fit(X[100:], y[100:])
    reference = make().partial_fit(X[:100], y[:100], **fit_params)
    assert_same_model(estimator, reference.partial_fit(X[100:], y[100:]))


@pytest.mark.parametrize("model", MODELS)
def test_a_failed_warm_start_keeps_the_previous_model(model):
    make, data = MODELS[model]
    X, y = data()
    estimator = make().set_params(warm_start=True, max_iter=3, tol=None)
    estimator.fit(X, y)
    before = snapshot(estimator)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        estimator.fit(with_nan(X, 150), y)
    assert_unchanged(estimator, before)


def test_a_failed_refit_keeps_the_previous_model():
    X, y = classification(4)
    estimator = SGDClassifier(random_state=0).fit(X, y)
    before = snapshot(estimator)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        estimator.fit(with_nan(X, 10), y)
    assert_unchanged(estimator, before)


@pytest.mark.parametrize("sparse", [False, True])
def test_a_loss_raising_inside_the_compiled_loop_leaves_the_model(sparse):
    X, y = regression()
    X = sp.csr_matrix(X) if sparse else X
    estimator = SGDRegressor(loss=RaisingSquaredLoss(), random_state=0)
    estimator.partial_fit(X[:100], y[:100])
    before = snapshot(estimator)
    y_bad = y[100:].copy()
    y_bad[60] = SENTINEL
    with pytest.raises(ValueError, match="the loss met the sentinel target"):
        estimator.partial_fit(X[100:], y_bad)
    assert_unchanged(estimator, before)
    fresh = SGDRegressor(loss=RaisingSquaredLoss(), random_state=0)
    with pytest.raises(ValueError, match="sentinel"):
        fresh.fit(X[100:], y_bad)
    with pytest.raises(NotFittedError):
        check_is_fitted(fresh)


# Rows of the second call whose target is the sentinel: one row, in one
# share or the other depending on the order, or every row (both shares fail).
SENTINEL_ROWS = [[0], [30], [60], [99], slice(None)]


@pytest.mark.parametrize("rows", SENTINEL_ROWS, ids=str)
def test_a_loss_raising_in_a_partitions_thread_leaves_the_model(rows):
    # Local SGD on two threads: a share that raises releases the other from
    # their barrier, the error is the loss's, and the pool trains on after.
    X, y = regression()
    make = partial(
        SGDRegressor, loss=RaisingSquaredLoss(), n_partitions=2, n_jobs=2,
        random_state=0,
    )  # fmt: skip
    estimator = make().partial_fit(X[:100], y[:100])
    before = snapshot(estimator)
    y_bad = y[100:].copy()
    y_bad[rows] = SENTINEL
    with pytest.raises(ValueError, match="the loss met the sentinel target"):
        estimator.partial_fit(X[100:], y_bad)
    assert_unchanged(estimator, before)
    fresh = make()
    with pytest.raises(ValueError, match="sentinel"):
        fresh.fit(X[100:], y_bad)
    with pytest.raises(NotFittedError):
        check_is_fitted(fresh)
    estimator.partial_fit(X[100:], y[100:])
    reference = make(n_jobs=1).partial_fit(X[:100], y[:100])
    assert_same_model(estimator, reference.partial_fit(X[100:], y[100:]))


@pytest.fixture
def callbacks():
    return pytest.importorskip("sklearn.callback")


@pytest.mark.parametrize("error", [RuntimeError("stop"), KeyboardInterrupt()])
@pytest.mark.parametrize("model", MODELS)
def test_a_callback_raising_mid_fit_leaves_the_model(callbacks, model, error):
    make, data = MODELS[model]
    X, y = data()
    estimator = make().set_params(max_iter=10, tol=None, warm_start=True)
    estimator.fit(X, y)
    estimator.set_callbacks(RaiseAtEpoch(3, error))
    before = snapshot(estimator)
    with pytest.raises(type(error)):
        estimator.fit(X, y)
    assert_unchanged(estimator, before)
    assert not hasattr(estimator, "_callback_fit_ctx")  # torn down


def test_a_callback_raising_in_a_first_fit_leaves_it_unfitted(callbacks):
    X, y = classification(4)
    estimator = SGDClassifier(n_jobs=2, max_iter=10, tol=None, random_state=0)
    estimator.set_callbacks(RaiseAtEpoch(2, KeyboardInterrupt()))
    before = snapshot(estimator)
    with pytest.raises(KeyboardInterrupt):
        estimator.fit(X, y)
    assert_unchanged(estimator, before)
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)


def test_an_invalid_parameter_leaves_a_fitted_model():
    X, y = regression()
    estimator = SGDRegressor(random_state=0, warm_start=True).fit(X, y)
    before = snapshot(estimator)
    estimator.set_params(alpha=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        estimator.fit(X, y)
    estimator.set_params(alpha=before["alpha"][0])
    assert_unchanged(estimator, before)


@pytest.mark.parametrize("model", ["binary", "one-vs-rest", "regressor"])
def test_training_on_from_sparsified_coefficients_asks_for_densify(model):
    make, data = MODELS[model]
    X, y = data()
    estimator = make().fit(X, y).sparsify()
    before = snapshot(estimator)
    with pytest.raises(ValueError, match=r"sparsify\(\) left it: call densify\(\)"):
        estimator.partial_fit(X, y)
    estimator.set_params(warm_start=True)
    with pytest.raises(ValueError, match=r"call densify\(\)"):
        estimator.fit(X, y)
    estimator.set_params(warm_start=before["warm_start"][0])
    assert_unchanged(estimator, before)
    estimator.densify().partial_fit(X, y)


# -- property: after every failing call the estimator is as before -----------

CLASSIFICATION_LOSSES = ["hinge", "log_loss", "modified_huber", "squared_hinge"]
REGRESSION_LOSSES = ["squared_error", "huber", "absolute_error", "quantile"]
FAULTS = ["none", "nan", "inf", "raising loss", "callback", "interrupt", "parameter"]


@st.composite
def scenarios(draw):
    task = draw(st.sampled_from(["binary", "multiclass", "multilabel", "regression"]))
    n_samples = draw(st.integers(30, 80))
    n_features = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    if task == "regression":
        y = X @ rng.standard_normal(n_features) + rng.standard_normal(n_samples)
        losses = REGRESSION_LOSSES
    elif task == "multilabel":
        y = (rng.random((n_samples, 3)) < 0.5).astype(int)
        y[:2] = [[0, 0, 0], [1, 1, 1]]  # both values in every column
        losses = CLASSIFICATION_LOSSES
    else:
        n_classes = 2 if task == "binary" else draw(st.integers(3, 4))
        y = np.arange(n_samples) % n_classes
        losses = CLASSIFICATION_LOSSES
    params = {
        "loss": draw(st.sampled_from(losses)),
        "penalty": draw(st.sampled_from(["l2", "l1", "elasticnet", None])),
        "learning_rate": draw(
            st.sampled_from(["optimal", "constant", "invscaling", "adaptive", "auto"])
        ),
        "average": draw(st.booleans()),
        "max_iter": draw(st.integers(1, 8)),
        "tol": None,
        "random_state": seed,
    }
    if task != "regression":
        params["n_jobs"] = draw(st.sampled_from([None, 2]))
    fault = draw(st.sampled_from(FAULTS))
    if fault == "raising loss" and task != "regression":
        fault = "callback"
    return {
        "task": task,
        "params": params,
        "X": X.astype(draw(st.sampled_from([np.float64, np.float32]))),
        "y": y,
        "sparse": draw(st.booleans()),
        "first": draw(st.sampled_from(["fit", "partial_fit"])),
        "faulty": draw(st.sampled_from(["fit", "partial_fit", "warm start"])),
        "fault": fault,
        "row": draw(st.integers(0, n_samples - 1)),
        "epoch": draw(st.integers(1, 4)),
    }


def _call(estimator, method, X, y, task):
    if method == "partial_fit":
        extra = {"classes": np.unique(y)} if task in ("binary", "multiclass") else {}
        return estimator.partial_fit(X, y, **extra)
    return estimator.fit(X, y)


def _inject(scenario, estimator, X, y, epochs):
    """The faulty call's inputs, and the estimator set up to fail."""
    fault = scenario["fault"]
    X, y = X.copy(), y.copy()
    if fault in ("nan", "inf"):
        X[scenario["row"], 0] = np.nan if fault == "nan" else np.inf
    elif fault == "raising loss":
        estimator.set_params(loss=RaisingSquaredLoss())
        y[scenario["row"]] = SENTINEL
    elif fault in ("callback", "interrupt"):
        error = RuntimeError("stop") if fault == "callback" else KeyboardInterrupt()
        estimator.set_callbacks(RaiseAtEpoch(min(scenario["epoch"], epochs), error))
    elif fault == "parameter":
        estimator.set_params(eta0=-1.0, alpha=-1.0)
    return X, y


@pytest.mark.filterwarnings("ignore")
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_every_failing_call_leaves_the_estimator_as_it_was(scenario):
    pytest.importorskip("sklearn.callback")
    task, X, y = scenario["task"], scenario["X"], scenario["y"]
    make = SGDRegressor if task == "regression" else SGDClassifier
    estimator = make(**scenario["params"])
    as_input = sp.csr_matrix if scenario["sparse"] else np.asarray

    def attempt(method, X, y):
        before = snapshot(estimator)
        try:
            _call(estimator, method, as_input(X), y, task)
        except (ValueError, RuntimeError, KeyboardInterrupt):
            assert_unchanged(estimator, before)
            return False
        predict = getattr(estimator, "decision_function", estimator.predict)
        assert np.isfinite(predict(as_input(X))).all()
        return True

    fitted = attempt(scenario["first"], X, y)
    faulty = scenario["faulty"]
    if faulty == "warm start":
        estimator.set_params(warm_start=True)
        faulty = "fit"
    if faulty == "partial_fit" and not fitted:
        faulty = "fit"
    epochs = scenario["params"]["max_iter"] if faulty == "fit" else 1
    X_bad, y_bad = _inject(scenario, estimator, X, y, epochs)
    before = snapshot(estimator)
    succeeded = attempt(faulty, X_bad, y_bad)
    event(f"{scenario['fault']}: {'succeeded' if succeeded else 'failed'}")
    if scenario["fault"] in ("nan", "inf", "raising loss", "interrupt", "callback"):
        # A fault in the data or a raising hook always fails the call.
        assert not succeeded
        assert_unchanged(estimator, before)
