"""What the threads of one model's partitions share: a barrier and the
combination of their copies (see ``_local_sgd.py``).

Waking a thread blocked on a lock takes a few hundred microseconds here,
more than combining a dense model: the threads meet by spinning in compiled
code, without the GIL, on one flag each. A thread sets its flag to the
number of barriers it has reached, with release ordering (what it wrote
before is seen by whoever reads the flag with acquire ordering), and waits
until every flag has reached that number.
"""

from numba.core import cgutils, types
from numba.extending import intrinsic

from ._cache import cached_njit

# One int64 flag per cache line: a flag written by one thread would
# otherwise evict the line the others are reading.
FLAG_STRIDE = 8


def _flag_pointer(context, builder, array_type, array, index):
    array_struct = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(
        context, builder, array_type, array_struct, [index], wraparound=False
    )


@intrinsic
def _load_acquire(typingctx, flags, index):
    """``flags[index]``, read with acquire ordering."""

    def codegen(context, builder, signature, args):
        pointer = _flag_pointer(context, builder, signature.args[0], *args)
        return builder.load_atomic(pointer, "acquire", 8)

    return types.int64(flags, index), codegen


@intrinsic
def _store_release(typingctx, flags, index, value):
    """``flags[index] = value``, written with release ordering."""

    def codegen(context, builder, signature, args):
        pointer = _flag_pointer(context, builder, signature.args[0], *args[:2])
        builder.store_atomic(args[2], pointer, "release", 8)
        return context.get_dummy_value()

    return types.void(flags, index, types.int64), codegen


@cached_njit(nogil=True)
def arrive(flags, thread, barrier):
    """Thread ``thread`` has reached barrier number ``barrier``."""
    _store_release(flags, thread * FLAG_STRIDE, barrier)


@cached_njit(nogil=True)
def abort(flags, n_threads):
    """Release every thread waiting now or later: one has failed."""
    _store_release(flags, n_threads * FLAG_STRIDE, 1)


@cached_njit(nogil=True)
def wait_for(flags, n_threads, barrier, spins):
    """Spin until all ``n_threads`` threads have reached ``barrier``.

    Returns 1 once they have, -1 if one aborted, and 0 after ``spins`` reads
    that found them still on their way: the caller then yields the core
    before waiting again, which threads outnumbering the cores need.
    """
    for _ in range(spins):
        if _load_acquire(flags, n_threads * FLAG_STRIDE) != 0:
            return -1
        arrived = True
        for thread in range(n_threads):
            if _load_acquire(flags, thread * FLAG_STRIDE) < barrier:
                arrived = False
                break
        if arrived:
            return 1
    return 0


@cached_njit(nogil=True)
def combine(model, copies, n_shares, weights, start, stop):
    """``model[start:stop]`` becomes the mean of the first ``n_shares``
    rows of ``copies`` weighted by ``weights``, and every row of
    ``copies`` a copy of it there (the next round starts from it)."""
    # Pass after pass, each loop vectorizes: twice as fast as one loop over
    # j (whose inner loops over p do not), with the same sums.
    for j in range(start, stop):
        model[j] = weights[0] * copies[0, j]
    for p in range(1, n_shares):
        weight = weights[p]
        for j in range(start, stop):
            model[j] += weight * copies[p, j]
    for p in range(copies.shape[0]):
        copies[p, start:stop] = model[start:stop]


@cached_njit(nogil=True)
def combine_average(model, copies, n_shares, averaged, counted, start, stop):
    """The shares' running averages into ``model[start:stop]``, and back
    into every row of ``copies``.

    Each share's copy averages the ``averaged`` iterates before the round
    and its own ``counted[p]``: their sum, less the ``averaged`` ones counted
    once too often per extra share, over all the iterates, is the average of
    every iterate.
    """
    total = averaged
    for p in range(n_shares):
        total += counted[p]
    extra = (n_shares - 1) * averaged
    for j in range(start, stop):
        if total > 0.0:
            value = (averaged + counted[0]) * copies[0, j]
            for p in range(1, n_shares):
                value += (averaged + counted[p]) * copies[p, j]
            model[j] = (value - extra * model[j]) / total
        for p in range(copies.shape[0]):
            copies[p, j] = model[j]
