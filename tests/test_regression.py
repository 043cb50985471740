import itertools
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import standardized_regression
from numba.core import types
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor as SklearnSGDRegressor
from sklearn.metrics import root_mean_squared_error
from sklearn.model_selection import train_test_split

from sklosses import SGDRegressor
from sklosses._engine import _epochs, _sgd
from sklosses.losses import (
    AbsoluteLoss,
    HingeLoss,
    HuberLoss,
    QuantileLoss,
    SquaredEpsilonInsensitiveLoss,
    SquaredLoss,
    get_loss,
)

SKLEARN_LOSSES = [
    "squared_error",
    "huber",
    "epsilon_insensitive",
    "squared_epsilon_insensitive",
]


@pytest.fixture(scope="module")
def data():
    return standardized_regression()


# -- the engine against an explicit implementation of the same updates -------


def _reference_sgd(X, y, loss, *, alpha, l1_ratio, eta0, epochs, average, dense):
    """Plain per-sample SGD with constant steps: no weight scale, no lazy average.

    Returns the weights and, per epoch, the mean over samples of the loss plus
    the penalty of the weights that sample saw.
    """
    n_samples, n_features = X.shape
    w = np.zeros(n_features)
    average_w = np.zeros(n_features)
    q = np.zeros(n_features)
    u = 0.0
    t = 1
    objectives = []
    for _ in range(epochs):
        objective = 0.0
        for i in range(n_samples):
            x = X[i]
            penalty = (1.0 - l1_ratio) * 0.5 * w @ w + l1_ratio * np.abs(w).sum()
            objective += loss.loss([y[i]], [x @ w])[0] + alpha * penalty
            update = -eta0 * loss.gradient([y[i]], [x @ w])[0]
            w *= max(0.0, 1.0 - (1.0 - l1_ratio) * eta0 * alpha)
            w += update * x
            if average and average <= t:
                average_w += (w - average_w) / (t - average + 1)
            # Cumulative L1 penalty on the features this sample touches.
            u += l1_ratio * eta0 * alpha
            for j in range(n_features) if dense else np.flatnonzero(x):
                z = w[j]
                if z > 0:
                    w[j] = max(0.0, w[j] - (u + q[j]))
                elif z < 0:
                    w[j] = min(0.0, w[j] + (u - q[j]))
                q[j] += w[j] - z
            t += 1
        objectives.append(objective / n_samples)
    return (average_w if average else w), objectives


@pytest.mark.parametrize(
    "penalty, l1_ratio", [("l2", 0.0), ("l1", 1.0), ("elasticnet", 0.3)]
)
@pytest.mark.parametrize("average", [False, 1, 150])
@pytest.mark.parametrize("sparse", [False, True])
def test_engine_matches_plain_sgd_updates(penalty, l1_ratio, average, sparse):
    # The weight scale, the lazy average and the cumulative L1 penalty are
    # re-representations: the numbers must be those of the plain updates.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5)) * (rng.uniform(size=(60, 5)) < 0.6)
    y = X @ rng.normal(size=5) + rng.normal(size=60)
    loss = HuberLoss(delta=0.5)
    model = SGDRegressor(
        loss=loss, penalty=penalty, l1_ratio=l1_ratio, alpha=0.05,
        learning_rate="constant", eta0=0.05, max_iter=4, tol=None,
        shuffle=False, fit_intercept=False, average=average,
    )  # fmt: skip
    model.fit(sp.csr_matrix(X) if sparse else X, y)
    expected, objectives = _reference_sgd(
        X, y, loss, alpha=0.05, l1_ratio=l1_ratio, eta0=0.05, epochs=4,
        average=average, dense=not sparse,
    )  # fmt: skip
    assert_allclose(model.coef_, expected, rtol=1e-10, atol=1e-12)
    # The training objective counts the true penalty at every step; scikit-learn
    # 1.9 counts, with L1 or sparse rows, the norm of the last row's features
    # only, before the L1 truncation.
    assert_allclose(model.loss_curve_, objectives, rtol=1e-10)


