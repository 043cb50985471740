"""Out-of-core training: ``partial_fit`` over chunks read from disk.

Memory stays near one chunk plus the model, whatever the size of the file:
:func:`iter_memmap_chunks` maps one chunk of a ``numpy.memmap`` at a time,
:func:`iter_csv_chunks` parses one chunk of a CSV file at a time,
:func:`iter_parquet_chunks` reads one chunk of a Parquet file at a time, and
:func:`partial_fit_chunks` feeds them to an estimator epoch after epoch.
"""

import queue
import threading
from numbers import Integral

import numpy as np
from sklearn.utils import check_scalar

from ._csv import CSVReader
from ._optional import import_optional


def iter_memmap_chunks(X, y, chunk_size):
    """Yield ``(X_chunk, y_chunk)`` row blocks of a memory-mapped ``X``.

    Each chunk is copied out of its own short-lived mapping, so that the
    pages of earlier chunks leave the process (a single mapping read end to
    end keeps every page it touched resident).

    Parameters
    ----------
    X : numpy.memmap of shape (n_samples, n_features)
        C-ordered, as written by ``numpy.memmap`` or ``numpy.save``.
    y : array-like of shape (n_samples,)
        Targets; a ``numpy.memmap`` too for large files.
    chunk_size : int
        Rows per chunk.

    Yields
    ------
    X_chunk : ndarray of shape (chunk_size, n_features)
    y_chunk : ndarray of shape (chunk_size,)

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklosses.streaming import iter_memmap_chunks
    >>> path = os.path.join(tempfile.mkdtemp(), "X.dat")
    >>> X = np.memmap(path, dtype=np.float64, mode="w+", shape=(5, 2))
    >>> X[:] = np.arange(10).reshape(5, 2)
    >>> X.flush()
    >>> X = np.memmap(path, dtype=np.float64, mode="r", shape=(5, 2))
    >>> [chunk.shape for chunk, _ in iter_memmap_chunks(X, np.arange(5), 2)]
    [(2, 2), (2, 2), (1, 2)]
    """
    if not isinstance(X, np.memmap) or X.ndim != 2 or not X.flags.c_contiguous:
        raise TypeError(
            "iter_memmap_chunks needs a 2-D C-ordered numpy.memmap; for an array "
            "in memory, slice it directly."
        )
    check_scalar(chunk_size, "chunk_size", Integral, min_val=1)
    return _memmap_chunks(X, y, chunk_size)


def _memmap_chunks(X, y, chunk_size):
    n_samples, n_features = X.shape
    row_bytes = n_features * X.dtype.itemsize
    offset = _file_offset(X)
    for start in range(0, n_samples, chunk_size):
        rows = min(chunk_size, n_samples - start)
        mapping = np.memmap(
            X.filename, dtype=X.dtype, mode="r",
            offset=offset + start * row_bytes, shape=(rows, n_features),
        )  # fmt: skip
        chunk = np.array(mapping)
        del mapping
        yield chunk, np.array(y[start : start + rows])
        del chunk  # before the next chunk exists, not after


def _file_offset(X):
    """Where the first row of the memmap ``X`` lies in its file.

    A slice of a memmap (``X[3:]``) keeps its parent's ``offset``: the file
    offset of the mapping's start. The slice's own is that plus how far its
    data lies from the data of the memmap that made the mapping.
    """
    root = X
    while isinstance(root.base, np.memmap):
        root = root.base
    shift = X.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return root.offset + shift


