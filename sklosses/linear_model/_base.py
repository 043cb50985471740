"""What the SGD estimators share: their parameters, and the fit template
each fills with its model plan.

A fit or ``partial_fit`` is one sequence: check the parameters and the
input, encode the targets, weigh the samples, size the steps, allocate the
model, hold out the validation rows, then train each model of the plan (one
for a binary or regression model or the softmax, one per class or label for
one-vs-rest and multilabel targets) by the driver (``_driver.py``), and
record the result. An estimator says what differs: its targets, the shape
of its coefficients and its models (``_check_targets``, ``_coef_shape``,
``_model_tasks``, and a few hooks with defaults). The model's arrays live in
``_state.py``, the warnings in ``_diagnostics.py``, step sizes in
``_schedules.py``, data checks and the held-out rows in ``_validation.py``.
"""

import functools
import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.model_selection import ShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from .._engine._norms import squared_row_norms
from .._estimator import Estimator
from ..losses import EpsilonInsensitiveLoss, get_loss, loss_names
from ..losses._check import check_loss_once
from ._callbacks import EpochHooks, begin_fit, end_fit, epoch_hooks
from ._diagnostics import Diagnostics
from ._driver import run_sgd
from ._schedules import (
    AUTO_OBJECTIVE_ROWS,
    LEARNING_RATES,
    Schedule,
    auto_schedule,
)
from ._state import ModelState
from ._validation import (
    check_finite,
    row_values,
    sample_weight_of,
    stratified_validation_mask,
    validate_training_data,
    validation_scorer,
)

MAX_INT = np.iinfo(np.int32).max


class ModelTask(NamedTuple):
    """One model of a fit's plan: the rows ``outputs`` of ``coef_`` it
    trains; ``data()``, its training targets and weights and its validation
    targets, made when it trains (each per-sample array is 8 bytes a row);
    the ``score`` early stopping watches, ``score(y, raw, sample_weight)``;
    the seed of its visiting orders; and whether it is the softmax."""

    outputs: slice
    data: object
    score: object
    seed: int
    multinomial: bool = False


