"""Which loss fits my data? Cross-validate candidate losses and recommend one.

The engine of ``python -m sklosses``; see ``__main__.py`` for the command line.
"""

import time
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.stats import skew
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_gamma_deviance,
    mean_poisson_deviance,
)
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.multiclass import type_of_target

from ._csv import CSVReader
from .linear_model import SGDClassifier, SGDRegressor
from .losses import (
    AbsoluteLoss,
    GammaLoss,
    HingeLoss,
    HuberLoss,
    LogLoss,
    Loss,
    ModifiedHuberLoss,
    PoissonLoss,
    QuantileLoss,
    SquaredHingeLoss,
    SquaredLoss,
)
from .scorers import rmse_scorer

# A numeric target with more distinct values than this is a regression target.
MAX_CLASSES = 20
# Residuals beyond this many robust standard deviations count as outliers;
# Gaussian noise puts 0.27% there, and a share above OUTLIER_SHARE calls for a
# robust loss.
OUTLIER_SIGMAS = 3.0
OUTLIER_SHARE = 0.01
# 1.4826 * MAD estimates the standard deviation of Gaussian data.
MAD_TO_SIGMA = 1.4826
HUBER_DELTAS = (0.5, 1.35, 3.0)  # in robust standard deviations of the residuals
# A positive target this skewed to the right (and whose log is not) is an
# amount whose spread grows with its level: prices, costs, durations.
AMOUNT_SKEW = 1.0


class Deviance(NamedTuple):
    """The deviance that measures the errors on a kind of target, and the
    loss that minimizes it."""

    metric: str  # its column in the table
    function: Callable
    loss_name: str  # its row
    loss: Loss


DEVIANCES = {
    "count": Deviance(
        "Poisson deviance", mean_poisson_deviance, "poisson", PoissonLoss()
    ),
    "amount": Deviance("Gamma deviance", mean_gamma_deviance, "gamma", GammaLoss()),
}
# In a deviance, a prediction of zero or less counts as this share of the
# target's mean (see _positive).
DEVIANCE_FLOOR = 1e-3
METRICS = (
    "RMSE", "MAE", "Poisson deviance", "Gamma deviance", "log loss", "accuracy", "F1"
)  # fmt: skip


class DataError(ValueError):
    """The data cannot be used as given; the message says why."""


def read_csv(path, target, sep=","):
    """Read a CSV file with a header: feature columns and the ``target`` column.

    pandas reads the file whole (``pandas.read_csv(path, sep=sep)``), with
    the checks of :func:`~sklosses.streaming.iter_csv_chunks`: a row with
    more or fewer fields than the header, and bytes that are not UTF-8, are
    errors that name their line. A column of numbers is numeric; one with
    text is categorical. Returns ``X`` (an object array, NaN where missing),
    ``y`` (NaN where missing), the feature names and the indices of the
    categorical columns.
    """
    try:
        reader = CSVReader(path, "python -m sklosses", sep=sep, option_hint=None)
        (table,) = reader.frames()
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror or error}.") from None
    except (ImportError, ValueError) as error:
        raise DataError(str(error)) from None
    if len(table) == 0:
        raise DataError(f"{path} needs a header line and at least one row.")
    if target not in table.columns:
        raise DataError(
            f"no column {target!r} in {path}; its columns are {list(table.columns)}."
        )
    features = table.drop(columns=target)
    if features.shape[1] == 0:
        raise DataError(f"{path} has no feature column besides {target!r}.")
    is_numeric = reader.pd.api.types.is_numeric_dtype
    categorical = [
        k for k, name in enumerate(features.columns) if not is_numeric(features[name])
    ]
    y = table[target]
    y = y.to_numpy(np.float64) if is_numeric(y) else y.to_numpy(object)
    return features.astype(object).to_numpy(), y, list(features.columns), categorical


def infer_task(y):
    """ "regression" for numeric targets with many values, else "classification"."""
    if y.dtype == object:
        return "classification"
    n_values = np.unique(y).shape[0]
    if type_of_target(y) == "continuous" or n_values > MAX_CLASSES:
        return "regression"
    return "classification"


