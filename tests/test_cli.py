"""``python -m sklosses``: which loss fits my data?"""

import gzip
import io
import subprocess
import sys

import numpy as np
import pytest

import sklosses
from sklosses import _compare
from sklosses.__main__ import main
from sklosses._compare import compare_losses, infer_task, read_csv
from sklosses.losses import SquaredLoss

_compare_make_model = _compare.make_model


@pytest.fixture
def regression_csv(tmp_path):
    """House prices with a categorical column and a few gross outliers."""
    rng = np.random.default_rng(0)
    n = 300
    area = rng.uniform(30, 200, n)
    rooms = rng.integers(1, 6, n)
    city = rng.choice(["lyon", "paris", "nice"], n)
    price = 2.0 * area + 10 * rooms + np.where(city == "paris", 100, 0)
    price = price + rng.normal(scale=10, size=n)
    price[:15] += 2000  # 5% data-entry errors
    path = tmp_path / "houses.csv"
    lines = ["area,rooms,city,price"]
    lines += [
        f"{a:.1f},{r},{c},{p:.1f}"
        for a, r, c, p in zip(area, rooms, city, price, strict=True)
    ]
    lines[5] = "55.0,,paris,300.0"  # a missing value, imputed
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def classification_csv(tmp_path):
    rng = np.random.default_rng(1)
    n = 200
    x = rng.normal(size=(n, 2))
    label = np.where(x[:, 0] + x[:, 1] + rng.normal(scale=0.5, size=n) > 0, "yes", "no")
    path = tmp_path / "churn.csv"
    rows = ["x0,x1,churned"] + [
        f"{a:.3f},{b:.3f},{c}" for (a, b), c in zip(x, label, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_no_arguments_compares_losses_on_scikit_learn_datasets(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "## diabetes (scikit-learn), regression: 442 rows, 10 features" in out
    assert "## breast cancer (scikit-learn), classification: 569 rows" in out
    for loss in ("squared", "absolute", "huber", "quantile 0.5"):
        assert f"| {loss}" in out
    for loss in ("log", "hinge", "modified huber", "squared hinge"):
        assert f"| {loss}" in out
    assert out.count("Recommended: ") == 2
    assert "| loss | RMSE | MAE | fit time (s) |" in out
    assert "| loss | log loss | accuracy | F1 | fit time (s) |" in out


def test_outliers_lead_to_a_robust_loss(regression_csv, capsys):
    assert main([str(regression_csv), "--target", "price", "--cv", "3"]) == 0
    out = capsys.readouterr().out
    assert "target 'price', regression: 300 rows, 3 features" in out
    recommended = out.split("Recommended: ")[1].split(". ")[0]
    assert recommended in ("huber", "absolute", "quantile 0.5")
    assert "with outliers, MAE is the measure" in out


def test_the_robust_losses_fit_the_clean_rows_better(regression_csv):
    X, y, names, categorical = read_csv(regression_csv, "price")
    assert names == ["area", "rooms", "city"]
    assert categorical == [2]
    comparison = compare_losses(X, y, "regression", categorical, cv=3)
    mae = {row["name"]: np.mean(row["MAE"]) for row in comparison.rows}
    assert mae["huber"] < mae["squared"]
    assert comparison.outlier_share > 0.03


def test_string_labels_are_classified_and_log_loss_is_recommended(
    classification_csv, capsys
):
    assert main([str(classification_csv), "--target", "churned"]) == 0
    out = capsys.readouterr().out
    assert "target 'churned', classification" in out
    assert "Recommended: log." in out
    assert "| hinge | n/a |" in out  # no probabilities, no log loss


def test_plot_saves_a_figure(classification_csv, tmp_path, capsys):
    figure = tmp_path / "out.png"
    args = [str(classification_csv), "--target", "churned", "--plot", str(figure)]
    assert main(args) == 0
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Figure saved to {figure}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "values, task",
    [
        (np.array(["a", "b", "a"], dtype=object), "classification"),
        (np.array([0.0, 1.0, 1.0]), "classification"),
        (np.arange(50, dtype=float), "regression"),
        (np.array([0.5, 1.25, 3.0]), "regression"),
    ],
)
def test_task_is_inferred_from_the_target(values, task):
    assert infer_task(values) == task


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.csv", "--target", "y"], "cannot read missing.csv"),
        (["{regression}", "--target", "prize"], "no column 'prize'"),
        (["{regression}"], "--target is needed"),
        (["{regression}", "--target", "city", "--task", "regression"], "not numeric"),
        (["{single}", "--target", "y"], "single class"),
        (["{regression}", "--target", "price", "--cv", "200"], "too few for 200-fold"),
    ],
)
def test_unusable_input_exits_with_2_and_says_why(
    args, message, regression_csv, tmp_path, capsys
):
    single = tmp_path / "single.csv"
    single.write_text("x,y\n" + "".join(f"{i},a\n" for i in range(20)))
    args = [a.format(regression=regression_csv, single=single) for a in args]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "sklosses", "--help"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Which loss fits my data?" in result.stdout


