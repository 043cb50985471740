"""SGDClassifier: scikit-learn's SGDClassifier with the loss as an object,
true multinomial softmax and native multilabel targets."""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils import compute_class_weight
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import column_or_1d

from ..losses import LogLoss, Loss, get_loss, loss_names
from ..losses._base import normalize_ovr_proba
from ..losses._registry import scikit_learn_loss_functions
from ._base import (
    BaseSGD,
    fit_transaction,
)
from ._callbacks import (
    CallbackSupportMixin,
    EpochHooks,
    begin_fit,
    end_fit,
    epoch_hooks,
)
from ._docs import fill_doc
from ._validation import sample_weight_of, sorted_unique


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

    @fit_transaction
    @_fit_context(prefer_skip_nested_validation=True)
    @fill_doc
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model by SGD over up to ``max_iter`` epochs.

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
        loss, coef_init, intercept_init = self._begin_fit(coef_init, intercept_init)
        results = self._partial_fit(
            X, y, None, sample_weight, loss, self.max_iter, coef_init, intercept_init,
            classes_from_y=True,
        )  # fmt: skip
        self._warn_if_not_converged(results)
        return self

    @fit_transaction
    @_fit_context(prefer_skip_nested_validation=True)
    @fill_doc
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of SGD over the given samples.

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
        loss = self._begin_partial_fit()
        self._partial_fit(X, y, classes, sample_weight, loss, 1, None, None)
        return self

    def _partial_fit(
        self,
        X,
        y,
        classes,
        sample_weight,
        loss,
        max_iter,
        coef_init,
        intercept_init,
        classes_from_y=False,
    ):
        first_call = not hasattr(self, "classes_")
        X, y = self._validate_training_data(X, y, first_call, multi_output=True)
        if first_call or not self._known_labels(y):
            y, labels, multilabel = _check_targets(y)
            self._check_classes(
                labels, y, classes, multilabel, first_call, classes_from_y
            )
        else:
            multilabel = False
            self._check_same_targets(classes, multilabel)
        n_classes = self.classes_.shape[0]
        self._mode = self._resolve_mode(loss, n_classes, multilabel)
        n_models = 1 if self._mode == "binary" else n_classes
        # As scikit-learn: with early stopping, weights all zero get the
        # validation split's more informative error.
        sample_weight = sample_weight_of(
            sample_weight, X, allow_all_zero_weights=self.early_stopping
        )
        weight = sample_weight
        if self.learning_rate == "auto" and not multilabel:
            # The step must allow for the largest weights a sample gets.
            class_weight = self._class_weight(y)
            weight = weight * class_weight[np.searchsorted(self.classes_, y)]
        row_norms = self._row_norms(X)
        schedule = self._make_schedule(
            X, weight, loss, getattr(self, "coef_", None) is None, row_norms=row_norms
        )
        self._allocate_coef(
            (n_models, X.shape[1]), n_models, X.dtype, coef_init, intercept_init,
            schedule,
        )  # fmt: skip
        self.loss_ = loss

        validation_mask = self._make_validation_split(X, y, sample_weight)
        # Callbacks see one task per epoch, under one task per binary model
        # for one-vs-rest and multilabel targets.
        one_model = self._mode in ("binary", "multinomial")
        context = begin_fit(
            self, X, y, sample_weight,
            max_subtasks=max_iter if one_model else n_models, sequential=one_model,
        )  # fmt: skip
        fit_models = (
            self._fit_multinomial
            if self._mode == "multinomial"
            else self._fit_binary_models
        )
        results = fit_models(
            X, y, sample_weight, loss, schedule, max_iter, validation_mask, context,
            row_norms,
        )  # fmt: skip

        self._end_run(results, X.shape[0], schedule)
        end_fit(context, self, X, y, sample_weight)
        return results

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

    def _check_classes(self, labels, y, classes, multilabel, first_call, from_y):
        """Set ``classes_`` on the first call; check the labels against them."""
        if first_call:
            self.classes_ = _first_classes(labels, y, classes, from_y)
        else:
            self._check_same_targets(classes, multilabel)
        if multilabel:
            return
        unseen = []
        if labels is not self.classes_:  # else they are the labels of y
            unseen = np.setdiff1d(labels, self.classes_, assume_unique=True)
        if len(unseen):
            raise ValueError(
                "classes should include all valid labels that can be in y: "
                f"y contains labels {unseen.tolist()} that are not in classes "
                f"{self.classes_.tolist()}."
            )
        if self.classes_.shape[0] < 2:
            raise ValueError(
                "The number of classes has to be greater than one; got "
                f"{self.classes_.shape[0]} class"
            )

    def _known_labels(self, y):
        """Whether ``y`` holds 1-D numeric class labels, each one of
        ``classes_``: then they pass every check of :func:`_check_targets`
        and :meth:`_check_classes`, since ``classes_`` passed them. One
        vectorised lookup instead of their sorts and ``type_of_target``."""
        if self._mode == "multilabel" or y.ndim != 1 or y.dtype.kind not in "biuf":
            return False
        classes = self.classes_
        if classes.dtype.kind not in "biuf":
            return False
        if y.dtype.kind == "f" and _floats_may_overflow(classes):
            return False
        index = np.searchsorted(classes, y)
        return bool((classes.take(index, mode="clip") == y).all())

    def _check_same_targets(self, classes, multilabel):
        """A later call's targets must be of the kind, and classes, of the first."""
        if multilabel != (self._mode == "multilabel"):
            raise ValueError(
                "y is a label indicator matrix in one call and class labels in "
                "another: partial_fit needs the same kind of target every time."
            )
        if multilabel:
            return
        if classes is not None and not _same_classes(self.classes_, classes):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to "
                f"partial_fit, was: {self.classes_!r}"
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

    def _fit_binary_models(
        self, X, y, sample_weight, loss, schedule, max_iter, validation_mask, context,
        row_norms,
    ):  # fmt: skip
        """Binary, one-vs-rest and multilabel: one binary model per output.

        Returns one ``SGDResult`` per model.
        """
        class_weight = self._class_weight(y)
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
        # Each model trains its own copy of its row of the coefficients,
        # written back once all have finished: neighbouring rows share a
        # cache line where they meet, as all the intercepts do, and written at
        # every step by two threads, that line would bounce between the cores.
        copy_rows = len(positives) > 1
        # n_jobs runs the models side by side, or else one model's partitions.
        parallel_models = copy_rows and effective_n_jobs(self.n_jobs) > 1

        def fit_one(k, positive):
            # Built in place: each per-sample array is 8 bytes a row, and a
            # temporary copy shows in the fit's peak memory.
            y_k = np.where(positive, 1.0, negative).astype(X.dtype, copy=False)
            weight_k = sample_weight  # read only, by the engine and the rest
            if positive_weights[k] != 1.0 or negative_weights[k] != 1.0:
                weight_k = np.where(positive, positive_weights[k], negative_weights[k])
                weight_k = weight_k.astype(X.dtype, copy=False)
                weight_k *= sample_weight
            callback = self._early_stopping_scorer(
                loss, X, y_k, sample_weight, validation_mask, _binary_accuracy
            )
            hooks = model_context = None
            if context is not None and len(positives) == 1:
                hooks = epoch_hooks(context, self, X, y, sample_weight)
            elif context is not None:
                model_context = context.subcontext(
                    task_name="binary model", task_id=k, max_subtasks=max_iter
                )
                model_context.call_on_fit_task_begin(estimator=self, X=X, y=y_k)
                hooks = EpochHooks(model_context, self, X, y_k, weight_k)
            arrays = self._model_arrays(slice(k, k + 1), X.dtype, schedule)
            if copy_rows:
                arrays = [array.copy() for array in arrays]
            result = self._run_sgd(
                X, y_k, weight_k, *arrays,
                loss=loss, schedule=schedule, max_iter=max_iter,
                validation_mask=validation_mask, validation_callback=callback,
                seed=seeds[k], hooks=hooks, row_norms=row_norms,
                threads=1 if parallel_models else None,
            )  # fmt: skip
            if model_context is not None:
                model_context.call_on_fit_task_end(estimator=self, X=X, y=y_k)
            return result, arrays

        if not copy_rows:
            result, _ = fit_one(0, positives[0])
            return [result]
        if not parallel_models:
            # joblib's setup costs more than a small batch's epochs.
            trained = [fit_one(k, positive) for k, positive in enumerate(positives)]
        else:
            # Shared memory, as scikit-learn asks: under a process-based
            # backend (loky, multiprocessing, dask) joblib then runs threads,
            # rather than shipping X to every worker.
            trained = Parallel(n_jobs=self.n_jobs, require="sharedmem")(
                delayed(fit_one)(k, positive) for k, positive in enumerate(positives)
            )
        for k, (_, arrays) in enumerate(trained):
            for array, copy in zip(
                self._model_arrays(slice(k, k + 1), X.dtype, schedule),
                arrays,
                strict=True,
            ):
                array[...] = copy
        return [result for result, _ in trained]

    def _fit_multinomial(
        self, X, y, sample_weight, loss, schedule, max_iter, validation_mask, context,
        row_norms,
    ):  # fmt: skip
        """The softmax model over all classes; returns its ``SGDResult`` in a list."""
        y_index = np.searchsorted(self.classes_, y)
        class_weight = self._class_weight(y)
        weight = sample_weight
        if (class_weight != 1.0).any():
            weight = sample_weight * class_weight[y_index].astype(X.dtype)
        callback = self._early_stopping_scorer(
            loss, X, y_index, sample_weight, validation_mask, _multinomial_accuracy
        )
        seed = self._seeds()
        result = self._run_sgd(
            X, y_index.astype(X.dtype), weight,
            *self._model_arrays(slice(0, len(self.classes_)), X.dtype, schedule),
            loss=loss, schedule=schedule, max_iter=max_iter,
            validation_mask=validation_mask, validation_callback=callback,
            seed=seed, multinomial=True, row_norms=row_norms,
            hooks=epoch_hooks(context, self, X, y, sample_weight),
        )  # fmt: skip
        return [result]

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


