"""Out-of-core training: ``partial_fit`` over chunks read from disk.

Memory stays near one chunk plus the model, whatever the size of the file:
:func:`iter_memmap_chunks` maps one chunk of a ``numpy.memmap`` at a time,
:func:`iter_csv_chunks` parses one chunk of a CSV file at a time,
:func:`iter_parquet_chunks` reads one chunk of a Parquet file at a time, and
:func:`partial_fit_chunks` feeds them to an estimator epoch after epoch.
"""

import csv
import itertools
from numbers import Integral

import numpy as np
from sklearn.utils import check_scalar


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


def iter_csv_chunks(path, target, chunk_size, *, dtype=np.float64):
    """Yield ``(X_chunk, y_chunk)`` blocks of a numeric CSV file with a header.

    Parameters
    ----------
    path : str or path-like
        The CSV file; every column but ``target`` is a feature.
    target : str
        The name of the target column.
    chunk_size : int
        Rows per chunk.
    dtype : data-type, default=numpy.float64
        The type of the features.

    Yields
    ------
    X_chunk : ndarray of shape (chunk_size, n_features)
    y_chunk : ndarray of shape (chunk_size,)

    Raises
    ------
    ValueError
        If ``target`` is not a column, a row has more or fewer fields than
        the header, or a value is not a number (the error names its line).
    """
    check_scalar(chunk_size, "chunk_size", Integral, min_val=1)
    return _csv_chunks(path, target, chunk_size, dtype)


def _csv_chunks(path, target, chunk_size, dtype):
    # utf-8-sig: a byte-order mark is not part of the first column's name.
    with open(path, newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path} is empty: expected a header line.")
        if target not in header:
            raise ValueError(f"no column {target!r} in {path}; columns: {header}.")
        t = header.index(target)
        rows = _numbered_rows(reader, len(header), path)
        while chunk := list(itertools.islice(rows, chunk_size)):
            lines = f"lines {chunk[0][0]}-{chunk[-1][0]}"
            try:
                table = np.array([row for _, row in chunk], dtype=dtype)
            except ValueError as error:
                raise ValueError(f"{path}, {lines}: {error}.") from None
            yield np.delete(table, t, axis=1), table[:, t]


def _numbered_rows(reader, n_columns, path):
    """``(line, row)`` for each row of ``reader``, skipping blank lines."""
    for row in reader:
        if not row:
            continue
        if len(row) != n_columns:
            raise ValueError(
                f"{path}, line {reader.line_num}: {len(row)} fields where the "
                f"header has {n_columns}."
            )
        yield reader.line_num, row


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
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(
            "iter_parquet_chunks needs pyarrow: pip install 'sklosses[io]' "
            "(or pip install pyarrow)."
        ) from None
    file = pq.ParquetFile(path)
    schema = file.schema_arrow
    names = [name for name in schema.names if name != target]
    features = names if columns is None else list(columns)
    for name in [target, *features]:
        if name not in schema.names:
            raise ValueError(f"no column {name!r} in {path}; columns: {schema.names}.")
        kind = schema.field(name).type
        if name != target and not _is_numeric(kind):
            raise ValueError(
                f"column {name!r} holds {kind} values, not numbers: encode them "
                "in a pipeline (OneHotEncoder for categories), or leave the "
                "column out with columns=."
            )
    numeric_target = _is_numeric(schema.field(target).type)
    return _parquet_chunks(file, features, target, numeric_target, chunk_size, dtype)


def _is_numeric(arrow_type):
    import pyarrow.types as types

    return (
        types.is_integer(arrow_type)
        or types.is_floating(arrow_type)
        or types.is_boolean(arrow_type)
        or types.is_decimal(arrow_type)
    )


def _parquet_chunks(file, features, target, numeric_target, chunk_size, dtype):
    pending_X, pending_y, n_pending = [], [], 0
    for batch in file.iter_batches(batch_size=chunk_size, columns=[*features, target]):
        X = np.empty((batch.num_rows, len(features)), dtype=dtype)
        for k, name in enumerate(features):
            X[:, k] = _to_numpy(batch.column(name))
        pending_X.append(X)
        y = batch.column(target)
        pending_y.append(
            _to_numpy(y) if numeric_target else y.to_numpy(zero_copy_only=False)
        )
        n_pending += batch.num_rows
        while n_pending >= chunk_size:
            # Batches are chunk_size rows but at the end of a row group.
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


def _to_numpy(column):
    """An Arrow column as floats, nulls as NaN."""
    return column.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


def partial_fit_chunks(estimator, make_chunks, *, epochs=1, **fit_params):
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
    **fit_params : dict
        Passed to every ``partial_fit`` call (``classes`` for a classifier).

    Returns
    -------
    estimator : the fitted estimator

    Raises
    ------
    ValueError
        If a pass yields no chunk: the estimator would be left untrained.
    """
    check_scalar(epochs, "epochs", Integral, min_val=1)
    for epoch in range(1, epochs + 1):
        n_chunks = 0
        for X_chunk, y_chunk in make_chunks():
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
