"""numba's disk cache for the engine, keyed on what the machine code depends on.

A first fit compiles the SGD loop for seconds; later processes load it from
numba's disk cache in milliseconds. numba's ``cache=True`` files a function
beside its source, keyed on its own bytecode and its file's content. The
engine needs five things more, which the functions here add:

1. **The whole key.** numba's key leaves out the code a function inlines from
   other files (the loss kernels, into the loop), the constants of its own
   code, and the settings that change the machine code: code compiled under
   ``NUMBA_BOUNDSCHECK=1`` was loaded unchecked in the next process, and the
   reverse. Entries here are also keyed on the engine's source, the
   function's code with its constants and defaults, the compile options and
   those settings. The fastmath flags and error model, which numba would
   take from whichever caller compiled a function first and leave out of the
   key, are each function's own (``own_flags``).
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
   in a directory of its own, named by a fingerprint (``_fingerprint.py``) of
   the user's functions: what numba compiles from them (their bytecode, the
   values of the globals, closures and defaults it freezes into the machine
   code, and the code of every helper it inlines or calls, in any module),
   with the versions of Python, NumPy, numba and the engine. An edited loss
   gets a new directory; a stale loop is never loaded. A value the
   fingerprint cannot encode without ambiguity makes the loss compile in
   memory.
5. **numba's internals fenced.** The classes extended here are numba's
   private ones (``numba.core.caching``), which any release may move. They
   are read when the first function is cached, not when this module is
   imported, and checked for what is used of them; whatever fails there or
   later (a class gone, a method renamed, a constructor that raises) makes
   every function compile in memory, with one warning per process.
   ``import sklosses`` and every fit work with any numba.
"""

import contextlib
import functools
import hashlib
import os
import pickle
import sys
import types
import warnings

import numba as nb

from ._fingerprint import (
    ENGINE_ID,
    Uncacheable,
    canonical_option,
    code_digest,
    fingerprint,
)

try:
    import fcntl
except ImportError:  # Windows: each file is still replaced atomically
    fcntl = None

CHECKSUM_SIZE = hashlib.sha256().digest_size
NO_LOCATION_ADVICE = (
    "Each new process compiles it again (a few seconds for a first fit); set "
    "the environment variable NUMBA_CACHE_DIR to a writable directory to cache it."
)
UNCACHEABLE_ADVICE = "It compiles again in each new process (a few seconds)."
INTERNALS_ADVICE = (
    "Each new process compiles it again (a few seconds for a first fit); with "
    "a numba release sklosses supports, the compiled code is cached."
)


class CacheWarning(UserWarning):
    """The compiled code could not be cached, or a cache entry was rebuilt."""


_warned = set()


def _warn_once(topic, message):
    if topic not in _warned:
        _warned.add(topic)
        warnings.warn(message, CacheWarning, stacklevel=3)


def _warn_uncached(reason, advice):
    """The one warning of a process whose compiled code is not cached."""
    _warn_once(
        "uncached", f"sklosses cannot cache its compiled code: {reason}. {advice}"
    )


def _internals_failed(error):
    return (
        f"numba {nb.__version__}'s cache is not what sklosses extends "
        f"({type(error).__name__}: {error})"
    )


def _settings():
    """numba's settings that change the machine code but not numba's key."""
    config = nb.config
    return config.BOUNDSCHECK, int(config.OPT), config.DEBUGINFO_DEFAULT


def cached_njit(**options):
    """``numba.njit(cache=True, **options)`` with the cache of this module,
    and the flags of :func:`own_flags`."""

    def decorate(function):
        return cache_in(nb.njit(**own_flags(options))(function))

    return decorate


def own_flags(options):
    """``options`` with the flags numba would take from a caller set.

    A function that leaves ``fastmath`` or ``error_model`` unset is compiled
    with its caller's (numba's ``CPUTargetOptions.finalize``): with the
    loop's fastmath flags when the loop is what first calls it, with none
    when Python does. numba keys neither the function's overloads nor its
    cache entries on them, so the first compilation served every later
    caller, in this process and in every process that loads the entry: the
    loop's steps depended on what had compiled its helpers first. Set, they
    are the function's own, and they key its entries (``EngineCache``).
    """
    return {"fastmath": False, "error_model": "python", **options}


