"""Classification losses: functions of the margin ``y * raw`` or of logits.

As every built-in loss, each computes its values and gradients with its
compiled kernel (see ``_regression.py``); only the multinomial log loss, a
function of a row of logits, calls the softmax kernel of the loop instead.
"""

from numbers import Real

import numpy as np
from scipy.special import expit, softmax
from sklearn.metrics import log_loss
from sklearn.utils._param_validation import Interval

from .._engine._losses import softmax_cross_entropies
from ._base import Loss


class _MarginLoss(Loss):
    """A classification loss of the margin ``z = y * raw`` with y in {-1, +1}."""

    task = "classification"
    label_encoding = "signed"
    response_method = "decision_function"


class LogLoss(Loss):
    r"""Cross-entropy on logits: logistic regression's loss.

    Binary and multilabel targets ``y`` in {0, 1}, ``raw`` the logit, one
    column per label for multilabel targets (independent sigmoids):

    .. math::

        L(y, f) = \log(1 + e^{f}) - y f
                = -\big(y \log p + (1 - y) \log(1 - p)\big),
        \quad p = \sigma(f), \qquad \partial_f L = \sigma(f) - y

    Multiclass targets ``y`` in {0, ..., K-1} with ``raw`` of shape
    (n_samples, K) give the multinomial (softmax) cross-entropy:

    .. math::

        L(y, f) = \log \textstyle\sum_k e^{f_k} - f_y
                = -\log \operatorname{softmax}(f)_y, \qquad
        \partial_{f_k} L = \operatorname{softmax}(f)_k - [k = y]

    Everything is computed from the logits (softplus, log-sum-exp), never as
    ``log(sigmoid(.))``, so values stay finite for any finite ``raw``. Use it
    when you need calibrated probabilities. This is scikit-learn's
    ``"log_loss"``; its matching metric is
    :func:`sklearn.metrics.log_loss` on ``predict_proba``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklosses.losses import LogLoss
    >>> loss = LogLoss()
    >>> loss.loss([1.0, 0.0], [0.0, 0.0])  # log 2 at p = 0.5
    array([0.69314718, 0.69314718])
    >>> loss.gradient([1.0, 0.0], [0.0, 0.0])
    array([-0.5,  0.5])
    >>> raw = np.log([[0.1, 0.2, 0.6, 0.1]])  # softmax(raw) = those probabilities
    >>> loss.loss([2], raw)  # -ln 0.6
    array([0.51082562])
    >>> loss.predict_proba(raw).round(2)
    array([[0.1, 0.2, 0.6, 0.1]])
    """

    kernel = "log"
    names = ("log_loss", "log")
    task = "classification"
    label_encoding = "binary"
    is_probabilistic = True
    response_method = "predict_proba"
    # sigmoid' <= 1/4; the softmax's Hessian is bounded by 1/2.
    smoothness = 0.5
    is_lipschitz = True

    def loss(self, y, raw):
        if self._is_multinomial(y, raw):
            return self._softmax_cross_entropy(y, raw)[0]
        return super().loss(y, raw)

    def gradient(self, y, raw):
        if self._is_multinomial(y, raw):
            return self._softmax_cross_entropy(y, raw)[1]
        return super().gradient(y, raw)

    @staticmethod
    def _is_multinomial(y, raw):
        return np.ndim(raw) == 2 and np.ndim(y) == 1

    @staticmethod
    def _softmax_cross_entropy(y, raw):
        """The multinomial loss of each row and its gradient, from the
        kernel the SGD loop trains with."""
        raw = np.ascontiguousarray(raw, dtype=np.float64)
        y = np.asarray(y, dtype=np.intp)
        values, gradient = np.empty(raw.shape[0]), np.empty_like(raw)
        softmax_cross_entropies(y, raw, values, gradient)
        return values, gradient

    def inverse_link(self, raw):
        """The sigmoid: probability of the positive class or label."""
        return expit(np.asarray(raw, dtype=float))

    def predict_proba(self, raw):
        """Probabilities: sigmoid for one column, softmax over several.

        Parameters
        ----------
        raw : array-like of shape (n_samples,) or (n_samples, n_classes)
            Logits: one column for a binary problem, one per class for the
            multinomial model.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        raw = np.asarray(raw, dtype=float)
        if raw.ndim == 2:
            return softmax(raw, axis=1)
        return super().predict_proba(raw)

    def metric(self, y_true, y_pred, *, sample_weight=None):
        """Log loss of predicted probabilities, from :func:`sklearn.metrics.log_loss`.

        For a multilabel indicator ``y_true`` and per-label probabilities, the
        mean over labels of each label's binary log loss.
        """
        y_true = np.asarray(y_true)
        if y_true.ndim == 2:
            return float(
                np.mean(
                    [
                        log_loss(
                            y_true[:, k],
                            y_pred[:, k],
                            labels=[0, 1],
                            sample_weight=sample_weight,
                        )
                        for k in range(y_true.shape[1])
                    ]
                )
            )
        return float(log_loss(y_true, y_pred, sample_weight=sample_weight))


class HingeLoss(_MarginLoss):
    r"""Hinge loss: the linear support vector machine's loss.

    .. math::

        L(y, f) = \max(0, t - y f), \qquad
        \partial_f L = -y\,[\,y f \le t\,]

    with labels y in {-1, +1} and threshold ``t``. Only samples inside the
    margin (``y f <= t``) move the model, which gives sparse, max-margin
    solutions but no probabilities. This is scikit-learn's ``"hinge"``; its
    matching metric is the mean hinge loss of ``decision_function``, equal to
    :func:`sklearn.metrics.hinge_loss` for binary problems.

    Parameters
    ----------
    threshold : float, default=1.0
        The margin below which a sample is penalized.

    Examples
    --------
    >>> from sklosses.losses import HingeLoss
    >>> loss = HingeLoss()
    >>> loss.loss([1.0, 1.0, -1.0], [2.0, 0.5, 0.5])
    array([0. , 0.5, 1.5])
    >>> loss.gradient([1.0, 1.0, -1.0], [2.0, 0.5, 0.5])
    array([ 0., -1.,  1.])
    """

    kernel = "hinge"
    names = ("hinge",)
    is_lipschitz = True
    _parameter_constraints = {"threshold": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, threshold=1.0):
        self.threshold = threshold


class PerceptronLoss(HingeLoss):
    r"""Perceptron loss: the hinge with threshold 0.

    .. math:: L(y, f) = \max(0, -y f), \qquad \partial_f L = -y\,[\,y f \le 0\,]

    Only misclassified samples (and those exactly on the boundary) move the
    model. This is scikit-learn's ``"perceptron"``.

    Examples
    --------
    >>> from sklosses.losses import PerceptronLoss
    >>> loss = PerceptronLoss()
    >>> loss.loss([1.0, -1.0], [2.0, 0.5])
    array([0. , 0.5])
    >>> loss.gradient([1.0, -1.0], [2.0, 0.5])
    array([0., 1.])
    """

    names = ("perceptron",)
    _parameter_constraints: dict = {}

    def __init__(self):
        pass

    @property
    def threshold(self):
        return 0.0

    def kernel_params(self):
        return (self.threshold,)


class SquaredHingeLoss(_MarginLoss):
    r"""Squared hinge loss: a smooth hinge.

    .. math::

        L(y, f) = \max(0, t - y f)^2, \qquad
        \partial_f L = -2 y \max(0, t - y f)

    with labels y in {-1, +1}. Differentiable, so it often trains more
    smoothly than the hinge; penalizes large violations quadratically. This
    is scikit-learn's ``"squared_hinge"``.

    Parameters
    ----------
    threshold : float, default=1.0
        The margin below which a sample is penalized.

    Examples
    --------
    >>> from sklosses.losses import SquaredHingeLoss
    >>> loss = SquaredHingeLoss()
    >>> loss.loss([1.0, -1.0], [0.5, 1.0])
    array([0.25, 4.  ])
    >>> loss.gradient([1.0, -1.0], [0.5, 1.0])
    array([-1.,  4.])
    """

    kernel = "squared_hinge"
    names = ("squared_hinge",)
    smoothness = 2.0
    _parameter_constraints = {"threshold": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, threshold=1.0):
        self.threshold = threshold


class ModifiedHuberLoss(_MarginLoss):
    r"""Modified Huber loss: a smoothed hinge that also gives probabilities.

    .. math::

        L(y, f) = \begin{cases}
            \max(0, 1 - z)^2 & z \ge -1 \\
            -4 z & z < -1
        \end{cases}, \quad z = y f, \qquad
        \partial_f L = \begin{cases}
            -2 y \max(0, 1 - z) & z \ge -1 \\
            -4 y & z < -1
        \end{cases}

    with labels y in {-1, +1}. Quadratic near the margin and linear for badly
    misclassified samples, so it tolerates label noise; probability estimates
    are ``(clip(f, -1, 1) + 1) / 2``. This is scikit-learn's
    ``"modified_huber"``.

    Examples
    --------
    >>> from sklosses.losses import ModifiedHuberLoss
    >>> loss = ModifiedHuberLoss()
    >>> loss.loss([1.0, 1.0, 1.0], [2.0, 0.0, -3.0])
    array([ 0.,  1., 12.])
    >>> loss.predict_proba([2.0, 0.0, -0.5])
    array([[0.  , 1.  ],
           [0.5 , 0.5 ],
           [0.75, 0.25]])
    """

    kernel = "modified_huber"
    names = ("modified_huber",)
    smoothness = 2.0
    is_lipschitz = True
    is_probabilistic = True

    def inverse_link(self, raw):
        """``(clip(raw, -1, 1) + 1) / 2``: the probability of the positive class."""
        return (np.clip(np.asarray(raw, dtype=float), -1.0, 1.0) + 1.0) / 2.0
