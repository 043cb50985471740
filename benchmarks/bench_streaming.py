"""Streaming: the cost of one ``partial_fit`` call on a small batch.

Per-call time of ``partial_fit`` on batches of 1, 10, 100 and 1,000 rows of
20 features, after the first call, for sklosses and scikit-learn in the same
run: a binary classifier, 5-class models (softmax and one-vs-rest) and a
regressor. Rows per second against river's ``learn_one`` where river is
installed (it is not a dependency). Each cell is the best of ``--repeats``
rounds of ``--calls`` calls; a round runs every estimator once in turn.
Last, ``fit`` on small folds of 200 x 20, as cross-validation and grid
searches run it, with the epochs each ran.

    python benchmarks/bench_streaming.py            # about a minute
    python benchmarks/bench_streaming.py --quick    # tiny sizes, a smoke run
"""

import argparse
import functools
import time

import numpy as np
from sklearn import linear_model as sklearn_models

import sklosses

N_FEATURES = 20

# (label, estimator kind, n_classes, sklosses parameters, scikit-learn's)
MODELS = [
    ("binary classifier, hinge", "classifier", 2, {}, {}),
    ("binary classifier, log loss", "classifier", 2, {"loss": "log_loss"},
     {"loss": "log_loss"}),
    ("5 classes, softmax", "classifier", 5, {"loss": "log_loss"},
     {"loss": "log_loss"}),
    ("5 classes, one-vs-rest", "classifier", 5,
     {"loss": "log_loss", "multi_class": "ovr"}, {"loss": "log_loss"}),
    ("regressor, squared", "regressor", None, {}, {}),
]  # fmt: skip


def batches(kind, n_classes, rows, n_batches, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_batches, rows, N_FEATURES))
    w = rng.normal(size=(N_FEATURES, n_classes or 1))
    scores = X @ w
    if kind == "regressor":
        return X, scores[..., 0]
    if n_classes == 2:
        return X, (scores[..., 0] > 0).astype(int)
    return X, scores.argmax(axis=-1)


def per_call(model, X, y, fit_params):
    start = time.perf_counter()
    for X_batch, y_batch in zip(X, y, strict=True):
        model.partial_fit(X_batch, y_batch, **fit_params)
    return (time.perf_counter() - start) / len(X)


def estimators(kind, ours, theirs):
    """``(name, make)`` for sklosses and scikit-learn: ``make()`` builds the
    estimator of ``kind`` with its library's parameters, seeded."""
    for name, module, params in (
        ("sklosses", sklosses, ours),
        ("scikit-learn", sklearn_models, theirs),
    ):
        estimator = getattr(module, f"SGD{kind.capitalize()}")
        yield name, functools.partial(estimator, random_state=0, **params)


def small_fits(kind, n_classes, ours, theirs, n_folds, repeats):
    """Seconds per ``fit`` on folds of 200 x 20, and the mean epochs run."""
    X, y = batches(kind, n_classes, 200, n_folds, seed=1)
    rng = np.random.default_rng(2)
    if kind == "regressor":
        y = y + rng.normal(size=y.shape)  # noise: SGD stops on a plateau
    else:  # a tenth of the labels drawn at random: not separable
        noise = rng.integers(n_classes, size=y.shape)
        y = np.where(rng.random(y.shape) < 0.1, noise, y)
    makers = dict(estimators(kind, ours, theirs))
    best = dict.fromkeys(makers, np.inf)
    epochs = {name: [] for name in makers}
    for make in makers.values():
        make().fit(X[0], y[0])  # compiled, imported
    # Each round fits every estimator in turn, as the partial_fit rounds do:
    # a busy spell of the machine then slows both, not one.
    for _ in range(repeats):
        for name, make in makers.items():
            start = time.perf_counter()
            for X_fold, y_fold in zip(X, y, strict=True):
                model = make().fit(X_fold, y_fold)
                epochs[name].append(model.n_iter_)
            best[name] = min(best[name], (time.perf_counter() - start) / n_folds)
    return {name: (best[name], np.mean(epochs[name])) for name in makers}


def river_rows_per_second(rows, n_batches):
    try:
        from river import linear_model as river_models
        from river import optim
    except ImportError:
        return None
    X, y = batches("classifier", 2, rows, n_batches)
    model = river_models.LogisticRegression(optimizer=optim.SGD(0.01))
    records = [
        ({f"x{j}": v for j, v in enumerate(row)}, bool(target))
        for row, target in zip(X.reshape(-1, N_FEATURES), y.ravel(), strict=True)
    ]
    start = time.perf_counter()
    for features, target in records:
        model.learn_one(features, target)
    return len(records) / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="tiny sizes")
    args = parser.parse_args(argv)
    sizes = (1, 10, 100, 1000)
    if args.quick:
        args.calls, args.repeats, sizes = 5, 1, (10, 100)

    print(f"partial_fit per call, {N_FEATURES} features, microseconds "
          "(sklosses / scikit-learn)\n")  # fmt: skip
    print("| model | rows | sklosses | scikit-learn | ratio |")
    print("|---|---|---|---|---|")
    for label, kind, n_classes, ours, theirs in MODELS:
        for rows in sizes:
            X, y = batches(kind, n_classes, rows, args.calls)
            classes = {"classes": np.arange(n_classes)} if n_classes else {}
            models = {}
            for name, make in estimators(kind, ours, theirs):
                # The first call, which sets the model up, is not timed.
                models[name] = make().partial_fit(X[0], y[0], **classes)
            best = {name: np.inf for name in models}
            for _ in range(args.repeats):
                for name, model in models.items():
                    seconds = per_call(model, X, y, classes)
                    best[name] = min(best[name], seconds)
            ours_us, theirs_us = best["sklosses"] * 1e6, best["scikit-learn"] * 1e6
            print(f"| {label} | {rows:,} | {ours_us:.0f} | {theirs_us:.0f} | "
                  f"{ours_us / theirs_us:.2f}x |")  # fmt: skip

    print("\nfit on folds of 200 x 20, microseconds (mean epochs run)\n")
    print("| model | sklosses | scikit-learn | ratio |")
    print("|---|---|---|---|")
    n_folds = 3 if args.quick else 30
    for label, kind, n_classes, ours, theirs in MODELS:
        fits = small_fits(kind, n_classes, ours, theirs, n_folds, args.repeats)
        (ours_s, ours_n), (theirs_s, theirs_n) = fits.values()
        print(f"| {label} | {ours_s * 1e6:.0f} ({ours_n:.1f}) | "
              f"{theirs_s * 1e6:.0f} ({theirs_n:.1f}) | "
              f"{ours_s / theirs_s:.2f}x |")  # fmt: skip

    print("\nRows per second, binary log loss, batches of 100 rows\n")
    print("| | rows/s |")
    print("|---|---|")
    X, y = batches("classifier", 2, 100, args.calls)
    model = sklosses.SGDClassifier(loss="log_loss", random_state=0)
    model.partial_fit(X[0], y[0], classes=[0, 1])
    seconds = min(per_call(model, X, y, {}) for _ in range(args.repeats))
    print(f"| sklosses partial_fit | {100 / seconds:,.0f} |")
    river = river_rows_per_second(100, min(args.calls, 50))
    if river is None:
        print("| river learn_one | (river is not installed) |")
    else:
        print(f"| river learn_one | {river:,.0f} |")


if __name__ == "__main__":
    main()