def cache_in(dispatcher, directory=None):
    """Cache ``dispatcher``'s compilations on disk; return it.

    Whatever stops that (no writable location, numba's internals not those
    extended here) leaves ``dispatcher`` compiling in memory, with one
    warning per process at the first compilation.

    Parameters
    ----------
    dispatcher : numba Dispatcher
    directory : str, optional
        Where to cache. By default where numba would: beside the source, or
        in the user's cache directory when that is read-only.
    """
    if not hasattr(dispatcher, "_cache"):
        # numba would never consult a cache set here: say so now.
        _warn_uncached(
            _internals_failed(AttributeError("a dispatcher has no _cache")),
            INTERNALS_ADVICE,
        )
        return dispatcher
    dispatcher._cache = _engine_cache(dispatcher, directory)
    return dispatcher


def _engine_cache(dispatcher, directory):
    classes, error = _numba_cache()
    if error is not None:
        return _Uncached(_internals_failed(error), INTERNALS_ADVICE)
    try:
        return classes.EngineCache(
            dispatcher.py_func, dispatcher.targetoptions, directory
        )
    except Uncacheable as error:
        return _Uncached(str(error), UNCACHEABLE_ADVICE)
    except Exception as error:
        # numba raises RuntimeError("cannot cache function ...: no locator
        # available") where no directory is writable; this module, OSError.
        if isinstance(error, OSError) or "no locator" in str(error):
            reason = f"{type(error).__name__}: {error}"
            return _Uncached(reason, NO_LOCATION_ADVICE)
        return _Uncached(_internals_failed(error), INTERNALS_ADVICE)


class CorruptEntry(Exception):
    """A cache entry that must not be loaded."""


# Set, with its reason, when numba's cache failed in a way no entry
# explains: no function of the process is cached after that.
_disabled = None


def _disable(error):
    global _disabled
    _disabled = _internals_failed(error)
    _warn_uncached(_disabled, INTERNALS_ADVICE)


def _require(cls, *names):
    missing = [name for name in names if not hasattr(cls, name)]
    if missing:
        raise AttributeError(f"{cls.__qualname__} has no {', '.join(missing)}")


@functools.cache
def _numba_cache():
    """numba's cache classes, extended for the engine: (classes, None), or
    (None, the exception that stopped their extension)."""
    try:
        return _extend_numba_cache(), None
    except Exception as error:  # numba does not promise these classes
        return None, error


