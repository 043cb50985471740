"""numba's disk cache for the engine, keyed on what the machine code depends on.

A first fit compiles the SGD loop for seconds; later processes load it from
numba's disk cache in milliseconds. numba's ``cache=True`` files a function
beside its source, keyed on its own bytecode and its file's content. The
engine needs four things more, which the functions here add:

1. **The whole key.** numba's key leaves out the code a function inlines from
   other files (the loss kernels, into the loop) and the settings that change
   the machine code: code compiled under ``NUMBA_BOUNDSCHECK=1`` was loaded
   unchecked in the next process, and the reverse. Entries here are also
   keyed on the engine's source, the compile options and those settings.
2. **Recovery.** With a truncated or garbled cache file, numba raises on
   every later call, and it would hand garbled machine code to LLVM. Data
   files here carry a checksum; an entry that fails to load or holds another
   signature is discarded and compiled again, with one warning per process.
   Writers take a lock, so that processes compiling at once (a cold pool of
   workers) leave a valid index.
3. **No location.** Where no directory is writable (a read-only package in a
   container without a home directory), numba raises when the function is
   decorated, that is when ``import sklosses`` runs. Here the functions then
   compile in memory, and the first compilation warns once, naming
   ``NUMBA_CACHE_DIR``.
4. **User losses.** The loop compiled for a user's loss shares its code with
   the built-in loop, so numba would file both under one name. It is cached
   in a directory of its own, named by a :func:`fingerprint` of the user's
   functions: what numba compiles from them (their bytecode, and the globals,
   closures, defaults and jitted functions it freezes into the machine code),
   with the versions of Python, NumPy, numba and the engine. An edited loss
   gets a new directory; a stale loop is never loaded.
"""

import contextlib
import enum
import functools
import hashlib
import inspect
import os
import pickle
import sys
import types
import warnings
from pathlib import Path

import numba as nb
import numpy as np
from numba.core import config, sigutils
from numba.core.caching import (
    CompileResultCacheImpl,
    FunctionCache,
    IndexDataCacheFile,
    NullCache,
    _CacheLocator,
)
from numba.core.dispatcher import Dispatcher
from numba.misc.appdirs import AppDirs

try:
    import fcntl
except ImportError:  # Windows: each file is still replaced atomically
    fcntl = None

CHECKSUM_SIZE = hashlib.sha256().digest_size
NO_LOCATION_ADVICE = (
    "Each new process compiles it again (a few seconds for a first fit); set "
    "the environment variable NUMBA_CACHE_DIR to a writable directory to cache it."
)


class CacheWarning(UserWarning):
    """The compiled code could not be cached, or a cache entry was rebuilt."""


_warned = set()


def _warn_once(topic, message):
    if topic not in _warned:
        _warned.add(topic)
        warnings.warn(message, CacheWarning, stacklevel=3)


