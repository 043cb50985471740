"""User-defined losses: written in Python, trained by the compiled SGD loop."""

import ast
import importlib.util
import math
import pickle
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import (
    ALL_LOSSES,
    ScaledSquaredLoss,
    UserSquaredLoss,
    loss_id,
    standardized_regression,
    synthetic_three_classes,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.utils.estimator_checks import check_estimator
from test_regression_checks import EXPECTED_FAILURES as REGRESSION_EXPECTED_FAILURES

from sklosses import SGDClassifier, SGDRegressor
from sklosses._engine._kernels import engine_loss
from sklosses.losses import LogLoss, Loss, SquaredLoss, check_loss
from sklosses.scorers import make_loss_scorer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def regression():
    return standardized_regression(n_samples=300, n_features=6, noise=1.0)


@pytest.fixture(scope="module")
def examples():
    """The loss classes of the gallery examples, with their imports only:
    test_examples.py runs the scripts themselves."""
    namespace = {"__name__": "__main__"}  # where a script's classes live
    for script in ("plot_robust_regression_custom_losses.py", "plot_focal_loss.py"):
        path = EXAMPLES / script
        definitions = [
            node
            for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.Import | ast.ImportFrom | ast.ClassDef)
        ]
        exec(compile(ast.Module(definitions, []), str(path), "exec"), namespace)
    return namespace


# -- training: the same loop as the built-ins ---------------------------------


def _assert_same_model(a, b):
    if numba.config.BOUNDSCHECK:
        # Bounds checks put branches between the loop's multiplications and
        # additions, and LLVM fuses them into FMAs only within a branch: the
        # two compiled loops may then round the last bit differently. The
        # targets are standardized: 1e-14 is rounding, not another model.
        assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=1e-14)
        assert_allclose(a.intercept_, b.intercept_, rtol=1e-12, atol=1e-14)
        assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-12)
        return
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(a.intercept_, b.intercept_)
    assert a.loss_curve_ == b.loss_curve_


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"penalty": "l1", "learning_rate": "constant", "eta0": 0.01},
        {"penalty": "elasticnet", "l1_ratio": 0.3, "average": 10},
        {"learning_rate": "invscaling", "average": True},
        {"learning_rate": "adaptive", "eta0": 0.05, "early_stopping": True},
    ],
)
@pytest.mark.parametrize("container", ["dense", "csr", "float32"])
def test_user_squared_loss_trains_exactly_as_the_builtin(regression, params, container):
    X, y = regression
    X = {"dense": X, "csr": sp.csr_matrix(X), "float32": X.astype(np.float32)}[
        container
    ]
    fits = [
        SGDRegressor(loss=loss, max_iter=8, tol=None, random_state=0, **params).fit(
            X, y
        )
        for loss in (UserSquaredLoss(), SquaredLoss())
    ]
    _assert_same_model(*fits)
    assert fits[0].coef_.dtype == X.dtype


def test_user_squared_loss_partial_fit_as_the_builtin(regression):
    X, y = regression
    models = [
        SGDRegressor(loss=loss, random_state=0)
        for loss in (UserSquaredLoss(), SquaredLoss())
    ]
    for chunk in np.array_split(np.arange(len(y)), 3):
        for model in models:
            model.partial_fit(X[chunk], y[chunk])
    assert_array_equal(models[0].coef_, models[1].coef_)


def test_user_regression_loss_trains_one_vs_rest_as_the_builtin():
    X, y = synthetic_three_classes()
    fits = [
        SGDClassifier(
            loss=loss,
            learning_rate="invscaling",
            max_iter=5,
            tol=None,
            random_state=0,
            n_jobs=2,
        ).fit(X, y)  # fmt: skip
        for loss in (UserSquaredLoss(), SquaredLoss())
    ]
    _assert_same_model(*fits)


def test_a_later_fit_compiles_nothing(regression):
    X, y = regression
    SGDRegressor(loss=ScaledSquaredLoss(), max_iter=2, tol=None).fit(X, y)
    kernels = engine_loss(ScaledSquaredLoss()).kernels
    compiled = len(kernels.sgd_epochs.signatures)
    SGDRegressor(loss=ScaledSquaredLoss(weight=2.0), max_iter=2, tol=None).fit(X, y)
    assert engine_loss(ScaledSquaredLoss(weight=3.0)).kernels is kernels
    assert len(kernels.sgd_epochs.signatures) == compiled


