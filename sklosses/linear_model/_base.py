"""What SGDClassifier and SGDRegressor share: parameters, the model's arrays,
and the epoch driver. Step sizes live in ``_schedules.py``, data checks and
the held-out rows in ``_validation.py``."""

import functools
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from .._engine import _sgd
from .._engine._arguments import Model, Plan, Rows, Rule
from .._engine._epochs import start_progress
from .._engine._kernels import engine_loss
from .._engine._local_sgd import Partitions
from .._engine._norms import squared_row_norms
from .._engine._order import shuffling
from .._engine._random import generator_state
from .._estimator import Estimator
from ..losses import EpsilonInsensitiveLoss, HingeLoss, get_loss, loss_names
from ..losses._check import check_loss_once
from ._driver import (
    AutoObserver,
    CallbackObserver,
    Run,
    SGDResult,
    ValidationObserver,
    VerboseObserver,
    auto_split,
    drive,
    visit_alpha,
)
from ._schedules import (
    AUTO_MAX_VISITS,
    AUTO_OBJECTIVE_ROWS,
    LEARNING_RATES,
    Schedule,
    auto_schedule,
    optimal_step_offset,
    split_heavy_rows,
    training_objective,
)
from ._validation import (
    check_finite,
    initial_values,
    row_values,
    stratified_validation_mask,
    validation_scorer,
)

PENALTIES = {
    None: _sgd.NO_PENALTY,
    "l1": _sgd.L1,
    "l2": _sgd.L2,
    "elasticnet": _sgd.ELASTICNET,
}
# scikit-learn damps the intercept's steps on sparse input, where it sees a
# gradient at every sample while most coefficients see few.
SPARSE_INTERCEPT_DECAY = 0.01
MAX_INT = np.iinfo(np.int32).max
# What averaging adds to a model: the iterates SGD updates (coef_ and
# intercept_ show the averages once they have started), the averages, and
# the step each started at.
AVERAGING_STATE = (
    "_standard_coef", "_standard_intercept", "_average_coef",
    "_average_intercept", "_average_start",
)  # fmt: skip
# In the machine's byte order: a dtype equals another only in the same order.
_ENGINE_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


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