def _check_targets(y):
    """``(y, labels, multilabel)``: 1-D class labels and their sorted unique
    values, or a dense 0/1 indicator matrix and ``None``.

    Each look at the labels is a sort of ``y``: take as few as possible. The
    type of numeric 1-D labels is the type of their unique values, and
    integers, or floats that equal them, are "binary" or "multiclass" for
    ``type_of_target``: found without it, which costs more than a small fit.
    """
    labels = None
    if y.ndim == 1 and y.dtype.kind in "biuf":
        labels = sorted_unique(y)
        if y.dtype.kind != "f":
            return y, labels, False
        with np.errstate(invalid="ignore"):  # NaN, left to type_of_target
            if (labels == labels.astype(int)).all():
                return y, labels, False
    target_type = type_of_target(y if labels is None else labels, input_name="y")
    if target_type == "multilabel-indicator":
        if sp.issparse(y):
            y = y.toarray()
        values = np.unique(y)
        if not np.isin(values, (0, 1)).all():
            # type_of_target takes any two integers for an indicator.
            raise ValueError(
                "A 2-D y is a multilabel indicator matrix, whose values are 0 "
                f"and 1 (or False and True); got the values {values.tolist()}. "
                "For one class label per sample, pass a 1-D y; several "
                "multiclass outputs are not supported."
            )
        return y, None, True
    if target_type not in ("binary", "multiclass"):
        check_classification_targets(y)  # raises, naming the problem
    y = column_or_1d(y, warn=True)
    if labels is None:
        labels = sorted_unique(y)
    return y, labels, False


