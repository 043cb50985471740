"""The compiled draws give NumPy's permutations, and leave NumPy's state."""

import numpy as np
import pytest

from sklosses._engine._random import (
    generator_state,
    permutation,
    set_generator_state,
)

SIZES = [0, 1, 2, 3, 5, 16, 17, 200, 1000, 4097, 2**16 + 3]


def _generator(seed, before):
    """A seeded Generator after the draw ``before`` (one that leaves half of a
    64-bit draw buffered, for ``"integers"``)."""
    rng = np.random.default_rng(seed)
    if before == "random":
        rng.random()
    elif before == "integers":
        rng.integers(10)
    return rng


@pytest.mark.parametrize("before", [None, "random", "integers"])
@pytest.mark.parametrize("seed", [0, 1, 42, 2**32 - 1, 2**63 + 12345])
def test_permutations_and_state_are_numpys(seed, before):
    numpy_rng, ours = _generator(seed, before), _generator(seed, before)
    state = generator_state(ours)
    for n in SIZES:
        rows = np.arange(n, dtype=np.int64) * 3 + 1
        assert np.array_equal(permutation(state, rows), numpy_rng.permutation(rows))
    set_generator_state(ours, state)
    assert ours.bit_generator.state == numpy_rng.bit_generator.state
    assert ours.random() == numpy_rng.random()


def test_permutation_leaves_its_input():
    rows = np.arange(50)
    permutation(generator_state(np.random.default_rng(0)), rows)
    assert np.array_equal(rows, np.arange(50))


def test_state_round_trip():
    rng = _generator(7, "integers")
    saved = rng.bit_generator.state
    set_generator_state(rng, generator_state(rng))
    assert rng.bit_generator.state == saved


def test_only_pcg64():
    with pytest.raises(TypeError, match="PCG64 Generator is needed, not MT19937"):
        generator_state(np.random.Generator(np.random.MT19937(0)))
