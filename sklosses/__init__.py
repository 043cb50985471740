"""SGD-trained linear models where the loss is an object you pass in."""

from .linear_model import SGDClassifier, SGDRegressor

__version__ = "0.1.0.dev0"

__all__ = ["SGDClassifier", "SGDRegressor"]
