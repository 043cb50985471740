"""``iter_csv_chunks`` reads what ``pandas.read_csv`` reads, with its checks."""

import gzip
import os
import re
import threading

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklosses import SGDRegressor
from sklosses.streaming import iter_csv_chunks, partial_fit_chunks

pd = pytest.importorskip("pandas")
ParserError = pd.errors.ParserError


def _read(path, target, chunk_size, **options):
    """Every chunk's ``(X, y)``, and the chunks joined."""
    chunks = list(iter_csv_chunks(path, target, chunk_size, **options))
    X = np.vstack([X for X, _ in chunks])
    y = np.concatenate([y for _, y in chunks])
    return chunks, X, y


def test_a_row_with_a_field_too_many_is_an_error_when_columns_are_chosen(tmp_path):
    # pandas drops the extra fields when it reads some columns only: the
    # reader reads them all, so that pandas sees the row whole.
    path = tmp_path / "long.csv"
    path.write_text('id,x,y\n1,"3",2.5\n2,1,250.5,20\n3,4,5\n')
    with pytest.raises(ParserError, match=r"long.csv, line 3: 4 fields where the "):
        list(iter_csv_chunks(path, "y", 10, columns=["x"]))


@pytest.mark.parametrize(
    "text",
    [
        'screen 15",y\n1,2\n3,4\n',  # a stray quote in the header
        "x,y\r1,2\r3,4\r",  # line endings of old Macs: CR only
        'x,y\r1,"a\rb"\r3,4\r',
    ],
)
def test_files_pandas_reads_give_its_rows(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode())
    expected = pd.read_csv(path)
    target = expected.columns[-1]
    _, X, y = _read(path, target, 1, columns=[expected.columns[0]])
    assert_array_equal(X.ravel(), expected.iloc[:, 0])
    if y.dtype == object:  # labels, as written
        expected = pd.read_csv(path, dtype={target: str})
    assert list(y) == list(expected[target])


def test_a_stray_quote_in_an_unquoted_field_is_text_as_pandas_reads_it(tmp_path):
    # 5'11" is a field of its own, and the quoted newline after it a newline
    # in a field, whatever the count of quotes before it.
    path = tmp_path / "heights.csv"
    rows = [f"{i},tall,{i % 2}" for i in range(8000)]
    rows[0], rows[1] = "0,5'11\",0", '1,"two\nlines",1'
    path.write_text("id,height,y\n" + "\n".join(rows) + "\n")
    chunks, X, y = _read(path, "y", 3000, columns=["id"])
    assert [len(c) for _, c in chunks] == [3000, 3000, 2000]
    assert_array_equal(X.ravel(), np.arange(8000))
    assert_array_equal(y, np.arange(8000) % 2)
    text = re.escape(repr("5'11\""))
    with pytest.raises(ValueError, match=rf"'height' .* holds text \({text} in"):
        list(iter_csv_chunks(path, "y", 3000))


def test_numbers_pandas_keeps_as_python_objects_read_as_numbers(tmp_path):
    # Booleans with a blank, and integers beyond 64 bits: an object column of
    # numbers in some chunks, a numeric one in others.
    path = tmp_path / "objects.csv"
    big = 2**70
    path.write_text(
        "flag,big,y\nTrue,1,0\n,2,1\nFalse,3,0\nTrue,4,1\n"
        f"False,{big},0\nTrue,{-big},1\n"
    )
    chunks, X, y = _read(path, "y", 2)
    assert_array_equal(X[:, 0], [1, np.nan, 0, 1, 0, 1])
    assert_array_equal(X[:, 1], [1, 2, 3, 4, float(big), float(-big)])
    assert {c.dtype for _, c in chunks} == {np.dtype(np.float64)}


def test_integers_pandas_reads_as_text_are_an_error_that_says_what_to_do(tmp_path):
    # uint64 beside negative numbers: pandas reads the column as text.
    path = tmp_path / "uint64.csv"
    path.write_text("x,y\n18446744073709551615,1\n-1,2\n")
    with pytest.raises(
        ValueError, match=r"'x' .* \('18446744073709551615' in data row 1\).*dtype"
    ):
        list(iter_csv_chunks(path, "y", 10))
    ((X, y),) = iter_csv_chunks(
        path, "y", 10, read_csv_kwargs={"dtype": {"x": np.float64}}
    )
    assert_array_equal(X.ravel(), [2.0**64, -1.0])


@pytest.mark.parametrize(
    "labels",
    [
        [str(2**70 + k) for k in range(6)],  # integers beyond 64 bits
        ["yes", "no", "01", "1", "2", "02"],  # numbers in later chunks only
        ["True", "", "False", "True", "False", "True"],  # booleans with a blank
    ],
)
def test_a_target_has_one_type_in_every_chunk_its_labels_as_written(tmp_path, labels):
    path = tmp_path / "labels.csv"
    path.write_text("x,y\n" + "".join(f"{i},{v}\n" for i, v in enumerate(labels)))
    chunks, X, y = _read(path, "y", 2)
    if labels[1] == "":
        # Booleans are numbers (a blank, NaN), as in a column without blanks.
        assert_array_equal(y, [1, np.nan, 0, 1, 0, 1])
        assert {c.dtype for _, c in chunks} == {np.dtype(np.float64)}
    else:
        assert list(y) == labels
        assert {type(label) for _, c in chunks for label in c} == {str}


def test_a_gzip_compressed_file_reads_as_pandas_reads_it(tmp_path):
    path = tmp_path / "data.csv.gz"
    with gzip.open(path, "wt") as file:
        file.write("x,y\n1,2\n3,4\n5,6\n")
    _, X, y = _read(path, "y", 2)
    assert_array_equal(X.ravel(), [1, 3, 5])
    assert_array_equal(y, [2, 4, 6])


def test_blank_lines_before_the_header_are_skipped(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n  \nx,y\n1,2\n\n3,4\n")
    _, X, y = _read(path, "y", 10)
    assert_array_equal(X.ravel(), [1, 3])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_is_read_once_through(tmp_path):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    rows = "".join(f"{i / 50},{i / 25}\n" for i in range(50))

    def write():
        with open(path, "w") as pipe:
            pipe.write("x,y\n" + rows)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    model = partial_fit_chunks(
        SGDRegressor(random_state=0),
        lambda: iter_csv_chunks(path, "y", 20),
    )
    writer.join(timeout=10)
    assert model.t_ == 51.0 and not writer.is_alive()


def test_a_missing_file_raises_what_pandas_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        iter_csv_chunks(tmp_path / "missing.csv", "y", 10)
