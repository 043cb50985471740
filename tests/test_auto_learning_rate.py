"""learning_rate="auto": averaged SGD with step sizes derived from the data."""

import contextlib
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.optimize import minimize
from scipy.special import huber
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss, mean_squared_error

from sklosses import SGDClassifier, SGDRegressor
from sklosses.linear_model._driver import SGDResult
from sklosses.linear_model._schedules import split_heavy_rows

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
    # averaged from halfway through the first epoch; "auto" also splits the
    # rows above the 90th percentile of the norms into several visits, and a
    # regression starts from the best constant, so scores differ slightly.
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
    auto = SGDRegressor(learning_rate="auto", random_state=0)
    auto.partial_fit(X[first], y[first])
    # The step is 1 / (2 * smoothness * R^2), R^2 the 90th percentile of
    # the squared row norms (the intercept a feature of 1), and the average
    # starts halfway through the batch.
    r2 = np.quantile(np.einsum("ij,ij->i", X[first], X[first]) + 1.0, 0.9)
    _, eta0, _, average, split_norm = auto._auto_schedule
    assert eta0 == pytest.approx(1 / (2 * r2), rel=1e-12)
    assert (average, split_norm) == (250, pytest.approx(r2, rel=1e-12))
    # The second batch is scaled up: its rows are split into more visits,
    # the step stays, and the model stays near least squares.
    schedule = auto._auto_schedule
    auto.partial_fit(10 * X[second], 10 * y[second])
    assert auto._auto_schedule == schedule
    exact = Ridge(alpha=ALPHA * 1000).fit(X[:1000], y[:1000])
    assert_allclose(auto.coef_, exact.coef_, atol=0.1)


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
    )
    with warnings.catch_warnings():
        # Five epochs on purpose: the fit may say it could go on.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
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
        match=rf"cannot derive a step size: the squared norm of [0-9]+ rows "
        rf"overflows {np.dtype(dtype).name}.*Scale the input",
    ):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


def test_float32_rows_whose_squared_norm_fits_float32_train():
    # The largest squared norm, 1.8e38, is half of float32's largest number.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 5))
    y = (X @ [1.0, -1.0, 2.0, 0.0, 0.5] > 0).astype(int)
    model = SGDClassifier(loss="log_loss", learning_rate="auto", random_state=0)
    # The classes are separable: the objective falls until max_iter, and the
    # fit says so.
    with pytest.warns(ConvergenceWarning, match="still falling"):
        model.fit((X * 3e18).astype(np.float32), y)
    assert model.score((X * 3e18).astype(np.float32), y) > 0.95


def test_divergence_advice_names_what_the_schedule_can_change():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)) * 1e8
    y = X @ np.ones(5)
    for params, advice in [
        ({"learning_rate": "constant", "eta0": 1.0}, "A smaller eta0 might help"),
        ({"learning_rate": "optimal", "alpha": 1e-4}, "A larger alpha might help"),
    ]:
        model = SGDRegressor(random_state=0, **params)
        with pytest.warns(ConvergenceWarning, match=advice):
            with contextlib.suppress(ValueError):  # when it overflows, too
                model.fit(X, y)


def test_rows_beyond_a_thousand_visits_are_down_weighted_with_a_warning():
    # "auto" sizes its steps on the first batch; a batch whose rows are a
    # million times larger splits them into as many visits as it may, then
    # trains them with a smaller weight, and says so.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X @ np.ones(5)
    auto = SGDRegressor(learning_rate="auto", random_state=0).partial_fit(X, y)
    with pytest.warns(UserWarning, match=r"200 rows have a weighted squared norm over"):
        auto.partial_fit(X * 1e6, y * 1e6)
    assert np.isfinite(auto.coef_).all()


# -- failure modes found on real tables, on small synthetic data --------------


def _regression(n=4000, n_features=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * n, n_features))
    y = X @ rng.normal(size=n_features) + rng.normal(size=2 * n)
    return X, y


def _rmse_ratio(model, X, y, alpha=1e-4):
    X_train, X_test, y_train, y_test = X[::2], X[1::2], y[::2], y[1::2]
    exact = Ridge(alpha=alpha * len(y_train)).fit(X_train, y_train)
    model.fit(X_train, y_train)
    rmse = np.sqrt(mean_squared_error(y_test, model.predict(X_test)))
    return rmse / np.sqrt(mean_squared_error(y_test, exact.predict(X_test)))


