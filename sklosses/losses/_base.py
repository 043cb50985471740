"""The Loss base class: what every loss provides, built-in or user-defined."""

import numpy as np
from sklearn.base import BaseEstimator


class Loss(BaseEstimator):
    """Base class of the losses that SGD estimators minimize.

    A loss compares an encoded target ``y`` with a raw prediction ``raw``, the
    linear model's output ``X @ coef_.T + intercept_`` (a logit for the log
    loss). Losses follow scikit-learn's estimator rules for parameters: the
    constructor stores its arguments unchanged, so ``get_params``,
    ``set_params``, :func:`sklearn.base.clone` and nested grid parameters such
    as ``loss__delta`` work.

    A subclass provides :meth:`loss`, :meth:`gradient` and :meth:`kernel_spec`
    and sets the class attributes below; the rest is inherited.

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
    response_method : str
        The estimator method whose output the matching :meth:`metric` takes.
    """

    _parameter_constraints: dict = {}

    task = "regression"
    label_encoding = "signed"
    is_probabilistic = False
    is_convex = True
    response_method = "predict"

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
        raise NotImplementedError

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
        raise NotImplementedError

    def kernel_spec(self):
        """What the compiled SGD loop needs to run this loss.

        Returns
        -------
        kind : int
            Identifier of the compiled kernel.
        params : tuple of float
            The loss's parameters in the order the kernel reads them.
        """
        raise NotImplementedError

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
        """Probability of the positive class for each raw prediction.

        Only probabilistic losses define it.

        Parameters
        ----------
        raw : array-like
            Raw predictions.

        Returns
        -------
        proba : ndarray of the shape of ``raw``
        """
        raise NotImplementedError(f"{type(self).__name__} is not probabilistic.")

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
        raw = np.asarray(raw, dtype=float)
        positive = self.inverse_link(raw)
        if raw.ndim == 1:
            return np.column_stack([1.0 - positive, positive])
        return normalize_ovr_proba(positive)


def normalize_ovr_proba(proba):
    """Rows of one-vs-rest probabilities -> a distribution over classes.

    A row whose probabilities are all zero becomes uniform, as in
    scikit-learn's SGDClassifier.
    """
    total = proba.sum(axis=1, keepdims=True)
    n_classes = proba.shape[1]
    uniform = total == 0.0
    return np.where(uniform, 1.0 / n_classes, proba / np.where(uniform, 1.0, total))
