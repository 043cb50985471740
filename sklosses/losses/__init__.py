"""Loss objects: what SGD minimizes, with their matching metrics.

Adding a loss means one class here and one entry in the name registry.
"""

from ._base import Loss
from ._classification import (
    HingeLoss,
    LogLoss,
    ModifiedHuberLoss,
    PerceptronLoss,
    SquaredHingeLoss,
)
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
    "HingeLoss",
    "HuberLoss",
    "LogLoss",
    "Loss",
    "ModifiedHuberLoss",
    "PerceptronLoss",
    "QuantileLoss",
    "SquaredEpsilonInsensitiveLoss",
    "SquaredHingeLoss",
    "SquaredLoss",
    "get_loss",
    "loss_names",
]
