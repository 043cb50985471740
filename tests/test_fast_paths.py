"""Each fast path beside scikit-learn's validation gives what the slow path
gives: the same arrays, or the same error and warnings.

The estimators skip work whose answer they know: ``check_X_y`` on arrays
it would return unchanged (``_engine_ready``), ``type_of_target`` and sorts
on labels (``_check_targets``, ``sorted_unique``, ``_known_labels``,
``_same_classes``), parameter validation for values found valid before
(``Estimator._validate_params``), and seeding for a seed seen before
(``_seeds_of``, ``_seed_sequence``, ``_seed_state``). Each is compared here
with the path it stands in for, on generated inputs built to find their
edges: every dtype, layout and container, labels of every kind, parameter
values of every type. The last tests fit estimators through the fast paths
and through the slow ones and compare the models bit for bit.
"""

import contextlib
import warnings
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    column_or_1d,
    validate_data,
)

from sklosses import SGDClassifier, SGDRegressor
from sklosses._engine._random import generator_state
from sklosses._estimator import Estimator
from sklosses.linear_model import _base, _driver, _labels, _validation
from sklosses.losses import get_loss, loss_names

# Examples per property: enough to reach the edges below, few enough that
# the module runs in seconds.
FEW, SOME, MANY = 30, 80, 200


def budget(max_examples):
    return settings(max_examples=max_examples, deadline=None, derandomize=True)


# ---------------------------------------------------------------------------
# Generated inputs
# ---------------------------------------------------------------------------

DTYPES = [
    np.float64, np.float32, np.float16, np.bool_, np.int8, np.int64, np.uint64,
    np.complex128, np.dtype(">f8"), object,
]  # fmt: skip
ENGINE_DTYPES = [np.float64, np.float32]
# Weighted towards the dtypes the engine reads, which the fast paths take.
X_DTYPES = st.one_of(st.sampled_from(ENGINE_DTYPES), st.sampled_from(DTYPES))
LAYOUTS = [
    "C", "F", "rows strided", "columns strided", "read-only", "list",
    "csr", "csc", "coo", "csr_array", "matrix",
]  # fmt: skip


