import pickle

import numpy as np
import pytest
from _helpers import ALL_LOSSES, encoded_targets, loss_id
from _reference_losses import closed_form, scikit_learn, scikit_learn_multinomial
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize_scalar
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import GridSearchCV

from sklosses.losses import (
    AbsoluteLoss,
    GammaLoss,
    HingeLoss,
    HuberLoss,
    LogLoss,
    Loss,
    ModifiedHuberLoss,
    PerceptronLoss,
    PoissonLoss,
    QuantileLoss,
    SquaredLoss,
    TweedieLoss,
    get_loss,
    loss_names,
)
from sklosses.losses._check import LOG_LINK_RAW_LIMIT

all_losses = pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)


def test_multinomial_gradient_matches_finite_differences(rng):
    loss = LogLoss()
    n, k, h = 200, 4, 1e-6
    y = rng.integers(k, size=n)
    raw = rng.normal(scale=3.0, size=(n, k))
    expected = np.empty_like(raw)
    for j in range(k):
        step = np.zeros(k)
        step[j] = h
        expected[:, j] = (loss.loss(y, raw + step) - loss.loss(y, raw - step)) / (2 * h)
    assert_allclose(loss.gradient(y, raw), expected, rtol=1e-5, atol=1e-7)


@all_losses
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients_finite_for_extreme_raw(loss, dtype, rng):
    # With a log link, exp(raw) overflows beyond 709: the contract holds where
    # the mean spans every plausible value.
    limit = LOG_LINK_RAW_LIMIT if loss.link == "log" else 1e6
    raw = np.concatenate([np.linspace(-limit, limit, 1001), [-limit, limit, 0.0]])
    raw = raw.astype(dtype)
    y = encoded_targets(loss, raw.shape[0], rng).astype(dtype)
    # Underflow to zero (exp(-1e6)) is the right answer and silent by default.
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        values = loss.loss(y, raw)
        gradient = loss.gradient(y, raw)
        mean = loss(y, raw)
    assert np.isfinite(values).all()
    assert np.isfinite(gradient).all()
    assert np.isfinite(mean)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(ALL_LOSSES),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1e-3, 1.0, 10.0]),
)
def test_values_and_gradients_match_the_closed_forms_and_scikit_learn(
    loss, seed, scale
):
    rng = np.random.default_rng(seed)
    y = encoded_targets(loss, 50, rng)
    raw = rng.normal(scale=scale, size=50)
    values, gradient = loss.loss(y, raw), loss.gradient(y, raw)
    expected = closed_form(loss, y, raw)
    assert_allclose(values, expected[0], rtol=1e-12, atol=1e-12)
    assert_allclose(gradient, expected[1], rtol=1e-12, atol=1e-12)
    reference = scikit_learn(loss, y, raw)
    if reference is not None:
        # Its deviances add the constant that makes them zero at mu = y
        # separately, which cancels digits of the larger terms.
        assert_allclose(values, reference[0], rtol=1e-10, atol=1e-10)
        assert_allclose(gradient, reference[1], rtol=1e-10, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 8), st.sampled_from([1e-3, 1.0, 30.0]))
def test_multinomial_log_loss_matches_scikit_learn(seed, n_classes, scale):
    rng = np.random.default_rng(seed)
    raw = rng.normal(scale=scale, size=(40, n_classes))
    y = rng.integers(n_classes, size=40)
    reference = scikit_learn_multinomial(y, raw)
    if reference is None:
        pytest.skip("sklearn._loss is not available in a tested version")
    assert_allclose(LogLoss().loss(y, raw), reference[0], rtol=1e-12, atol=1e-12)
    assert_allclose(LogLoss().gradient(y, raw), reference[1], rtol=1e-12, atol=1e-12)


def test_multinomial_finite_for_extreme_logits():
    raw = np.array([[1e6, -1e6, 0.0], [-1e6, -1e6, -1e6], [1e6, 1e6, 1e6]])
    y = np.array([1, 0, 2])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        values = LogLoss().loss(y, raw)
        gradient = LogLoss().gradient(y, raw)
    assert_allclose(values, [2e6, np.log(3), np.log(3)])
    assert np.isfinite(gradient).all()


