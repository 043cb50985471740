"""``python -m sklosses``: which loss fits my data?

Cross-validates the candidate losses of the task on a CSV file (or, with no
file, on scikit-learn's diabetes and breast cancer datasets), prints a table
per task and recommends a loss. Run ``python -m sklosses --help``.
"""

import argparse
import os
import shutil
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import __version__
from ._compare import (
    DataError,
    candidates,
    compare_losses,
    infer_task,
    n_rows,
    read_csv,
    target_kind,
)

EPILOG = """\
examples:
  python -m sklosses
  python -m sklosses houses.csv --target price
  python -m sklosses churn.csv --target churned --cv 10 --plot churn.png
  python -m sklosses sales.csv.gz --target amount --sep ';'

candidate losses:
  regression:     {regression}; poisson for a count target (non-negative
                  integers with zeros), gamma for a positive amount skewed
                  to the right, each then judged by its deviance
  classification: {classification}
"""


def _parser():
    losses = {
        task: ", ".join(name for name, _ in candidates(task))
        for task in ("regression", "classification")
    }
    parser = argparse.ArgumentParser(
        prog="python -m sklosses",
        description=(
            "Which loss fits my data? Cross-validates SGD models with each "
            "candidate loss (learning_rate='auto', features imputed, scaled "
            "and one-hot encoded) and recommends one. With no file, runs on "
            "scikit-learn's diabetes (regression) and breast cancer "
            "(classification) datasets."
        ),
        epilog=EPILOG.format(**losses),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("data", nargs="?", help="a CSV file with a header line")
    parser.add_argument("--target", help="the column to predict (needed with a file)")
    parser.add_argument(
        "--sep",
        default=",",
        type=_separator,
        help="the separator of fields (default ','; '\\t' for a tab)",
    )
    parser.add_argument(
        "--task",
        choices=["regression", "classification"],
        help="inferred from the target when absent",
    )
    parser.add_argument("--cv", type=int, default=5, help="folds (default 5)")
    parser.add_argument("--plot", metavar="PNG", help="save a figure of the results")
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress on stderr (shown only when stderr is a terminal)",
    )
    parser.add_argument(
        "--version", action="version", version=f"sklosses {__version__}"
    )
    return parser


def _separator(text):
    """``--sep``: as typed, but for ``\\t``, which a shell passes as two
    characters, for a tab."""
    return "\t" if text == "\\t" else text


class Progress:
    """The current step and the time so far, on one line of a terminal.

    Each step rewrites the line; :meth:`clear` erases it before output is
    printed. Does nothing when disabled.
    """

    def __init__(self, stream, enabled):
        self._stream = stream
        self._enabled = enabled
        self._start = time.perf_counter()
        self._width = 0

    def __call__(self, step):
        if not self._enabled:
            return
        line = f"[{time.perf_counter() - self._start:5.1f} s] {step}"
        # A line longer than the terminal would wrap, and stay behind.
        line = line[: shutil.get_terminal_size().columns - 1]
        self._stream.write("\r" + line.ljust(self._width))
        self._stream.flush()
        self._width = len(line)

    def clear(self):
        if self._enabled and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0


def _datasets(args, progress):
    """(title, X, y, task, categorical, notes) for each problem to compare."""
    if args.data is None:
        from sklearn.datasets import load_breast_cancer, load_diabetes

        for title, load, task in [
            ("diabetes (scikit-learn), regression", load_diabetes, "regression"),
            ("breast cancer (scikit-learn), classification", load_breast_cancer,
             "classification"),
        ]:  # fmt: skip
            X, y = load(return_X_y=True)
            yield title, X, y, task, {}, []
        return
    if args.target is None:
        raise DataError("--target is needed with a data file: name its column.")
    progress(f"reading {args.data}")
    X, y, names, categorical = read_csv(args.data, args.target, sep=args.sep)
    notes = []
    missing = y != y  # NaN, whatever the type of the labels
    if missing.all():
        raise DataError(f"the target {args.target!r} is empty in every row.")
    if missing.any():
        X, y = X[~missing], y[~missing]
        notes.append(
            f"Left out {n_rows(missing.sum())} whose target {args.target!r} is "
            "empty: a row without a target cannot be scored."
        )
    task = args.task or infer_task(y)
    if args.task is None and task == "classification" and y.dtype != object:
        if target_kind(y)[0] == "count":
            notes.append(
                f"The target {args.target!r} has {len(np.unique(y))} values, "
                "all non-negative integers, zero among them: classes here. If "
                "they count something, --task regression compares the Poisson "
                "loss too."
            )
    if task == "regression" and y.dtype == object:
        raise DataError(f"the target {args.target!r} is not numeric: use --task "
                        "classification.")  # fmt: skip
    title = f"{args.data}, target {args.target!r}, {task}"
    yield title, X, y, task, {names[j]: j for j in categorical}, notes


