"""SGDClassifier: scikit-learn's SGDClassifier with the loss as an object,
true multinomial softmax and native multilabel targets."""

import functools
from numbers import Integral

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils import compute_class_weight
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if

from ..losses import HingeLoss, LogLoss, Loss, get_loss, loss_names
from ..losses._base import normalize_ovr_proba
from ..losses._registry import scikit_learn_loss_functions
from ._base import BaseSGD, ModelTask
from ._callbacks import CallbackSupportMixin
from ._docs import fill_doc
from ._labels import check_labels
from ._state import training_method


def _loss_is_probabilistic(estimator):
    # Raised here, the error becomes the cause of the AttributeError that
    # available_if raises, as in scikit-learn.
    try:
        probabilistic = get_loss(estimator.loss).is_probabilistic
    except ValueError:
        probabilistic = False
    if not probabilistic:
        raise AttributeError(
            f"probability estimates are not available for loss={estimator.loss!r}"
        )
    return True


@fill_doc
class SGDClassifier(CallbackSupportMixin, ClassifierMixin, BaseSGD):
    r"""Linear classifiers fitted by stochastic gradient descent on a chosen loss.

    A drop-in replacement for :class:`sklearn.linear_model.SGDClassifier`:
    the same parameters, defaults, attributes and methods, where ``loss``
    may also be a :class:`sklosses.losses.Loss` object. It adds the true
    multinomial (softmax) cross-entropy for more than two classes, native
    multilabel targets, and per-epoch loss curves.

    Targets may be:

    - binary: one model, ``coef_`` of shape (1, n_features);
    - multiclass: one-vs-rest (K binary models fitted in parallel threads
      with ``n_jobs``), or with the log loss one multinomial model whose
      ``predict_proba`` is the softmax (see ``multi_class``);
    - multilabel, a 2-D indicator matrix: one binary model per column
      (independent sigmoids for the log loss); ``predict`` returns the
      indicator matrix.

    Each model minimizes :math:`\frac1n \sum_i s_i L(y_i, x_i^\top w + b) +
    \alpha R(w)` one sample at a time, with sample weights :math:`s_i` (times
    the class weights) and the penalty :math:`R`.

    Parameters
    ----------
    loss : str or Loss, default="hinge"
        The loss: a :class:`~sklosses.losses.Loss` object or one of
        scikit-learn's names ``"hinge"``, ``"log_loss"`` (``"log"``),
        ``"modified_huber"``, ``"squared_hinge"``, ``"perceptron"``, and the
        regression losses, trained on -1/+1 targets. ``"log_loss"`` and
        ``"modified_huber"`` give probabilities.
    %(penalty)s
    %(alpha)s
    %(l1_ratio)s
    fit_intercept : bool, default=True
        Whether to fit intercepts.
    %(max_iter_tol_shuffle_verbose)s
    epsilon : float, default=0.1
        Threshold of ``"huber"`` and the epsilon-insensitive losses given by
        name.
    n_jobs : int or None, default=None
        Threads fitting one-vs-rest and multilabel models, or else the
        ``n_partitions`` of one model; the compiled loop releases the GIL.
        Results do not depend on it.
    %(random_state)s
    learning_rate : str, default="optimal"
        The step-size schedule: ``"optimal"``, ``"constant"``,
        ``"invscaling"``, ``"adaptive"``, ``"pa1"``, ``"pa2"`` as in
        scikit-learn (PA-I and PA-II only with the hinge loss), or
        ``"auto"``. The default is scikit-learn's; it needs ``alpha`` and
        ``eta0`` tuned to converge in few epochs.
        %(auto)s
    eta0 : float, default=0.01
        Initial step size for the "constant", "invscaling" and "adaptive"
        schedules; the aggressiveness of "pa1" and "pa2".
    power_t : float, default=0.5
        Exponent of the invscaling schedule.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when the
        accuracy there stops improving.
    validation_fraction : float, default=0.1
        Share of the data held out with ``early_stopping``, drawn class by
        class so that each class keeps its share (as
        ``StratifiedShuffleSplit`` does, though not the same rows).
    %(n_iter_no_change)s
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying the sample weights.
    %(warm_start_average)s
    multi_class : {"auto", "ovr", "multinomial"}, default="auto"
        How more than two classes are fitted: ``"ovr"``, one binary model
        per class as scikit-learn does; ``"multinomial"``, one softmax model
        (log loss only); ``"auto"``, multinomial for the log loss and
        one-vs-rest otherwise. Multilabel targets always get one binary model
        per label.
    %(n_partitions)s

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights of the features.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        The intercepts.
    classes_ : ndarray of shape (n_classes,)
        The class labels; for multilabel targets, the column indices.
    n_iter_ : int
        Epochs run (the most of any one-vs-rest model).
    %(common_attributes)s
    loss_curve_ : list of float
        Mean training objective (weighted loss plus penalty) per epoch (with
        ``learning_rate="auto"``, that of the averaged model at the end of
        the epoch, on up to 10,000 training rows); the mean over the binary
        models for one-vs-rest and multilabel targets.
    %(validation_loss_curve_)s
    validation_score_curve_ : list of float
        With ``early_stopping``: the accuracy on the validation split per
        epoch (the binary models' mean for one-vs-rest and multilabel).
    %(best_epoch_)s

    See Also
    --------
    sklearn.linear_model.SGDClassifier : The estimator this one extends.
    SGDRegressor : The same engine for regression.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklosses import SGDClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_pipeline(
    ...     StandardScaler(), SGDClassifier(loss="log_loss", random_state=0)
    ... ).fit(X, y)
    >>> model[-1].coef_.shape  # one softmax model over the three classes
    (3, 4)
    >>> model.predict(X[:2])
    array([0, 0])
    >>> model.predict_proba(X[[70]]).round(2)  # a versicolor near the virginicas
    array([[0.  , 0.77, 0.23]])
    """

    # scikit-learn's class attribute, with sklosses's loss classes.
    loss_functions = scikit_learn_loss_functions("classification")

    _parameter_constraints: dict = {
        **BaseSGD._parameter_constraints,
        "loss": [StrOptions(set(loss_names("classification"))), Loss],
        "n_jobs": [Integral, None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "multi_class": [StrOptions({"auto", "ovr", "multinomial"})],
    }

    def __init__(
        self,
        loss="hinge",
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
        n_jobs=None,
        random_state=None,
        learning_rate="optimal",
        eta0=0.01,
        power_t=0.5,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
        average=False,
        multi_class="auto",
        n_partitions=1,
    ):
        self._keep_params(locals())

    # -- fitting ----------------------------------------------------------------

    @training_method
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the classifier by SGD over up to ``max_iter`` epochs.

        Parameters
        ----------
        %(X_fit)s
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 2-D indicator matrix of labels (multilabel).
        coef_init : ndarray of shape (n_classes, n_features), default=None
            Initial coefficients.
        intercept_init : ndarray of shape (n_classes,), default=None
            Initial intercepts.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, multiplied by ``class_weight``.

        %(returns_fitted)s
        """
        return self._fit(
            X, y, coef_init, intercept_init, sample_weight, classes_from_y=True
        )

    @training_method
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train the classifier for one epoch of SGD over the given samples.

        Parameters
        ----------
        %(X_batch)s
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Its class labels, or its label indicator matrix.
        classes : array-like of shape (n_classes,), default=None
            Every class that may appear, over all calls; required on the
            first call for class labels, ignored for indicator matrices.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, multiplied by ``class_weight``.

        %(returns_updated)s
        """
        return self._partial_fit(X, y, sample_weight, classes=classes)

    # -- the model plan (see BaseSGD._train) -----------------------------------

    _target_validation = {"multi_output": True}
    _passive_aggressive_loss = ("hinge", HingeLoss)
    _stratified_validation = True

    def _check_targets(
        self, X, y, loss, first_call, classes=None, classes_from_y=False
    ):
        y, multilabel = check_labels(self, y, classes, first_call, classes_from_y)
        self._mode = self._resolve_mode(loss, self.classes_.shape[0], multilabel)
        return y

    def _weights_checked_later(self):
        # As scikit-learn: with early stopping, weights all zero get the
        # validation split's more informative error.
        return self.early_stopping

    def _step_targets(self, y, sample_weight):
        if self.learning_rate != "auto" or self._mode == "multilabel":
            return None, sample_weight
        # The step must allow for the largest weights a sample gets.
        class_weight = self._class_weight(y)
        return None, sample_weight * class_weight[np.searchsorted(self.classes_, y)]

    def _coef_shape(self, n_features):
        n_models = 1 if self._mode == "binary" else self.classes_.shape[0]
        return (n_models, n_features)

    def _model_tasks(self, X, y, sample_weight, loss):
        """Binary, one-vs-rest and multilabel: one binary model per output;
        the softmax: one model of every class."""
        class_weight = self._class_weight(y)
        if self._mode == "multinomial":
            y_index = np.searchsorted(self.classes_, y)

            def softmax_data():
                weight = sample_weight
                if (class_weight != 1.0).any():
                    weight = sample_weight * class_weight[y_index].astype(X.dtype)
                return y_index.astype(X.dtype), weight, y_index

            outputs = slice(0, len(self.classes_))
            return [
                ModelTask(
                    outputs, softmax_data, _multinomial_accuracy, self._seeds(),
                    multinomial=True,
                )
            ]  # fmt: skip
        negative = -1.0 if loss.label_encoding == "signed" else 0.0
        if self._mode == "binary":
            positives = [y == self.classes_[1]]
            negative_weights = [class_weight[0]]
            positive_weights = [class_weight[1]]
            seeds = [self._seeds()]
        else:
            if self._mode == "multilabel":
                positives = [y[:, k] > 0 for k in range(y.shape[1])]
            else:
                positives = [y == label for label in self.classes_]
            # As scikit-learn: one-vs-rest weighs each model's positive class.
            positive_weights = class_weight
            negative_weights = np.ones_like(class_weight)
            seeds = self._seeds(len(positives))

        def binary_data(k):
            # Built in place: each per-sample array is 8 bytes a row, and a
            # temporary copy shows in the fit's peak memory.
            positive = positives[k]
            y_k = np.where(positive, 1.0, negative).astype(X.dtype, copy=False)
            weight_k = sample_weight  # read only, by the engine and the rest
            if positive_weights[k] != 1.0 or negative_weights[k] != 1.0:
                weight_k = np.where(positive, positive_weights[k], negative_weights[k])
                weight_k = weight_k.astype(X.dtype, copy=False)
                weight_k *= sample_weight
            return y_k, weight_k, y_k

        return [
            ModelTask(
                slice(k, k + 1), functools.partial(binary_data, k), _binary_accuracy,
                seeds[k],
            )
            for k in range(len(positives))
        ]  # fmt: skip

    def _more_validate_params(self, loss, for_partial_fit=False):
        super()._more_validate_params(loss, for_partial_fit)
        if for_partial_fit and self.class_weight == "balanced":
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit. In "
                "order to use 'balanced' weights, use compute_class_weight("
                "'balanced', classes=classes, y=y). In place of y you can use "
                "a large enough sample of the full training set target to "
                "properly estimate the class frequency distributions. Pass the "
                "resulting weights as the class_weight parameter. (The class "
                "frequencies of one batch are not those of the data.)"
            )

    def _resolve_mode(self, loss, n_classes, multilabel):
        is_log = isinstance(loss, LogLoss)
        if self.multi_class == "multinomial" and not is_log and not multilabel:
            raise ValueError(
                "multi_class='multinomial' needs the log loss (softmax "
                f"cross-entropy), got {loss!r}."
            )
        if multilabel:
            # Labels are not exclusive: one binary model per label, whatever
            # multi_class says about exclusive classes.
            return "multilabel"
        if n_classes == 2:
            return "binary"
        if self.multi_class == "multinomial" or (self.multi_class == "auto" and is_log):
            return "multinomial"
        return "ovr"

    _task = "classification"

    def _refusal(self, loss):
        if not loss.link.is_identity:
            return (
                f"cannot train {loss!r}: a loss with a {loss.link} link models "
                "a positive mean, and a classifier trains regression losses on "
                "-1/+1 targets."
            )
        return None

    def _coef_attributes(self, coef, intercept):
        """What makes a copy of this classifier predict with these coefficients."""
        return {"coef_": coef, "intercept_": intercept}

    def _class_weight(self, y):
        # Without class weights, skip compute_class_weight: it checks the
        # labels again, through a Python set of y, which fit has done.
        if self.class_weight is None:
            return np.ones(len(self.classes_))
        if self._mode == "multilabel":
            raise ValueError(
                "class_weight is not supported for multilabel targets; use "
                "sample_weight."
            )
        return compute_class_weight(self.class_weight, classes=self.classes_, y=y)

    # -- predicting ---------------------------------------------------------------
    @fill_doc
    def decision_function(self, X):
        """Raw scores ``X @ coef_.T + intercept_``: logits for the log loss.

        %(X_predict)s

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One column for binary problems, whose sign picks the class
            ``classes_[1]``; one per class or label otherwise.
        """
        return self._decision_function(X)

    @fill_doc
    def predict(self, X):
        """Predict class labels, or the label indicator matrix.

        %(X_predict)s

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels.
        """
        scores = self.decision_function(X)
        if self._mode == "multilabel":
            return (scores > 0).astype(int)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[scores.argmax(axis=1)]

    @fill_doc
    @available_if(_loss_is_probabilistic)
    @fill_doc
    def predict_proba(self, X):
        """Class probabilities, for the log and modified Huber losses.

        Binary: the loss's link of the score. Multinomial: the softmax of the
        scores. One-vs-rest: each class's binary probability, normalized
        over the classes as in scikit-learn. Multilabel: each label's
        probability.

        %(X_predict)s

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, in the order of ``classes_``.
        """
        scores = self.decision_function(X)
        if self._mode in ("binary", "multinomial"):
            return self.loss_.predict_proba(scores)
        proba = self.loss_.inverse_link(scores)
        return proba if self._mode == "multilabel" else normalize_ovr_proba(proba)

    @fill_doc
    @available_if(_loss_is_probabilistic)
    @fill_doc
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        %(X_predict)s

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, in the order of ``classes_``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags


def _binary_accuracy(y, raw, sample_weight):
    return float(np.average((raw > 0) == (y > 0), weights=sample_weight))


def _multinomial_accuracy(y, raw, sample_weight):
    return float(np.average(raw.argmax(axis=1) == y, weights=sample_weight))
