"""The model's arrays and their life: allocation, averaging, curves, the
state that iterative parameter mixing averages, and ``fit_transaction``,
which puts them back when a call raises."""

import functools

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.utils.validation import check_is_fitted

from ._docs import fill_doc
from ._validation import initial_values

# What averaging adds to a model: the iterates SGD updates (coef_ and
# intercept_ show the averages once they have started), the averages, and
# the step each started at.
AVERAGING_STATE = (
    "_standard_coef", "_standard_intercept", "_average_coef",
    "_average_intercept", "_average_start",
)  # fmt: skip


def fit_transaction(method):
    """Make ``method`` (``fit`` or ``partial_fit``) all or nothing.

    If the call raises, whatever the exception (bad input found half-way
    through an epoch, a user's loss or a callback raising, a
    KeyboardInterrupt), the estimator is put back exactly as it was before
    the call: the same attributes, holding the same objects with the same
    values. Unfitted after a failed first ``fit``; its previous coefficients,
    ``t_``, averages and curves after a failed ``partial_fit`` or warm start.

    The engine updates the coefficients in place, so the arrays the estimator
    holds are copied before the call and written back on failure (into the
    same objects, so that ``coef_`` still aliases the array it aliased);
    the curves only grow, so their lengths are kept. Nothing the size of
    ``X`` is copied. Apply it outside ``_fit_context``, whose callback
    teardown must still find the callback context it set up.
    """

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        attributes = self.__dict__.copy()
        # An array held twice (coef_ is _average_coef once averaging) is
        # saved twice: cheaper at every call than finding out which.
        arrays = [
            (value, value.copy())
            for value in attributes.values()
            if isinstance(value, np.ndarray)
        ]
        lengths = [
            (value, len(value))
            for value in attributes.values()
            if isinstance(value, list)
        ]
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            for array, saved in arrays:
                array[...] = saved
            for values, length in lengths:
                del values[length:]
            self.__dict__.clear()
            self.__dict__.update(attributes)
            raise

    return call


def training_method(method):
    """``fit`` or ``partial_fit`` of an estimator: its docstring filled (see
    ``_docs.py``), scikit-learn's parameter validation and callback context
    around it (``_fit_context``), and inside that, all or nothing
    (:func:`fit_transaction`)."""
    return fit_transaction(
        _fit_context(prefer_skip_nested_validation=True)(fill_doc(method))
    )