def _elements(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return st.one_of(
            st.integers(max(-2, int(info.min)), 3),
            st.integers(int(info.min), int(info.max)),
        )
    small = st.integers(-2, 3).map(float)
    if dtype.kind == "f":
        return st.one_of(small, st.floats(width=8 * min(dtype.itemsize, 8)))
    if dtype.kind == "c":
        return st.one_of(small.map(complex), st.complex_numbers(max_magnitude=1e3))
    return st.one_of(small, st.integers(-2, 3), st.sampled_from(["a", "b"]))


@st.composite
def arrays(draw, shape, dtypes=None, layouts=None, finite=False):
    """An array of ``shape`` of any dtype, held in any layout or container;
    of small integer values if ``finite``."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES) if dtypes is None else dtypes))
    native = dtype.newbyteorder("=") if dtype.kind == "f" else dtype
    elements = _elements(dtype)
    if finite and dtype.kind in "fc":
        elements = st.integers(-2, 3)
    array = draw(hnp.arrays(native, shape, elements=elements)).astype(dtype)
    layout = draw(st.sampled_from(LAYOUTS) if layouts is None else layouts)
    if layout == "F":
        return np.asfortranarray(array)
    if layout == "rows strided" and array.ndim >= 1:
        return np.repeat(array, 2, axis=0)[::2]
    if layout == "columns strided" and array.ndim >= 2:
        return np.repeat(array, 2, axis=1)[:, ::2]
    if layout == "read-only":
        array.setflags(write=False)
        return array
    if layout == "list":
        return array.tolist()
    sparse_ok = array.ndim == 2 and dtype.kind in "biufc" and dtype.itemsize > 2
    if layout in ("csr", "csc", "coo") and sparse_ok and dtype.isnative:
        return sp.coo_matrix(array).asformat(layout)
    if layout == "csr_array" and sparse_ok and dtype.isnative:
        return sp.csr_array(array)
    if layout == "matrix" and array.ndim == 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            return np.asmatrix(array)
    return array


@st.composite
def training_data(draw):
    """``(X, y)``: mostly 2-D ``X`` and 1-D ``y`` of as many rows, and
    sometimes not; half of them close to what the engine reads, and so to
    the fast path's edges."""
    if draw(st.booleans()):
        return draw(nearly_engine_ready())
    n_rows = draw(st.integers(0, 5))
    n_columns = draw(st.integers(0, 4))
    x_shape = draw(
        st.one_of(
            st.just((n_rows, n_columns)),
            st.just((n_rows, n_columns)),
            st.just((n_rows, n_columns)),
            st.sampled_from([(), (n_rows,), (n_rows, n_columns, 2)]),
        )
    )
    y_rows = draw(st.one_of(st.just(n_rows), st.just(n_rows), st.integers(0, 5)))
    y_shape = draw(
        st.one_of(
            st.just((y_rows,)), st.just((y_rows,)), st.just((y_rows,)),
            st.sampled_from([(), (y_rows, 1), (y_rows, 2)]),
        )
    )  # fmt: skip
    return draw(arrays(x_shape, X_DTYPES)), draw(arrays(y_shape))


@st.composite
def nearly_engine_ready(draw):
    """C-ordered 2-D float ``X`` and 1-D numeric ``y`` of as many rows, as
    the engine reads them, or so but for one thing: a layout, a dtype, an
    empty axis, a value."""
    change = draw(st.sampled_from([None] * 4 + ["X", "y", "empty", "value"]))
    n_rows = 0 if change == "empty" else draw(st.integers(1, 5))
    n_columns = draw(st.integers(0 if change == "empty" else 1, 4))
    engine = st.sampled_from(ENGINE_DTYPES)
    c_order = st.just("C")
    X = draw(
        arrays(
            (n_rows, n_columns),
            st.sampled_from(DTYPES) if change == "X" else engine,
            st.sampled_from(LAYOUTS) if change == "X" else c_order,
            finite=change != "value",
        )
    )
    y = draw(
        arrays(
            (n_rows,),
            st.sampled_from(DTYPES) if change == "y" else engine,
            st.sampled_from(LAYOUTS) if change == "y" else c_order,
            finite=change != "value",
        )
    )
    return X, y


def _outcome(call, layout=True):
    """What ``call()`` returns, described by :func:`_describe`, or the type
    and message of what it raises; with the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="warn"):
            try:
                result = ("returns", _describe(call(), layout))
            except Exception as error:
                result = ("raises", type(error), str(error))
    # NumPy's floating-point reports (overflow in a cast, NaN in a sum) are
    # left out: they depend on which operation meets a NaN or an infinity
    # first, and on its bits (np.unique turns a float16 NaN into another).
    return result, sorted(
        {
            (w.category.__name__, str(w.message))
            for w in caught
            if not (w.category is RuntimeWarning and "encountered" in str(w.message))
        }
    )


def _describe(value, layout=True):
    """``value`` as something ``==`` compares exactly: arrays by their type,
    dtype, shape, bytes (NaNs alike) and, if ``layout``, C-contiguity;
    sparse matrices by their format and arrays."""
    if isinstance(value, tuple | list):
        return tuple(_describe(v, layout) for v in value)
    if sp.issparse(value):
        csr = value.tocsr()
        return (
            type(value).__name__, value.format, value.dtype.str, value.shape,
            _describe(csr.data), _describe(csr.indices), _describe(csr.indptr),
        )  # fmt: skip
    if isinstance(value, np.ndarray):
        data = repr(value.tolist()) if value.dtype == object else value.tobytes()
        return (
            type(value).__name__, value.dtype.str, value.shape,
            value.flags.c_contiguous if layout else None, data,
        )  # fmt: skip
    if isinstance(value, np.generic):
        return type(value).__name__, value.tobytes()
    return type(value).__name__, repr(value)


def _fitted_attributes(estimator):
    return {
        name: _describe(getattr(estimator, name))
        for name in ("n_features_in_", "feature_names_in_")
        if hasattr(estimator, name)
    }


# ---------------------------------------------------------------------------
# check_X_y skipped for arrays it would return as they are
# ---------------------------------------------------------------------------

# The estimators' checks of y besides check_X_y's defaults.
TARGET_OPTIONS = [
    (SGDClassifier, {"multi_output": True}),
    (SGDRegressor, {"y_numeric": True}),
]


@pytest.mark.parametrize(("cls", "target_options"), TARGET_OPTIONS)
@budget(MANY)
@given(
    data=training_data(),
    first_call=st.booleans(),
    n_features_in=st.integers(0, 4),
    named_features=st.booleans(),
)
def test_training_data_skips_check_X_y_only_where_it_changes_nothing(
    cls, target_options, data, first_call, n_features_in, named_features
):
    """``_validate_training_data`` as it is, and with every input sent
    through scikit-learn's ``validate_data``: the same arrays (values,
    dtype, C order), errors, warnings and ``n_features_in_`` or
    ``feature_names_in_``, on a first call and on a later one."""
    X, y = data
    event("engine-ready" if _validation.engine_ready(X, y) else "not engine-ready")
    estimator = cls()
    if not first_call:
        estimator.n_features_in_ = n_features_in
        if named_features:
            names = [f"x{j}" for j in range(n_features_in)]
            estimator.feature_names_in_ = np.array(names, dtype=object)
    slow = clone(estimator)
    slow.__dict__.update(estimator.__dict__)

    def fast_path():
        return estimator._validate_training_data(X, y, first_call, **target_options)

    def slow_path():
        with mock.patch.object(_validation, "engine_ready", return_value=False):
            return slow._validate_training_data(X, y, first_call, **target_options)

    assert _outcome(fast_path) == _outcome(slow_path)
    assert _fitted_attributes(estimator) == _fitted_attributes(slow)


@pytest.mark.parametrize(("cls", "target_options"), TARGET_OPTIONS)
@budget(SOME)
@given(data=nearly_engine_ready())
def test_engine_ready_arrays_pass_validate_data_unchanged(cls, target_options, data):
    """What ``_engine_ready`` promises: ``validate_data``, as the estimators
    call it, returns such ``X`` and ``y`` with the same values, dtype and
    layout, and says nothing."""
    X, y = data
    if not _validation.engine_ready(X, y):
        return
    result, caught = _outcome(
        lambda: validate_data(
            cls(),
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
            accept_large_sparse=False,
            ensure_all_finite=False,
            **target_options,
        )
    )
    assert result == ("returns", _describe((X, y)))
    assert caught == []


@budget(SOME)
@given(data=nearly_engine_ready(), allow_all_zero_weights=st.booleans())
def test_no_sample_weight_is_check_sample_weights_ones(data, allow_all_zero_weights):
    """``sample_weight=None`` skips ``_check_sample_weight``; its ones are
    the same, for ``X`` as validation leaves it (rows of a float dtype)."""
    X, _ = data
    if not (isinstance(X, np.ndarray) or sp.issparse(X)) or isinstance(X, np.matrix):
        return
    if X.ndim != 2 or X.dtype not in ENGINE_DTYPES or X.shape[0] == 0:
        return

    def fast():
        return _validation.sample_weight_of(None, X, allow_all_zero_weights)

    assert _outcome(fast) == _outcome(
        lambda: _check_sample_weight(None, X, dtype=X.dtype)
    )


# ---------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------

LABEL_DTYPES = [
    np.bool_, np.int8, np.int64, np.uint8, np.uint64, np.float16, np.float32,
    np.float64, np.dtype("<U3"), object,
]  # fmt: skip


def _label_elements(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "U":
        return st.sampled_from(["a", "b", "-1", "10", ""])
    if dtype.kind == "O":
        return st.one_of(
            st.sampled_from(["a", "b"]), st.integers(-2, 2), st.sampled_from([1.5])
        )
    if dtype.kind == "u" and dtype.itemsize == 8:
        # Beyond int64, and where a float64 cannot tell neighbours apart.
        return st.one_of(
            st.integers(0, 3),
            st.integers(2**63 - 2, 2**63 + 2),
            st.integers(2**53 - 1, 2**53 + 3),
            st.integers(2**64 - 3, 2**64 - 1),
        )
    if dtype.kind == "f":
        return st.one_of(
            st.integers(-3, 3).map(float),
            st.sampled_from(
                [0.5, 2.0**53, 2.0**53 + 2, 2.0**63, -(2.0**63), 1e20]
            ).filter(lambda v: abs(v) <= float(np.finfo(dtype).max)),
            st.floats(width=8 * dtype.itemsize),
        )
    return _elements(dtype)


@st.composite
def labels(draw, shape=None):
    """Class labels of any kind, 1-D unless ``shape`` says otherwise."""
    dtype = np.dtype(draw(st.sampled_from(LABEL_DTYPES)))
    if shape is None:
        shape = (draw(st.integers(0, 8)),)
    y = draw(hnp.arrays(dtype, shape, elements=_label_elements(dtype)))
    layout = draw(st.sampled_from(["C", "strided", "read-only"]))
    if layout == "strided" and y.ndim:
        return np.repeat(y, 2, axis=0)[::2]
    if layout == "read-only":
        y.setflags(write=False)
    return y


def _targets_by_scikit_learn(y):
    """What ``_check_targets`` stands in for on labels that are not a
    multilabel indicator: scikit-learn's checks, then ``np.unique``."""
    check_classification_targets(y)
    y = column_or_1d(y, warn=True)
    return y, np.unique(y), False