class BaseSGD(Estimator):
    """Parameters, validation and the epoch driver shared by the estimators."""

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean", StrOptions({"blocks", "permutation"})],
        "verbose": ["verbose"],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "learning_rate": [StrOptions(set(LEARNING_RATES) | {"auto"})],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
        "n_partitions": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    # -- parameters -----------------------------------------------------------

    def _keep_params(self, arguments):
        """Keep each argument of ``__init__`` as the attribute of its name.

        What scikit-learn asks of a constructor and nothing more: every
        parameter stored unchanged, no logic; checks happen in ``fit``.
        ``arguments`` is the constructor's ``locals()``.
        """
        for name in self._get_param_names():
            setattr(self, name, arguments[name])

    def _get_loss(self):
        """The validated loss object."""
        loss = get_loss(self.loss, epsilon=self.epsilon)
        if loss._is_user_defined():
            # Built-in losses are checked by the test suite; a user's loss
            # that breaks the contract is refused rather than trained.
            check_loss_once(loss)
        refusal = self._refusal(loss)
        if refusal is not None:
            raise ValueError(
                f"{type(self).__name__} {refusal} Losses it trains: "
                f"{loss_names(self._task)}."
            )
        return loss

    def _refusal(self, loss):
        """Why this estimator cannot train ``loss``, or ``None``."""
        return None

    def _more_validate_params(self, loss, for_partial_fit=False):
        if self.early_stopping and for_partial_fit:
            raise ValueError("early_stopping should be False with partial_fit")
        if self.learning_rate == "optimal" and self.alpha == 0:
            raise ValueError(
                "alpha must be > 0 since learning_rate is 'optimal'. alpha is used "
                "to compute the optimal learning rate."
            )
        if self.learning_rate in ("pa1", "pa2"):
            required = HingeLoss if is_classifier(self) else EpsilonInsensitiveLoss
            if type(loss) is not required:
                name = "hinge" if is_classifier(self) else "epsilon_insensitive"
                raise ValueError(
                    f"Learning rate '{self.learning_rate}' only works with loss "
                    f"'{name}'."
                )
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
        if self.power_t < 0:
            warnings.warn(
                "Negative values for `power_t` are deprecated in version 1.8 "
                "and will raise an error in 1.10. "
                "Use values in the range [0.0, inf) instead.",
                FutureWarning,
                stacklevel=2,
            )

    def _make_schedule(
        self, X, sample_weight, loss, first_call, y=None, row_norms=None
    ):
        """The :class:`Schedule`, step sizes and averaging, the engine runs with.

        ``learning_rate="auto"`` derives them from the data on the first call
        (fit, or the first partial_fit) and keeps them, as a plain tuple (the
        fitted state holds only builtin types). ``y``: the regression
        targets, whose size the steps of non-smooth losses follow (a
        classifier's targets are -1/+1 or 0/1). ``row_norms``: see
        :meth:`_row_norms`.
        """
        if self.learning_rate != "auto":
            return Schedule(
                LEARNING_RATES[self.learning_rate],
                float(self.eta0),
                float(self.power_t),
                int(self.average),
            )
        if first_call or getattr(self, "_auto_schedule", None) is None:
            self._auto_schedule = tuple(
                auto_schedule(X, y, sample_weight, loss, self.fit_intercept, row_norms)
            )
        schedule = Schedule(*self._auto_schedule)
        if self.average:
            schedule = schedule._replace(average=int(self.average))
        return schedule

    def _row_norms(self, X):
        """With ``learning_rate="auto"``, each row's squared norm plus one for
        the intercept, as a feature of 1; ``None`` otherwise.

        Rows holding NaN or infinity get scikit-learn's error here; finite
        rows whose squared norm overflows X's precision get an error saying
        to scale the input.
        """
        if self.learning_rate != "auto":
            return None
        if sp.issparse(X):
            data, indices, indptr = X.data, X.indices, X.indptr
        else:
            data, indices, indptr = X.reshape(-1), None, None
        norms = squared_row_norms(data, indices, indptr, X.shape[0], X.shape[1])
        norms += float(self.fit_intercept)
        overflows = ~(norms <= np.finfo(X.dtype).max)  # NaN included
        if overflows.any():
            rows = np.flatnonzero(overflows)
            check_finite(X, self, rows=rows)  # raises for NaN or infinity
            largest = np.abs(row_values(X[rows[:AUTO_OBJECTIVE_ROWS]])).max()
            raise ValueError(
                "learning_rate='auto' cannot derive a step size: the squared "
                f"norm of {rows.shape[0]} rows overflows {X.dtype} (the largest "
                f"|x| among them is {largest:.3g}). Scale the input, with "
                "StandardScaler or MaxAbsScaler for instance."
            )
        return norms

    def _begin_fit(self, coef_init, intercept_init):
        """Check the parameters and forget any earlier model, as ``fit``
        does. Returns the loss and what ``fit`` starts from: the given
        values, else, with ``warm_start``, the fitted ones (``None``: zeros)."""
        loss = self._get_loss()
        self._more_validate_params(loss)
        if self.warm_start and getattr(self, "coef_", None) is not None:
            self._check_dense_coef()
            if coef_init is None:
                coef_init = self.coef_
            if intercept_init is None:
                intercept_init = self.intercept_
        self._start_anew()
        return loss, coef_init, intercept_init

    def _begin_partial_fit(self):
        """The loss, the parameters checked at every ``partial_fit``.

        scikit-learn's ``_fit_context`` validates them at a first
        ``partial_fit`` only; a value set between calls (``average=-1``)
        would otherwise train silently.
        """
        if hasattr(self, "coef_"):
            self._validate_params()
        loss = self._get_loss()
        self._check_dense_coef()
        if getattr(self, "coef_", None) is None:
            self._more_validate_params(loss, for_partial_fit=True)
            self._start_anew()
        return loss

    def _check_dense_coef(self):
        if sp.issparse(getattr(self, "coef_", None)):
            raise ValueError(
                "coef_ is a sparse matrix, as sparsify() left it: call densify() "
                "before training on from it."
            )

    # -- the model's arrays ---------------------------------------------------

    def _validate_training_data(self, X, y, first_call, **target_options):
        """``X`` and ``y`` as the engine reads them: C-ordered float64 or
        float32 rows, or CSR. Values are checked for NaN and infinity later,
        during the first epoch (see :func:`check_finite`).

        Arrays that scikit-learn's conversions would return as they are
        (:func:`_engine_ready`) skip them, which cost more than a small
        batch's epoch; their columns are checked, by scikit-learn, unless a
        later call's are those the model was fitted on: as many, unnamed.
        A first call records what ``validate_data`` would of an ndarray, whose
        columns have no names: their number, and no ``feature_names_in_``
        (asking whether an object is a dataframe takes longer than the rest
        of a small fit).
        """
        if _engine_ready(X, y):
            if first_call:
                self.n_features_in_ = X.shape[1]
                self.__dict__.pop("feature_names_in_", None)
                return X, y
            if X.shape[1] == self.n_features_in_ and not hasattr(
                self, "feature_names_in_"
            ):
                return X, y
            return validate_data(self, X, y, skip_check_array=True, reset=False)
        return validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
            order="C", accept_large_sparse=False, reset=first_call,
            ensure_all_finite=False, **target_options,
        )  # fmt: skip

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

    def _show_coef(self, average):
        """Make ``coef_`` and ``intercept_`` the averaged arrays, or the
        iterates SGD updates."""
        if average:
            self.coef_, self.intercept_ = self._average_coef, self._average_intercept
        else:
            self.coef_, self.intercept_ = self._standard_coef, self._standard_intercept

    def _decision_function(self, X):
        """``X @ coef_.T + intercept_``; raveled for a single output."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        scores = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        return scores.ravel() if scores.ndim == 1 or scores.shape[1] == 1 else scores

    # -- state ----------------------------------------------------------------

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

    # -- data -----------------------------------------------------------------

    def _make_validation_split(self, X, y, sample_weight):
        """Boolean mask of the samples held out for early stopping; ``None``
        without early stopping.

        The engine never reads them, so their values are checked here for
        NaN and infinity (see :func:`check_finite`).
        """
        if not self.early_stopping:
            return None
        n_samples = y.shape[0]
        # Stratify classes; multilabel targets are split at random.
        if is_classifier(self) and y.ndim == 1:
            validation_mask = stratified_validation_mask(
                y, self.validation_fraction, self.random_state
            )
        else:
            cv = ShuffleSplit(
                test_size=self.validation_fraction, random_state=self.random_state
            )
            _, idx_val = next(cv.split(np.empty((n_samples, 0)), y))
            validation_mask = np.zeros(n_samples, dtype=bool)
            validation_mask[idx_val] = True
        # Both splits are partitions: the rest is the train set.
        n_val = np.count_nonzero(validation_mask)
        if n_val == 0 or n_val == n_samples:
            raise ValueError(
                f"Splitting {n_samples} samples into a train set and a validation "
                f"set with validation_fraction={self.validation_fraction!r} led to "
                f"an empty set ({n_samples - n_val} and {n_val} "
                "samples). Please either change validation_fraction, increase "
                "number of samples, or disable early_stopping."
            )
        if not np.any(sample_weight[validation_mask] > 0):
            raise ValueError(
                "The sample weights for validation set are all zero, consider "
                "using a different random state."
            )
        check_finite(X, self, rows=np.flatnonzero(validation_mask))
        return validation_mask

    def _seeds(self, n_models=None):
        """The engine's seed (``n_models=None``), or one per model, from
        ``random_state``.

        An int ``random_state`` draws the same seeds every time: they are
        drawn once per process, since building a ``RandomState`` costs more
        than the epoch of a small ``partial_fit``.
        """
        if isinstance(self.random_state, Integral):
            return _seeds_of(int(self.random_state), n_models)
        return _draw_seeds(check_random_state(self.random_state), n_models)

    def _early_stopping_scorer(self, loss, X, y, sample_weight, mask, score):
        """With ``early_stopping``, the ``validation_callback`` of the engine:
        the loss and ``score`` of coefficients on the held-out rows
        ``mask``; ``None`` otherwise."""
        if not self.early_stopping:
            return None
        rows = np.flatnonzero(mask)
        return validation_scorer(loss, X, rows, y[mask], sample_weight[mask], score)

    # -- the epochs -----------------------------------------------------------

    def _run_sgd(
        self,
        X,
        y,
        sample_weight,
        coef,
        intercept,
        average_coef,
        average_intercept,
        average_start,
        *,
        loss,
        schedule,
        max_iter,
        validation_mask,
        validation_callback,
        seed,
        multinomial=False,
        hooks=None,
        row_norms=None,
        split_norms_at=None,
        threads=None,
    ):
        """Run up to ``max_iter`` epochs of SGD on one model, updated in place.

        ``coef`` has shape (n_outputs, n_features) and ``intercept``
        (n_outputs,): one output for a binary or regression model, one per
        class for the multinomial log loss. The averages have the same
        shapes, or no columns when not averaging; ``average_start`` (one
        element) the step the average starts from, updated in place when it
        restarts. ``schedule`` is the :class:`Schedule` to run.
        ``validation_callback(coef, intercept)``, when given, returns the
        validation loss and score of those coefficients; early stopping then
        watches the score, otherwise the training objective is watched.
        ``hooks`` (an ``EpochHooks``) calls scikit-learn's callbacks around
        each epoch; one may ask to stop.

        With ``learning_rate="auto"`` (a schedule with a ``split_norm``), the
        rows heavier than it are split into several visits, from
        ``row_norms``, and the epochs watch the averaged model (see
        ``AutoObserver``). ``split_norms_at(coef, intercept)``, for a log
        link, gives the norms to split the rows by at the current weights,
        weighed by the loss's curvature there: from the second epoch on they
        replace ``row_norms``, so that rows whose mean the model has moved
        far from their target still take small, unbiased steps. ``threads``
        run the ``n_partitions`` of local SGD (see ``_engine/_local_sgd.py``);
        ``None``: as many as ``n_jobs`` allows, and no more than the CPUs.
        """
        n_samples = X.shape[0]
        # Booleans pass scikit-learn's integer constraints (max_iter=True
        # runs one epoch there): the engine takes plain integers.
        max_iter = int(max_iter)
        kernels, kind, loss_params = engine_loss(loss)
        learning_rate, eta0, power_t, average, split_norm = schedule
        if average:
            average = int(average_start[0])
        alpha = float(self.alpha)
        if validation_mask is None:
            train = np.arange(n_samples)
        else:
            train = np.flatnonzero(~validation_mask)
        rows = _engine_rows(X, y, sample_weight)
        penalty = PENALTIES[self.penalty]
        l1_q = np.zeros(coef.shape if penalty in (_sgd.L1, _sgd.ELASTICNET) else (1, 0))
        model = Model(coef, intercept, average_coef, average_intercept, l1_q)
        rule = Rule(
            kind, loss_params, multinomial, penalty, alpha,
            0.0 if self.l1_ratio is None else float(self.l1_ratio),
            learning_rate, eta0, power_t,
            optimal_step_offset(loss, loss_params, alpha)
            if learning_rate == _sgd.OPTIMAL else 0.0,
            bool(self.fit_intercept),
            SPARSE_INTERCEPT_DECAY if sp.issparse(X) else 1.0,
        )  # fmt: skip
        data_bytes = rows.data.nbytes
        if rows.indices is not None:
            data_bytes += rows.indices.nbytes
        plan = Plan(
            train, train[:0], shuffling(self.shuffle, data_bytes),
            -np.inf if self.tol is None else self.tol,
            int(self.n_iter_no_change), True,
        )  # fmt: skip
        rng = np.random.Generator(np.random.PCG64(_seed_sequence(int(seed))))
        observers = []
        if split_norm > 0:
            objective_of = training_objective(
                loss, X, y, sample_weight, train, rng, multinomial,
                self.penalty, alpha, rule.l1_ratio,
            )  # fmt: skip
            if split_norms_at is not None and self.t_ > 1:
                # Weights trained before (partial_fit, warm start): split by
                # their curvature from the first epoch on.
                row_norms = split_norms_at(coef, intercept)
            weights, repeats, n_cut = split_heavy_rows(
                sample_weight, row_norms, train, split_norm
            )
            if n_cut:
                self._warn_cut_rows(n_cut, split_norm)
            rows = rows._replace(sample_weight=_read_only(weights))
            plan = plan._replace(repeats=repeats)
            split = None
            if split_norms_at is not None:
                split = auto_split(sample_weight, split_norms_at, train, split_norm)
            auto = AutoObserver(
                objective_of, sample_weight, split, alpha, plan.tol,
                restarts=not self.average,
            )  # fmt: skip
            observers.append(auto)
        if validation_callback is not None:
            observers.append(ValidationObserver(validation_callback, plan.tol))
        if self.verbose:
            observers.append(VerboseObserver())
        if hooks is not None:
            observers.append(CallbackObserver(hooks))
        rule = rule._replace(alpha=visit_alpha(alpha, plan))

        sgd_epochs = kernels.sgd_epochs
        if self.n_partitions > 1:
            if threads is None:
                threads = effective_n_jobs(getattr(self, "n_jobs", None))
            partitions = Partitions(kernels.sgd_epoch, self.n_partitions, threads)
            sgd_epochs = partitions.sgd_epochs
        state = generator_state(rng)
        run = Run(
            rows, model, rule, plan,
            start_progress(self.t_, 0.0, eta0, average), np.empty(max_iter),
        )  # fmt: skip

        def check_epoch(epoch, n_clipped, n_nonfinite, finite, warned):
            return self._check_epoch(X, epoch, n_clipped, n_nonfinite, finite, warned)

        try:
            epoch = drive(sgd_epochs, state, run, max_iter, observers, check_epoch)
        finally:
            if average:
                average_start[0] = run.progress.average
        curves = {
            "loss": run.objectives[:epoch].tolist(),
            "validation_loss": run.validation_loss,
            "validation_score": run.validation_score,
        }
        remaining = auto.remaining if split_norm > 0 else None
        return SGDResult(epoch, curves, remaining)

    def _check_epoch(self, X, epoch, n_clipped, n_nonfinite, finite, warned):
        """What the engine found in epoch ``epoch``: raise for a NaN or
        infinity in ``X``, or for a model or objective no longer ``finite``;
        warn of clipped gradients unless the run ``warned`` already. Returns
        whether the run has warned."""
        if n_nonfinite:
            check_finite(X, self)  # NaN or infinity in X, or divergence
        if not finite:
            self._raise_overflow(epoch)
        if n_clipped and not warned:
            self._warn_diverging(epoch, n_clipped)
            return True
        return warned

    def _raise_overflow(self, epoch):
        raise ValueError(
            f"Floating-point under-/overflow occurred at epoch #{epoch}. "
            "Scaling input data with StandardScaler or MinMaxScaler might "
            f"help. The model is no longer finite.{self._smaller_steps()}"
        )

    def _warn_diverging(self, epoch, n_clipped):
        # scikit-learn clips such gradients silently; the coefficients stay
        # finite but mean little, so say so without failing the fit.
        warnings.warn(
            f"SGD is diverging at epoch #{epoch}: the loss gradient exceeded "
            f"{_sgd.MAX_DLOSS:.0e} for {n_clipped} samples and was clipped. The "
            "steps are too large for this data; scaling the input (and, for "
            "a regression, the target) with StandardScaler or MinMaxScaler "
            f"might help.{self._smaller_steps()}",
            ConvergenceWarning,
            stacklevel=4,
        )

    @staticmethod
    def _warn_cut_rows(n_cut, split_norm):
        warnings.warn(
            f"{n_cut} rows have a weighted squared norm over {AUTO_MAX_VISITS} "
            f"times {split_norm:.3g}, the 90th percentile of the rows': "
            "learning_rate='auto' trains them with smaller steps, as if their "
            "weight were smaller. Rows this far out are often data errors; "
            "clipping them, or scaling with RobustScaler or "
            "QuantileTransformer, would let them count in full.",
            UserWarning,
            stacklevel=4,
        )

    def _smaller_steps(self):
        """What makes this schedule's steps smaller, as advice to append."""
        if self.learning_rate == "auto":
            return ""  # the steps follow the data's scale
        if self.learning_rate == "optimal":
            return " A larger alpha might help too."
        return " A smaller eta0 might help too."

    def _warn_if_not_converged(self, results):
        """Warn when a fit's result may be poor: the training objective ended
        far above its best, or was still falling when ``max_iter`` stopped it.

        ``results``: the :class:`SGDResult` of each model of the fit.
        """
        auto = self.learning_rate == "auto"
        # The averaged model's objective, watched by "auto", moves smoothly;
        # the objective of the iterates, which the other schedules watch,
        # wanders more.
        far = 0.1 if auto else 1.0
        for result in results:
            curve = result.curves["loss"]
            best = int(np.argmin(curve))
            excess = curve[-1] - curve[best]
            if excess > far * abs(curve[best]) and excess > 1e-12:
                above = f"{excess / abs(curve[best]):.0%} " if curve[best] else ""
                warnings.warn(
                    f"The training objective ended at {curve[-1]:.4g}, {above}"
                    f"above its best, {curve[best]:.4g} at epoch {best + 1}: "
                    "the steps were too large for this data. Scaling the input "
                    "with StandardScaler or MinMaxScaler might help."
                    f"{self._smaller_steps()}",
                    ConvergenceWarning,
                    stacklevel=3,
                )
                return
        if self.tol is None or self.n_iter_ < self.max_iter:
            return
        if not auto:
            warnings.warn(
                "Maximum number of iteration reached before convergence. "
                "Consider increasing max_iter to improve the fit.",
                ConvergenceWarning,
                stacklevel=3,
            )
            return
        falling = [r for r in results if r.remaining > self.tol]
        if falling:
            worst = max(falling, key=lambda r: r.remaining)
            models = "" if len(results) == 1 else f" (of {len(falling)} models)"
            warnings.warn(
                "Maximum number of iteration reached before convergence: the "
                f"training objective{models} was still falling at epoch "
                f"{worst.n_iter}, by {worst.remaining / worst.n_iter:.2g} of its "
                "value in the last epoch, an estimated "
                f"{worst.remaining:.2g} of its value above its minimum "
                f"(tol={self.tol}). Consider increasing max_iter to improve the "
                "fit; where the classes are nearly separable, or categories "
                "rare, a larger alpha also makes the objective quicker to "
                "minimize.",
                ConvergenceWarning,
                stacklevel=3,
            )

    # -- sparse coefficients --------------------------------------------------

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


