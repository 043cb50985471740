"""The epoch loop: the one place a run of epochs is written.

On a small table an epoch is a few microseconds of arithmetic, and driving
it from Python (its visiting order, the engine's call, the stopping test)
cost several times more: a fit on 200 rows spent most of its time between
epochs, and cross-validation and grid searches run thousands of such fits.
:func:`sgd_epochs` runs epochs in compiled code: it draws each epoch's order
from the estimator's random generator, runs the epoch, computes its
objective, checks that it is finite and applies the stopping rule. It
returns to Python when the run stops, when something needs Python (a value
that is not finite, an error to report, or the first clipped gradient, a
warning), or after the epochs it was asked for: the estimator asks for one
at a time when it watches each epoch (early stopping, callbacks, printing,
``learning_rate="auto"``), many otherwise.

Local SGD (``_local_sgd.py``) is another implementation of the epoch, run by
the same functions around it: :func:`draw_order` and :func:`finish_epoch`.
"""

import math

import numpy as np

from ._arguments import Progress
from ._cache import cached_njit
from ._order import visiting_order
from ._random import bounded_integer
from ._sgd import ADAPTIVE, sgd_epoch

# The adaptive schedule divides its step by this when the fit stalls, down
# to its smallest step (scikit-learn's rule).
ADAPTIVE_DIVISOR = 5.0
ADAPTIVE_SMALLEST_ETA = 1e-6


def start_progress(t, l1_u, eta, average):
    """The :class:`Progress` of a run's first epoch: at step ``t``, with the
    cumulative L1 penalty ``l1_u``, the step ``eta`` and the average counted
    from step ``average``; nothing watched yet."""
    return Progress(float(t), float(l1_u), float(eta), int(average), math.inf, 0)


@cached_njit(nogil=True)
def epoch_objective(sumloss, sumpenalty, alpha, n_rows):
    """scikit-learn's objective of an epoch over ``n_rows`` rows: the mean of
    each visit's loss plus the penalty of the weights it saw (the sums
    ``sgd_epoch`` returns, the penalty per unit of ``alpha``)."""
    return (sumloss + alpha * sumpenalty) / max(n_rows, 1)


@cached_njit(nogil=True)
def stop_rule(stalled, watched, best, no_improvement, eta, n_iter_no_change, adaptive):
    """The stopping rule after an epoch, as scikit-learn's.

    ``stalled``: whether the epoch failed to improve on the ``best``
    ``watched`` quantity (smaller is better) by the tolerance. After
    ``n_iter_no_change`` such epochs in a row, the fit stops; the adaptive
    schedule first divides its step ``eta`` by 5, as long as it is above
    1e-6, and starts counting again.

    Returns
    -------
    stop : bool
    best : float
    no_improvement : int
    eta : float
    """
    no_improvement = no_improvement + 1 if stalled else 0
    best = min(best, watched)
    if no_improvement >= n_iter_no_change:
        if adaptive and eta > ADAPTIVE_SMALLEST_ETA:
            return False, best, 0, eta / ADAPTIVE_DIVISOR
        return True, best, no_improvement, eta
    return False, best, no_improvement, eta


@cached_njit(nogil=True)
def with_repeats(state, order, repeats):
    """``order`` with the rows ``repeats`` inserted at random places, drawn
    from the generator state ``state``: ``np.insert(order, places,
    repeats)``, where ``places`` is ``rng.integers(0, len(order) + 1,
    len(repeats))`` of the generator (for fewer than 2**32 rows).

    Rows that ``learning_rate="auto"`` visits more than once per epoch are
    spread over the epoch this way, not visited back to back: consecutive
    visits of one row would fit that row alone.
    """
    n_repeats = repeats.shape[0]
    if n_repeats == 0:
        return order
    places = np.empty(n_repeats, dtype=np.int64)
    for k in range(n_repeats):
        places[k] = bounded_integer(state, order.shape[0])
    out = np.empty(order.shape[0] + n_repeats, dtype=order.dtype)
    i = 0
    m = 0
    for k in np.argsort(places, kind="mergesort"):
        while i < places[k]:
            out[m] = order[i]
            i += 1
            m += 1
        out[m] = repeats[k]
        m += 1
    out[m:] = order[i:]
    return out


