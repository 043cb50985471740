"""Loss objects: what SGD minimizes, with their matching metrics.

A user-defined loss is a subclass of :class:`Loss` (see its docstring)
checked with :func:`check_loss`. Adding a built-in loss takes a kernel in
the engine, a class, and its entry in the registry: the checklist is in the
documentation's "Contributing" page.
"""

from ._base import Loss
from ._check import check_loss
from ._classification import (
    HingeLoss,
    LogLoss,
    ModifiedHuberLoss,
    PerceptronLoss,
    SquaredHingeLoss,
)
from ._deviance import GammaLoss, PoissonLoss, TweedieLoss
from ._registry import get_loss, loss_names
from ._regression import (
    AbsoluteLoss,
    EpsilonInsensitiveLoss,
    HuberLoss,
    QuantileLoss,
    SquaredEpsilonInsensitiveLoss,
    SquaredLoss,
)

__all__ = [
    "AbsoluteLoss",
    "EpsilonInsensitiveLoss",
    "GammaLoss",
    "HingeLoss",
    "HuberLoss",
    "LogLoss",
    "Loss",
    "ModifiedHuberLoss",
    "PerceptronLoss",
    "PoissonLoss",
    "QuantileLoss",
    "SquaredEpsilonInsensitiveLoss",
    "SquaredHingeLoss",
    "SquaredLoss",
    "TweedieLoss",
    "check_loss",
    "get_loss",
    "loss_names",
]
