"""What several test modules share: the losses every parametrized test runs
over, targets in a loss's encoding, fits in joblib's workers, the datasets
that several modules train on, and the squared loss written as a user would.

A plain module, imported as ``from _helpers import ...`` (pytest puts this
folder, which holds no ``__init__.py``, on ``sys.path``). ``conftest.py``
keeps the fixtures only: it is pytest's file, loaded by pytest, and a module
named ``conftest`` is whichever one comes first on the path.
"""

from joblib import Parallel, delayed, parallel_backend
from sklearn.base import clone
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    make_classification,
    make_regression,
)
from sklearn.preprocessing import StandardScaler

from sklosses.losses import (
    HingeLoss,
    HuberLoss,
    Loss,
    QuantileLoss,
    SquaredEpsilonInsensitiveLoss,
    SquaredHingeLoss,
    TweedieLoss,
    get_loss,
    loss_names,
)

# Every registered name, plus objects with non-default parameters, so that a
# loss added to the registry is covered by every parametrized test.
ALL_LOSSES = [get_loss(name) for name in loss_names()] + [
    HuberLoss(delta=0.3),
    QuantileLoss(quantile=0.9),
    HingeLoss(threshold=0.5),
    SquaredHingeLoss(threshold=2.0),
    SquaredEpsilonInsensitiveLoss(epsilon=0.0),
    TweedieLoss(power=0),
    TweedieLoss(power=3),
]


def loss_id(loss):
    return repr(loss)


def encoded_targets(loss, n, rng):
    """Targets in the encoding the loss trains on."""
    if loss.target_domain == "nonnegative":
        return rng.poisson(3.0, size=n).astype(float)
    if loss.target_domain == "positive":
        return rng.gamma(2.0, 1.5, size=n)
    if loss.task == "regression":
        return rng.normal(scale=3.0, size=n)
    signs = rng.choice([-1.0, 1.0], size=n)
    if loss.label_encoding == "binary":
        return (signs > 0).astype(float)
    return signs


def fit_in_workers(model, X, y, backend, n_fits=2):
    """Copies of ``model`` fitted in joblib's ``backend`` workers, 2 at once."""
    with parallel_backend(backend, n_jobs=2):
        return Parallel()(delayed(clone(model).fit)(X, y) for _ in range(n_fits))


# -- datasets ---------------------------------------------------------------


def breast_cancer(standardized=False):
    """scikit-learn's breast cancer table: 569 rows, 30 features, 2 classes."""
    X, y = load_breast_cancer(return_X_y=True)
    if standardized:
        X = StandardScaler().fit_transform(X)
    return X, y


def diabetes():
    """scikit-learn's diabetes table: 442 rows, 10 features, a real target."""
    return load_diabetes(return_X_y=True)


def standardized_regression(n_samples=400, n_features=8, noise=5.0, seed=0):
    """``make_regression``'s linear problem, each feature and the target
    centred and scaled to unit variance."""
    X, y = make_regression(
        n_samples=n_samples, n_features=n_features, noise=noise, random_state=seed
    )
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, (y - y.mean()) / y.std()


def synthetic_binary():
    """``make_classification``'s default problem: 200 rows, 20 features."""
    return make_classification(n_samples=200, random_state=0)


def synthetic_three_classes():
    """300 rows of 20 features, 4 of which tell 3 classes apart."""
    return make_classification(
        n_samples=300, n_classes=3, n_informative=4, random_state=0
    )


# -- user losses ------------------------------------------------------------


class UserSquaredLoss(Loss):
    """The built-in SquaredLoss, written as a user would."""

    @staticmethod
    def sample_loss(y, raw, params):
        r = raw - y
        return 0.5 * r * r

    @staticmethod
    def sample_gradient(y, raw, params):
        return raw - y


class ScaledSquaredLoss(Loss):
    """``weight / 2 * (raw - y - shift)^2``: two parameters, in signature order."""

    def __init__(self, weight=1.0, shift=0.0):
        self.weight = weight
        self.shift = shift

    @staticmethod
    def sample_loss(y, raw, params):
        r = raw - y - params[1]
        return 0.5 * params[0] * r * r

    @staticmethod
    def sample_gradient(y, raw, params):
        return params[0] * (raw - y - params[1])
