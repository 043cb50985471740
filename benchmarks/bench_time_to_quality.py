"""Time until the held-out loss is within 1% of the exact optimum's.

For each problem, a deterministic solver (LogisticRegression with lbfgs,
Ridge, L-BFGS on the Huber objective) minimizes the same regularized
objective as SGD; its held-out loss is the optimum. Each SGD configuration
then runs epoch after epoch (``partial_fit``, so an epoch continues the
previous one's schedule; ``learning_rate="auto"`` is also fitted from
scratch for each number of epochs, as its fit restarts its average), and the
table reports the time and the number of epochs after which its held-out
loss is first within 1% of the optimum, or its best ratio when it never gets
there; and what a default ``fit`` with ``learning_rate="auto"`` gives: the
ratio to the optimum, its time and epochs.

    python benchmarks/bench_time_to_quality.py            # a few minutes
    python benchmarks/bench_time_to_quality.py --quick    # tiny sizes, a smoke run
"""

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import huber
from sklearn import datasets, linear_model
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import sklosses

ALPHA = 1e-5
TOLERANCE = 1.01
AUTO = "sklosses auto"
SKLEARN_ETA0_GRID = (1e-4, 1e-3, 1e-2, 1e-1)


class Problem:
    """A train/test split, its loss, and the objective's exact optimum."""

    def __init__(self, name, X, y, loss, epochs):
        self.name, self.loss, self.epochs = name, loss, epochs
        self.X_train, self.X_test, self.y_train, self.y_test = train_test_split(
            X, y, test_size=0.25, random_state=0
        )
        self.estimator = "SGDRegressor" if loss != "log_loss" else "SGDClassifier"
        self.classes = np.unique(y) if loss == "log_loss" else None

    def held_out_loss(self, model):
        if self.loss == "log_loss":
            return log_loss(self.y_test, model.predict_proba(self.X_test))
        residual = model.predict(self.X_test) - self.y_test
        if self.loss == "huber":
            return float(np.mean(huber(1.0, residual)))
        return mean_squared_error(self.y_test, self.y_test + residual)

    def reference(self):
        """The deterministic solver's seconds and held-out loss."""
        n_samples = self.X_train.shape[0]
        start = time.perf_counter()
        if self.loss == "log_loss":
            model = linear_model.LogisticRegression(C=1.0 / (ALPHA * n_samples))
            model.fit(self.X_train, self.y_train)
        elif self.loss == "squared_error":
            model = linear_model.Ridge(alpha=ALPHA * n_samples, solver="auto")
            model.fit(self.X_train, self.y_train)
        else:
            model = _huber_lbfgs(self.X_train, self.y_train)
        return time.perf_counter() - start, self.held_out_loss(model)


class _Linear:
    def __init__(self, coef, intercept):
        self.coef, self.intercept = coef, intercept

    def predict(self, X):
        return X @ self.coef + self.intercept


def _huber_lbfgs(X, y, delta=1.0):
    """L-BFGS on mean Huber loss + alpha / 2 |w|^2, SGD's Huber objective."""
    n_samples, n_features = X.shape

    def objective(params):
        w, b = params[:-1], params[-1]
        r = X @ w + b - y
        gradient = np.clip(r, -delta, delta) / n_samples
        value = np.mean(huber(delta, r)) + 0.5 * ALPHA * w @ w
        return value, np.append(X.T @ gradient + ALPHA * w, gradient.sum())

    result = minimize(
        objective, np.zeros(n_features + 1), jac=True, method="L-BFGS-B",
        options={"maxiter": 10_000, "gtol": 1e-10},
    )  # fmt: skip
    return _Linear(result.x[:-1], result.x[-1])


def epochs_to_quality(problem, make_model, optimum, refit=False):
    """Seconds and epochs until within TOLERANCE of ``optimum``, or the best ratio.

    Epoch after epoch with ``partial_fit``, or, with ``refit``, one
    ``fit(max_iter=epochs, tol=None)`` from scratch per number of epochs (the
    time of that fit): ``learning_rate="auto"``'s fit restarts its average,
    which a sequence of ``partial_fit`` calls, meant for a stream, does not.
    """
    fit_params = {"classes": problem.classes} if problem.classes is not None else {}
    seconds, best = 0.0, np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Load (or compile) the kernels outside the timing.
        make_model().partial_fit(
            problem.X_train[:50], problem.y_train[:50], **fit_params
        )
        model = make_model()
        for epoch in range(1, problem.epochs + 1):
            start = time.perf_counter()
            if refit:
                model = make_model().set_params(max_iter=epoch, tol=None)
                model.fit(problem.X_train, problem.y_train)
                seconds = 0.0
            else:
                model.partial_fit(problem.X_train, problem.y_train, **fit_params)
            seconds += time.perf_counter() - start
            ratio = problem.held_out_loss(model) / optimum
            if not np.isfinite(ratio):
                return "diverged"
            best = min(best, ratio)
            if ratio <= TOLERANCE:
                return f"{seconds:.2f} s ({epoch})"
    return f"never ({best:.4g})"


