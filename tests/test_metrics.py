import numpy as np
import pytest
from _helpers import ALL_LOSSES, encoded_targets, loss_id
from sklearn.metrics import (
    hinge_loss,
    log_loss,
    mean_absolute_error,
    mean_pinball_loss,
    mean_squared_error,
    root_mean_squared_error,
)

from sklosses.losses import (
    AbsoluteLoss,
    EpsilonInsensitiveLoss,
    HingeLoss,
    HuberLoss,
    LogLoss,
    QuantileLoss,
    SquaredEpsilonInsensitiveLoss,
    SquaredLoss,
)
from sklosses.metrics import (
    loss_metric,
    mean_epsilon_insensitive_loss,
    mean_huber_loss,
    mean_squared_epsilon_insensitive_loss,
)

Y_TRUE = [3, -0.5, 2, 7]
Y_PRED = [2.5, 0.0, 2, 8]


def test_worked_regression_example():
    assert mean_squared_error(Y_TRUE, Y_PRED) == pytest.approx(0.375)
    assert loss_metric(Y_TRUE, Y_PRED, loss="absolute") == pytest.approx(0.5)
    assert loss_metric(Y_TRUE, Y_PRED, loss="squared") == pytest.approx(np.sqrt(0.375))
    # The squared loss is half the squared error, as in scikit-learn.
    assert SquaredLoss()(Y_TRUE, Y_PRED) == pytest.approx(0.375 / 2)


def test_worked_classification_example():
    proba = np.array([[0.1, 0.2, 0.6, 0.1], [0.7, 0.1, 0.1, 0.1]])
    expected = (-np.log(0.6) - np.log(0.7)) / 2
    assert log_loss([2, 0], proba, labels=range(4)) == pytest.approx(expected)
    assert LogLoss()([2, 0], np.log(proba)) == pytest.approx(expected)
    # Every class present: the matching metric is scikit-learn's log loss.
    proba = np.vstack([proba, [[0.1, 0.8, 0.05, 0.05], [0.1, 0.1, 0.1, 0.7]]])
    y = [2, 0, 1, 3]
    assert loss_metric(y, proba, loss=LogLoss()) == pytest.approx(
        np.mean(-np.log([0.6, 0.7, 0.8, 0.7]))
    )


@pytest.mark.parametrize(
    "loss, reference",
    [
        (SquaredLoss(), root_mean_squared_error),
        (AbsoluteLoss(), mean_absolute_error),
        (
            QuantileLoss(quantile=0.8),
            lambda y, p, **kw: mean_pinball_loss(y, p, alpha=0.8, **kw),
        ),
    ],
    ids=loss_id,
)
def test_matching_metrics_come_from_scikit_learn(loss, reference, rng):
    y, pred, weight = rng.normal(size=(3, 50))
    weight = np.abs(weight)
    assert loss.metric(y, pred) == pytest.approx(reference(y, pred), rel=1e-12)
    assert loss.metric(y, pred, sample_weight=weight) == pytest.approx(
        reference(y, pred, sample_weight=weight), rel=1e-12
    )


@pytest.mark.parametrize(
    "function, loss",
    [
        (mean_huber_loss, HuberLoss(delta=0.7)),
        (mean_epsilon_insensitive_loss, EpsilonInsensitiveLoss(epsilon=0.7)),
        (
            mean_squared_epsilon_insensitive_loss,
            SquaredEpsilonInsensitiveLoss(epsilon=0.7),
        ),
    ],
)
def test_metrics_are_the_weighted_mean_loss(function, loss, rng):
    y, pred, weight = rng.normal(size=(3, 50))
    weight = np.abs(weight)
    (param,) = loss.get_params().keys()
    kwargs = {param: 0.7}
    expected = np.average(loss.loss(y, pred), weights=weight)
    assert function(y, pred, sample_weight=weight, **kwargs) == pytest.approx(expected)
    assert loss_metric(y, pred, loss=loss, sample_weight=weight) == pytest.approx(
        expected
    )


def test_binary_hinge_metric_equals_scikit_learn_hinge_loss(rng):
    y = rng.choice(["no", "yes"], size=100)
    decision = rng.normal(size=100)
    assert HingeLoss().metric(y, decision) == pytest.approx(hinge_loss(y, decision))


def test_margin_metric_encodes_multiclass_labels_one_vs_rest(rng):
    y = np.array(["a", "b", "c", "a"])
    decision = rng.normal(size=(4, 3))
    signs = np.where(y[:, None] == np.array(["a", "b", "c"]), 1.0, -1.0)
    expected = np.maximum(0, 1 - signs * decision).mean()
    assert HingeLoss().metric(y, decision) == pytest.approx(expected)


def test_margin_metric_needs_every_class():
    with pytest.raises(ValueError, match="y_true has 2 classes"):
        HingeLoss().metric([0, 1, 1], np.zeros((3, 3)))


def test_multilabel_log_loss_is_the_mean_binary_log_loss(rng):
    y = rng.integers(2, size=(30, 3))
    proba = rng.uniform(0.05, 0.95, size=(30, 3))
    expected = np.mean([log_loss(y[:, k], proba[:, k]) for k in range(3)])
    assert LogLoss().metric(y, proba) == pytest.approx(expected)


@pytest.mark.parametrize(
    "y_true, y_pred, match",
    [
        ([1.0, np.nan], [1.0, 2.0], "y_true contains NaN"),
        ([1.0, 2.0], [1.0, np.inf], "y_pred contains infinity"),
        ([1.0, 2.0], [1.0], "inconsistent numbers of samples"),
        ([[1.0, 2.0]], [[1.0]], "different shapes"),
    ],
)
def test_bad_input_is_named(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        mean_huber_loss(y_true, y_pred)


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)
def test_every_loss_has_a_finite_matching_metric(loss, rng):
    if loss.task == "regression":
        y, pred = encoded_targets(loss, 20, rng), rng.normal(size=20)
        if loss.link == "log":
            pred = np.exp(pred)  # the regressor predicts a positive mean
    else:
        y = np.tile([0, 1], 10)
        pred = rng.uniform(size=20)
        if loss.response_method == "predict_proba":
            pred = np.column_stack([1 - pred, pred])
    assert np.isfinite(loss_metric(y, pred, loss=loss))
