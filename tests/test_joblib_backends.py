"""The same model, bit for bit, under every joblib backend and any n_jobs.

One-vs-rest and multilabel models train one binary model per output, in
parallel with ``n_jobs``. Those run in threads whatever backend is active:
a process-based backend (loky, multiprocessing; dask in test_dask.py) would
train copies in other processes and hand back the untrained model.
"""

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import ScaledSquaredLoss
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV

from sklosses import SGDClassifier, SGDRegressor


def _one_vs_rest():
    return make_classification(
        n_samples=400, n_features=10, n_informative=6, n_classes=4, random_state=0
    )


def _multilabel():
    X, y = _one_vs_rest()
    return X, np.column_stack([y == 0, y == 1, X[:, 0] > 0]).astype(int)


TARGETS = {"one-vs-rest": _one_vs_rest, "multilabel": _multilabel}
BACKENDS = ["threading", "loky", "multiprocessing"]


def _fit(X, y, **params):
    return SGDClassifier(max_iter=20, tol=None, random_state=0, **params).fit(X, y)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n_jobs", [1, 2, -1])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("target", TARGETS)
def test_every_backend_trains_the_same_model(target, backend, n_jobs, sparse):
    X, y = TARGETS[target]()
    X = sp.csr_matrix(X) if sparse else X
    reference = _fit(X, y)
    with joblib.parallel_backend(backend):
        model = _fit(X, y, n_jobs=n_jobs)
    assert model.score(X, y) > 0.4  # trained, not left at zero (chance: 0.25)
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    np.testing.assert_array_equal(model.intercept_, reference.intercept_)
    assert model.loss_curve_ == reference.loss_curve_


@pytest.mark.parametrize("backend", BACKENDS)
def test_averaged_models_and_partial_fit_under_every_backend(backend):
    X, y = _one_vs_rest()
    params = dict(loss="modified_huber", learning_rate="auto", average=True)
    reference = SGDClassifier(random_state=0, **params)
    for batch in np.array_split(np.arange(400), 4):
        reference.partial_fit(X[batch], y[batch], classes=np.unique(y))
    model = SGDClassifier(random_state=0, n_jobs=2, **params)
    with joblib.parallel_backend(backend):
        for batch in np.array_split(np.arange(400), 4):
            model.partial_fit(X[batch], y[batch], classes=np.unique(y))
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    np.testing.assert_array_equal(model.predict_proba(X), reference.predict_proba(X))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_search_over_a_user_loss_under_every_backend(backend):
    # The workers load the loop compiled for a user's loss from the disk cache.
    X, y = make_regression(n_samples=300, n_features=5, noise=1.0, random_state=0)
    search = GridSearchCV(
        SGDRegressor(loss=ScaledSquaredLoss(), max_iter=5, tol=None, random_state=0),
        {"loss__weight": [0.5, 1.0, 2.0]},
        cv=3,
    )
    reference = clone(search).fit(X, y).cv_results_["mean_test_score"]
    with joblib.parallel_backend(backend):
        scores = search.set_params(n_jobs=2).fit(X, y).cv_results_["mean_test_score"]
    np.testing.assert_array_equal(scores, reference)
