"""A digest of what numba compiles from a function, for the cache's keys.

numba keys a cached function on its own bytecode and its file's content:
not on the values it freezes into the machine code (the globals it reads,
its closure, its defaults), nor on the helpers it inlines from other
modules. A user's loss edited in either place would load the machine code
of the old one. :func:`fingerprint` hashes all of it, recursively, each
value written as a tag, a length and its bytes, so that two different
values never write the same bytes (``(1, 23)`` is not ``(12, 3)``, ``1`` is
not ``1.0`` nor ``True``); a value it cannot write so is
:class:`Uncacheable`, and the function compiles in memory rather than risk
another's code. :func:`code_digest` keys one function's entries on its code
and defaults, which numba's file name (name and line) does not tell apart.
"""

import enum
import hashlib
import inspect
import struct
import sys
import types
from pathlib import Path

import llvmlite
import numba as nb
import numpy as np
from numba.extending import is_jitted


def _engine_id():
    """A digest of the engine's source: what every compiled function is made of."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


ENGINE_ID = _engine_id()


def canonical_option(option):
    """The repr of an option, the same in every process (sets are sorted)."""
    if isinstance(option, set | frozenset):
        return repr(sorted(option))
    return repr(option)


class Uncacheable(Exception):
    """What makes a function's compiled code impossible to key."""


def code_digest(function):
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
        items = sorted((str(k), canonical_option(v)) for k, v in options.items())
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
