"""The per-sample SGD loop, written once for dense and CSR rows.

The loop follows Bottou's sgd and scikit-learn's ``_sgd_fast``: the weights
are stored as ``coef = wscale * v`` so that the L2 shrinkage of every step
costs O(1) and a sparse update O(nnz); L1 uses the cumulative penalty of
Tsuruoka et al. (2009); averaging uses the lazy form of Xu (2011), where the
average is ``(avg + avg_a * v) / avg_b``. One call runs one epoch; the
epochs, their order and the stopping rule are ``_epochs.py``'s.

Dense rows are read straight from the C-ordered input, and come with
``indices`` and ``indptr`` None; CSR rows are read through them. Numba
compiles each kind of input on its own and drops the other kind's code, which
compiles faster and leaves fewer branches in each loop. The row loops are
written inline in one flat loop, with unsigned offsets: LLVM then keeps the
model's scalars in registers and vectorizes the rows. Row helpers cost two
dozen arguments per call (numba passes an array as its fields), and numba's
wraparound of negative indices, checked on every element, keeps loops
scalar. What each choice gained is in benchmarks/README.md, "The engine's
design, measured".
"""

import math

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from ._cache import cached_njit
from ._losses import (
    VECTORIZE,
    has_log_link,
    implicit_derivative,
    loss_value_and_derivative,
    softmax_cross_entropy,
)

# Learning-rate schedules and penalties, in scikit-learn's numbering.
CONSTANT = 1
OPTIMAL = 2
INVSCALING = 3
ADAPTIVE = 4
PA1 = 5
PA2 = 6

NO_PENALTY = 0
L1 = 1
L2 = 2
ELASTICNET = 3

# Derivatives are clipped to this size, as in scikit-learn, so that one
# extreme sample cannot produce an infinite step; the estimator warns when
# that happens, since the coefficients then mean little.
MAX_DLOSS = 1e12
# A softmax step moves every pairwise margin by up to twice the step (the
# true class up, the others down), so the "optimal" schedule takes half steps
# with the multinomial loss: the margin moves as far as with one-vs-rest.
SOFTMAX_OPTIMAL_SCALE = 0.5
# Below this weight scale, fold the scale into the weights to keep precision.
WSCALE_THRESHOLD = 1e-9
# Rows visited in random order miss the cache; asking for each row this many
# visits ahead hides most of that latency (more than 2 ahead does).
PREFETCH_DISTANCE = 4
CACHE_LINE_ITEMS = 8