@budget(MANY)
@given(
    y=st.one_of(
        labels(),
        st.integers(0, 5).flatmap(lambda n: labels(shape=(n, 1))),
    )
)
def test_check_targets_is_check_classification_targets_and_unique(y):
    """The same labels, errors and warnings; the layout of ``y`` aside,
    which only comparisons read (the engine gets targets built from them)."""
    fast = _outcome(lambda: _labels._check_targets(y), layout=False)
    assert fast == _outcome(lambda: _targets_by_scikit_learn(y), layout=False)


@budget(MANY)
@given(y=labels())
def test_sorted_unique_is_np_unique(y):
    assert _outcome(lambda: _validation.sorted_unique(y)) == _outcome(
        lambda: np.unique(y)
    )


# Integers where int64 ends, and where float64 no longer tells them apart.
EDGE_INTEGERS = [
    -(2**63), -1, 0, 1, 2**53, 2**53 + 1, 2**63 - 513, 2**63 - 512, 2**63 - 1,
    2**63, 2**63 + 2048, 2**64 - 1,
]  # fmt: skip


@st.composite
def edge_integer_labels(draw):
    """Integer labels at the edges of int64 and float64, as int64 or, for
    those beyond int64, uint64."""
    values = draw(st.lists(st.sampled_from(EDGE_INTEGERS), min_size=1, max_size=5))
    if max(values) >= 2**63:
        return np.array([v for v in values if v >= 0] or [0], dtype=np.uint64)
    return np.array(values, dtype=np.int64)