def target_kind(y):
    """ "count", "amount" or ``None``, and a description of the target.

    A count is made of non-negative integers, zero among them (visits,
    claims); an amount is positive and skewed to the right while its log is
    not (prices, costs). Both have a spread that grows with their level,
    which a deviance with a log link models.
    """
    y = np.asarray(y, dtype=float)
    if y.min() >= 0 and (y == np.round(y)).all() and (y == 0).any():
        zeros = np.mean(y == 0)
        return "count", f"a count (non-negative integers, {zeros:.0%} zeros)"
    if y.min() > 0:
        shape, log_shape = skew(y), skew(np.log(y))
        if shape > AMOUNT_SKEW and abs(log_shape) < AMOUNT_SKEW:
            return "amount", (
                f"a positive amount, skewed to the right (skewness {shape:.2g}; "
                f"{log_shape:.2g} for its log)"
            )
    return None, None


def candidates(task, kind=None):
    """(name, loss) pairs compared for ``task``; for a count or an amount
    (:func:`target_kind`), the loss of its deviance too."""
    if task == "regression":
        losses = [
            ("squared", SquaredLoss()),
            ("absolute", AbsoluteLoss()),
            ("huber", HuberLoss()),
            ("quantile 0.5", QuantileLoss(quantile=0.5)),
        ]
        if kind is not None:
            losses.append((DEVIANCES[kind].loss_name, DEVIANCES[kind].loss))
        return losses
    return [
        ("log", LogLoss()),
        ("hinge", HingeLoss()),
        ("modified huber", ModifiedHuberLoss()),
        ("squared hinge", SquaredHingeLoss()),
    ]


def preprocessing(numeric, categorical):
    """Numeric columns median-imputed and standardized, categorical ones
    imputed with their most frequent value and one-hot encoded."""
    return ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                numeric,
            ),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
        ]
    )


def make_model(task, loss, categorical, n_features, random_state=0):
    """Impute, scale, one-hot encode, then SGD with ``learning_rate="auto"``."""
    numeric = [j for j in range(n_features) if j not in categorical]
    estimator = SGDRegressor if task == "regression" else SGDClassifier
    sgd = estimator(loss=loss, learning_rate="auto", random_state=random_state)
    return make_pipeline(preprocessing(numeric, categorical), sgd)


class Comparison:
    """Cross-validated scores of every candidate loss, and the recommendation.

    Attributes
    ----------
    task : str
    rows : list of dict
        One per loss: its name, the fit times, for each metric the per-fold
        values (a metric a loss cannot give is absent), and ``"warnings"``:
        the messages of the warnings its fits raised (did not converge,
        diverged), one per fold at most.
    outlier_share : float or None
        Regression only: the share of the cross-validated residuals of a
        robust loss whose fits converged (see ``_outliers_of_a_sound_fit``)
        beyond ``OUTLIER_SIGMAS`` robust standard deviations.
    recommended : str
    reason : str
    metric : str
        The metric the recommendation was made on.
    model : estimator
        The recommended loss's model, fitted on all rows.
    kind : {"count", "amount"} or None
        Regression only: the kind of target (:func:`target_kind`), whose
        deviance the table shows too.
    """

    def __init__(
        self, task, rows, outlier_share, recommended, reason, metric, model, kind=None
    ):
        self.task = task
        self.kind = kind
        self.rows = rows
        self.n_folds = len(rows[0]["fit time"])
        self.outlier_share = outlier_share
        self.recommended = recommended
        self.reason = reason
        self.metric = metric
        self.model = model

    @property
    def metrics(self):
        if self.task == "regression":
            deviance = [] if self.kind is None else [DEVIANCES[self.kind].metric]
            return ["RMSE", "MAE", *deviance]
        return ["log loss", "accuracy", "F1"]

    def table(self):
        """The comparison as a Markdown table.

        Each metric's column has one number of decimals: four significant
        digits for its largest mean.
        """
        head = ["loss", *self.metrics, "fit time (s)"]
        lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        decimals = {
            metric: _decimals(np.mean(r[metric]) for r in self.rows if metric in r)
            for metric in self.metrics
        }
        for row in self.rows:
            cells = [row["name"] + (" *" if row["name"] == self.recommended else "")]
            if row["warnings"]:
                cells[0] += f" (warned on {len(row['warnings'])} of {self.n_folds})"
            for metric in self.metrics:
                values = row.get(metric)
                d = decimals[metric]
                cells.append(
                    "n/a"
                    if values is None
                    else f"{np.mean(values):.{d}f} +- {np.std(values):.{d}f}"
                )
            cells.append(f"{np.mean(row['fit time']):.3f}")
            lines.append("| " + " | ".join(cells) + " |")
        for row in self.rows:
            if row["warnings"]:
                lines.append(f"\n{row['name']}, first warning: {row['warnings'][0]}")
        return "\n".join(lines)