def test_parameters_reach_the_compiled_functions_in_signature_order(regression):
    X, y = regression
    loss = ScaledSquaredLoss(weight=2.0, shift=0.5)
    assert loss.kernel_params() == (2.0, 0.5)
    # The minimizer of (raw - y - shift)^2 is y + shift: the intercept moves.
    model = SGDRegressor(loss=loss, max_iter=50, tol=None, random_state=0).fit(X, y)
    unshifted = SGDRegressor(
        loss=UserSquaredLoss(), max_iter=50, tol=None, random_state=0
    )
    unshifted.fit(X, y)
    assert model.intercept_[0] - unshifted.intercept_[0] == pytest.approx(0.5, abs=0.05)


@pytest.mark.filterwarnings(
    # The checks fit a few unscaled rows with scikit-learn's default steps,
    # which diverge, and skip the array API checks without SciPy's support.
    "ignore::sklearn.exceptions.ConvergenceWarning",
    "ignore::sklearn.exceptions.SkipTestWarning",
)
def test_passes_check_estimator():
    check_estimator(
        SGDRegressor(loss=UserSquaredLoss()),
        expected_failed_checks=REGRESSION_EXPECTED_FAILURES,
    )


# -- everything else works without more code ----------------------------------


def test_vectorized_methods_and_the_weighted_mean_come_for_free(rng):
    loss = ScaledSquaredLoss(weight=3.0, shift=1.0)
    y = rng.normal(size=(20, 2))
    raw = rng.normal(size=(20, 2))
    assert_allclose(loss.loss(y, raw), 1.5 * (raw - y - 1.0) ** 2)
    assert_allclose(loss.gradient(y, raw), 3.0 * (raw - y - 1.0))
    weights = rng.uniform(size=20)
    expected = np.average((1.5 * (raw - y - 1.0) ** 2).mean(axis=1), weights=weights)
    assert loss(y, raw, sample_weight=weights) == pytest.approx(expected)
    assert loss.metric(y[:, 0], raw[:, 0]) == pytest.approx(loss(y[:, 0], raw[:, 0]))


def test_clone_pickle_grid_search_and_scorer(regression):
    X, y = regression
    loss = ScaledSquaredLoss(weight=2.0)
    assert clone(loss).get_params() == {"weight": 2.0, "shift": 0.0}
    assert repr(pickle.loads(pickle.dumps(loss))) == "ScaledSquaredLoss(weight=2.0)"
    search = GridSearchCV(
        SGDRegressor(loss=ScaledSquaredLoss(), random_state=0),
        {"loss__shift": [0.0, 3.0]},
        scoring=make_loss_scorer(UserSquaredLoss()),
        cv=3,
    ).fit(X, y)
    assert search.best_params_ == {"loss__shift": 0.0}
    scores = cross_val_score(
        SGDRegressor(loss=UserSquaredLoss()),
        X,
        y,
        scoring=make_loss_scorer(SquaredLoss()),
        cv=3,
    )
    assert (scores < 0).all()


def test_user_classification_loss_gives_probabilities_one_vs_rest(examples):
    X, y = synthetic_three_classes()
    model = SGDClassifier(loss=examples["FocalLoss"](), random_state=0).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (300, 3)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert model.coef_.shape == (3, 20)  # one-vs-rest, never softmax
    with pytest.raises(ValueError, match="multinomial.*log loss"):
        SGDClassifier(loss=examples["FocalLoss"](), multi_class="multinomial").fit(X, y)


def test_non_probabilistic_user_loss_has_no_predict_proba():
    model = SGDClassifier(loss=UserSquaredLoss())
    assert not hasattr(model, "predict_proba")


# -- check_loss ----------------------------------------------------------------


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)
def test_builtin_losses_pass_check_loss(loss):
    check_loss(loss)


def test_user_losses_pass_check_loss(examples):
    for loss in (
        UserSquaredLoss(),
        ScaledSquaredLoss(weight=0.1, shift=-2.0),
        examples["LogCoshLoss"](),
        examples["CauchyLoss"](scale=0.5),
        examples["FocalLoss"](gamma=0.0),
        examples["FocalLoss"](gamma=3.0),
    ):
        check_loss(loss)


class WrongGradientLoss(UserSquaredLoss):
    @staticmethod
    def sample_gradient(y, raw, params):
        return 2.0 * (raw - y)


