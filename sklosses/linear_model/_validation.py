"""Checking data: the training input and its fast path, initial values,
finite inputs, and the held-out rows.

Early stopping's validation split (:func:`stratified_validation_mask`) and
its scores (:func:`validation_scorer`) read the held-out rows a block at a
time, never copied out of ``X`` at once.
"""

import inspect

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array, check_random_state
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import _check_sample_weight, validate_data

# Early stopping scores the validation rows this many at a time, so that they
# are never copied out of the input as a whole.
VALIDATION_BLOCK_ROWS = 4096
# In the machine's byte order: a dtype equals another only in the same order.
_ENGINE_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def initial_values(values, shape, dtype, name):
    """A copy of the initial ``values`` (zeros when ``None``) of the given shape.

    As in scikit-learn, a single output's values may come raveled or as a
    row: any shape equal to ``shape`` once its axes of length 1 are dropped.
    """
    if values is None:
        return np.zeros(shape, dtype=dtype)
    array = np.array(values, dtype=dtype)
    if array.squeeze().shape != tuple(n for n in shape if n != 1):
        raise ValueError(
            f"Provided {name} does not match dataset: expected shape {shape}, "
            f"got {array.shape}."
        )
    return array.reshape(shape)


# scikit-learn 1.9 refuses sample weights that are all zero unless told not
# to; 1.8 has neither the check nor the keyword. The check is made here, so
# that every supported version refuses the same weights.
_LET_ZEROS_THROUGH = (
    {"allow_all_zero_weights": True}
    if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
    else {}
)


def sample_weight_of(sample_weight, X, allow_all_zero_weights=False):
    """scikit-learn's ``_check_sample_weight`` in ``X``'s dtype, refusing
    weights that are all zero as scikit-learn 1.9 does unless
    ``allow_all_zero_weights``; ones when ``None``, as it gives them, without
    its cost in a small ``partial_fit``."""
    if sample_weight is None:
        return np.ones(X.shape[0], dtype=X.dtype)
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=X.dtype, **_LET_ZEROS_THROUGH
    )
    if not (allow_all_zero_weights or sample_weight.any()):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight


def sorted_unique(y):
    """``np.unique(y)`` for 1-D labels; by counting when ``y`` holds small
    non-negative integers (class indices, 0/1, booleans): a pass over ``y``
    rather than a hash or a sort, 5 ms less on 320,000 labels."""
    countable = y.dtype.kind == "b" or (
        y.dtype.kind in "iu" and np.can_cast(y.dtype, np.intp)
    )
    if countable and y.size:
        values = y.view(np.uint8) if y.dtype.kind == "b" else y
        if values.min() >= 0 and values.max() < 2 * y.size + 256:
            return np.flatnonzero(np.bincount(values)).astype(y.dtype)
    return np.unique(y)


def stratified_validation_mask(y, test_size, random_state):
    """Mask of the test rows, each class giving its share of ``y``.

    What ``StratifiedShuffleSplit`` gives, with its errors, in a fraction of
    its memory: it collects the rows in Python lists, about 40 bytes a row,
    which made the split the peak of a fit with early stopping. Each class
    gives the test set its share of ``test_size`` rows, rounded by largest
    remainder; the rows are drawn at random.
    """
    n_samples = y.shape[0]
    classes = sorted_unique(y)
    codes = np.searchsorted(classes, y)
    counts = np.bincount(codes, minlength=classes.shape[0])
    if counts.min() < 2:
        raise ValueError(
            "The least populated classes in y have only 1 member, which is too "
            "few. The minimum number of groups for any class cannot be less than "
            f"2. Classes with too few members are: {classes[counts < 2].tolist()}"
        )
    n_test = int(np.ceil(test_size * n_samples))
    n_train = n_samples - n_test
    for name, size in (("train", n_train), ("test", n_test)):
        if size < classes.shape[0]:
            raise ValueError(
                f"The {name}_size = {size} should be greater or equal to the "
                f"number of classes = {classes.shape[0]}"
            )
    share = counts * (n_test / n_samples)
    n_test_per_class = np.floor(share).astype(np.intp)
    remainder = n_test - n_test_per_class.sum()
    largest_remainders = np.argsort(n_test_per_class - share, kind="stable")
    n_test_per_class[largest_remainders[:remainder]] += 1
    rows_by_class = np.argsort(codes, kind="stable")
    del codes
    rng = check_random_state(random_state)
    test_mask = np.zeros(n_samples, dtype=bool)
    start = 0
    for count, n_test_class in zip(counts, n_test_per_class, strict=True):
        rows = rows_by_class[start : start + count]
        test_mask[rows[rng.permutation(count)[:n_test_class]]] = True
        start += count
    return test_mask


