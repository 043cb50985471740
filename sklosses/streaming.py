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

from ._csv import CSVFile
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


def iter_csv_chunks(path, target, chunk_size, *, columns=None, dtype=np.float64):
    """Yield ``(X_chunk, y_chunk)`` blocks of a CSV file, ``chunk_size`` rows each.

    The file is read as ``pandas.read_csv`` reads it, block by block and two
    blocks at a time in parallel (the parser releases the GIL): UTF-8 with or
    without a byte-order mark, quoted fields, blank lines skipped, and
    pandas' missing-value markers (``NA``, ``nan``, an empty cell, ...) read
    as NaN. Chunks hold exactly ``chunk_size`` rows (the last one the rest),
    so the same rows give the same chunks, and the same model, from a CSV
    file, a Parquet file or an array.

    Parameters
    ----------
    path : str or path-like
        The CSV file, with a header line naming the columns.
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
        Missing values are NaN, which the estimators refuse: impute them
        first, or leave their column out.
    y_chunk : ndarray of shape (chunk_size,)
        Floats (missing values as NaN) for a numeric target; the labels as
        written, strings say, otherwise.

    Raises
    ------
    ImportError
        If pandas is not installed.
    ValueError
        If a column is missing, a feature column holds text, which needs a
        pipeline to encode it, a row has more or fewer fields than the
        header, or the file is not UTF-8; the error names the line.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklosses import SGDRegressor
    >>> from sklosses.streaming import iter_csv_chunks, partial_fit_chunks
    >>> path = os.path.join(tempfile.mkdtemp(), "data.csv")
    >>> x = np.linspace(0.0, 1.0, 10)
    >>> np.savetxt(path, np.c_[x, 2 * x], delimiter=",", header="x,y", comments="")
    >>> [X.shape for X, y in iter_csv_chunks(path, "y", chunk_size=6)]
    [(6, 1), (4, 1)]
    >>> model = partial_fit_chunks(
    ...     SGDRegressor(learning_rate="auto", random_state=0),
    ...     lambda: iter_csv_chunks(path, "y", chunk_size=6),
    ...     epochs=5,
    ... )
    """
    check_scalar(chunk_size, "chunk_size", Integral, min_val=1)
    file = CSVFile(path, "iter_csv_chunks")
    features = _features(file.columns, target, columns, path)
    pieces = _csv_pieces(file, features, target, chunk_size, dtype)
    return _rechunk(pieces, chunk_size)


def _features(names, target, columns, path):
    """The feature columns: ``columns``, or every column but ``target``."""
    features = [name for name in names if name != target]
    if columns is not None:
        features = list(columns)
    for name in [target, *features]:
        if name not in names:
            raise ValueError(f"no column {name!r} in {path}; columns: {names}.")
    return features


def _csv_pieces(file, features, target, chunk_size, dtype):
    numeric = file.is_numeric
    text_target = False

    def target_type(frame):
        # Labels stay as written: once the first rows show text, the target
        # is read as text in every block, "01" included.
        nonlocal text_target
        text_target = not numeric(frame[target])
        return {target: str} if text_target else {}

    # Positions, not names: pandas' label lookups cost more than parsing.
    read = [name for name in file.columns if name in {*features, target}]
    where_X, where_y = [read.index(name) for name in features], read.index(target)

    def convert(frame):  # in a reading thread
        if not len(frame):
            return None
        kinds = [numeric(kind) for kind in frame.dtypes.to_numpy()]
        if not all(kinds[k] for k in where_X) or not (text_target or kinds[where_y]):
            return frame  # explained below, where its rows are known
        if text_target:
            y = frame.iloc[:, where_y].to_numpy(dtype=object)
            return frame.iloc[:, where_X].to_numpy(dtype=dtype), y
        values = frame.to_numpy(dtype=np.float64)
        return values[:, where_X].astype(dtype, copy=False), values[:, where_y].copy()

    row = 1
    # Blocks of half a chunk: memory near a chunk, and two to parse at once.
    blocks = file.map_blocks(
        convert, [*features, target], target_type, rows=chunk_size // 2
    )
    for piece in blocks:
        if isinstance(piece, tuple):
            yield piece
            row += len(piece[1])
        elif piece is not None:
            _refuse_text(file, piece, features, target, row)


def _refuse_text(file, frame, features, target, row):
    for name in features:
        if not file.is_numeric(frame[name]):
            raise ValueError(
                f"column {name!r} of {file.path} holds text "
                f"({_first_text(file, frame[name], row)}), not numbers: encode it "
                "in a pipeline (OneHotEncoder for categories), or leave the "
                "column out with columns=."
            )
    raise ValueError(
        f"the target {target!r} of {file.path} holds numbers in its first rows "
        f"and text later ({_first_text(file, frame[target], row)}): labels must "
        "be all numbers or all text."
    )


def _first_text(file, column, row):
    """The first value of a pandas ``column`` that is not a number, and its row."""
    text = file.pd.to_numeric(column, errors="coerce").isna() & column.notna()
    first = np.flatnonzero(text)[0]
    return f"{column.iloc[first]!r} in data row {row + first}"


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
