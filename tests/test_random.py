"""The compiled draws give NumPy's permutations and bounded integers, and
leave NumPy's state."""

import numba as nb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklosses._engine._epochs import with_repeats
from sklosses._engine._random import (
    bounded_integer,
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


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**64 - 1),
    before=st.sampled_from([None, "random", "integers"]),
    n_rows=st.integers(0, 40),
    n_repeats=st.integers(0, 30),
    data=st.data(),
)
def test_repeats_are_inserted_where_numpy_would_insert_them(
    seed, before, n_rows, n_repeats, data
):
    """``with_repeats`` is ``np.insert`` at ``Generator.integers``' places,
    drawn in compiled code: the same order, and NumPy's state afterwards."""
    order = np.arange(n_rows, dtype=np.int64)[::-1].copy()
    repeats = np.asarray(
        data.draw(st.lists(st.integers(0, 99), min_size=n_repeats, max_size=n_repeats)),
        dtype=np.int64,
    )
    numpy_rng, ours = _generator(seed, before), _generator(seed, before)
    state = generator_state(ours)
    got = with_repeats(state, order, repeats)
    places = numpy_rng.integers(0, order.shape[0] + 1, size=n_repeats)
    assert np.array_equal(got, np.insert(order, places, repeats))
    set_generator_state(ours, state)
    assert ours.bit_generator.state == numpy_rng.bit_generator.state


@pytest.mark.parametrize("largest", [0, 1, 2, 3, 255, 2**16, 2**31, 2**32 - 2])
@pytest.mark.parametrize("before", [None, "integers"])
def test_bounded_integers_are_numpys(largest, before):
    numpy_rng, ours = _generator(3, before), _generator(3, before)
    state = generator_state(ours)
    drawn = [int(_bounded(state, largest)) for _ in range(200)]
    assert drawn == numpy_rng.integers(0, largest + 1, size=200).tolist()
    set_generator_state(ours, state)
    assert ours.bit_generator.state == numpy_rng.bit_generator.state


@nb.njit
def _bounded(state, largest):
    return bounded_integer(state, largest)