@st.composite
def fitted_classes(draw):
    """``classes_`` as a first call leaves them: the sorted labels of a
    valid target (at least two), with the mode they were fitted in."""
    y = draw(st.one_of(labels(), edge_integer_labels()))
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_classification_targets(y)
            classes = unique_labels(y)
    except (ValueError, TypeError):
        classes = np.arange(2)
    if classes.shape[0] < 2:
        classes = np.arange(2)
    mode = draw(st.sampled_from(["binary", "ovr", "multinomial", "multilabel"]))
    if mode == "multilabel":
        classes = np.arange(classes.shape[0])
    return classes, mode


@st.composite
def later_labels(draw, classes):
    """Labels of a later call: drawn from ``classes``, cast, or unrelated."""
    how = draw(st.sampled_from(["classes", "cast", "unrelated"]))
    if how == "unrelated" or classes.dtype.kind not in "biuf":
        return draw(labels())
    y = classes[draw(st.lists(st.integers(0, classes.shape[0] - 1), max_size=8))]
    if how == "cast":
        dtype = np.dtype(draw(st.sampled_from(LABEL_DTYPES[:8])))
        with np.errstate(all="ignore"):
            y = y.astype(dtype)
    return y


@budget(MANY)
@given(data=st.data())
def test_known_labels_pass_every_label_check(data):
    """Labels ``_known_labels`` lets through pass what ``partial_fit``
    checks otherwise: ``_check_targets`` then ``_check_classes``, which
    leave them as they are."""
    classes, mode = data.draw(fitted_classes())
    y = data.draw(later_labels(classes))
    estimator = SGDClassifier()
    estimator.classes_, estimator._mode = classes, mode
    known = _labels._known_labels(estimator, y)
    event(f"known: {known}")
    if not known:
        return

    def checked():
        checked_y, found, multilabel = _labels._check_targets(y)
        _labels._check_classes(
            estimator, found, checked_y, None, multilabel, False, False
        )
        return checked_y, multilabel

    assert _outcome(checked) == (("returns", _describe((y, False))), [])