def _decimals(means, digits=4):
    """Decimals that show ``digits`` significant digits of the largest mean."""
    largest = max((abs(m) for m in means if np.isfinite(m)), default=0.0)
    if largest == 0.0:
        return digits - 1
    return int(max(0, digits - 1 - np.floor(np.log10(largest))))


def n_rows(n):
    """``n`` rows, in words: "1 row", "3 rows"."""
    return f"{n} row{'s' * (int(n) != 1)}"


def compare_losses(X, y, task, categorical=(), cv=5, random_state=0, progress=None):
    """Cross-validate the candidate losses for ``task`` and recommend one.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features; ``categorical`` lists the columns to one-hot encode.
    y : array-like of shape (n_samples,)
        Target.
    task : {"regression", "classification"}
    categorical : sequence of int, default=()
    cv : int, default=5
        Number of folds.
    random_state : int, default=0
    progress : callable, default=None
        Called with a short description of each step (a loss and a fold,
        then the final refit) as it starts.

    Returns
    -------
    comparison : Comparison
    """
    categorical = list(categorical)
    progress = progress or (lambda step: None)
    _check_folds(y, task, cv)
    if task == "regression":
        splitter = KFold(cv, shuffle=True, random_state=random_state)
    else:
        splitter = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    n_features = X.shape[1]

    def candidate(loss, sigma):
        estimator = make_model(task, loss, categorical, n_features, random_state)
        if isinstance(loss, HuberLoss):
            return _huber_search(estimator, sigma, random_state)
        return estimator

    kind = description = None
    if task == "regression":
        y = np.asarray(y, dtype=float)
        kind, description = target_kind(y)
    sigma = None
    rows, residuals = [], {}
    for name, loss in candidates(task, kind):
        row = {"name": name, "fit time": [], "warnings": []}
        row.update({metric: [] for metric in METRICS})
        residuals[name] = np.empty(y.shape[0])
        for fold, (train, test) in enumerate(splitter.split(X, y), start=1):
            progress(f"{name}: fold {fold}/{cv}")
            estimator = candidate(loss, sigma)
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                estimator.fit(X[train], y[train])
            row["fit time"].append(time.perf_counter() - start)
            if caught:
                row["warnings"].append(str(caught[0].message))
            predicted = _score(row, estimator, X[test], y[test], task, loss, kind)
            if task == "regression":
                residuals[name][test] = predicted - y[test]
        # A metric the loss cannot give stays empty, and is left out.
        rows.append({key: row[key] for key in row if key not in METRICS or row[key]})
        if name == "absolute":
            # The scale of the Huber loss's deltas.
            sigma = _outliers(residuals[name])[1]
    outliers = None
    if task == "regression":
        outliers = _outliers_of_a_sound_fit(rows, residuals)
    if kind is None:
        recommended, reason, metric = _recommend(task, rows, outliers)
    else:
        recommended, reason, metric = _recommend_by_deviance(kind, description, rows)
    reason += _against_a_constant(task, rows, recommended, y)
    progress(f"refitting {recommended} on all rows")
    model = candidate(dict(candidates(task, kind))[recommended], sigma)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reported in the table already
        model.fit(X, y)
    outlier_share = None if outliers is None else outliers[0]
    return Comparison(
        task, rows, outlier_share, recommended, reason, metric, model, kind
    )