@cached_njit(nogil=True)
def draw_order(state, plan):
    """The visiting order of an epoch of ``plan``, drawn from ``state``."""
    return with_repeats(
        state, visiting_order(state, plan.train, plan.shuffling), plan.repeats
    )


@cached_njit(nogil=True)
def observe(progress, stalled, watched, n_iter_no_change, adaptive):
    """:func:`stop_rule` after an epoch that ``stalled`` or not, watching
    ``watched``: whether to stop, and the new progress."""
    stop, best, no_improvement, eta = stop_rule(
        stalled, watched, progress.best, progress.no_improvement, progress.eta,
        n_iter_no_change, adaptive,
    )  # fmt: skip
    return stop, Progress(
        progress.t, progress.l1_u, eta, progress.average, best, no_improvement
    )


@cached_njit(nogil=True)
def finish_epoch(progress, plan, rule, run, average):
    """What follows an epoch whose engine results are ``run`` (see
    ``sgd_epoch``): the progress after it, its objective, whether it is
    finite, and, when the plan watches the objective, whether to stop.
    ``average``: the step the average counts from afterwards."""
    t, l1_u, sumloss, sumpenalty, _, _, finite = run
    objective = epoch_objective(sumloss, sumpenalty, rule.alpha, plan.train.shape[0])
    # An epoch that met a value not finite is an error to report, or,
    # rarely, a diverging step: the stopping rule does not count it.
    finite = finite and math.isfinite(objective)
    progress = Progress(
        t, l1_u, progress.eta, average, progress.best, progress.no_improvement
    )
    stop = False
    if finite and run[5] == 0 and plan.watch_objective:
        stop, progress = observe(
            progress, objective > progress.best - plan.tol, objective,
            plan.n_iter_no_change, rule.learning_rate == ADAPTIVE,
        )  # fmt: skip
    return progress, objective, finite, stop


@cached_njit(nogil=True)
def returns_early(stop, run, finite, warned):
    """Whether a call of the epochs returns to Python after an epoch whose
    engine results are ``run``: the run stopped, a raw prediction or the
    model is not finite (an error to report), or, unless the run ``warned``,
    a gradient was clipped (a warning)."""
    n_clipped, n_nonfinite = run[4], run[5]
    return stop or n_nonfinite > 0 or not finite or (n_clipped > 0 and not warned)


@cached_njit(nogil=True)
def sgd_epochs(state, rows, model, rule, plan, progress, objectives, n_epochs, warned):
    """Up to ``n_epochs`` epochs of SGD of ``plan``, from ``progress``; the
    model is updated in place.

    Each epoch visits the rows in the order :func:`draw_order` gives, which
    advances the generator's state ``state`` (see ``_random.py``).
    ``objectives[e]`` receives the training objective of the call's epoch
    ``e``. Returns before ``n_epochs`` after an epoch that made the run stop,
    that visited a row whose raw prediction was not finite, that left the
    model or the objective not finite, or, unless ``warned``, that clipped a
    gradient.

    Returns
    -------
    epochs : int
        The epochs run.
    stop : bool
        Whether the stopping rule stopped the run.
    n_clipped, n_nonfinite : int
        The last epoch's clipped gradients and non-finite raw predictions
        (see ``sgd_epoch``).
    finite : bool
        Whether the model and the last epoch's objective are finite.
    progress : Progress
        Where the run is after them.
    """
    for epoch in range(n_epochs):
        order = draw_order(state, plan)
        run = sgd_epoch(
            rows, model, rule, order, progress.t, progress.l1_u, progress.eta,
            progress.average,
        )  # fmt: skip
        progress, objectives[epoch], finite, stop = finish_epoch(
            progress, plan, rule, run, progress.average
        )
        if returns_early(stop, run, finite, warned):
            return epoch + 1, stop, run[4], run[5], finite, progress
    return n_epochs, False, 0, 0, True, progress
