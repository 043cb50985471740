"""What SGDClassifier and SGDRegressor share, tested once for each."""

from numbers import Integral

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import breast_cancer, standardized_regression
from numpy.testing import assert_array_equal
from sklearn.linear_model import SGDClassifier as SklearnSGDClassifier
from sklearn.linear_model import SGDRegressor as SklearnSGDRegressor
from sklearn.utils._param_validation import Interval

from sklosses import SGDClassifier, SGDRegressor
from sklosses._engine import _epochs, _sgd


@pytest.fixture(scope="module", params=["classifier", "regressor"])
def problem(request):
    """``(estimator, scikit-learn's, X, y, partial_fit's extra arguments)``."""
    if request.param == "classifier":
        X, y = breast_cancer(standardized=True)
        return SGDClassifier, SklearnSGDClassifier, X, y, {"classes": [0, 1]}
    X, y = standardized_regression()
    return SGDRegressor, SklearnSGDRegressor, X, y, {}


def test_same_parameters_and_defaults_as_scikit_learn(problem):
    estimator, sklearn_estimator, *_ = problem
    ours, theirs = estimator().get_params(), sklearn_estimator().get_params()
    # The parameters added, whose defaults are scikit-learn's algorithm.
    assert ours.pop("n_partitions") == 1
    if estimator is SGDClassifier:
        assert ours.pop("multi_class") == "auto"
    else:
        assert ours.pop("n_jobs") is None  # the threads of the partitions
    assert ours == theirs


def test_wrong_number_of_features_after_fit(problem):
    estimator, _, X, y, fit_params = problem
    model = estimator(random_state=0).fit(X, y)
    match = f"has 3 features, but {estimator.__name__} is expecting {X.shape[1]}"
    with pytest.raises(ValueError, match=match):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match=match):
        model.partial_fit(X[:, :3], y, **fit_params)


def test_zero_total_sample_weight(problem):
    estimator, _, X, y, _ = problem
    with pytest.raises(ValueError, match="Sample weights must contain at least one"):
        estimator().fit(X, y, sample_weight=np.zeros(len(y)))


@pytest.mark.parametrize(
    "model", [SGDRegressor(), SGDClassifier(loss="squared_hinge", alpha=0.1)]
)
def test_overflow_raises_instead_of_returning_non_finite_coefficients(model):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 10))
    X[:, :2] *= 1e300
    y = rng.normal(size=100)
    if isinstance(model, SGDClassifier):
        y = (y > 0).astype(int)
    with pytest.raises(
        ValueError, match=r"overflow occurred at epoch #1.*StandardScaler"
    ):
        model.fit(X, y)


def test_averaging_switched_on_between_partial_fit_calls(problem):
    estimator, _, X, y, fit_params = problem
    model = estimator(random_state=0).partial_fit(X[:200], y[:200], **fit_params)
    model.set_params(average=True).partial_fit(X[200:], y[200:], **fit_params)
    # The average starts with the second call: the coefficients are its mean.
    assert model.t_ - 1 == X.shape[0]
    assert np.isfinite(model.coef_).all()
    assert not np.array_equal(model.coef_, model._standard_coef)


@pytest.mark.parametrize("average", [False, True, 10_000])
def test_model_state_sets_another_model_to_the_same_predictions(problem, average):
    estimator, _, X, y, _ = problem
    a = estimator(average=average, random_state=0).fit(X[:300], y[:300])
    b = estimator(average=average, random_state=1).fit(X[300:], y[300:])
    state = {
        name: value.copy() if isinstance(value, np.ndarray) else value
        for name, value in a.get_model_state().items()
    }
    assert b.set_model_state(state) is b
    assert_array_equal(b.predict(X), a.predict(X))
    assert b.t_ == a.t_
    # The iterates SGD updates stay its own arrays: training goes on from them.
    assert b.get_model_state()["coef"] is state["coef"]
    with pytest.raises(ValueError, match="has the keys"):
        b.set_model_state({"coef": state["coef"]})


def test_seeds_are_those_of_check_random_state(problem):
    # An int's seeds are drawn once per process; a RandomState still advances.
    estimator, *_ = problem
    for random_state in (0, 7, np.int64(7), True):
        expected = np.random.RandomState(int(random_state))
        assert estimator(random_state=random_state)._seeds() == expected.randint(
            2**31 - 1
        )
        seeds = estimator(random_state=random_state)._seeds(3)
        assert_array_equal(
            seeds, np.random.RandomState(int(random_state)).randint(2**31 - 1, size=3)
        )
        assert not seeds.flags.writeable
    rng = np.random.RandomState(0)
    model = estimator(random_state=rng)
    assert model._seeds() != model._seeds()


def test_invalid_parameters_raise_at_every_fit_after_valid_ones(problem):
    # Each class remembers the parameter sets it found valid, not the others.
    estimator, _, X, y, _ = problem
    model = estimator(random_state=0).fit(X, y)
    for _ in range(2):
        with pytest.raises(ValueError, match="The 'alpha' parameter"):
            model.set_params(alpha=-1.0).fit(X, y)
    # True == 1 and hash(True) == hash(1): the type tells them apart.
    for _ in range(2):
        with pytest.raises(ValueError, match="The 'fit_intercept' parameter"):
            model.set_params(alpha=0.0001, fit_intercept=1).fit(X, y)
    model.set_params(fit_intercept=True).fit(X, y)


def test_a_subclass_validates_its_own_parameters(problem):
    estimator, _, X, y, _ = problem

    class Narrower(estimator):
        _parameter_constraints = {
            **estimator._parameter_constraints,
            "max_iter": [Interval(Integral, 1, 49, closed="both")],
        }

    estimator(max_iter=100, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="The 'max_iter' parameter"):
        Narrower(max_iter=100).fit(X, y)


def test_an_array_after_a_dataframe_has_no_feature_names(problem):
    pd = pytest.importorskip("pandas")
    estimator, _, X, y, _ = problem
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    model = estimator(random_state=0).fit(frame, y)
    assert model.n_features_in_ == X.shape[1]
    model.fit(X[:, :3], y)
    assert not hasattr(model, "feature_names_in_")
    assert model.n_features_in_ == 3


def _read_only_copy(array):
    copy = array.copy()
    parts = (copy.data, copy.indices, copy.indptr) if sp.issparse(copy) else (copy,)
    for part in parts:
        part.flags.writeable = False
    return copy


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "CSR"])
def test_read_only_inputs_train_with_the_code_compiled_for_writeable_ones(
    problem, sparse
):
    # A read-only memmap (joblib's workers) or a read-only copy trains the
    # same model, and compiles nothing that a writeable input had not.
    estimator, _, X, y, partial_fit_params = problem
    X = sp.csr_matrix(X) if sparse else X
    fitted = estimator(random_state=0, max_iter=3, tol=None).fit(X, y)
    streamed = estimator(random_state=0).partial_fit(X, y, **partial_fit_params)
    compiled = (len(_epochs.sgd_epochs.signatures), len(_sgd.sgd_epoch.signatures))
    X_read_only, y_read_only = _read_only_copy(X), _read_only_copy(y)
    model = estimator(random_state=0, max_iter=3, tol=None)
    assert_array_equal(model.fit(X_read_only, y_read_only).coef_, fitted.coef_)
    model = estimator(random_state=0)
    model.partial_fit(X_read_only, y_read_only, **partial_fit_params)
    assert_array_equal(model.coef_, streamed.coef_)
    assert (
        len(_epochs.sgd_epochs.signatures),
        len(_sgd.sgd_epoch.signatures),
    ) == compiled
