"""learning_rate="auto": averaged SGD with step sizes derived from the data."""

import contextlib

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize
from scipy.special import huber
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss, mean_squared_error

from sklosses import SGDClassifier, SGDRegressor

ALPHA = 1e-5
N_TRAIN, N_TEST, N_FEATURES = 20_000, 20_000, 20


@pytest.fixture(scope="module")
def features():
    rng = np.random.default_rng(0)
    # Unequal scales: the step must come from the data, not from a default.
    X = rng.normal(size=(N_TRAIN + N_TEST, N_FEATURES)) * rng.uniform(
        0.5, 3.0, N_FEATURES
    )
    return X, rng


def _split(X, y):
    return X[:N_TRAIN], X[N_TRAIN:], y[:N_TRAIN], y[N_TRAIN:]


def _within_one_percent_in_two_epochs(make_model, X, y, held_out_loss, optimum):
    X_train, X_test, y_train, y_test = _split(X, y)
    model = make_model(learning_rate="auto", max_iter=2, tol=None, random_state=0)
    model.fit(X_train, y_train)
    assert held_out_loss(model, X_test, y_test) <= 1.01 * optimum
    return model


def test_log_loss_reaches_the_optimum_in_two_epochs(features):
    X, rng = features
    y = X @ rng.normal(size=N_FEATURES) * 0.5 + rng.logistic(size=len(X)) > 0
    X_train, X_test, y_train, y_test = _split(X, y.astype(int))
    exact = LogisticRegression(C=1 / (ALPHA * N_TRAIN)).fit(X_train, y_train)
    optimum = log_loss(y_test, exact.predict_proba(X_test))

    def held_out(model, X, y):
        return log_loss(y, model.predict_proba(X))

    _within_one_percent_in_two_epochs(
        lambda **kw: SGDClassifier(loss="log_loss", **kw),
        X, y.astype(int), held_out, optimum,
    )  # fmt: skip
    # scikit-learn's default schedule is far from it after as many epochs.
    default = SGDClassifier(max_iter=2, tol=None, random_state=0, loss="log_loss")
    assert held_out(default.fit(X_train, y_train), X_test, y_test) > 1.1 * optimum


def test_multinomial_reaches_the_optimum_in_two_epochs(features):
    X, rng = features
    scores = X @ rng.normal(size=(N_FEATURES, 5)) * 0.5
    y = np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)
    X_train, X_test, y_train, y_test = _split(X, y)
    exact = LogisticRegression(C=1 / (ALPHA * N_TRAIN)).fit(X_train, y_train)
    optimum = log_loss(y_test, exact.predict_proba(X_test))
    model = _within_one_percent_in_two_epochs(
        lambda **kw: SGDClassifier(loss="log_loss", **kw),
        X,
        y,
        lambda m, X, y: log_loss(y, m.predict_proba(X)),
        optimum,
    )
    assert model.coef_.shape == (5, N_FEATURES)


def test_squared_loss_reaches_the_optimum_in_two_epochs(features):
    X, rng = features
    y = X @ rng.normal(size=N_FEATURES) + rng.normal(size=len(X))
    X_train, X_test, y_train, y_test = _split(X, y)
    exact = Ridge(alpha=ALPHA * N_TRAIN).fit(X_train, y_train)
    optimum = mean_squared_error(y_test, exact.predict(X_test))
    _within_one_percent_in_two_epochs(
        SGDRegressor, X, y, lambda m, X, y: mean_squared_error(y, m.predict(X)), optimum
    )


