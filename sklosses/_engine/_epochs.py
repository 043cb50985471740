"""The epochs of a fit in one compiled call.

On a small table an epoch is a few microseconds of arithmetic, and driving
it from Python (its visiting order, the engine's call with two dozen
arguments, the stopping test) cost several times more: a fit on 200 rows
spent most of its time between epochs, and cross-validation and grid
searches run thousands of such fits. :func:`sgd_epochs` runs the epochs of a
plain fit in compiled code: it draws each epoch's order from the estimator's
random generator, runs the epoch, and applies the stopping rule. It returns
to the estimator when the fit stops, and when something needs Python: a
value that is not finite (an error to report) or the first clipped gradient
(a warning).

The estimator's own loop, which serves the fits this one does not (a
validation split, callbacks, printing, ``learning_rate="auto"``, local SGD,
a user's loss), visits the rows in the same order, and computes the
objective and stops by the same functions (:func:`epoch_objective`,
:func:`stop_rule`): both loops give the same coefficients, bit for bit.
"""

import math

import numpy as np

from ._cache import cached_njit
from ._order import visiting_order
from ._sgd import ADAPTIVE, sgd_epoch

# The fields of ``progress``, the state one call of sgd_epochs hands the next.
T = 0
L1_U = 1
ETA = 2
BEST = 3
NO_IMPROVEMENT = 4

# The adaptive schedule divides its step by this when the fit stalls, down
# to its smallest step (scikit-learn's rule).
ADAPTIVE_DIVISOR = 5.0
ADAPTIVE_SMALLEST_ETA = 1e-6


def start_progress(t, l1_u, eta):
    """The ``progress`` of a first call of :func:`sgd_epochs`: at step ``t``,
    with the cumulative L1 penalty ``l1_u`` and the step ``eta``."""
    # In the order of the fields: T, L1_U, ETA, BEST, NO_IMPROVEMENT.
    return np.array([t, l1_u, eta, np.inf, 0.0])


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
def sgd_epochs(
    state,
    rows,
    shuffling,
    max_epochs,
    tol,
    n_iter_no_change,
    warned,
    progress,
    objectives,
    data,
    indices,
    indptr,
    n_features,
    y,
    sample_weight,
    coef,
    intercept,
    avg_coef,
    avg_intercept,
    l1_q,
    kind,
    loss_params,
    multinomial,
    penalty,
    alpha,
    l1_ratio,
    learning_rate,
    eta0,
    power_t,
    optimal_init,
    fit_intercept,
    intercept_decay,
    average,
):
    """Up to ``max_epochs`` epochs of SGD over the rows ``rows``, watching
    the training objective; the model is updated in place.

    Each epoch visits ``rows`` in the order ``visiting_order(state, rows,
    shuffling)`` gives, which advances the generator's state ``state`` (see
    ``_random.py``), and is followed by :func:`stop_rule` on its
    objective with the tolerance ``tol`` (``-inf``: never stalled). The
    arguments from ``data`` on are :func:`~._sgd.sgd_epoch`'s, less those
    that change from epoch to epoch, which ``progress`` holds: ``t``,
    ``l1_u``, ``eta``, then the stopping rule's ``best`` and
    ``no_improvement``; it is read first and updated in place, so that a
    call resumes where the last one returned. ``objectives[e]`` receives the
    objective of the call's epoch ``e``.

    Returns before ``max_epochs`` after an epoch that made the fit stop,
    that visited a row whose raw prediction was not finite, that left the
    model or the objective not finite, or, unless ``warned``, that clipped a
    gradient.

    Returns
    -------
    epochs : int
        The epochs run.
    stop : bool
        Whether the stopping rule stopped the fit.
    n_clipped, n_nonfinite : int
        The last epoch's clipped gradients and non-finite raw predictions
        (see ``sgd_epoch``).
    finite : bool
        Whether the model and the last epoch's objective are finite.
    """
    adaptive = learning_rate == ADAPTIVE
    for epoch in range(max_epochs):
        order = visiting_order(state, rows, shuffling)
        t, l1_u, sumloss, sumpenalty, n_clipped, n_nonfinite, finite = sgd_epoch(
            data=data, indices=indices, indptr=indptr, n_features=n_features,
            y=y, sample_weight=sample_weight, order=order,
            coef=coef, intercept=intercept,
            avg_coef=avg_coef, avg_intercept=avg_intercept,
            l1_q=l1_q, l1_u=progress[L1_U],
            kind=kind, loss_params=loss_params, multinomial=multinomial,
            penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
            learning_rate=learning_rate, eta=progress[ETA], eta0=eta0,
            power_t=power_t, optimal_init=optimal_init, t=progress[T],
            fit_intercept=fit_intercept, intercept_decay=intercept_decay,
            average=average,
        )  # fmt: skip
        progress[T] = t
        progress[L1_U] = l1_u
        objective = epoch_objective(sumloss, sumpenalty, alpha, rows.shape[0])
        objectives[epoch] = objective
        finite = finite and math.isfinite(objective)
        if n_nonfinite or not finite:
            return epoch + 1, False, n_clipped, n_nonfinite, finite
        stop, best, no_improvement, eta = stop_rule(
            objective > progress[BEST] - tol,
            objective,
            progress[BEST],
            int(progress[NO_IMPROVEMENT]),
            progress[ETA],
            n_iter_no_change,
            adaptive,
        )
        progress[BEST] = best
        progress[NO_IMPROVEMENT] = no_improvement
        progress[ETA] = eta
        if stop or (n_clipped and not warned):
            return epoch + 1, stop, n_clipped, n_nonfinite, finite
    return max_epochs, False, 0, 0, True
