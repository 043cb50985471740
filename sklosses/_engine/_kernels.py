"""The engine's functions for one loss: built-in, or compiled for a user's loss.

A user-defined loss is two per-sample functions, ``value(y, raw, params)`` and
``derivative(y, raw, params)``. The SGD loop is the built-in one: its code is
compiled again with these functions in place of the built-in loss kernels, so
that LLVM inlines them as it inlines the built-ins, and every feature of the
loop (penalties, averaging, schedules, sparse rows, float32) comes for free.

What is compiled for a user's loss is cached on disk in a directory named by
a fingerprint of its functions (see ``_cache``): compiled once per machine,
and loaded by every later process, joblib's workers included.
"""

import functools
import hashlib
import types
from typing import NamedTuple

import numba as nb
import numpy as np
from numba.core import types as nbtypes

from . import _epochs, _losses, _sgd
from ._cache import cache_in, own_flags, user_cache_directory

# What a user's function must compile for: y and raw as float64, the
# parameters as a float64 array.
SAMPLE_SIGNATURE = (nbtypes.float64, nbtypes.float64, nbtypes.float64[::1])


class Kernels:
    """The compiled functions the estimators call for one loss.

    Every function takes the loss ``kind`` and its parameter array first, as
    the built-in kernels in ``_losses`` do; user-defined kernels ignore the
    kind. ``directory`` is where a user's loss is cached (None: in memory).

    ``sgd_epoch`` is one epoch, ``sgd_epochs`` the epoch loop around it
    (``_epochs.py``), which local SGD runs with an epoch of its own.
    """

    def __init__(
        self, loss_values, loss_derivatives, sgd_epoch, sgd_epochs, directory=None
    ):
        self.loss_values = loss_values
        self.loss_derivatives = loss_derivatives
        self.sgd_epoch = sgd_epoch
        self.sgd_epochs = sgd_epochs
        self.directory = directory
        self._bounds_checked = {}

    def bounds_checked(self, function):
        """A user's ``function(y, raw, params)`` compiled with bounds checks.

        Compiled without them, as in the SGD loop, a read past the end of
        ``params`` returns whatever lies in memory there; compiled with them,
        it raises IndexError.
        """
        if function not in self._bounds_checked:
            self._bounds_checked[function] = _jit_sample_function(
                function, self.directory, boundscheck=True
            )
        return self._bounds_checked[function]


BUILTIN_KERNELS = Kernels(
    _losses.loss_values,
    _losses.loss_derivatives,
    _sgd.sgd_epoch,
    _epochs.sgd_epochs,
)


class EngineLoss(NamedTuple):
    """A loss as the engine takes it: its compiled functions, the kind they
    dispatch on, and the parameters, a float64 array."""

    kernels: Kernels
    kind: int
    params: np.ndarray


def engine_loss(loss):
    """Resolve a :class:`~sklosses.losses.Loss` into what the engine runs.

    The one route from a loss to compiled code: built-in losses name their
    kernel in ``kernel_spec``; a user's loss is compiled (or loaded from the
    disk cache) from its ``sample_loss`` and ``sample_gradient``.
    """
    name, params = loss.kernel_spec()
    kernels = BUILTIN_KERNELS
    if name == "user":
        cls = type(loss)
        if cls.sample_loss is None or cls.sample_gradient is None:
            raise TypeError(
                f"{cls.__name__} must define both sample_loss and sample_gradient."
            )
        kernels = user_kernels(cls.sample_loss, cls.sample_gradient)
    return EngineLoss(kernels, _losses.KINDS[name], np.asarray(params, np.float64))


# The kernels compiled in this process, by cache directory: a loss unpickled
# again (in a joblib worker, for each task) has new function objects but the
# same code.
_COMPILED = {}


@functools.lru_cache(maxsize=64)
def user_kernels(value, derivative):
    """The engine for the per-sample functions ``value`` and ``derivative``.

    Loaded from the disk cache, or compiled and cached. Both functions are
    compiled for float64 arguments first, so that a function numba cannot
    compile fails here, named and with numba's reason, rather than deep
    inside the loop's compilation.

    Raises
    ------
    TypeError
        If numba cannot compile a function, or it does not return a number.
    """
    directory = user_cache_directory(value, derivative)
    if directory is None:
        return _compile_user_kernels(value, derivative, None)
    if directory not in _COMPILED:
        _COMPILED[directory] = _compile_user_kernels(value, derivative, directory)
    return _COMPILED[directory]