class BaseSGD(ModelState, Diagnostics, Estimator):
    """Parameters and the fit template of the SGD estimators."""

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
            name, required = self._passive_aggressive_loss
            if type(loss) is not required:
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

    # -- the fit template -----------------------------------------------------

    # The options of ``validate_data`` for the estimator's targets.
    _target_validation: dict = {}
    # The loss "pa1" and "pa2" train, by name and class.
    _passive_aggressive_loss = ("epsilon_insensitive", EpsilonInsensitiveLoss)
    # Whether early stopping holds out each class's share of 1-D targets.
    _stratified_validation = False

    def _fit(self, X, y, coef_init, intercept_init, sample_weight, **targets):
        """``fit``: up to ``max_iter`` epochs, from the initial values given,
        or with ``warm_start`` the fitted ones. ``targets``: what
        :meth:`_check_targets` takes besides ``y``."""
        loss, coef_init, intercept_init = self._begin_fit(coef_init, intercept_init)
        results = self._train(
            X, y, sample_weight, loss, self.max_iter, coef_init, intercept_init,
            **targets,
        )  # fmt: skip
        self._warn_if_not_converged(results)
        return self

    def _partial_fit(self, X, y, sample_weight, **targets):
        """``partial_fit``: one epoch, from the fitted model if there is one."""
        loss = self._begin_partial_fit()
        self._train(X, y, sample_weight, loss, 1, None, None, **targets)
        return self

    def _train(
        self, X, y, sample_weight, loss, max_iter, coef_init, intercept_init, **targets
    ):
        """Train the estimator's models for up to ``max_iter`` epochs; returns
        the ``SGDResult`` of each."""
        first_call = getattr(self, "coef_", None) is None
        X, y = validate_training_data(self, X, y, first_call, **self._target_validation)
        y = self._check_targets(X, y, loss, first_call, **targets)
        sample_weight = sample_weight_of(
            sample_weight, X, allow_all_zero_weights=self._weights_checked_later()
        )
        if first_call and intercept_init is None and self.fit_intercept:
            intercept_init = self._initial_intercept(loss, y, sample_weight)
        row_norms, split_norms_at = self._row_norms(X), None
        if row_norms is not None:
            row_norms, split_norms_at = self._split_norms(
                loss, X, y, sample_weight, row_norms
            )
        schedule = self._make_schedule(
            X, *self._step_targets(y, sample_weight), loss, first_call, row_norms
        )
        coef_shape = self._coef_shape(X.shape[1])
        n_outputs = int(np.prod(coef_shape)) // X.shape[1]
        self._allocate_coef(
            coef_shape, n_outputs, X.dtype, coef_init, intercept_init, schedule
        )
        self.loss_ = loss
        validation_mask = self._make_validation_split(X, y, sample_weight)
        tasks = self._model_tasks(X, y, sample_weight, loss)
        # Callbacks see one task per epoch, under one task per model when
        # there are several.
        one_model = len(tasks) == 1
        context = begin_fit(
            self, X, y, sample_weight,
            max_subtasks=max_iter if one_model else len(tasks), sequential=one_model,
        )  # fmt: skip
        results = self._run_tasks(
            tasks, X, y, sample_weight, loss, schedule, max_iter, validation_mask,
            context, row_norms, split_norms_at,
        )  # fmt: skip
        self._end_run(results, X.shape[0], schedule)
        end_fit(context, self, X, y, sample_weight)
        return results

    def _check_targets(self, X, y, loss, first_call, **targets):
        """``y`` checked and encoded for the models; sets what the targets
        decide (the classes)."""
        raise NotImplementedError

    def _weights_checked_later(self):
        """Whether sample weights all zero are refused later, by a check
        that says more, than by ``sample_weight_of``."""
        return False

    def _initial_intercept(self, loss, y, sample_weight):
        """The intercept a first fit starts from when none is given."""
        return None

    def _split_norms(self, loss, X, y, sample_weight, row_norms):
        """With ``learning_rate="auto"``, the squared row norms the heavy rows
        are split by, and ``split_norms_at(coef, intercept)``, the norms at
        given weights (``None``: the same at any)."""
        return row_norms, None

    def _step_targets(self, y, sample_weight):
        """What ``learning_rate="auto"`` sizes the steps for: the targets
        (``None`` where they are -1/+1 or 0/1) and the largest weights a
        sample gets."""
        return y, sample_weight

    def _coef_shape(self, n_features):
        """The shape of ``coef_``."""
        raise NotImplementedError

    def _model_tasks(self, X, y, sample_weight, loss):
        """The :class:`ModelTask` of each model to train."""
        raise NotImplementedError

    def _run_tasks(
        self, tasks, X, y, sample_weight, loss, schedule, max_iter, validation_mask,
        context, row_norms, split_norms_at,
    ):  # fmt: skip
        """Train each model of ``tasks``; with several, side by side on
        ``n_jobs`` threads. Returns one ``SGDResult`` per model."""
        # Each model trains its own copy of its rows of the coefficients,
        # written back once all have finished: neighbouring rows share a
        # cache line where they meet, as all the intercepts do, and written at
        # every step by two threads, that line would bounce between the cores.
        copy_rows = len(tasks) > 1
        # n_jobs runs the models side by side, or else one model's partitions.
        parallel = copy_rows and effective_n_jobs(self.n_jobs) > 1

        def fit_one(k, task):
            y_k, weight_k, y_validation = task.data()
            callback = self._early_stopping_scorer(
                loss, X, y_validation, sample_weight, validation_mask, task.score
            )
            hooks = model_context = None
            if context is not None and not copy_rows:
                hooks = epoch_hooks(context, self, X, y, sample_weight)
            elif context is not None:
                model_context = context.subcontext(
                    task_name="binary model", task_id=k, max_subtasks=max_iter
                )
                model_context.call_on_fit_task_begin(estimator=self, X=X, y=y_k)
                hooks = EpochHooks(model_context, self, X, y_k, weight_k)
            arrays = self._model_arrays(task.outputs, X.dtype, schedule)
            if copy_rows:
                arrays = [array.copy() for array in arrays]
            result = run_sgd(
                self, X, y_k, weight_k, arrays,
                loss=loss, schedule=schedule, max_iter=max_iter,
                validation_mask=validation_mask, validation_callback=callback,
                seed=task.seed, multinomial=task.multinomial, hooks=hooks,
                row_norms=row_norms, split_norms_at=split_norms_at,
                threads=1 if parallel else None,
            )  # fmt: skip
            if model_context is not None:
                model_context.call_on_fit_task_end(estimator=self, X=X, y=y_k)
            return result, arrays

        if not copy_rows:
            return [fit_one(0, tasks[0])[0]]
        if not parallel:
            # joblib's setup costs more than a small batch's epochs.
            trained = [fit_one(k, task) for k, task in enumerate(tasks)]
        else:
            # Shared memory, as scikit-learn asks: under a process-based
            # backend (loky, multiprocessing, dask) joblib then runs threads,
            # rather than shipping X to every worker.
            trained = Parallel(n_jobs=self.n_jobs, require="sharedmem")(
                delayed(fit_one)(k, task) for k, task in enumerate(tasks)
            )
        for task, (_, arrays) in zip(tasks, trained, strict=True):
            for array, copy in zip(
                self._model_arrays(task.outputs, X.dtype, schedule), arrays, strict=True
            ):
                array[...] = copy
        return [result for result, _ in trained]

    # -- steps, validation rows and seeds -------------------------------------

    def _make_schedule(self, X, y, sample_weight, loss, first_call, row_norms):
        """The :class:`Schedule`, step sizes and averaging, the engine runs with.

        ``learning_rate="auto"`` derives them from the data on the first call
        (fit, or the first partial_fit) and keeps them, as a plain tuple (the
        fitted state holds only builtin types). ``y``: the regression
        targets, whose size the steps of non-smooth losses follow (``None``
        for a classifier's, -1/+1 or 0/1). ``row_norms``: see
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
        if self._stratified_validation and y.ndim == 1:
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

    def _decision_function(self, X):
        """``X @ coef_.T + intercept_``; raveled for a single output."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        scores = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        return scores.ravel() if scores.ndim == 1 or scores.shape[1] == 1 else scores


@functools.lru_cache(maxsize=256)
def _seeds_of(random_state, n_models):
    seeds = _draw_seeds(np.random.RandomState(random_state), n_models)
    if n_models is not None:
        seeds.setflags(write=False)  # shared by every call with this seed
    return seeds


def _draw_seeds(rng, n_models):
    return (
        rng.randint(MAX_INT)
        if n_models is None
        else rng.randint(MAX_INT, size=n_models)
    )
