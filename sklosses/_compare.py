"""Which loss fits my data? Cross-validate candidate losses and recommend one.

The engine of ``python -m sklosses``; see ``__main__.py`` for the command line.
"""

import csv
import time

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    cross_val_predict,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.multiclass import type_of_target

from .linear_model import SGDClassifier, SGDRegressor
from .losses import (
    AbsoluteLoss,
    HingeLoss,
    HuberLoss,
    LogLoss,
    ModifiedHuberLoss,
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
METRICS = ("RMSE", "MAE", "log loss", "accuracy", "F1")


class DataError(ValueError):
    """The data cannot be used as given; the message says why."""


def read_csv(path, target):
    """Read a CSV file with a header: feature columns and the ``target`` column.

    A column is numeric when every non-empty value parses as a number, and
    categorical otherwise. Returns ``X`` (an object array), ``y``, the
    feature names and the indices of the categorical columns.
    """
    try:
        with open(path, newline="") as file:
            rows = list(csv.reader(file))
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror}.") from None
    if len(rows) < 2:
        raise DataError(f"{path} needs a header line and at least one row.")
    header, rows = rows[0], [row for row in rows[1:] if row]
    if target not in header:
        raise DataError(f"no column {target!r} in {path}; its columns are {header}.")
    if any(len(row) != len(header) for row in rows):
        raise DataError(f"{path} has rows whose length differs from the header's.")
    table = np.array(rows, dtype=object)
    columns = [_parse_column(table[:, j]) for j in range(len(header))]
    t = header.index(target)
    y = columns[t]
    if y.dtype == object and np.any(y == ""):
        raise DataError(f"the target {target!r} has empty values.")
    if y.dtype != object and np.isnan(y).any():
        raise DataError(f"the target {target!r} has empty values.")
    features = [j for j in range(len(header)) if j != t]
    if not features:
        raise DataError(f"{path} has no feature column besides {target!r}.")
    X = np.empty((len(rows), len(features)), dtype=object)
    categorical = []
    for k, j in enumerate(features):
        X[:, k] = columns[j]
        if columns[j].dtype == object:
            categorical.append(k)
            X[X[:, k] == "", k] = np.nan  # imputed with the most frequent value
    return X, y, [header[j] for j in features], categorical


def _parse_column(values):
    try:
        return np.array([float(v) if v.strip() else np.nan for v in values])
    except ValueError:
        return np.array([v.strip() for v in values], dtype=object)


def infer_task(y):
    """ "regression" for numeric targets with many values, else "classification"."""
    if y.dtype == object:
        return "classification"
    n_values = np.unique(y).shape[0]
    if type_of_target(y) == "continuous" or n_values > MAX_CLASSES:
        return "regression"
    return "classification"


def candidates(task):
    """(name, loss) pairs compared for ``task``."""
    if task == "regression":
        return [
            ("squared", SquaredLoss()),
            ("absolute", AbsoluteLoss()),
            ("huber", HuberLoss()),
            ("quantile 0.5", QuantileLoss(quantile=0.5)),
        ]
    return [
        ("log", LogLoss()),
        ("hinge", HingeLoss()),
        ("modified huber", ModifiedHuberLoss()),
        ("squared hinge", SquaredHingeLoss()),
    ]


