"""The compiled code loads from a disk cache that cannot break sklosses.

In process: what keys an entry (the options, numba's settings, the engine's
source, a fingerprint of a user's functions), and the recovery from damaged
entries. In fresh processes: a read-only install, no writable location at
all, a user's loss cached across processes and recompiled when edited, and
processes compiling at once, in one scenario that compiles the loop once;
the constants of losses loaded from two caches; numba's internals moved
before sklosses is imported.
"""

import contextlib
import copy
import enum
import functools
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import textwrap
import types
import warnings
from pathlib import Path

import numba
import numba.core.caching as caching
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import sklosses
from sklosses import SGDRegressor
from sklosses._engine import _cache
from sklosses._engine._cache import CacheWarning, cache_in
from sklosses._engine._fingerprint import Uncacheable, fingerprint
from sklosses.losses import Loss


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """Each test sees the warnings that are given once per process, and a
    cache that no failure of numba's has turned off."""
    monkeypatch.setattr(_cache, "_warned", set())
    monkeypatch.setattr(_cache, "_disabled", None)


def _double(x):
    return 2.0 * x


def _sixth(a):
    return a[5]


def cached(function, directory, **options):
    """A new dispatcher for ``function``, as a new process would have."""
    return cache_in(numba.njit(**options)(function), str(directory))


@contextlib.contextmanager
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _damage(directory, how):
    (index,) = directory.glob("*.nbi")
    data = sorted(directory.glob("*.nbc"))
    if how == "truncated index":
        index.write_bytes(index.read_bytes()[:10])
    elif how == "empty index":
        index.write_bytes(b"")
    elif how == "truncated data":
        data[0].write_bytes(data[0].read_bytes()[:-100])
    elif how == "garbled data":
        content = bytearray(data[0].read_bytes())
        middle = len(content) // 2
        content[middle : middle + 16] = bytes(16)
        data[0].write_bytes(bytes(content))
    elif how == "swapped data":  # each signature's file holds the other's code
        first, second = (path.read_bytes() for path in data)
        data[0].write_bytes(second)
        data[1].write_bytes(first)


@pytest.mark.parametrize(
    "how",
    [
        "truncated index",
        "empty index",
        "truncated data",
        "garbled data",
        "swapped data",
    ],
)
def test_a_damaged_entry_is_discarded_and_compiled_again(tmp_path, how):
    first = cached(_double, tmp_path)
    assert first(3.0) == 6.0
    assert first(3) == 6.0  # a second signature, in a second data file
    _damage(tmp_path, how)

    again = cached(_double, tmp_path)
    with pytest.warns(CacheWarning, match="could not be loaded.*compiled again"):
        assert again(3.0) == 6.0
    assert again(3) == 6.0  # once per process: no second warning
    assert list(again.stats.cache_misses.values()) == [1, 1]

    rebuilt = cached(_double, tmp_path)
    with no_warnings():
        assert rebuilt(3.0) == 6.0
    assert list(rebuilt.stats.cache_hits.values()) == [1]


def test_options_and_numba_settings_key_the_entries(tmp_path, monkeypatch):
    # a[5] of a view of two items reads the sixth item of its base array.
    view = np.arange(8.0)[:2]
    monkeypatch.setattr(numba.config, "BOUNDSCHECK", None)
    assert cached(_sixth, tmp_path)(view) == 5.0
    with pytest.raises(IndexError):
        cached(_sixth, tmp_path, boundscheck=True)(view)
    monkeypatch.setattr(numba.config, "BOUNDSCHECK", 1)  # NUMBA_BOUNDSCHECK=1
    with pytest.raises(IndexError):
        cached(_sixth, tmp_path)(view)
    monkeypatch.setattr(numba.config, "BOUNDSCHECK", None)
    unchecked = cached(_sixth, tmp_path)
    assert unchecked(view) == 5.0
    assert unchecked.stats.cache_hits


def test_an_edited_engine_compiles_again(tmp_path, monkeypatch):
    cached(_double, tmp_path)(1.0)
    monkeypatch.setattr(_cache, "ENGINE_ID", "another engine")
    again = cached(_double, tmp_path)
    again(1.0)
    assert again.stats.cache_misses


