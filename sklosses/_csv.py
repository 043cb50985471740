"""The package's CSV reader: pandas' chunked reader, and the checks pandas lacks.

The problem: train on a CSV file larger than memory, chunk after chunk, and
read it exactly as ``pandas.read_csv`` reads the whole file (rows, values,
types, missing-value markers, quoting, line endings, compression, errors),
since pandas is what a user checks a file against.

The choice: pandas reads, with its own chunked reader
(``read_csv(chunksize=...)``, C engine), one chunk at a time. An earlier
reader cut the file into blocks of whole rows itself, a newline after an
even number of quotes ending a row, so that two threads could parse blocks
at once. That rule is not pandas': a stray quote in an unquoted field
(5'11") made it read the rest of the file as one block, in time that grew
with rows times bytes, or cut a quoted newline; CR-only line endings gave
no row at all. Its two threads bought little: 0.8x to 1.2x of the time of
one ``read_csv(chunksize=...)`` pass with a second core free, 1.3x to 2x
with it busy, for 1.5 times the memory. ``partial_fit_chunks`` gets the
overlap that matters another way: the next chunk is parsed in a thread
while the current one trains, pandas' parser releasing the GIL. The
measurements, before and after, are in ``benchmarks/README.md`` ("Out of
core").

What pandas lacks is checked here. pandas fills a row with fewer fields than
the header with NaN, and makes a first row with one field more an index; both
are errors here that name their line, as pandas' own error for a row with too
many fields does. Fields are counted a second time, by Python's csv module
(which pandas' tokenizer borrows from), for the first row and for the rows
whose last field is missing, and only from a file that can be read twice: a
file with no missing value in its last column is read once but for its
header and first row. The same count finds the rows pandas' C parser reads
shifted (an empty first field after a blank line ended by a lone CR). Bytes
that are not UTF-8 are an error naming their line and guessing the encoding.
"""

import codecs
import contextlib
import csv
import functools
import io
import os
import re
import warnings

from ._optional import import_optional

# read_csv's options that iter_csv_chunks sets itself, and why.
RESERVED_OPTIONS = {
    "filepath_or_buffer": "the file is the first argument",
    "sep": "pass sep= itself",
    "delimiter": "pass sep= instead",
    "chunksize": "chunk_size sets it",
    "iterator": "the chunks are the iteration",
    "usecols": "choose the feature columns with columns=",
    "header": "the first line that is not blank names the columns",
    "names": "the first line that is not blank names the columns",
    "index_col": "every column is data; leave one out with columns=",
}
# Options under which pandas' rows are not the records of Python's csv
# module, with the value that keeps them so.
NOT_RECORDS = {
    "comment": None,
    "skiprows": None,
    "skipfooter": 0,
    "lineterminator": None,
    "dialect": None,
    "delim_whitespace": False,
    "skip_blank_lines": True,
    "on_bad_lines": "error",
    "engine": "c",
}
# pandas skips lines of these characters (less the separator) between rows.
BLANK = " \t"
BLOCK_BYTES = 1 << 20
FIELDS_ERROR = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