@budget(MANY)
@given(data=st.data())
def test_same_classes_is_unique_labels(data):
    """``_same_classes`` as it is, and as ``unique_labels`` alone answers,
    for ``classes`` of every kind beside fitted ones."""
    fitted, _ = data.draw(fitted_classes())
    classes = data.draw(
        st.one_of(
            labels(),
            st.permutations(fitted.tolist()),
            st.just(fitted.astype(object)),
            st.just(np.repeat(fitted, 2)),
            st.sampled_from(LABEL_DTYPES).map(
                lambda dtype: _cast_or_none(fitted, dtype)
            ),
            st.lists(
                st.one_of(st.integers(-1, 2), st.sampled_from(["a", True])), max_size=4
            ),
            st.just(fitted.reshape(-1, 1)),
        )
    )

    def by_scikit_learn():
        return np.array_equal(fitted, unique_labels(np.asarray(classes)))

    assert _outcome(lambda: _labels._same_classes(fitted, classes)) == (
        _outcome(by_scikit_learn)
    )


def _cast_or_none(array, dtype):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return array.astype(dtype)
        except (ValueError, TypeError, OverflowError):
            return None


def test_float_labels_beyond_int64_are_refused_after_the_first_call_too():
    """Float labels, or ``classes``, equal as floats compare to integer
    classes of 2**63 or more: scikit-learn's ``type_of_target`` takes them
    for continuous values (they overflow int64), on the first call and the
    later ones alike."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    classes = np.array([2**63 - 2, 2**63 + 2048], dtype=np.uint64)
    y = classes[np.arange(20) % 2]
    estimator = SGDClassifier(random_state=0).partial_fit(X, y, classes=classes)
    coef = estimator.coef_.copy()

    def continuous():
        return pytest.raises(ValueError, match="Unknown label type")

    with np.errstate(invalid="ignore"):  # type_of_target's cast to int64
        for labels_ in (np.full(20, 2.0**63), y.astype(np.float64)):
            with continuous():
                estimator.partial_fit(X, labels_)
            with continuous():
                clone(estimator).partial_fit(X, labels_, classes=classes)
        # So are those classes, as floats or as a list, which NumPy makes
        # floats, on a later call as on the first.
        for classes_ in (classes.astype(np.float64), classes.tolist()):
            with continuous():
                estimator.partial_fit(X, y, classes=classes_)
            with continuous():
                clone(estimator).partial_fit(X, y, classes=classes_)
    assert_array_equal(estimator.coef_, coef)
    # Below 2**63, a float that equals an integer class is that class.
    small = np.array([0, 2**62], dtype=np.uint64)
    estimator = SGDClassifier(random_state=0).partial_fit(
        X, small[np.arange(20) % 2], classes=small
    )
    estimator.partial_fit(X, small[np.arange(20) % 2].astype(np.float64))


# ---------------------------------------------------------------------------
# Parameter validation, remembered
# ---------------------------------------------------------------------------

# Values of every kind: alike to == but not to the constraints (True, 1,
# 1.0; 0.0 and -0.0), NumPy scalars (never remembered), NaN, the names the
# string options hold and others, containers.
PARAMETER_VALUES = [
    True, False, 0, 1, 2, -1, 10, 2**31, 2**63, 0.0, -0.0, 1.0, 0.5, -0.5, 1e-4,
    1.5, 2.0, float("nan"), float("inf"), -float("inf"), None,
    np.float64(0.1), np.float32(0.5), np.int64(3), np.int8(-1), np.uint64(7),
    np.bool_(True), np.float64("nan"),
    "", "auto", "balanced", "ovr", "multinomial", "l1", "l2", "elasticnet",
    "optimal", "constant", "invscaling", "adaptive", "pa1", "blocks",
    "permutation", *loss_names(), "nonsense", "True",
    {}, {0: 1.0}, [1], (0.5,), get_loss("huber"),
]  # fmt: skip
LOSS_CLASSES = sorted({type(get_loss(name)) for name in loss_names()}, key=str)


def _twins(value):
    """Values equal to ``value`` (and of its hash) but of other types."""
    if value is None or not isinstance(value, bool | int | float | str | np.generic):
        return []
    if isinstance(value, str | np.str_):
        return [str(value), np.str_(value)]
    twins = [float(value), np.float64(value), np.float32(value)]
    if float(value).is_integer() and abs(float(value)) < 2.0**63:
        twins += [int(value), np.int64(value)]
        if value in (0, 1):
            twins += [bool(value), np.bool_(value)]
    if value == 0:
        twins += [0.0, -0.0]
    return twins


@st.composite
def parameter_settings(draw, cls):
    """Up to six successive changes to ``cls``'s parameters: values of every
    kind, or a value's twin of another type (``True`` for ``1``, ``1.0`` for
    ``1``, ``np.float64(0.1)`` for ``0.1``), which the class may have
    remembered as valid as the value it equals."""
    names = sorted(cls._get_param_names())
    if not names:
        return [({}, [])]
    change = st.dictionaries(
        st.sampled_from(names), st.sampled_from(PARAMETER_VALUES), max_size=3
    )
    twinned = st.lists(st.sampled_from(names), min_size=1, max_size=2)
    step = st.one_of(st.tuples(change, st.just([])), st.tuples(st.just({}), twinned))
    return draw(st.lists(step, min_size=1, max_size=6))


@pytest.mark.parametrize("cls", [SGDClassifier, SGDRegressor, *LOSS_CLASSES])
@budget(SOME)
@given(data=st.data())
def test_remembered_validation_is_scikit_learns(cls, data):
    """``Estimator._validate_params``, which remembers the sets of values it
    found valid (for the whole class, across examples), and scikit-learn's,
    which checks every time, accept and refuse the same settings, with the
    same messages."""
    estimator = cls()
    for changes, twinned in data.draw(parameter_settings(cls)):
        estimator.set_params(**changes)
        for name in twinned:
            twins = _twins(estimator.get_params(deep=False)[name])
            if twins:
                estimator.set_params(**{name: data.draw(st.sampled_from(twins))})
        for _ in range(2):  # the second time, maybe from memory
            fast = _outcome(estimator._validate_params)
            slow = _outcome(lambda: BaseEstimator._validate_params(estimator))
            assert fast == slow, estimator.get_params(deep=False)


def test_remembered_validation_tells_true_from_one():
    """The values a class remembers as valid are not confused with values
    equal to them but of another type, which its constraints may refuse."""
    SGDClassifier(max_iter=1, average=1)._validate_params()
    for value in (True, 1.0, np.int64(1)):
        estimator = SGDClassifier(max_iter=value)
        assert _outcome(estimator._validate_params) == _outcome(
            lambda estimator=estimator: BaseEstimator._validate_params(estimator)
        )
    with pytest.raises(ValueError, match="max_iter"):
        SGDClassifier(max_iter=1.0)._validate_params()


# ---------------------------------------------------------------------------
# Seeds, drawn once per process
# ---------------------------------------------------------------------------

EDGE_RANDOM_STATES = [
    0, 1, 2**32 - 1, 2**32, -1, 2**63, True, False, np.int8(-3), np.int64(-1),
    np.uint64(2**63), np.uint32(2**32 - 1), np.bool_(True), 1.0,
]  # fmt: skip
RANDOM_STATES = st.one_of(
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1).map(np.int64),
    st.integers(0, 2**32 - 1).map(np.uint32),
)


def _check_seeds(random_state, n_models):
    """``_seeds`` with an int ``random_state`` (drawn once, then remembered)
    and as ``check_random_state`` draws them: the same values or errors,
    however often asked, and nobody can change those remembered."""
    estimator = SGDClassifier(random_state=random_state)

    def slow():
        return _base._draw_seeds(check_random_state(random_state), n_models)

    for _ in range(2):
        fast = _outcome(lambda: estimator._seeds(n_models), layout=False)
        assert fast == _outcome(slow, layout=False)
    if fast[0][0] == "returns" and n_models is not None:
        with pytest.raises(ValueError, match="read-only"):
            estimator._seeds(n_models)[0] = -1


@pytest.mark.parametrize("random_state", EDGE_RANDOM_STATES, ids=repr)
@pytest.mark.parametrize("n_models", [None, 3])
def test_seeds_of_an_edge_random_state_are_check_random_states(random_state, n_models):
    _check_seeds(random_state, n_models)


@budget(SOME)
@given(random_state=RANDOM_STATES, n_models=st.one_of(st.none(), st.integers(1, 5)))
def test_seeds_of_an_int_are_those_check_random_state_draws(random_state, n_models):
    _check_seeds(random_state, n_models)


@budget(SOME)
@given(seed=st.integers(0, _base.MAX_INT - 1))
def test_remembered_seed_sequences_seed_as_default_rng(seed):
    """The generator the epochs draw from, built from a remembered
    ``SeedSequence`` or its remembered state, draws what
    ``np.random.default_rng(seed)`` draws, however often it is used."""
    for _ in range(2):
        expected = np.random.default_rng(seed)
        rng = np.random.Generator(np.random.PCG64(_driver._seed_sequence(seed)))
        assert _describe(rng.permutation(17)) == _describe(expected.permutation(17))
        assert _describe(rng.random(3)) == _describe(expected.random(3))
        state = _driver._seed_state(seed)
        assert _describe(state) == _describe(
            generator_state(np.random.default_rng(seed))
        )
        assert not state.flags.writeable


# ---------------------------------------------------------------------------
# Whole fits, through the fast paths and through the slow ones
# ---------------------------------------------------------------------------


def _targets_then_unique(y):
    """``_check_targets`` without its shortcuts: scikit-learn's checks for
    class labels, the package's for a multilabel indicator."""
    if type_of_target(y, input_name="y") == "multilabel-indicator":
        return _check_targets(y)
    return _targets_by_scikit_learn(y)