# Functions numba files under one name: the same qualified name and line,
# and the same bytecode, but for constants or defaults.
_TWICE, _THRICE = (lambda x: 2.0 * x), (lambda x: 3.0 * x)
_BY_TWO, _BY_THREE = (lambda x, c=2.0: c * x), (lambda x, c=3.0: c * x)


@pytest.mark.parametrize(
    "functions",
    [(_TWICE, _THRICE), (_BY_TWO, _BY_THREE)],
    ids=["constants", "defaults"],
)
def test_functions_alike_but_for_constants_keep_their_entries(tmp_path, functions):
    compiled = [cached(function, tmp_path) for function in functions]
    assert [function(1.0) for function in compiled] == [2.0, 3.0]
    loaded = [cached(function, tmp_path) for function in functions]
    assert [function(1.0) for function in loaded] == [2.0, 3.0]
    assert all(function.stats.cache_hits for function in loaded)


def test_without_a_writable_location_functions_compile_in_memory(tmp_path):
    blocked = tmp_path / "a file"
    blocked.touch()
    functions = [cached(f, blocked / "cache") for f in (_double, _sixth)]
    with pytest.warns(CacheWarning, match="cannot cache.*NUMBA_CACHE_DIR") as record:
        assert functions[0](1.0) == 2.0
        assert functions[1](np.arange(8.0)) == 5.0
    assert len(record) == 1
    assert not list(tmp_path.rglob("*.nb*"))


# -- numba's internals, moved ----------------------------------------------


def _raises(*args, **kwargs):
    raise KeyError("moved")  # neither the RuntimeError nor the OSError of old


def _other_arguments(self, path, name, stamp):
    raise AssertionError("numba's own call would fail first")


# Changes a numba release could make to the private classes extended here,
# found when the first function is cached or at a call; and the warning.
UNCACHED = "sklosses cannot cache its compiled code: numba"
MOVED_INTERNALS = {
    "_CacheLocator deleted": (caching, "_CacheLocator", None, UNCACHED),
    "IndexDataCacheFile deleted": (caching, "IndexDataCacheFile", None, UNCACHED),
    "_load_data deleted": (caching.IndexDataCacheFile, "_load_data", None, UNCACHED),
    "FunctionCache raises": (caching.FunctionCache, "__init__", _raises, UNCACHED),
    "IndexDataCacheFile takes other arguments": (
        caching.IndexDataCacheFile,
        "__init__",
        _other_arguments,
        UNCACHED,
    ),
    "_index_key raises": (caching.Cache, "_index_key", _raises, UNCACHED),
    "saving raises": (caching.IndexDataCacheFile, "save", _raises, UNCACHED),
    # What fails in rebuilding an entry is the entry's: it is compiled again.
    "rebuild raises": (
        caching.CompileResultCacheImpl,
        "rebuild",
        _raises,
        "could not be loaded .*KeyError.* compiled again",
    ),
}


@pytest.fixture
def numba_cache_again():
    """numba's cache classes extended anew, for the test and after it."""
    _cache._numba_cache.cache_clear()
    yield
    _cache._numba_cache.cache_clear()


@pytest.mark.parametrize(
    "owner, name, replacement, message",
    MOVED_INTERNALS.values(),
    ids=MOVED_INTERNALS,
)
def test_with_numba_internals_moved_functions_compile_in_memory(
    tmp_path, monkeypatch, numba_cache_again, owner, name, replacement, message
):
    cached(_double, tmp_path)(1.0)  # an entry to load, if loading goes so far
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))  # user losses
    if replacement is None:
        monkeypatch.delattr(owner, name)
    else:
        monkeypatch.setattr(owner, name, replacement)
    _cache._numba_cache.cache_clear()  # as in a process that starts so
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        functions = [cached(f, tmp_path) for f in (_double, _sixth)]
        assert functions[0](1.0) == 2.0
        assert functions[0](1) == 2.0  # a second signature
        assert functions[1](np.arange(8.0)) == 5.0
        directory = _cache.user_cache_directory(_function())
        if directory is not None:  # as a user's loss is compiled
            assert cached(_THRICE, directory)(1.0) == 3.0
    (warning,) = [w for w in record if w.category is CacheWarning]
    assert re.search(message, str(warning.message))


