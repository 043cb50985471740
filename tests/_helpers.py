"""What several test modules share: the losses every parametrized test runs
over, targets in a loss's encoding, and fits in joblib's workers.

A plain module, imported as ``from _helpers import ...`` (pytest puts this
folder, which holds no ``__init__.py``, on ``sys.path``). ``conftest.py``
keeps the fixtures only: it is pytest's file, loaded by pytest, and a module
named ``conftest`` is whichever one comes first on the path.
"""

from joblib import Parallel, delayed, parallel_backend
from sklearn.base import clone

from sklosses.losses import (
    HingeLoss,
    HuberLoss,
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