def iter_csv_chunks(
    path, target, chunk_size, *, columns=None, dtype=np.float64, sep=",",
    read_csv_kwargs=None,
):  # fmt: skip
    """Yield ``(X_chunk, y_chunk)`` blocks of a CSV file, ``chunk_size`` rows each.

    pandas reads the file, with its chunked reader
    (``pandas.read_csv(path, sep=sep, chunksize=chunk_size,
    **read_csv_kwargs)``), so the rows and values are those of
    ``pandas.read_csv(path)``: missing-value markers (``NA``, ``nan``, an
    empty cell, ...) read as NaN, quoted fields, any line endings, a
    byte-order mark, blank lines skipped, a compressed file (``data.csv.gz``)
    decompressed, and pandas' errors. What pandas lets pass is an error
    here: a row with more or fewer fields than the header. Chunks hold
    exactly ``chunk_size`` rows (the last one the rest), so the same rows
    give the same chunks, and the same model, from a CSV file, a Parquet
    file or an array. :func:`partial_fit_chunks` reads the next chunk while
    the current one trains.

    Parameters
    ----------
    path : str, path-like or file-like
        The CSV file, with a header line naming the columns; anything
        ``pandas.read_csv`` reads (a named pipe, a URL, an open file). A
        stream read once through is read once per call.
    target : str
        The name of the target column.
    chunk_size : int
        Rows per chunk.
    columns : list of str, default=None
        The feature columns, in this order; by default every column but
        ``target``, in the file's order.
    dtype : data-type, default=numpy.float64
        The type of the features.
    sep : str, default=","
        The separator of fields (``";"``, ``"\t"``, ...), as ``read_csv``
        takes it.
    read_csv_kwargs : dict, default=None
        More options of ``pandas.read_csv``: ``encoding``, ``na_values``,
        ``decimal``, ``quotechar``, ``compression``, ``dtype`` (the types
        pandas reads columns as, ``{"zip": str}`` say), and so on; not those
        this function sets (``chunksize``, ``usecols``, ``header``,
        ``names``, ``index_col``, ``sep``). With ``comment``, ``skiprows``,
        ``skipfooter``, ``lineterminator``, ``on_bad_lines`` or another
        ``engine``, as from a source that cannot be read twice (a pipe), a
        row with fewer fields than the header reads as pandas reads it,
        with a warning if its last field is missing.

    Yields
    ------
    X_chunk : ndarray of shape (chunk_size, n_features)
        Missing values are NaN, which the estimators refuse: impute them
        first, or leave their column out. Booleans are 0 and 1.
    y_chunk : ndarray of shape (chunk_size,)
        Floats (missing values as NaN) if the first chunk's targets are
        numbers or booleans; otherwise, in every chunk, the labels as
        written in the file, strings (so are integers beyond 64 bits, which
        floats would merge).

    Raises
    ------
    ImportError
        If pandas is not installed.
    FileNotFoundError
        If there is no file at ``path``.
    pandas.errors.ParserError
        If a row has more or fewer fields than the header, or pandas cannot
        parse the file; the error names the line.
    ValueError
        If a column is missing, a feature column holds text, which needs a
        pipeline to encode it, the target holds numbers in its first chunk
        and text later, or the file is not UTF-8 (nor read with the
        ``encoding`` it has); the error names the row or the line.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklosses import SGDRegressor
    >>> from sklosses.streaming import iter_csv_chunks, partial_fit_chunks
    >>> path = os.path.join(tempfile.mkdtemp(), "data.csv")
    >>> x = np.linspace(0.0, 1.0, 10)
    >>> np.savetxt(path, np.c_[x, 2 * x], delimiter=";", header="x;y", comments="")
    >>> [X.shape for X, y in iter_csv_chunks(path, "y", chunk_size=6, sep=";")]
    [(6, 1), (4, 1)]
    >>> model = partial_fit_chunks(
    ...     SGDRegressor(learning_rate="auto", random_state=0),
    ...     lambda: iter_csv_chunks(path, "y", chunk_size=6, sep=";"),
    ...     epochs=5,
    ... )
    """
    check_scalar(chunk_size, "chunk_size", Integral, min_val=1)
    reader = CSVReader(
        path, "iter_csv_chunks", sep=sep, read_csv_kwargs=read_csv_kwargs
    )
    frames = reader.frames(chunk_size)
    first = next(frames, None)
    if first is None:
        return iter(())
    features = _features(list(first.columns), target, columns, reader.name)
    return _csv_chunks(reader, frames, first, features, target, chunk_size, dtype)


def _features(names, target, columns, path):
    """The feature columns: ``columns``, or every column but ``target``."""
    features = [name for name in names if name != target]
    if columns is not None:
        features = list(columns)
    for name in [target, *features]:
        if name not in names:
            raise ValueError(f"no column {name!r} in {path}; columns: {names}.")
    return features


