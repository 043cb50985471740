"""Metrics that scikit-learn lacks, computed by the loss objects.

RMSE, MAE, log loss, hinge and pinball losses come from
:mod:`sklearn.metrics`; the matching metric of every loss is
:func:`loss_metric`.
"""

import numpy as np
from sklearn.utils.validation import check_array, check_consistent_length

from .losses import (
    EpsilonInsensitiveLoss,
    HuberLoss,
    SquaredEpsilonInsensitiveLoss,
    get_loss,
)


def _check_regression_targets(y_true, y_pred, sample_weight):
    y_true = check_array(y_true, ensure_2d=False, input_name="y_true")
    y_pred = check_array(y_pred, ensure_2d=False, input_name="y_pred")
    check_consistent_length(y_true, y_pred, sample_weight)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred have different shapes: {y_true.shape} and "
            f"{y_pred.shape}."
        )
    return y_true, y_pred


def mean_huber_loss(y_true, y_pred, *, delta=1.0, sample_weight=None):
    r"""Mean Huber loss: squared for small errors, absolute for large ones.

    The matching metric of :class:`~sklosses.losses.HuberLoss`: the mean of
    :math:`\tfrac12 r^2` where :math:`|r| \le \delta` and
    :math:`\delta |r| - \tfrac12 \delta^2` elsewhere, :math:`r` being
    ``y_pred - y_true``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True targets.
    y_pred : array-like of the same shape
        Predicted targets.
    delta : float, default=1.0
        Error size at which the loss turns from quadratic to linear.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    loss : float
        Lower is better; outputs are averaged.

    Examples
    --------
    >>> from sklosses.metrics import mean_huber_loss
    >>> mean_huber_loss([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.1875
    >>> mean_huber_loss([0.0], [3.0], delta=1.0)  # 1 * 3 - 1/2
    2.5
    """
    y_true, y_pred = _check_regression_targets(y_true, y_pred, sample_weight)
    return HuberLoss(delta=delta)(y_true, y_pred, sample_weight)


def mean_epsilon_insensitive_loss(y_true, y_pred, *, epsilon=0.1, sample_weight=None):
    """Mean epsilon-insensitive loss: ``max(0, |y_pred - y_true| - epsilon)``.

    The matching metric of :class:`~sklosses.losses.EpsilonInsensitiveLoss`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True targets.
    y_pred : array-like of the same shape
        Predicted targets.
    epsilon : float, default=0.1
        Errors up to this size cost nothing.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    loss : float
        Lower is better; outputs are averaged.

    Examples
    --------
    >>> from sklosses.metrics import mean_epsilon_insensitive_loss
    >>> mean_epsilon_insensitive_loss([3, -0.5, 2, 7], [2.5, 0.0, 2, 8], epsilon=0.5)
    0.125
    """
    y_true, y_pred = _check_regression_targets(y_true, y_pred, sample_weight)
    return EpsilonInsensitiveLoss(epsilon=epsilon)(y_true, y_pred, sample_weight)


def mean_squared_epsilon_insensitive_loss(
    y_true, y_pred, *, epsilon=0.1, sample_weight=None
):
    """Mean squared epsilon-insensitive loss: ``max(0, |error| - epsilon)**2``.

    The matching metric of
    :class:`~sklosses.losses.SquaredEpsilonInsensitiveLoss`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True targets.
    y_pred : array-like of the same shape
        Predicted targets.
    epsilon : float, default=0.1
        Errors up to this size cost nothing.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    loss : float
        Lower is better; outputs are averaged.

    Examples
    --------
    >>> from sklosses.metrics import mean_squared_epsilon_insensitive_loss
    >>> mean_squared_epsilon_insensitive_loss([0.0, 0.0], [0.0, 2.5], epsilon=0.5)
    2.0
    """
    y_true, y_pred = _check_regression_targets(y_true, y_pred, sample_weight)
    loss = SquaredEpsilonInsensitiveLoss(epsilon=epsilon)
    return loss(y_true, y_pred, sample_weight)


def loss_metric(y_true, y_pred, *, loss, sample_weight=None):
    """The metric that matches ``loss``, lower is better.

    Delegates to ``loss.metric``: RMSE for the squared loss, MAE for the
    absolute loss, :func:`sklearn.metrics.log_loss` of probabilities for the
    log loss, the mean pinball loss for the quantile loss, and the mean loss
    itself for the others (classification losses take ``decision_function``
    values and encode ``y_true`` as they train on it).

    Parameters
    ----------
    y_true : array-like
        True targets or class labels.
    y_pred : array-like
        The output of the estimator method named by ``loss.response_method``.
    loss : str or Loss
        A loss name or object.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    score : float

    Examples
    --------
    >>> from sklosses.metrics import loss_metric
    >>> loss_metric([3, -0.5, 2, 7], [2.5, 0.0, 2, 8], loss="absolute")
    0.5
    >>> loss_metric([1, 0], [[0.2, 0.8], [0.9, 0.1]], loss="log_loss")
    0.1642...
    """
    loss = get_loss(loss)
    if loss.task == "regression":
        y_true, y_pred = _check_regression_targets(y_true, y_pred, sample_weight)
    else:
        check_consistent_length(y_true, y_pred, sample_weight)
        y_pred = check_array(y_pred, ensure_2d=False, input_name="y_pred")
    return loss.metric(np.asarray(y_true), y_pred, sample_weight=sample_weight)
