"""The base of the package's estimators and losses."""

from sklearn.base import BaseEstimator

# Parameter values whose validation is remembered: immutable, and equal
# (with their type) exactly when scikit-learn's constraints judge them alike.
_REMEMBERED_TYPES = (str, int, float, bool, type(None))
_MAX_REMEMBERED = 1024


class Estimator(BaseEstimator):
    """scikit-learn's ``BaseEstimator``, doing its per-call work once where
    the answer cannot change.

    ``get_params`` reads the parameter names from ``__init__``'s signature at
    every call, and a ``partial_fit`` validates its loss's parameters at
    every call: ``inspect.signature`` takes longer than the epoch of a small
    batch. A class's signature does not change, so its names are kept in the
    class.

    Validating the parameters took longer than a whole fit on a few hundred
    rows. Its outcome depends only on the class's constraints and the
    values, so each class remembers the sets of values it found valid, when
    they are all strings, numbers, booleans or None; any other value (an
    object, a dict, a NumPy scalar) is validated at every call.
    """

    _valid_params: set = set()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._valid_params = set()

    def _validate_params(self):
        params = self.get_params(deep=False)
        key = tuple((name, type(value), value) for name, value in params.items())
        if not all(type(value) in _REMEMBERED_TYPES for _, _, value in key):
            key = None
        if key is not None and key in self._valid_params:
            return
        super()._validate_params()
        if key is not None:
            if len(self._valid_params) >= _MAX_REMEMBERED:
                self._valid_params.clear()
            self._valid_params.add(key)

    @classmethod
    def _get_param_names(cls):
        names = cls.__dict__.get("_param_names")
        if names is None:
            names = tuple(super()._get_param_names())
            cls._param_names = names
        return names
