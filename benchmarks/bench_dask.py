"""Throughput of sklosses.dask.fit_distributed with 1 and 2 dask workers.

Each configuration starts a LocalCluster of process workers, persists the
same dask array on it (8 row blocks of 50,000 x 100 float64, logistic
labels), and times 3 rounds of parameter mixing; a single-process fit of 3
epochs on the same data in memory is the reference.

    python benchmarks/bench_dask.py            # about a minute
    python benchmarks/bench_dask.py --quick    # tiny sizes, a smoke run
"""

import argparse
import time

import numpy as np
from sklearn.metrics import log_loss

from sklosses import SGDClassifier
from sklosses.dask import fit_distributed

PARAMS = dict(loss="log_loss", learning_rate="auto", random_state=0)


def data(n_blocks, block_rows):
    import dask.array as da

    rng = da.random.RandomState(0)
    n = n_blocks * block_rows
    X = rng.normal(size=(n, 100), chunks=(block_rows, 100))
    w = np.linspace(-0.3, 0.3, 100)
    y = (X @ w + rng.logistic(size=n, chunks=block_rows) > 0).astype(int)
    return X, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes")
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    block_rows = 500 if args.quick else 50_000
    X, y = data(8, block_rows)
    X_local, y_local = X.compute(), y.compute()
    X_test, y_test = X_local[:block_rows], y_local[:block_rows]
    SGDClassifier(**PARAMS).partial_fit(X_test[:10], y_test[:10], classes=[0, 1])
    start = time.perf_counter()
    single = SGDClassifier(max_iter=3, tol=None, **PARAMS).fit(X_local, y_local)
    seconds = time.perf_counter() - start
    quality = log_loss(y_test, single.predict_proba(X_test))
    print("| training | seconds | rows/s | log loss |")
    print("|---|---|---|---|")
    print(f"| one process, in memory | {seconds:.2f} "
          f"| {3 * len(y_local) / seconds:,.0f} | {quality:.4f} |")  # fmt: skip
    for n_workers in (1, 2):
        with LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True,
            dashboard_address=None,
        ) as cluster, Client(cluster) as client:  # fmt: skip
            Xp, yp = client.persist([X, y])
            fit_distributed(SGDClassifier(**PARAMS), Xp[:1000], yp[:1000], epochs=1)
            start = time.perf_counter()
            model = fit_distributed(SGDClassifier(**PARAMS), Xp, yp, epochs=3)
            seconds = time.perf_counter() - start
        quality = log_loss(y_test, model.predict_proba(X_test))
        print(f"| fit_distributed, {n_workers} worker{'s' * (n_workers > 1)} "
              f"| {seconds:.2f} | {3 * len(y_local) / seconds:,.0f} "
              f"| {quality:.4f} |")  # fmt: skip


if __name__ == "__main__":
    main()
