import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest
from _helpers import ALL_LOSSES, encoded_targets, loss_id
from _reference_losses import closed_form
from numpy.testing import assert_allclose, assert_array_equal

from sklosses._engine import _losses as kernels
from sklosses._engine._kernels import engine_loss
from sklosses._engine._sgd import VECTORIZE
from sklosses.losses import LogLoss


@numba.njit(fastmath=VECTORIZE)
def _softmax_as_in_the_engine(raw, y, gradient):
    # Compiled with the SGD loop's flags, as the loop compiles it.
    return kernels.softmax_cross_entropy(raw, y, gradient)


@pytest.mark.parametrize("n_classes", [3, 4, 5, 7, 10])
def test_softmax_is_bit_identical_wherever_its_arrays_lie(n_classes, rng):
    # The loop allocates the logits and the gradient on each call, so their
    # distance in memory changes from call to call; the result must not.
    for _ in range(20):
        raw = rng.normal(scale=3.0, size=n_classes)
        results = []
        for gap in [n_classes, 512]:
            buffer = np.zeros(gap + n_classes)
            buffer[:n_classes] = raw
            gradient = buffer[gap:]
            loss = _softmax_as_in_the_engine(buffer[:n_classes], 1, gradient)
            results.append((loss, gradient.tolist()))
        assert results[0] == results[1]


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_kernels_match_the_closed_forms(loss, dtype, rng):
    y = encoded_targets(loss, 5000, rng).astype(dtype)
    raw = rng.normal(scale=4.0, size=y.shape).astype(dtype)
    _, kind, params = engine_loss(loss)
    params = params.astype(dtype)
    values = kernels.loss_values(kind, params, y, raw, np.empty_like(raw))
    derivatives = kernels.loss_derivatives(kind, params, y, raw, np.empty_like(raw))
    assert values.dtype == dtype
    value, gradient = closed_form(loss, y.astype(float), raw.astype(float))
    rtol, atol = (1e-12, 1e-12) if dtype == np.float64 else (1e-5, 1e-5)
    assert_allclose(values, value, rtol=rtol, atol=atol)
    assert_allclose(derivatives, gradient, rtol=rtol, atol=atol)


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)
def test_a_losses_methods_are_its_compiled_kernels(loss, rng):
    y = encoded_targets(loss, 100, rng)
    raw = rng.normal(scale=4.0, size=y.shape)
    _, kind, params = engine_loss(loss)
    values = kernels.loss_values(kind, params, y, raw, np.empty_like(raw))
    derivatives = kernels.loss_derivatives(kind, params, y, raw, np.empty_like(raw))
    assert_array_equal(loss.loss(y, raw), values)
    assert_array_equal(loss.gradient(y, raw), derivatives)
    # Broadcast, in two dimensions, from lists and integers, as NumPy would.
    grid = np.column_stack([raw, raw[::-1]])
    assert loss.loss(y[:, np.newaxis], grid).shape == (100, 2)
    assert loss.loss(y.tolist(), raw.tolist()).tolist() == values.tolist()
    assert loss.loss(y[:1], raw).shape == (100,)


def test_the_multinomial_loss_is_the_kernel_the_loop_trains_with(rng):
    raw = rng.normal(scale=3.0, size=(50, 4))
    y = rng.integers(4, size=50)
    expected = np.empty(50)
    gradient = np.empty_like(raw)
    for i in range(50):
        expected[i] = _softmax_as_in_the_engine(raw[i], y[i], gradient[i])
    assert_array_equal(LogLoss().loss(y, raw), expected)
    assert_array_equal(LogLoss().gradient(y, raw), gradient)


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)
def test_value_and_derivative_together_are_bit_identical(loss, rng):
    y = encoded_targets(loss, 500, rng)
    raw = np.concatenate(
        [rng.normal(scale=4.0, size=495), [0.0, -800, 800, 1e-300, -0.0]]
    )
    _, kind, params = engine_loss(loss)
    for y_i, raw_i in zip(y, raw, strict=True):
        together = kernels.loss_value_and_derivative(kind, params, y_i, raw_i)
        assert together == (
            kernels.loss_value(kind, params, y_i, raw_i),
            kernels.loss_derivative(kind, params, y_i, raw_i),
        )


def test_kernel_ids_are_distinct():
    kinds = {type(loss): engine_loss(loss).kind for loss in ALL_LOSSES}
    # The perceptron is the hinge with threshold 0, so it shares the kernel.
    assert len(set(kinds.values())) == len(kinds) - 1


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)
def test_the_log_link_flag_is_the_losses_link(loss):
    # The loop steps a kind implicitly by its registered flag: exactly the
    # built-in losses whose link is the log link.
    kind = engine_loss(loss).kind
    assert kernels.has_log_link(kind) == (not loss.link.is_identity)
    assert kernels.has_log_link.py_func(kind) == kernels.has_log_link(kind)


def test_the_registry_numbers_kinds_in_order_and_user_losses_have_no_flag():
    builtin = {name: kind for name, kind in kernels.KINDS.items() if name != "user"}
    assert sorted(builtin.values()) == list(range(len(builtin)))
    assert kernels.KINDS["user"] == kernels.USER_DEFINED
    assert not kernels.has_log_link(kernels.USER_DEFINED)
    flagged = {
        name for name, kind in builtin.items() if kernels.has_log_link.py_func(kind)
    }
    assert flagged == {"poisson", "gamma", "tweedie"}


def test_kernels_load_from_the_disk_cache_in_a_new_process():
    script = textwrap.dedent(
        """
        import numpy as np
        from sklosses._engine import _losses as kernels
        x = np.zeros(3)
        kernels.loss_values(kernels.HUBER, np.ones(1), x, x, np.empty(3))
        print(len(kernels.loss_values.stats.cache_hits))
        """
    )
    run = [sys.executable, "-c", script]
    subprocess.run(run, check=True, capture_output=True)  # fills the cache
    hits = subprocess.run(run, check=True, capture_output=True, text=True).stdout
    assert int(hits) == 1