class ModelState:
    """The coefficients, their averages and curves of an SGD estimator."""

    def __sklearn_is_fitted__(self):
        """Fitted once there are coefficients: what scikit-learn's check
        finds, without reading every attribute at every ``partial_fit``."""
        return hasattr(self, "coef_")

    def _start_anew(self):
        """Forget the model of an earlier fit, as fit and a first partial_fit do.

        A warm start passes the earlier coefficients in as initial values.
        """
        for name in ("classes_", "coef_", "intercept_", *AVERAGING_STATE):
            self.__dict__.pop(name, None)
        self.t_ = 1.0
        self._reset_curves()

    def _reset_curves(self):
        self.loss_curve_ = []
        if self.early_stopping:
            self.validation_loss_curve_ = []
            self.validation_score_curve_ = []

    def _check_dense_coef(self):
        if sp.issparse(getattr(self, "coef_", None)):
            raise ValueError(
                "coef_ is a sparse matrix, as sparsify() left it: call densify() "
                "before training on from it."
            )

    def _allocate_coef(
        self, coef_shape, n_outputs, dtype, coef_init, intercept_init, schedule
    ):
        """``coef_`` and ``intercept_`` from their initial values (zeros by
        default) when there are none yet, and with averaging, the averages
        and the step each starts from."""
        if getattr(self, "coef_", None) is None:
            self.coef_ = initial_values(coef_init, coef_shape, dtype, "coef_init")
            self.intercept_ = initial_values(
                intercept_init, (n_outputs,), dtype, "intercept_init"
            )
        averaging = getattr(self, "_average_coef", None) is not None
        if schedule.average and not averaging:
            # An average switched on for a trained model starts now: the
            # steps before it were not averaged.
            start = max(schedule.average, int(self.t_))
            self._standard_coef = self.coef_
            self._standard_intercept = self.intercept_
            self._average_coef = np.zeros(coef_shape, dtype=dtype)
            self._average_intercept = np.zeros(n_outputs, dtype=dtype)
            self._average_start = np.full(n_outputs, start, dtype=np.int64)
        elif averaging and not schedule.average:
            # Switched off: training goes on from the coefficients shown, as
            # in scikit-learn, and a later average starts afresh.
            for name in AVERAGING_STATE:
                del self.__dict__[name]

    def _model_arrays(self, rows, dtype, schedule):
        """The arrays the engine updates in place, for the models ``rows``:
        coefficients and intercepts, as (n_models, n_features) and
        (n_models,) views, their averages and the step each average starts
        from."""
        n_models = self.intercept_.shape[0]
        if schedule.average:
            return (
                self._standard_coef.reshape(n_models, -1)[rows],
                self._standard_intercept[rows],
                self._average_coef.reshape(n_models, -1)[rows],
                self._average_intercept[rows],
                self._average_start[rows],
            )
        n_outputs = rows.stop - rows.start
        return (
            self.coef_.reshape(n_models, -1)[rows],
            self.intercept_[rows],
            np.zeros((n_outputs, 0), dtype=dtype),
            np.zeros(n_outputs, dtype=dtype),
            np.zeros(n_outputs, dtype=np.int64),
        )

    def _show_coef(self, average):
        """Make ``coef_`` and ``intercept_`` the averaged arrays, or the
        iterates SGD updates."""
        if average:
            self.coef_, self.intercept_ = self._average_coef, self._average_intercept
        else:
            self.coef_, self.intercept_ = self._standard_coef, self._standard_intercept

    def _end_run(self, results, n_samples, schedule):
        """Record the epochs of a run (one ``SGDResult`` per model), and
        publish the averaged coefficients once the average has started."""
        self.n_iter_ = max(result.n_iter for result in results)
        self.t_ += self.n_iter_ * n_samples
        if len(results) == 1:
            curves = results[0].curves
        else:
            curves = {
                name: _mean_curve([result.curves[name] for result in results])
                for name in ("loss", "validation_loss", "validation_score")
            }
        self._extend_curves(curves)
        if schedule.average:
            self._show_coef(average=schedule.average <= self.t_ - 1.0)

    def _extend_curves(self, curves):
        """Append a run's points to the curves; partial_fit adds one per call."""
        self.loss_curve_.extend(curves["loss"])
        if self.early_stopping:
            self.validation_loss_curve_.extend(curves["validation_loss"])
            self.validation_score_curve_.extend(curves["validation_score"])
            self.best_epoch_ = int(np.argmax(self.validation_score_curve_)) + 1
        else:
            # Only the new points are read: partial_fit adds one per call, and
            # a stream of calls must not read its whole curve at every call.
            start = len(self.loss_curve_) - len(curves["loss"])
            best = self.best_epoch_ - 1 if start else 0
            lowest = _finite_or_inf(self.loss_curve_[best])
            for epoch, value in enumerate(curves["loss"], start):
                if _finite_or_inf(value) < lowest:
                    best, lowest = epoch, _finite_or_inf(value)
            self.best_epoch_ = best + 1

    def get_model_state(self):
        """The arrays SGD updates, by name, as the fitted model holds them.

        With iterative parameter mixing (:mod:`sklosses.dask`), the states of
        models trained on different data are averaged and set into one
        with :meth:`set_model_state`.

        Returns
        -------
        state : dict
            ``"coef"`` and ``"intercept"``, the iterates SGD updates; with
            ``average``, ``"average_coef"`` and ``"average_intercept"`` too;
            and ``"t"``, the number of weight updates plus one (``t_``).
            The arrays are the model's own, not copies.

        Examples
        --------
        >>> import numpy as np
        >>> from sklosses import SGDRegressor
        >>> X, y = np.eye(3), np.arange(3.0)
        >>> sorted(SGDRegressor(average=True).fit(X, y).get_model_state())
        ['average_coef', 'average_intercept', 'coef', 'intercept', 't']
        """
        check_is_fitted(self)
        if getattr(self, "_average_coef", None) is None:
            return {"coef": self.coef_, "intercept": self.intercept_, "t": self.t_}
        return {
            "coef": self._standard_coef,
            "intercept": self._standard_intercept,
            "average_coef": self._average_coef,
            "average_intercept": self._average_intercept,
            "t": self.t_,
        }

    def set_model_state(self, state):
        """Set the arrays of :meth:`get_model_state`, such as an average of
        several models' states.

        ``coef_`` and ``intercept_`` then show the average if they showed
        it before (once the average has started), else the iterates.

        Parameters
        ----------
        state : dict
            The keys of :meth:`get_model_state` for this model, with arrays
            of the same shapes.

        Returns
        -------
        self : object
            The estimator, with the given state.
        """
        current = self.get_model_state()
        if state.keys() != current.keys():
            raise ValueError(
                f"the state of this model has the keys {sorted(current)}; got "
                f"{sorted(state)}."
            )
        showing_average = "average_coef" in state and self.coef_ is self._average_coef
        self.t_ = float(state["t"])
        if "average_coef" not in state:
            self.coef_, self.intercept_ = state["coef"], state["intercept"]
            return self
        self._standard_coef = state["coef"]
        self._standard_intercept = state["intercept"]
        self._average_coef = state["average_coef"]
        self._average_intercept = state["average_intercept"]
        self._show_coef(average=showing_average)
        return self

    def densify(self):
        """Convert a sparse ``coef_`` back to a dense array.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        check_is_fitted(
            self, msg="Estimator, %(name)s, must be fitted before densifying."
        )
        if sp.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self

    def sparsify(self):
        """Store ``coef_`` as a scipy.sparse matrix.

        Worth it when most coefficients are zero (L1 penalty): predictions
        then cost less memory and time.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        check_is_fitted(
            self, msg="Estimator, %(name)s, must be fitted before sparsifying."
        )
        self.coef_ = sp.csr_matrix(self.coef_)
        return self


def _mean_curve(curves):
    """Mean over models of per-epoch values; a model that stopped keeps its last."""
    length = max(len(curve) for curve in curves)
    if length == 0:
        return []
    padded = [curve + curve[-1:] * (length - len(curve)) for curve in curves]
    return list(np.mean(padded, axis=0))


def _finite_or_inf(value):
    """NaN or infinity, the objective of a diverged epoch, is never the best."""
    return value if np.isfinite(value) else np.inf
