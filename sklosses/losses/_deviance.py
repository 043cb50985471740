"""Deviances with a log link: counts, claims and positive amounts.

Each loss is half the unit deviance of its distribution, in the raw score
``raw = x @ w + b`` with the mean ``mu = exp(raw)``, as scikit-learn's
``HalfPoissonLoss``, ``HalfGammaLoss`` and ``HalfTweedieLoss`` plus the
constant that makes the loss zero where ``mu = y``. The objective SGD
minimizes is then that of scikit-learn's ``PoissonRegressor``,
``GammaRegressor`` and ``TweedieRegressor`` with the same ``alpha``, and the
loss curve reads as half the mean deviance. The regressor predicts ``mu``.
Values and gradients are the compiled kernels' (see ``_regression.py``).
"""

from numbers import Real

from sklearn.metrics import (
    mean_gamma_deviance,
    mean_poisson_deviance,
    mean_tweedie_deviance,
)
from sklearn.utils._param_validation import Interval

from ._base import Loss
from ._link import LOG, NONNEGATIVE, POSITIVE, REAL


class _LogLinkLoss(Loss):
    """What the three deviances share: the log link, no bounded curvature."""

    link = LOG
    # The curvature exp(raw) grows without bound; learning_rate="auto"
    # measures it per row instead (see auto_schedule).
    smoothness = None


class PoissonLoss(_LogLinkLoss):
    r"""Half the Poisson deviance, with a log link: for counts.

    .. math::

        L(y, f) = y \log\frac{y}{\mu} - y + \mu, \qquad \mu = e^f,
        \qquad \partial_f L = \mu - y

    For targets that count events (visits, clicks, claims): non-negative,
    often zero, with a variance that grows with the mean. The regressor
    predicts the mean ``exp(raw)``, always positive. It is scikit-learn's
    ``PoissonRegressor``'s objective, trained by SGD; its matching metric is
    :func:`~sklearn.metrics.mean_poisson_deviance` (twice the mean loss).

    Examples
    --------
    >>> import numpy as np
    >>> from sklosses.losses import PoissonLoss
    >>> loss = PoissonLoss()
    >>> loss.loss([0.0, 2.0], np.log([1.0, 2.0]))
    array([1., 0.])
    >>> loss.gradient([0.0, 2.0], np.log([1.0, 2.0]))
    array([1., 0.])
    >>> loss.metric([0, 2, 5], [0.5, 2.0, 4.0])  # mean Poisson deviance
    0.4104...
    """

    kernel = "poisson"
    names = ("poisson",)
    target_domain = NONNEGATIVE

    def metric(self, y_true, y_pred, *, sample_weight=None):
        return float(mean_poisson_deviance(y_true, y_pred, sample_weight=sample_weight))


class GammaLoss(_LogLinkLoss):
    r"""Half the Gamma deviance, with a log link: for positive amounts.

    .. math::

        L(y, f) = \log\frac{\mu}{y} + \frac{y}{\mu} - 1, \qquad \mu = e^f,
        \qquad \partial_f L = 1 - \frac{y}{\mu}

    For positive targets whose spread grows in proportion to their mean
    (costs, claim amounts, durations): it weighs relative errors, so the
    largest amounts do not dominate the fit. Targets must be positive. It is
    scikit-learn's ``GammaRegressor``'s objective, trained by SGD; its
    matching metric is :func:`~sklearn.metrics.mean_gamma_deviance`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklosses.losses import GammaLoss
    >>> loss = GammaLoss()
    >>> loss.loss([2.0, 2.0], np.log([4.0, 1.0]))  # twice, half the target
    array([0.19314718, 0.30685282])
    >>> loss.gradient([2.0, 2.0], np.log([4.0, 1.0]))
    array([ 0.5, -1. ])
    """

    kernel = "gamma"
    names = ("gamma",)
    target_domain = POSITIVE

    def metric(self, y_true, y_pred, *, sample_weight=None):
        return float(mean_gamma_deviance(y_true, y_pred, sample_weight=sample_weight))


class TweedieLoss(_LogLinkLoss):
    r"""Half the Tweedie deviance of a given ``power``, with a log link.

    .. math::

        L(y, f) = \frac{\max(y, 0)^{2-p}}{(1-p)(2-p)}
            - \frac{y \mu^{1-p}}{1-p} + \frac{\mu^{2-p}}{2-p},
        \qquad \mu = e^f, \qquad \partial_f L = \mu^{2-p} - y \mu^{1-p}

    The family whose variance grows as ``mu ** power``: ``power=0`` is the
    squared error of ``mu`` (a normal target, fitted on a log scale),
    ``power=1`` :class:`PoissonLoss`, ``power=2`` :class:`GammaLoss`, and a
    power between 1 and 2 a compound Poisson-Gamma target: amounts that are
    exactly zero for many rows and positive otherwise, such as the total
    claims of an insurance policy. It is scikit-learn's
    ``TweedieRegressor(link="log")``'s objective, trained by SGD; its
    matching metric is :func:`~sklearn.metrics.mean_tweedie_deviance`.

    Parameters
    ----------
    power : float, default=1.5
        The variance power: at most 0, or at least 1. Targets must be
        non-negative for a power below 2, positive from 2 on.

    Examples
    --------
    >>> import numpy as np
    >>> from sklosses.losses import PoissonLoss, TweedieLoss
    >>> y, raw = [0.0, 3.0], np.log([1.0, 2.0])
    >>> TweedieLoss(power=1.5).loss(y, raw)
    array([2.        , 0.14286458])
    >>> bool(np.allclose(TweedieLoss(power=1).loss(y, raw), PoissonLoss().loss(y, raw)))
    True
    """

    kernel = "tweedie"
    names = ("tweedie",)
    _parameter_constraints = {
        "power": [
            Interval(Real, None, 0, closed="right"),
            Interval(Real, 1, None, closed="left"),
        ]
    }

    def __init__(self, power=1.5):
        self.power = power

    @property
    def target_domain(self):
        if self.power <= 0:
            return REAL
        return NONNEGATIVE if self.power < 2 else POSITIVE

    @property
    def is_convex(self):
        # The curvature (2-p) mu^(2-p) - (1-p) y mu^(1-p) is non-negative
        # for every target only between the Poisson and the Gamma deviance.
        return 1 <= self.power <= 2

    def _same_as(self):
        """The loss this power is a special case of, if any."""
        return {1: PoissonLoss(), 2: GammaLoss()}.get(self.power)

    def kernel_spec(self):
        special = self._same_as()
        if special is not None:
            return special.kernel_spec()
        return super().kernel_spec()

    def metric(self, y_true, y_pred, *, sample_weight=None):
        return float(
            mean_tweedie_deviance(
                y_true, y_pred, sample_weight=sample_weight, power=self.power
            )
        )