@intrinsic
def _prefetch(typingctx, array, index):
    """Hint the CPU to bring ``array[index]`` into cache (LLVM's prefetch).

    ``index`` is an integer for a 1-D array, a tuple of integers otherwise.
    """

    def codegen(context, builder, signature, args):
        array_type, index_type = signature.args
        array_struct = context.make_array(array_type)(context, builder, args[0])
        if isinstance(index_type, types.BaseTuple):
            values = cgutils.unpack_tuple(builder, args[1], len(index_type))
            index_types = list(index_type)
        else:
            values, index_types = [args[1]], [index_type]
        index = [
            context.cast(builder, value, value_type, types.intp)
            for value, value_type in zip(values, index_types, strict=True)
        ]
        pointer = cgutils.get_item_pointer(
            context, builder, array_type, array_struct, index, wraparound=False
        )
        pointer = builder.bitcast(pointer, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [pointer.type, i32, i32, i32])
        function = cgutils.get_or_insert_function(
            builder.module, function_type, "llvm.prefetch.p0"
        )
        # read, high temporal locality, data cache
        builder.call(function, [pointer, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


@cached_njit(nogil=True, fastmath=VECTORIZE)
def _all_finite(values):
    # x - x is 0 for a finite x and NaN for infinity or NaN, which the sum
    # keeps. Without a branch the loop vectorizes, so a wide model is
    # checked at the speed of reading it.
    total = 0.0
    for value in values.flat:
        total += value - value
    return total == 0.0


@cached_njit(nogil=True, fastmath=VECTORIZE)
def _fold_scale(v, wscale, avg, avg_a, avg_b, averaging):
    """Make the scale 1 and the average explicit: the same numbers, refreshed."""
    for k in range(v.shape[0]):
        for j in range(v.shape[1]):
            if averaging:
                avg[k, j] = (avg[k, j] + avg_a * v[k, j]) / avg_b
            v[k, j] *= wscale


@cached_njit(nogil=True, fastmath=VECTORIZE)
def sgd_epoch(rows, model, rule, order, t, l1_u, eta, average):
    """One pass of SGD over the rows ``order``, updating ``model`` in place.

    The model has one row of ``coef`` (and one ``intercept``) per output:
    one for a binary or regression model, one per class for the multinomial
    log loss, which updates every row with the softmax gradient.

    Parameters
    ----------
    rows : Rows
        The training rows (see ``_arguments.py``).
    model : Model
        The arrays updated in place.
    rule : Rule
        The loss, penalty and schedule of each step.
    order : ndarray of int64
        The rows to visit, in order; a row may appear more than once.
    t : float
        Steps taken so far, plus one.
    l1_u : float
        The L1 penalty accumulated per weight so far.
    eta : float
        The step of the constant and adaptive schedules.
    average : int
        The step from which the average starts; 0 for no averaging.

    Returns
    -------
    t : float
        Steps taken, plus one.
    l1_u : float
        The cumulative L1 penalty.
    sumloss : float
        The sum of the weighted losses of the visits.
    sumpenalty : float
        The sum of the penalties of the weights each visit saw, as
        scikit-learn's objective counts them (zero for passive-aggressive
        steps), per unit of ``alpha``.
    n_clipped : int
        Derivatives that exceeded ``MAX_DLOSS``: a sign that SGD diverges.
    n_nonfinite : int
        Rows whose dot product with the weights was not finite: a NaN or
        infinity in a row makes it so, which spares the estimator a pass over
        the input to look for them up front.
    finite : bool
        Whether the weights, their averages and the intercepts are all
        finite after the epoch.
    """
    return _sgd_epoch(
        rows.data, rows.indices, rows.indptr, rows, model, rule, order, t, l1_u,
        eta, average,
    )  # fmt: skip


@cached_njit(nogil=True, fastmath=VECTORIZE)
def _sgd_epoch(data, indices, indptr, rows, model, rule, order, t, l1_u, eta, average):
    """:func:`sgd_epoch`, with the rows' arrays as arguments of their own:
    numba drops the code of the kind of rows an argument is not (dense when
    ``indptr`` is None, CSR otherwise) only for a test on an argument."""
    n_features, y, sample_weight = rows.n_features, rows.y, rows.sample_weight
    coef, intercept = model.coef, model.intercept
    avg_coef, avg_intercept, l1_q = model.avg_coef, model.avg_intercept, model.l1_q
    kind, loss_params, multinomial = rule.kind, rule.loss_params, rule.multinomial
    penalty, alpha, l1_ratio = rule.penalty, rule.alpha, rule.l1_ratio
    learning_rate, eta0, power_t = rule.learning_rate, rule.eta0, rule.power_t
    optimal_init, fit_intercept = rule.optimal_init, rule.fit_intercept
    intercept_decay = rule.intercept_decay
    dense = indptr is None
    n_outputs = coef.shape[0]
    averaging = average > 0
    v = coef
    wscale = 1.0
    avg_a = 0.0
    avg_b = 1.0
    u = l1_u
    if penalty == L2:
        l1_ratio = 0.0
    elif penalty == L1:
        l1_ratio = 1.0
    raw = np.empty(n_outputs)
    xv = np.empty(n_outputs)
    dloss = np.empty(n_outputs)
    sumloss = 0.0
    n_clipped = 0
    n_nonfinite = 0
    # The penalty of the current weights is kept up to date in O(nnz) per
    # step: ||v||^2 and ||v||_1 of the unscaled weights change only on the
    # features a row touches (and the L2 norm, algebraically, by the update).
    has_l1 = penalty == L1 or penalty == ELASTICNET
    track_penalty = penalty != NO_PENALTY and learning_rate < PA1
    track_l2_algebraically = track_penalty and not has_l1
    sq_v = 0.0
    abs_v = 0.0
    if track_penalty:
        for k in range(n_outputs):
            for j in range(v.shape[1]):
                sq_v += v[k, j] * v[k, j]
                abs_v += abs(v[k, j])
    sumpenalty = 0.0

    row_size = nb.uintp(n_features)
    n_visits = order.shape[0]
    for idx in range(n_visits):
        # Rows visited in random order miss the cache: ask for them ahead.
        # The weights a sparse row points to are asked for half as far
        # ahead, once its indices are there.
        if dense:
            if idx + PREFETCH_DISTANCE < n_visits:
                ahead = nb.uintp(order[idx + PREFETCH_DISTANCE]) * row_size
                for j in range(0, n_features, CACHE_LINE_ITEMS):
                    _prefetch(data, ahead + nb.uintp(j))
        else:
            if idx + PREFETCH_DISTANCE < n_visits:
                ahead = order[idx + PREFETCH_DISTANCE]
                for p in range(indptr[ahead], indptr[ahead + 1], CACHE_LINE_ITEMS):
                    _prefetch(data, nb.uintp(p))
                    _prefetch(indices, nb.uintp(p))
            if idx + PREFETCH_DISTANCE // 2 < n_visits:
                ahead = order[idx + PREFETCH_DISTANCE // 2]
                for p in range(nb.uintp(indptr[ahead]), nb.uintp(indptr[ahead + 1])):
                    for k in range(n_outputs):
                        _prefetch(v, (k, nb.uintp(indices[p])))
        i = order[idx]
        if dense:
            start = nb.uintp(i) * row_size
            end = start + row_size
        else:
            start = nb.uintp(indptr[i])
            end = nb.uintp(indptr[i + 1])

        # The raw predictions. The row's squared norm comes with the first
        # output's dot product: two independent sums in one loop cost one.
        # Sums are in the data's precision, so that float32 rows vectorize
        # twice as wide.
        acc = data.dtype.type(0)
        x_sq = data.dtype.type(0)
        if dense:
            for j in range(row_size):
                x = data[start + j]
                acc += x * v[0, j]
                x_sq += x * x
        else:
            for p in range(start, end):
                x = data[p]
                acc += x * v[0, nb.uintp(indices[p])]
                x_sq += x * x
        xv[0] = acc
        for k in range(1, n_outputs):
            acc = data.dtype.type(0)
            if dense:
                for j in range(row_size):
                    acc += data[start + j] * v[k, j]
            else:
                for p in range(start, end):
                    acc += data[p] * v[k, nb.uintp(indices[p])]
            xv[k] = acc
        for k in range(n_outputs):
            raw[k] = xv[k] * wscale + intercept[k]
        if not math.isfinite(xv[0]):
            n_nonfinite += 1

        if track_penalty:
            sumpenalty += (1.0 - l1_ratio) * 0.5 * wscale * wscale * sq_v
            sumpenalty += l1_ratio * wscale * abs_v
        if learning_rate == OPTIMAL:
            eta = 1.0 / (alpha * (optimal_init + t - 1.0))
            if multinomial:
                eta *= SOFTMAX_OPTIMAL_SCALE
        elif learning_rate == INVSCALING:
            eta = eta0 / t**power_t
        weight = sample_weight[i]
        if multinomial:
            loss = softmax_cross_entropy(raw, int(y[i]), dloss)
        else:
            loss, dloss[0] = loss_value_and_derivative(kind, loss_params, y[i], raw[0])
        sumloss += weight * loss

        if learning_rate >= PA1:
            # Passive-aggressive steps: the smallest move that removes the
            # loss, capped (PA-I) or damped (PA-II) by eta0.
            if learning_rate == PA1:
                if x_sq == 0.0:
                    continue
                step = min(eta0, loss / x_sq)
            else:
                step = loss / (x_sq + 0.5 / eta0)
            if dloss[0] > 0.0:
                dloss[0] = step
            elif dloss[0] < 0.0:
                dloss[0] = -step
        else:
            for k in range(n_outputs):
                if abs(dloss[k]) > MAX_DLOSS:
                    n_clipped += 1
                    dloss[k] = min(max(dloss[k], -MAX_DLOSS), MAX_DLOSS)
            if has_log_link(kind):
                # A log link's steps are implicit: see implicit_derivative.
                # The raw score moves with the row and the intercept's step.
                reach = x_sq + (intercept_decay if fit_intercept else 0.0)
                dloss[0] = implicit_derivative(
                    kind, loss_params, y[i], raw[0], dloss[0], eta * weight * reach
                )
            for k in range(n_outputs):
                dloss[k] *= eta
        # From here on, dloss holds minus each output's update.

        if penalty == L2 or penalty == ELASTICNET:
            # Never scale to negative values when eta * alpha is too large:
            # set the weights to zero instead.
            wscale *= max(0.0, 1.0 - (1.0 - l1_ratio) * eta * alpha)
            if wscale < WSCALE_THRESHOLD:
                _fold_scale(v, wscale, avg_coef, avg_a, avg_b, averaging)
                sq_v *= wscale * wscale
                abs_v *= wscale
                wscale, avg_a, avg_b = 1.0, 0.0, 1.0

        for k in range(n_outputs):
            update = -dloss[k] * weight
            if track_penalty and has_l1:
                before_sq, before_abs = _touched_norms(indices, start, end, v, k)
                sq_v -= before_sq
                abs_v -= before_abs
            if update != 0.0:
                step = update / wscale
                scale = data.dtype.type(step)
                if dense:
                    for j in range(row_size):
                        v[k, j] += scale * data[start + j]
                else:
                    for p in range(start, end):
                        v[k, nb.uintp(indices[p])] += scale * data[p]
                if track_l2_algebraically:
                    sq_v += step * (2.0 * xv[k] + step * x_sq)
                if averaging and average <= t:
                    # Keep the past iterates' share of the lazy average.
                    scale = data.dtype.type(-avg_a * update / wscale)
                    if dense:
                        for j in range(row_size):
                            avg_coef[k, j] += scale * data[start + j]
                    else:
                        for p in range(start, end):
                            avg_coef[k, nb.uintp(indices[p])] += scale * data[p]
            if fit_intercept:
                intercept[k] += update * intercept_decay

        if averaging and average <= t:
            # Lazy running mean of the weights over steps t >= average.
            num_seen = t - average + 1.0
            mu = 1.0 / num_seen
            if num_seen > 1.0:
                avg_b /= 1.0 - mu
            avg_a += mu * avg_b * wscale
            for k in range(n_outputs):
                avg_intercept[k] += (intercept[k] - avg_intercept[k]) * mu

        if has_l1:
            u += l1_ratio * eta * alpha
            for k in range(n_outputs):
                _l1_truncate(
                    data, indices, start, end, v, l1_q, k, u, wscale,
                    averaging, avg_coef, avg_a,
                )  # fmt: skip
                if track_penalty:
                    after_sq, after_abs = _touched_norms(indices, start, end, v, k)
                    sq_v += after_sq
                    abs_v += after_abs

        t += 1.0

    _fold_scale(v, wscale, avg_coef, avg_a, avg_b, averaging)
    finite = (
        _all_finite(coef)
        and _all_finite(intercept)
        and _all_finite(avg_coef)
        and _all_finite(avg_intercept)
    )
    return t, u, sumloss, sumpenalty, n_clipped, n_nonfinite, finite


@cached_njit(nogil=True, inline="always")
def _touched_norms(indices, start, end, v, r):
    """Squared and absolute sums of the weights of ``v[r]`` a row touches."""
    sq = 0.0
    ab = 0.0
    for p in range(start, end):
        z = v[r, p - start] if indices is None else v[r, nb.uintp(indices[p])]
        sq += z * z
        ab += abs(z)
    return sq, ab


@cached_njit(nogil=True, inline="always")
def _l1_truncate(data, indices, start, end, v, q, r, u, wscale, averaging, avg, avg_a):
    """Cumulative L1 penalty on the features of one row (Tsuruoka et al. 2009).

    Each weight of ``v[r]`` receives the penalty ``u`` accumulated so far minus
    what it already received (``q[r]``), without crossing zero.
    """
    for p in range(start, end):
        j = p - start if indices is None else nb.uintp(indices[p])
        z = v[r, j]
        if wscale * z > 0.0:
            v[r, j] = max(0.0, z - (u + q[r, j]) / wscale)
        elif wscale * z < 0.0:
            v[r, j] = min(0.0, z + (u - q[r, j]) / wscale)
        q[r, j] += wscale * (v[r, j] - z)
        if averaging:
            # Keep past iterates in the average as they were: the lazy form
            # would otherwise apply this truncation to them too (scikit-learn
            # does).
            avg[r, j] -= avg_a * (v[r, j] - z)