def _compile_user_kernels(value, derivative, directory):
    value = _jit_sample_function(value, directory)
    derivative = _jit_sample_function(derivative, directory)

    def loss_value(kind, params, y, raw):
        return value(y, raw, params)

    def loss_derivative(kind, params, y, raw):
        return derivative(y, raw, params)

    # Inlined into the loop as the built-in one is, so that a user's copy of
    # a built-in loss compiles to the same code.
    def loss_value_and_derivative(kind, params, y, raw):
        return value(y, raw, params), derivative(y, raw, params)

    loss_value = nb.njit(**_options({}, nogil=True))(_renamed(loss_value, directory))
    loss_derivative = nb.njit(**_options({}, nogil=True))(
        _renamed(loss_derivative, directory)
    )
    loss_value_and_derivative = nb.njit(**_options({}, nogil=True, inline="always"))(
        _renamed(loss_value_and_derivative, directory)
    )

    rows_epoch = _recompile(
        _sgd._sgd_epoch, directory, loss_value_and_derivative=loss_value_and_derivative
    )
    sgd_epoch = _recompile(_sgd.sgd_epoch, directory, _sgd_epoch=rows_epoch)
    return Kernels(
        _recompile(_losses.loss_values, directory, loss_value=loss_value),
        _recompile(
            _losses.loss_derivatives, directory, loss_derivative=loss_derivative
        ),
        sgd_epoch,
        _recompile(_epochs.sgd_epochs, directory, sgd_epoch=sgd_epoch),
        directory=directory,
    )


def _jit_sample_function(function, directory, **options):
    name = getattr(function, "__qualname__", repr(function))
    py_func = _renamed(getattr(function, "py_func", function), directory)
    options = _options(getattr(function, "targetoptions", {}), nogil=True, **options)
    dispatcher = _cached(nb.njit(**options)(py_func), directory)
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


def _recompile(dispatcher, directory, **replacements):
    """``dispatcher``'s Python function compiled with some globals replaced."""
    py_func = dispatcher.py_func
    missing = replacements.keys() - py_func.__globals__.keys()
    assert not missing, f"{py_func.__name__} reads no globals {missing}"
    function = _renamed(py_func, directory, **replacements)
    options = _options(dispatcher.targetoptions)
    return _cached(nb.njit(**options)(function), directory)


def _renamed(function, directory, **replacements):
    """A copy of ``function``, with some globals replaced, named after the
    cache ``directory`` it is compiled for.

    numba names a function's environment (the constants its compiled code
    reads, such as the dtype of an array it returns) after its module,
    qualified name and a counter of the process that compiled it. Two
    functions of one name loaded from two caches, whose counters happened to
    agree, would share one environment: a user's ``loss_values`` read the
    built-in's, and failed ("NRT_adapt_ndarray_to_python: descr is NULL").
    Each user loss's functions therefore get names of their own.
    """
    copy = types.FunctionType(
        function.__code__,
        dict(function.__globals__, **replacements)
        if replacements
        else function.__globals__,
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    if directory is not None:
        tag = hashlib.sha256(str(directory).encode()).hexdigest()[:16]
        copy.__qualname__ = f"{function.__qualname__}__{tag}"
    return copy


def _options(targetoptions, **options):
    """Options for ``numba.njit``: njit implies nopython (and warns when told
    again), and the cache is set by ``_cached``. The flags numba would take
    from a caller are set (``own_flags``): a user's function compiled for
    float32 targets by the loop, or by ``loss_values``, is the same code."""
    options = own_flags({**targetoptions, **options})
    return {k: v for k, v in options.items() if k not in ("cache", "nopython")}


def _cached(dispatcher, directory):
    """Cache ``dispatcher`` in ``directory``; in memory when that is None.

    Never where numba would: a recompiled engine function shares its source
    with the built-in one.
    """
    return dispatcher if directory is None else cache_in(dispatcher, directory)
