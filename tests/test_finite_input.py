"""NaN and infinity in X are found by the engine, not by a pass up front.

Every fit must still refuse them with scikit-learn's error, wherever they are:
in a row the engine trains on, in a row of zero weight, or in a row held out
for early stopping, which the engine never reads.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import ShuffleSplit

from sklosses import SGDClassifier, SGDRegressor
from sklosses.linear_model._validation import stratified_validation_mask

N_SAMPLES = 200
ESTIMATORS = {
    "hinge": lambda: SGDClassifier(loss="hinge"),
    "log_loss": lambda: SGDClassifier(loss="log_loss", average=True),
    "l1": lambda: SGDClassifier(penalty="l1"),
    "pa1": lambda: SGDClassifier(learning_rate="pa1", eta0=1.0),
    "auto": lambda: SGDClassifier(loss="hinge", learning_rate="auto"),
    "squared": lambda: SGDRegressor(),
    "huber auto": lambda: SGDRegressor(loss="huber", learning_rate="auto"),
}


def _data(n_classes=2):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_SAMPLES, 4))
    y = np.arange(N_SAMPLES) % n_classes
    return X, y


def _with(X, row, value, sparse):
    X = X.copy()
    X[row, 2] = value
    return sp.csr_matrix(X) if sparse else X


def _message(value):
    return "Input X contains NaN" if np.isnan(value) else "Input X contains infinity"


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("row", [0, N_SAMPLES // 2, N_SAMPLES - 1])
@pytest.mark.parametrize("name", ESTIMATORS)
def test_fit_refuses_non_finite_x(name, row, value, sparse):
    X, y = _data()
    with pytest.raises(ValueError, match=_message(value)):
        ESTIMATORS[name]().fit(_with(X, row, value, sparse), y)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(
    "estimator, n_classes",
    [
        (SGDClassifier(loss="log_loss"), 3),  # multinomial
        (SGDClassifier(loss="hinge", n_jobs=2), 4),  # one-vs-rest, threads
    ],
)
def test_multiclass_fits_refuse_non_finite_x(estimator, n_classes, sparse):
    X, y = _data(n_classes)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        estimator.fit(_with(X, 7, np.nan, sparse), y)
    Y = np.eye(n_classes, dtype=int)[y]
    Y[::3, 0] = 1  # multilabel
    with pytest.raises(ValueError, match="Input X contains infinity"):
        estimator.fit(_with(X, 7, np.inf, sparse), Y)


@pytest.mark.parametrize("sparse", [False, True])
def test_partial_fit_refuses_non_finite_x(sparse):
    X, y = _data()
    model = SGDClassifier().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.partial_fit(_with(X, 3, np.nan, sparse), y)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        SGDRegressor().partial_fit(_with(X, 3, np.inf, sparse), y)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("estimator", [SGDClassifier(), SGDRegressor()])
def test_a_row_of_zero_weight_is_checked_too(estimator, sparse):
    X, y = _data()
    sample_weight = np.ones(N_SAMPLES)
    sample_weight[5] = 0.0
    with pytest.raises(ValueError, match="Input X contains NaN"):
        estimator.fit(_with(X, 5, np.nan, sparse), y, sample_weight=sample_weight)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("Estimator", [SGDClassifier, SGDRegressor])
def test_validation_rows_are_checked(Estimator, sparse):
    # The engine never reads the rows held out for early stopping; they are
    # drawn as the estimator draws them.
    X, y = _data()
    if Estimator is SGDClassifier:
        row = np.flatnonzero(stratified_validation_mask(y, 0.1, 0))[0]
    else:
        row = next(ShuffleSplit(test_size=0.1, random_state=0).split(X))[1][0]
    model = Estimator(early_stopping=True, validation_fraction=0.1, random_state=0)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        model.fit(_with(X, row, np.inf, sparse), y)


def test_a_diverging_fit_on_finite_x_still_says_so():
    # Non-finite dot products from diverging weights, not from the input.
    X, y = _data()
    with pytest.raises(ValueError, match="Floating-point under-/overflow occurred"):
        SGDRegressor(learning_rate="constant", eta0=1e10, penalty=None).fit(
            X * 1e150, y
        )