@pytest.mark.parametrize(
    "loss, penalty, learning_rate, average",
    [
        *itertools.product(
            SKLEARN_LOSSES, ["l2", None], ["invscaling", "constant", "adaptive"],
            [False, True],
        ),
        *itertools.product(
            SKLEARN_LOSSES, ["l1", "elasticnet"], ["invscaling"], [False]
        ),
    ],
)  # fmt: skip
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.filterwarnings(
    # Constant steps of scikit-learn's default size overshoot on some of these
    # losses, and sklosses says so (scikit-learn does not): the updates are
    # what is compared.
    "ignore:The training objective ended:sklearn.exceptions.ConvergenceWarning"
)
def test_same_updates_as_scikit_learn_without_shuffling(
    data, loss, penalty, learning_rate, average, sparse
):
    X, y = data
    X = sp.csr_matrix(X) if sparse else X
    params = dict(
        loss=loss, penalty=penalty, learning_rate=learning_rate, average=average,
        shuffle=False, max_iter=5, tol=None, alpha=1e-3,
    )  # fmt: skip
    ours = SGDRegressor(**params).fit(X, y)
    theirs = SklearnSGDRegressor(**params).fit(X, y)
    assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
    assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-9, atol=1e-12)
    assert ours.t_ == theirs.t_
    assert ours.n_iter_ == theirs.n_iter_


@pytest.mark.parametrize("learning_rate", ["optimal", "pa1", "pa2"])
def test_optimal_and_passive_aggressive_steps_match_scikit_learn(data, learning_rate):
    X, y = data
    params = dict(
        loss="epsilon_insensitive", learning_rate=learning_rate, alpha=0.1,
        eta0=0.1, shuffle=False, max_iter=5, tol=None,
    )  # fmt: skip
    ours = SGDRegressor(**params).fit(X, y)
    theirs = SklearnSGDRegressor(**params).fit(X, y)
    assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss", SKLEARN_LOSSES)
@pytest.mark.parametrize("penalty", ["l2", "l1"])
@pytest.mark.parametrize("alpha", [1e-4, 1e-2])
def test_stops_at_the_same_epoch_as_scikit_learn(loss, penalty, alpha):
    X, y = standardized_regression(n_samples=1000, noise=20.0)
    params = dict(loss=loss, penalty=penalty, alpha=alpha, shuffle=False)
    ours = SGDRegressor(**params).fit(X, y)
    theirs = SklearnSGDRegressor(**params).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)


# -- quality against references ------------------------------------------------


@pytest.mark.parametrize("loss", SKLEARN_LOSSES)
def test_held_out_rmse_within_two_percent_of_scikit_learn(loss):
    X, y = standardized_regression(n_samples=3000, n_features=20, noise=20.0, seed=1)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    errors = []
    for cls in (SGDRegressor, SklearnSGDRegressor):
        model = cls(loss=loss, random_state=0).fit(X_train, y_train)
        errors.append(root_mean_squared_error(y_test, model.predict(X_test)))
    assert errors[0] <= 1.02 * errors[1]


def _objective(loss, X, y, alpha, coef, intercept):
    return loss(y, X @ coef + intercept) + alpha * 0.5 * coef @ coef


@pytest.mark.parametrize(
    "loss", [SquaredLoss(), HuberLoss(delta=0.5), SquaredEpsilonInsensitiveLoss()]
)
def test_smooth_losses_reach_the_regularized_optimum(loss):
    X, y = standardized_regression(n_samples=2000, n_features=10, noise=30.0)
    alpha = 1e-3
    model = SGDRegressor(
        loss=loss, alpha=alpha, average=True, learning_rate="constant",
        eta0=0.01, max_iter=20, tol=None, random_state=0,
    ).fit(X, y)  # fmt: skip

    def objective(params):
        coef, intercept = params[:-1], params[-1]
        raw = X @ coef + intercept
        grad_raw = loss.gradient(y, raw) / len(y)
        gradient = np.append(X.T @ grad_raw + alpha * coef, grad_raw.sum())
        return _objective(loss, X, y, alpha, coef, intercept), gradient

    optimum = minimize(objective, np.zeros(11), jac=True, method="L-BFGS-B", tol=1e-12)
    reached = _objective(loss, X, y, alpha, model.coef_, model.intercept_[0])
    assert optimum.fun <= reached <= 1.01 * optimum.fun


