"""NumPy's permutations, drawn in compiled code.

The estimators shuffle with NumPy's default generator, PCG64, so that a seed
gives the orders it gave before any of this was compiled. numba can draw
from a ``numpy.random.Generator`` passed to compiled code, but typing and
unwrapping that argument at every call costs more than a whole epoch of a
small ``partial_fit``, and its draws go through a function pointer each.

Here the generator's state travels as six unsigned 64-bit integers (see
:func:`generator_state`), and the draws are NumPy's, written out:

- PCG64 (O'Neill's XSL-RR 128/64): a 128-bit linear congruential step, then
  the output of the new state, its halves xor-ed and rotated;
- ``next_uint32``, which serves each 64-bit draw as two 32-bit ones, low
  half first, keeping the high half in the state (``has_uint32``,
  ``uinteger``);
- ``random_interval``, a value in ``[0, max]`` by masked rejection, from 32
  bits when ``max`` fits in them;
- ``Generator.shuffle`` of a 1-D array, Fisher-Yates from the last element;
- ``Generator.integers(0, n + 1)`` for ``n`` below 2**32: Lemire's bounded
  draw from 32 bits (``buffered_bounded_lemire_uint32``).

The tests check the permutations against ``Generator.permutation``, and the
state afterwards against the Generator's, for many sizes and seeds.
"""

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from ._cache import cached_njit

# PCG64's multiplier, PCG_DEFAULT_MULTIPLIER_128, in two halves.
_MULTIPLIER_HIGH = np.uint64(2549297995355413924)
_MULTIPLIER_LOW = np.uint64(4865540595714422341)
_MASK64 = (1 << 64) - 1

# The fields of a state array.
STATE_HIGH = 0
STATE_LOW = 1
INC_HIGH = 2
INC_LOW = 3
HAS_UINT32 = 4
UINTEGER = 5
STATE_SIZE = 6


def generator_state(rng):
    """The state of the PCG64 Generator ``rng``, as compiled code takes it: a
    new uint64 array of ``STATE_SIZE``."""
    state = rng.bit_generator.state
    if state["bit_generator"] != "PCG64":
        raise TypeError(f"a PCG64 Generator is needed, not {state['bit_generator']}")
    s, inc = state["state"]["state"], state["state"]["inc"]
    return np.array(
        [s >> 64, s & _MASK64, inc >> 64, inc & _MASK64,
         state["has_uint32"], state["uinteger"]],
        dtype=np.uint64,
    )  # fmt: skip


def set_generator_state(rng, state):
    """Put the state array ``state`` back into the PCG64 Generator ``rng``."""
    high, low, inc_high, inc_low, has_uint32, uinteger = (int(v) for v in state)
    rng.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": high << 64 | low, "inc": inc_high << 64 | inc_low},
        "has_uint32": has_uint32,
        "uinteger": uinteger,
    }


@intrinsic
def _multiply_add_128(typingctx, a_high, a_low, b_high, b_low, c_high, c_low):
    """``a * b + c`` modulo 2**128, each number given and returned as its
    high and low 64 bits (LLVM's 128-bit integers)."""
    signature = types.UniTuple(types.uint64, 2)(*[types.uint64] * 6)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        shift = ir.Constant(i128, 64)

        def join(high, low):
            return builder.or_(
                builder.shl(builder.zext(high, i128), shift), builder.zext(low, i128)
            )

        a, b, c = (join(args[k], args[k + 1]) for k in (0, 2, 4))
        result = builder.add(builder.mul(a, b), c)
        high = builder.trunc(builder.lshr(result, shift), ir.IntType(64))
        low = builder.trunc(result, ir.IntType(64))
        return context.make_tuple(builder, signature.return_type, (high, low))

    return signature, codegen


@cached_njit(nogil=True, inline="always")
def next_uint64(state):
    """PCG64's next 64 bits, advancing ``state``."""
    high, low = _multiply_add_128(
        state[STATE_HIGH], state[STATE_LOW], _MULTIPLIER_HIGH, _MULTIPLIER_LOW,
        state[INC_HIGH], state[INC_LOW],
    )  # fmt: skip
    state[STATE_HIGH] = high
    state[STATE_LOW] = low
    mixed = high ^ low
    rotation = high >> np.uint64(58)
    return (mixed >> rotation) | (mixed << ((np.uint64(64) - rotation) & np.uint64(63)))


@cached_njit(nogil=True, inline="always")
def next_uint32(state):
    """NumPy's ``next_uint32`` of PCG64: each 64-bit draw, low half first."""
    if state[HAS_UINT32]:
        state[HAS_UINT32] = 0
        return state[UINTEGER]
    draw = next_uint64(state)
    state[HAS_UINT32] = 1
    state[UINTEGER] = draw >> np.uint64(32)
    return draw & np.uint64(0xFFFFFFFF)


@cached_njit(nogil=True, inline="always")
def random_interval(state, largest):
    """NumPy's ``random_interval``: a value in ``[0, largest]``."""
    largest = np.uint64(largest)
    if largest == 0:
        return largest
    mask = largest
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> np.uint64(shift)
    if largest <= np.uint64(0xFFFFFFFF):
        value = next_uint32(state) & mask
        while value > largest:
            value = next_uint32(state) & mask
    else:
        value = next_uint64(state) & mask
        while value > largest:
            value = next_uint64(state) & mask
    return value


@cached_njit(nogil=True, inline="always")
def bounded_integer(state, largest):
    """``Generator.integers(0, largest + 1)``: Lemire's draw from 32 bits,
    for ``largest`` below 2**32 - 1 (numpy's ``buffered_bounded_lemire_uint32``)."""
    if largest == 0:
        return np.uint64(0)
    excluded = np.uint64(largest) + np.uint64(1)
    m = next_uint32(state) * excluded
    leftover = m & np.uint64(0xFFFFFFFF)
    if leftover < excluded:
        threshold = (np.uint64(0xFFFFFFFF) - np.uint64(largest)) % excluded
        while leftover < threshold:
            m = next_uint32(state) * excluded
            leftover = m & np.uint64(0xFFFFFFFF)
    return m >> np.uint64(32)


@cached_njit(nogil=True)
def permutation(state, values):
    """``Generator.permutation(values)`` for a 1-D array, drawn from (and
    advancing) the state array ``state``."""
    out = values.copy()
    for i in range(out.shape[0] - 1, 0, -1):
        j = random_interval(state, i)
        out[i], out[j] = out[j], out[i]
    return out