def test_log_loss_is_binary_cross_entropy_of_the_sigmoid(rng):
    raw = rng.uniform(-10, 10, size=500)
    y = rng.integers(2, size=500).astype(float)
    p = expit(raw)
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert_allclose(LogLoss().loss(y, raw), expected, rtol=1e-10)
    assert_allclose(LogLoss().gradient(y, raw), p - y, rtol=1e-10, atol=1e-15)


def test_multinomial_log_loss_is_minus_log_softmax(rng):
    raw = rng.normal(scale=5.0, size=(300, 5))
    y = rng.integers(5, size=300)
    expected = -np.log(softmax(raw, axis=1)[np.arange(300), y])
    assert_allclose(LogLoss().loss(y, raw), expected, rtol=1e-10)


def test_multilabel_log_loss_is_a_sigmoid_per_label(rng):
    raw = rng.normal(size=(50, 3))
    y = rng.integers(2, size=(50, 3)).astype(float)
    per_label = np.column_stack([LogLoss().loss(y[:, k], raw[:, k]) for k in range(3)])
    assert_allclose(LogLoss().loss(y, raw), per_label)
    assert LogLoss()(y, raw) == pytest.approx(per_label.mean())


def test_predicting_point_six_for_the_true_class_costs_minus_ln_point_six():
    raw = np.log([[0.1, 0.2, 0.6, 0.1]])
    assert LogLoss()([2], raw) == pytest.approx(-np.log(0.6))
    assert_allclose(LogLoss().predict_proba(raw), [[0.1, 0.2, 0.6, 0.1]])


def test_weighted_mean(rng):
    y, raw = rng.normal(size=10), rng.normal(size=10)
    weights = rng.uniform(size=10)
    expected = np.sum(weights * SquaredLoss().loss(y, raw)) / weights.sum()
    assert SquaredLoss()(y, raw, sample_weight=weights) == pytest.approx(expected)


def test_sklearn_definitions():
    # The definitions of scikit-learn's _sgd_fast, so equal hyper-parameters
    # give equal learning dynamics.
    assert SquaredLoss().loss([0.0], [2.0])[0] == 2.0
    assert HuberLoss(delta=1.0).loss([0.0], [3.0])[0] == 2.5
    assert HingeLoss().loss([1.0], [1.0])[0] == 0.0
    assert HingeLoss().gradient([1.0], [1.0])[0] == -1.0
    assert PerceptronLoss().gradient([1.0], [0.0])[0] == -1.0
    assert ModifiedHuberLoss().loss([1.0], [-3.0])[0] == 12.0
    assert_allclose(QuantileLoss(quantile=0.5).loss([0.0], [4.0]), 0.5 * 4.0)


def test_absolute_loss_is_twice_the_median_pinball_loss(rng):
    y, raw = rng.normal(size=100), rng.normal(size=100)
    assert_allclose(AbsoluteLoss().loss(y, raw), 2 * QuantileLoss(0.5).loss(y, raw))


@st.composite
def _loss_targets_and_line(draw):
    loss = draw(st.sampled_from(ALL_LOSSES))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    y = encoded_targets(loss, 20, rng)
    # A log link's loss is finite where exp(raw) is: |raw| up to hundreds.
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3 if loss.link == "identity" else 10.0]))
    start = rng.normal(scale=scale, size=20)
    end = rng.normal(scale=scale, size=20)
    t = draw(st.floats(0.0, 1.0))
    return loss, y, start, end, t


@settings(max_examples=300, deadline=None)
@given(_loss_targets_and_line())
def test_losses_are_non_negative(case):
    loss, y, start, end, t = case
    assert (loss.loss(y, start) >= 0).all()