class OverflowingLogCoshLoss(Loss):
    @staticmethod
    def sample_loss(y, raw, params):
        return math.log(math.cosh(raw - y))

    @staticmethod
    def sample_gradient(y, raw, params):
        return math.tanh(raw - y)


class NegativeLoss(UserSquaredLoss):
    @staticmethod
    def sample_loss(y, raw, params):
        r = raw - y
        return 0.5 * r * r - 1.0


class ClaimsConvexLoss(Loss):
    # The Cauchy loss, without is_convex = False.
    @staticmethod
    def sample_loss(y, raw, params):
        return 0.5 * math.log1p((raw - y) ** 2)

    @staticmethod
    def sample_gradient(y, raw, params):
        return (raw - y) / (1.0 + (raw - y) ** 2)


class ClaimsTooSmoothLoss(UserSquaredLoss):
    smoothness = 0.5  # the squared loss's gradient changes at rate 1


class ClaimsLipschitzLoss(UserSquaredLoss):
    is_lipschitz = True  # the squared loss's gradient grows without bound


class ChangesItsParameterLoss(ScaledSquaredLoss):
    def __init__(self, weight=1.0, shift=0.0):
        self.weight = abs(weight)
        self.shift = shift


class ReadsAMissingParameterLoss(UserSquaredLoss):
    # No constructor, so params is empty.
    @staticmethod
    def sample_gradient(y, raw, params):
        return params[0] * (raw - y)


class ReadsPastItsParametersLoss(ScaledSquaredLoss):
    @staticmethod
    def sample_loss(y, raw, params):
        r = raw - y
        return 0.5 * params[0] * r * r if r < 3.0 else params[2] * r


class BadDeclarationsLoss(UserSquaredLoss):
    task = "ranking"
    label_encoding = "plus-minus"


class MissingLinkLoss(UserSquaredLoss):
    task = "classification"
    is_probabilistic = True


class NumpyDisagreesLoss(UserSquaredLoss):
    def loss(self, y, raw):
        return np.abs(np.asarray(raw) - np.asarray(y))


@pytest.mark.parametrize(
    "loss, match",
    [
        (WrongGradientLoss(), r"gradient: does not match finite differences"),
        (OverflowingLogCoshLoss(), r"finite: the loss is inf at .*raw=-1e\+06"),
        (NegativeLoss(), r"non-negative: is_nonnegative is True but the loss is -0.99"),
        (ClaimsConvexLoss(), r"convex: is_convex is True but the gradient decreases"),
        (ClaimsTooSmoothLoss(), r"smoothness: the gradient changes by 1 .*0.5"),
        (ClaimsLipschitzLoss(), r"lipschitz: is_lipschitz is True but the gradient"),
        (
            ChangesItsParameterLoss(weight=-1.0),
            r"parameters: .*modifies parameter weight",
        ),
        (
            ReadsAMissingParameterLoss(),
            r"params: sample_gradient reads past the end of params, which holds 0 "
            r"values \(\)",
        ),
        (
            ReadsPastItsParametersLoss(weight=2.0, shift=0.5),
            r"params: sample_loss reads past the end of params, which holds 2 "
            r"values \(2.0, 0.5\)",
        ),
        (BadDeclarationsLoss(), r"(?s)task: must be .*label_encoding: must be"),
        (MissingLinkLoss(), r"inverse_link is missing"),
        (NumpyDisagreesLoss(), r"loss: the vectorized method and the compiled"),
    ],
)
def test_check_loss_names_each_problem(loss, match):
    with pytest.raises(ValueError, match=match):
        check_loss(loss)


def test_estimators_check_a_user_loss_once_per_parameters(monkeypatch, rng):
    import sklosses.losses._check as checks

    class FreshLoss(ScaledSquaredLoss):
        pass  # a class of its own, checked by no other test

    calls, check = [], checks.check_loss
    monkeypatch.setattr(
        checks,
        "check_loss",
        lambda loss: calls.append(loss.kernel_params()) or check(loss),
    )
    X = rng.normal(size=(50, 2))
    y = X @ [1.0, 2.0]
    model = SGDRegressor(loss=FreshLoss(weight=2.0))
    for _ in range(3):
        model.partial_fit(X, y)
    model.set_params(loss=FreshLoss(weight=3.0)).fit(X, y)
    model.set_params(loss=FreshLoss(weight=2.0)).fit(X, y)
    assert calls == [(2.0, 0.0), (3.0, 0.0)]
    # A loss that fails is refused every time.
    bad = SGDRegressor(loss=ReadsPastItsParametersLoss(weight=2.0, shift=0.5))
    for _ in range(2):
        with pytest.raises(ValueError, match="reads past the end of params"):
            bad.fit(X, y)