def make_model(task, loss, categorical, n_features, random_state=0):
    """Impute, scale, one-hot encode, then SGD with ``learning_rate="auto"``."""
    numeric = [j for j in range(n_features) if j not in categorical]
    preprocess = ColumnTransformer(
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
    estimator = SGDRegressor if task == "regression" else SGDClassifier
    sgd = estimator(
        loss=loss, learning_rate="auto", max_iter=50, random_state=random_state
    )
    return make_pipeline(preprocess, sgd)


class Comparison:
    """Cross-validated scores of every candidate loss, and the recommendation.

    Attributes
    ----------
    task : str
    rows : list of dict
        One per loss: its name, the fit times and, for each metric, the
        per-fold values (a metric a loss cannot give is absent).
    outlier_share : float or None
        Regression only: the share of cross-validated squared-loss residuals
        beyond ``OUTLIER_SIGMAS`` robust standard deviations.
    recommended : str
    reason : str
    model : estimator
        The recommended loss's model, fitted on all rows.
    """

    def __init__(self, task, rows, outlier_share, recommended, reason, model):
        self.task = task
        self.rows = rows
        self.outlier_share = outlier_share
        self.recommended = recommended
        self.reason = reason
        self.model = model

    @property
    def metrics(self):
        if self.task == "regression":
            return ["RMSE", "MAE"]
        return ["log loss", "accuracy", "F1"]

    def table(self):
        """The comparison as a Markdown table."""
        head = ["loss", *self.metrics, "fit time (s)"]
        lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for row in self.rows:
            cells = [row["name"] + (" *" if row["name"] == self.recommended else "")]
            for metric in self.metrics:
                values = row.get(metric)
                cells.append(
                    "n/a"
                    if values is None
                    else f"{np.mean(values):.4g} +- {np.std(values):.2g}"
                )
            cells.append(f"{np.mean(row['fit time']):.3f}")
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


def compare_losses(X, y, task, categorical=(), cv=5, random_state=0):
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

    Returns
    -------
    comparison : Comparison
    """
    categorical = list(categorical)
    _check_folds(y, task, cv)
    if task == "regression":
        splitter = KFold(cv, shuffle=True, random_state=random_state)
    else:
        splitter = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    n_features = X.shape[1]

    outlier_share = sigma = None
    if task == "regression":
        y = np.asarray(y, dtype=float)
        squared = make_model(task, SquaredLoss(), categorical, n_features, random_state)
        residual = cross_val_predict(squared, X, y, cv=splitter) - y
        deviation = np.abs(residual - np.median(residual))
        sigma = MAD_TO_SIGMA * np.median(deviation)
        outlier_share = float(np.mean(deviation > OUTLIER_SIGMAS * sigma))

    def candidate(loss):
        estimator = make_model(task, loss, categorical, n_features, random_state)
        if isinstance(loss, HuberLoss):
            return _huber_search(estimator, sigma, random_state)
        return estimator

    rows = []
    for name, loss in candidates(task):
        row = {"name": name, "fit time": [], **{metric: [] for metric in METRICS}}
        for train, test in splitter.split(X, y):
            estimator = candidate(loss)
            start = time.perf_counter()
            estimator.fit(X[train], y[train])
            row["fit time"].append(time.perf_counter() - start)
            _score(row, estimator, X[test], y[test], task, loss)
        rows.append({key: values for key, values in row.items() if values})
    recommended, reason = _recommend(task, rows, outlier_share)
    model = candidate(dict(candidates(task))[recommended]).fit(X, y)
    return Comparison(task, rows, outlier_share, recommended, reason, model)


def _check_folds(y, task, cv):
    n_samples = len(y)
    if n_samples < 2 * cv:
        raise DataError(
            f"{n_samples} rows are too few for {cv}-fold cross-validation; "
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
                f"class {classes[np.argmin(counts)]!r} has {counts.min()} rows, "
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


def _score(row, estimator, X, y, task, loss):
    if task == "regression":
        residual = estimator.predict(X) - y
        row["RMSE"].append(float(np.sqrt(np.mean(residual**2))))
        row["MAE"].append(float(np.mean(np.abs(residual))))
        return
    predicted = estimator.predict(X)
    row["accuracy"].append(accuracy_score(y, predicted))
    average = "binary" if np.unique(y).shape[0] == 2 else "macro"
    pos_label = np.unique(y)[-1] if average == "binary" else 1
    row["F1"].append(f1_score(y, predicted, average=average, pos_label=pos_label))
    if loss.is_probabilistic:
        proba = estimator.predict_proba(X)
        row["log loss"].append(log_loss(y, proba, labels=estimator.classes_))


def _recommend(task, rows, outlier_share):
    by_name = {row["name"]: row for row in rows}
    if task == "regression":
        beyond = f"{outlier_share:.1%} of the residuals lie beyond 3 robust sd"
        if outlier_share > OUTLIER_SHARE:
            robust = min(
                ("huber", "absolute"), key=lambda n: np.mean(by_name[n]["MAE"])
            )
            return robust, (
                f"{beyond} (0.3% for Gaussian noise): outliers call for a robust "
                f"loss, and {robust} has the lower MAE of the two."
            )
        best = min(rows, key=lambda row: np.mean(row["RMSE"]))["name"]
        return best, (f"{beyond}, as Gaussian noise would: {best} has the lowest RMSE.")
    accuracy = {row["name"]: np.mean(row["accuracy"]) for row in rows}
    best = max(accuracy, key=accuracy.get)
    noise = np.std(by_name[best]["accuracy"])
    if accuracy["log"] >= accuracy[best] - noise:
        return "log", (
            "its accuracy is within the folds' spread of the best, and it gives "
            "probabilities (predict_proba) that its log loss scores."
        )
    return best, f"{best} has the highest accuracy, clearly above the log loss's."
