"""The package's CSV reader: pandas' C parser, on blocks parsed in parallel.

A file is cut into blocks of whole rows (a newline outside quotes ends a
row), and each block is parsed by ``pandas.read_csv`` in one of two threads:
the parser releases the GIL, so two cores read a file in about half the
time of one ``read_csv(chunksize=...)`` pass. Every block is parsed with the
same options, so a file reads as pandas reads it: its missing-value markers
(``NA``, ``nan``, an empty cell, ...), UTF-8 with or without a byte-order
mark, quoted fields, blank lines skipped. What pandas leaves unsaid is
checked here: a row with more or fewer fields than the header, and bytes
that are not UTF-8, are errors that name their line.
"""

import io
import re
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np

from ._optional import import_optional

# Bytes per block, at most. A block in flight costs about four times its size
# (the bytes, pandas' tokens, the DataFrame, the array); blocks below 1 MiB
# pay pandas' fixed cost per call too often.
BLOCK_BYTES = 2 << 20
MIN_BLOCK_BYTES = 64 << 10
N_THREADS = 2
BOM = b"\xef\xbb\xbf"


class CSVFile:
    """A CSV file with a header line, read in blocks of whole rows.

    Parameters
    ----------
    path : str or path-like
    caller : str
        Named in the message if pandas is missing.
    """

    def __init__(self, path, caller):
        self.pd = import_optional("pandas", caller)
        self.path = path
        self.offset = 0
        with self._open() as file:
            if file.read(len(BOM)) != BOM:
                file.seek(0)
            start, header = next(_blocks(file, BLOCK_BYTES, first=True), (0, b""))
            file.seek(start + len(header))
            sample = file.read(MIN_BLOCK_BYTES)
        self.offset = start + len(header)
        self.row_bytes = len(sample) / max(1, sample.count(b"\n"))
        if not header.strip():
            raise ValueError(f"{path} is empty: expected a header line.")
        self.columns = list(self._parse(header, 0, header=0).columns)

    def _open(self):
        try:
            file = open(self.path, "rb")  # noqa: SIM115
        except OSError as error:
            raise ValueError(f"cannot read {self.path}: {error.strerror}.") from None
        file.seek(self.offset)
        return file

    def is_numeric(self, column):
        """Whether a column of a DataFrame holds numbers (or booleans)."""
        return self.pd.api.types.is_numeric_dtype(column)

    def read(self):
        """Every row as a DataFrame, the type of each column inferred."""
        with self._open() as file:
            return self._parse(file.read(), self.offset, low_memory=False)

    def map_blocks(self, convert, usecols, dtype_from=None, rows=None):
        """``convert(frame)`` for the DataFrame of each block, in order.

        Blocks are parsed and converted two at a time in threads; they hold
        about ``rows`` rows each (to bound memory), within limits. The first
        block with rows is parsed first, alone: ``dtype_from``, if given, is
        called with its DataFrame, and returns the types of columns in all
        the blocks after it.
        """
        if sorted(usecols) == sorted(self.columns):
            usecols = None  # pandas reads every column faster than a choice of all
        with self._open() as file, ThreadPoolExecutor(N_THREADS) as pool:
            pending, dtype = deque(), None if dtype_from else {}
            size = BLOCK_BYTES if rows is None else int(rows * self.row_bytes)
            size = min(max(size, MIN_BLOCK_BYTES), BLOCK_BYTES)
            for offset, block in _blocks(file, size):
                if dtype is None:
                    frame = self._parse(block, offset, usecols=usecols)
                    if len(frame):
                        dtype = dtype_from(frame)
                    yield convert(frame)
                    continue
                parse = partial(self._parse, usecols=usecols, dtype=dtype)
                pending.append(pool.submit(_compose, convert, parse, block, offset))
                if len(pending) >= N_THREADS:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def _parse(self, block, offset, header=None, **options):
        """``block``, found at byte ``offset`` of the file, as a DataFrame."""
        if header is None:
            # pandas takes the number of fields from the first row, and only
            # warns when it has too many.
            self._check_fields(block, offset, first_row=True)
        names = {} if header == 0 else {"names": self.columns, "header": None}
        try:
            frame = self.pd.read_csv(
                io.BytesIO(block), encoding="utf-8", index_col=False,
                **names, **options,
            )  # fmt: skip
        except UnicodeDecodeError:
            raise ValueError(self._not_utf8(block, offset)) from None
        except self.pd.errors.ParserError as error:
            raise ValueError(self._parser_error(error, offset)) from None
        if header is None:
            self._check_fields(block, offset, n_rows=len(frame))
        return frame

    def _line(self, position):
        """The number of the line on which byte ``position`` of the file lies."""
        line = 1
        with open(self.path, "rb") as file:
            while position > 0 and (piece := file.read(min(position, BLOCK_BYTES))):
                line += piece.count(b"\n")
                position -= len(piece)
        return line

    def _parser_error(self, error, offset):
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if found is None:
            return f"{self.path}, from line {self._line(offset)}: {error}"
        expected, line, fields = map(int, found.groups())
        return (
            f"{self.path}, line {self._line(offset) + line - 1}: {fields} fields "
            f"where the header has {expected}."
        )

    def _not_utf8(self, block, offset):
        """Where ``block`` stops being UTF-8, and what it may be instead."""
        try:
            block.decode("utf-8")
            where = ""
        except UnicodeDecodeError as error:
            line = self._line(offset + error.start)
            where = (
                f": byte 0x{block[error.start]:02x} on line {line} is not valid UTF-8"
            )
        try:
            block.decode("cp1252")
            guess = (
                "It decodes as Windows-1252 (Latin-1): re-save it as UTF-8, e.g. "
                "iconv -f cp1252 -t utf-8."
            )
        except UnicodeDecodeError:
            guess = "Re-save it as UTF-8."
        return f"{self.path} is not UTF-8 text{where}. {guess}"

    def _check_fields(self, block, offset, n_rows=None, first_row=False):
        """A row with more or fewer fields than the header is an error.

        pandas reads the fields a short row lacks as missing, which would
        hide a truncated file, and drops the extra fields of a long row when
        it reads some columns only. ``n_rows`` rows were read from ``block``:
        a count of its separators finds such rows at the speed of a byte
        scan. A block with quotes (separators inside fields) is left to
        pandas.
        """
        n_columns = len(self.columns)
        if b'"' in block:
            return
        if not first_row:
            # numpy counts at memory speed and without the GIL; bytes.count not.
            n_separators = np.count_nonzero(np.frombuffer(block, np.uint8) == ord(","))
            if n_separators == n_rows * (n_columns - 1):
                return
        for start, row in _rows(block):
            if (fields := row.count(b",") + 1) != n_columns:
                raise ValueError(
                    f"{self.path}, line {self._line(offset + start)}: {fields} "
                    f"fields where the header has {n_columns}."
                )
            if first_row:
                return


