"""The threads' compiled barrier (``_engine/_threads.py``) under stress: more
threads than cores crossing many barriers in a row, and aborts racing the
arrivals.

Every wait is bounded: a thread that waits longer than ``HANG`` seconds
gives up and reports it, and the test joins each thread with a timeout, so
that a barrier that never opens fails the test instead of hanging it.
"""

import os
import threading
import time

import numpy as np
import pytest

from sklosses._engine import _threads

# Threads per test: many times the cores of a CI machine (2 to 4), as when
# several fits run local SGD at once, each spinning threads of its own.
N_THREADS = 48
HANG = 60.0  # seconds a thread waits at one barrier before giving up
# Reads of the flags before a waiting thread gives its core away: few, since
# the threads it waits for need that core to arrive.
SPINS = 64

_yield_core = getattr(os, "sched_yield", lambda: time.sleep(0))


def _flags(n_threads):
    return np.zeros((n_threads + 1) * _threads.FLAG_STRIDE, dtype=np.int64)


def _wait(flags, n_threads, barrier):
    """What ``wait_for`` answers once it does (1 passed, -1 aborted), or
    None after ``HANG`` seconds of 0s."""
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        state = _threads.wait_for(flags, n_threads, barrier, SPINS)
        if state:
            return state
        _yield_core()
    return None