@pytest.mark.parametrize("quantile", [0.5, 0.9])
@pytest.mark.parametrize("average", [False, True])
def test_quantile_loss_puts_the_quantile_below_the_prediction(quantile, average):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 5))
    y = X @ rng.normal(size=5) + rng.standard_t(df=3, size=20_000)
    model = SGDRegressor(
        loss=QuantileLoss(quantile=quantile), average=average, random_state=0
    ).fit(X, y)
    coverage = np.mean(y <= model.predict(X))
    assert abs(coverage - quantile) <= 0.02


def test_absolute_loss_fits_the_median():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20_000, 3))
    # Skewed noise: the mean and the median differ by about 0.3.
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.exponential(size=20_000)
    model = SGDRegressor(loss="absolute", average=True, random_state=0).fit(X, y)
    assert abs(np.mean(y <= model.predict(X)) - 0.5) <= 0.02
    assert model.intercept_[0] == pytest.approx(np.log(2), abs=0.05)


def test_huber_is_robust_to_outliers():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 5))
    y = X @ rng.normal(size=5) + 0.5 * rng.normal(size=4000)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    # 5% gross outliers, all on one side, as from a faulty sensor.
    outliers = rng.uniform(size=len(y_train)) < 0.05
    y_train = np.where(outliers, y_train + 50.0, y_train)
    errors = {}
    for loss in (SquaredLoss(), HuberLoss(delta=1.0)):
        model = SGDRegressor(loss=loss, average=True, random_state=0).fit(
            X_train, y_train
        )
        errors[type(loss).__name__] = root_mean_squared_error(
            y_test, model.predict(X_test)
        )
    assert errors["HuberLoss"] < 0.6  # the noise level is 0.5
    assert errors["HuberLoss"] < 0.5 * errors["SquaredLoss"]


# -- estimator behaviour -------------------------------------------------------


def test_same_random_state_gives_bit_identical_coefficients(data):
    X, y = data
    first = SGDRegressor(random_state=7).fit(X, y)
    second = SGDRegressor(random_state=7).fit(X, y)
    assert_array_equal(first.coef_, second.coef_)
    assert_array_equal(first.intercept_, second.intercept_)
    other = SGDRegressor(random_state=8).fit(X, y)
    assert not np.array_equal(first.coef_, other.coef_)


def test_pickle_round_trip_gives_identical_predictions(data):
    X, y = data
    model = SGDRegressor(loss=HuberLoss(delta=0.3), random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.loss.delta == 0.3


def test_dense_and_csr_rows_take_the_same_sample_weights(data):
    X, y = data
    X = X * (np.random.default_rng(0).uniform(size=X.shape) < 0.5)
    weight = np.random.default_rng(1).uniform(0.1, 3.0, size=y.shape[0])
    params = dict(random_state=0, fit_intercept=False)
    dense = SGDRegressor(**params).fit(X, y, sample_weight=weight)
    sparse = SGDRegressor(**params).fit(sp.csr_matrix(X), y, sample_weight=weight)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-13)
    unweighted = SGDRegressor(**params).fit(X, y)
    assert not np.allclose(unweighted.coef_, dense.coef_, rtol=1e-3)


def test_dense_and_csr_give_the_same_model(data):
    X, y = data
    X = X * (np.random.default_rng(0).uniform(size=X.shape) < 0.5)
    params = dict(random_state=0, fit_intercept=False, average=True)
    dense = SGDRegressor(**params).fit(X, y)
    sparse = SGDRegressor(**params).fit(sp.csr_matrix(X), y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-13)
    # Sparse input applies the L1 penalty lazily, to the features a sample
    # has: the same total penalty, clipped at zero at other moments.
    params["penalty"] = "elasticnet"
    dense = SGDRegressor(**params).fit(X, y)
    sparse = SGDRegressor(**params).fit(sp.csr_matrix(X), y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-5)
    # With an intercept, sparse input damps its steps as scikit-learn does.
    dense = SGDRegressor(random_state=0).fit(X, y)
    sparse = SGDRegressor(random_state=0).fit(sp.csr_matrix(X), y)
    assert_allclose(sparse.predict(X), dense.predict(X), atol=0.05)


