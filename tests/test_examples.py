"""Every gallery example runs, and draws its figure."""

import runpy
import warnings
from pathlib import Path

import matplotlib
import pytest
from sklearn.exceptions import ConvergenceWarning

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs_and_draws(script):
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    with warnings.catch_warnings():
        # Agg cannot show; some examples stop at max_iter on purpose.
        warnings.filterwarnings("ignore", "FigureCanvasAgg is non-interactive")
        warnings.simplefilter("ignore", ConvergenceWarning)
        runpy.run_path(str(script), run_name="__main__")
    assert plt.get_fignums(), f"{script.name} draws no figure"
    plt.close("all")


def test_the_gallery_has_its_examples():
    names = {path.name for path in EXAMPLES}
    assert len(names) >= 9
