"""The compiled kernels load from numba's disk cache, even from a read-only install."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import sklosses

FIT = textwrap.dedent(
    """
    import importlib.util
    import sys

    import numpy as np

    # Import the copy given as argument, ahead of any installed sklosses.
    init = sys.argv[1]
    spec = importlib.util.spec_from_file_location("sklosses", init)
    sklosses = sys.modules["sklosses"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sklosses)
    from sklosses._engine import _sgd

    X = np.random.default_rng(0).normal(size=(50, 3))
    sklosses.SGDClassifier(max_iter=2, tol=None).fit(X, X[:, 0] > 0)
    print(sklosses.__file__)
    print(len(_sgd.sgd_epoch.stats.cache_hits))
    """
)


def test_kernels_are_cached_when_the_package_directory_is_read_only():
    # numba caches beside the sources when it can write there, and otherwise
    # in the user's cache directory (XDG_CACHE_HOME).
    root = Path(tempfile.mkdtemp())
    try:
        site = root / "site"
        shutil.copytree(
            Path(sklosses.__file__).parent,
            site / "sklosses",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        user_cache = root / "user-cache"
        user_cache.mkdir()
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
        env.update(
            XDG_CACHE_HOME=str(user_cache),
            HOME=str(root),
            PYTHONDONTWRITEBYTECODE="1",
        )
        run = dict(env=env, check=True, capture_output=True, text=True)
        for directory in (site, *site.rglob("*")):
            if directory.is_dir():
                # Root writes through permissions; a file where numba would
                # make its __pycache__ directory stops root too.
                (directory / "__pycache__").touch()
        for path in (site, *site.rglob("*")):
            path.chmod(0o555 if path.is_dir() else 0o444)
        command = [sys.executable, "-c", FIT, str(site / "sklosses" / "__init__.py")]
        first = subprocess.run(command, **run).stdout.split()
        second = subprocess.run(command, **run).stdout.split()
        assert first[0].startswith(str(site))  # the read-only copy ran
        assert int(second[1]) >= 1  # ... and loaded its kernels from the cache
        assert not list(site.rglob("*.nbi"))
        assert list(user_cache.rglob("*.nbi"))
    finally:
        for path in (root, *root.rglob("*")):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(root)