def test_check_loss_lists_every_failed_check():
    class TwoProblemsLoss(WrongGradientLoss):
        is_nonnegative = True

        @staticmethod
        def sample_loss(y, raw, params):
            return 0.5 * (raw - y) ** 2 - 1.0

    with pytest.raises(
        ValueError, match=r"fails 2 checks(?s:.*)gradient(?s:.*)non-neg"
    ):
        check_loss(TwoProblemsLoss())


def test_check_loss_rejects_what_is_not_a_loss():
    with pytest.raises(TypeError, match="takes a sklosses.losses.Loss instance"):
        check_loss("squared_error")


# -- errors at fit time -----------------------------------------------------------


def test_a_loss_failing_check_loss_is_not_trained(regression):
    X, y = regression
    model = SGDRegressor(loss=WrongGradientLoss())
    with pytest.raises(ValueError, match="WrongGradientLoss.*fails 1 check"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


def test_a_loss_reading_past_its_parameters_is_not_trained(regression):
    # Without bounds checks, training would read the memory after params.
    X, y = regression
    model = SGDRegressor(loss=ReadsAMissingParameterLoss())
    with pytest.raises(ValueError, match="reads past the end of params"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


ANSWERS = {"a": 1.0}


class UncompilableLoss(UserSquaredLoss):
    @staticmethod
    def sample_gradient(y, raw, params):
        return ANSWERS.get("a", raw - y)  # a Python dict numba cannot type


class TupleLoss(UserSquaredLoss):
    @staticmethod
    def sample_loss(y, raw, params):
        return raw, y


class HalfDefinedLoss(Loss):
    @staticmethod
    def sample_loss(y, raw, params):
        return abs(raw - y)


class TextParameterLoss(UserSquaredLoss):
    def __init__(self, kind="fast"):
        self.kind = kind


class ImportingLoss(UserSquaredLoss):
    @staticmethod
    def sample_loss(y, raw, params):
        import math

        return math.fabs(raw - y)


class ContextManagerLoss(UserSquaredLoss):
    @staticmethod
    def sample_loss(y, raw, params):
        with open("log.txt") as file:
            file.write("loss")
        return abs(raw - y)


class AlwaysRaisingLoss(UserSquaredLoss):
    @staticmethod
    def sample_gradient(y, raw, params):
        raise ValueError("no gradient here")


@pytest.mark.parametrize(
    "loss, error, match",
    [
        (
            UncompilableLoss(),
            TypeError,
            r"(?s)numba cannot compile UncompilableLoss.sample_gradient\(y, raw, "
            r"params\)\. Numba's reason:.*ANSWERS",
        ),
        (TupleLoss(), TypeError, r"TupleLoss.sample_loss must return a real number"),
        (
            HalfDefinedLoss(),
            TypeError,
            "must define both sample_loss and sample_gradient",
        ),
        (TextParameterLoss(), TypeError, r"parameter kind='fast' is not a number"),
        (
            ImportingLoss(),
            TypeError,
            r"(?s)numba cannot compile ImportingLoss.sample_loss.*IMPORT_NAME",
        ),
        (
            ContextManagerLoss(),
            TypeError,
            r"(?s)numba cannot compile ContextManagerLoss.sample_loss.*'with",
        ),
        (
            AlwaysRaisingLoss(),
            TypeError,
            r"sample_gradient must return a real number, but it returns nothing on "
            r"every path: it always raises",
        ),
    ],
)
@pytest.mark.filterwarnings(
    # A loss reading a dict cannot be cached either, and is told so first.
    "ignore:sklosses cannot cache"
)
def test_functions_numba_cannot_run_get_a_clear_error(regression, loss, error, match):
    X, y = regression
    with pytest.raises(error, match=match):
        SGDRegressor(loss=loss).fit(X, y)


def test_a_loss_without_functions_or_kernel_says_what_to_define():
    with pytest.raises(NotImplementedError, match="neither sample_loss"):
        Loss().loss([0.0], [1.0])


# Two loss classes of lambdas alike but for their constants, one with them on
# two lines, one on a single line: numba files all four under one name.
LAMBDA_LOSSES = """
from sklosses.losses import Loss


class LambdaLoss(Loss):
    sample_loss = staticmethod(lambda y, raw, params: 0.5 * (raw - y) ** 2)
    sample_gradient = staticmethod(lambda y, raw, params: 1.0 * (raw - y) ** 1)


class OneLineLambdaLoss(Loss):
    sample_loss = staticmethod(lambda y, raw, params: 0.5 * (raw - y) ** 2); sample_gradient = staticmethod(lambda y, raw, params: 1.0 * (raw - y) ** 1)
"""  # noqa: E501


@pytest.mark.parametrize("name", ["LambdaLoss", "OneLineLambdaLoss"])
def test_two_lambdas_of_a_loss_keep_their_own_compiled_code(
    tmp_path, monkeypatch, regression, name
):
    # A module of the user's, cached on disk as a user's loss is.
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "lambda_losses.py"
    path.write_text(LAMBDA_LOSSES)
    spec = importlib.util.spec_from_file_location("lambda_losses", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "lambda_losses", module)
    spec.loader.exec_module(module)
    loss = getattr(module, name)()

    assert_array_equal(loss.loss([0.0], [3.0]), [4.5])
    assert_array_equal(loss.gradient([0.0], [3.0]), [3.0])
    X, y = regression
    fits = [
        SGDRegressor(loss=loss, max_iter=5, tol=None, random_state=0).fit(X, y)
        for loss in (loss, SquaredLoss())
    ]
    assert_allclose(fits[0].coef_, fits[1].coef_)


# -- the gallery's losses -------------------------------------------------------


def test_robust_losses_ignore_gross_outliers(examples):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 3))
    y = X @ np.array([1.0, -2.0, 3.0]) + rng.normal(scale=0.1, size=600)
    y[:30] += rng.uniform(20, 40, size=30)
    errors = {}
    for name, loss in [
        ("squared", SquaredLoss()),
        ("log-cosh", examples["LogCoshLoss"]()),
        ("Cauchy", examples["CauchyLoss"]()),
    ]:
        model = SGDRegressor(loss=loss, max_iter=50, random_state=0).fit(X, y)
        errors[name] = np.abs(model.coef_ - [1.0, -2.0, 3.0]).max() + abs(
            model.intercept_[0]
        )
    assert errors["Cauchy"] < 0.05
    assert errors["log-cosh"] < 0.2
    assert errors["squared"] > 1.0