def _engine_id():
    """A digest of the engine's source: what every compiled function is made of."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


ENGINE_ID = _engine_id()


def _settings():
    """numba's settings that change the machine code but not numba's key."""
    return config.BOUNDSCHECK, int(config.OPT), config.DEBUGINFO_DEFAULT


def cached_njit(**options):
    """``numba.njit(cache=True, **options)`` with the cache of this module."""

    def decorate(function):
        return cache_in(nb.njit(**options)(function))

    return decorate


def cache_in(dispatcher, directory=None):
    """Cache ``dispatcher``'s compilations on disk; return it.

    Parameters
    ----------
    dispatcher : numba Dispatcher
    directory : str, optional
        Where to cache. By default where numba would: beside the source, or
        in the user's cache directory when that is read-only.
    """
    try:
        dispatcher._cache = EngineCache(
            dispatcher.py_func, dispatcher.targetoptions, directory
        )
    except (RuntimeError, OSError) as error:  # numba: "no locator available"
        dispatcher._cache = _Uncached(f"{type(error).__name__}: {error}")
    return dispatcher


def _canonical(option):
    """The repr of an option, the same in every process (sets are sorted)."""
    if isinstance(option, set | frozenset):
        return repr(sorted(option))
    return repr(option)


class CorruptEntry(Exception):
    """A cache entry that must not be loaded."""


class EngineCache(FunctionCache):
    """numba's per-function cache, with the whole key and recovery."""

    def __init__(self, py_func, options, directory=None):
        self._options = tuple(sorted((k, _canonical(v)) for k, v in options.items()))
        if directory is not None:
            self._impl_class = functools.partial(_DirectoryImpl, directory=directory)
        super().__init__(py_func)
        self._cache_file = _CheckedCacheFile(
            cache_path=self._cache_path,
            filename_base=self._impl.filename_base,
            source_stamp=self._cache_file._source_stamp,
        )

    def _index_key(self, sig, codegen):
        key = super()._index_key(sig, codegen)
        return (*key, ENGINE_ID, self._options, _settings())

    def load_overload(self, sig, target_context):
        try:
            cres = super().load_overload(sig, target_context)
            args, _ = sigutils.normalize_signature(sig)
            if cres is not None and tuple(cres.signature.args) != tuple(args):
                raise CorruptEntry(f"it holds {cres.signature}, not {args}")
        except Exception as error:  # whatever is wrong, compiling again is right
            self._discard(error)
            return None
        return cres

    def save_overload(self, sig, data):
        try:
            self._impl.locator.ensure_cache_path()
            with _locked(self._cache_file._index_path):
                super().save_overload(sig, data)
        except Exception as error:  # a cache that cannot be written is no error
            _warn_once(
                ("save", self._cache_path),
                f"sklosses could not cache compiled code in {self._cache_path} "
                f"({type(error).__name__}: {error}). {NO_LOCATION_ADVICE}",
            )

    def _discard(self, error):
        with contextlib.suppress(OSError):
            os.remove(self._cache_file._index_path)
        _warn_once(
            "corrupt",
            f"A cache entry of sklosses' compiled code in {self._cache_path} "
            f"could not be loaded ({type(error).__name__}: {error}). It was "
            "discarded and is compiled again.",
        )


class _CheckedCacheFile(IndexDataCacheFile):
    """Data files that carry a SHA-256 of their content, checked on loading."""

    def _save_data(self, name, data):
        data = self._dump(data)
        with self._open_for_write(self._data_path(name)) as f:
            f.write(hashlib.sha256(data).digest())
            f.write(data)

    def _load_data(self, name):
        with open(self._data_path(name), "rb") as f:
            checksum = f.read(CHECKSUM_SIZE)
            data = f.read()
        if hashlib.sha256(data).digest() != checksum:
            raise CorruptEntry(f"{name} does not match its checksum")
        return pickle.loads(data)