def test_dense_rows_compile_a_loop_without_the_sparse_code(data):
    # Dense rows reach the loop without index arrays, so that numba compiles
    # them a loop of their own, without the CSR code: a first fit compiles
    # less, and each loop runs with fewer branches.
    X, y = data
    SGDRegressor(max_iter=1, tol=None).fit(X, y)
    SGDRegressor(max_iter=1, tol=None).fit(sp.csr_matrix(X), y)
    # The fit enters the engine at sgd_epochs, whose rows' types decide the
    # loop compiled: the epoch of the rows' arrays (numba 0.61 records the
    # signatures on the entry's dispatcher only).
    index_types = {
        tuple(signature[1].types[1:3]) for signature in _epochs.sgd_epochs.signatures
    } | {signature[1:3] for signature in _sgd._sgd_epoch.signatures}
    assert (types.none, types.none) in index_types
    assert any(isinstance(t, types.Array) for t, _ in index_types)


def test_partial_fit_over_chunks_is_close_to_fit(data):
    X, y = data
    fitted = SGDRegressor(max_iter=5, tol=None, shuffle=False).fit(X, y)
    streamed = SGDRegressor(shuffle=False)
    for _ in range(5):
        for chunk in np.array_split(np.arange(len(y)), 4):
            streamed.partial_fit(X[chunk], y[chunk])
    assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-10)
    assert len(streamed.loss_curve_) == 20


def test_dataframe_input_keeps_feature_names(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    model = SGDRegressor(random_state=0).fit(frame, y)
    assert_array_equal(model.feature_names_in_, frame.columns)
    assert model.n_features_in_ == X.shape[1]
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame.rename(columns={"x0": "other"}))


def test_verbose_prints_one_line_per_epoch(data, capsys):
    X, y = data
    model = SGDRegressor(verbose=1, max_iter=3, tol=None).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("-- Epoch") == model.n_iter_ == 3
    assert "Avg. loss:" in out and "Norm:" in out


def test_float32_input_is_computed_in_float32(data):
    X, y = data
    model = SGDRegressor(random_state=0).fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32
    reference = SGDRegressor(random_state=0).fit(X, y)
    assert_allclose(model.coef_, reference.coef_, rtol=1e-3, atol=1e-4)


def test_loss_curve_records_the_objective_per_epoch(data):
    X, y = data
    model = SGDRegressor(random_state=0).fit(X, y)
    assert len(model.loss_curve_) == model.n_iter_
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert not hasattr(model, "validation_loss_curve_")


def test_early_stopping_fills_the_validation_curves(data):
    X, y = data
    model = SGDRegressor(early_stopping=True, random_state=0).fit(X, y)
    assert len(model.validation_loss_curve_) == model.n_iter_
    assert len(model.validation_score_curve_) == model.n_iter_
    assert model.n_iter_ < model.max_iter
    assert max(model.validation_score_curve_) > 0.9


def test_warm_start_continues_from_the_previous_solution(data):
    X, y = data
    model = SGDRegressor(warm_start=True, max_iter=1, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = model.fit(X, y).coef_.copy()
        second = model.fit(X, y).coef_
    cold = SGDRegressor(max_iter=1, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert_allclose(cold.fit(X, y).coef_, first)
    assert not np.allclose(second, first)


def test_coef_init_and_intercept_init(data):
    X, y = data
    model = SGDRegressor(max_iter=1, tol=None, eta0=1e-12, learning_rate="constant")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y, coef_init=np.ones(8), intercept_init=[3.0])
    assert_allclose(model.coef_, 1.0, rtol=1e-6)
    assert model.intercept_[0] == pytest.approx(3.0)
    with pytest.raises(ValueError, match="Provided coef_init does not match dataset"):
        model.fit(X, y, coef_init=np.ones(3))


def test_l1_penalty_gives_sparse_coefficients():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 20))
    y = X[:, :3] @ np.array([3.0, -2.0, 1.0]) + 0.1 * rng.normal(size=2000)
    model = SGDRegressor(penalty="l1", alpha=0.01, random_state=0).fit(X, y)
    assert np.count_nonzero(model.coef_[3:]) <= 3
    assert np.all(model.coef_[:3] != 0)
    model.sparsify()
    assert sp.issparse(model.coef_)
    assert_allclose(model.predict(X), model.densify().predict(X))


