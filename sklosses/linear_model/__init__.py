"""Linear models trained by stochastic gradient descent."""

from ._classification import SGDClassifier
from ._regression import SGDRegressor

__all__ = ["SGDClassifier", "SGDRegressor"]