def test_a_loss_whose_fits_warn_is_marked_and_not_chosen(
    regression_csv, monkeypatch, capsys
):
    # The squared loss cut short at one epoch: its numbers come from fits
    # that did not converge.
    def make_model(task, loss, *args, **kwargs):
        model = _compare_make_model(task, loss, *args, **kwargs)
        if isinstance(loss, SquaredLoss):
            model.set_params(sgdregressor__max_iter=1)
        return model

    monkeypatch.setattr(_compare, "make_model", make_model)
    X, y, _, categorical = read_csv(regression_csv, "price")
    y = y.copy()
    y[:15] -= 2000  # no outliers: the squared loss would be chosen
    comparison = compare_losses(X, y, "regression", categorical, cv=3)
    table = comparison.table()
    assert "| squared (warned on 3 of 3) |" in table
    assert "squared, first warning: Maximum number of iteration" in table
    assert comparison.recommended != "squared"
    assert "squared left out, as their fits warned" in comparison.reason
    assert "of absolute, huber and quantile 0.5" in comparison.reason


def test_outliers_are_counted_in_the_residuals_of_a_sound_robust_fit():
    rows = [
        {"name": name, "warnings": warned}
        for name, warned in [
            ("squared", []), ("absolute", []), ("huber", ["did not converge"]),
            ("quantile 0.5", []),
        ]
    ]  # fmt: skip
    residuals = {
        "squared": np.zeros(100),
        "absolute": np.r_[np.linspace(-1, 1, 90), np.full(10, 50.0)],
        "huber": np.zeros(100),
        "quantile 0.5": np.zeros(100),
    }
    share, sigma, source = _compare._outliers_of_a_sound_fit(rows, residuals)
    assert source == "absolute"
    assert share == pytest.approx(0.10)
    rows[1]["warnings"] = ["did not converge"]
    rows[3]["warnings"] = ["did not converge"]
    assert _compare._outliers_of_a_sound_fit(rows, residuals)[2] == (
        "absolute (whose fits warned)"
    )


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self):
        return True


def test_progress_shows_on_a_terminal_and_quiet_silences_it(
    regression_csv, monkeypatch, capsys
):
    args = [str(regression_csv), "--target", "price", "--cv", "2"]
    monkeypatch.setenv("COLUMNS", "60")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(args) == 0
    shown = terminal.getvalue()
    assert "reading " in shown
    for step in ("houses.csv: squared: fold 1/2", "huber: fold 2/2", "refitting"):
        assert step in shown
    # Each line fits the terminal, so that the next one overwrites it.
    assert max(len(line) for line in shown.split("\r")) < 60
    assert " s] " in shown  # elapsed time
    assert shown.endswith("\r")  # the line is cleared before the table
    assert "fold 1/2" not in capsys.readouterr().out

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main([*args, "--quiet"]) == 0
    assert terminal.getvalue() == ""