def _same_classes(fitted, classes):
    """Whether ``unique_labels(classes)`` is ``fitted``, the valid labels of
    a first call: so is the sorted set of 1-D numbers or strings that equals
    them, found without ``unique_labels``' checks, which cost more than the
    epoch of a small ``partial_fit`` that passes ``classes`` every time."""
    classes = np.asarray(classes)  # computes a lazy (dask) array
    if classes.ndim == 1 and classes.dtype.kind in "biufUS":
        if not (classes.dtype.kind == "f" and _floats_may_overflow(fitted)):
            if np.array_equal(fitted, np.unique(classes)):
                return True
    return np.array_equal(fitted, unique_labels(classes))


def _floats_may_overflow(classes):
    """Whether a float equal to one of the sorted integer ``classes`` may be
    2**63 or more: NumPy compares it with them as floats, which round the
    classes from 2**63 - 512 up to 2**63, but ``type_of_target`` refuses it
    as continuous (it overflows int64), and so must the shortcuts past it."""
    return classes.dtype.kind in "iu" and float(classes[-1]) >= 2.0**63


def _first_classes(labels, y, classes, classes_from_y):
    if labels is None:  # a label indicator matrix
        return np.arange(y.shape[1])
    if classes_from_y:
        return labels
    if classes is None:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    # np.asarray computes a lazy (dask) array, whose length is unknown.
    return unique_labels(np.asarray(classes))


def _binary_accuracy(y, raw, sample_weight):
    return float(np.average((raw > 0) == (y > 0), weights=sample_weight))


def _multinomial_accuracy(y, raw, sample_weight):
    return float(np.average(raw.argmax(axis=1) == y, weights=sample_weight))
