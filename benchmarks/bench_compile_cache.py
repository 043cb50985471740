"""What a new process pays before its first fit: the compile cache.

Every number comes from fresh Python processes, each pointed at a cache
directory of this run (``NUMBA_CACHE_DIR``): an empty one for the rows that
say so, else one a first process filled. The kinds of process alternate, and
each cell is the median of ``--runs`` processes.

    python benchmarks/bench_compile_cache.py            # about 3 minutes
    python benchmarks/bench_compile_cache.py --quick    # tiny sizes, a smoke run
"""

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np

# A user's loss defined in the script itself (``__main__``), as in a
# notebook; joblib's workers get it by value.
CAUCHY_LOSS = textwrap.dedent(
    """
    import math
    from sklosses.losses import Loss

    class CauchyLoss(Loss):
        is_convex = False

        def __init__(self, scale=1.0):
            self.scale = scale

        @staticmethod
        def sample_loss(y, raw, params):
            r = (raw - y) / params[0]
            return 0.5 * params[0] ** 2 * math.log1p(r * r)

        @staticmethod
        def sample_gradient(y, raw, params):
            r = (raw - y) / params[0]
            return params[0] * r / (1.0 + r * r)
    """
)

# import + the first fit on 1,000 x 20.
FIRST_FIT = textwrap.dedent(
    """
    import time
    start = time.perf_counter()
    import numpy as np
    from sklosses import SGDRegressor
    {define_loss}
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 20))
    SGDRegressor(loss={loss}, random_state=0).fit(X, X @ rng.normal(size=20))
    print(time.perf_counter() - start)
    """
)

# Two searches in one process: the second reuses joblib's pool of workers.
SEARCH = textwrap.dedent(
    """
    import time
    import numpy as np
    from sklearn.model_selection import GridSearchCV
    from {module} import SGDRegressor
    {define_loss}
    rng = np.random.default_rng(0)
    X = rng.normal(size=({n_samples}, 20))
    y = X @ rng.normal(size=20) + rng.standard_t(2, size={n_samples})
    model = SGDRegressor(loss={loss}, random_state=0, **{params})
    for _ in range(2):
        start = time.perf_counter()
        GridSearchCV(model, {grid}, cv=3, n_jobs={n_jobs}).fit(X, y)
        print(time.perf_counter() - start)
    """
)


def seconds(script, cache):
    """What ``script`` prints, run in a fresh process caching in ``cache``."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, check=True, capture_output=True
    )
    return [float(line) for line in run.stdout.split()]


def medians(scripts, runs, cache):
    """Each script ``runs`` times, alternating; the medians of what they print."""
    times = {name: [] for name in scripts}
    for _ in range(runs):
        for name, script in scripts.items():
            times[name].append(seconds(script, cache))
    return {name: np.median(t, axis=0) for name, t in times.items()}


def first_fits(runs, cache):
    scripts = {
        "built-in": FIRST_FIT.format(define_loss="", loss="'squared_error'"),
        "user": FIRST_FIT.format(define_loss=CAUCHY_LOSS, loss="CauchyLoss()"),
    }
    # Each kind's first cold process fills a directory of its own, which
    # its warm processes then read: compiling is most of this benchmark.
    filled = {name: os.path.join(cache, name) for name in scripts}
    cold = {name: [] for name in scripts}
    for run in range(runs):
        for name, script in scripts.items():
            if run == 0:
                cold[name].append(seconds(script, filled[name])[0])
                continue
            with tempfile.TemporaryDirectory() as empty:
                cold[name].append(seconds(script, empty)[0])
    warm = {
        name: medians({name: script}, runs, filled[name])[name]
        for name, script in scripts.items()
    }
    print("| import + first fit, 1,000 x 20, seconds | built-in loss | user's loss |")
    print("|---|---|---|")
    builtin, user = (np.median(t) for t in cold.values())
    print(f"| cache empty | {builtin:.2f} | {user:.2f} |")
    builtin, user = (t[0] for t in warm.values())
    print(f"| cache warm | {builtin:.2f} | {user:.2f} ({user - builtin:+.2f}) |")


def searches(runs, cache, n_samples, epochs, libraries=("sklosses", "scikit-learn")):
    grids = {
        "sklosses, user's Cauchy loss": (
            "sklosses",
            CAUCHY_LOSS,
            "CauchyLoss()",
            {"loss__scale": [0.5, 1.0, 2.0, 4.0]},
        ),
        "scikit-learn, Huber loss": (
            "sklearn.linear_model",
            "",
            "'huber'",
            {"epsilon": [0.5, 1.0, 2.0, 4.0]},
        ),
    }
    print(
        f"| GridSearchCV, 4 candidates x 3 folds, {n_samples:,} x 20 "
        "| n_jobs=1 | n_jobs=2, new pool | n_jobs=2, pool reused |"
    )
    print("|---|---|---|---|")
    for max_iter in epochs:
        params = {} if max_iter is None else {"max_iter": max_iter, "tol": None}
        setting = "default stopping" if max_iter is None else "200 epochs"
        for name, (module, define_loss, loss, grid) in grids.items():
            if not name.startswith(libraries):
                continue
            scripts = {
                n_jobs: SEARCH.format(
                    module=module,
                    define_loss=define_loss,
                    loss=loss,
                    params=params,
                    grid=grid,
                    n_jobs=n_jobs,
                    n_samples=n_samples,
                )
                for n_jobs in (1, 2)
            }
            times = medians(scripts, runs, cache)
            one, (fresh, reused) = times[1][0], times[2]
            print(
                f"| {name}, {setting} | {one:.2f} | {fresh:.2f} ({one / fresh:.2f}x) "
                f"| {reused:.2f} ({times[1][1] / reused:.2f}x) |"
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as cache:
        first_fits(runs, cache)
        print()
        # The user's loss is compiled in there already.
        cache = os.path.join(cache, "user")
        if args.quick:
            # scikit-learn's rows only time scikit-learn: 4 processes fewer.
            searches(
                runs, cache, n_samples=600, epochs=(None,), libraries=("sklosses",)
            )
        else:
            searches(runs, cache, n_samples=20_000, epochs=(None, 200))


if __name__ == "__main__":
    main()