def _csv_chunks(reader, frames, frame, features, target, chunk_size, dtype):
    types = _Types(reader.pd)
    numbers = types.numeric_target(frame[target])
    if len(frame) and not numbers and reader.can_reread:
        # pandas infers the types of each chunk anew: beside "yes", "01" is
        # text; in a chunk of numbers, the number 1. Read the labels as text
        # in every chunk, the first one too.
        frames.close()
        frames = reader.frames(chunk_size, text=target)
        frame = next(frames)
    # Positions, not names: pandas' label lookups cost more than parsing.
    where_X = [frame.columns.get_loc(name) for name in features]
    where_y = frame.columns.get_loc(target)
    while frame is not None:
        if len(frame):
            X = _feature_array(reader, types, frame, where_X, dtype)
            y = _target_array(reader, types, frame.iloc[:, where_y], numbers)
            del frame  # before the next one is read
            yield X, y
            del X, y
        frame = next(frames, None)


class _Types:
    """What pandas read a column as: numbers, or text."""

    # What infer_dtype calls an object column of numbers and missing values
    # (booleans with a blank, integers beyond 64 bits).
    NUMBERS = {"boolean", "integer", "floating", "mixed-integer-float", "empty"}

    def __init__(self, pd):
        self.is_numeric = pd.api.types.is_numeric_dtype
        self.infer = pd.api.types.infer_dtype

    def kind(self, column):
        return self.infer(column, skipna=True)

    def holds_numbers(self, column):
        return self.is_numeric(column) or (
            column.dtype == object and self.kind(column) in self.NUMBERS
        )

    def numeric_target(self, column):
        """Whether a target's first chunk holds numbers or booleans.

        Integers that pandas keeps as Python objects (beyond 64 bits) are
        labels, as written: floats would merge them.
        """
        return self.is_numeric(column) or (
            column.dtype == object and self.kind(column) in {"boolean", "empty"}
        )


def _feature_array(reader, types, frame, where, dtype):
    kinds = frame.dtypes.to_numpy()
    if not all(types.is_numeric(kinds[j]) for j in where):
        for j in where:
            if not types.holds_numbers(column := frame.iloc[:, j]):
                _refuse_text_feature(reader, column)
    try:
        return frame.iloc[:, where].to_numpy(dtype)
    except (OverflowError, TypeError, ValueError) as error:
        raise ValueError(
            f"the feature columns of {reader.name}, {_rows(frame)}, hold values "
            f"that are not {np.dtype(dtype).name} numbers: {error}."
        ) from None


def _target_array(reader, types, column, numbers):
    name = column.name
    as_text = f"read_csv_kwargs={{'dtype': {{{name!r}: str}}}}"
    if numbers:
        if not types.holds_numbers(column):
            value, row, _ = _first_text(reader.pd, column)
            raise ValueError(
                f"the target {name!r} of {reader.name} holds numbers in its first "
                f"rows and text later ({value!r} in data row {row}): labels must "
                f"be all numbers or all text; read them as text with {as_text}."
            )
        try:
            return column.to_numpy(np.float64)
        except OverflowError as error:
            raise ValueError(
                f"the target {name!r} of {reader.name}, {_rows(column)}, holds a "
                f"number too large for a float: {error}."
            ) from None
    if not reader.sets_dtype(name) and types.kind(column) not in {"string", "empty"}:
        raise ValueError(
            f"the target {name!r} of {reader.name} holds text in its first rows "
            f"and, {_rows(column)}, what pandas reads as numbers, not as written; "
            f"{reader.name} cannot be read twice to read them as text: pass "
            f"{as_text}."
        )
    return column.to_numpy(object)


def _refuse_text_feature(reader, column):
    name = column.name
    value, row, number = _first_text(reader.pd, column)
    advice = (
        "encode it in a pipeline (OneHotEncoder for categories), or leave the "
        "column out with columns="
    )
    if number:
        advice = (
            "pandas reads these numbers as text, having no one type of numbers "
            "for them all: read them as floats with "
            f"read_csv_kwargs={{'dtype': {{{name!r}: float}}}}, or leave the "
            "column out with columns="
        )
    raise ValueError(
        f"column {name!r} of {reader.name} holds text ({value!r} in data row "
        f"{row}), not numbers: {advice}."
    )