class CSVReader:
    """A CSV source with a header line, read by ``pandas.read_csv``.

    Parameters
    ----------
    source : str, path-like or file-like
        Anything ``pandas.read_csv`` reads.
    caller : str
        Named in the message if pandas is missing.
    sep : str, default=","
        The separator of fields.
    read_csv_kwargs : dict, default=None
        More options of ``pandas.read_csv``, but for those in
        ``RESERVED_OPTIONS``.
    option_hint : str or None, default="read_csv_kwargs"
        How the caller takes read_csv's options, for the advice in errors.
    """

    def __init__(
        self, source, caller, *, sep=",", read_csv_kwargs=None,
        option_hint="read_csv_kwargs",
    ):  # fmt: skip
        self.pd = import_optional("pandas", caller)
        options = dict(read_csv_kwargs or {})
        for key in options:
            if key in RESERVED_OPTIONS:
                raise ValueError(
                    f"read_csv_kwargs may not set {key!r}: {RESERVED_OPTIONS[key]}."
                )
        self.source = source
        self.name = (
            os.fspath(source)
            if _is_path(source)
            else str(getattr(source, "name", "the CSV data"))
        )
        self.options = {"encoding": "utf-8", **options, "sep": sep}
        self.option_hint = option_hint
        self.columns = None

    @property
    def can_reread(self):
        """Whether the source can be opened again: a path to a regular file."""
        return _is_path(self.source) and os.path.isfile(self.source)

    def sets_dtype(self, column):
        """Whether ``read_csv_kwargs`` gives the type of ``column``."""
        dtype = self.options.get("dtype")
        return dtype is not None and (not isinstance(dtype, dict) or column in dtype)

    def frames(self, chunksize=None, text=None):
        """The DataFrames pandas reads, ``chunksize`` rows each, checked.

        ``chunksize=None`` reads every row into one DataFrame. The column
        ``text``, if given, is read as text (as written), unless
        ``read_csv_kwargs`` gives its type. The file is opened, and its
        header read, before this returns.
        """
        options = dict(self.options)
        if text is not None and not self.sets_dtype(text):
            options["dtype"] = {**options.get("dtype", {}), text: str}
        if chunksize is None:
            options.setdefault("low_memory", False)  # types from every row
        with self._errors():
            reader = self.pd.read_csv(self.source, chunksize=chunksize, **options)
        if chunksize is None:
            return self._checked(iter([reader]), close=None)
        return self._checked(reader, close=reader.close)

    def _checked(self, frames, close):
        fields, start = _FieldCounter(self), 0
        try:
            while True:
                with self._errors():
                    frame = next(frames, None)
                if frame is None:
                    return
                self.columns = list(frame.columns)
                self._check(frame, start, fields)
                start += len(frame)
                checked = [frame]
                del frame
                yield checked.pop()  # no reference kept while the caller has it
        finally:
            fields.close()
            if close is not None:
                close()

    def _check(self, frame, start, fields):
        """Rows with fewer fields than the header, or a first with one more.

        ``frame`` holds data rows ``start`` on (from 0).
        """
        n_columns = len(frame.columns)
        if not len(frame):
            return
        # pandas reads a first row with one field more than the header as an
        # index and its first field as the index of every row, which shifts
        # the fields of all the rows that have as many fields as the header.
        first = fields.record(0, warn=False) if start == 0 else None
        shifted = first is not None and first[1] > n_columns
        rows = self.pd.RangeIndex(start, start + len(frame))
        if shifted or not frame.index.equals(rows):
            where = f"line {first[0]}" if first else "the first row after the header"
            raise self.pd.errors.ParserError(
                f"{self.name}, {where}: {n_columns + 1} fields where the header "
                f"has {n_columns}."
            )
        last = frame.iloc[:, -1]
        missing = last.isna().to_numpy(bool)
        if not self.pd.api.types.is_numeric_dtype(last):
            missing = missing | (last == "").to_numpy(bool)  # na_filter=False
        for row in frame.index[missing]:
            if (record := fields.record(row)) is None:
                return
            line, count, misread = record
            if count < n_columns:
                raise self.pd.errors.ParserError(
                    f"{self.name}, line {line}: {count} fields where the header "
                    f"has {n_columns}."
                )
            if misread and _drops_first_field_after_cr(self.pd):
                raise self.pd.errors.ParserError(
                    f"{self.name}, line {line}: pandas drops the empty first field "
                    "of a row after a blank line ended by a lone carriage return "
                    "(CR), and reads the other fields one column to the left. "
                    "Save the file with LF or CRLF line endings"
                    + self._option("lineterminator", "'\\r'")
                )

    @contextlib.contextmanager
    def _errors(self):
        """pandas' errors, naming the file and the line."""
        pd = self.pd
        try:
            yield
        except UnicodeDecodeError as error:
            if not _is_utf8(self.options["encoding"]):
                raise
            raise ValueError(self._not_utf8(error)) from error
        except pd.errors.ParserError as error:
            raise pd.errors.ParserError(self._parser_message(error)) from error
        except pd.errors.EmptyDataError as error:
            raise pd.errors.EmptyDataError(f"{self.name}: {error}") from error

    def _parser_message(self, error):
        found = FIELDS_ERROR.search(str(error))
        if found is None:
            return f"{self.name}: {error}"
        expected, line, fields = map(int, found.groups())
        if self.columns is None or expected == len(self.columns):
            return (
                f"{self.name}, line {line}: {fields} fields where the header has "
                f"{expected}."
            )
        return (
            f"{self.name}, line {line}: {fields} fields where the first row has "
            f"{expected}, one more than the header."
        )

    def _not_utf8(self, error):
        """Where the source stops being UTF-8, and what it may be instead."""
        found = _first_non_utf8(self) if self.can_reread else None
        if found is None:
            return (
                f"{self.name} is not UTF-8 text ({error}). Re-save it as UTF-8"
                + self._option("encoding", "its encoding")
            )
        byte, line, rest = found
        try:
            rest.decode("cp1252")
        except UnicodeDecodeError:
            guess = "Re-save it as UTF-8" + self._option("encoding", "its encoding")
        else:
            guess = (
                "It decodes as Windows-1252 (Latin-1): re-save it as UTF-8 (iconv "
                "-f cp1252 -t utf-8)" + self._option("encoding", "'cp1252'")
            )
        return (
            f"{self.name} is not UTF-8 text: byte 0x{byte:02x} on line {line} is "
            f"not valid UTF-8. {guess}"
        )

    def _option(self, key, value):
        """The end of a sentence of advice: read it with that option."""
        if self.option_hint is None:
            return "."
        return f", or read it with {self.option_hint}={{{key!r}: {value}}}."

    def _open(self, **options):
        """The source opened again, as pandas opens it (``IOHandles``)."""
        from pandas.io.common import get_handle

        return get_handle(
            self.source,
            compression=self.options.get("compression", "infer"),
            storage_options=self.options.get("storage_options"),
            **options,
        )