_check_targets = _labels._check_targets


@contextlib.contextmanager
def slow_paths():
    """Every fast path replaced by the path it stands in for."""
    patches = [
        mock.patch.object(_validation, "engine_ready", lambda X, y: False),
        mock.patch.object(_labels, "_known_labels", lambda estimator, y: False),
        mock.patch.object(
            _labels,
            "_same_classes",
            lambda fitted, classes: np.array_equal(
                fitted, unique_labels(np.asarray(classes))
            ),
        ),
        mock.patch.object(_labels, "_check_targets", _targets_then_unique),
        mock.patch.object(_labels, "sorted_unique", np.unique),
        mock.patch.object(_validation, "sorted_unique", np.unique),
        mock.patch.object(
            Estimator, "_validate_params", BaseEstimator._validate_params
        ),
        mock.patch.object(
            _base,
            "_seeds_of",
            lambda seed, n: _base._draw_seeds(np.random.RandomState(seed), n),
        ),
        mock.patch.object(_driver, "_seed_sequence", np.random.SeedSequence),
        mock.patch.object(
            _driver,
            "_seed_state",
            lambda seed: generator_state(np.random.default_rng(seed)),
        ),
    ]
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield


LABEL_KINDS = {
    "int": lambda codes: codes,
    "negative int": lambda codes: codes - 3,
    "uint64 beyond int64": lambda codes: codes.astype(np.uint64) + np.uint64(2**63),
    "bool": lambda codes: codes.astype(bool),
    "integral float": lambda codes: codes * 2.0,
    "str": lambda codes: np.array(["b", "a", "c", "d"])[codes],
}
CLASSIFIER_SETTINGS = [
    {},
    {"loss": "log_loss"},
    {"loss": "log_loss", "multi_class": "multinomial"},
    {"loss": "modified_huber", "average": True},
    {"penalty": "elasticnet", "shuffle": "blocks"},
    {"learning_rate": "auto"},
]