class _UndefinedNameLoss(Loss):
    @staticmethod
    def sample_loss(y, raw, params):
        return undefined_name * raw  # noqa: F821

    @staticmethod
    def sample_gradient(y, raw, params):
        return raw - y


def test_with_numba_internals_moved_a_loss_numba_cannot_compile_says_why(
    monkeypatch, numba_cache_again
):
    # The fallback is for numba's cache; the user's code fails as before.
    monkeypatch.delattr(caching, "_CacheLocator")
    _cache._numba_cache.cache_clear()
    model = SGDRegressor(loss=_UndefinedNameLoss())
    with pytest.warns(CacheWarning, match="cannot cache its compiled code: numba"):
        with pytest.raises(TypeError, match="(?s)numba cannot compile.*undefined"):
            model.fit(np.zeros((4, 2)), np.zeros(4))
    assert not hasattr(model, "coef_")


def test_a_dispatcher_numba_no_longer_lets_cache_is_said_at_once():
    # Without the attribute numba's dispatcher reads its cache from, no
    # compilation would ever warn.
    dispatcher = types.SimpleNamespace(py_func=_double, targetoptions={})
    with pytest.warns(CacheWarning, match="has no _cache"):
        assert cache_in(dispatcher) is dispatcher


# -- the fingerprint of a user's functions ------------------------------------

SOURCE = """
def f(y, raw, params):
    return SCALE * helper(raw - y) + helpers.shift(y)
"""


# The module the functions below belong to, importable as a user's is.
sys.modules.setdefault("user_losses", types.ModuleType("user_losses"))


def _function(source=SOURCE, **namespace):
    namespace = {
        "__name__": "user_losses",
        "SCALE": 1.0,
        "helper": _double,
        "helpers": HELPERS,
        **namespace,
    }
    exec(source, namespace)
    return namespace["f"]


HELPERS = types.ModuleType("helpers")
HELPERS.shift = numba.njit(lambda y: y + 1.0)


def test_the_fingerprint_follows_what_numba_compiles():
    base = fingerprint(_function())
    assert fingerprint(_function()) == base  # a copy, as unpickled by a worker
    assert fingerprint(_function(UNUSED=2)) == base  # globals the code never reads
    assert fingerprint(_function(SOURCE.replace("y)", "y) * 2.0"))) != base
    assert fingerprint(_function(SCALE=2.0)) != base  # a global's value
    assert fingerprint(_function(helper=lambda x: 3.0 * x)) != base  # a helper
    edited = types.ModuleType("helpers")
    edited.shift = numba.njit(lambda y: y + 2.0)
    assert fingerprint(_function(helpers=edited)) != base  # a module's function
    assert fingerprint(_function(SCALE=np.ones(2))) != fingerprint(
        _function(SCALE=np.zeros(2))
    )


def test_closures_and_defaults_are_part_of_the_fingerprint():
    def make(scale, shift=0.0):
        def f(y, raw, params, shift=shift):
            return scale * (raw - y) + shift

        return f

    assert fingerprint(make(1.0)) == fingerprint(make(1.0))
    assert fingerprint(make(2.0)) != fingerprint(make(1.0))
    assert fingerprint(make(1.0, shift=1.0)) != fingerprint(make(1.0))


def test_a_value_that_cannot_be_fingerprinted_is_named():
    with pytest.raises(Uncacheable, match="reads 'SCALE', a dict"):
        fingerprint(_function(SCALE={"a": 1.0}))


@pytest.mark.parametrize("module", [None, "<run_path>", "gone"])
def test_a_function_of_no_importable_module_is_not_cached(module):
    # numba could not load it again: it imports the function's module to
    # rebuild the code's environment.
    namespace = {} if module is None else {"__name__": module}
    exec(SOURCE, namespace)
    with pytest.raises(Uncacheable, match="f belongs to no importable module"):
        fingerprint(namespace["f"])