def test_log_cosh_is_half_the_squared_loss_near_zero(examples, rng):
    y = rng.normal(size=100)
    raw = y + rng.normal(scale=1e-3, size=100)
    loss = examples["LogCoshLoss"]()
    assert_allclose(loss.loss(y, raw), SquaredLoss().loss(y, raw), rtol=1e-5)


def test_focal_loss_with_gamma_zero_trains_as_the_log_loss(examples):
    X, y = make_classification(n_samples=500, weights=[0.9], random_state=0)
    # The two differ by rounding only; "optimal" steps on unscaled data would
    # amplify that, so take steps that keep SGD stable.
    focal, log = (
        SGDClassifier(
            loss=loss,
            learning_rate="invscaling",
            eta0=0.1,
            max_iter=10,
            tol=None,
            random_state=0,
        ).fit(X, y)  # fmt: skip
        for loss in (examples["FocalLoss"](gamma=0.0), LogLoss())
    )
    assert_allclose(focal.coef_, log.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(focal.predict_proba(X), log.predict_proba(X), rtol=1e-10)


def test_focal_loss_shifts_the_gradient_to_the_rare_class(examples):
    X, y = make_classification(
        n_samples=6000, n_features=20, n_informative=5, weights=[0.95],
        class_sep=0.8, random_state=0,
    )  # fmt: skip
    X_train, _, y_train, _ = train_test_split(X, y, stratify=y, random_state=0)
    shares = []
    for loss in (LogLoss(), examples["FocalLoss"](gamma=2.0)):
        model = SGDClassifier(
            loss=loss, learning_rate="invscaling", eta0=0.1, average=True,
            max_iter=20, tol=None, random_state=0,
        ).fit(X_train, y_train)  # fmt: skip
        gradient = np.abs(loss.gradient(y_train, model.decision_function(X_train)))
        shares.append(gradient[y_train == 1].sum() / gradient.sum())
    assert shares[1] > shares[0] + 0.02
