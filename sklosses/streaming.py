"""Out-of-core training: ``partial_fit`` over chunks read from disk.

Memory stays near one chunk plus the model, whatever the size of the file:
:func:`iter_memmap_chunks` maps one chunk of a ``numpy.memmap`` at a time,
:func:`iter_csv_chunks` parses one chunk of a CSV file at a time, and
:func:`partial_fit_chunks` feeds them to an estimator epoch after epoch.
"""

import csv
import itertools

import numpy as np


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
    n_samples, n_features = X.shape
    row_bytes = n_features * X.dtype.itemsize
    for start in range(0, n_samples, chunk_size):
        rows = min(chunk_size, n_samples - start)
        mapping = np.memmap(
            X.filename, dtype=X.dtype, mode="r",
            offset=X.offset + start * row_bytes, shape=(rows, n_features),
        )  # fmt: skip
        chunk = np.array(mapping)
        del mapping
        yield chunk, np.array(y[start : start + rows])
        del chunk  # before the next chunk exists, not after


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
        If ``target`` is not a column, or a value is not a number (the error
        names its line).
    """
    with open(path, newline="") as file:
        reader = csv.reader(file)
        header = next(reader)
        if target not in header:
            raise ValueError(f"no column {target!r} in {path}; columns: {header}.")
        t = header.index(target)
        line = 1
        while rows := list(itertools.islice(reader, chunk_size)):
            try:
                table = np.array(rows, dtype=dtype)
            except ValueError as error:
                raise ValueError(
                    f"{path}, lines {line + 1}-{line + len(rows)}: {error}."
                ) from None
            line += len(rows)
            yield np.delete(table, t, axis=1), table[:, t]


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
    """
    for _ in range(epochs):
        for X_chunk, y_chunk in make_chunks():
            estimator.partial_fit(X_chunk, y_chunk, **fit_params)
            # Let the chunk go before the next one is read.
            del X_chunk, y_chunk
    return estimator