@functools.cache
def _drops_first_field_after_cr(pd):
    """Whether pandas' C parser drops an empty first field after a blank line
    ended by a lone CR (pandas 3.1 does), asked of pandas itself."""
    frame = pd.read_csv(io.BytesIO(b"a,b\r\r,1\r"))
    return not frame["a"].isna().all()


def _is_path(source):
    return isinstance(source, (str, os.PathLike))


def _is_utf8(encoding):
    return encoding is None or codecs.lookup(encoding).name == "utf-8"


def _first_non_utf8(reader):
    """``(byte, line, bytes from it)`` at the first byte that is not UTF-8.

    ``None`` if the source cannot be opened again by pandas' opener (a
    private function, hence any error), or holds no such byte.
    """
    try:
        handles = reader._open(mode="rb", is_text=False)
    except Exception:
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, before = 1, b""
    with handles:
        while block := handles.handle.read(BLOCK_BYTES):
            pending = decoder.getstate()[0]
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                # Bytes pending a multibyte character hold no newline.
                head = block[: max(0, error.start - len(pending))]
                line += _line_breaks(before + head) - _line_breaks(before)
                return (pending + block)[error.start], line, block[len(head) :]
            line += _line_breaks(before + block) - _line_breaks(before)
            before = block[-1:]
    return None


