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

import itertools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
from joblib import cpu_count

from . import _threads
from ._arguments import Model
from ._epochs import draw_order, finish_epoch, returns_early

# Each share of a round makes at least this many visits; a wide model makes
# more, so that combining the copies (a pass over the weights) stays a small
# part of the round.
ROUND_VISITS = 32768
# A share makes at least one visit per this many weights of the model.
WEIGHTS_PER_VISIT = 16
CACHE_LINE = 64  # bytes
# Reads of the threads' flags before a waiting thread yields its core.
SPINS = 100_000


# Gives the core to another thread, if one is waiting for it (not on Windows).
_yield_core = getattr(os, "sched_yield", lambda: time.sleep(0))

# The barrier needs every helper of an epoch running at once: a helper queued
# in a pool bounded below the epoch's helpers, or busy with another fit's,
# would wait behind threads that wait for it, forever. So an epoch runs its
# helpers on a pool of its own, of exactly their number, whose earlier tasks
# have all ended: each finds an idle worker. The pools no epoch holds are
# kept, by size, for the process: starting threads at every fit (a search,
# a stream of partial_fit calls) would cost more than a small epoch. A forked
# child (joblib's multiprocessing backend) has none of its parent's threads,
# and would wait forever on them: it starts without the pools.
_IDLE_POOLS = {}
_IDLE_POOLS_LOCK = threading.Lock()


def _forget_pools():
    global _IDLE_POOLS_LOCK
    _IDLE_POOLS.clear()
    _IDLE_POOLS_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_pools)


@contextmanager
def _helper_pool(n_threads):
    """A ``ThreadPoolExecutor`` of ``n_threads`` idle threads, which no one
    else uses until the block ends, and a list for the ``n_threads`` tasks
    submitted to it: the pool is kept for later only if they all ended."""
    if n_threads == 0:  # the calling thread runs every share
        yield None, []
        return
    with _IDLE_POOLS_LOCK:
        idle = _IDLE_POOLS.setdefault(n_threads, [])
        pool = idle.pop() if idle else None
    if pool is None:
        pool = ThreadPoolExecutor(n_threads, "sklosses-partition")
    tasks = []
    try:
        yield pool, tasks
    finally:
        if len(tasks) == n_threads and all(task.done() for task in tasks):
            with _IDLE_POOLS_LOCK:
                _IDLE_POOLS.setdefault(n_threads, []).append(pool)
        else:  # a task that did not start, or left running (a second Ctrl-C)
            pool.shutdown(wait=False, cancel_futures=True)


