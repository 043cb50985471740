"""Local SGD: one model trained on several cores.

Every sample's step waits on the one before (dot product, loss, update), so
one core cannot run an epoch much faster than about one pass over the data.
Local SGD (Zinkevich et al. 2010; Lin et al. 2018, "Don't use large
mini-batches, use local SGD") splits the epoch's visits into rounds, and each
round's visits into ``n_partitions`` contiguous shares: each share trains its
own copy of the model by plain per-sample SGD, the copies are averaged,
weighted by the visits each made, and the next round starts from the
average. The engine's loop releases the GIL, so threads run the shares on
as many cores; the result depends on ``n_partitions`` only, never on the
number of threads, since the shares and their combination are the same
whatever ran them.

What the copies share stays meaningful:

- the step count ``t`` of the schedules: each share starts the round at the
  global count, which then advances by all the round's visits;
- averaged SGD: each share's running average covers the iterates averaged
  before the round plus its own, so that the shares' averages combine into
  the average of all iterates;
- the cumulative L1 penalty: the shares' penalties add up, and each weight's
  received penalty is averaged as the weights are.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# Each share of a round makes at least this many visits; a wide model makes
# more, so that combining the copies (a pass over the weights) stays a small
# part of the round.
ROUND_VISITS = 32768
# A share makes at least one visit per this many weights of the model.
WEIGHTS_PER_VISIT = 16
CACHE_LINE = 64  # bytes
# The engine's arguments that hold the model, which each share copies.
MODEL_ARRAYS = ("coef", "intercept", "avg_coef", "avg_intercept", "l1_q")


# Thread pools by size, kept for the process: a fit of many small rounds
# would otherwise pay for starting threads at every epoch. A forked child
# (joblib's multiprocessing backend) has none of its parent's threads, and
# would wait forever on their pools: it starts without them.
_POOLS = {}
_POOLS_LOCK = threading.Lock()


def _forget_pools():
    global _POOLS_LOCK
    _POOLS.clear()
    _POOLS_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_pools)


def _pool(threads):
    with _POOLS_LOCK:
        if threads not in _POOLS:
            _POOLS[threads] = ThreadPoolExecutor(threads, "sklosses-partition")
        return _POOLS[threads]


def _apart_like(array):
    """An empty array like ``array``, on cache lines of its own.

    The shares write their copies at every step: two copies on one cache
    line (two intercepts, the end of one row of weights and the start of the
    next) would bounce it between the cores at every step.
    """
    items = CACHE_LINE // array.itemsize
    buffer = np.empty(array.size + 3 * items, dtype=array.dtype)
    start = (-buffer.ctypes.data // array.itemsize) % items + items
    return buffer[start : start + array.size].reshape(array.shape)


class Partitions:
    """Run the engine's epochs as local SGD over ``n_partitions`` shares,
    ``threads`` of them at a time (one: in turn, in the calling thread).
    With one partition, :meth:`epoch` is the engine's ``sgd_epoch`` itself.
    """

    def __init__(self, sgd_epoch, n_partitions, threads):
        self.sgd_epoch = sgd_epoch
        self.n_partitions = n_partitions
        threads = max(1, min(threads, n_partitions))
        self._map = _pool(threads).map if threads > 1 else map

    def epoch(self, *, order, l1_u, t, average, **arrays_and_engine):
        """One epoch over ``order``: the engine's results, then the step the
        average counts from afterwards (``average``, shifted so that the
        engine's ``t - average`` stays the number of iterates averaged)."""
        if self.n_partitions == 1:
            run = self.sgd_epoch(
                order=order, l1_u=l1_u, t=t, average=average, **arrays_and_engine
            )
            return (*run, average)
        model = {name: arrays_and_engine.pop(name) for name in MODEL_ARRAYS}
        engine = arrays_and_engine
        copies = [
            {name: _apart_like(array) for name, array in model.items()}
            for _ in range(self.n_partitions)
        ]
        averaging = average > 0 and model["avg_coef"].shape[1] > 0
        averaged = max(0.0, t - average) if averaging else 0.0
        totals = np.zeros(4)
        finite = True
        share = max(ROUND_VISITS, -(-model["coef"].size // WEIGHTS_PER_VISIT))
        size = share * self.n_partitions
        for start in range(0, order.shape[0], size):
            parts = np.array_split(order[start : start + size], self.n_partitions)
            parts = [part for part in parts if part.shape[0]]

            def run(p, parts=parts, l1_u=l1_u, t=t, average=average):
                for name, array in model.items():
                    copies[p][name][...] = array
                return self.sgd_epoch(
                    order=parts[p], l1_u=l1_u, t=t, average=average,
                    **copies[p], **engine,
                )  # fmt: skip

            runs = list(self._map(run, range(len(parts))))
            visits = np.array([part.shape[0] for part in parts], dtype=float)
            # The iterates each share averaged: its steps from `average` on.
            counted = np.maximum(0.0, t + visits - max(t, average)) * averaging
            self._combine(model, copies, visits / visits.sum(), averaged, counted)
            for run_p in runs:
                totals += run_p[2:6]
                finite = finite and run_p[6]
            l1_u += sum(run_p[1] - l1_u for run_p in runs)
            t += visits.sum()
            averaged += counted.sum()
            if averaging:
                # The next round's steps count from `averaged` on; or, with
                # none averaged yet, from the start the shares did not reach.
                average = int(t - averaged) if averaged > 0 else int(max(average, t))
        sumloss, sumpenalty, n_clipped, n_nonfinite = totals
        return (
            t, l1_u, sumloss, sumpenalty, int(n_clipped), int(n_nonfinite), finite,
            average,
        )  # fmt: skip

    @staticmethod
    def _combine(model, copies, shares, averaged, counted):
        """The shares' copies into ``model``, in place and in a fixed order."""
        for name in ("coef", "intercept", "l1_q"):
            target = model[name]
            if target.size == 0:
                continue
            target[...] = shares[0] * copies[0][name]
            for p in range(1, len(shares)):
                target += shares[p] * copies[p][name]
        total = averaged + counted.sum()
        for name in ("avg_coef", "avg_intercept"):
            target = model[name]
            if target.size == 0 or total == 0:
                continue
            # Each copy averages the `averaged` iterates before the round and
            # its own `counted`: sum them, less the former counted once too
            # often per extra share.
            combined = (averaged + counted[0]) * copies[0][name]
            for p in range(1, len(shares)):
                combined += (averaged + counted[p]) * copies[p][name]
            combined -= (len(shares) - 1) * averaged * target
            target[...] = combined / total