def _first_text(pd, column):
    """The first string of a pandas ``column`` that is not a number, its data
    row (from 1), and False; the first string and True if all are numbers."""
    strings = np.array([isinstance(value, str) for value in column], dtype=bool)
    text = strings & pd.to_numeric(column, errors="coerce").isna().to_numpy(bool)
    where = np.flatnonzero(text if text.any() else strings)
    # pandas' readers give numbers or strings: a column of no number has one.
    first = where[0] if len(where) else 0
    return column.iloc[first], column.index[first] + 1, not text.any()


def _rows(data):
    """The data rows of a chunk, from 1, as words."""
    return f"data rows {data.index[0] + 1} to {data.index[-1] + 1}"


def _rechunk(pieces, chunk_size):
    """``(X, y)`` pieces of any size, cut and joined into ``chunk_size`` rows."""
    pending_X, pending_y, n_pending = [], [], 0
    for X, y in pieces:
        pending_X.append(X)
        pending_y.append(y)
        n_pending += len(y)
        while n_pending >= chunk_size:
            X, y = (
                p[0] if len(p) == 1 else np.concatenate(p)
                for p in (pending_X, pending_y)
            )
            yield X[:chunk_size], y[:chunk_size]
            n_pending -= chunk_size
            pending_X = [X[chunk_size:]] if n_pending else []
            pending_y = [y[chunk_size:]] if n_pending else []
    if n_pending:
        yield np.concatenate(pending_X), np.concatenate(pending_y)


def iter_parquet_chunks(path, target, chunk_size, *, columns=None, dtype=np.float64):
    """Yield ``(X_chunk, y_chunk)`` blocks of a Parquet file, ``chunk_size`` rows each.

    The file is read a record batch at a time (pyarrow's
    ``ParquetFile.iter_batches``), only the columns asked for, and the
    batches are cut into chunks of exactly ``chunk_size`` rows whatever the
    file's row groups (the last chunk holds the rest): the same chunks as
    the same rows in memory, so the same model.

    Parameters
    ----------
    path : str or path-like
        The Parquet file.
    target : str
        The name of the target column.
    chunk_size : int
        Rows per chunk.
    columns : list of str, default=None
        The feature columns, in this order; by default every column but
        ``target``, in the file's order.
    dtype : data-type, default=numpy.float64
        The type of the features.

    Yields
    ------
    X_chunk : ndarray of shape (chunk_size, n_features)
        Missing values (Parquet nulls) are NaN, which the estimators refuse:
        impute them first, or leave their column out.
    y_chunk : ndarray of shape (chunk_size,)
        Floats (nulls as NaN) for a numeric target; the labels themselves,
        strings say, otherwise.

    Raises
    ------
    ImportError
        If pyarrow is not installed.
    ValueError
        If a column is missing or holds something other than numbers
        (strings, dates, ...), which needs a pipeline to encode it.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    >>> from sklosses import SGDRegressor
    >>> from sklosses.streaming import iter_parquet_chunks, partial_fit_chunks
    >>> path = os.path.join(tempfile.mkdtemp(), "data.parquet")
    >>> x = np.linspace(0.0, 1.0, 10)
    >>> pq.write_table(pa.table({"x": x, "y": 2 * x}), path, row_group_size=4)
    >>> [X.shape for X, y in iter_parquet_chunks(path, "y", chunk_size=6)]
    [(6, 1), (4, 1)]
    >>> model = partial_fit_chunks(
    ...     SGDRegressor(learning_rate="auto", random_state=0),
    ...     lambda: iter_parquet_chunks(path, "y", chunk_size=6),
    ...     epochs=5,
    ... )
    """
    check_scalar(chunk_size, "chunk_size", Integral, min_val=1)
    pq = import_optional("pyarrow.parquet", "iter_parquet_chunks")
    # Without pre-buffering, pyarrow holds less than half as much at a time.
    file = pq.ParquetFile(path, pre_buffer=False)
    schema = file.schema_arrow
    features = _features(schema.names, target, columns, path)
    for name in features:
        kind = schema.field(name).type
        if not _is_numeric(kind):
            raise ValueError(
                f"column {name!r} holds {kind} values, not numbers: encode them "
                "in a pipeline (OneHotEncoder for categories), or leave the "
                "column out with columns=."
            )
    numeric_target = _is_numeric(schema.field(target).type)
    pieces = _parquet_pieces(file, features, target, numeric_target, chunk_size, dtype)
    return _rechunk(pieces, chunk_size)


