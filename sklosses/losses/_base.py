"""The Loss base class: what every loss provides, built-in or user-defined."""

import functools
import inspect

import numpy as np

from .._engine._kernels import engine_loss
from .._estimator import Estimator
from ._link import IDENTITY, LINKS, REAL, TARGET_DOMAINS

# Loss.best_constant bisects on at most this many evenly spaced rows.
BEST_CONSTANT_ROWS = 10_000


class Loss(Estimator):
    """Base class of the losses that SGD estimators minimize.

    A loss compares an encoded target ``y`` with a raw prediction ``raw``, the
    linear model's output ``X @ coef_.T + intercept_`` (a logit for the log
    loss). Losses follow scikit-learn's estimator rules for parameters: the
    constructor stores its arguments unchanged, so ``get_params``,
    ``set_params``, :func:`sklearn.base.clone` and nested grid parameters such
    as ``loss__delta`` work.

    **Your own loss.** Subclass ``Loss`` and write the loss of one sample and
    its derivative with respect to ``raw`` as two static methods,
    ``sample_loss(y, raw, params)`` and ``sample_gradient(y, raw, params)``:
    plain Python on floats (``math``, arithmetic, ``if``) that numba can
    compile. ``params`` holds the constructor's parameters as floats, in the
    order of its signature (override :meth:`kernel_params` to pass others).
    The estimators then train the loss with the same compiled SGD loop as the
    built-ins, inlined; :meth:`loss`, :meth:`gradient`, ``__call__``,
    :meth:`metric` and :func:`sklosses.scorers.make_loss_scorer` work without
    more code. Set the class attributes below that differ from the defaults:
    a classification loss sets ``task`` and ``label_encoding``, and a
    probabilistic one ``is_probabilistic`` and :meth:`inverse_link`. Check
    the result with :func:`sklosses.losses.check_loss`; the estimators run
    that check before training a user-defined loss and refuse one that fails.

    The first fit with a new loss compiles the SGD loop for it, once per
    kind of input (float64 or float32, dense or sparse rows): a few seconds.
    The compiled loop is cached on disk, under a fingerprint of what numba
    compiles from the two functions, and later processes load it. A
    built-in loss instead names its kernel in the engine (the class
    attribute ``kernel``), whose loop is compiled once and loaded from the
    same cache; its :meth:`loss` and :meth:`gradient` are that kernel too,
    so that what a loss reports is what SGD trained on.

    Attributes
    ----------
    task : {"regression", "classification"}
        Regression losses fit real targets and may also train a classifier on
        -1/+1 targets, as in scikit-learn; classification losses only train
        classifiers.
    label_encoding : {"signed", "binary"}
        How a classifier encodes the positive and negative class for this
        loss: ``"signed"`` as +1/-1, ``"binary"`` as 1/0.
    is_probabilistic : bool
        Whether :meth:`predict_proba` maps raw predictions to probabilities.
    is_convex : bool
        Whether the loss is convex in ``raw`` for every target.
    is_nonnegative : bool
        Whether the loss is never negative.
    smoothness : float or None
        A bound on the second derivative of the loss in ``raw`` (the
        Lipschitz constant of its gradient), or ``None`` when the gradient
        jumps (hinge, absolute loss). ``learning_rate="auto"`` takes
        constant averaged steps on smooth losses, decreasing ones otherwise.
    is_lipschitz : bool
        Whether the gradient is bounded (log, Huber, hinge, absolute loss),
        so that one large step cannot throw the model far: with
        ``learning_rate="auto"`` such losses take steps sized by the mean row
        norm rather than by the largest.
    response_method : str
        The estimator method whose output the matching :meth:`metric` takes.
    link : IdentityLink or LogLink
        For regression losses, how the raw score relates to the prediction:
        the regressor predicts :meth:`inverse_link` of ``raw``, ``raw`` itself
        (the identity) or the positive mean ``exp(raw)`` (the log link, as
        the Poisson, Gamma and Tweedie deviances). A link object, as in
        scikit-learn's ``sklearn._loss``, with ``link(mu)`` and
        ``inverse(raw)``; it compares equal to its name, ``"identity"`` or
        ``"log"``, and a class may declare it by that name. A log link's
        loss need only be finite for ``|raw|`` up to 50 (``exp(50)`` is
        5e21), where :func:`check_loss` checks it.
    target_domain : Interval
        The regression targets the loss accepts, an interval with
        ``contains(y)``; the estimators refuse others with an error that
        names them. It compares equal to its name, ``"real"``,
        ``"nonnegative"`` or ``"positive"``, and a class may declare it by
        that name.

    Examples
    --------
    The Cauchy loss, robust to gross outliers in the target:

    >>> import math
    >>> from sklosses.losses import Loss
    >>> class CauchyLoss(Loss):
    ...     is_convex = False
    ...
    ...     def __init__(self, scale=1.0):
    ...         self.scale = scale
    ...
    ...     @staticmethod
    ...     def sample_loss(y, raw, params):
    ...         r = (raw - y) / params[0]
    ...         return 0.5 * params[0] ** 2 * math.log1p(r * r)
    ...
    ...     @staticmethod
    ...     def sample_gradient(y, raw, params):
    ...         r = (raw - y) / params[0]
    ...         return params[0] * r / (1.0 + r * r)
    >>> loss = CauchyLoss(scale=2.0)
    >>> loss.loss([0.0, 0.0], [2.0, 20.0])
    array([1.38629436, 9.23024103])
    >>> import numpy as np
    >>> from sklosses import SGDRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3))
    >>> y = X @ [1.0, 2.0, 3.0] + rng.normal(scale=0.1, size=500)
    >>> y[:25] += 50.0  # gross outliers
    >>> model = SGDRegressor(loss=CauchyLoss(), random_state=0).fit(X, y)
    >>> model.coef_.round(2)
    array([1., 2., 3.])
    >>> SGDRegressor(loss="squared_error", random_state=0).fit(X, y).coef_.round(2)
    array([1.32, 1.81, 3.82])
    """

    _parameter_constraints: dict = {}

    task = "regression"
    label_encoding = "signed"
    is_probabilistic = False
    is_convex = True
    is_nonnegative = True
    smoothness = None
    is_lipschitz = False
    response_method = "predict"
    link = IDENTITY
    target_domain = REAL

    sample_loss = None
    sample_gradient = None
    # A built-in loss's compiled kernel (its name in the engine's registry),
    # the names ``loss=`` accepts for it, and the parameter the estimators'
    # ``epsilon`` sets when it is given by name.
    kernel = None
    names = ()
    epsilon_parameter = None

    def __init_subclass__(cls, **kwargs):
        # A link or a domain declared by its name becomes its object; an
        # unknown name is left for check_loss to report.
        super().__init_subclass__(**kwargs)
        for attribute, objects in (("link", LINKS), ("target_domain", TARGET_DOMAINS)):
            declared = cls.__dict__.get(attribute)
            if isinstance(declared, str) and declared in objects:
                setattr(cls, attribute, objects[declared])

    def loss(self, y, raw):
        """Per-sample loss values.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Encoded targets.
        raw : array-like of the same shape as ``y``
            Raw predictions.

        Returns
        -------
        loss : ndarray of the shape of ``raw``
        """
        return self._elementwise("loss_values", y, raw)

    def gradient(self, y, raw):
        """Derivative of :meth:`loss` with respect to ``raw``.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Encoded targets.
        raw : array-like of the same shape as ``y``
            Raw predictions.

        Returns
        -------
        gradient : ndarray of the shape of ``raw``
        """
        return self._elementwise("loss_derivatives", y, raw)

    def kernel_spec(self):
        """What the compiled SGD loop needs to run this loss.

        Returns
        -------
        kernel : str
            The name of the compiled kernel: the class's ``kernel`` for a
            built-in loss, ``"user"`` for a loss defined by ``sample_loss``
            and ``sample_gradient``.
        params : tuple of float
            The loss's parameters in the order the kernel reads them,
            :meth:`kernel_params`.
        """
        if self.kernel is not None:
            return self.kernel, self.kernel_params()
        if not self._is_user_defined():
            raise NotImplementedError(
                f"{type(self).__name__} defines neither sample_loss and "
                "sample_gradient nor a kernel: see the Loss docstring."
            )
        return "user", self.kernel_params()

    def kernel_params(self):
        """The ``params`` that ``sample_loss`` and ``sample_gradient`` receive.

        Returns
        -------
        params : tuple of float
            The constructor's parameters, in the order of its signature.
        """
        params = []
        for name in _parameter_names(type(self).__init__):
            value = getattr(self, name)
            try:
                params.append(float(value))
            except (TypeError, ValueError):
                raise TypeError(
                    f"{type(self).__name__}'s parameter {name}={value!r} is not a "
                    "number; override kernel_params to pass numbers to "
                    "sample_loss and sample_gradient."
                ) from None
        return tuple(params)

    def _is_user_defined(self):
        cls = type(self)
        return cls.sample_loss is not None or cls.sample_gradient is not None

    def _elementwise(self, kernel, y, raw):
        """Apply a compiled per-sample kernel over broadcast ``y`` and ``raw``."""
        y, raw = np.asarray(y, dtype=np.float64), np.asarray(raw, dtype=np.float64)
        if y.shape != raw.shape:
            y, raw = np.broadcast_arrays(y, raw)
        engine = engine_loss(self)
        flat_raw = np.ascontiguousarray(raw).reshape(-1)
        out = np.empty_like(flat_raw)
        function = getattr(engine.kernels, kernel)
        function(
            engine.kind, engine.params, np.ascontiguousarray(y).reshape(-1),
            flat_raw, out,
        )  # fmt: skip
        return out.reshape(raw.shape)

    def __call__(self, y, raw, sample_weight=None):
        """Weighted mean loss over samples.

        With one column per output (multilabel or multi-output targets), a
        sample's loss is the mean over its outputs.

        Parameters
        ----------
        y : array-like
            Encoded targets.
        raw : array-like
            Raw predictions.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        loss : float
        """
        values = self.loss(y, raw)
        if values.ndim == 2:
            values = values.mean(axis=1)
        return float(np.average(values, weights=sample_weight))

    def metric(self, y_true, y_pred, *, sample_weight=None):
        """The metric that matches this loss, lower is better.

        By default the mean loss itself. For classification losses ``y_true``
        holds class labels and ``y_pred`` decision values, as returned by
        ``decision_function``; labels are encoded as the loss trains on them
        (sorted classes, the last one positive when there are two; one column
        per class, one-vs-rest, otherwise). Built-in losses override this with
        the readable metric scikit-learn provides where there is one (RMSE for
        the squared loss, log loss on probabilities for the log loss, ...).

        Parameters
        ----------
        y_true : array-like
            True targets or class labels.
        y_pred : array-like
            Output of the estimator's :attr:`response_method`.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        y_pred = np.asarray(y_pred, dtype=float)
        if self.task == "classification":
            y_true = self._encode_labels(y_true, y_pred)
        else:
            y_pred = self.link.link(y_pred)  # predictions back to raw scores
        return self(np.asarray(y_true, dtype=float), y_pred, sample_weight)

    def _encode_labels(self, y_true, raw):
        """Class labels -> targets of the shape of ``raw``, in this loss's encoding."""
        y_true = np.asarray(y_true)
        if y_true.ndim == 2:
            positive = y_true > 0
        else:
            classes, y_index = np.unique(y_true, return_inverse=True)
            n_columns = 1 if raw.ndim == 1 else raw.shape[1]
            expected = 2 if raw.ndim == 1 else n_columns
            if len(classes) != expected:
                raise ValueError(
                    f"y_true has {len(classes)} classes but the decision values "
                    f"describe {expected}; pass y_true containing every class."
                )
            if raw.ndim == 1:
                positive = y_index == 1
            else:
                positive = y_index[:, np.newaxis] == np.arange(n_columns)
        negative = -1.0 if self.label_encoding == "signed" else 0.0
        return np.where(positive, 1.0, negative)

    def inverse_link(self, raw):
        """The prediction each raw score stands for.

        For a regression loss, the regressor's prediction: ``raw`` itself,
        or ``exp(raw)`` with the log :attr:`link` (the link's ``inverse``).
        For a classification loss, the probability of the positive class:
        only probabilistic losses define it.

        Parameters
        ----------
        raw : array-like
            Raw predictions.

        Returns
        -------
        prediction : ndarray of the shape of ``raw``
        """
        if self.task != "regression":
            raise NotImplementedError(f"{type(self).__name__} is not probabilistic.")
        raw = np.asarray(raw)
        if raw.dtype.kind != "f":
            raw = raw.astype(float)
        return self.link.inverse(raw)

    def best_constant(self, y, sample_weight):
        """The constant raw score that minimizes the weighted loss of ``y``.

        Found by bisection on the sign of the loss's gradient between the
        smallest and largest target, on at most ``BEST_CONSTANT_ROWS`` evenly
        spaced rows: the mean for the squared loss, the median for the
        absolute loss, a quantile for the quantile loss. With a link other
        than the identity, the link of the weighted mean, the minimum of
        every Tweedie deviance (0 when the mean is outside the link's
        ``interval_y_pred``). ``learning_rate="auto"`` and the log link's
        regressions start their intercept from it, as scikit-learn's
        ``fit_intercept_only``.

        Parameters
        ----------
        y : ndarray of shape (n_samples,)
            Regression targets.
        sample_weight : ndarray of shape (n_samples,)
            Sample weights.

        Returns
        -------
        constant : float
        """
        if not self.link.is_identity:
            mean = _weighted_mean(y, sample_weight)
            inside = self.link.interval_y_pred.contains(mean)
            return float(self.link.link(mean)) if inside else 0.0
        step = max(1, y.shape[0] // BEST_CONSTANT_ROWS)
        y, sample_weight = y[::step].astype(float), sample_weight[::step]
        low, high = float(y.min()), float(y.max())
        for _ in range(100):
            middle = 0.5 * (low + high)
            if middle in (low, high):
                break
            gradient = sample_weight @ self.gradient(y, np.full_like(y, middle))
            if gradient > 0:
                high = middle
            else:
                low = middle
        return 0.5 * (low + high)

    def curvature(self, y, raw):
        """The loss's second derivative in ``raw``, floored at a millionth.

        From central differences of :meth:`gradient`, so that any loss is
        served; non-convex deviances (Tweedie powers below 1 or above 2) can
        curve downwards, hence the floor. ``learning_rate="auto"`` weighs
        each row's norm by it with a log link, whose curvature grows with
        the mean.

        Parameters
        ----------
        y : ndarray
            Targets.
        raw : ndarray of the shape of ``y``
            Raw predictions.

        Returns
        -------
        curvature : ndarray of the shape of ``raw``
        """
        step = 1e-4
        with np.errstate(over="ignore", invalid="ignore"):
            second = (self.gradient(y, raw + step) - self.gradient(y, raw - step)) / (
                2 * step
            )
        return np.fmax(second, 1e-6)

    def initial_curvature(self, y, sample_weight):
        """Each row's :meth:`curvature` before training, as an estimate.

        Before training, the mean of a row lies about between the weighted
        mean of the targets, where SGD starts, and the row's own target: each
        row gets the larger curvature of the two. With a log link, the
        curvature grows with the mean (``mu`` for the Poisson deviance,
        ``y / mu`` for the Gamma's), so a step that suits one row can
        overshoot another's by orders of magnitude: ``learning_rate="auto"``
        sizes its steps for the squared row norms times these, and refines
        them with the curvature at the model's raw scores during training.

        Parameters
        ----------
        y, sample_weight : ndarray of shape (n_samples,)
            The regression targets and their weights, as
            :meth:`best_constant` takes them.

        Returns
        -------
        curvature : ndarray of shape (n_samples,)
        """
        domain = self.link.interval_y_pred
        mean = _weighted_mean(y, sample_weight)
        mean = mean if domain.contains(mean) else 1.0
        y = np.asarray(y, dtype=float)
        at_mean = self.curvature(y, np.full_like(y, self.link.link(mean)))
        at_target = self.curvature(
            y, self.link.link(np.where(domain.contains(y), y, mean))
        )
        return np.fmax(at_mean, at_target)

    def in_target_domain(self, y):
        """Whether each regression target lies in :attr:`target_domain`.

        Parameters
        ----------
        y : array-like
            Targets.

        Returns
        -------
        valid : ndarray of bool of the shape of ``y``
        """
        return self.target_domain.contains(y)

    def predict_proba(self, raw):
        """Class probabilities from raw predictions.

        Parameters
        ----------
        raw : array-like of shape (n_samples,) or (n_samples, n_classes)
            Raw predictions: one column for a binary problem, one per class
            (one-vs-rest) otherwise.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        if not self.is_probabilistic:
            raise NotImplementedError(f"{type(self).__name__} is not probabilistic.")
        raw = np.asarray(raw, dtype=float)
        positive = self.inverse_link(raw)
        if raw.ndim == 1:
            return np.column_stack([1.0 - positive, positive])
        return normalize_ovr_proba(positive)


@functools.lru_cache(maxsize=256)
def _parameter_names(init):
    """The names of a constructor's parameters, in the order of its signature:
    read once per class, since every call of a loss reads them."""
    if init is object.__init__:
        return ()
    return tuple(
        p.name
        for p in inspect.signature(init).parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    )


def _weighted_mean(y, sample_weight):
    """The weighted mean of ``y``; 0 when every weight is 0."""
    total = float(np.sum(sample_weight))
    return float(sample_weight @ y) / total if total > 0 else 0.0


def normalize_ovr_proba(proba):
    """Rows of one-vs-rest probabilities -> a distribution over classes.

    A row whose probabilities are all zero becomes uniform, as in
    scikit-learn's SGDClassifier.
    """
    total = proba.sum(axis=1, keepdims=True)
    n_classes = proba.shape[1]
    uniform = total == 0.0
    return np.where(uniform, 1.0 / n_classes, proba / np.where(uniform, 1.0, total))
