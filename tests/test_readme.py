"""The README's Python examples run as written."""

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda code: code.splitlines()[0])
def test_readme_example_runs(example):
    # A newcomer's first run prints no warning: the examples converge.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(example, str(README), "exec"), {"__name__": "__main__"})


def test_readme_has_examples():
    assert len(EXAMPLES) >= 2
