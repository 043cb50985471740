"""Fitted models saved and loaded: pickle, and skops trusting only our classes.

skops refuses to load any type not trusted explicitly, so the fitted state
must hold only builtin and NumPy types besides the estimator and the loss:
scikit-learn's own SGD models need no trusted type at all.
"""

import pickle

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from sklosses import SGDClassifier, SGDRegressor
from sklosses.losses import HuberLoss

X_CLS, Y_CLS = make_classification(
    n_samples=300, n_features=5, n_informative=3, n_classes=3, random_state=0
)
X_REG, Y_REG = make_regression(n_samples=300, n_features=5, random_state=0)
MODELS = {
    "binary": (SGDClassifier(random_state=0), X_CLS, Y_CLS > 0),
    "one-vs-rest": (SGDClassifier(average=True, random_state=0), X_CLS, Y_CLS),
    "softmax auto": (
        SGDClassifier(loss="log_loss", learning_rate="auto", random_state=0),
        X_CLS,
        Y_CLS,
    ),
    "multilabel": (
        SGDClassifier(loss="log_loss", random_state=0),
        X_CLS,
        np.column_stack([Y_CLS == 0, Y_CLS == 1]).astype(int),
    ),
    "regressor auto": (
        SGDRegressor(loss=HuberLoss(delta=2.0), learning_rate="auto", random_state=0),
        X_REG,
        Y_REG,
    ),
    "regressor early stopping": (
        SGDRegressor(early_stopping=True, average=10, random_state=0),
        X_REG,
        Y_REG,
    ),
}


def _predictions(model, X):
    if hasattr(model, "decision_function"):
        return model.decision_function(X)
    return model.predict(X)


@pytest.mark.parametrize("name", MODELS)
def test_skops_loads_a_model_trusting_only_the_estimator_and_loss(name):
    sio = pytest.importorskip("skops.io")
    estimator, X, y = MODELS[name]
    model = estimator.fit(X, y)
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    expected = {
        f"{type(model).__module__}.{type(model).__qualname__}",
        f"{type(model.loss_).__module__}.{type(model.loss_).__qualname__}",
    }
    assert set(untrusted) <= expected
    loaded = sio.loads(data, trusted=untrusted)
    np.testing.assert_array_equal(_predictions(loaded, X), _predictions(model, X))
    # And it trains on from where it was, as the original does.
    if hasattr(model, "classes_") and y.ndim == 1:
        loaded.partial_fit(X, y)
        model.partial_fit(X, y)
        np.testing.assert_array_equal(loaded.coef_, model.coef_)


@pytest.mark.parametrize("name", MODELS)
def test_pickle_round_trip_predicts_the_same(name):
    estimator, X, y = MODELS[name]
    model = estimator.fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(_predictions(loaded, X), _predictions(model, X))