def check_finite(X, estimator, rows=None):
    """Raise scikit-learn's error when ``X``, or its ``rows``, holds NaN or inf.

    Fits do not look for them up front, a pass over the whole input: the
    engine's dot products read every value of the rows it trains on, and it
    counts the rows whose dot product is not finite; only then is ``X``
    checked, to name the problem (or find none: the model diverged). The
    rows the engine never reads, held out for early stopping, are checked
    here as ``rows``, a block at a time.
    """
    if rows is not None and all(
        np.isfinite(row_values(block)).all() for _, block in _row_blocks(X, rows)
    ):
        return
    check_array(X, accept_sparse="csr", dtype=None, input_name="X", estimator=estimator)


def row_values(block):
    return block.data if sp.issparse(block) else block


def validation_raw(X, rows, coef, intercept):
    """``X[rows] @ coef.T + intercept``, computed a block of rows at a time.

    Returns an array of shape (len(rows), n_outputs).
    """
    raw = np.empty((rows.shape[0], coef.shape[0]), dtype=np.result_type(X, coef))
    for start, block in _row_blocks(X, rows):
        raw[start : start + block.shape[0]] = safe_sparse_dot(
            block, coef.T, dense_output=True
        )
    return raw + intercept


def validation_scorer(loss, X, rows, y_val, sample_weight_val, score):
    """Early stopping's ``validation_callback``: the loss and the score of
    coefficients on the held-out ``rows``, ``score(y_val, raw, weights)``
    greater for better. A single output's raw scores are 1-D."""

    def validate(coef, intercept):
        raw = validation_raw(X, rows, coef, intercept)
        if raw.shape[1] == 1:
            raw = raw[:, 0]
        return (
            loss(y_val, raw, sample_weight=sample_weight_val),
            score(y_val, raw, sample_weight_val),
        )

    return validate


def _row_blocks(X, rows):
    """``(start, X[rows[start : start + VALIDATION_BLOCK_ROWS]])``, block by block.

    The held-out rows are read this way, never copied out of ``X`` at once.
    """
    for start in range(0, rows.shape[0], VALIDATION_BLOCK_ROWS):
        yield start, X[rows[start : start + VALIDATION_BLOCK_ROWS]]


def validate_training_data(estimator, X, y, first_call, **target_options):
    """``X`` and ``y`` as the engine reads them: C-ordered float64 or
    float32 rows, or CSR. Values are checked for NaN and infinity later,
    during the first epoch (see :func:`check_finite`).

    Arrays that scikit-learn's conversions would return as they are
    (:func:`engine_ready`) skip them, which cost more than a small
    batch's epoch; their columns are checked, by scikit-learn, unless a
    later call's are those the model was fitted on: as many, unnamed.
    A first call records what ``validate_data`` would of an ndarray, whose
    columns have no names: their number, and no ``feature_names_in_``
    (asking whether an object is a dataframe takes longer than the rest
    of a small fit).
    """
    if engine_ready(X, y):
        if first_call:
            estimator.n_features_in_ = X.shape[1]
            estimator.__dict__.pop("feature_names_in_", None)
            return X, y
        if X.shape[1] == estimator.n_features_in_ and not hasattr(
            estimator, "feature_names_in_"
        ):
            return X, y
        return validate_data(estimator, X, y, skip_check_array=True, reset=False)
    return validate_data(
        estimator, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
        order="C", accept_large_sparse=False, reset=first_call,
        ensure_all_finite=False, **target_options,
    )  # fmt: skip


def engine_ready(X, y):
    """Whether scikit-learn's ``check_X_y``, as the estimators call it, would
    return ``X`` and ``y`` unchanged and say nothing: a 2-D C-ordered ndarray
    of float64 or float32 with a row and a column at least, and a contiguous
    1-D numeric ``y`` of as many rows, finite. Anything else goes through it,
    and gets its errors and warnings."""
    return (
        type(X) is np.ndarray
        and type(y) is np.ndarray
        and X.ndim == 2
        and y.ndim == 1
        and X.dtype in _ENGINE_DTYPES
        and X.flags.c_contiguous
        and y.flags.c_contiguous
        and 0 < X.shape[0] == y.shape[0]
        and X.shape[1] > 0
        and y.dtype.kind in "biuf"
        and (y.dtype.kind != "f" or bool(np.isfinite(y).all()))
    )