def _rows(block):
    """``(start, row)`` for the lines of ``block`` that are not blank."""
    start = 0
    while start < len(block):
        end = block.find(b"\n", start)
        end = len(block) if end < 0 else end
        if block[start:end].strip():
            yield start, block[start:end]
        start = end + 1


def _blocks(file, block_bytes, first=False):
    """``(offset, block)``: blocks of about ``block_bytes`` of whole rows.

    With ``first=True``, only the first row (the header).
    """
    size = block_bytes
    while True:
        offset = file.tell()
        block = file.read(size)
        at_end = len(block) < size
        end = len(block) if at_end and not first else _end_of_rows(block, first)
        if not end and not at_end:  # a row longer than the block
            file.seek(offset)
            size *= 2
            continue
        end = end or len(block)  # at the end, a row without a newline
        if not end:
            return
        file.seek(offset + end)  # the rest is read again with the next block
        yield offset, block[:end] if end < len(block) else block
        if first:
            return
        size = block_bytes


def _compose(convert, parse, *args):
    return convert(parse(*args))


def _end_of_rows(block, first=False):
    """The end of the last whole row in ``block`` (of the first, if ``first``).

    A newline ends a row unless it is inside quotes; RFC 4180 doubles a
    quote inside a quoted field, so a newline is outside quotes when an even
    number of quotes come before it. Returns 0 if no row ends in ``block``.
    """
    find = block.find if first else block.rfind
    if b'"' not in block:
        return find(b"\n") + 1
    start, end = 0, len(block)
    while (newline := find(b"\n", start, end)) >= 0:
        if block.count(b'"', 0, newline) % 2 == 0:
            return newline + 1
        start, end = (newline + 1, end) if first else (start, newline)
    return 0
