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

import time
from dataclasses import dataclass, field

import numpy as np

from .._engine._arguments import Model, Plan, Rows, Rule
from .._engine._epochs import observe
from .._engine._sgd import ADAPTIVE
from ._schedules import (
    AUTO_ALWAYS_RESTART,
    split_heavy_rows,
)

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

    def __init__(self, objective_of, weight_of_rows, split, alpha, tol, restarts):
        self.objective_of = objective_of
        self.weight_of_rows = weight_of_rows
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
