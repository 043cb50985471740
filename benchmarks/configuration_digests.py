"""What every configuration trains, as digests to compare across a change.

A change meant to leave the numbers alone (moving the epoch loop, grouping
the engine's arguments, splitting a module) must give, bit for bit, the same
coefficients, intercepts, ``n_iter_``, ``t_`` and curves. This script fits a
fixed list of configurations on small generated data (every loss, penalty,
schedule and averaging; dense float64 and float32, and CSR; early stopping,
class weights, the classifier's modes, local SGD, warm starts and
``partial_fit``) and prints, or compares, a SHA-256 digest of what each
trained::

    git worktree add /tmp/before main
    cp benchmarks/configuration_digests.py /tmp/digests.py
    PYTHONPATH=/tmp/before python /tmp/digests.py --write before.json
    python benchmarks/configuration_digests.py --check before.json

``--check`` lists the configurations whose digest changed and exits 1 if
any did. The digests hold on one machine and one set of library versions
(BLAS computes early stopping's scores), so none are kept in the
repository: write them from the commit before the change, as above, on the
machine that checks. ``--only`` keeps the configurations whose name holds a
string. About 1,800 configurations, 10 s once compiled.
"""

import argparse
import hashlib
import itertools
import json
import sys
import warnings

import numpy as np
import scipy.sparse as sp

from sklosses import SGDClassifier, SGDRegressor
from sklosses.losses import loss_names

SCHEDULES = ("optimal", "constant", "invscaling", "adaptive", "auto")
PENALTIES = ("l2", "l1", "elasticnet", None)
AVERAGES = (False, True, 7)
INPUTS = ("dense", "float32", "csr")
# Options that cycle along the grid, so that each meets every loss without
# the product of all of them.
EXTRAS = (
    {},
    {"early_stopping": True, "validation_fraction": 0.2},
    {"shuffle": False},
    {"fit_intercept": False},
    {"n_partitions": 2, "n_jobs": 2},
    {"tol": None, "max_iter": 3},
)
# Losses whose targets must be positive (their log link).
POSITIVE = {"poisson", "gamma", "tweedie"}


def _data(task, loss, layout, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(120, 6))
    if task == "regression":
        raw = X @ np.linspace(-1.0, 1.0, 6)
        y = np.exp(0.3 * raw) if loss in POSITIVE else raw + rng.normal(size=120)
    elif task == "multiclass":
        y = np.argmax(X[:, :3] + rng.normal(scale=0.5, size=(120, 3)), axis=1)
    elif task == "multilabel":
        y = (X[:, :3] + rng.normal(scale=0.5, size=(120, 3)) > 0).astype(int)
    else:
        y = (X[:, 0] + rng.normal(scale=0.5, size=120) > 0).astype(int)
    if layout == "float32":
        X = X.astype(np.float32)
    elif layout == "csr":
        X[np.abs(X) < 0.8] = 0.0
        X = sp.csr_matrix(X)
    return X, y


def configurations():
    """``(name, estimator class, task, parameters, input, how)``, in order."""
    extras = itertools.cycle(EXTRAS)
    tasks = (
        ("regression", SGDRegressor, loss_names("regression")),
        ("binary", SGDClassifier, loss_names("classification")),
    )
    for task, Estimator, losses in tasks:
        for loss, schedule, penalty in itertools.product(losses, SCHEDULES, PENALTIES):
            for average, layout in zip(AVERAGES, INPUTS, strict=True):
                params = {
                    "loss": loss, "learning_rate": schedule, "penalty": penalty,
                    "average": average, "random_state": 0, "max_iter": 8,
                    "l1_ratio": 0.3, **next(extras),
                }  # fmt: skip
                yield _named(Estimator, task, params, layout, "fit")
    # The classifier's modes, class weights, warm starts and partial_fit.
    for task, loss, mode, layout in itertools.product(
        ("multiclass", "multilabel"),
        ("log_loss", "hinge", "modified_huber"),
        ("auto", "ovr", "multinomial"),
        INPUTS,
    ):
        if task == "multilabel" and mode == "multinomial":
            continue
        for schedule in ("optimal", "auto"):
            params = {
                "loss": loss, "multi_class": mode, "learning_rate": schedule,
                "random_state": 0, "max_iter": 8, **next(extras),
            }  # fmt: skip
            yield _named(SGDClassifier, task, params, layout, "fit")
    for Estimator, task in ((SGDRegressor, "regression"), (SGDClassifier, "binary")):
        for schedule, average, layout, how in itertools.product(
            SCHEDULES, AVERAGES, INPUTS, ("partial_fit", "warm_start")
        ):
            params = {"learning_rate": schedule, "average": average, "random_state": 0}
            yield _named(Estimator, task, params, layout, how)
    for layout in INPUTS:
        params = {"class_weight": "balanced", "random_state": 0, "max_iter": 8}
        yield _named(SGDClassifier, "multiclass", params, layout, "fit")


def _named(Estimator, task, params, layout, how):
    shown = ",".join(f"{key}={value}" for key, value in params.items())
    name = f"{Estimator.__name__}/{task}/{layout}/{how}/{shown}"
    return name, Estimator, task, params, layout, how


def train(Estimator, task, params, layout, how):
    """The fitted estimator, or the error's type and message."""
    X, y = _data(task, params.get("loss"), layout)
    model = Estimator(**params)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if how == "fit":
                model.fit(X, y)
            elif how == "warm_start":
                model.set_params(max_iter=4, warm_start=True).fit(X, y).fit(X, y)
            else:
                classes = {"classes": np.unique(y)} if task == "binary" else {}
                for rows in np.array_split(np.arange(X.shape[0]), 4):
                    model.partial_fit(X[rows], y[rows], **classes)
                    classes = {}
    except Exception as error:  # a refused configuration is a result too
        return f"{type(error).__name__}: {error}"
    return model


def digest(result):
    """SHA-256 of the trained numbers, or of the error."""
    hasher = hashlib.sha256()
    if isinstance(result, str):
        hasher.update(result.encode())
        return hasher.hexdigest()
    for name in ("coef_", "intercept_"):
        hasher.update(np.ascontiguousarray(getattr(result, name)).tobytes())
    hasher.update(repr((result.n_iter_, result.t_)).encode())
    for name in ("loss_curve_", "validation_loss_curve_", "validation_score_curve_"):
        curve = getattr(result, name, None)
        if curve is not None:
            hasher.update(np.asarray(curve, dtype=np.float64).tobytes())
    return hasher.hexdigest()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", metavar="FILE", help="write the digests as JSON")
    action.add_argument("--check", metavar="FILE", help="compare with such a file")
    parser.add_argument("--only", default="", help="names holding this string")
    args = parser.parse_args(argv)

    digests = {}
    for name, *configuration in configurations():
        if args.only in name:
            digests[name] = digest(train(*configuration))
    combined = hashlib.sha256("".join(digests.values()).encode()).hexdigest()
    print(f"{len(digests)} configurations, combined digest {combined[:16]}")
    if args.write:
        with open(args.write, "w") as file:
            json.dump(digests, file, indent=0, sort_keys=True)
    if args.check:
        with open(args.check) as file:
            reference = json.load(file)
        changed = [
            name
            for name in digests
            if reference.get(name, digests[name]) != digests[name]
        ]
        missing = sorted(set(digests) - set(reference))
        for name in changed:
            print(f"changed: {name}")
        for name in missing:
            print(f"not in {args.check}: {name}")
        print(f"{len(changed)} changed, {len(digests) - len(changed)} the same")
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