def test_no_progress_in_a_pipe(regression_csv):
    args = [str(regression_csv), "--target", "price", "--cv", "2"]
    result = subprocess.run(
        [sys.executable, "-m", "sklosses", *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Recommended:" in result.stdout
    assert result.stderr == ""


def test_version_and_help_name_the_losses_and_an_example(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.strip() == f"sklosses {sklosses.__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    help = capsys.readouterr().out
    assert "python -m sklosses houses.csv --target price" in help
    for loss in ("squared, absolute, huber, quantile 0.5", "log, hinge"):
        assert loss in help


def test_the_figure_shows_the_metric_of_the_choice_and_no_negative_error():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklosses.__main__ import _plot_scores

    rows = [
        {"name": "squared", "RMSE": [2.0, 2.1], "MAE": [0.1, 3.0]},
        {"name": "absolute", "RMSE": [2.5, 2.6], "MAE": [1.0, 1.2]},
        {"name": "huber", "RMSE": [150.0, 170.0], "MAE": [90.0, 110.0]},  # diverged
    ]
    for row in rows:
        row.update({"fit time": [0.1, 0.1], "warnings": []})
    comparison = _compare.Comparison(
        "regression", rows, 0.1, "absolute", "", "MAE", None
    )
    fig, ax = plt.subplots()
    _plot_scores(ax, comparison)
    assert ax.get_xlabel().startswith("cross-validated MAE (log scale)")
    errors, bars = ax.containers
    (segments,) = errors.lines[2]
    assert min(x for segment in segments.get_segments() for x, _ in segment) >= 0
    widths = [bar.get_width() for bar in bars]
    assert widths == pytest.approx([1.55, 1.1, 100.0])
    orange = [bar.get_facecolor() for bar in bars if bar.get_facecolor()[0] > 0.9]
    assert len(orange) == 1 and bars[1].get_facecolor() == orange[0]
    plt.close(fig)


def test_an_inferred_task_is_named_when_it_makes_the_data_unusable(tmp_path, capsys):
    # Ratings 1 to 10 look like classes, and one rating is rare.
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    rating = np.clip(np.round(5 + 2 * x), 1, 10).astype(int)
    path = tmp_path / "ratings.csv"
    rows = "".join(f"{a:.3f},{r}\n" for a, r in zip(x, rating, strict=True))
    path.write_text("x,rating\n" + rows)
    assert main([str(path), "--target", "rating"]) == 2
    err = capsys.readouterr().err
    assert "1 row," in err or "rows," in err
    assert "inferred" in err and "--task regression" in err


def test_a_result_at_chance_level_is_said_and_categories_are_listed(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 200
    lines = ["noise,city,id,label"] + [
        f"{a:.3f},{c},row{i},{label}"
        for i, (a, c, label) in enumerate(
            zip(
                rng.normal(size=n),
                rng.choice(["lyon", "paris"], n),
                rng.choice(["yes", "no"], n),
                strict=True,
            )
        )
    ]
    path = tmp_path / "coin.csv"
    path.write_text("\n".join(lines) + "\n")
    assert main([str(path), "--target", "label", "--cv", "3"]) == 0
    out = capsys.readouterr().out
    assert "One-hot encoded: city (2 categories), id (200 categories) [nearly" in out
    assert "no better than predicting the most frequent class" in out
    assert "Recommended: " in out
    recommendation = out.split("Recommended: ")[1]
    name, reason = recommendation.split(". ", 1)
    assert reason[0].isupper()


def test_table_cells_of_a_column_have_the_same_decimals(capsys):
    assert main(["--cv", "2"]) == 0
    out = capsys.readouterr().out.split("## breast cancer")[0]  # the regression
    table = [line for line in out.splitlines() if "+-" in line]
    for column in (1, 2):
        decimals = {
            len(cell.split("+-")[0].strip().partition(".")[2])
            for cell in (line.split("|")[column + 1] for line in table)
        }
        assert len(decimals) == 1, table


def test_rows_without_a_target_are_left_out_and_counted(regression_csv, capsys):
    lines = regression_csv.read_text().splitlines()
    lines[7] = lines[7].rsplit(",", 1)[0] + ","  # no price
    lines[9] = lines[9].rsplit(",", 1)[0] + ","
    regression_csv.write_text("\n".join(lines) + "\n")
    assert main([str(regression_csv), "--target", "price", "--cv", "2"]) == 0
    out = capsys.readouterr().out
    assert "298 rows" in out
    assert "Left out 2 rows whose target 'price' is empty" in out


@pytest.mark.parametrize("marker", ["NA", "NaN", "nan", "null", "N/A", ""])
def test_missing_value_markers_keep_a_numeric_column_numeric(tmp_path, marker):
    path = tmp_path / "na.csv"
    rows = [f"{i % 7 if i % 5 else marker},{i},{2 * i}" for i in range(40)]
    path.write_text("x,z,y\n" + "\n".join(rows) + "\n")
    X, y, names, categorical = read_csv(path, "y")
    assert categorical == []
    x = X[:, 0].astype(float)
    assert np.isnan(x).sum() == 8 and np.isfinite(x).sum() == 32


def test_a_csv_that_is_not_utf8_exits_with_2_and_names_the_encoding(tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    rows = [f"{i},{'café' if i % 2 else 'thé'},{i * 1.5}" for i in range(40)]
    path.write_bytes(("x,drink,y\n" + "\n".join(rows) + "\n").encode("latin-1"))
    assert main([str(path), "--target", "y"]) == 2
    err = capsys.readouterr().err
    assert "not UTF-8" in err and "line 2" in err and "Latin-1" in err


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    path = tmp_path / "bom.csv"
    rows = [f"{i},{i * 2.0}" for i in range(20)]
    path.write_bytes(("x,y\n" + "\n".join(rows) + "\n").encode("utf-8-sig"))
    _, y, names, _ = read_csv(path, "y")
    assert names == ["x"]


def _table_csv(path, columns, target):
    names = [*columns, "target"]
    rows = [
        ",".join(f"{v:.4f}" for v in values)
        for values in zip(*columns.values(), target, strict=True)
    ]
    path.write_text("\n".join([",".join(names), *rows]) + "\n")
    return path


def test_a_count_target_brings_the_poisson_loss_and_its_deviance(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    counts = rng.poisson(np.exp(0.8 * x[:, 0] - 0.5 * x[:, 1] + 0.3)).astype(float)
    path = _table_csv(tmp_path / "visits.csv", {"a": x[:, 0], "b": x[:, 1]}, counts)
    # Few distinct values: inferred as classes, so the task is given.
    args = [str(path), "--target", "target", "--cv", "3", "--task", "regression"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "| loss | RMSE | MAE | Poisson deviance | fit time (s) |" in out
    assert "| poisson" in out
    assert "The target is a count (non-negative integers, " in out
    assert "as the mean Poisson deviance measures" in out
    # With a mean that is exp of the features, the log link fits best.
    assert "Recommended: poisson." in out
    assert "predicts exp(X @ coef_), always positive" in out


def test_a_skewed_positive_amount_brings_the_gamma_loss(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    amount = rng.gamma(2.0, np.exp(x[:, 0] - 0.5 * x[:, 1] + 2.0) / 2.0)
    path = _table_csv(tmp_path / "costs.csv", {"a": x[:, 0], "b": x[:, 1]}, amount)
    X, y, _, categorical = read_csv(path, "target")
    comparison = compare_losses(X, y, "regression", categorical, cv=3)
    assert comparison.kind == "amount"
    assert comparison.metric == "Gamma deviance"
    assert "gamma" in [row["name"] for row in comparison.rows]
    assert comparison.recommended == "gamma"
    assert "skewed to the right" in comparison.reason


@pytest.mark.parametrize(
    "values, kind",
    [
        ([0, 1, 2, 0, 5], "count"),
        ([1, 2, 3, 4, 5], None),  # integers without a zero: diabetes' target
        ([0.5, 1.0, 2.0], None),  # not integers, not skewed
        ([-1, 0, 2], None),
        (np.exp(np.random.default_rng(0).normal(size=500)), "amount"),
        (np.random.default_rng(0).normal(10, 1, size=500), None),
    ],
)
def test_target_kinds(values, kind):
    assert _compare.target_kind(np.asarray(values, dtype=float))[0] == kind


def test_a_count_read_as_classes_says_how_to_compare_count_losses(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    counts = np.minimum(rng.poisson(np.exp(x[:, 0])), 3).astype(float)
    path = _table_csv(tmp_path / "visits.csv", {"a": x[:, 0], "b": x[:, 1]}, counts)
    assert main([str(path), "--target", "target", "--cv", "3"]) == 0
    out = capsys.readouterr().out
    assert "classification" in out
    assert "zero among them: classes here. If they count something, --task" in out


@pytest.mark.parametrize("sep, typed", [(";", ";"), ("\t", "\\t"), ("|", "|")])
def test_sep_reads_a_file_of_another_separator(classification_csv, sep, typed, capsys):
    path = classification_csv.with_suffix(".txt")
    path.write_text(classification_csv.read_text().replace(",", sep))
    assert main([str(path), "--target", "churned", "--sep", typed, "--cv", "2"]) == 0
    assert "target 'churned', classification: 200 rows, 2 features" in (
        capsys.readouterr().out
    )
    assert main([str(path), "--target", "churned"]) == 2  # one column: x0;x1;...
    assert "no column 'churned'" in capsys.readouterr().err


def test_the_file_is_read_as_iter_csv_chunks_reads_it(regression_csv, capsys):
    # Compressed, and every row checked: one with a field too few is named.
    gzipped = regression_csv.with_suffix(".csv.gz")
    gzipped.write_bytes(gzip.compress(regression_csv.read_bytes()))
    X, y, names, categorical = read_csv(gzipped, "price")
    assert X.shape == (300, 3) and names == ["area", "rooms", "city"]
    lines = regression_csv.read_text().splitlines()
    lines[7] = "55.0,3,paris"
    regression_csv.write_text("\n".join(lines) + "\n")
    assert main([str(regression_csv), "--target", "price"]) == 2
    assert "houses.csv, line 8: 3 fields where the header has 4" in (
        capsys.readouterr().err
    )
