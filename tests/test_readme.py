"""The README's Python examples run as written."""

import re
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda code: code.splitlines()[0])
def test_readme_example_runs(example):
    with warnings.catch_warnings():
        # The examples keep scikit-learn's defaults, which stop at max_iter on
        # small unscaled folds.
        warnings.simplefilter("ignore", ConvergenceWarning)
        exec(compile(example, str(README), "exec"), {})


def test_readme_has_examples():
    assert len(EXAMPLES) >= 2
