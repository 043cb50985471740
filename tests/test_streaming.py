"""Out-of-core training with bounded memory."""

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklosses import SGDClassifier, SGDRegressor
from sklosses.streaming import (
    iter_csv_chunks,
    iter_memmap_chunks,
    iter_parquet_chunks,
    partial_fit_chunks,
)

# Runs in a fresh process, so that its peak memory is its own.
MEMMAP_TRAINING = textwrap.dedent(
    """
    import os, sys, numpy as np
    from sklosses import SGDRegressor
    from sklosses.streaming import iter_memmap_chunks, partial_fit_chunks

    def memory(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024

    folder, n, p, chunk = sys.argv[1], 200_000, 50, 10_000
    read_ahead = sys.argv[2] == "True"
    X = np.memmap(os.path.join(folder, "X.dat"), np.float64, "r", shape=(n, p))
    y = np.memmap(os.path.join(folder, "y.dat"), np.float64, "r", shape=(n,))
    # Load the kernels the measured training runs: a first call and a later
    # one on rows of the file (constant targets would skip the best
    # constant's search, whose kernels then loaded, 4 MB of code, during the
    # measured training).
    warm = SGDRegressor(learning_rate="auto", random_state=0)
    for _ in range(2):
        warm.partial_fit(X[:100], y[:100])
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak
    before = memory("VmRSS:")
    model = SGDRegressor(learning_rate="auto", random_state=0)
    partial_fit_chunks(
        model, lambda: iter_memmap_chunks(X, y, chunk), epochs=2, read_ahead=read_ahead
    )
    peak = memory("VmHWM:") - before
    coef = np.append(model.coef_, model.intercept_)
    np.save(os.path.join(folder, f"coef_{read_ahead}.npy"), coef)
    print(peak, X.nbytes, chunk * p * 8)
    """
)


