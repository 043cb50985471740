"""The order in which an epoch visits the training rows.

A fresh random permutation makes every visit a cache and TLB miss: an epoch
on data larger than the cache costs several passes over memory. Blocks of
consecutive rows are cheap to visit, but on data sorted by class a block
holds one class, and SGD drifts from block to block.

The "blocks" order takes both: the rows are cut into blocks of
``BLOCK_SIZE`` consecutive rows, the blocks are permuted, and each group of
``N_STREAMS`` blocks is visited round-robin, ``ROWS_PER_TURN`` consecutive
rows of each block in turn. Consecutive turns come from ``N_STREAMS`` random
places in the data, while each block is read front to back. It needs no copy
of the data.

How SGD converges depends on how long each block is: the model drifts
towards the classes of the blocks it is reading, and the longer the blocks,
the further. How fast the rows are read depends on how far each turn reads,
and how often a turn jumps to a new place. Blocks of 16 rows converge as a
permutation does, within the noise of seeds, on rows sorted by class, and
cost a little more per epoch than longer blocks; they are the default
because converging as with a permutation is the point of shuffling. The
measurements are in benchmarks/README.md, "The engine's design, measured".

Data that fits in cache gains nothing from blocks, and a few blocks are far
less random than a permutation: below ``BLOCKS_MIN_BYTES`` the rows are
permuted.
"""

import numpy as np

from ._cache import cached_njit
from ._random import permutation

BLOCK_SIZE = 16
N_STREAMS = 16
ROWS_PER_TURN = 8
BLOCKS_MIN_BYTES = 16 * 2**20


# How an epoch's rows are shuffled: see :func:`shuffling`.
IN_ORDER = 0
PERMUTATION = 1
BLOCKS = 2


def shuffling(shuffle, data_bytes):
    """How :func:`visiting_order` shuffles the rows of data of
    ``data_bytes`` bytes, for the estimators' ``shuffle``: False (in order),
    "permutation" (a fresh random permutation, as scikit-learn does), or
    True / "blocks" (random blocks visited round-robin, see the module
    docstring) when the data does not fit in cache."""
    if not shuffle:  # False, or NumPy's False
        return IN_ORDER
    if shuffle == "permutation" or data_bytes < BLOCKS_MIN_BYTES:
        return PERMUTATION
    return BLOCKS


@cached_njit(nogil=True)
def visiting_order(state, rows, how):
    """The rows ``rows`` in the order one epoch visits them.

    ``how``: ``IN_ORDER``, ``PERMUTATION`` or ``BLOCKS``, from
    :func:`shuffling`. The shuffles are drawn from ``state``, a NumPy PCG64
    Generator's state (see ``_random.py``), and advance it: the same orders
    as ``rng.permutation(rows)`` and :func:`interleaved_blocks` give.

    Examples
    --------
    >>> import numpy as np
    >>> from sklosses._engine._order import PERMUTATION, visiting_order
    >>> from sklosses._engine._random import generator_state
    >>> rows = np.arange(6)
    >>> state = generator_state(np.random.default_rng(0))
    >>> visiting_order(state, rows, PERMUTATION)
    array([3, 2, 5, 4, 0, 1])
    >>> np.random.default_rng(0).permutation(rows)
    array([3, 2, 5, 4, 0, 1])
    """
    if how == IN_ORDER:
        return rows
    if how == PERMUTATION:
        return permutation(state, rows)
    n_blocks = -(-rows.shape[0] // BLOCK_SIZE)
    block_starts = permutation(state, np.arange(n_blocks)) * BLOCK_SIZE
    return _interleave(rows, block_starts, BLOCK_SIZE, N_STREAMS, ROWS_PER_TURN)


def interleaved_blocks(
    rng, n, block_size=BLOCK_SIZE, n_streams=N_STREAMS, rows_per_turn=ROWS_PER_TURN
):
    """A permutation of ``range(n)``: random blocks, visited round-robin.

    Each group of ``n_streams`` blocks of ``block_size`` rows is read in
    turns of ``rows_per_turn`` consecutive rows of each block. The blocks
    are permuted by ``rng``, a NumPy Generator: the order
    :func:`visiting_order` draws in compiled code for ``BLOCKS``, with any
    sizes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklosses._engine._order import interleaved_blocks
    >>> rng = np.random.default_rng(0)
    >>> interleaved_blocks(rng, 10, block_size=3, n_streams=2, rows_per_turn=1)
    array([6, 0, 7, 1, 8, 2, 3, 9, 4, 5])
    >>> rng = np.random.default_rng(0)  # the same blocks, 2 rows a turn
    >>> interleaved_blocks(rng, 10, block_size=3, n_streams=2, rows_per_turn=2)
    array([6, 7, 0, 1, 8, 2, 3, 4, 9, 5])
    """
    n_blocks = -(-n // block_size)
    block_starts = rng.permutation(n_blocks) * block_size
    return _interleave(np.arange(n), block_starts, block_size, n_streams, rows_per_turn)


@cached_njit(nogil=True)
def _interleave(rows, block_starts, block_size, n_streams, rows_per_turn):
    """``rows`` read block by block, ``n_streams`` blocks at a time, in turns."""
    n = rows.shape[0]
    out = np.empty_like(rows)
    if n == 0:
        return out
    # Reading rows[row] at the blocks' random places misses the cache: 1 ms
    # of an epoch of 320,000 rows. Rows that are a range (no validation
    # split) are computed instead, after a pass that reads them in order.
    first = rows[0]
    is_range = True
    for k in range(n):
        if rows[k] != first + k:
            is_range = False
            break
    m = 0
    for group in range(0, block_starts.shape[0], n_streams):
        streams = block_starts[group : group + n_streams]
        for offset in range(0, block_size, rows_per_turn):
            turn = min(rows_per_turn, block_size - offset)
            for start in streams:
                # Rows past the end of the last block do not exist.
                for row in range(start + offset, min(start + offset + turn, n)):
                    out[m] = first + row if is_range else rows[row]
                    m += 1
    return out
