"""Out-of-core training from CSV and Parquet files, against pandas + scikit-learn.

One file of numbers (500,000 rows x 20 features and a target by default,
196 MiB of CSV), read in chunks of 50,000 rows. Two tables: reading alone,
and one epoch of ``partial_fit`` over the file, each the best of
``--repeats`` rounds in this process (a round runs every method once, so
that a slow moment of the machine does not favour one), as ratios to the
pandas reference of the same run. Peak memory is measured in fresh
processes (the peak resident size each adds after its imports and a first
epoch on a small file), in chunks of floats (a chunk is
``chunk_size x n_features x 8`` bytes).

    python benchmarks/bench_out_of_core.py            # about a minute
    python benchmarks/bench_out_of_core.py --quick    # tiny sizes, a smoke run
"""

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

# Each method reads ``path`` in chunks of ``chunk`` rows, and trains on them
# when ``model`` is not None; ``target`` is the target column.
METHODS = textwrap.dedent(
    """
    import numpy as np
    import pandas as pd
    import pyarrow.csv
    import pyarrow.parquet as pq
    from sklosses.streaming import (
        iter_csv_chunks, iter_parquet_chunks, partial_fit_chunks
    )

    def pandas_chunks(path, target, chunk):
        for frame in pd.read_csv(path, chunksize=chunk):
            yield frame.drop(columns=target).to_numpy(), frame[target].to_numpy()

    def pyarrow_chunks(path, target, chunk):
        # pyarrow cuts by bytes, not rows (1 MiB blocks by default, its fastest).
        for batch in pyarrow.csv.open_csv(path):
            frame = batch.to_pandas()
            yield frame.drop(columns=target).to_numpy(), frame[target].to_numpy()

    def parquet_batches(path, target, chunk):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk):
            frame = batch.to_pandas()
            yield frame.drop(columns=target).to_numpy(), frame[target].to_numpy()

    READERS = {
        "pandas.read_csv(chunksize=...)": (pandas_chunks, "csv"),
        "pyarrow.csv.open_csv": (pyarrow_chunks, "csv"),
        "sklosses iter_csv_chunks": (iter_csv_chunks, "csv"),
        "pyarrow ParquetFile.iter_batches": (parquet_batches, "parquet"),
        "sklosses iter_parquet_chunks": (iter_parquet_chunks, "parquet"),
    }

    def run(reader, paths, target, chunk, model=None, read_ahead=True):
        read, kind = READERS[reader]
        chunks = lambda: read(paths[kind], target, chunk)
        if model is None:
            for X, y in chunks():
                pass
        elif reader.startswith("sklosses"):
            partial_fit_chunks(model, chunks, read_ahead=read_ahead)
        else:
            for X, y in chunks():
                model.partial_fit(X, y)
    """
)

# (label, reader, estimator module or None, read_ahead)
EPOCHS = [
    ("pandas chunks + scikit-learn partial_fit", "pandas.read_csv(chunksize=...)",
     "sklearn.linear_model", False),
    ("sklosses CSV, reading inline", "sklosses iter_csv_chunks", "sklosses", False),
    ("sklosses CSV, reading ahead", "sklosses iter_csv_chunks", "sklosses", True),
    ("pyarrow Parquet batches + scikit-learn partial_fit",
     "pyarrow ParquetFile.iter_batches", "sklearn.linear_model", False),
    ("sklosses Parquet, reading inline", "sklosses iter_parquet_chunks", "sklosses",
     False),
    ("sklosses Parquet, reading ahead", "sklosses iter_parquet_chunks", "sklosses",
     True),
]  # fmt: skip

PEAK = textwrap.dedent(
    """
    import sys
    from {module} import SGDRegressor
    {methods}

    def memory(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024

    paths = {{"csv": sys.argv[1], "parquet": sys.argv[2]}}
    # Load the kernels and the readers' code on a small file first.
    small = {{"csv": sys.argv[3], "parquet": sys.argv[4]}}
    run({reader!r}, small, "y", 10, SGDRegressor(), read_ahead={read_ahead})
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak
    before = memory("VmRSS:")
    run({reader!r}, paths, "y", {chunk}, SGDRegressor(), read_ahead={read_ahead})
    print(memory("VmHWM:") - before)
    """
)