def _start(targets, errors):
    """A started thread per target, the targets starting together; what a
    target raises goes to ``errors``, as a string."""
    start = threading.Barrier(len(targets))

    def run(target):
        try:
            start.wait(HANG)
            target()
        except BaseException as error:
            errors.append(repr(error))

    threads = [threading.Thread(target=run, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    return threads


def _join(threads):
    """Join each thread within ``2 * HANG`` in all; whether any still runs."""
    deadline = time.monotonic() + 2 * HANG
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
    return any(thread.is_alive() for thread in threads)


def _run_threads(targets):
    """Run a thread per target, together; the errors they raised, and
    whether any still runs after ``2 * HANG`` seconds."""
    errors = []
    hung = _join(_start(targets, errors))
    return errors, hung


def test_no_thread_passes_a_barrier_before_every_thread_reached_it():
    n_threads, n_barriers = N_THREADS, 400
    flags = _flags(n_threads)
    # reached[k] is the last barrier thread k reached, written before it
    # says so to the barrier; passed[k] the last one it passed.
    reached = np.zeros(n_threads, dtype=np.int64)
    passed = np.zeros(n_threads, dtype=np.int64)
    early, states = [], [[] for _ in range(n_threads)]
    rng = np.random.default_rng(0)
    # Some threads give their core away before arriving, so that arrivals
    # come in every order.
    dawdles = rng.random((n_threads, n_barriers + 1)) < 0.2

    def thread(k):
        for barrier in range(1, n_barriers + 1):
            if dawdles[k, barrier]:
                _yield_core()
            reached[k] = barrier
            _threads.arrive(flags, k, barrier)
            state = _wait(flags, n_threads, barrier)
            states[k].append(state)
            if state != 1:
                return
            if reached.min() < barrier:
                early.append((k, barrier, reached.tolist()))
            if passed.max() > barrier:  # someone is a barrier ahead
                early.append((k, barrier, passed.tolist()))
            passed[k] = barrier

    errors, hung = _run_threads([lambda k=k: thread(k) for k in range(n_threads)])
    assert not errors
    assert not hung, "a thread still waits at a barrier"
    assert not early, f"passed before all arrived: {early[:3]}"
    assert states == [[1] * n_barriers] * n_threads
    assert (passed == n_barriers).all()


def test_a_thread_waits_at_a_barrier_until_the_last_one_arrives():
    n_threads = N_THREADS
    flags = _flags(n_threads)
    for k in range(n_threads - 1):
        _threads.arrive(flags, k, 1)
    for _ in range(3):
        assert _threads.wait_for(flags, n_threads, 1, 1000) == 0
    # One barrier ahead is not this barrier.
    _threads.arrive(flags, 0, 2)
    assert _threads.wait_for(flags, n_threads, 2, 1000) == 0
    _threads.arrive(flags, n_threads - 1, 1)
    assert _threads.wait_for(flags, n_threads, 1, 1) == 1
    assert _threads.wait_for(flags, n_threads, 2, 1000) == 0


@pytest.mark.parametrize("seed", range(12))
def test_an_abort_racing_the_arrivals_releases_every_waiter(seed):
    """One thread aborts at a random barrier, at a random moment among the
    others' arrivals at it, as a thread whose epoch failed does; every other
    thread returns, and reports the abort there or at the next barrier."""
    n_threads = N_THREADS
    rng = np.random.default_rng(seed)
    n_barriers = 12
    flags = _flags(n_threads)
    aborter = int(rng.integers(n_threads))
    abort_at = int(rng.integers(1, n_barriers + 1))
    # The aborter gives its core away this many times at its last barrier,
    # its abort landing before, among or after the others' arrivals.
    delay = int(rng.integers(0, 3 * n_threads))
    # Whether it arrives at the barrier it aborts at (a failure after
    # arriving) or not (a failure during the round).
    arrives_first = bool(rng.integers(2))
    outcomes = [[] for _ in range(n_threads)]

    def aborting():
        for barrier in range(1, abort_at):
            _threads.arrive(flags, aborter, barrier)
            outcomes[aborter].append(_wait(flags, n_threads, barrier))
        if arrives_first:
            _threads.arrive(flags, aborter, abort_at)
        for _ in range(delay):
            _yield_core()
        _threads.abort(flags, n_threads)

    def waiting(k):
        # One barrier more than the aborter can reach: every waiter meets
        # the abort, even one that passed the aborter's last barrier.
        for barrier in range(1, n_barriers + 2):
            _threads.arrive(flags, k, barrier)
            state = _wait(flags, n_threads, barrier)
            outcomes[k].append(state)
            if state != 1:
                return

    targets = [
        aborting if k == aborter else (lambda k=k: waiting(k)) for k in range(n_threads)
    ]
    errors, hung = _run_threads(targets)
    assert not errors
    assert not hung, "a thread still waits after the abort"
    for k in range(n_threads):
        if k == aborter:
            assert outcomes[k] == [1] * (abort_at - 1)
            continue
        states = outcomes[k]
        assert None not in states, f"thread {k} waited in vain"
        assert states[-1] == -1, f"thread {k} did not see the abort: {states}"
        # Barriers before the aborter's last open. A waiter still spinning at
        # that last one when the abort lands sees the abort there, which
        # wait_for reads first: every thread had arrived, but the fit fails
        # all the same. The failing barrier opens only if the aborter had
        # arrived, and the abort then came late.
        assert abort_at - 1 <= len(states) <= abort_at + 1
        assert states[:-1] == [1] * (len(states) - 1)
        if len(states) == abort_at + 1:
            assert arrives_first
    # The abort holds for every barrier, those to come and those passed.
    for barrier in (1, abort_at, n_barriers + 1):
        assert _threads.wait_for(flags, n_threads, barrier, 1) == -1


def test_an_abort_while_the_last_thread_arrives_leaves_no_waiter_behind():
    """Round after round of the tightest race: every thread but one waits at
    the barrier, and the last one arrives while another aborts."""
    n_threads, n_rounds = 16, 40
    seen = set()
    for round_ in range(n_rounds):
        flags = _flags(n_threads)
        outcomes = [None] * n_threads

        def waiting(k, flags=flags, outcomes=outcomes):
            _threads.arrive(flags, k, 1)
            outcomes[k] = _wait(flags, n_threads, 1)

        errors = []
        waiters = _start([lambda k=k: waiting(k) for k in range(n_threads - 1)], errors)
        arrivals = flags[
            : (n_threads - 1) * _threads.FLAG_STRIDE : _threads.FLAG_STRIDE
        ]
        deadline = time.monotonic() + HANG
        while not (arrivals == 1).all():
            assert time.monotonic() < deadline, "the waiters never arrived"
            _yield_core()
        # The last arrival and the abort start together; which lands first
        # is up to the scheduler.
        racers = _start(
            [
                lambda flags=flags: _threads.arrive(flags, n_threads - 1, 1),
                lambda flags=flags: _threads.abort(flags, n_threads),
            ],
            errors,
        )
        hung = _join(racers + waiters)
        assert not errors
        assert not hung, f"round {round_}: a waiter still waits"
        assert None not in outcomes[: n_threads - 1]
        assert set(outcomes[: n_threads - 1]) <= {1, -1}
        seen.update(outcomes[: n_threads - 1])
        # Once the abort landed, no barrier opens.
        assert _threads.wait_for(flags, n_threads, 1, 1) == -1
    assert -1 in seen