def test_huber_loss_reaches_the_optimum_in_two_epochs(features):
    X, rng = features
    y = X @ rng.normal(size=N_FEATURES) + rng.normal(size=len(X))
    y[rng.random(len(y)) < 0.05] += 50.0
    X_train, X_test, y_train, y_test = _split(X, y)

    def objective(params):
        r = X_train @ params[:-1] + params[-1] - y_train
        g = np.clip(r, -1.0, 1.0) / N_TRAIN
        value = np.mean(huber(1.0, r)) + 0.5 * ALPHA * params[:-1] @ params[:-1]
        return value, np.append(X_train.T @ g + ALPHA * params[:-1], g.sum())

    exact = minimize(objective, np.zeros(N_FEATURES + 1), jac=True).x
    residual = X_test @ exact[:-1] + exact[-1] - y_test
    optimum = np.mean(huber(1.0, residual))

    def held_out(model, X, y):
        return np.mean(huber(1.0, model.predict(X) - y))

    _within_one_percent_in_two_epochs(
        lambda **kw: SGDRegressor(loss="huber", **kw), X, y, held_out, optimum
    )


@pytest.mark.parametrize("loss", ["hinge", "absolute"])
def test_non_smooth_losses_take_decreasing_averaged_steps(features, loss):
    X, rng = features
    w = rng.normal(size=N_FEATURES)
    if loss == "hinge":
        y = (X @ w * 0.5 + rng.logistic(size=len(X)) > 0).astype(int)
        estimator = SGDClassifier
    else:
        y = X @ w + rng.standard_t(2, size=len(X))
        estimator = SGDRegressor
    X_train, X_test, y_train, y_test = _split(X, y)
    auto = estimator(loss=loss, learning_rate="auto", max_iter=2, tol=None)
    auto.fit(X_train, y_train)
    # The same steps, spelled out: eta0 = sqrt(d + 1) / R^2, 1/sqrt(t),
    # averaged from halfway through the first epoch; "auto" estimates R^2 on
    # 1,000 rows, so scores differ slightly.
    sq_norms = np.einsum("ij,ij->i", X_train, X_train) + 1.0
    eta0 = np.sqrt(N_FEATURES + 1) / sq_norms.mean()
    spelled = estimator(
        loss=loss, learning_rate="invscaling", eta0=eta0, power_t=0.5,
        average=N_TRAIN // 2, max_iter=2, tol=None,
    ).fit(X_train, y_train)  # fmt: skip
    assert auto.score(X_test, y_test) == pytest.approx(
        spelled.score(X_test, y_test), abs=0.02
    )


def test_partial_fit_keeps_the_step_of_the_first_batch(features):
    X, rng = features
    y = X @ rng.normal(size=N_FEATURES) + rng.normal(size=len(X))
    first, second = np.arange(0, 500), np.arange(500, 1000)
    # The second batch is scaled up: re-estimating the step would change it.
    batches = [(X[first], y[first]), (10 * X[second], 10 * y[second])]
    auto = SGDRegressor(learning_rate="auto", random_state=0)
    # With at most 1,000 rows the estimate reads every row of the batch: the
    # step is 1 / (2 * smoothness * max squared norm), and the average
    # starts halfway through the batch.
    r2 = np.max(np.einsum("ij,ij->i", X[first], X[first]) + 1.0)
    constant = SGDRegressor(
        learning_rate="constant", eta0=1 / (2 * r2), average=250, random_state=0
    )
    for X_batch, y_batch in batches:
        auto.partial_fit(X_batch, y_batch)
        constant.partial_fit(X_batch, y_batch)
    assert_array_equal(auto.coef_, constant.coef_)
    assert_array_equal(auto.intercept_, constant.intercept_)


def test_sample_weights_scale_the_step(features):
    X, rng = features
    X, y = X[:800], X[:800] @ rng.normal(size=N_FEATURES)
    params = dict(learning_rate="auto", penalty=None, max_iter=3, tol=None)
    weighted = SGDRegressor(random_state=0, **params)
    weighted.fit(X, y, sample_weight=np.full(800, 4.0))
    plain = SGDRegressor(random_state=0, **params).fit(X, y)
    # Weights of 4 with a quarter of the step take the same steps.
    assert_allclose(weighted.coef_, plain.coef_, rtol=1e-10)


