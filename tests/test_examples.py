"""Every gallery example runs, and draws its figure."""

import warnings
from pathlib import Path

import matplotlib
import pytest
from sklearn.exceptions import ConvergenceWarning

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


def _cells(script):
    """The example's cells as sphinx-gallery splits them, with their first line."""
    lines = script.read_text().splitlines(keepends=True)
    starts = [0] + [i for i, line in enumerate(lines) if line.startswith("# %%")]
    ends = starts[1:] + [len(lines)]
    return [("".join(lines[a:b]), a) for a, b in zip(starts, ends, strict=True)]


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs_and_draws(script):
    # Cell by cell, as the gallery runs it: the page shows each figure after
    # the cell that made it, so that cell must draw on every axes it made.
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    namespace = {"__name__": "__main__", "__file__": str(script)}
    with warnings.catch_warnings():
        # Agg cannot show; some examples stop at max_iter on purpose.
        warnings.filterwarnings("ignore", "FigureCanvasAgg is non-interactive")
        warnings.simplefilter("ignore", ConvergenceWarning)
        for source, first_line in _cells(script):
            before = set(plt.get_fignums())
            code = compile("\n" * first_line + source, str(script), "exec")
            exec(code, namespace)
            for number in set(plt.get_fignums()) - before:
                for ax in plt.figure(number).axes:
                    assert ax.has_data(), (
                        f"{script.name}: the cell from line {first_line + 1} "
                        "shows axes with nothing drawn on them"
                    )
    assert plt.get_fignums(), f"{script.name} draws no figure"
    plt.close("all")


def test_the_gallery_has_its_examples():
    names = {path.name for path in EXAMPLES}
    assert len(names) >= 9