def default_fit(problem, make_model, optimum):
    """What a default fit gives: the ratio to the optimum, its epochs and time."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model = make_model().fit(problem.X_train, problem.y_train)
        seconds = time.perf_counter() - start
    ratio = problem.held_out_loss(model) / optimum
    return f"{ratio:.4f}, {seconds:.2f} s ({model.n_iter_})"


def configurations(problem):
    """(name, model factory) for every SGD configuration compared."""

    def make(library, **params):
        estimator = getattr(library, problem.estimator)
        if problem.estimator == "SGDClassifier":
            params.setdefault("loss", "log_loss")
        elif problem.loss == "huber":
            params.setdefault("loss", "huber")
        return lambda: estimator(alpha=ALPHA, random_state=0, **params)

    yield "sklosses auto", make(sklosses, learning_rate="auto")
    yield "sklosses auto, partial_fit", make(sklosses, learning_rate="auto")
    yield "sklosses default", make(sklosses)
    yield "scikit-learn default", make(linear_model)
    for eta0 in SKLEARN_ETA0_GRID:
        yield (
            f"scikit-learn eta0={eta0:g}",
            make(linear_model, learning_rate="constant", eta0=eta0, average=True),
        )


def problems(scale):
    rng = np.random.default_rng(0)

    def standardized(X):
        return StandardScaler().fit_transform(X)

    X, y = datasets.load_breast_cancer(return_X_y=True)
    yield Problem("breast_cancer, log", standardized(X), y, "log_loss", 50)
    X, y = datasets.load_digits(return_X_y=True)
    yield Problem("digits, 10 classes, log", standardized(X), y, "log_loss", 50)
    X, y = datasets.load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    yield Problem("diabetes, squared", standardized(X), y, "squared_error", 50)
    yield Problem("diabetes, Huber", standardized(X), y, "huber", 50)

    n = 133_334 // scale  # 100,000 training rows
    X = rng.normal(size=(n, 100))
    y = (X @ rng.normal(size=100) * 0.3 + rng.logistic(size=n) > 0).astype(int)
    yield Problem(f"synthetic {n:,} x 100, logistic", X, y, "log_loss", 10)
    scores = X @ rng.normal(size=(100, 10)) * 0.3 + rng.gumbel(size=(n, 10))
    y = np.argmax(scores, axis=1)
    yield Problem(f"synthetic {n:,} x 100, 10 classes", X, y, "log_loss", 10)
    y = X @ rng.normal(size=100) + rng.normal(size=n)
    yield Problem(f"synthetic {n:,} x 100, squared", X, y, "squared_error", 10)
    outliers = rng.random(n) < 0.05
    y = np.where(outliers, y + rng.normal(scale=50.0, size=n), y)
    yield Problem(f"synthetic {n:,} x 100, 5% outliers, Huber", X, y, "huber", 10)

    # Text-like: tf-idf style rows of unit norm over a large vocabulary.
    n_features, nnz = 2**16, 50
    indices = rng.zipf(1.3, size=n * nnz) % n_features
    indptr = np.arange(0, n * nnz + 1, nnz)
    X = sp.csr_matrix((np.ones(n * nnz), indices, indptr), shape=(n, n_features))
    X.sum_duplicates()
    X = sp.csr_matrix(X.multiply(1.0 / np.sqrt(X.multiply(X).sum(axis=1))))
    y = (X @ rng.normal(size=n_features) * 3 + rng.logistic(size=n) > 0).astype(int)
    yield Problem(f"CSR {n:,} x 2^16, text-like, logistic", X, y, "log_loss", 10)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes")
    args = parser.parse_args(argv)
    scale = 500 if args.quick else 1
    names = None
    for problem in problems(scale):
        if args.quick:
            problem.epochs = 2
        reference_seconds, optimum = problem.reference()
        results = [
            (name, epochs_to_quality(problem, make, optimum, refit=name == AUTO))
            for name, make in configurations(problem)
        ]
        make_auto = dict(configurations(problem))[AUTO]
        results.insert(
            1, (f"{AUTO}, default fit", default_fit(problem, make_auto, optimum))
        )
        if names is None:
            names = [name for name, _ in results]
            print(f"| problem | optimum | reference solver | {' | '.join(names)} |")
            print("|---" * (len(names) + 3) + "|")
        cells = " | ".join(result for _, result in results)
        print(
            f"| {problem.name} | {optimum:.4f} | {reference_seconds:.2f} s | {cells} |"
        )


if __name__ == "__main__":
    main()
