"""The classifier's labels: checked once, and later calls' recognised.

Each look at the labels is a sort of ``y``, and ``type_of_target`` and
``unique_labels`` cost more than the epoch of a small ``partial_fit``: a
first call takes as few looks as possible, and a later call whose labels are
numbers among ``classes_`` is recognised with one vectorised lookup. Each
shortcut is compared with scikit-learn's checks in ``tests/test_fast_paths.py``.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import column_or_1d

from ._validation import sorted_unique


def check_labels(estimator, y, classes, first_call, classes_from_y):
    """``y`` checked against the classes (set on the first call, from
    ``classes``, or from ``y`` with ``classes_from_y``); returns ``y`` (an
    indicator matrix made dense) and whether it is multilabel."""
    if first_call or not _known_labels(estimator, y):
        y, labels, multilabel = _check_targets(y)
        _check_classes(
            estimator, labels, y, classes, multilabel, first_call, classes_from_y
        )
        return y, multilabel
    _check_same_targets(estimator, classes, False)
    return y, False


def _check_classes(estimator, labels, y, classes, multilabel, first_call, from_y):
    """Set ``classes_`` on the first call; check the labels against them."""
    if first_call:
        estimator.classes_ = _first_classes(labels, y, classes, from_y)
    else:
        _check_same_targets(estimator, classes, multilabel)
    if multilabel:
        return
    unseen = []
    if labels is not estimator.classes_:  # else they are the labels of y
        unseen = np.setdiff1d(labels, estimator.classes_, assume_unique=True)
    if len(unseen):
        raise ValueError(
            "classes should include all valid labels that can be in y: "
            f"y contains labels {unseen.tolist()} that are not in classes "
            f"{estimator.classes_.tolist()}."
        )
    if estimator.classes_.shape[0] < 2:
        raise ValueError(
            "The number of classes has to be greater than one; got "
            f"{estimator.classes_.shape[0]} class"
        )


def _known_labels(estimator, y):
    """Whether ``y`` holds 1-D numeric class labels, each one of
    ``classes_``: then they pass every check of :func:`_check_targets`
    and :meth:`_check_classes`, since ``classes_`` passed them. One
    vectorised lookup instead of their sorts and ``type_of_target``."""
    if estimator._mode == "multilabel" or y.ndim != 1 or y.dtype.kind not in "biuf":
        return False
    classes = estimator.classes_
    if classes.dtype.kind not in "biuf":
        return False
    if y.dtype.kind == "f" and _floats_may_overflow(classes):
        return False
    index = np.searchsorted(classes, y)
    return bool((classes.take(index, mode="clip") == y).all())


def _check_same_targets(estimator, classes, multilabel):
    """A later call's targets must be of the kind, and classes, of the first."""
    if multilabel != (estimator._mode == "multilabel"):
        raise ValueError(
            "y is a label indicator matrix in one call and class labels in "
            "another: partial_fit needs the same kind of target every time."
        )
    if multilabel:
        return
    if classes is not None and not _same_classes(estimator.classes_, classes):
        raise ValueError(
            f"`classes={classes!r}` is not the same as on last call to "
            f"partial_fit, was: {estimator.classes_!r}"
        )


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