@pytest.mark.parametrize(
    "params",
    [
        {"penalty": "l1", "alpha": 1e-3},
        {"penalty": "elasticnet", "alpha": 1e-3, "l1_ratio": 0.5},
        {"penalty": None},
        {"average": 1000},
        {"multi_class": "ovr", "n_jobs": 2},
    ],
)
@pytest.mark.parametrize("sparse", [False, True])
def test_works_with_every_penalty_mode_and_input(features, params, sparse):
    X, rng = features
    scores = X[:5000] @ rng.normal(size=(N_FEATURES, 3)) * 0.5
    y = np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)
    X = sp.csr_matrix(X[:5000]) if sparse else X[:5000]
    model = SGDClassifier(
        loss="log_loss", learning_rate="auto", max_iter=5, random_state=0, **params
    ).fit(X, y)
    assert np.isfinite(model.coef_).all()
    assert model.score(X, y) > 0.7


def test_zero_rows_cannot_give_a_step():
    with pytest.raises(ValueError, match="learning_rate='auto' cannot derive"):
        SGDRegressor(learning_rate="auto", fit_intercept=False).fit(
            np.zeros((10, 3)), np.ones(10)
        )


def test_class_weights_count_in_the_step(features):
    X, rng = features
    y = (X[:4000] @ rng.normal(size=N_FEATURES) > 0).astype(int)
    params = dict(
        loss="log_loss", learning_rate="auto", penalty=None, tol=None, random_state=0
    )
    weighted = SGDClassifier(class_weight={0: 50.0, 1: 50.0}, max_iter=3, **params)
    plain = SGDClassifier(max_iter=3, **params)
    # Weights of 50 with a fiftieth of the step take the same steps.
    assert_allclose(
        weighted.fit(X[:4000], y).coef_, plain.fit(X[:4000], y).coef_, rtol=1e-8
    )


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype, scale", [(np.float32, 1e19), (np.float64, 1e155)])
@pytest.mark.parametrize("estimator", [SGDClassifier, SGDRegressor])
def test_rows_whose_squared_norm_overflows_get_an_error(
    estimator, dtype, scale, sparse
):
    # Not a step of zero, which trained a model of zeros without a word.
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(200, 5)) * scale).astype(dtype)
    X = sp.csr_matrix(X) if sparse else X
    y = np.arange(200) % 2
    model = estimator(learning_rate="auto")
    with pytest.raises(
        ValueError,
        match=rf"cannot derive a step size: the squared norm of rows overflows "
        rf"{np.dtype(dtype).name}.*Scale the input",
    ):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


def test_float32_rows_whose_squared_norm_fits_float32_train():
    # The largest squared norm, 1.8e38, is half of float32's largest number.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 5))
    y = (X @ [1.0, -1.0, 2.0, 0.0, 0.5] > 0).astype(int)
    model = SGDClassifier(loss="log_loss", learning_rate="auto", random_state=0)
    model.fit((X * 3e18).astype(np.float32), y)
    assert model.score((X * 3e18).astype(np.float32), y) > 0.95


def test_divergence_advice_names_what_the_schedule_can_change():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X @ np.ones(5)
    # "auto" takes its step from the first batch: a later batch a million
    # times larger overshoots; "constant" overshoots at once with eta0=1.
    auto = SGDRegressor(learning_rate="auto", random_state=0).partial_fit(X, y)
    with pytest.warns(ConvergenceWarning, match="MinMaxScaler might help") as caught:
        with contextlib.suppress(ValueError):  # when it overflows, too
            auto.partial_fit(X * 1e6, y * 1e6)
    assert not any("eta0" in str(warning.message) for warning in caught)
    constant = SGDRegressor(learning_rate="constant", eta0=1.0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="A smaller eta0 might help too"):
        with contextlib.suppress(ValueError):
            constant.fit(X * 1e8, y * 1e8)