def main(argv=None):
    """Run the comparison; returns the exit code (2 for unusable input)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.cv < 2:
        parser.error("--cv must be at least 2")
    progress = Progress(sys.stderr, not args.quiet and sys.stderr.isatty())
    try:
        with warnings.catch_warnings():
            # The table is the output: fits that stop at max_iter are in it.
            warnings.simplefilter("ignore", ConvergenceWarning)
            _run(args, progress)
    except DataError as error:
        progress.clear()
        print(f"python -m sklosses: error: {error}", file=sys.stderr)
        return 2
    return 0


def _run(args, progress):
    comparisons = []
    for title, X, y, task, categorical, notes in _datasets(args, progress):
        name = os.path.basename(title.split(",")[0])
        try:
            comparison = compare_losses(
                X, y, task, list(categorical.values()), cv=args.cv,
                progress=lambda step, name=name: progress(f"{name}: {step}"),
            )  # fmt: skip
        except DataError as error:
            if args.data is None or args.task is not None:
                raise
            other = "regression" if task == "classification" else "classification"
            raise DataError(
                f"{error} The task, {task}, was inferred from the target's "
                f"values; --task {other} sets it."
            ) from None
        progress.clear()
        comparisons.append((title, comparison))
        print(f"## {title}: {X.shape[0]} rows, {X.shape[1]} features, "
              f"{args.cv}-fold cross-validation\n")  # fmt: skip
        for note in notes:
            print(f"{note}\n")
        if categorical:
            print(f"One-hot encoded: {_categories(X, categorical)}.\n")
        print(comparison.table())
        reason = comparison.reason[:1].upper() + comparison.reason[1:]
        print(f"\nRecommended: {comparison.recommended}. {reason}\n")
    if args.plot:
        progress("drawing the figure")
        _plot(comparisons, args.plot)
        progress.clear()
        print(f"Figure saved to {args.plot}")


def _categories(X, categorical):
    """Each one-hot encoded column and its number of categories."""
    listed = []
    for column, j in categorical.items():
        n = len(np.unique(X[:, j].astype(str)))
        listed.append(f"{column} ({n} categor{'y' if n == 1 else 'ies'})")
        if n > X.shape[0] / 2:
            listed[-1] += " [nearly one per row: an identifier or free text?]"
    return ", ".join(listed)


def _plot(comparisons, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise DataError(
            "--plot needs matplotlib: pip install 'sklosses[plot]'."
        ) from None
    from .plotting import LossCurveDisplay

    fig, axes = plt.subplots(
        len(comparisons), 2, figsize=(10, 3.5 * len(comparisons)), squeeze=False
    )
    for (title, comparison), (scores, curves) in zip(comparisons, axes, strict=True):
        _plot_scores(scores, comparison)
        scores.set_title(title, fontsize="medium")
        model = getattr(comparison.model, "best_estimator_", comparison.model)
        LossCurveDisplay.from_estimator(model, ax=curves, name=comparison.recommended)
        curves.set_ylabel("training objective")
        curves.set_title(f"{comparison.recommended}, fitted on all rows",
                         fontsize="medium")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# A metric whose largest mean is this many times its smallest (a diverged
# loss, say) is drawn on a log axis, so that the other bars stay readable.
LOG_AXIS_RATIO = 10.0


def _plot_scores(ax, comparison):
    """Bars of the metric the recommendation was made on, mean and spread."""
    metric = comparison.metric
    rows = [row for row in comparison.rows if metric in row]
    names = [row["name"] for row in rows]
    means = np.array([np.mean(row[metric]) for row in rows])
    spreads = np.array([np.std(row[metric]) for row in rows])
    # Error bars stop where the metric does: at 0, and at 1 for accuracy.
    upper = 1.0 - means if metric == "accuracy" else np.full_like(means, np.inf)
    errors = [np.minimum(spreads, means), np.minimum(spreads, upper)]
    colors = ["C1" if n == comparison.recommended else "C0" for n in names]
    ax.barh(names, means, xerr=errors, color=colors)
    label = f"cross-validated {metric}"
    if metric == "accuracy":
        # Accuracies differ in their last digits: zoom in on them.
        ax.set_xlim(max(0.0, (means - 3 * spreads).min()), 1.0)
    elif means.min() > 0 and means.max() > LOG_AXIS_RATIO * means.min():
        ax.set_xscale("log")
        label += " (log scale)"
    ax.set_xlabel(f"{label}; the recommended loss in orange")


if __name__ == "__main__":
    sys.exit(main())