@contextlib.contextmanager
def _locked(path):
    """Hold an exclusive lock beside ``path`` while writing it (POSIX only)."""
    if fcntl is None:
        yield
        return
    with open(f"{path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class _Uncached(NullCache):
    """No cache: compile in memory, and say so at the first compilation."""

    def __init__(self, reason):
        self._reason = reason

    def load_overload(self, sig, target_context):
        _warn_once(
            "uncached",
            f"sklosses cannot cache its compiled code: {self._reason}. "
            f"{NO_LOCATION_ADVICE}",
        )


class _DirectoryLocator(_CacheLocator):
    """Everything in one directory, whose name stands for the code's content."""

    def __init__(self, directory, py_file):
        self._cache_path = str(directory)
        self._py_file = py_file  # named in numba's "cannot cache" warnings

    def get_cache_path(self):
        return self._cache_path

    def get_source_stamp(self):
        return ""

    def get_disambiguator(self):
        return ""


class _DirectoryImpl(CompileResultCacheImpl):
    def __init__(self, py_func, directory):
        self._lineno = py_func.__code__.co_firstlineno
        self._locator = _DirectoryLocator(directory, py_func.__code__.co_filename)
        self._locator.ensure_cache_path()
        self._filename_base = self.get_filename_base(
            py_func.__qualname__, getattr(sys, "abiflags", "")
        )


# -- user-defined functions -------------------------------------------------


class Uncacheable(Exception):
    """What makes a function's compiled code impossible to key."""


def user_cache_directory(*functions):
    """Where code compiled with a user's ``functions`` is cached, or None.

    None, with one warning saying why, when the functions depend on a value
    that :func:`fingerprint` cannot key: their code then compiles in memory,
    once per process.
    """
    name = getattr(functions[0], "__qualname__", "function")
    try:
        digest = fingerprint(*functions)
    except Uncacheable as reason:
        _warn_once(
            ("uncacheable", name),
            f"sklosses cannot cache the code compiled for {name}: {reason}. It "
            "compiles again in each new process (a few seconds).",
        )
        return None
    if config.CACHE_DIR:
        root = os.path.join(config.CACHE_DIR, "sklosses")
    else:
        root = AppDirs(appname="sklosses", appauthor=False).user_cache_dir
    label = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return os.path.join(root, "user-losses", f"{label}-{digest[:24]}")


def fingerprint(*functions):
    """A digest of what numba compiles from ``functions``.

    numba compiles a function from its bytecode, and freezes into the machine
    code the values of the globals it reads, its closure and defaults, and
    the jitted functions it calls, recursively: all of these are hashed, with
    the versions of Python, NumPy, numba and the engine. Library functions
    and modules count by name (their versions are in the digest).

    Raises
    ------
    Uncacheable
        When a function reads a value that cannot be hashed this way.
    """
    hasher = hashlib.sha256()
    for part in (ENGINE_ID, sys.version, np.__version__, nb.__version__):
        hasher.update(part.encode())
    seen = set()
    for function in functions:
        _hash_function(hasher, function, seen)
    return hasher.hexdigest()


def _hash_function(hasher, function, seen):
    function = getattr(function, "py_func", function)
    if not isinstance(function, types.FunctionType):
        raise Uncacheable(f"{function!r} is not a Python function")
    module = inspect.getmodule(function)
    if function.__module__ is None or module is None or module.__name__[0] == "<":
        # numba loads a cached function by importing its module again.
        raise Uncacheable(
            f"{function.__qualname__} belongs to no importable module (code "
            "run by exec, or by runpy.run_path after the run)"
        )
    hasher.update(f"{function.__module__}.{function.__qualname__}".encode())
    if function in seen:
        return
    seen.add(function)
    code = function.__code__
    names = set()
    _hash_code(hasher, code, names)
    module_globals = function.__globals__
    values = [(n, module_globals[n]) for n in sorted(names & module_globals.keys())]
    cells = function.__closure__ or ()
    values += zip(code.co_freevars, (c.cell_contents for c in cells), strict=True)
    values += (("default", value) for value in function.__defaults__ or ())
    for name, value in values:
        hasher.update(name.encode())
        _hash_value(hasher, name, value, function, names, seen)


def _hash_code(hasher, code, names):
    hasher.update(code.co_code)
    hasher.update(repr(code.co_names).encode())
    names.update(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _hash_code(hasher, const, names)
        elif isinstance(const, frozenset):  # iterates in hash order
            hasher.update(repr(sorted(map(repr, const))).encode())
        else:
            hasher.update(repr(const).encode())


SIMPLE_VALUES = (int, float, complex, str, bytes, type(None), np.generic, enum.Enum)


def _hash_value(hasher, name, value, function, names, seen):
    if isinstance(value, SIMPLE_VALUES):
        hasher.update(repr(value).encode())
    elif isinstance(value, tuple):
        for item in value:
            _hash_value(hasher, name, item, function, names, seen)
    elif isinstance(value, np.ndarray):
        hasher.update(f"{value.dtype.str}{value.shape}".encode())
        hasher.update(hashlib.sha256(np.ascontiguousarray(value).tobytes()).digest())
    elif isinstance(value, Dispatcher) or (
        isinstance(value, types.FunctionType)
        and value.__module__ == function.__module__
    ):
        _hash_function(hasher, value, seen)
    elif isinstance(value, types.ModuleType):
        hasher.update(value.__name__.encode())
        # module.helper: the module's jitted functions the code names.
        for member in map(vars(value).get, sorted(names)):
            if isinstance(member, Dispatcher):
                _hash_function(hasher, member, seen)
    elif callable(value) and hasattr(value, "__qualname__"):
        # Library functions, ufuncs, classes.
        hasher.update(f"{value.__module__}.{value.__qualname__}".encode())
    else:
        raise Uncacheable(
            f"it reads {name!r}, a {type(value).__name__}, which numba freezes "
            "into the compiled code and sklosses cannot fingerprint"
        )
