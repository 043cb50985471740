"""SGDRegressor: scikit-learn's SGDRegressor with the loss as an object."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils import assert_all_finite
from sklearn.utils._param_validation import StrOptions

from ..losses import Loss, get_loss, loss_names
from ..losses._registry import scikit_learn_loss_functions
from ._base import BaseSGD, ModelTask
from ._callbacks import CallbackSupportMixin
from ._docs import fill_doc
from ._state import training_method


@fill_doc
class SGDRegressor(CallbackSupportMixin, RegressorMixin, BaseSGD):
    """Linear regression fitted by stochastic gradient descent on a chosen loss.

    A drop-in replacement for :class:`sklearn.linear_model.SGDRegressor`:
    the same parameters, defaults, attributes and methods, where ``loss``
    may also be a :class:`sklosses.losses.Loss` object, tunable in a grid
    search through nested parameters (``loss__delta``). Besides
    scikit-learn's losses it fits the absolute and quantile losses, and it
    records the training objective per epoch in ``loss_curve_``.

    The model minimizes the regularized empirical loss

    .. math::

        \\frac1n \\sum_i s_i L(y_i, x_i^\\top w + b) + \\alpha R(w)

    with sample weights :math:`s_i` and :math:`R` the penalty
    (:math:`\\tfrac12\\|w\\|_2^2`, :math:`\\|w\\|_1` or their elastic-net
    mix), updating the model one sample at a time with a decreasing step.

    Parameters
    ----------
    loss : str or Loss, default="squared_error"
        The loss: a :class:`~sklosses.losses.Loss` object, or one of the names
        ``"squared_error"`` (``"squared"``), ``"huber"``,
        ``"epsilon_insensitive"``, ``"squared_epsilon_insensitive"``,
        ``"absolute_error"`` (``"absolute"``), ``"quantile"``, and for
        counts and positive amounts ``"poisson"``, ``"gamma"``,
        ``"tweedie"`` (whose log link makes :meth:`predict` return
        ``exp(X @ coef_ + intercept_)``). Names take their threshold from
        ``epsilon`` as in scikit-learn; objects carry their own parameters.
    %(penalty)s
    %(alpha)s
    %(l1_ratio)s
    fit_intercept : bool, default=True
        Whether to fit an intercept.
    %(max_iter_tol_shuffle_verbose)s
    epsilon : float, default=0.1
        Threshold of ``"huber"``, ``"epsilon_insensitive"`` and
        ``"squared_epsilon_insensitive"`` given by name.
    %(random_state)s
    learning_rate : str, default="invscaling"
        The step-size schedule, one of ``"invscaling"``, ``"constant"``,
        ``"optimal"``, ``"adaptive"``, ``"pa1"``, ``"pa2"``, ``"auto"``:
        ``eta0`` (constant), ``eta0 / t**power_t``
        (invscaling), ``1 / (alpha * (t + t0))`` (optimal, with Bottou's t0
        heuristic), ``eta0`` divided by 5 whenever progress stalls
        (adaptive), or the passive-aggressive steps PA-I and PA-II with
        aggressiveness ``eta0`` (only with ``"epsilon_insensitive"``).
        %(auto)s
    eta0 : float, default=0.01
        Initial step size.
    power_t : float, default=0.25
        Exponent of the invscaling schedule.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its score
        stops improving.
    validation_fraction : float, default=0.1
        Share of the data held out with ``early_stopping``.
    %(n_iter_no_change)s
    %(warm_start_average)s
    %(n_partitions)s
    n_jobs : int or None, default=None
        Threads running the ``n_partitions``; the compiled loop releases the
        GIL. Results do not depend on it.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Weights of the features.
    intercept_ : ndarray of shape (1,)
        The intercept.
    n_iter_ : int
        Epochs run.
    %(common_attributes)s
    loss_curve_ : list of float
        Mean training objective (weighted loss plus penalty) per epoch; with
        ``learning_rate="auto"``, that of the averaged model at the end of
        the epoch, on up to 10,000 training rows.
    %(validation_loss_curve_)s
    validation_score_curve_ : list of float
        With ``early_stopping``: the score (R²) on the validation split per
        epoch.
    %(best_epoch_)s

    See Also
    --------
    sklearn.linear_model.SGDRegressor : The estimator this one extends.
    sklosses.losses : The losses it trains on.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklosses import SGDRegressor
    >>> from sklosses.losses import HuberLoss
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    >>> model = make_pipeline(
    ...     StandardScaler(), SGDRegressor(loss=HuberLoss(delta=2.0), random_state=0)
    ... )
    >>> model.fit(X, y).score(X, y) > 0.99
    True
    """

    # scikit-learn's class attribute, with sklosses's loss classes.
    loss_functions = scikit_learn_loss_functions("regression")

    _parameter_constraints: dict = {
        **BaseSGD._parameter_constraints,
        "loss": [StrOptions(set(loss_names("regression"))), Loss],
    }

    def __init__(
        self,
        loss="squared_error",
        *,
        penalty="l2",
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        epsilon=0.1,
        random_state=None,
        learning_rate="invscaling",
        eta0=0.01,
        power_t=0.25,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        warm_start=False,
        average=False,
        n_partitions=1,
        n_jobs=None,
    ):
        self._keep_params(locals())

    @training_method
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the regressor by SGD over up to ``max_iter`` epochs.

        Parameters
        ----------
        %(X_fit)s
        y : array-like of shape (n_samples,)
            Target values.
        coef_init : ndarray of shape (n_features,), default=None
            Initial coefficients.
        intercept_init : ndarray of shape (1,), default=None
            Initial intercept.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples; uniform when ``None``.

        %(returns_fitted)s
        """
        return self._fit(X, y, coef_init, intercept_init, sample_weight)

    @training_method
    def partial_fit(self, X, y, sample_weight=None):
        """Train the regressor for one epoch of SGD over the given samples.

        Parameters
        ----------
        %(X_batch)s
        y : array-like of shape (n_samples,)
            Its target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples; uniform when ``None``.

        %(returns_updated)s
        """
        return self._partial_fit(X, y, sample_weight)

    _task = "regression"

    def _refusal(self, loss):
        if loss.task != "regression":
            return f"needs a regression loss, got the {loss.task} loss {loss!r}."
        return None

    def _coef_attributes(self, coef, intercept):
        """What makes a copy of this regressor predict with these coefficients."""
        return {"coef_": coef.reshape(-1), "intercept_": intercept}

    # -- the model plan (see BaseSGD._train) -----------------------------------

    _target_validation = {"y_numeric": True}

    def _check_targets(self, X, y, loss, first_call):
        if y.dtype != X.dtype:
            with np.errstate(over="ignore"):  # float64 targets beyond float32
                y = y.astype(X.dtype)
        # Found here, after the conversion, as are targets of object dtype
        # (None), which scikit-learn's check lets through as non-numbers.
        # Its error, at the cost of its check only when there is one.
        if not np.isfinite(y).all():
            assert_all_finite(y, input_name="y")
        _check_target_domain(loss, y)
        return y

    def _initial_intercept(self, loss, y, sample_weight):
        if self.learning_rate == "auto" or not loss.link.is_identity:
            # "auto" starts from the best constant: the target's mean for the
            # squared loss, about its median for robust ones, which the steps
            # of a bounded gradient take many epochs to reach. So does a log
            # link, as scikit-learn's PoissonRegressor: from exp(0) = 1, the
            # first steps on large counts would be huge.
            return loss.best_constant(y, sample_weight)
        return None

    def _split_norms(self, loss, X, y, sample_weight, row_norms):
        if not loss.link.is_identity:
            return _curved_norms(loss, X, y, sample_weight, row_norms)
        return row_norms, None

    def _coef_shape(self, n_features):
        return (n_features,)

    def _model_tasks(self, X, y, sample_weight, loss):
        def data():
            return y, sample_weight, y

        return [ModelTask(slice(0, 1), data, _r2_scorer(loss), self._seeds())]

    @fill_doc
    def predict(self, X):
        """Predict with the linear model.

        %(X_predict)s

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted values: the raw scores ``X @ coef_ + intercept_``
            through the loss's inverse link, the identity for most losses,
            ``exp`` for the Poisson, Gamma and Tweedie deviances.
        """
        raw = self._decision_function(X)  # checks that the model is fitted
        return self.loss_.inverse_link(raw)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        try:
            loss = get_loss(self.loss, epsilon=self.epsilon)
        except ValueError:  # fit says what is wrong with it
            loss = None
        # Counts and amounts: as scikit-learn's PoissonRegressor declares.
        tags.target_tags.positive_only = (
            loss is not None and loss.target_domain.low >= 0
        )
        return tags