@pytest.fixture(scope="module")
def memmap_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("memmap")
    n, p = 200_000, 50
    rng = np.random.default_rng(0)
    X = np.memmap(folder / "X.dat", np.float64, "w+", shape=(n, p))
    y = np.memmap(folder / "y.dat", np.float64, "w+", shape=(n,))
    w = rng.normal(size=p)
    for start in range(0, n, 50_000):
        block = rng.normal(size=(50_000, p))
        X[start : start + 50_000] = block
        y[start : start + 50_000] = block @ w + rng.normal(size=50_000)
    X.flush()
    y.flush()
    return folder, X, y


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc for peak memory")
@pytest.mark.parametrize("read_ahead, chunks", [(False, 3), (True, 6)])
def test_memmap_training_holds_a_few_chunks_not_the_file(
    memmap_files, read_ahead, chunks
):
    folder, X, y = memmap_files
    run = subprocess.run(
        [sys.executable, "-c", MEMMAP_TRAINING, str(folder), str(read_ahead)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    peak, file_bytes, chunk_bytes = map(int, run.stdout.split())
    # The file is 76 MiB (20 chunks of 3.8 MiB). The peak holds the chunk,
    # its mapping while it is copied out, and small change (2.5 chunks
    # measured); reading ahead, one more chunk, and the allocator keeps what
    # the two threads freed a little longer (4.5 chunks measured, up to 5.5
    # in one run of ten and under bounds checking).
    assert peak < chunks * chunk_bytes <= 0.3 * file_bytes
    # And the model is the one fit() finds on the whole data in memory.
    streamed = np.load(folder / f"coef_{read_ahead}.npy")
    whole = SGDRegressor(learning_rate="auto", max_iter=2, tol=None, random_state=0)
    whole.fit(np.asarray(X), np.asarray(y))
    assert_allclose(streamed[:-1], whole.coef_, atol=0.02)


def test_csv_chunks_train_a_classifier_as_in_memory(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 4))
    y = (X @ [1.0, -2.0, 0.5, 0.0] + rng.logistic(size=3000) > 0).astype(int)
    path = tmp_path / "data.csv"
    lines = ["a,b,label,c,d"] + [
        f"{r[0]},{r[1]},{label},{r[2]},{r[3]}" for r, label in zip(X, y, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    chunks = list(iter_csv_chunks(path, "label", 1000))
    assert [chunk.shape for chunk, _ in chunks] == [(1000, 4)] * 3
    assert_allclose(np.vstack([chunk for chunk, _ in chunks]), X)
    params = dict(loss="log_loss", learning_rate="auto", random_state=0)
    streamed = partial_fit_chunks(
        SGDClassifier(**params),
        lambda: iter_csv_chunks(path, "label", 1000),
        epochs=3,
        classes=[0, 1],
    )
    in_memory = SGDClassifier(max_iter=3, tol=None, **params).fit(X, y)
    assert streamed.score(X, y) == pytest.approx(in_memory.score(X, y), abs=0.02)


def test_csv_chunks_refuse_text_features_and_name_the_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,2\noops,3\n")
    with pytest.raises(
        ValueError, match=r"column 'x' .* holds text \('oops' in data row 2\).*columns="
    ):
        list(iter_csv_chunks(path, "y", 10))
    with pytest.raises(ValueError, match="no column 'z'"):
        list(iter_csv_chunks(path, "z", 10))
    with pytest.raises(ValueError, match="no column 'q'"):
        list(iter_csv_chunks(path, "y", 10, columns=["x", "q"]))


def test_csv_chunks_read_missing_markers_as_nan(tmp_path):
    path = tmp_path / "na.csv"
    path.write_text("a,b,y\n1,NA,1\n,2,NA\nnan,null,3\n4,5,\n")
    ((X, y),) = iter_csv_chunks(path, "y", 10)
    assert_array_equal(np.isnan(X), [[0, 1], [1, 0], [1, 1], [0, 0]])
    assert_array_equal(np.isnan(y), [0, 1, 0, 1])


def test_csv_chunks_read_the_columns_asked_for_in_their_order(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,city,b,y\n1.5,lyon,2,0\n2.5,nice,3,1\n")
    ((X, y),) = iter_csv_chunks(path, "y", 10, columns=["b", "a"], dtype=np.float32)
    assert X.dtype == np.float32
    assert_array_equal(X, [[2, 1.5], [3, 2.5]])


def test_a_latin1_csv_is_refused_with_its_line_and_encoding(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("x,y\n1,2\n3,4\n5,\u00e9t\u00e9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"not UTF-8.*0xe9 on line 4.*Latin-1"):
        list(iter_csv_chunks(path, "y", 10))


def test_csv_text_labels_stay_as_written(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("x,label\n1,yes\n2,no\n3,01\n4,no\n")
    ((X, y),) = iter_csv_chunks(path, "label", 10)
    assert list(y) == ["yes", "no", "01", "no"]


@pytest.mark.parametrize("chunk_size", [1, 7, 25, 1000])
def test_csv_chunks_cut_rows_where_pandas_does(tmp_path, chunk_size):
    # Quoted fields with quotes, separators and newlines, across chunks.
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(5)
    labels = ["plain", 'say "hi"', "a,b", "two\nlines", ""]
    quoted = ['"' + text.replace('"', '""') + '"' for text in labels]
    rows = [f"{rng.normal()!r},{i},{quoted[i % 5]}" for i in range(60)]
    path = tmp_path / "quoted.csv"
    path.write_text(
        "x,i,label\n" + "\n".join(rows[:30]) + "\n\n" + "\n".join(rows[30:])
    )
    chunks = list(iter_csv_chunks(path, "label", chunk_size))
    sizes = [len(y) for _, y in chunks]
    assert sizes[:-1] == [chunk_size] * (len(sizes) - 1) and sum(sizes) == 60
    expected = pd.read_csv(path)
    assert_array_equal(np.vstack([X for X, _ in chunks]), expected[["x", "i"]])
    y = np.concatenate([y for _, y in chunks])
    assert_array_equal(pd.isna(y), expected["label"].isna())
    assert list(y[~pd.isna(y)]) == list(expected["label"].dropna())


@pytest.mark.parametrize("chunk_size", [1, 10])
@pytest.mark.parametrize("row, fields", [("4", 1), ("4,5,6", 3)])
def test_csv_chunks_name_a_row_of_the_wrong_length(tmp_path, chunk_size, row, fields):
    path = tmp_path / "short.csv"
    path.write_text(f"x,y\n1,2\n\n3,4\n{row}\n5,6\n")
    with pytest.raises(
        ValueError, match=f"line 5: {fields} fields where the header has 2"
    ):
        list(iter_csv_chunks(path, "y", chunk_size))


def test_a_target_of_numbers_then_text_is_an_error(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20)) + "20,two\n")
    with pytest.raises(ValueError, match=r"'two' in data row 21.*all numbers or all"):
        list(iter_csv_chunks(path, "y", 5))


def test_memmap_chunks_need_a_memmap():
    with pytest.raises(TypeError, match="needs a 2-D C-ordered numpy.memmap"):
        list(iter_memmap_chunks(np.ones((4, 2)), np.ones(4), 2))


def test_memmap_chunks_of_a_slice_are_its_own_rows(tmp_path):
    # A slice of a memmap keeps its parent's file offset.
    X = np.memmap(tmp_path / "X.dat", np.float64, "w+", shape=(8, 2))
    X[:] = np.arange(16.0).reshape(8, 2)
    X.flush()
    np.save(tmp_path / "X.npy", np.asarray(X))  # a header before the data
    y = np.arange(8.0)
    for mapped in (
        np.memmap(tmp_path / "X.dat", np.float64, "r", shape=(8, 2)),
        np.load(tmp_path / "X.npy", mmap_mode="r"),
    ):
        for rows in (slice(3, None), slice(3, 7), slice(5, 7)):
            chunks = list(iter_memmap_chunks(mapped[rows][1:], y[rows][1:], 2))
            assert_allclose(np.vstack([c for c, _ in chunks]), X[rows][1:])
            assert_allclose(np.concatenate([t for _, t in chunks]), y[rows][1:])


@pytest.mark.parametrize("chunk_size", [0, -3, 2.5])
def test_chunk_size_must_be_a_positive_integer(tmp_path, chunk_size):
    path = tmp_path / "data.csv"
    path.write_text("x,y\n1,2\n")
    X = np.memmap(tmp_path / "X.dat", np.float64, "w+", shape=(4, 2))
    error = TypeError if isinstance(chunk_size, float) else ValueError
    with pytest.raises(error, match="chunk_size"):
        iter_csv_chunks(path, "y", chunk_size)
    with pytest.raises(error, match="chunk_size"):
        iter_memmap_chunks(X, np.ones(4), chunk_size)


def test_csv_chunks_skip_blank_lines_and_a_byte_order_mark(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffx,label\r\n1,0\r\n\r\n2,1\r\n3,0\r\n\r\n".encode())
    ((X, y),) = iter_csv_chunks(path, "x", 10)
    assert_allclose(X.ravel(), [0, 1, 0])
    assert_allclose(y, [1, 2, 3])


def test_a_stream_without_chunks_is_an_error_not_an_unfitted_model(tmp_path):
    path = tmp_path / "header_only.csv"
    path.write_text("x,y\n")
    model = SGDRegressor()
    with pytest.raises(ValueError, match="yielded no chunk in pass 1"):
        partial_fit_chunks(model, lambda: iter_csv_chunks(path, "y", 10))
    assert not hasattr(model, "coef_")


# -- Parquet -----------------------------------------------------------------


def _write_parquet(path, columns, row_group_size):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path, row_group_size=row_group_size)


def test_parquet_csv_and_arrays_train_the_same_model(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(1000, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(scale=0.1, size=1000)
    path = tmp_path / "data.parquet"
    # Row groups of 70 rows: chunks of 300 span them, as a reader must.
    _write_parquet(path, {"a": X[:, 0], "y": y, "b": X[:, 1], "c": X[:, 2]}, 70)
    chunks = list(iter_parquet_chunks(path, "y", 300))
    assert [chunk.shape for chunk, _ in chunks] == [(300, 3)] * 3 + [(100, 3)]
    assert_array_equal(np.vstack([chunk for chunk, _ in chunks]), X)
    assert_array_equal(np.concatenate([target for _, target in chunks]), y)

    def train(make_chunks):
        model = SGDRegressor(learning_rate="auto", random_state=0)
        return partial_fit_chunks(model, make_chunks, epochs=2).coef_

    in_memory = [(X[i : i + 300], y[i : i + 300]) for i in range(0, 1000, 300)]
    csv = tmp_path / "data.csv"
    rows = (
        ",".join(map(repr, [r[0], t, r[1], r[2]]))
        for r, t in zip(X.tolist(), y.tolist(), strict=True)
    )
    csv.write_text("a,y,b,c\n" + "\n".join(rows) + "\n")
    reference = train(lambda: in_memory)
    assert_array_equal(train(lambda: iter_parquet_chunks(path, "y", 300)), reference)
    assert_array_equal(train(lambda: iter_csv_chunks(csv, "y", 300)), reference)


def test_parquet_chunks_read_the_columns_asked_for(tmp_path):
    path = tmp_path / "data.parquet"
    n = 50
    columns = {
        "a": np.arange(n, dtype=float),
        "city": np.array(["lyon", "nice"] * (n // 2)),
        "b": np.arange(n, dtype=np.int32),
        "y": np.ones(n),
    }
    _write_parquet(path, columns, 20)
    with pytest.raises(ValueError, match="'city' holds string.*columns="):
        list(iter_parquet_chunks(path, "y", 10))
    chunks = list(
        iter_parquet_chunks(path, "y", 10, columns=["b", "a"], dtype=np.float32)
    )
    X = np.vstack([chunk for chunk, _ in chunks])
    assert X.dtype == np.float32
    assert_array_equal(X, np.column_stack([columns["b"], columns["a"]]))
    with pytest.raises(ValueError, match="no column 'z'"):
        list(iter_parquet_chunks(path, "z", 10))
    with pytest.raises(ValueError, match="no column 'q'"):
        list(iter_parquet_chunks(path, "y", 10, columns=["a", "q"]))


def test_missing_parquet_values_are_nan_and_refused_by_the_fit(tmp_path):
    pa = pytest.importorskip("pyarrow")
    path = tmp_path / "data.parquet"
    import pyarrow.parquet as pq

    table = pa.table({"x": pa.array([1, None, 3], pa.int64()), "y": [1.0, 2.0, 3.0]})
    pq.write_table(table, path)
    ((X, y),) = iter_parquet_chunks(path, "y", 10)
    assert np.isnan(X[1, 0]) and X[2, 0] == 3.0
    with pytest.raises(ValueError, match="NaN"):
        partial_fit_chunks(SGDRegressor(), lambda: iter_parquet_chunks(path, "y", 10))


def test_parquet_labels_may_be_strings(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 2))
    labels = np.where(X[:, 0] - X[:, 1] > 0, "yes", "no")
    path = tmp_path / "data.parquet"
    _write_parquet(path, {"a": X[:, 0], "b": X[:, 1], "label": labels}, 100)
    model = partial_fit_chunks(
        SGDClassifier(random_state=0),
        lambda: iter_parquet_chunks(path, "label", 100),
        epochs=3,
        classes=["no", "yes"],
    )
    assert model.score(X, labels) > 0.9


def test_a_bad_chunk_leaves_the_model_of_the_chunks_before_it(tmp_path):
    # Streaming applies each chunk as it comes: a failing chunk changes
    # nothing, and the model is the one the chunks before it trained.
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 2))
    y = X @ [1.0, 2.0]
    X_bad = X.copy()
    X_bad[150, 1] = np.nan
    path = tmp_path / "data.parquet"
    _write_parquet(path, {"a": X_bad[:, 0], "b": X_bad[:, 1], "y": y}, 100)
    model = SGDRegressor(random_state=0)
    with pytest.raises(ValueError, match="NaN"):
        partial_fit_chunks(model, lambda: iter_parquet_chunks(path, "y", 100))
    first = SGDRegressor(random_state=0).partial_fit(X[:100], y[:100])
    assert_array_equal(model.coef_, first.coef_)
    assert_array_equal(model.intercept_, first.intercept_)
    assert model.t_ == first.t_


# -- Reading ahead -------------------------------------------------------------


def _chunks(n_chunks, fail_at=None, log=None):
    rng = np.random.default_rng(6)
    try:
        for k in range(n_chunks):
            if k == fail_at:
                raise OSError("the disk went away")
            if log is not None:
                log.append(threading.current_thread())
            X = rng.normal(size=(50, 3))
            yield X, X @ [1.0, 2.0, 3.0]
    finally:
        if log is not None:
            log.append("closed")


def test_reading_ahead_trains_the_same_model_in_a_background_thread():
    log = []
    ahead = partial_fit_chunks(
        SGDRegressor(random_state=0), lambda: _chunks(6, log=log), epochs=2
    )
    assert threading.main_thread() not in log and log.count("closed") == 2
    log.clear()
    inline = partial_fit_chunks(
        SGDRegressor(random_state=0),
        lambda: _chunks(6, log=log),
        epochs=2,
        read_ahead=False,
    )
    assert set(log) == {threading.main_thread(), "closed"}
    assert_array_equal(ahead.coef_, inline.coef_)
    assert_array_equal(ahead.intercept_, inline.intercept_)


@pytest.mark.parametrize("read_ahead", [True, False])
def test_an_error_while_reading_comes_after_the_chunks_before_it(read_ahead):
    threads = threading.active_count()
    model = SGDRegressor(random_state=0)
    with pytest.raises(OSError, match="the disk went away"):
        partial_fit_chunks(model, lambda: _chunks(6, fail_at=2), read_ahead=read_ahead)
    expected = partial_fit_chunks(SGDRegressor(random_state=0), lambda: _chunks(2))
    assert_array_equal(model.coef_, expected.coef_)
    assert model.t_ == expected.t_
    assert threading.active_count() == threads


def test_a_failed_fit_stops_the_reading_thread_and_closes_the_source():
    log = []

    def chunks():
        for k, (X, y) in enumerate(_chunks(20, log=log)):
            yield (np.full_like(X, np.nan) if k == 1 else X), y

    threads = threading.active_count()
    with pytest.raises(ValueError, match="NaN"):
        partial_fit_chunks(SGDRegressor(), chunks)
    assert threading.active_count() == threads
    # Read: the chunk trained, the one refused, at most one ahead; then closed.
    assert len(log) <= 4 and log[-1] == "closed"


def test_without_pandas_reading_a_csv_says_what_to_install(tmp_path, monkeypatch):
    from sklosses._compare import DataError, read_csv

    path = tmp_path / "data.csv"
    path.write_text("x,y\n1,2\n")
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas fails
    with pytest.raises(ImportError, match=r"iter_csv_chunks .*sklosses\[io\]"):
        iter_csv_chunks(path, "y", 10)
    with pytest.raises(DataError, match=r"python -m sklosses .*sklosses\[io\]"):
        read_csv(path, "y")
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ImportError, match=r"iter_parquet_chunks needs pyarrow.*\[io\]"):
        iter_parquet_chunks(tmp_path / "data.parquet", "y", 10)
