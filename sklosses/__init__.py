"""SGD-trained linear models where the loss is an object you pass in."""

from .linear_model import SGDRegressor

__version__ = "0.1.0.dev0"

__all__ = ["SGDRegressor"]
