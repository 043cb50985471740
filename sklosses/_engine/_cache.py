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
   those settings.
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
   functions: what numba compiles from them (their bytecode, the values of
   the globals, closures and defaults it freezes into the machine code, and
   the code of every helper it inlines or calls, in any module), with the
   versions of Python, NumPy, numba and the engine. An edited loss gets a
   new directory; a stale loop is never loaded. A value the fingerprint
   cannot encode without ambiguity makes the loss compile in memory.
5. **numba's internals fenced.** The classes extended here are numba's
   private ones (``numba.core.caching``), which any release may move. They
   are read when the first function is cached, not when this module is
   imported, and checked for what is used of them; whatever fails there or
   later (a class gone, a method renamed, a constructor that raises) makes
   every function compile in memory, with one warning per process.
   ``import sklosses`` and every fit work with any numba.
"""

import contextlib
import enum
import functools
import hashlib
import inspect
import os
import pickle
import struct
import sys
import types
import warnings
from pathlib import Path

import llvmlite
import numba as nb
import numpy as np
from numba.extending import is_jitted

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
    config = nb.config
    return config.BOUNDSCHECK, int(config.OPT), config.DEBUGINFO_DEFAULT


def cached_njit(**options):
    """``numba.njit(cache=True, **options)`` with the cache of this module."""

    def decorate(function):
        return cache_in(nb.njit(**options)(function))

    return decorate


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


def _canonical(option):
    """The repr of an option, the same in every process (sets are sorted)."""
    if isinstance(option, set | frozenset):
        return repr(sorted(option))
    return repr(option)


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
                sorted((k, _canonical(v)) for k, v in options.items())
            )
            self._code = _code_key(py_func)
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


def _code_key(function):
    """A digest of ``function``'s code and defaults, for its cache entries.

    numba keys an entry on the bytecode alone, and files it under the
    function's name and line: two lambdas of one class, alike but for their
    constants (``lambda y, raw, p: 0.5 * (raw - y) ** 2`` and ``lambda y,
    raw, p: 1.0 * (raw - y) ** 1``), on one line, shared their machine code.
    """
    encoder = _Encoder()
    encoder.code(function.__code__, set())
    encoder.value(function.__defaults__)
    encoder.value(sorted((function.__kwdefaults__ or {}).items()))
    return encoder.hexdigest()


# -- user-defined functions -------------------------------------------------


class Uncacheable(Exception):
    """What makes a function's compiled code impossible to key."""


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


def fingerprint(*functions):
    """A digest of what numba compiles from ``functions``.

    numba compiles a function from its bytecode, and freezes into the machine
    code the values of the globals it reads, its closure and defaults, and
    the functions it inlines or calls, recursively: all of these are hashed,
    with the versions of Python, NumPy, numba and the engine. Every value is
    written as a tag, a length and its bytes, so that no two values share an
    encoding: ``(1, 23)`` is not ``(12, 3)``, ``1`` is not ``1.0`` nor
    ``True``. A helper numba compiles (a jitted function, a
    ``register_jitable`` function, an ``@overload`` implementation) counts by
    its code, whatever its module; functions, classes and modules of Python,
    NumPy and numba count by name, since their versions are in the digest.

    Raises
    ------
    Uncacheable
        When a function reads a value that cannot be hashed this way.
    """
    encoder = _Encoder()
    versions = (np.__version__, nb.__version__, llvmlite.__version__)
    for part in (ENGINE_ID, sys.version, *versions):
        encoder.text(b"V", part)
    encoder.group(b"*", len(functions))
    for function in functions:
        encoder.function(getattr(function, "py_func", function))
    return encoder.hexdigest()


# Packages whose versions the digest holds: their functions count by name.
LIBRARIES = frozenset(sys.stdlib_module_names) | {"numpy", "numba", "llvmlite"}


def _is_library(module_name):
    return isinstance(module_name, str) and module_name.split(".")[0] in LIBRARIES


