"""Regression losses: functions of the residual ``raw - y``.

Each one may also train a classifier on -1/+1 targets, as in scikit-learn.
A class holds the loss's parameters, properties and metric; its values and
gradients are its compiled kernel's (``kernel``, in
``sklosses/_engine/_losses.py``), through :meth:`Loss.loss`, so that the
formula is written once. Called from Python on 10 values, the kernel costs
some 3.5 us, as the NumPy code it replaced did (1.5 us for the squared loss,
13 us for the Tweedie deviance).
"""

from numbers import Real

from sklearn.metrics import (
    mean_absolute_error,
    mean_pinball_loss,
    root_mean_squared_error,
)
from sklearn.utils._param_validation import Interval

from ._base import Loss


class SquaredLoss(Loss):
    r"""Squared error, half of it: the loss of least squares.

    .. math:: L(y, f) = \tfrac12 (f - y)^2, \qquad \partial_f L = f - y

    The factor 1/2 matches scikit-learn's ``"squared_error"`` so equal
    hyper-parameters give equal learning dynamics. Use it when errors are
    roughly Gaussian; a few gross outliers dominate it (prefer
    :class:`HuberLoss` then). Its matching metric is the root mean squared
    error (RMSE), in the units of the target.

    Examples
    --------
    >>> from sklosses.losses import SquaredLoss
    >>> loss = SquaredLoss()
    >>> loss.loss([3.0, -0.5], [2.5, 0.0])
    array([0.125, 0.125])
    >>> loss.gradient([3.0, -0.5], [2.5, 0.0])
    array([-0.5,  0.5])
    >>> loss.metric([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])  # RMSE
    0.6123...
    """

    kernel = "squared"
    names = ("squared_error", "squared")
    smoothness = 1.0

    def metric(self, y_true, y_pred, *, sample_weight=None):
        return float(
            root_mean_squared_error(y_true, y_pred, sample_weight=sample_weight)
        )


class AbsoluteLoss(Loss):
    r"""Absolute error: the loss of least absolute deviations.

    .. math:: L(y, f) = |f - y|, \qquad \partial_f L = \operatorname{sign}(f - y)

    Fits the conditional median; robust to outliers in the target, at the
    price of a non-smooth objective (SGD converges with averaging or a
    decreasing step). Its matching metric is the mean absolute error (MAE).

    Examples
    --------
    >>> from sklosses.losses import AbsoluteLoss
    >>> loss = AbsoluteLoss()
    >>> loss.loss([3.0, -0.5], [2.5, 0.0])
    array([0.5, 0.5])
    >>> loss.gradient([3.0, -0.5], [2.5, 0.0])
    array([-1.,  1.])
    >>> loss.metric([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])  # MAE
    0.5
    """

    kernel = "absolute"
    names = ("absolute", "absolute_error")
    is_lipschitz = True

    def metric(self, y_true, y_pred, *, sample_weight=None):
        return float(mean_absolute_error(y_true, y_pred, sample_weight=sample_weight))


class HuberLoss(Loss):
    r"""Huber loss: squared near zero, absolute beyond ``delta``.

    .. math::

        L(y, f) = \begin{cases}
            \tfrac12 r^2 & |r| \le \delta \\
            \delta |r| - \tfrac12 \delta^2 & |r| > \delta
        \end{cases}, \qquad r = f - y,
        \qquad \partial_f L = \operatorname{clip}(r, -\delta, \delta)

    Behaves like the squared loss for residuals smaller than ``delta`` and
    like the absolute loss beyond, so gross outliers pull the fit with a
    bounded force. Choose ``delta`` around the residual size you still trust
    (in the target's units; tune it with ``loss__delta``). This is
    scikit-learn's ``"huber"``, whose threshold is the estimator's
    ``epsilon`` when the loss is given by name. Its matching metric is the
    mean Huber loss.

    Parameters
    ----------
    delta : float, default=1.0
        Residual size at which the loss turns from quadratic to linear.

    Examples
    --------
    >>> from sklosses.losses import HuberLoss
    >>> loss = HuberLoss(delta=1.0)
    >>> loss.loss([0.0, 0.0], [0.5, 3.0])
    array([0.125, 2.5  ])
    >>> loss.gradient([0.0, 0.0], [0.5, 3.0])
    array([0.5, 1. ])
    """

    kernel = "huber"
    names = ("huber",)
    epsilon_parameter = "delta"
    smoothness = 1.0
    is_lipschitz = True
    _parameter_constraints = {"delta": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, delta=1.0):
        self.delta = delta