def write_files(folder, n_rows, n_features):
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, n_features))
    frame = pd.DataFrame(X, columns=[f"x{k}" for k in range(n_features)])
    frame["y"] = X @ rng.normal(size=n_features) + rng.normal(size=n_rows)
    paths = {
        "csv": os.path.join(folder, "data.csv"),
        "parquet": os.path.join(folder, "data.parquet"),
    }
    frame.to_csv(paths["csv"], index=False)
    frame.to_parquet(paths["parquet"], row_group_size=100_000)
    small = {kind: path.replace("data.", "small.") for kind, path in paths.items()}
    frame[:100].to_csv(small["csv"], index=False)
    frame[:100].to_parquet(small["parquet"])
    return paths, small


def best_times(functions, repeats):
    """The best time of each function over ``repeats`` rounds of all."""
    times = {label: [] for label in functions}
    for _ in range(repeats):
        for label, function in functions.items():
            start = time.perf_counter()
            function()
            times[label].append(time.perf_counter() - start)
    return [(label, min(seconds)) for label, seconds in times.items()]


def table(title, rows, reference):
    print(f"\n{title}\n")
    print("| | seconds | ratio |")
    print("|---|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.3f} | {seconds / reference:.2f}x |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="tiny sizes")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.chunk, args.repeats = 20_000, 5_000, 1

    import sklearn.linear_model

    import sklosses

    with tempfile.TemporaryDirectory() as folder:
        paths, small = write_files(folder, args.rows, args.features)
        namespace = {}
        exec(METHODS, namespace)
        run = namespace["run"]
        print(
            f"{args.rows:,} rows x {args.features} features, "
            f"{os.path.getsize(paths['csv']) / 2**20:.0f} MiB of CSV, "
            f"{os.path.getsize(paths['parquet']) / 2**20:.0f} MiB of Parquet; "
            f"chunks of {args.chunk:,} rows"
        )
        sklosses.SGDRegressor().partial_fit(np.ones((10, 2)), np.ones(10))
        reading = best_times(
            {
                reader: lambda r=reader: run(r, paths, "y", args.chunk)
                for reader in namespace["READERS"]
            },
            args.repeats,
        )
        table("Reading the file in chunks", reading, reading[0][1])

        modules = {"sklosses": sklosses, "sklearn.linear_model": sklearn.linear_model}

        def epoch(reader, module, read_ahead):
            model = modules[module].SGDRegressor(random_state=0)
            run(reader, paths, "y", args.chunk, model, read_ahead)

        epochs = best_times(
            {label: lambda a=rest: epoch(*a) for label, *rest in EPOCHS}, args.repeats
        )
        table("One epoch of partial_fit over the file", epochs, epochs[0][1])

        if sys.platform != "linux":
            return
        chunk_bytes = args.chunk * args.features * 8
        print(f"\nPeak memory added by an epoch (a chunk: {chunk_bytes / 2**20:.1f} "
              "MiB)\n")  # fmt: skip
        print("| | MiB | chunks |")
        print("|---|---|---|")
        for label, reader, module, read_ahead in EPOCHS:
            if "reading inline" in label or "pyarrow" in label:
                continue  # one reference is enough
            script = PEAK.format(module=module, methods=METHODS, reader=reader,
                                 chunk=args.chunk, read_ahead=read_ahead)  # fmt: skip
            out = subprocess.run(
                [sys.executable, "-c", script, *paths.values(), *small.values()],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            peak = int(out)
            print(f"| {label} | {peak / 2**20:.1f} | {peak / chunk_bytes:.1f} |")


if __name__ == "__main__":
    main()
