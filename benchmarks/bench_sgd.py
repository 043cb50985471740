"""Seconds per epoch and held-out quality, sklosses against scikit-learn.

Both estimators get the same data and hyper-parameters in one process; the
table reports the median time per epoch over ``--repeats`` fits and the
ratio scikit-learn / sklosses (above 1: sklosses is faster).

    python benchmarks/bench_sgd.py            # the full sizes (a few minutes)
    python benchmarks/bench_sgd.py --quick    # tiny sizes, fewer processes: a smoke run
"""

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from functools import partial

import numpy as np
import scipy.sparse as sp
from sklearn import linear_model
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss, root_mean_squared_error

import sklosses
from sklosses.losses import Loss, SquaredLoss


def dense_regression(n_samples, n_features, rng):
    X = rng.normal(size=(n_samples, n_features))
    y = X @ rng.normal(size=n_features) + rng.normal(size=n_samples)
    return X, y


def sparse_regression(n_samples, n_features, nnz_per_row, rng):
    indices = rng.integers(n_features, size=n_samples * nnz_per_row, dtype=np.int32)
    indptr = np.arange(0, n_samples * nnz_per_row + 1, nnz_per_row)
    data = rng.normal(size=indices.shape[0]) / np.sqrt(nnz_per_row)
    X = sp.csr_matrix((data, indices, indptr), shape=(n_samples, n_features))
    X.sum_duplicates()
    y = X @ rng.normal(size=n_features) + 0.1 * rng.normal(size=n_samples)
    return X, y


def classes_from(raw, rng):
    """Labels drawn from the softmax of ``raw`` (one column: logistic)."""
    if raw.ndim == 1:
        return (raw + rng.logistic(size=raw.shape) > 0).astype(np.int64)
    return np.argmax(raw + rng.gumbel(size=raw.shape), axis=1)


def time_per_epoch(make_model, X, y, epochs, repeats):
    """Median seconds per epoch of ``fit`` with a fixed number of epochs."""
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(repeats):
            model = make_model(max_iter=epochs, tol=None)
            start = time.perf_counter()
            model.fit(X, y)
            times.append((time.perf_counter() - start) / epochs)
    return float(np.median(times)), model


def compare(name, estimator, X, y, params, metric, epochs, repeats):
    """One table row: sklosses's and scikit-learn's ``estimator`` on the same data.

    ``metric(model, X_test, y_test)`` returns the quality column as text.
    """
    n_test = X.shape[0] // 5
    X_train, X_test, y_train, y_test = X[n_test:], X[:n_test], y[n_test:], y[:n_test]
    rows = []
    for library in (sklosses, linear_model):
        make_model = partial(getattr(library, estimator), random_state=0, **params)
        make_model(max_iter=1, tol=None).fit(X_train[:100], y_train[:100])  # compile
        seconds, model = time_per_epoch(make_model, X_train, y_train, epochs, repeats)
        rows.append((seconds, metric(model, X_test, y_test)))
    (ours, our_error), (theirs, their_error) = rows
    print(
        f"| {name} | {ours * 1e3:.1f} | {theirs * 1e3:.1f} | {theirs / ours:.2f}x "
        f"| {our_error} | {their_error} |"
    )


def rmse(model, X, y):
    return f"{root_mean_squared_error(y, model.predict(X)):.4f}"


def accuracy_and_log_loss(model, X, y):
    text = f"{accuracy_score(y, model.predict(X)):.4f}"
    if hasattr(model, "predict_proba"):
        text += f" / {log_loss(y, model.predict_proba(X)):.4f}"
    return text


