"""The driver of a run of epochs, and the observers that watch them.

The epochs themselves run in compiled code (``_engine/_epochs.py``): the
order, the epoch, its objective, the finiteness checks and the stopping
rule. What needs Python between two epochs is an observer: early stopping's
validation score, scikit-learn's callbacks, printing, and
``learning_rate="auto"``'s watch of the averaged model and its restarts.
Without observers the driver asks the engine for many epochs at a time; with
any, for one at a time, and calls each observer before and after it. A new
per-epoch feature is one more observer: there is no second loop to keep
equal to the first.
"""

import functools
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs

from .._engine import _sgd
from .._engine._arguments import Model, Plan, Rows, Rule
from .._engine._epochs import observe, start_progress
from .._engine._kernels import engine_loss
from .._engine._local_sgd import Partitions
from .._engine._order import shuffling
from .._engine._random import generator_state
from .._engine._sgd import ADAPTIVE
from ._schedules import (
    AUTO_ALWAYS_RESTART,
    optimal_step_offset,
    split_heavy_rows,
    training_objective,
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

# The visits of one call of the compiled epochs, about 10 to 100 ms: back in
# Python this often, an interrupt (Ctrl-C) stops a long fit within a
# fraction of a second.
COMPILED_CALL_VISITS = 2**20


class SGDResult:
    """What one run of epochs produced, besides the coefficients.

    ``remaining``: with ``learning_rate="auto"``, the estimated distance of
    the training objective from its minimum after the last epoch, relative
    to the objective; ``None`` otherwise.
    """

    def __init__(self, n_iter, curves, remaining=None):
        self.n_iter = n_iter
        self.curves = curves
        self.remaining = remaining


@dataclass
class Run:
    """A run of epochs as the observers see it, and may change it between
    epochs: the engine's arguments, the objectives and validation curves so
    far, and after an epoch what the stopping rule is to watch when the
    engine does not watch its objective (``watched``, and whether the epoch
    ``stalled``), and whether a callback asked to stop (``interrupted``)."""

    rows: Rows
    model: Model
    rule: Rule
    plan: Plan
    progress: object
    objectives: np.ndarray
    validation_loss: list = field(default_factory=list)
    validation_score: list = field(default_factory=list)
    watched: float = np.inf
    stalled: bool = False
    interrupted: bool = False

    def effective(self):
        """The coefficients the model shows after the epoch: the averages
        once they have started, else the iterates."""
        model, progress = self.model, self.progress
        if 0 < progress.average <= progress.t - 1:
            return model.avg_coef, model.avg_intercept
        return model.coef, model.intercept


class Observer:
    """Something to do in Python around each epoch; does nothing by default.

    ``watches``: whether it gives the stopping rule what to watch, in
    ``Run.watched`` and ``Run.stalled``, instead of the epoch's objective.
    """

    watches = False

    def begin_epoch(self, run, epoch):
        """Before epoch ``epoch`` (from 1) of the run."""

    def end_epoch(self, run, epoch):
        """After epoch ``epoch``; ``run.objectives[epoch - 1]`` is its
        objective, which an observer may replace."""

    def converged(self, run, epoch):
        """The stopping rule stopped the run after epoch ``epoch``."""


def visit_alpha(alpha, plan):
    """The penalty of one visit: each takes a step of it, so rows visited
    more than once an epoch spread it over their extra visits."""
    n_train = plan.train.shape[0]
    return alpha * n_train / max(n_train + plan.repeats.shape[0], 1)


class AutoObserver(Observer):
    """``learning_rate="auto"``: the run watches the training objective of
    the model it returns, the average, on a fixed sample of training rows,
    and stops once it is estimated within ``tol`` (relative) of its minimum.

    Rows heavier than the schedule's ``split_norm`` are visited several
    times an epoch (:func:`split_heavy_rows`); with ``split_norms_at``, a log
    link's, the norms they are split by are those at the current weights
    from the second epoch on. An average of every epoch lags behind
    iterates that still move, as on tables a model nearly separates: unless
    the user asked for an average, after epochs 2, 4, 8, 16, ... it
    restarts, and spans the last half of the epochs run or less: always from
    epoch 16 on, and before only if the iterate does better than the
    average. Where SGD hovers around its minimum the average does better,
    and a restart would only make it noisier and the fit longer.
    """

    watches = True

    def __init__(self, objective_of, split, alpha, tol, restarts):
        self.objective_of = objective_of
        self.split = split
        self.alpha = alpha
        self.tol = tol
        self.restarts = restarts
        self.restart = False
        self.previous = None
        self.remaining = None

    def begin_epoch(self, run, epoch):
        if self.previous is None:
            self.previous = self.objective_of(run.model.coef, run.model.intercept)
        if self.restart:
            run.model.avg_coef[...] = 0.0
            run.progress = run.progress._replace(average=int(run.progress.t))
            self.restart = False
        if self.split is not None and epoch > 1:
            weights, repeats = self.split(run.model)
            run.rows = run.rows._replace(sample_weight=weights)
            run.plan = run.plan._replace(repeats=repeats)
            run.rule = run.rule._replace(alpha=visit_alpha(self.alpha, run.plan))

    def end_epoch(self, run, epoch):
        objective = self.objective_of(*run.effective())
        # Averaged SGD nears its minimum as 1/t: the distance left is about
        # the last epoch's decrease times the epochs run.
        remaining = max(self.previous - objective, 0.0) * epoch
        self.remaining = remaining / max(abs(objective), np.finfo(float).tiny)
        self.previous = objective
        if self.restarts and epoch > 1 and epoch & (epoch - 1) == 0:
            self.restart = epoch >= AUTO_ALWAYS_RESTART or (
                self.objective_of(run.model.coef, run.model.intercept) < objective
            )
        run.objectives[epoch - 1] = objective
        run.watched = objective
        run.stalled = self.remaining <= self.tol


def auto_split(weight_of_rows, norms_at, train, split_norm):
    """``split(model)``: the weights and repeats that split the rows by the
    norms ``norms_at(coef, intercept)`` gives at the model's weights."""

    def split(model):
        weights, repeats, _ = split_heavy_rows(
            weight_of_rows, norms_at(model.coef, model.intercept), train, split_norm
        )
        return weights, repeats

    return split


class ValidationObserver(Observer):
    """Early stopping: the loss and score of the coefficients on the
    held-out rows after each epoch, from ``scorer(coef, intercept)``; the
    stopping rule watches the score."""

    watches = True

    def __init__(self, scorer, tol):
        self.scorer = scorer
        self.tol = tol

    def end_epoch(self, run, epoch):
        loss, score = self.scorer(*run.effective())
        run.validation_loss.append(loss)
        run.validation_score.append(score)
        # Watch a quantity where smaller is better.
        run.watched = -score
        run.stalled = run.watched > run.progress.best - self.tol


class VerboseObserver(Observer):
    """``verbose``: scikit-learn's lines after each epoch and at the end."""

    def __init__(self):
        self.start_time = time.perf_counter()

    def end_epoch(self, run, epoch):
        coef, intercept = run.effective()
        line = (
            f"-- Epoch {epoch}\nNorm: {np.linalg.norm(coef):.2f}, NNZs: "
            f"{np.count_nonzero(coef)}, "
            f"Bias: {np.array2string(intercept, precision=6)}, "
            f"T: {int(run.progress.t - 1)}, "
            f"Avg. loss: {run.objectives[epoch - 1]:.6f}"
        )
        if run.validation_loss:
            line += f", Validation loss: {run.validation_loss[-1]:.6f}"
        print(line)
        elapsed = time.perf_counter() - self.start_time
        print(f"Total training time: {elapsed:.2f} seconds.")

    def converged(self, run, epoch):
        elapsed = time.perf_counter() - self.start_time
        print(f"Convergence after {epoch} epochs took {elapsed:.2f} seconds")


class CallbackObserver(Observer):
    """scikit-learn's callbacks around each epoch (an ``EpochHooks``); one
    may ask to stop."""

    def __init__(self, hooks):
        self.hooks = hooks

    def begin_epoch(self, run, epoch):
        self.hooks.begin_epoch()

    def end_epoch(self, run, epoch):
        run.interrupted = bool(self.hooks.end_epoch(*run.effective()))


def drive(sgd_epochs, state, run, max_iter, observers, check_epoch):
    """Run up to ``max_iter`` epochs of ``run`` with the engine's
    ``sgd_epochs`` (or local SGD's), the generator state ``state`` and the
    ``observers``; ``check_epoch(epoch, n_clipped, n_nonfinite, finite,
    warned)`` raises for what the engine found, or warns and returns whether
    the run has warned. Returns the epochs run."""
    plan = run.plan
    adaptive = run.rule.learning_rate == ADAPTIVE
    per_call = 1
    if not observers:
        per_call = max(1, COMPILED_CALL_VISITS // max(plan.train.shape[0], 1))
    watcher = any(observer.watches for observer in observers)
    run.plan = plan._replace(watch_objective=not watcher)
    epoch = 0
    warned = False
    while epoch < max_iter:
        for observer in observers:
            observer.begin_epoch(run, epoch + 1)
        epochs, stop, n_clipped, n_nonfinite, finite, run.progress = sgd_epochs(
            state, run.rows, run.model, run.rule, run.plan, run.progress,
            run.objectives[epoch:], min(per_call, max_iter - epoch), warned,
        )  # fmt: skip
        epoch += epochs
        warned = check_epoch(epoch, n_clipped, n_nonfinite, finite, warned)
        for observer in observers:
            observer.end_epoch(run, epoch)
        if run.interrupted:
            break
        if watcher:
            stop, run.progress = observe(
                run.progress, run.stalled, run.watched, plan.n_iter_no_change,
                adaptive,
            )  # fmt: skip
        if stop:
            for observer in observers:
                observer.converged(run, epoch)
            break
    return epoch


def run_sgd(
    estimator, X, y, sample_weight, arrays, *, loss, schedule, max_iter,
    validation_mask, validation_callback, seed, multinomial=False, hooks=None,
    row_norms=None, split_norms_at=None, threads=None,
):  # fmt: skip
    """Run up to ``max_iter`` epochs of SGD on one model of ``estimator``,
    whose ``arrays`` (coefficients, intercepts, their averages and the
    average's start, see ``ModelState._model_arrays``) are updated in place.

    ``schedule`` is the :class:`Schedule` to run. ``validation_callback(coef,
    intercept)``, when given, returns the validation loss and score of those
    coefficients; early stopping then watches the score, otherwise the
    training objective is watched. ``hooks`` (an ``EpochHooks``) calls
    scikit-learn's callbacks around each epoch; one may ask to stop. With
    ``learning_rate="auto"`` (a schedule with a ``split_norm``), the epochs
    watch the averaged model (see :class:`AutoObserver`); ``row_norms`` and
    ``split_norms_at`` split the heavy rows (see :func:`_auto_observer`).
    ``threads`` run the ``n_partitions`` of local SGD (see
    ``_engine/_local_sgd.py``); ``None``: as many as ``n_jobs`` allows, and
    no more than the CPUs. Returns the :class:`SGDResult`.
    """
    kernels, run = _start_run(
        estimator, X, y, sample_weight, arrays, loss, schedule, validation_mask,
        multinomial, int(max_iter),
    )  # fmt: skip
    observers = []
    if schedule.split_norm > 0:
        rng = np.random.Generator(np.random.PCG64(_seed_sequence(int(seed))))
        auto = _auto_observer(
            estimator, run, loss, X, y, sample_weight, rng, row_norms,
            split_norms_at, schedule.split_norm,
        )  # fmt: skip
        observers.append(auto)
        state = generator_state(rng)
    else:
        auto = None
        state = _seed_state(int(seed)).copy()
    if validation_callback is not None:
        observers.append(ValidationObserver(validation_callback, run.plan.tol))
    if estimator.verbose:
        observers.append(VerboseObserver())
    if hooks is not None:
        observers.append(CallbackObserver(hooks))

    sgd_epochs = kernels.sgd_epochs
    if estimator.n_partitions > 1:
        if threads is None:
            threads = effective_n_jobs(getattr(estimator, "n_jobs", None))
        partitions = Partitions(kernels.sgd_epoch, estimator.n_partitions, threads)
        sgd_epochs = partitions.sgd_epochs

    def check_epoch(epoch, n_clipped, n_nonfinite, finite, warned):
        return estimator._check_epoch(X, epoch, n_clipped, n_nonfinite, finite, warned)

    average_start = arrays[4]
    try:
        # Booleans pass scikit-learn's integer constraints (max_iter=True
        # runs one epoch there): the engine takes plain integers.
        epoch = drive(sgd_epochs, state, run, int(max_iter), observers, check_epoch)
    finally:
        if run.progress.average:
            average_start[0] = run.progress.average
    curves = {
        "loss": run.objectives[:epoch].tolist(),
        "validation_loss": run.validation_loss,
        "validation_score": run.validation_score,
    }
    return SGDResult(epoch, curves, None if auto is None else auto.remaining)


def _start_run(
    estimator, X, y, sample_weight, arrays, loss, schedule, validation_mask,
    multinomial, max_iter,
):  # fmt: skip
    """The engine's functions for ``loss``, and the :class:`Run` of the
    estimator's parameters on its rows and model arrays."""
    kernels, kind, loss_params = engine_loss(loss)
    coef, intercept, average_coef, average_intercept, average_start = arrays
    alpha = float(estimator.alpha)
    if validation_mask is None:
        train = np.arange(X.shape[0])
    else:
        train = np.flatnonzero(~validation_mask)
    rows = _engine_rows(X, y, sample_weight)
    penalty = PENALTIES[estimator.penalty]
    l1_q = np.zeros(coef.shape if penalty in (_sgd.L1, _sgd.ELASTICNET) else (1, 0))
    learning_rate = schedule.learning_rate
    optimal_init = 0.0
    if learning_rate == _sgd.OPTIMAL:
        optimal_init = optimal_step_offset(loss, loss_params, alpha)
    rule = Rule(
        kind, loss_params, multinomial, penalty, alpha,
        0.0 if estimator.l1_ratio is None else float(estimator.l1_ratio),
        learning_rate, schedule.eta0, schedule.power_t, optimal_init,
        bool(estimator.fit_intercept),
        SPARSE_INTERCEPT_DECAY if sp.issparse(X) else 1.0,
    )  # fmt: skip
    data_bytes = rows.data.nbytes
    if rows.indices is not None:
        data_bytes += rows.indices.nbytes
    plan = Plan(
        train, train[:0], shuffling(estimator.shuffle, data_bytes),
        -np.inf if estimator.tol is None else estimator.tol,
        int(estimator.n_iter_no_change), True,
    )  # fmt: skip
    average = int(average_start[0]) if schedule.average else 0
    run = Run(
        rows, Model(coef, intercept, average_coef, average_intercept, l1_q),
        rule._replace(alpha=visit_alpha(alpha, plan)), plan,
        start_progress(estimator.t_, 0.0, schedule.eta0, average),
        np.empty(max_iter),
    )  # fmt: skip
    return kernels, run


def _auto_observer(
    estimator, run, loss, X, y, sample_weight, rng, row_norms, split_norms_at,
    split_norm,
):  # fmt: skip
    """The :class:`AutoObserver` of a run, whose heavy rows it splits.

    The rows heavier than ``split_norm`` are split into several visits
    (:func:`split_heavy_rows`, from ``row_norms``). ``split_norms_at(coef,
    intercept)``, for a log link, gives the norms to split the rows by at
    the current weights, weighed by the loss's curvature there: from the
    second epoch on they replace ``row_norms``, so that rows whose mean the
    model has moved far from their target still take small, unbiased steps.
    The sample of rows the objective is watched on is drawn from ``rng``.
    """
    train, alpha = run.plan.train, float(estimator.alpha)
    objective_of = training_objective(
        loss, X, y, sample_weight, train, rng, run.rule.multinomial,
        estimator.penalty, alpha, run.rule.l1_ratio,
    )  # fmt: skip
    if split_norms_at is not None and estimator.t_ > 1:
        # Weights trained before (partial_fit, warm start): split by their
        # curvature from the first epoch on.
        row_norms = split_norms_at(run.model.coef, run.model.intercept)
    weights, repeats, n_cut = split_heavy_rows(
        sample_weight, row_norms, train, split_norm
    )
    if n_cut:
        estimator._warn_cut_rows(n_cut, split_norm)
    run.rows = run.rows._replace(sample_weight=_read_only(weights))
    run.plan = run.plan._replace(repeats=repeats)
    run.rule = run.rule._replace(alpha=visit_alpha(alpha, run.plan))
    split = None
    if split_norms_at is not None:
        split = auto_split(sample_weight, split_norms_at, train, split_norm)
    return AutoObserver(
        objective_of, split, alpha, run.plan.tol, restarts=not estimator.average
    )


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