def _check_folds(y, task, cv):
    n_samples = len(y)
    if n_samples < 2 * cv:
        raise DataError(
            f"{n_rows(n_samples)} are too few for {cv}-fold cross-validation; "
            f"use --cv with a smaller number or more rows (at least {2 * cv})."
        )
    if task == "classification":
        classes, counts = np.unique(y, return_counts=True)
        if classes.shape[0] < 2:
            raise DataError(
                f"the target has a single class ({classes[0]!r}): there is "
                "nothing to classify."
            )
        if counts.min() < cv:
            raise DataError(
                f"class {classes[np.argmin(counts)]!r} has {n_rows(counts.min())}, "
                f"too few for {cv}-fold stratified cross-validation; use --cv "
                "with a smaller number."
            )


def _huber_search(pipeline, sigma, random_state):
    """Tune the Huber loss's delta, in units of the residuals' robust scale."""
    sigma = sigma if sigma and sigma > 0 else 1.0
    deltas = [float(sigma * k) for k in HUBER_DELTAS]
    return GridSearchCV(
        pipeline,
        {"sgdregressor__loss__delta": deltas},
        scoring=rmse_scorer,
        cv=KFold(3, shuffle=True, random_state=random_state),
    )


def _score(row, estimator, X, y, task, loss, kind=None):
    """Append the fold's metrics to ``row``; returns the predictions."""
    predicted = estimator.predict(X)
    if task == "regression":
        residual = predicted - y
        row["RMSE"].append(float(np.sqrt(np.mean(residual**2))))
        row["MAE"].append(float(np.mean(np.abs(residual))))
        if kind is not None:
            deviance = DEVIANCES[kind]
            row[deviance.metric].append(
                float(deviance.function(y, _positive(predicted, y)))
            )
        return predicted
    row["accuracy"].append(accuracy_score(y, predicted))
    average = "binary" if np.unique(y).shape[0] == 2 else "macro"
    pos_label = np.unique(y)[-1] if average == "binary" else 1
    row["F1"].append(f1_score(y, predicted, average=average, pos_label=pos_label))
    if loss.is_probabilistic:
        proba = estimator.predict_proba(X)
        row["log loss"].append(log_loss(y, proba, labels=estimator.classes_))
    return predicted


def _positive(predicted, y):
    """Predictions raised to ``DEVIANCE_FLOOR`` times the target's mean: a
    deviance is defined for positive predictions only, and a loss whose
    model predicts zero or less is judged as if it predicted that little."""
    floor = DEVIANCE_FLOOR * (np.mean(y) if np.mean(y) > 0 else 1.0)
    return np.maximum(predicted, floor)


def _outliers(residual):
    """The share of ``residual`` beyond ``OUTLIER_SIGMAS`` robust standard
    deviations, and that standard deviation."""
    deviation = np.abs(residual - np.median(residual))
    sigma = MAD_TO_SIGMA * np.median(deviation)
    return float(np.mean(deviation > OUTLIER_SIGMAS * sigma)), sigma


def _outliers_of_a_sound_fit(rows, residuals):
    """``(share, sigma, name)``: outliers among the cross-validated residuals
    of a robust loss whose fits all went without a warning.

    Those of the squared loss, pulled towards the outliers, hide them; those
    of a fit that did not converge are no measure of the data. Without such
    a fit, the absolute loss's, said to have warned.
    """
    sound = {row["name"] for row in rows if not row["warnings"]}
    for name in ("huber", "absolute", "quantile 0.5"):
        if name in sound:
            return (*_outliers(residuals[name]), name)
    return (*_outliers(residuals["absolute"]), "absolute (whose fits warned)")