def one_pass_ms(X, repeats, n_outputs=None):
    """Median milliseconds of one single-threaded ``X @ w``: an epoch's floor.

    With ``n_outputs``, ``X @ W`` for W of shape (n_features, n_outputs).
    """
    from threadpoolctl import threadpool_limits

    w = np.ones(X.shape[1] if n_outputs is None else (X.shape[1], n_outputs))
    times = []
    with threadpool_limits(limits=1):
        for _ in range(repeats):
            start = time.perf_counter()
            X @ w
            times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def visiting_orders(X, y, epochs, repeats):
    """Dense rows sorted by class: each shuffle mode against scikit-learn's."""
    n_test = X.shape[0] // 5
    X_test, y_test = X[:n_test], y[:n_test]
    by_class = n_test + np.argsort(y[n_test:], kind="stable")
    X_train, y_train = X[by_class], y[by_class]
    floor = one_pass_ms(X_train, repeats)
    print(f"| one `X @ w` pass | {floor:.1f} | 1.00 | |")
    candidates = [
        (f"sklosses shuffle={mode!r}", partial(sklosses.SGDClassifier, shuffle=mode))
        for mode in (True, "permutation", False)
    ] + [("scikit-learn", linear_model.SGDClassifier)]
    for name, estimator in candidates:
        make_model = partial(estimator, loss="log_loss", random_state=0)
        make_model(max_iter=1, tol=None).fit(X_test[:100], y_test[:100])  # compile
        seconds, model = time_per_epoch(make_model, X_train, y_train, epochs, repeats)
        quality = log_loss(y_test, model.predict_proba(X_test))
        print(f"| {name} | {seconds * 1e3:.1f} | {seconds * 1e3 / floor:.2f} "
              f"| {quality:.4f} |")  # fmt: skip


FIRST_FIT = textwrap.dedent(
    """
    import time
    start = time.perf_counter()
    from {module} import SGDClassifier
    import numpy as np
    X = np.random.default_rng(0).normal(size=(1000, 20))
    SGDClassifier(random_state=0).fit(X, X[:, 0] > 0)
    print(time.perf_counter() - start)
    """
)

# numba's own start-up, the floor of what a warm first fit adds to
# scikit-learn's: import numba and call one tiny function from its cache
# (NumPy, which scikit-learn imports too, is loaded first).
NUMBA_ALONE = textwrap.dedent(
    """
    import sys
    import time
    import numpy
    start = time.perf_counter()
    sys.path.insert(0, {folder!r})
    from cached_function import add_one
    add_one(1.0)
    print(time.perf_counter() - start)
    """
)
CACHED_FUNCTION = textwrap.dedent(
    """
    import numba

    @numba.njit(cache=True)
    def add_one(x):
        return x + 1.0
    """
)


def process_seconds(script, env=None):
    """What ``script`` prints, run in a fresh Python process: its seconds."""
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, check=True, capture_output=True
    )
    return float(run.stdout)


