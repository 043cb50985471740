"""The engine's functions for one loss: built-in, or compiled for a user's loss.

A user-defined loss is two per-sample functions, ``value(y, raw, params)`` and
``derivative(y, raw, params)``. The SGD loop is the built-in one: its code is
compiled again with these functions in place of the built-in loss kernels, so
that LLVM inlines them as it inlines the built-ins, and every feature of the
loop (penalties, averaging, schedules, sparse rows, float32) comes for free.

A user's loss is compiled once per process and pair of functions, and not
cached on disk: numba's cache keys a function by its source location, which
the recompiled loop shares with the built-in one, so it could hand one loss's
machine code to another.
"""

import functools
import types

import numba as nb
from numba.core import types as nbtypes
from numba.core.registry import CPUDispatcher

from . import _losses, _sgd

# What a user's function must compile for: y and raw as float64, the
# parameters as a float64 array.
SAMPLE_SIGNATURE = (nbtypes.float64, nbtypes.float64, nbtypes.float64[::1])


class Kernels:
    """The compiled functions the estimators call for one loss.

    Every function takes the loss ``kind`` and its parameter array first, as
    the built-in kernels in ``_losses`` do; user-defined kernels ignore the
    kind.
    """

    def __init__(self, loss_values, loss_derivatives, sgd_epoch):
        self.loss_values = loss_values
        self.loss_derivatives = loss_derivatives
        self.sgd_epoch = sgd_epoch


BUILTIN_KERNELS = Kernels(
    _losses.loss_values,
    _losses.loss_derivatives,
    _sgd.sgd_epoch,
)


@functools.cache
def user_kernels(value, derivative):
    """Compile the engine for the per-sample functions ``value`` and ``derivative``.

    Both are compiled for float64 arguments first, so that a function numba
    cannot compile fails here, named and with numba's reason, rather than
    deep inside the loop's compilation.

    Raises
    ------
    TypeError
        If numba cannot compile a function, or it does not return a number.
    """
    value, derivative = (_jit_sample_function(f) for f in (value, derivative))

    @nb.njit(nogil=True)
    def loss_value(kind, params, y, raw):
        return value(y, raw, params)

    @nb.njit(nogil=True)
    def loss_derivative(kind, params, y, raw):
        return derivative(y, raw, params)

    # Inlined into the loop as the built-in one is, so that a user's copy of
    # a built-in loss compiles to the same code.
    @nb.njit(nogil=True, inline="always")
    def loss_value_and_derivative(kind, params, y, raw):
        return value(y, raw, params), derivative(y, raw, params)

    return Kernels(
        _recompile(_losses.loss_values, loss_value=loss_value),
        _recompile(_losses.loss_derivatives, loss_derivative=loss_derivative),
        _recompile(_sgd.sgd_epoch, loss_value_and_derivative=loss_value_and_derivative),
    )


@functools.cache
def bounds_checked(function):
    """A user's ``function(y, raw, params)`` compiled with bounds checks.

    Compiled without them, as in the SGD loop, a read past the end of
    ``params`` returns whatever lies in memory there; compiled with them, it
    raises IndexError.
    """
    return _jit_sample_function(function, boundscheck=True)


def _jit_sample_function(function, **options):
    name = getattr(function, "__qualname__", repr(function))
    if isinstance(function, CPUDispatcher) and not options:
        dispatcher = function
    else:
        py_func = getattr(function, "py_func", function)
        dispatcher = nb.njit(nogil=True, **options)(py_func)
    try:
        dispatcher.compile(SAMPLE_SIGNATURE)
    except Exception as error:  # NumbaError, UnsupportedBytecodeError, ...
        raise TypeError(
            f"numba cannot compile {name}(y, raw, params). Numba's reason:\n"
            f"{type(error).__name__}: {error}"
        ) from None
    (return_type,) = {
        s.return_type
        for s in dispatcher.nopython_signatures
        if s.args == SAMPLE_SIGNATURE
    }
    if isinstance(return_type, nbtypes.NoneType):
        raise TypeError(
            f"{name} must return a real number, but it returns nothing on every "
            "path: it always raises, or a return statement is missing."
        )
    if not isinstance(return_type, nbtypes.Float | nbtypes.Integer | nbtypes.Boolean):
        raise TypeError(f"{name} must return a real number, not {return_type}.")
    return dispatcher


def _recompile(dispatcher, **replacements):
    """``dispatcher``'s Python function compiled with some globals replaced."""
    py_func = dispatcher.py_func
    function = types.FunctionType(
        py_func.__code__,
        dict(py_func.__globals__, **replacements),
        py_func.__name__,
        py_func.__defaults__,
    )
    # njit implies nopython and warns when told again; the cache stays off.
    options = {
        k: v
        for k, v in dispatcher.targetoptions.items()
        if k not in ("cache", "nopython")
    }
    return nb.njit(**options)(function)