def _extend_numba_cache():
    from numba.core import caching, sigutils
    from numba.misc.appdirs import AppDirs

    # All that is used of numba's classes below, besides their constructors.
    _require(caching.FunctionCache, "_impl_class", "_index_key", "save_overload")
    _require(
        caching.CompileResultCacheImpl,
        "get_filename_base",
        "filename_base",
        "locator",
        "rebuild",
    )
    _require(
        caching.IndexDataCacheFile,
        "load",
        "save",
        "_load_data",
        "_save_data",
        "_dump",
        "_open_for_write",
        "_data_path",
    )
    _require(caching._CacheLocator, "ensure_cache_path")
    _require(sigutils, "normalize_signature")

    class EngineCache(caching.FunctionCache):
        """numba's per-function cache, with the whole key and recovery."""

        def __init__(self, py_func, options, directory=None):
            self._options = tuple(
                sorted((k, canonical_option(v)) for k, v in options.items())
            )
            self._code = code_digest(py_func)
            if directory is not None:
                self._impl_class = functools.partial(DirectoryImpl, directory=directory)
            super().__init__(py_func)
            impl = self._impl
            if directory is not None and not isinstance(impl.locator, DirectoryLocator):
                raise TypeError(
                    f"numba cached {py_func.__qualname__} with its own locator"
                )
            if not isinstance(self._cache_file, caching.IndexDataCacheFile):
                raise TypeError(
                    f"numba's cache file is a {type(self._cache_file).__name__}"
                )
            self._cache_file = CheckedCacheFile(
                cache_path=self.cache_path,
                filename_base=impl.filename_base,
                source_stamp=impl.locator.get_source_stamp(),
            )
            self._index_path = self._cache_file._index_path

        def _index_key(self, sig, codegen):
            key = super()._index_key(sig, codegen)
            return (*key, ENGINE_ID, self._options, _settings(), self._code)

        def load_overload(self, sig, target_context):
            # numba's own load, with what fails told apart: the key (numba's
            # internals: nothing is cached any more) or the entry (discarded).
            if _disabled is not None:
                return None
            try:
                target_context.refresh()
                key = self._index_key(sig, target_context.codegen())
                args, _ = sigutils.normalize_signature(sig)
            except Exception as error:
                _disable(error)
                return None
            try:
                data = self._cache_file.load(key)
                if data is None:
                    return None
                cres = self._impl.rebuild(target_context, data)
                if tuple(cres.signature.args) != tuple(args):
                    raise CorruptEntry(f"it holds {cres.signature}, not {args}")
            except Exception as error:  # whatever is wrong, compiling again is right
                # On Windows another process may hold the file: numba passes.
                if os.name != "nt" or not isinstance(error, PermissionError):
                    self._discard(error)
                return None
            return cres

        def save_overload(self, sig, data):
            if _disabled is not None:
                return
            try:
                self._impl.locator.ensure_cache_path()
                with _locked(self._index_path):
                    super().save_overload(sig, data)
            except OSError as error:  # a cache that cannot be written is no error
                _warn_once(
                    ("save", self.cache_path),
                    f"sklosses could not cache compiled code in {self.cache_path} "
                    f"({type(error).__name__}: {error}). {NO_LOCATION_ADVICE}",
                )
            except Exception as error:
                _disable(error)

        def _discard(self, error):
            with contextlib.suppress(Exception):
                os.remove(self._index_path)
            _warn_once(
                "corrupt",
                f"A cache entry of sklosses' compiled code in {self.cache_path} "
                f"could not be loaded ({type(error).__name__}: {error}). It was "
                "discarded and is compiled again.",
            )

    class CheckedCacheFile(caching.IndexDataCacheFile):
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

    class DirectoryLocator(caching._CacheLocator):
        """Everything in one directory, whose name stands for the code's content."""

        def __init__(self, directory, py_file, lineno):
            self._cache_path = str(directory)
            self._py_file = py_file  # named in numba's "cannot cache" warnings
            self._lineno = lineno

        def get_cache_path(self):
            return self._cache_path

        def get_source_stamp(self):
            return ""

        def get_disambiguator(self):
            # numba's: functions of one name on other lines get files of their own.
            return str(self._lineno)

    class DirectoryImpl(caching.CompileResultCacheImpl):
        def __init__(self, py_func, directory):
            self._lineno = py_func.__code__.co_firstlineno
            self._locator = DirectoryLocator(
                directory, py_func.__code__.co_filename, self._lineno
            )
            self._locator.ensure_cache_path()
            self._filename_base = self.get_filename_base(
                py_func.__qualname__, getattr(sys, "abiflags", "")
            )

    return types.SimpleNamespace(EngineCache=EngineCache, AppDirs=AppDirs)


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


class _Uncached:
    """No cache: compile in memory, and say so at the first compilation.

    What numba's dispatcher asks of its cache, and no more: none of numba's
    classes, which may be what failed.
    """

    cache_path = None

    def __init__(self, reason, advice):
        self._reason = reason
        self._advice = advice

    def load_overload(self, sig, target_context):
        _warn_uncached(self._reason, self._advice)

    def save_overload(self, sig, data):
        pass

    def enable(self):
        pass

    def disable(self):
        pass

    def flush(self):
        pass


# -- user-defined functions -------------------------------------------------


def user_cache_directory(*functions):
    """Where code compiled with a user's ``functions`` is cached, or None.

    None, with one warning saying why, when the functions depend on a value
    that :func:`fingerprint` cannot key, or when numba's cache cannot be
    extended: their code then compiles in memory, once per process.
    """
    classes, error = _numba_cache()
    if error is not None:
        _warn_uncached(_internals_failed(error), INTERNALS_ADVICE)
        return None
    name = getattr(functions[0], "__qualname__", "function")
    try:
        digest = fingerprint(*functions)
    except Exception as reason:  # Uncacheable, or an object that fails to say
        if not isinstance(reason, Uncacheable):
            reason = f"{type(reason).__name__}: {reason}"
        _warn_once(
            ("uncacheable", name),
            f"sklosses cannot cache the code compiled for {name}: {reason}. "
            f"{UNCACHEABLE_ADVICE}",
        )
        return None
    try:
        if nb.config.CACHE_DIR:
            root = os.path.join(nb.config.CACHE_DIR, "sklosses")
        else:
            root = classes.AppDirs(appname="sklosses", appauthor=False).user_cache_dir
    except Exception as error:  # numba's AppDirs is numba's own
        _warn_uncached(_internals_failed(error), INTERNALS_ADVICE)
        return None
    label = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return os.path.join(root, "user-losses", f"{label}-{digest[:24]}")