def _curved_norms(loss, X, y, sample_weight, row_norms):
    """With a log link and ``learning_rate="auto"``, the squared row norms
    weighed by the loss's curvature before training, and
    ``split_norms_at(coef, intercept)``: the same weighed by the larger of
    that and the curvature at those weights (see ``_auto_observer``)."""
    before = loss.initial_curvature(y, sample_weight)

    def split_norms_at(coef, intercept):
        raw = X @ coef[0].astype(X.dtype, copy=False) + intercept[0]
        return row_norms * np.fmax(before, loss.curvature(y, raw))

    return row_norms * before, split_norms_at


def _r2_scorer(loss):
    """Early stopping's score: R² of the predictions, as ``score`` gives it."""
    from sklearn.metrics import r2_score

    def score(y, raw, sample_weight):
        return r2_score(y, loss.inverse_link(raw), sample_weight=sample_weight)

    return score


def _check_target_domain(loss, y):
    """A clear error for targets the loss's deviance is not defined on."""
    valid = loss.in_target_domain(y)
    if not valid.all():
        takes, refused = loss.target_domain.description, loss.target_domain.refused
        n = int(np.count_nonzero(~valid))
        raise ValueError(
            f"{loss!r} takes {takes} targets, but y has {n} {refused} "
            f"value{'s' * (n != 1)} (the smallest is {y.min():.6g}). Counts "
            "and amounts with zeros take PoissonLoss or TweedieLoss with a "
            "power below 2; targets of any sign a loss such as SquaredLoss or "
            "HuberLoss."
        )