def _line_breaks(data):
    """The lines ``data`` ends: LF, CRLF and CR each end one."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


class _FieldCounter:
    """The number of fields of chosen rows, counted by Python's csv module.

    The file is opened again when a first row is asked for, and read once
    through, in step with pandas: each of its records (blank lines skipped
    as pandas skips them) is one of pandas' rows, the header first.
    """

    def __init__(self, reader):
        self.reader = reader
        # (line, n_fields) of each data row, in order; or why not
        self.records = None
        self.handles = None
        self.row, self.last = -1, None  # the last record read
        self.warned = False

    def record(self, row, warn=True):
        """``(line, n_fields, misread)`` of data ``row`` (from 0, asked for in
        increasing order; see ``_records``), or None if its fields cannot be
        counted (with a warning if ``warn``)."""
        if self.records is None:
            self.records = self._open()
        if isinstance(self.records, str):
            self._cannot_count(warn)
            return None
        try:
            while self.row < row:
                self.last = next(self.records)
                self.row += 1
        except (csv.Error, StopIteration) as error:
            self.records = f"Python's csv module found {error or 'fewer rows'}"
            self._cannot_count(warn)
            return None
        return self.last

    def _open(self):
        """The records after the header, or why there are none."""
        options = self.reader.options
        for key, value in NOT_RECORDS.items():
            if key in options and options[key] != value:
                return f"read_csv_kwargs sets {key!r}"
        sep = options["sep"]
        if not isinstance(sep, str) or len(sep) != 1:
            return f"the separator {sep!r} is not one character"
        if not self.reader.can_reread:
            return "it cannot be read twice"
        encoding = options["encoding"]
        if _is_utf8(encoding):
            encoding = "utf-8-sig"  # pandas skips a byte-order mark
        try:
            self.handles = self.reader._open(
                mode="r", encoding=encoding,
                errors=options.get("encoding_errors", "strict"),
            )  # fmt: skip
        except Exception as error:  # pandas' opener is private: fenced
            return f"pandas could not open it again: {error}"
        dialect = {
            "delimiter": sep,
            "quotechar": options.get("quotechar", '"'),
            "escapechar": options.get("escapechar"),
            "doublequote": options.get("doublequote", True),
            "skipinitialspace": options.get("skipinitialspace", False),
            "quoting": csv.QUOTE_NONE
            if options.get("quoting") == csv.QUOTE_NONE
            else csv.QUOTE_MINIMAL,
            "strict": False,
        }
        records = _records(self.handles.handle, dialect, BLANK.replace(sep, ""))
        next(records, None)  # the header
        return records

    def _cannot_count(self, warn):
        if warn and not self.warned:
            self.warned = True
            warnings.warn(
                f"{self.reader.name}: the fields of its rows cannot be counted "
                f"({self.records}), so a row with fewer fields than the header "
                "reads as pandas reads it, its missing fields NaN.",
                self.reader.pd.errors.ParserWarning,
                stacklevel=2,
            )

    def close(self):
        if self.handles is not None:
            self.handles.close()


def _records(lines, dialect, blank):
    """``(line, n_fields, misread)`` of each record of the text ``lines``.

    Lines are numbered as pandas numbers them in its errors: a record counts
    one line however many newlines its quoted fields hold, and a blank line
    one. pandas skips a line of spaces and tabs where a record would start,
    not inside a quoted field, so the csv module is not shown one there.
    ``misread``: the record follows such a line ended by a lone CR and
    starts with the separator, an empty first field that pandas' C parser
    drops (pandas 3.1 and before), reading the fields after it one column to
    the left.
    """
    line, at_start, after_cr = 0, True, False

    def unskipped():
        nonlocal line, at_start, after_cr
        for text in lines:
            if at_start and not text.strip("\r\n").strip(blank):
                line += 1
                after_cr = text.endswith("\r")
                continue
            after_cr = after_cr and at_start and text.startswith(dialect["delimiter"])
            at_start = False
            yield text

    for fields in csv.reader(unskipped(), **dialect):
        line += 1
        at_start = True
        yield line, len(fields), after_cr
        after_cr = False