@settings(max_examples=300, deadline=None)
@given(_loss_targets_and_line())
def test_convex_losses_are_convex_along_random_lines(case):
    loss, y, start, end, t = case
    if not loss.is_convex:
        return
    between = loss.loss(y, t * start + (1 - t) * end)
    chord = t * loss.loss(y, start) + (1 - t) * loss.loss(y, end)
    assert (between <= chord + 1e-9 * (1 + np.abs(chord))).all()


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))
def test_multinomial_log_loss_is_convex_along_random_lines(seed, t):
    rng = np.random.default_rng(seed)
    y = rng.integers(3, size=10)
    start, end = rng.normal(scale=5, size=(2, 10, 3))
    loss = LogLoss()
    between = loss.loss(y, t * start + (1 - t) * end)
    chord = t * loss.loss(y, start) + (1 - t) * loss.loss(y, end)
    assert (between <= chord + 1e-9 * (1 + chord)).all()


@all_losses
def test_clone_and_pickle_keep_parameters(loss):
    for copy in (clone(loss), pickle.loads(pickle.dumps(loss))):
        assert type(copy) is type(loss)
        assert copy.get_params() == loss.get_params()
        assert copy.kernel_spec() == loss.kernel_spec()


def test_clone_keeps_delta():
    assert clone(HuberLoss(delta=2.0)).delta == 2.0
    assert repr(HuberLoss(delta=2.0)) == "HuberLoss(delta=2.0)"


class _ConstantRegressor(RegressorMixin, BaseEstimator):
    """Predicts the constant that minimizes its loss: enough to search over."""

    def __init__(self, loss=None):
        self.loss = loss

    def fit(self, X, y):
        loss = get_loss(self.loss if self.loss is not None else "squared")
        y = np.asarray(y, dtype=float)
        self.constant_ = minimize_scalar(
            lambda c: loss(y, np.full_like(y, c)), bounds=(y.min(), y.max())
        ).x
        return self

    def predict(self, X):
        return np.full(len(X), self.constant_)