def _stacked_copies(array, n_copies):
    """``n_copies`` copies of ``array``: the rows of a 2-D array, each on cache
    lines of its own, and each row as an array of ``array``'s shape.

    The shares write their copies at every step: two copies on one cache
    line (two intercepts, the end of one row of weights and the start of the
    next) would bounce it between the cores at every step.
    """
    items = CACHE_LINE // array.itemsize
    width = -(-array.size // items) * items + items
    buffer = np.empty(n_copies * width + items, dtype=array.dtype)
    start = (-buffer.ctypes.data // array.itemsize) % items
    rows = buffer[start : start + n_copies * width].reshape(n_copies, width)
    rows[:, : array.size] = array.reshape(-1)
    return rows, [row[: array.size].reshape(array.shape) for row in rows]


def _shares(visits, n_shares):
    """``np.array_split(visits, n_shares)`` without its empty parts, and
    without making them: ``n_shares`` may exceed the visits by far."""
    n_visits = visits.shape[0]
    size, longer = divmod(n_visits, n_shares)
    if size == 0:
        return [visits[i : i + 1] for i in range(n_visits)]
    bounds = np.cumsum([0] + [size + 1] * longer + [size] * (n_shares - longer))
    return [visits[a:b] for a, b in itertools.pairwise(bounds)]


def _thread_range(size, thread, n_threads, items):
    """The part of ``range(size)`` that thread ``thread`` combines: about an
    equal part, cut at multiples of ``items`` (a cache line)."""
    lines = -(-size // items)
    return (
        min(size, lines * thread // n_threads * items),
        min(size, lines * (thread + 1) // n_threads * items),
    )


class _Round(NamedTuple):
    """A round of local SGD: its shares of the order, the step count and the
    average's start they begin at, and what combining them needs."""

    shares: list
    t: float
    average: int
    weights: np.ndarray  # each share's visits, over the round's
    averaged: float  # iterates averaged before the round
    counted: np.ndarray  # iterates each share averages


class _Aborted(Exception):
    """Another thread failed: this one leaves the barrier."""


class Partitions:
    """Run the engine's epochs as local SGD over ``n_partitions`` shares,
    on ``threads`` threads at most, and no more than the partitions or the
    CPUs (``joblib.cpu_count``); one: in turn, in the calling thread. The
    result is the same on any number of threads. With one partition,
    :meth:`epoch` is the engine's ``sgd_epoch`` itself.
    """

    def __init__(self, sgd_epoch, n_partitions, threads):
        self.sgd_epoch = sgd_epoch
        self.n_partitions = n_partitions
        self.threads = max(1, min(threads, n_partitions))
        if self.threads > 1:
            # Threads spinning at a barrier beyond the CPUs would only take
            # turns on them; a thread runs several partitions' shares alike.
            self.threads = min(self.threads, cpu_count())
        self._copies_of = None

    def sgd_epochs(
        self, state, rows, model, rule, plan, progress, objectives, n_epochs, warned
    ):
        """``_epochs.sgd_epochs`` with :meth:`epoch` for the engine's epoch:
        the same arguments, order, objective, stopping rule and results."""
        for epoch in range(n_epochs):
            order = draw_order(state, plan)
            *run, average = self.epoch(
                rows, model, rule, order, progress.t, progress.l1_u, progress.eta,
                progress.average,
            )  # fmt: skip
            run = tuple(run)
            progress, objectives[epoch], finite, stop = finish_epoch(
                progress, plan, rule, run, average
            )
            if returns_early(stop, run, finite, warned):
                return epoch + 1, stop, run[4], run[5], finite, progress
        return n_epochs, False, 0, 0, True, progress

    def _rounds(self, order, t, average, averaging, n_weights):
        """The epoch's rounds, and the step count and the average's start
        after them."""
        size = self.n_partitions * max(ROUND_VISITS, -(-n_weights // WEIGHTS_PER_VISIT))
        averaged = max(0.0, t - average) if averaging else 0.0
        rounds = []
        for start in range(0, order.shape[0], size):
            shares = _shares(order[start : start + size], self.n_partitions)
            visits = np.array([share.shape[0] for share in shares], dtype=float)
            # The iterates each share averages: its steps from `average` on.
            counted = np.maximum(0.0, t + visits - max(t, average)) * averaging
            rounds.append(
                _Round(shares, t, average, visits / visits.sum(), averaged, counted)
            )
            t += visits.sum()
            averaged += counted.sum()
            if averaging:
                # The next round's steps count from `averaged` on; or, with
                # none averaged yet, from the start the shares did not reach.
                average = int(t - averaged) if averaged > 0 else int(max(average, t))
        return rounds, t, average

    def epoch(self, rows, model, rule, order, t, l1_u, eta, average):
        """One epoch over ``order``: the engine's results, then the step the
        average counts from afterwards (``average``, shifted so that the
        engine's ``t - average`` stays the number of iterates averaged)."""
        if self.n_partitions == 1:
            run = self.sgd_epoch(rows, model, rule, order, t, l1_u, eta, average)
            return (*run, average)
        model = model._asdict()
        averaging = average > 0 and model["avg_coef"].shape[1] > 0
        rounds, t, average = self._rounds(
            order, t, average, averaging, model["coef"].size
        )
        copies = self._copies(model, max((len(r.shares) for r in rounds), default=1))
        runs = [[None] * len(round_.shares) for round_ in rounds]
        flags = np.zeros((self.threads + 1) * _threads.FLAG_STRIDE, dtype=np.int64)

        def thread(k):
            """Thread ``k``'s shares of every round, and its part of each
            combination; returns the cumulative L1 penalty after them."""
            u = l1_u
            try:
                for r, round_ in enumerate(rounds):
                    for p in range(k, len(round_.shares), self.threads):
                        share = Model(*(views[p] for _, views in copies.values()))
                        runs[r][p] = self.sgd_epoch(
                            rows, share, rule, round_.shares[p], round_.t, u, eta,
                            round_.average,
                        )  # fmt: skip
                    self._barrier(flags, k, 2 * r + 1)
                    u += sum(run[1] - u for run in runs[r])
                    self._combine(model, copies, round_, k)
                    self._barrier(flags, k, 2 * r + 2)
            except _Aborted:
                raise
            except BaseException:
                _threads.abort(flags, self.threads)
                raise
            return u

        with _helper_pool(self.threads - 1) as (pool, helpers):
            completed = False
            try:
                for k in range(1, self.threads):
                    helpers.append(pool.submit(thread, k))
                l1_u = thread(0)
                completed = True
            except _Aborted:
                pass  # a helper failed: its error is raised below
            finally:
                # Whatever stopped this thread before its last barrier (a
                # helper that could not start, an error, a Ctrl-C arriving
                # anywhere, even before thread 0's own handler ran), the
                # helpers waiting for it are released before they are
                # waited for.
                if not completed:
                    _threads.abort(flags, self.threads)
                wait(helpers)
        for helper in helpers:
            if not isinstance(helper.exception(), _Aborted | None):
                raise helper.exception()
        totals = np.zeros(4)
        finite = True
        for run in itertools.chain.from_iterable(runs):
            totals += run[2:6]
            finite = finite and run[6]
        sumloss, sumpenalty, n_clipped, n_nonfinite = totals
        return (
            t, l1_u, sumloss, sumpenalty, int(n_clipped), int(n_nonfinite), finite,
            average,
        )  # fmt: skip

    def _copies(self, model, n_copies):
        """``n_copies`` copies of ``model`` at least, as :func:`_stacked_copies`
        gives them: made at the first epoch, and filled again at the next."""
        if self._copies_of is None or len(self._copies_of["coef"][1]) < n_copies:
            self._copies_of = {
                name: _stacked_copies(array, n_copies) for name, array in model.items()
            }
        else:
            for name, (rows, _) in self._copies_of.items():
                rows[:, : model[name].size] = model[name].reshape(-1)
        return self._copies_of

    def _barrier(self, flags, k, barrier):
        _threads.arrive(flags, k, barrier)
        while True:
            state = _threads.wait_for(flags, self.threads, barrier, SPINS)
            if state > 0:
                return
            if state < 0:
                raise _Aborted
            _yield_core()

    def _combine(self, model, copies, round_, k):
        """Thread ``k``'s part of combining the round's copies into ``model``,
        in a fixed order, and of copying the result back into them."""
        n_shares = len(round_.shares)
        for name, (rows, _) in copies.items():
            target = model[name].view()
            target.shape = (-1,)  # a view of the model, or an error
            start, stop = _thread_range(
                target.size, k, self.threads, CACHE_LINE // target.itemsize
            )
            if name in ("avg_coef", "avg_intercept"):
                _threads.combine_average(
                    target, rows, n_shares, round_.averaged, round_.counted,
                    start, stop,
                )  # fmt: skip
            else:
                _threads.combine(target, rows, n_shares, round_.weights, start, stop)
