"""Squared norms of the rows, for the step sizes of ``learning_rate="auto"``."""

import numpy as np

from ._cache import cached_njit


@cached_njit(nogil=True)
def squared_row_norms(data, indices, indptr, n_rows, n_features):
    """``||x_i||^2`` of every row, summed in float64 whatever the input's type.

    Dense rows come as the flat C-ordered ``data`` with ``indices`` and
    ``indptr`` None, CSR rows through them, as the SGD loop takes them. One
    pass over the input, without the temporary copy of its values that
    NumPy and SciPy would make.

    Examples
    --------
    >>> import numpy as np
    >>> from sklosses._engine._norms import squared_row_norms
    >>> X = np.array([[3.0, 4.0], [1.0, 0.0]])
    >>> squared_row_norms(X.reshape(-1), None, None, 2, 2)
    array([25.,  1.])
    """
    out = np.empty(n_rows)
    for i in range(n_rows):
        total = 0.0
        if indptr is None:
            for j in range(i * n_features, (i + 1) * n_features):
                x = np.float64(data[j])
                total += x * x
        else:
            for p in range(indptr[i], indptr[i + 1]):
                x = np.float64(data[p])
                total += x * x
        out[i] = total
    return out