class _Encoder:
    """Writes values to a SHA-256, each as a tag, a length and its bytes.

    A group says how many values follow, so that the bytes written for a
    value decode to that value alone: two values that differ in type,
    nesting or content never write the same bytes.
    """

    def __init__(self, sink=None):
        self._sink = hashlib.sha256() if sink is None else sink
        # Functions already written, by identity, kept alive so that their
        # ids stay theirs: a function reached again (recursion, two paths)
        # is written as a reference to the first.
        self._seen = {}
        self._open_modules = set()

    def hexdigest(self):
        return self._sink.hexdigest()

    def atom(self, tag, payload=b""):
        self._sink.update(tag + len(payload).to_bytes(8, "little") + payload)

    def text(self, tag, text):
        self.atom(tag, text.encode("utf-8", "surrogatepass"))

    def group(self, tag, count):
        self.atom(tag, count.to_bytes(8, "little"))

    def integer(self, value):
        size = value.bit_length() // 8 + 1
        self.atom(b"i", value.to_bytes(size, "little", signed=True))

    def name(self, tag, value):
        self.text(tag, f"{value.__module__}.{value.__qualname__}")

    # -- values -------------------------------------------------------------

    def value(self, value, names=frozenset(), reader="the code reads a value"):
        """Write ``value``, read by code whose global and attribute names are
        ``names``; raise Uncacheable, saying what ``reader`` reads, for a
        value that cannot be written."""
        kind = type(value)
        if value is None or value is Ellipsis:
            self.atom(b"N" if value is None else b".")
        elif kind is bool:
            self.atom(b"b", b"\x01" if value else b"\x00")
        elif kind is int:
            self.integer(value)
        elif kind is float:
            self.atom(b"f", struct.pack("<d", value))
        elif kind is complex:
            self.atom(b"c", struct.pack("<dd", value.real, value.imag))
        elif kind is str:
            self.text(b"s", value)
        elif kind is bytes:
            self.atom(b"y", value)
        elif kind is tuple or kind is list:
            self.group(b"t" if kind is tuple else b"l", len(value))
            for item in value:
                self.value(item, names, reader)
        elif kind is frozenset:
            self._frozenset(value, reader)
        elif kind is np.ndarray:
            self._array(value, reader)
        elif isinstance(value, np.generic):
            self.text(b"g", f"{value.dtype.str}{value.dtype!r}")
            self.atom(b"B", value.tobytes())
        elif isinstance(value, enum.Enum):
            self.group(b"e", 2)
            self._class(kind, reader)
            self.text(b"s", value.name)
        elif isinstance(value, tuple) and _is_namedtuple(kind):
            self._class(kind, reader)
            self.group(b"u", len(value))
            for item in value:
                self.value(item, names, reader)
        elif isinstance(value, nb.types.Type):
            self.name(b"T", kind)
            self.text(b"s", str(value))
        elif isinstance(value, types.ModuleType):
            self._module(value, names, reader)
        elif isinstance(value, type):
            self._class(value, reader)
        elif callable(value):
            self._callable(value, reader)
        else:
            raise Uncacheable(
                f"{reader}, a {kind.__name__}, which numba freezes into the "
                "compiled code and sklosses cannot fingerprint"
            )

    def _frozenset(self, value, reader):
        # Set order follows hashes, which differ from process to process.
        items = []
        for item in value:
            sink = _Collector()
            _Encoder(sink).value(item, reader=reader)
            items.append(bytes(sink))
        self.group(b"z", len(items))
        for item in sorted(items):
            self._sink.update(item)

    def _array(self, value, reader):
        if value.dtype.hasobject:
            raise Uncacheable(
                f"{reader}, an array of Python objects, which sklosses cannot "
                "fingerprint"
            )
        self.group(b"a", value.ndim)
        for n in value.shape:
            self.integer(n)
        self.text(b"d", f"{value.dtype.str}{value.dtype!r}")
        # numba types a global array with its layout.
        flags = value.flags
        self.text(
            b"o", "C" if flags.c_contiguous else "F" if flags.f_contiguous else "A"
        )
        self.atom(b"B", np.ascontiguousarray(value).tobytes())

    def _class(self, cls, reader):
        """A class: by name if a library's, by its members if an enum or a
        named tuple (numba freezes those); any other is the user's code,
        which numba compiles in ways not hashed here."""
        if issubclass(cls, enum.Enum):
            self.name(b"E", cls)
            members = list(cls.__members__.items())
            self.group(b"m", len(members))
            for name, member in members:
                self.text(b"s", name)
                self.value(member.value, reader=reader)
        elif _is_namedtuple(cls):
            self.name(b"U", cls)
            self.value(tuple(cls._fields), reader=reader)
            self.value(tuple(cls._field_defaults.items()), reader=reader)
        elif _is_library(cls.__module__):
            self.name(b"C", cls)
        else:
            raise Uncacheable(
                f"{reader}, the class {cls.__qualname__}, whose compiled code "
                "sklosses cannot fingerprint"
            )

    def _module(self, module, names, reader):
        self.text(b"M", module.__name__)
        if _is_library(module.__name__):
            return
        if module in self._open_modules:  # a module that imports itself back
            self.atom(b"R")
            return
        # module.NAME: numba freezes the value read as it freezes a global.
        self._open_modules.add(module)
        members = sorted(names & vars(module).keys())
        self.group(b"v", len(members))
        for name in members:
            self.text(b"n", name)
            member = f"{reader} (its {name!r})"
            self.value(vars(module)[name], names, member)
        self._open_modules.discard(module)

    def _callable(self, value, reader):
        if is_jitted(value):
            self.group(b"J", 2)
            self.function(value.py_func)
            self.options(value.targetoptions)
            self.options(getattr(value, "locals", {}))
            return
        if isinstance(value, types.FunctionType) and not _is_library(value.__module__):
            # The user's function: numba compiles it only through an
            # overload of it (register_jitable), whose options count too.
            self.function(value)
            self.overloads(value, every=True)
            return
        module = getattr(value, "__module__", None)
        if _is_library(module) and isinstance(
            getattr(value, "__qualname__", None), str
        ):
            self.name(b"L", value)
            # A library's function may carry the user's overload.
            self.overloads(value, every=False)
            return
        raise Uncacheable(
            f"{reader}, {value!r}, which numba compiles in ways sklosses cannot "
            "fingerprint"
        )

    def options(self, options):
        items = sorted((str(k), _canonical(v)) for k, v in options.items())
        self.group(b"O", len(items))
        for key, value in items:
            self.text(b"n", key)
            self.text(b"s", value)

    def overloads(self, value, every):
        """The implementations numba's ``@overload`` (and ``register_jitable``)
        registered for ``value``: by their code, and their options. Those of
        a library's function only when written outside the libraries."""
        found = [
            (function, options, inline)
            for function, options, inline in _overloads(value)
            if every or not _is_library(function.__module__)
        ]
        self.group(b"W", len(found))
        for function, options, inline in found:
            self.function(function)
            self.options(options)
            self.value(inline, reader=f"the overload {function.__qualname__}")

    # -- functions ----------------------------------------------------------

    def function(self, function):
        if not isinstance(function, types.FunctionType):
            raise Uncacheable(f"{function!r} is not a Python function")
        if id(function) in self._seen:
            self.atom(b"R", self._seen[id(function)][0].to_bytes(8, "little"))
            return
        self._seen[id(function)] = len(self._seen), function
        module = inspect.getmodule(function)
        if function.__module__ is None or module is None or module.__name__[0] == "<":
            # numba loads a cached function by importing its module again.
            raise Uncacheable(
                f"{function.__qualname__} belongs to no importable module (code "
                "run by exec, or by runpy.run_path after the run)"
            )
        self.name(b"F", function)
        names = set()
        self.code(function.__code__, names)
        names = frozenset(names)
        module_globals = function.__globals__
        values = [
            (repr(n), module_globals[n]) for n in sorted(names & module_globals.keys())
        ]
        code = function.__code__
        for name, cell in zip(
            code.co_freevars, function.__closure__ or (), strict=True
        ):
            try:
                values.append((repr(name), cell.cell_contents))
            except ValueError:  # a cell not yet assigned
                raise Uncacheable(
                    f"{function.__qualname__} reads {name} before it is assigned"
                ) from None
        values.append(("its defaults", function.__defaults__))
        keyword_defaults = sorted((function.__kwdefaults__ or {}).items())
        values.append(("its keyword defaults", keyword_defaults))
        self.group(b"v", len(values))
        for name, value in values:
            self.text(b"n", name)
            self.value(value, names, f"{function.__qualname__} reads {name}")

    def code(self, code, names):
        """The bytecode and constants: what numba compiles, without the line
        numbers, so that a function moved in its file is the same."""
        names.update(code.co_names)
        for count in (
            code.co_argcount,
            code.co_posonlyargcount,
            code.co_kwonlyargcount,
            code.co_flags,
        ):
            self.integer(count)
        self.atom(b"B", code.co_code)
        self.atom(b"x", getattr(code, "co_exceptiontable", b""))
        for strings in (
            code.co_names,
            code.co_varnames,
            code.co_freevars,
            code.co_cellvars,
        ):
            self.value(strings)
        self.group(b"k", len(code.co_consts))
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                self.group(b"K", 1)
                self.code(const, names)
            else:
                self.value(const, reader=f"{code.co_name} holds a constant")


class _Collector(bytearray):
    """A sink that keeps the bytes written, to order a set's items by them."""

    def update(self, data):
        self.extend(data)


def _is_namedtuple(cls):
    return issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple)


def _overloads(value):
    """(implementation, jit options, inline) of each ``@overload`` of ``value``."""
    try:
        from numba.core.registry import cpu_target

        context = cpu_target.typing_context
        context.refresh()
        try:
            typ = context.resolve_value_type(value)
        except ValueError:  # "Cannot determine Numba type": no overload
            return []
        found = []
        for template in getattr(typ, "templates", ()):
            function = getattr(template, "_overload_func", None)
            if function is not None:
                found.append(
                    (function, dict(template._jit_options), template._inline._inline)
                )
            elif not _is_library(template.__module__):
                raise Uncacheable(
                    f"{value!r} is typed by the template {template.__qualname__}, "
                    "whose compiled code sklosses cannot fingerprint"
                )
        return found
    except Uncacheable:
        raise
    except Exception as error:  # numba's registry is numba's own business
        raise Uncacheable(
            f"numba's registry of overloads could not be read for {value!r} "
            f"({type(error).__name__}: {error})"
        ) from None