def _as_list_or_f_ordered(X, y):
    """``X`` and ``y`` as the fast paths never take them, with the same
    values once converted: lists of float64, an F-ordered float32 ``X``."""
    if X.dtype == np.float64:
        return X.tolist(), y.tolist()
    return np.asfortranarray(X), list(y)


def _model(estimator):
    return {
        name: _describe(getattr(estimator, name))
        for name in ("coef_", "intercept_", "t_", "n_iter_", "classes_")
        if hasattr(estimator, name)
    }


def _fits_alike(make, fit_calls):
    """Fit ``make()`` by ``fit_calls`` (``(method, X, y, kwargs)``) with the
    fast paths and without them, on lists or F-ordered arrays; the same
    models, warnings and errors."""

    def fit(convert):
        estimator = make()
        for method, X, y, kwargs in fit_calls:
            X, y = convert(X, y) if convert else (X, y)
            getattr(estimator, method)(X, y, **kwargs)
        return _model(estimator)

    fast = _outcome(lambda: fit(None))
    with slow_paths():
        slow = _outcome(lambda: fit(_as_list_or_f_ordered))
    assert fast == slow
    assert fast[0][0] == "returns", fast


@st.composite
def classification_data(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_classes = draw(st.integers(2, 4))
    n_samples, n_features = draw(st.integers(n_classes, 40)), draw(st.integers(1, 4))
    dtype = draw(st.sampled_from(ENGINE_DTYPES))
    X = rng.normal(size=(n_samples, n_features)).astype(dtype)
    codes = np.arange(n_samples) % n_classes
    rng.shuffle(codes)
    kind = draw(st.sampled_from(sorted(LABEL_KINDS)))
    if kind == "bool":
        codes %= 2
    return X, LABEL_KINDS[kind](codes)


@budget(FEW)
@given(
    data=classification_data(),
    settings_=st.sampled_from(CLASSIFIER_SETTINGS),
    random_state=st.integers(0, 2**32 - 1),
)
def test_classifier_fit_is_bit_identical_through_the_slow_paths(
    data, settings_, random_state
):
    X, y = data
    _fits_alike(
        lambda: SGDClassifier(random_state=random_state, max_iter=5, **settings_),
        [("fit", X, y, {})],
    )


@budget(FEW)
@given(
    data=classification_data(),
    settings_=st.sampled_from(CLASSIFIER_SETTINGS[:3]),
    random_state=st.integers(0, 2**32 - 1),
    n_batches=st.integers(2, 4),
)
def test_classifier_partial_fit_is_bit_identical_through_the_slow_paths(
    data, settings_, random_state, n_batches
):
    """Batches after the first go through the checks of known labels and
    of ``classes``."""
    X, y = data
    classes = np.unique(y)
    calls = [
        ("partial_fit", X_batch, y_batch, {"classes": classes})
        for X_batch, y_batch in zip(
            np.array_split(X, n_batches), np.array_split(y, n_batches), strict=True
        )
    ]
    _fits_alike(lambda: SGDClassifier(random_state=random_state, **settings_), calls)


@budget(FEW)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_samples=st.integers(2, 40),
    n_features=st.integers(1, 4),
    dtype=st.sampled_from(ENGINE_DTYPES),
    settings_=st.sampled_from(
        [{}, {"loss": "huber", "average": 3}, {"penalty": "l1"}, {"loss": "poisson"}]
    ),
    method=st.sampled_from(["fit", "partial_fit"]),
)
def test_regressor_is_bit_identical_through_the_slow_paths(
    seed, n_samples, n_features, dtype, settings_, method
):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)).astype(dtype)
    y = np.exp(X @ rng.normal(size=n_features) / 4).astype(dtype)
    _fits_alike(
        lambda: SGDRegressor(random_state=seed, max_iter=5, **settings_),
        [(method, X, y, {}), ("partial_fit", X[::-1].copy(), y[::-1].copy(), {})],
    )
