"""Linear models trained by stochastic gradient descent."""

from ._regression import SGDRegressor

__all__ = ["SGDRegressor"]