def _reading(value):
    """The fingerprint of a function that returns the global ``T``."""
    return fingerprint(_function("def f(y, raw, params):\n    return T\n", T=value))


def _same(a, b):
    """Whether numba would freeze ``a`` and ``b`` into the same machine code:
    the same types, nesting and bits (0.0 is not -0.0, a NaN is itself)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray | np.generic):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float | complex):
        return struct.pack("<dd", a.real, a.imag) == struct.pack("<dd", b.real, b.imag)
    return a == b


DTYPES = ["?", "i1", "<i8", ">i8", "u2", "<f4", "<f8", "<c16", "<U2", "|S1"]
SMALL_FLOATS = st.sampled_from([0.0, -0.0, 1.0, 1.5, math.inf, math.nan])
# Small spaces, where two draws are often the same value and, when not, as
# alike as their reprs can be: (1, 23) and (12, 3), 1 and 1.0 and True.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1, 23),
    st.integers(),
    SMALL_FLOATS,
    st.floats(),
    st.builds(complex, SMALL_FLOATS, SMALL_FLOATS),
    st.text("12,3 '(", max_size=3),
    st.binary(max_size=2),
    st.sampled_from(DTYPES).flatmap(
        lambda dtype: hnp.from_dtype(np.dtype(dtype)).map(np.dtype(dtype).type)
    ),
)
ARRAYS = hnp.arrays(
    st.sampled_from(DTYPES),
    hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=2),
)
GLOBALS = st.recursive(
    SCALARS | ARRAYS,
    lambda inner: st.lists(inner, max_size=3).map(tuple) | st.lists(inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None)
@given(GLOBALS, GLOBALS)
@example((1, 23), (12, 3))
@example(((1,), 2), (1, (2,)))
@example(("a", "b"), ("ab",))
@example((1, 2), [1, 2])
@example(1, 1.0)
@example(1, True)
@example(0.0, -0.0)
@example("1", 1)
@example("1", b"1")
@example((), None)
@example(np.int64(1), 1)
@example(np.float32(1.0), np.float64(1.0))
@example(np.array(1.0), np.float64(1.0))
@example(np.zeros(2), np.zeros(2, np.float32))
@example(np.zeros(2), np.zeros((1, 2)))
@example(np.arange(4).reshape(2, 2), np.arange(4).reshape(2, 2).T.copy())
def test_two_values_of_a_global_share_a_fingerprint_only_if_the_same(a, b):
    assert (_reading(a) == _reading(b)) == _same(a, b)
    assert _reading(copy.deepcopy(a)) == _reading(a)  # as unpickled by a worker


def test_an_edited_enum_changes_the_fingerprint():
    colors = [enum.IntEnum("Color", {"RED": red}) for red in (1, 2)]
    red, edited = (_reading(color.RED) for color in colors)
    assert red != edited
    assert _reading(colors[0]) != _reading(colors[1])  # Color.RED, read later


class _Plain:
    pass


@pytest.mark.parametrize(
    "value, named",
    [
        ({"a": 1.0}, "a dict"),
        ({1.0}, "a set"),
        (np.array([None]), "an array of Python objects"),
        (_Plain(), "a _Plain"),
        (_Plain, "the class _Plain"),
        (functools.partial(_double, 1.0), "functools.partial"),
    ],
    ids=["dict", "set", "object array", "object", "class", "partial"],
)
def test_what_the_fingerprint_cannot_encode_is_uncacheable(value, named):
    # Cached under a key that misses what numba compiles from it, an edited
    # value would load the old machine code: such code compiles in memory.
    with pytest.raises(Uncacheable, match=f"f reads 'T'.*{re.escape(named)}"):
        _reading(value)


HELPER_SOURCES = {
    "register_jitable": """
        from numba.extending import register_jitable

        @register_jitable
        def scale(x):
            return 2.0 * x
    """,
    "overload": """
        from numba.extending import overload

        def scale(x):
            raise NotImplementedError

        @overload(scale)
        def _scale(x):
            def implementation(x):
                return 2.0 * x

            return implementation
    """,
    "njit": """
        import numba

        @numba.njit
        def scale(x):
            return 2.0 * x
    """,
    "constant of a helper": """
        from numba.extending import register_jitable

        FACTOR = 2.0

        @register_jitable
        def scale(x):
            return FACTOR * x
    """,
}
HELPER_EDITS = [
    (name, source, source.replace("2.0", "3.0"))
    for name, source in HELPER_SOURCES.items()
] + [
    (
        "register_jitable options",
        HELPER_SOURCES["register_jitable"],
        HELPER_SOURCES["register_jitable"].replace(
            "@register_jitable", "@register_jitable(fastmath=True)"
        ),
    ),
    (
        "njit options",
        HELPER_SOURCES["njit"],
        HELPER_SOURCES["njit"].replace("@numba.njit", "@numba.njit(fastmath=True)"),
    ),
]


@pytest.mark.parametrize("reads", ["scale(x)", "helpers.scale(x)"])
@pytest.mark.parametrize(
    "source, edited",
    [edit[1:] for edit in HELPER_EDITS],
    ids=[edit[0] for edit in HELPER_EDITS],
)
def test_an_edited_helper_of_another_module_changes_the_fingerprint(
    monkeypatch, source, edited, reads
):
    # numba inlines the helper's code into the loss: an entry keyed on the
    # helper's name would load the unedited code.
    def loss(helper_source):
        helpers = types.ModuleType("loss_helpers")
        monkeypatch.setitem(sys.modules, "loss_helpers", helpers)
        exec(textwrap.dedent(helper_source), vars(helpers))
        loss_source = f"def f(y, raw, params):\n    x = raw - y\n    return {reads}\n"
        return _function(loss_source, scale=helpers.scale, helpers=helpers)

    base = fingerprint(loss(source))
    assert fingerprint(loss(source)) == base  # the same code, in another process
    assert fingerprint(loss(edited)) != base
    # The loss is one numba compiles, inlining the helper.
    assert numba.njit(loss(source))(1.0, 2.0, np.empty(0)) == 2.0


# -- in fresh processes ----------------------------------------------------

LOSS = textwrap.dedent(
    """
    from sklosses.losses import Loss

    class TheLoss(Loss):
        @staticmethod
        def sample_loss(y, raw, params):
            return 0.5 * (raw - y) ** 2

        @staticmethod
        def sample_gradient(y, raw, params):
            return raw - y
    """
)
FIT = (
    textwrap.dedent(
        """
    import importlib.util
    import json
    import sys

    import numpy as np

    # Import the copy given as argument, ahead of any installed sklosses.
    init = sys.argv[1]
    spec = importlib.util.spec_from_file_location("sklosses", init)
    sklosses = sys.modules["sklosses"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sklosses)
    from sklosses._engine import _epochs
    from sklosses._engine._kernels import engine_loss
    import user_losses
    """
    )
    + LOSS  # a second TheLoss, in __main__, as in a script or a notebook
    + textwrap.dedent(
        """
    X = np.random.default_rng(0).normal(size=(50, 3))
    sklosses.SGDClassifier(max_iter=2, tol=None).fit(X, X[:, 0] > 0)
    fits = {
        "file": sklosses.__file__,
        "built-in loaded": len(_epochs.sgd_epochs.stats.cache_hits),
    }
    X = np.random.default_rng(0).normal(size=(200, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0]
    for where in sys.argv[2:]:
        loss = {"module": user_losses.TheLoss, "script": TheLoss}[where]()
        model = sklosses.SGDRegressor(loss=loss, max_iter=5, tol=None, random_state=0)
        model.fit(X, y)
        stats = engine_loss(loss).kernels.sgd_epochs.stats  # the entry point
        fits[where] = {
            "coef": model.coef_.tolist(),
            "loaded": sum(stats.cache_hits.values()),
            "compiled": sum(stats.cache_misses.values()),
        }
    print(json.dumps(fits))
    """
    )
)


@pytest.fixture
def read_only_copy():
    """A copy of the package where numba cannot write, in a directory of its
    own, and the environment of a process that imports it."""
    root = Path(tempfile.mkdtemp())
    site = root / "site"
    shutil.copytree(
        Path(sklosses.__file__).parent,
        site / "sklosses",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for directory in (site, *site.rglob("*")):
        if directory.is_dir():
            # Root writes through permissions; a file where numba would
            # make its __pycache__ directory stops root too.
            (directory / "__pycache__").touch()
    for path in (site, *site.rglob("*")):
        path.chmod(0o555 if path.is_dir() else 0o444)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(PYTHONDONTWRITEBYTECODE="1")
    yield site / "sklosses" / "__init__.py", root, env
    for path in (root, *root.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(root)


@pytest.mark.slow
def test_fresh_processes_of_a_read_only_install_compile_once_then_load(
    read_only_copy, tmp_path
):
    # One scenario in fresh processes of a read-only copy of the package,
    # whose compiled code numba caches in the user's cache directory
    # (XDG_CACHE_HOME): the built-in loop is compiled once, by the first
    # process, and loaded by every later one; a user's loss (one in a module,
    # one in __main__) compiles only where compiling is what is checked.
    # Beside the first process, one with no writable location at all
    # compiles everything in memory.
    init, root, base_env = read_only_copy
    home, no_home = root / "home", root / "no home"
    home.mkdir()
    no_home.mkdir()
    user_cache = home / "cache"
    entries = user_cache / "sklosses" / "user-losses"
    writable = dict(base_env, HOME=str(home), XDG_CACHE_HOME=str(user_cache))
    # The usual read-only container: no NUMBA_CACHE_DIR, and neither the
    # package nor the user's cache directory can be written.
    (root / "not a directory").touch()
    nowhere = dict(
        base_env,
        HOME=str(no_home),
        XDG_CACHE_HOME=str(root / "not a directory" / "cache"),
    )
    module = tmp_path / "user_losses.py"
    module.write_text(LOSS)
    script = tmp_path / "fit.py"
    script.write_text(FIT)

    def start(*where, env=writable):
        return subprocess.Popen(
            [sys.executable, str(script), str(init), *where],
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip

    def result(process):
        stdout, stderr = process.communicate()
        assert process.returncode == 0, stderr
        fits = json.loads(stdout)
        assert fits["file"] == str(init)  # the read-only copy ran
        return fits, stderr

    # Cold: the first process compiles the built-in loop and the module's
    # loss and caches them; the second, with nowhere to write, imports and
    # fits compiled in memory, and warns once.
    first, uncached = start("module"), start("module", env=nowhere)
    (first, first_err), (uncached, uncached_err) = map(result, (first, uncached))
    assert first["module"]["compiled"] and not first["module"]["loaded"]
    assert "Warning" not in first_err
    assert uncached["built-in loaded"] == 0
    assert uncached_err.count("CacheWarning") == 1
    assert "cannot cache its compiled code" in uncached_err
    assert "NUMBA_CACHE_DIR" in uncached_err
    (module_entry,) = entries.iterdir()

    # Two processes at once load the built-in loop and the module's loss, and
    # compile the loss of their __main__ at the same moment.
    processes = [start("module", "script") for _ in range(2)]
    (one, one_err), (other, other_err) = map(result, processes)
    for fits in (one, other):
        assert fits["built-in loaded"] >= 1
        assert fits["module"]["loaded"] and not fits["module"]["compiled"]
        assert fits["module"]["coef"] == first["module"]["coef"]
    assert one["script"]["coef"] == other["script"]["coef"]
    assert "Warning" not in one_err + other_err
    (script_entry,) = set(entries.iterdir()) - {module_entry}

    # Their entry is valid: a later process loads it.
    later, later_err = result(start("script"))
    assert later["script"]["loaded"] and not later["script"]["compiled"]
    assert later["script"]["coef"] == one["script"]["coef"]
    assert "Warning" not in later_err

    # Twice the module's loss and its gradient: other steps, another model,
    # in an entry of its own. Every file of the __main__ loss's entry cut in
    # half: that loss compiles again, warns once, and trains the same model.
    module.write_text(
        LOSS.replace("0.5 * ", "").replace("raw - y\n", "2 * (raw - y)\n")
    )
    for path in script_entry.glob("*.nb?"):
        content = path.read_bytes()
        path.write_bytes(content[: len(content) // 2])
    last, last_err = result(start("module", "script"))
    assert last["module"]["compiled"] and not last["module"]["loaded"]
    assert last["module"]["coef"] != first["module"]["coef"]
    assert len(set(entries.iterdir()) - {script_entry}) == 2
    assert last["script"]["compiled"] and not last["script"]["loaded"]
    assert last["script"]["coef"] == one["script"]["coef"]
    assert last_err.count("CacheWarning") == 1
    assert "could not be loaded" in last_err

    # All that was cached is in the user's cache directory: nothing in the
    # package, nor where the process with no writable location looked.
    assert list(user_cache.rglob("*.nbi"))
    assert [p for p in root.rglob("*.nb*") if user_cache not in p.parents] == []


HELPERS_FIRST = textwrap.dedent(
    """
    import json, sys, warnings
    import numpy as np
    from sklosses import SGDRegressor
    from sklosses._engine import _losses, _sgd

    if sys.argv[1] == "helpers":
        # Called from Python, with the signatures the loop calls them with.
        _losses.implicit_derivative(_losses.POISSON, np.ones(1), 1.0, 0.1, 0.5, 0.2)
        _sgd._fold_scale(np.ones((1, 6)), 1.0, np.ones((1, 6)), 0.0, 1.0, True)
        sys.exit()
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    y = rng.poisson(np.exp(X @ rng.normal(size=6) * 0.3)).astype(float)
    fits = {}
    for loss, average in (("poisson", False), ("squared_error", True)):
        model = SGDRegressor(
            loss=loss, average=average, max_iter=2, tol=None, random_state=0
        ).fit(X, y)
        fits[loss] = [float(c).hex() for c in (*model.coef_, *model.intercept_)]
    loaded = lambda f: sum(f.stats.cache_hits.values())
    fits["loaded"] = [loaded(_losses.implicit_derivative), loaded(_sgd._fold_scale)]
    print(json.dumps(fits))
    """
)


@pytest.mark.slow
def test_a_fit_is_the_same_whether_its_helpers_were_compiled_first(tmp_path):
    # numba compiles a function called from another with the caller's
    # fastmath flags, unless it sets its own, and caches it without them in
    # its key: a helper of the loop compiled first from Python (a test
    # calling it) gave every later loop compiled with that cache other
    # steps, in the last bits, than a loop compiled with a fresh cache.
    script = tmp_path / "helpers_first.py"
    script.write_text(HELPERS_FIRST)

    def start(what, cache):
        env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / cache))
        return subprocess.Popen(
            [sys.executable, str(script), what], env=env, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def result(process):
        stdout, stderr = process.communicate()
        assert process.returncode == 0, stderr
        return json.loads(stdout) if stdout else None

    fresh = start("fit", "fresh")
    result(start("helpers", "helpers first"))
    after_helpers = result(start("fit", "helpers first"))
    fresh = result(fresh)
    assert fresh.pop("loaded") == [0, 0]
    assert after_helpers.pop("loaded") == [1, 1]  # the helpers' entries served
    assert after_helpers == fresh


ENVIRONMENTS = textwrap.dedent(
    """
    import itertools, json, sys
    import numpy as np
    from numba.core.bytecode import FunctionIdentity
    from sklosses._engine._kernels import engine_loss
    from sklosses.losses import HuberLoss
    from user_losses import TheLoss

    x = np.zeros(3)
    for name in sys.argv[1:]:
        loss = {"builtin": HuberLoss(), "user": TheLoss()}[name]
        kernels, kind, params = engine_loss(loss)  # compiles a user's functions
        # The same counter in every process: what numba names a compiled
        # function's environment after, besides the function's own name.
        FunctionIdentity._unique_ids = itertools.count(10_000)
        values = kernels.loss_values(kind, params, x, x + 1.0, np.empty(3))
        values = values.tolist()
        (compiled,) = kernels.loss_values.overloads.values()
        print(json.dumps([values, compiled.fndesc.env_name]))
    """
)


@pytest.mark.slow
def test_losses_loaded_from_two_caches_keep_their_own_constants(tmp_path):
    # numba names a compiled function's environment (the constants its code
    # reads) after its module, name and a per-process counter. A built-in's
    # loss_values and a user loss's, compiled in two processes whose counters
    # agreed, would share one environment once loaded into a third: the user's
    # then read the built-in's constants ("descr is NULL" on returning an
    # array). A user loss's functions have names of their own.
    (tmp_path / "user_losses.py").write_text(LOSS)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # the user's losses
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba")  # the built-in ones
    script = tmp_path / "environments.py"
    script.write_text(ENVIRONMENTS)

    def run(*names):
        process = subprocess.run(
            [sys.executable, str(script), *names],
            env=env, cwd=tmp_path, capture_output=True, text=True,
        )  # fmt: skip
        assert process.returncode == 0, process.stderr
        return [json.loads(line) for line in process.stdout.splitlines()]

    (builtin,), (user,) = run("builtin"), run("user")
    assert builtin[1] != user[1]
    assert run("builtin", "user") == [builtin, user]  # both loaded from caches


MOVED_BEFORE_IMPORT = textwrap.dedent(
    """
    import json
    import sys
    import warnings

    import numba.core.caching as caching
    import numpy as np

    def raises(*args, **kwargs):
        raise TypeError("moved")

    move = sys.argv[1]
    if move == "_CacheLocator renamed":
        caching._Locator = caching._CacheLocator
        del caching._CacheLocator
    elif move == "FunctionCache raises":
        caching.FunctionCache.__init__ = raises
    elif move == "IndexDataCacheFile deleted":
        del caching.IndexDataCacheFile

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        import sklosses
        from user_losses import TheLoss

        X = np.random.default_rng(0).normal(size=(100, 3))
        y = X @ [1.0, -2.0, 0.5]
        fits = [
            sklosses.SGDRegressor(loss=loss, max_iter=5, tol=None, random_state=0)
            .fit(X, y)
            .coef_.tolist()
            for loss in ("squared_error", TheLoss())
        ]
    messages = [str(w.message) for w in record if w.category.__name__ == "CacheWarning"]
    print(json.dumps({"coef": fits, "warnings": messages}))
    """
)


@pytest.mark.slow
def test_with_numba_internals_moved_before_import_sklosses_trains_uncached(
    tmp_path,
):
    # A numba release without the classes extended here, or with other ones:
    # the import and the fits, built-in and user's loss, work as before,
    # compiled in memory, with one warning.
    (tmp_path / "user_losses.py").write_text(LOSS)
    script = tmp_path / "moved.py"
    script.write_text(MOVED_BEFORE_IMPORT)
    isolated = dict(os.environ)
    isolated.update(
        NUMBA_CACHE_DIR=str(tmp_path / "numba"), XDG_CACHE_HOME=str(tmp_path / "xdg")
    )

    def start(move, env):
        return subprocess.Popen(
            [sys.executable, str(script), move],
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip

    moves = [
        "_CacheLocator renamed",
        "FunctionCache raises",
        "IndexDataCacheFile deleted",
    ]
    # The reference loads from this process's caches, as a fit normally does.
    processes = [start("nothing", dict(os.environ))]
    processes += [start(move, isolated) for move in moves]
    results = []
    for process in processes:
        stdout, stderr = process.communicate()
        assert process.returncode == 0, stderr
        results.append(json.loads(stdout))
    reference, *moved = results
    for move, result in zip(moves, moved, strict=True):
        assert result["coef"] == reference["coef"], move
        (warning,) = result["warnings"]
        assert "cannot cache its compiled code: numba" in warning, move
    assert not list(tmp_path.rglob("*.nb*"))