class EpsilonInsensitiveLoss(Loss):
    r"""Epsilon-insensitive loss: the absolute error beyond a dead zone.

    .. math::

        L(y, f) = \max(0, |f - y| - \epsilon), \qquad
        \partial_f L = \operatorname{sign}(f - y)\,[\,|f - y| > \epsilon\,]

    The loss of linear support vector regression: errors smaller than
    ``epsilon`` cost nothing. Its matching metric is the mean loss.

    Parameters
    ----------
    epsilon : float, default=0.1
        Half-width of the zone where errors are ignored.

    Examples
    --------
    >>> from sklosses.losses import EpsilonInsensitiveLoss
    >>> loss = EpsilonInsensitiveLoss(epsilon=0.1)
    >>> loss.loss([0.0, 0.0], [0.05, -1.0])
    array([0. , 0.9])
    >>> loss.gradient([0.0, 0.0], [0.05, -1.0])
    array([ 0., -1.])
    """

    kernel = "epsilon_insensitive"
    names = ("epsilon_insensitive",)
    epsilon_parameter = "epsilon"
    is_lipschitz = True
    _parameter_constraints = {"epsilon": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon


class SquaredEpsilonInsensitiveLoss(Loss):
    r"""Squared epsilon-insensitive loss: the squared error beyond a dead zone.

    .. math::

        L(y, f) = \max(0, |f - y| - \epsilon)^2, \qquad
        \partial_f L = 2 \operatorname{sign}(f - y) \max(0, |f - y| - \epsilon)

    A smooth variant of :class:`EpsilonInsensitiveLoss`, as scikit-learn's
    ``"squared_epsilon_insensitive"`` (no factor 1/2). Its matching metric is
    the mean loss.

    Parameters
    ----------
    epsilon : float, default=0.1
        Half-width of the zone where errors are ignored.

    Examples
    --------
    >>> from sklosses.losses import SquaredEpsilonInsensitiveLoss
    >>> loss = SquaredEpsilonInsensitiveLoss(epsilon=0.1)
    >>> loss.loss([0.0, 0.0], [0.05, -1.1])
    array([0., 1.])
    >>> loss.gradient([0.0, 0.0], [0.05, -1.1])
    array([ 0., -2.])
    """

    kernel = "squared_epsilon_insensitive"
    names = ("squared_epsilon_insensitive",)
    epsilon_parameter = "epsilon"
    smoothness = 2.0
    _parameter_constraints = {"epsilon": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon


class QuantileLoss(Loss):
    r"""Pinball loss: fits the conditional ``quantile`` of the target.

    .. math::

        L(y, f) = \max\big(q (y - f),\ (q - 1)(y - f)\big), \qquad
        \partial_f L = \begin{cases} -q & y > f \\ 1 - q & y \le f \end{cases}

    Under-predictions cost ``q`` per unit, over-predictions ``1 - q``, so at
    the optimum a share ``q`` of the targets lies at or below the prediction:
    use it for prediction intervals and asymmetric costs. ``quantile=0.5`` is
    half the absolute loss. Its matching metric is scikit-learn's
    :func:`~sklearn.metrics.mean_pinball_loss`.

    Parameters
    ----------
    quantile : float, default=0.5
        The quantile to predict, in (0, 1).

    Examples
    --------
    >>> from sklosses.losses import QuantileLoss
    >>> loss = QuantileLoss(quantile=0.9)
    >>> loss.loss([1.0, 1.0], [0.0, 2.0])
    array([0.9, 0.1])
    >>> loss.gradient([1.0, 1.0], [0.0, 2.0])
    array([-0.9,  0.1])
    """

    kernel = "quantile"
    names = ("quantile",)
    is_lipschitz = True
    _parameter_constraints = {"quantile": [Interval(Real, 0, 1, closed="neither")]}

    def __init__(self, quantile=0.5):
        self.quantile = quantile

    def metric(self, y_true, y_pred, *, sample_weight=None):
        return float(
            mean_pinball_loss(
                y_true, y_pred, alpha=self.quantile, sample_weight=sample_weight
            )
        )