def test_nested_loss_parameters_in_grid_search(rng):
    X = rng.normal(size=(60, 2))
    y = rng.normal(size=60)
    model = _ConstantRegressor(loss=HuberLoss())
    model.set_params(loss__delta=3.0)
    assert model.loss.delta == 3.0
    assert model.get_params()["loss__delta"] == 3.0
    search = GridSearchCV(model, {"loss__delta": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
    assert search.best_params_["loss__delta"] in (0.1, 1.0, 10.0)
    assert search.best_estimator_.loss.delta == search.best_params_["loss__delta"]


def test_unknown_loss_name_lists_the_valid_names():
    with pytest.raises(ValueError, match="Unknown loss 'hubber'") as error:
        get_loss("hubber")
    for name in loss_names():
        assert repr(name) in str(error.value)
    with pytest.raises(ValueError, match="Valid losses"):
        get_loss(object())


@pytest.mark.parametrize(
    "loss, match",
    [
        (HuberLoss(delta=-1.0), "delta"),
        (QuantileLoss(quantile=1.5), "quantile"),
        (HingeLoss(threshold="a"), "threshold"),
    ],
)
def test_invalid_loss_parameters_are_named(loss, match):
    with pytest.raises(ValueError, match=match):
        get_loss(loss)


def test_names_follow_scikit_learn_and_add_aliases():
    sklearn_names = {
        "hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron",
        "squared_error", "huber", "epsilon_insensitive",
        "squared_epsilon_insensitive",
    }  # fmt: skip
    extra = {"log", "squared", "absolute", "absolute_error", "quantile"}
    positive_targets = {"poisson", "gamma", "tweedie"}
    assert set(loss_names()) == sklearn_names | extra | positive_targets
    # A classifier trains regression losses on -1/+1, which a deviance refuses.
    assert set(loss_names("regression")) - positive_targets < set(
        loss_names("classification")
    )
    assert not positive_targets & set(loss_names("classification"))
    assert "hinge" not in loss_names("regression")


def test_epsilon_goes_to_the_threshold_of_named_losses():
    assert get_loss("huber", epsilon=0.3).delta == 0.3
    assert get_loss("epsilon_insensitive", epsilon=0.3).epsilon == 0.3
    assert get_loss(HuberLoss(delta=2.0), epsilon=0.3).delta == 2.0


def test_loss_objects_pass_through_unchanged():
    loss = HuberLoss(delta=2.0)
    assert get_loss(loss) is loss
    assert isinstance(loss, Loss)


@pytest.mark.parametrize("loss", [LogLoss(), ModifiedHuberLoss()], ids=loss_id)
def test_probabilistic_losses_give_distributions(loss, rng):
    raw = rng.normal(scale=3, size=(40, 3))
    for proba in (loss.predict_proba(raw[:, 0]), loss.predict_proba(raw)):
        assert ((proba >= 0) & (proba <= 1)).all()
        assert_allclose(proba.sum(axis=1), 1.0)


def test_modified_huber_one_vs_rest_rows_of_zeros_become_uniform():
    proba = ModifiedHuberLoss().predict_proba([[-2.0, -3.0], [1.0, -1.0]])
    assert_allclose(proba, [[0.5, 0.5], [1.0, 0.0]])


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)
def test_only_probabilistic_losses_give_probabilities(loss):
    if loss.is_probabilistic:
        assert loss.predict_proba([0.0]).shape == (1, 2)
    else:
        with pytest.raises(NotImplementedError, match="not probabilistic"):
            loss.predict_proba([0.0])


def test_best_constant_is_the_mean_the_median_or_the_quantile(rng):
    y = rng.standard_exponential(2001)
    weights = np.ones_like(y)
    assert SquaredLoss().best_constant(y, weights) == pytest.approx(y.mean())
    assert AbsoluteLoss().best_constant(y, weights) == pytest.approx(np.median(y))
    q90 = QuantileLoss(quantile=0.9).best_constant(y, weights)
    assert q90 == pytest.approx(np.quantile(y, 0.9), rel=1e-3)


def test_best_constant_of_a_log_link_is_the_log_of_the_weighted_mean(rng):
    y = rng.poisson(3.0, size=100).astype(float)
    weights = rng.uniform(size=100)
    mean = weights @ y / weights.sum()
    assert PoissonLoss().best_constant(y, weights) == np.log(mean)
    assert PoissonLoss().best_constant(np.zeros(3), np.ones(3)) == 0.0
    assert GammaLoss().best_constant(y + 1, np.zeros(100)) == 0.0


def test_curvature_is_the_second_derivative_floored(rng):
    raw = rng.normal(size=50)
    y = rng.poisson(3.0, size=50).astype(float)
    assert_allclose(PoissonLoss().curvature(y, raw), np.exp(raw), rtol=1e-7)
    # Tweedie powers above 2 curve downwards for small targets: floored.
    y, raw = np.full(3, 0.1), np.zeros(3)
    assert_array_equal(TweedieLoss(power=3).curvature(y, raw), 1e-6)


def test_initial_curvature_takes_the_larger_of_the_mean_and_the_target():
    y, weights = np.array([1.0, 9.0]), np.ones(2)
    # Poisson's curvature is the mean: at 5 (the mean) and at 9 (the target).
    assert_allclose(PoissonLoss().initial_curvature(y, weights), [5.0, 9.0], rtol=1e-7)


def test_every_exported_loss_is_registered_with_its_kernel():
    import sklosses.losses as losses
    from sklosses._engine._losses import KINDS
    from sklosses.losses._registry import BUILT_IN_LOSSES

    exported = {
        getattr(losses, name)
        for name in losses.__all__
        if isinstance(getattr(losses, name), type) and name != "Loss"
    }
    assert exported == set(BUILT_IN_LOSSES)
    for cls in BUILT_IN_LOSSES:
        assert cls.names and cls.kernel in KINDS
        for name in cls.names:
            assert type(get_loss(name)) is cls


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_the_estimators_docstrings_name_the_losses_of_their_task(task):
    from sklosses import SGDClassifier, SGDRegressor

    estimator = SGDRegressor if task == "regression" else SGDClassifier
    own = [n for n in loss_names(task) if get_loss(n).task == task]
    for name in own:
        assert f'``"{name}"``' in estimator.__doc__