def test_not_converged_warning_as_scikit_learn(data):
    X, y = data
    with pytest.warns(ConvergenceWarning, match="Maximum number of iteration"):
        SGDRegressor(max_iter=1).fit(X, y)


def test_loss_object_parameters_win_over_epsilon(data):
    X, y = data
    model = SGDRegressor(loss=HuberLoss(delta=2.0), epsilon=0.01).fit(X, y)
    assert model.loss_ == model.loss and model.loss_.delta == 2.0
    assert SGDRegressor(loss="huber", epsilon=0.3).fit(X, y).loss_.delta == 0.3


def test_clone_keeps_the_loss_object():
    model = clone(SGDRegressor(loss=HuberLoss(delta=2.0)))
    assert model.loss.delta == 2.0
    assert model.get_params()["loss__delta"] == 2.0


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.array([[1.0, np.nan]] * 3), np.ones(3), "Input X contains NaN"),
        (np.array([[1.0, np.inf]] * 3), np.ones(3), "Input X contains infinity"),
        (np.ones((3, 2)), np.array([1.0, np.nan, 2.0]), "Input y contains NaN"),
        (np.ones(3), np.ones(3), "Expected 2D array, got 1D array"),
        (np.ones((0, 2)), np.ones(0), "0 sample"),
        (np.ones((3, 2)), np.ones(4), "inconsistent numbers of samples"),
    ],
)
def test_bad_input_gets_a_clear_error(X, y, match):
    with pytest.raises(ValueError, match=match):
        SGDRegressor().fit(X, y)


@pytest.mark.parametrize(
    "loss, match",
    [
        ("hubber", "The 'loss' parameter of SGDRegressor must be a str among"),
        ("hinge", "The 'loss' parameter of SGDRegressor must be a str among"),
        (HingeLoss(), "needs a regression loss"),
        (HuberLoss(delta=-1.0), "delta"),
    ],
)
def test_unknown_or_unsuitable_losses_are_rejected(data, loss, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        SGDRegressor(loss=loss).fit(X, y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_diverging_learning_rate_is_reported_and_never_gives_nan(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(scale=1e3, size=(200, 5)).astype(dtype)
    y = X @ rng.normal(size=5)
    model = SGDRegressor(
        learning_rate="constant", eta0=10.0, penalty=None, max_iter=5, tol=None
    )
    # scikit-learn clips the runaway gradients silently; we say so.
    with pytest.warns(
        ConvergenceWarning, match=r"diverging at epoch #1.*StandardScaler"
    ):
        model.fit(X, y)
    assert np.isfinite(model.coef_).all()


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(learning_rate="optimal", alpha=0), "alpha must be > 0"),
        (dict(learning_rate="pa1"), "only works with loss 'epsilon_insensitive'"),
        (dict(penalty="elasticnet", l1_ratio=None), "l1_ratio must be set"),
        (dict(eta0=0.0), "The 'eta0' parameter"),
        (dict(learning_rate="fast"), "The 'learning_rate' parameter"),
    ],
)
def test_invalid_parameters_get_scikit_learn_errors(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        SGDRegressor(**params).fit(X, y)


def test_partial_fit_rejects_early_stopping(data):
    X, y = data
    with pytest.raises(ValueError, match="early_stopping should be False"):
        SGDRegressor(early_stopping=True).partial_fit(X, y)


def test_every_regression_loss_name_fits(data):
    X, y = data
    for name in ("squared", "absolute", "absolute_error", "quantile"):
        model = SGDRegressor(loss=name, random_state=0).fit(X, y)
        assert repr(model.loss_) == repr(get_loss(name))
        assert model.score(X, y) > 0.8
    assert isinstance(SGDRegressor(loss="absolute").fit(X, y).loss_, AbsoluteLoss)


@pytest.mark.parametrize(
    "y, match",
    [
        (np.array([None] * 200, dtype=object), "Input y contains NaN"),
        (np.full(200, 1e39), "Input y contains infinity"),  # beyond float32
    ],
)
def test_targets_that_are_not_finite_numbers_in_the_data_type(y, match):
    # Found once y is converted to numbers in X's precision, not trained on.
    X = np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32)
    model = SGDRegressor()
    with pytest.raises(ValueError, match=match):
        model.fit(X, y)
    assert not hasattr(model, "coef_")