@pytest.mark.parametrize("sparse", [False, True])
def test_rows_of_a_thousandfold_norm_spread_do_not_throw_the_model(sparse):
    # A few rows far larger than the rest, as data-entry errors make them:
    # with a step sized for the typical row they overshot by orders of
    # magnitude (726 times least squares' RMSE on a real table).
    X, y = _regression()
    rng = np.random.default_rng(1)
    heavy = rng.random(len(y)) < 0.003
    X[heavy] *= np.sqrt(1000.0)
    y[heavy] = X[heavy] @ np.linalg.lstsq(X[~heavy], y[~heavy])[0]
    X = sp.csr_matrix(X) if sparse else X
    model = SGDRegressor(learning_rate="auto", random_state=0)
    assert _rmse_ratio(model, X, y) <= 1.02


def test_a_target_scaled_by_a_million_reaches_least_squares():
    X, y = _regression()
    for loss in ("squared_error", "huber"):
        model = SGDRegressor(loss=loss, epsilon=1e6, learning_rate="auto")
        assert _rmse_ratio(model.set_params(random_state=0), X, 1e6 * y) <= 1.02


def test_float32_input_reaches_least_squares_as_float64_does():
    X, y = _regression()
    X[::97] *= 30.0  # uneven rows too
    model = SGDRegressor(learning_rate="auto", random_state=0)
    assert _rmse_ratio(model, X.astype(np.float32), y.astype(np.float32)) <= 1.02


def test_log_loss_with_a_thousandfold_norm_spread_reaches_the_optimum():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8000, 10))
    X[rng.random(8000) < 0.003] *= np.sqrt(1000.0)
    y = (X @ rng.normal(size=10) * 0.5 + rng.logistic(size=8000) > 0).astype(int)
    X_train, X_test, y_train, y_test = X[::2], X[1::2], y[::2], y[1::2]
    exact = LogisticRegression(C=1 / (1e-4 * len(y_train))).fit(X_train, y_train)
    model = SGDClassifier(loss="log_loss", learning_rate="auto", random_state=0)
    with pytest.warns(UserWarning, match="weighted squared norm over 1000 times"):
        model.fit(X_train, y_train)
    assert log_loss(y_test, model.predict_proba(X_test)) <= 1.02 * log_loss(
        y_test, exact.predict_proba(X_test)
    )


def test_heavy_rows_are_split_into_visits_of_their_share_of_the_weight():
    weights = np.array([1.0, 1.0, 2.0, 1.0])
    norms = np.array([1.0, 3.5, 3.5, 1e6])
    visit_weights, repeats, n_cut = split_heavy_rows(weights, norms, np.arange(4), 1.0)
    # ceil(r / 1) visits, each with 1/visits of the weight: 1, 4, 7 visits;
    # the last row, beyond 1,000 visits, gets 1,000 with its weight cut.
    assert_allclose(visit_weights[:3], [1.0, 1 / 4, 2 / 7])
    assert visit_weights[3] == pytest.approx(1e-6)
    assert np.bincount(repeats, minlength=4).tolist() == [0, 3, 6, 999]
    assert n_cut == 1


def test_the_warning_says_when_max_iter_cuts_a_fit_short():
    X, y = _regression(n=1000)
    with pytest.warns(ConvergenceWarning, match="still falling at epoch 1"):
        SGDRegressor(learning_rate="auto", max_iter=1, random_state=0).fit(X, y)


def test_converged_fits_stay_silent():
    X, y = _regression(n=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SGDRegressor(learning_rate="auto", random_state=0).fit(X, y)
    assert model.n_iter_ < model.max_iter
    assert len(model.loss_curve_) == model.n_iter_


def test_a_training_objective_ending_far_above_its_best_is_reported():
    model = SGDRegressor(learning_rate="constant", eta0=0.1, max_iter=3)
    model.n_iter_ = 3
    ended_high = SGDResult(3, {"loss": [1.0, 0.5, 2.0]})
    with pytest.warns(
        ConvergenceWarning, match=r"ended at 2, 300% above its best, 0.5 at epoch 2"
    ):
        model._warn_if_not_converged([ended_high])


def test_loss_curve_is_the_averaged_models_objective():
    X, y = _regression(n=500)
    model = SGDRegressor(
        learning_rate="auto", alpha=1e-3, max_iter=4, tol=None, random_state=0
    ).fit(X, y)
    residual = model.predict(X) - y
    objective = 0.5 * np.mean(residual**2) + 0.5e-3 * model.coef_ @ model.coef_
    assert model.loss_curve_[-1] == pytest.approx(objective, rel=1e-10)