@functools.lru_cache(maxsize=256)
def _seeds_of(random_state, n_models):
    seeds = _draw_seeds(np.random.RandomState(random_state), n_models)
    if n_models is not None:
        seeds.setflags(write=False)  # shared by every call with this seed
    return seeds


@functools.lru_cache(maxsize=256)
def _seed_sequence(seed):
    """``np.random.default_rng(seed)`` is ``Generator(PCG64(SeedSequence(seed)))``;
    the SeedSequence, the costly part, is the same for every call with a seed.
    """
    return np.random.SeedSequence(seed)


@functools.lru_cache(maxsize=256)
def _seed_state(seed):
    """The state of ``np.random.default_rng(seed)`` as compiled code draws
    from it (see ``_engine/_random.py``); read-only: copy it to draw."""
    state = generator_state(np.random.Generator(np.random.PCG64(_seed_sequence(seed))))
    state.setflags(write=False)
    return state


def _draw_seeds(rng, n_models):
    return (
        rng.randint(MAX_INT)
        if n_models is None
        else rng.randint(MAX_INT, size=n_models)
    )


def _mean_curve(curves):
    """Mean over models of per-epoch values; a model that stopped keeps its last."""
    length = max(len(curve) for curve in curves)
    if length == 0:
        return []
    padded = [curve + curve[-1:] * (length - len(curve)) for curve in curves]
    return list(np.mean(padded, axis=0))