def first_fits(runs=5, cold=True):
    """Fresh processes: scikit-learn's first fit, ours, and numba's start-up.

    Start-up times swing by a second from one process to the next here, so
    the three alternate and each row is the median of ``runs`` processes.
    Without ``cold``, no process compiles the engine from an empty cache
    (``bench_compile_cache.py`` measures that at length).
    """
    sklearn_fit = FIRST_FIT.format(module="sklearn.linear_model")
    our_fit = FIRST_FIT.format(module="sklosses")
    times = {"sklearn": [], "warm": [], "numba": [], "cold": []}
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "cached_function.py"), "w") as module:
            module.write(CACHED_FUNCTION)
        numba_alone = NUMBA_ALONE.format(folder=folder)
        process_seconds(our_fit)  # fill numba's caches
        process_seconds(numba_alone)
        for _ in range(runs):
            times["sklearn"].append(process_seconds(sklearn_fit))
            times["warm"].append(process_seconds(our_fit))
            times["numba"].append(process_seconds(numba_alone))
    for _ in range(max(1, runs // 2) if cold else 0):
        with tempfile.TemporaryDirectory() as empty:
            env = {**os.environ, "NUMBA_CACHE_DIR": empty}
            times["cold"].append(process_seconds(our_fit, env))
    sklearn, warm, numba = (np.median(times[k]) for k in ("sklearn", "warm", "numba"))
    print(f"| scikit-learn | {sklearn:.2f} | |")
    print(f"| sklosses, numba cache warm | {warm:.2f} | {warm - sklearn:+.2f} |")
    if cold:
        cold = np.median(times["cold"])
        print(f"| sklosses, numba cache empty | {cold:.2f} | {cold - sklearn:+.2f} |")
    print(f"| numba alone: import, one cached function's first call | {numba:.2f} | |")


PEAK_MEMORY = textwrap.dedent(
    """
    import resource
    import numpy as np
    import scipy.sparse as sp
    from {module} import SGDClassifier

    def rss():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()

    def peak_rss():
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM"))
        return int(line.split()[1]) * 1024

    rng = np.random.default_rng(0)
    if {sparse}:
        X = sp.random({n_samples}, 2**18, density=60 / 2**18, format="csr", rng=rng)
        input_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    else:
        X = rng.normal(size=({n_samples}, 100))
        input_bytes = X.nbytes
    y = rng.random({n_samples}) > 0.5
    model = SGDClassifier(max_iter=2, tol=None, early_stopping={early_stopping})
    # Load the kernels this kind of input needs, and warm up, on a small fit.
    model.fit(X[:1000], y[:1000])
    before = rss()
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets the peak to the current size (Linux)
    model.fit(X, y)
    print(input_bytes, peak_rss() - before)
    """
)


def peak_memory(n_samples, sparse, early_stopping=False):
    """Fit with 2 epochs in a fresh process: the input's size and the peak above."""
    rows = []
    for module in ("sklosses", "sklearn.linear_model"):
        script = PEAK_MEMORY.format(
            module=module, n_samples=n_samples, sparse=sparse,
            early_stopping=early_stopping,
        )  # fmt: skip
        run = subprocess.run(
            [sys.executable, "-c", script], check=True, capture_output=True
        )
        rows.append([int(value) for value in run.stdout.split()])
    (input_bytes, ours), (_, theirs) = rows
    name = ("CSR" if sparse else "dense") + (", early stopping" * early_stopping)
    print(
        f"| {name} {n_samples:,} rows, {input_bytes / 2**20:.0f} MiB | "
        f"{ours / 2**20:.1f} MiB ({ours / input_bytes:.1%}) | "
        f"{theirs / 2**20:.1f} MiB ({theirs / input_bytes:.1%}) |"
    )


def dtypes_and_threads(X, y, epochs, repeats):
    """float32 against float64, and one-vs-rest on 1 thread against 2."""
    runs = [
        ("float64, n_jobs=1", X, {}),
        ("float32, n_jobs=1", X.astype(np.float32), {}),
        ("float64, n_jobs=2", X, {"n_jobs": 2}),
    ]
    reference = None
    for name, X_run, params in runs:
        make_model = partial(
            sklosses.SGDClassifier, loss="hinge", random_state=0, **params
        )
        make_model(max_iter=1, tol=None).fit(X_run[:1000], y[:1000])  # compile
        seconds, _ = time_per_epoch(make_model, X_run, y, epochs, repeats)
        reference = reference or seconds
        print(f"| {name} | {seconds * 1e3:.1f} | {reference / seconds:.2f}x |")
    one, two = passes_on_threads(X, repeats)
    print(f"| two `X @ w` passes, 1 thread | {one:.1f} | 1.00x |")
    print(f"| two `X @ w` passes, 2 threads | {two:.1f} | {one / two:.2f}x |")


def passes_on_threads(X, repeats):
    """Milliseconds of two ``X @ w`` passes on one thread, and on two at once.

    The ratio is the most that memory lets two threads gain over one on a
    pass over X: the ceiling of ``n_jobs=2``, whose threads each stream X.
    It swings from run to run, so each is the median of many.
    """
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    w = np.ones(X.shape[1])
    one, two = [], []
    with threadpool_limits(limits=1), ThreadPoolExecutor(2) as pool:
        for _ in range(5 * repeats):
            start = time.perf_counter()
            X @ w, X @ w
            one.append(time.perf_counter() - start)
            start = time.perf_counter()
            list(pool.map(lambda _: X @ w, range(2)))
            two.append(time.perf_counter() - start)
    return float(np.median(one)) * 1e3, float(np.median(two)) * 1e3


def multinomial_epoch(X, y, epochs, repeats):
    """The softmax's epoch against one ``X @ W`` pass."""
    n_classes = np.unique(y).size
    floor = one_pass_ms(X, repeats, n_outputs=n_classes)
    make_model = partial(sklosses.SGDClassifier, loss="log_loss", random_state=0)
    make_model(max_iter=1, tol=None).fit(X[:1000], y[:1000])  # compile
    seconds, _ = time_per_epoch(make_model, X, y, epochs, repeats)
    print(
        f"| softmax, {X.shape[0]:,} x {X.shape[1]}, {n_classes} classes | {floor:.1f} "
        f"| {seconds * 1e3:.1f} | {seconds * 1e3 / floor:.2f} |"
    )


class UserSquaredLoss(Loss):
    """The built-in squared loss, written as a user would."""

    @staticmethod
    def sample_loss(y, raw, params):
        r = raw - y
        return 0.5 * r * r

    @staticmethod
    def sample_gradient(y, raw, params):
        return raw - y


def user_defined_loss(datasets, epochs, repeats):
    """A user-defined copy of the squared loss against the built-in one."""
    for name, X, y in datasets:
        times = []
        for loss in (SquaredLoss(), UserSquaredLoss()):
            make_model = partial(sklosses.SGDRegressor, loss=loss, random_state=0)
            start = time.perf_counter()
            make_model(max_iter=1, tol=None).fit(X[:100], y[:100])  # compile
            compile_seconds = time.perf_counter() - start
            times.append(time_per_epoch(make_model, X, y, epochs, repeats)[0])
        builtin, user = times
        print(
            f"| {name} | {builtin * 1e3:.1f} | {user * 1e3:.1f} "
            f"| {user / builtin:.2f} | {compile_seconds:.1f} |"
        )


def softmax_objective(model, X, y, alpha):
    """Mean log loss plus ``alpha / 2 * |W|^2``: what both models minimize."""
    probabilities = model.predict_proba(X)
    return log_loss(y, probabilities, labels=model.classes_) + 0.5 * alpha * np.sum(
        model.coef_**2
    )


def multinomial_against_logistic_regression(X, y, alpha=1e-4, max_epochs=20):
    """Seconds until SGD's softmax is within 1% of LogisticRegression's objective."""
    start = time.perf_counter()
    reference = linear_model.LogisticRegression(C=1.0 / (alpha * X.shape[0])).fit(X, y)
    lbfgs_seconds = time.perf_counter() - start
    target = 1.01 * softmax_objective(reference, X, y, alpha)
    params = dict(
        loss="log_loss", alpha=alpha, learning_rate="auto", tol=None, random_state=0
    )
    sklosses.SGDClassifier(max_iter=1, **params).fit(X[:100], y[:100])  # compile
    for epochs in range(1, max_epochs + 1):
        start = time.perf_counter()
        model = sklosses.SGDClassifier(max_iter=epochs, **params).fit(X, y)
        seconds = time.perf_counter() - start
        if softmax_objective(model, X, y, alpha) <= target:
            break
    ratio = softmax_objective(model, X, y, alpha) / (target / 1.01)
    print(
        f"| {X.shape[0]:,} x {X.shape[1]}, {np.unique(y).size} classes "
        f"| {lbfgs_seconds:.2f} | {seconds:.2f} ({epochs} epochs) | {ratio:.4f} |"
    )


def local_sgd(name, X, y, params, metric, epochs, repeats, auto_optimum=None):
    """One table row: ``n_partitions=2`` on two threads against one partition
    and against scikit-learn, per epoch, with the held-out metric of each
    after ``epochs``; with ``auto_optimum`` (the optimum's held-out metric),
    also ``learning_rate="auto"`` after 2 epochs, as a ratio to it."""
    n_test = X.shape[0] // 5
    X_train, X_test, y_train, y_test = X[n_test:], X[:n_test], y[n_test:], y[:n_test]
    makers = [
        partial(library.SGDClassifier, random_state=0, **params, **extra)
        for library, extra in [
            (sklosses, {}),
            (sklosses, {"n_partitions": 2, "n_jobs": 2}),
            (linear_model, {}),
        ]
    ]
    for make_model in makers:
        make_model(max_iter=1, tol=None).fit(X_train[:1000], y_train[:1000])
    # The three take turns, so that a slow spell of the machine slows each.
    times = [[] for _ in makers]
    for _ in range(repeats):
        for make_model, seconds in zip(makers, times, strict=True):
            seconds.append(time_per_epoch(make_model, X_train, y_train, epochs, 1))
    cells = [
        (np.median([s for s, _ in seconds]), metric(seconds[-1][1], X_test, y_test))
        for seconds in times
    ]
    (one, quality_one), (two, quality_two), (theirs, _) = cells
    auto = ""
    if auto_optimum is not None:
        ratios = []
        for n_partitions in (1, 2):
            model = sklosses.SGDClassifier(
                learning_rate="auto", max_iter=2, tol=None, n_partitions=n_partitions,
                n_jobs=2, random_state=0, **params,
            ).fit(X_train, y_train)  # fmt: skip
            ratios.append(metric(model, X_test, y_test) / auto_optimum)
        auto = f" | {ratios[0]:.4f} / {ratios[1]:.4f}"
    print(
        f"| {name} | {one * 1e3:.1f} | {two * 1e3:.1f} | {two / one:.2f} "
        f"| {theirs * 1e3:.1f} | {theirs / two:.1f}x | {quality_one:.5f} "
        f"| {quality_two:.5f} ({quality_two / quality_one:.4f}){auto} |"
    )


def held_out_log_loss(model, X, y):
    return log_loss(y, model.predict_proba(X), labels=model.classes_)


def held_out_error(model, X, y):
    return 1.0 - accuracy_score(y, model.predict(X))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args(argv)
    scale = 1000 if args.quick else 1
    rng = np.random.default_rng(0)

    runs = {"epochs": args.epochs, "repeats": args.repeats}

    print(
        "| regression, held-out RMSE | sklosses ms/epoch | scikit-learn ms/epoch "
        "| speed-up | sklosses RMSE | scikit-learn RMSE |"
    )
    print("|---|---|---|---|---|---|")
    X, y = dense_regression(400_000 // scale, 100, rng)
    name = f"dense {X.shape[0]:,} x {X.shape[1]}, squared"
    compare(name, "SGDRegressor", X, y, {}, rmse, **runs)
    X, y = sparse_regression(200_000 // scale, 2**18, 60, rng)
    name = f"CSR {X.shape[0]:,} x 2^18, {X.nnz / X.shape[0]:.0f} nnz/row, squared"
    compare(name, "SGDRegressor", X, y, {"alpha": 1e-6}, rmse, **runs)

    print()
    print(
        "| classification, held-out accuracy / log loss | sklosses ms/epoch "
        "| scikit-learn ms/epoch | speed-up | sklosses | scikit-learn |"
    )
    print("|---|---|---|---|---|---|")
    X, _ = dense_regression(400_000 // scale, 100, rng)
    y = classes_from(X @ rng.normal(size=X.shape[1]) / 3, rng)
    for loss in ("log_loss", "hinge"):
        name = f"dense {X.shape[0]:,} x {X.shape[1]}, binary {loss}"
        compare(name, "SGDClassifier", X, y, {"loss": loss}, accuracy_and_log_loss,
                **runs)  # fmt: skip
    X, _ = sparse_regression(200_000 // scale, 2**18, 60, rng)
    y = classes_from(X @ rng.normal(size=X.shape[1]) * 3, rng)
    for loss in ("log_loss", "hinge"):
        name = f"CSR {X.shape[0]:,} x 2^18, binary {loss}"
        params = {"loss": loss, "alpha": 1e-6}
        compare(name, "SGDClassifier", X, y, params, accuracy_and_log_loss, **runs)
    X, _ = dense_regression(200_000 // scale, 100, rng)
    y = classes_from(X @ rng.normal(size=(X.shape[1], 10)) / 3, rng)
    # scikit-learn fits 10 one-vs-rest models; sklosses one softmax.
    name = f"dense {X.shape[0]:,} x {X.shape[1]}, 10 classes, log_loss"
    compare(name, "SGDClassifier", X, y, {"loss": "log_loss"}, accuracy_and_log_loss,
            **runs)  # fmt: skip

    print()
    print(
        "| local SGD, 2 threads | n_partitions=1 ms/epoch | n_partitions=2 "
        "ms/epoch | ratio | scikit-learn ms/epoch | 2 partitions' speed-up "
        "| held-out, 1 partition | held-out, 2 (ratio) "
        "| auto after 2 epochs / optimum, 1 / 2 partitions |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    X, _ = dense_regression(400_000 // scale, 100, rng)
    y = classes_from(X @ rng.normal(size=X.shape[1]) / 3, rng)
    n_test = X.shape[0] // 5
    optimum = linear_model.LogisticRegression(C=1.0 / (1e-4 * (X.shape[0] - n_test)))
    optimum.fit(X[n_test:], y[n_test:])
    local_sgd(
        f"dense {X.shape[0]:,} x {X.shape[1]}, binary log_loss", X, y,
        {"loss": "log_loss"}, held_out_log_loss, **runs,
        auto_optimum=held_out_log_loss(optimum, X[:n_test], y[:n_test]),
    )  # fmt: skip
    X, _ = sparse_regression(200_000 // scale, 2**18, 60, rng)
    y = classes_from(X @ rng.normal(size=X.shape[1]) * 3, rng)
    local_sgd(
        f"CSR {X.shape[0]:,} x 2^18, hinge (held-out error)", X, y,
        {"loss": "hinge", "alpha": 1e-6}, held_out_error, **runs,
    )  # fmt: skip
    X, _ = dense_regression(200_000 // scale, 100, rng)
    y = classes_from(X @ rng.normal(size=(X.shape[1], 10)) / 3, rng)
    local_sgd(
        f"dense {X.shape[0]:,} x {X.shape[1]}, softmax, 10 classes", X, y,
        {"loss": "log_loss"}, held_out_log_loss, **runs,
    )  # fmt: skip

    print()
    print(
        "| binary log loss, dense rows sorted by class | ms/epoch | x one pass "
        "| held-out log loss |"
    )
    print("|---|---|---|---|")
    X, _ = dense_regression(400_000 // scale, 100, rng)
    y = classes_from(X @ rng.normal(size=X.shape[1]) / 3, rng)
    visiting_orders(X, y, **runs)

    print()
    print(
        "| multinomial, dense | one `X @ W` pass ms | sklosses ms/epoch | x one pass |"
    )
    print("|---|---|---|---|")
    X, _ = dense_regression(200_000 // scale, 100, rng)
    y = classes_from(X @ rng.normal(size=(X.shape[1], 10)) / 3, rng)
    multinomial_epoch(X, y, **runs)

    print()
    print(
        "| squared loss | built-in ms/epoch | user-defined ms/epoch | ratio "
        "| user loss's first fit, s |"
    )
    print("|---|---|---|---|---|")
    X, y = dense_regression(400_000 // scale, 100, rng)
    X_csr, y_csr = sparse_regression(200_000 // scale, 2**18, 60, rng)
    datasets = [(f"dense {X.shape[0]:,} x 100", X, y)]
    if not args.quick:
        # Compiling the user's loop for CSR rows too takes seconds.
        datasets.append((f"CSR {X_csr.shape[0]:,} x 2^18", X_csr, y_csr))
    user_defined_loss(datasets, **runs)

    print()
    print(
        "| softmax to within 1% of LogisticRegression's objective "
        "| lbfgs seconds | sklosses seconds | objective / optimum |"
    )
    print("|---|---|---|---|")
    X, _ = dense_regression(200_000 // scale, 100, rng)
    y = classes_from(X @ rng.normal(size=(X.shape[1], 10)) / 3, rng)
    multinomial_against_logistic_regression(X, y)

    print()
    print("| one-vs-rest hinge, 4 classes, dense | ms/epoch | speed-up |")
    print("|---|---|---|")
    X, _ = dense_regression(200_000 // scale, 100, rng)
    y = classes_from(X @ rng.normal(size=(X.shape[1], 4)) / 3, rng)
    dtypes_and_threads(X, y, **runs)

    print()
    print("| peak memory of fit above the input | sklosses | scikit-learn |")
    print("|---|---|---|")
    peak_memory(400_000 // scale, sparse=False)
    if not args.quick:  # fresh processes, seconds each
        peak_memory(200_000 // scale, sparse=True)
        peak_memory(400_000 // scale, sparse=False, early_stopping=True)

    print()
    print("| import + first fit, 1,000 x 20, new process | seconds | vs scikit-learn |")
    print("|---|---|---|")
    first_fits(runs=1 if args.quick else 5, cold=not args.quick)


if __name__ == "__main__":
    main()