def _recommend(task, rows, outliers):
    """The recommended loss, the reason and the metric it was chosen on, from
    the losses whose fits all went without a warning: numbers from fits that
    did not converge or diverged are no measure of the loss."""
    sound, caveat = _sound(rows)
    by_name = {row["name"]: row for row in sound}
    names = _listing(by_name)
    if task == "regression":
        outlier_share, _, source = outliers
        beyond = (
            f"{outlier_share:.1%} of the residuals of the {source} loss lie "
            "beyond 3 robust sd"
        )
        # Outliers weigh on RMSE: with them, judge by MAE, as a robust loss would.
        metric = "MAE" if outlier_share > OUTLIER_SHARE else "RMSE"
        best = min(sound, key=lambda row: np.mean(row[metric]))["name"]
        if metric == "MAE":
            reason = (
                f"{beyond} (0.3% for Gaussian noise): with outliers, MAE is the "
                f"measure, and {best} has the lowest MAE of {names}{caveat}."
            )
        else:
            reason = (
                f"{beyond}, as Gaussian noise would: {best} has the lowest RMSE of "
                f"{names}{caveat}."
            )
        return best, reason, metric
    accuracy = {row["name"]: np.mean(row["accuracy"]) for row in sound}
    best = max(accuracy, key=accuracy.get)
    noise = np.std(by_name[best]["accuracy"])
    if "log" in accuracy and accuracy["log"] >= accuracy[best] - noise:
        return (
            "log",
            (
                f"its accuracy is within the folds' spread of the best of {names}, "
                f"and it gives probabilities (predict_proba) that its log loss "
                f"scores{caveat}."
            ),
            "accuracy",
        )
    return (
        best,
        (
            f"{best} has the highest accuracy of {names}, clearly above the log "
            f"loss's{caveat}."
        ),
        "accuracy",
    )


def _sound(rows):
    """The rows of the losses whose fits all went without a warning (all
    rows if none did), and what the reason says of the others."""
    sound = [row for row in rows if not row["warnings"]]
    if not sound:
        return rows, " (the fits of every loss warned: compare with care)"
    if len(sound) < len(rows):
        warned = _listing(row["name"] for row in rows if row["warnings"])
        return sound, f"; {warned} left out, as their fits warned"
    return sound, ""


def _recommend_by_deviance(kind, description, rows):
    """The recommended loss for a count or an amount: the lowest deviance
    among the losses whose fits all went without a warning."""
    metric, loss_name = DEVIANCES[kind].metric, DEVIANCES[kind].loss_name
    sound, caveat = _sound(rows)
    best = min(sound, key=lambda row: np.mean(row[metric]))["name"]
    why = {
        "count": "its variance grows with its mean",
        "amount": "its spread grows with its level, so errors count relative to it",
    }[kind]
    reason = (
        f"the target is {description}: {why}, as the mean {metric} measures "
        f"(predictions of zero or less count as {DEVIANCE_FLOOR:g} times the "
        f"target's mean); {best} has the lowest of "
        f"{_listing(row['name'] for row in sound)}{caveat}."
    )
    if best == loss_name:
        reason += f" The {loss_name} loss predicts exp(X @ coef_), always positive."
    return best, reason, metric


def _against_a_constant(task, rows, recommended, y):
    """A sentence when the recommended loss does no better than a constant
    prediction (the most frequent class, the mean): the features then say
    little about the target, whatever the loss."""
    (row,) = (row for row in rows if row["name"] == recommended)
    if task == "classification":
        _, counts = np.unique(y, return_counts=True)
        baseline = counts.max() / counts.sum()
        if np.mean(row["accuracy"]) <= baseline + np.std(row["accuracy"]):
            return (
                f" Its accuracy is no better than predicting the most frequent "
                f"class ({baseline:.1%} of the rows): the features may not "
                "predict the target."
            )
        return ""
    baseline = float(np.std(y))
    if np.mean(row["RMSE"]) >= baseline - np.std(row["RMSE"]):
        return (
            f" Its RMSE is no better than predicting the mean ({baseline:.4g}): "
            "the features may not predict the target."
        )
    return ""


def _listing(names):
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