def _read_only(array):
    """A read-only view of ``array`` (None stays None).

    numba compiles a function apart for read-only and writeable arrays, and
    the engine only reads its inputs: read-only memory (a memmap of joblib's
    workers, a read-only copy) would compile the SGD loop once more, for
    seconds, were the inputs not always passed read-only.
    """
    if array is None or not array.flags.writeable:
        return array
    view = array.view()
    view.flags.writeable = False
    return view


def _engine_rows(X, y, sample_weight):
    """The :class:`Rows` of ``X`` (C-ordered or CSR), read only."""
    if sp.issparse(X):
        data, indices, indptr = X.data, X.indices, X.indptr
    else:
        data, indices, indptr = X.reshape(-1), None, None
    return Rows(
        *(_read_only(a) for a in (data, indices, indptr)), X.shape[1],
        _read_only(y), _read_only(sample_weight),
    )  # fmt: skip


def _finite_or_inf(value):
    """NaN or infinity, the objective of a diverged epoch, is never the best."""
    return value if np.isfinite(value) else np.inf


def _engine_ready(X, y):
    """Whether scikit-learn's ``check_X_y``, as the estimators call it, would
    return ``X`` and ``y`` unchanged and say nothing: a 2-D C-ordered ndarray
    of float64 or float32 with a row and a column at least, and a contiguous
    1-D numeric ``y`` of as many rows, finite. Anything else goes through it,
    and gets its errors and warnings."""
    return (
        type(X) is np.ndarray
        and type(y) is np.ndarray
        and X.ndim == 2
        and y.ndim == 1
        and X.dtype in _ENGINE_DTYPES
        and X.flags.c_contiguous
        and y.flags.c_contiguous
        and 0 < X.shape[0] == y.shape[0]
        and X.shape[1] > 0
        and y.dtype.kind in "biuf"
        and (y.dtype.kind != "f" or bool(np.isfinite(y).all()))
    )