def _is_numeric(arrow_type):
    import pyarrow.types as types

    return (
        types.is_integer(arrow_type)
        or types.is_floating(arrow_type)
        or types.is_boolean(arrow_type)
        or types.is_decimal(arrow_type)
    )


def _parquet_pieces(file, features, target, numeric_target, chunk_size, dtype):
    # Batches hold chunk_size rows, fewer at the end of a row group.
    for batch in file.iter_batches(batch_size=chunk_size, columns=[*features, target]):
        X = np.empty((batch.num_rows, len(features)), dtype=dtype)
        for k, name in enumerate(features):
            X[:, k] = _to_numpy(batch.column(name))
        y = batch.column(target)
        yield X, _to_numpy(y) if numeric_target else y.to_numpy(zero_copy_only=False)


def _to_numpy(column):
    """An Arrow column as floats, nulls as NaN."""
    return column.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


def partial_fit_chunks(
    estimator, make_chunks, *, epochs=1, read_ahead=True, **fit_params
):
    """Run ``epochs`` passes of ``partial_fit`` over a stream of chunks.

    Parameters
    ----------
    estimator : SGDClassifier or SGDRegressor
        Trained in place; each chunk is one ``partial_fit`` call, so one
        epoch over that chunk.
    make_chunks : callable
        Returns a fresh iterable of ``(X_chunk, y_chunk)`` for each pass,
        such as ``lambda: iter_csv_chunks("data.csv", "y", 10_000)``.
    epochs : int, default=1
        Passes over the stream.
    read_ahead : bool, default=True
        Read the next chunk in a background thread while the estimator
        trains on the current one, so that a pass costs about the longer of
        reading and training rather than their sum; memory holds two chunks
        instead of one. The chunks and their order are the same either way,
        and so is the model. Set it to False for a source that must be read
        from the calling thread (a ``sqlite3`` connection, say).
    **fit_params : dict
        Passed to every ``partial_fit`` call (``classes`` for a classifier).

    Returns
    -------
    estimator : the fitted estimator

    Raises
    ------
    ValueError
        If a pass yields no chunk: the estimator would be left untrained.
        An error raised while reading a chunk is raised here, after the
        chunks before it have trained the estimator.
    """
    check_scalar(epochs, "epochs", Integral, min_val=1)
    for epoch in range(1, epochs + 1):
        n_chunks = 0
        chunks = make_chunks()
        for X_chunk, y_chunk in _read_ahead(chunks) if read_ahead else chunks:
            estimator.partial_fit(X_chunk, y_chunk, **fit_params)
            n_chunks += 1
            # Let the chunk go before the next one is read.
            del X_chunk, y_chunk
        if n_chunks == 0:
            raise ValueError(
                f"make_chunks() yielded no chunk in pass {epoch}: nothing to "
                "train on. Does the file hold rows after its header?"
            )
    return estimator


def _read_ahead(chunks):
    """Iterate over ``chunks`` in a background thread, one chunk ahead.

    The reading thread takes a new chunk only once the caller has asked for
    the one after the chunk it holds: two chunks exist at a time, the one in
    use and the one being read. An error in the reading thread is raised
    here, in its place in the stream; if the caller stops early, the reading
    thread stops too.
    """
    slots = threading.Semaphore(2)
    ready = queue.SimpleQueue()
    stop = threading.Event()
    iterator = iter(chunks)

    def read():
        try:
            while slots.acquire() and not stop.is_set():
                chunk = next(iterator, _END)
                ready.put(chunk)
                if chunk is _END:
                    return
                del chunk
        except BaseException as error:  # raised in the caller's thread
            ready.put(_Failure(error))

    reader = threading.Thread(target=read, name="sklosses-read-ahead", daemon=True)
    reader.start()
    try:
        while (chunk := ready.get()) is not _END:
            if isinstance(chunk, _Failure):
                raise chunk.error
            yield chunk
            del chunk
            slots.release()  # the caller is done with the chunk before
    finally:
        stop.set()
        slots.release()
        reader.join()
        if hasattr(iterator, "close"):
            iterator.close()


_END = object()


class _Failure:
    def __init__(self, error):
        self.error = error
