"""The base of the package's estimators and losses."""

from sklearn.base import BaseEstimator


class Estimator(BaseEstimator):
    """scikit-learn's ``BaseEstimator``, reading each class's parameter names once.

    ``get_params`` reads them from ``__init__``'s signature at every call,
    and a ``partial_fit`` validates its loss's parameters at every call:
    ``inspect.signature`` takes longer than the epoch of a small batch. A
    class's signature does not change, so its names are kept in the class.
    """

    @classmethod
    def _get_param_names(cls):
        names = cls.__dict__.get("_param_names")
        if names is None:
            names = tuple(super()._get_param_names())
            cls._param_names = names
        return names
