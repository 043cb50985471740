"""Data-parallel SGD on dask collections, by iterative parameter mixing.

Needs the ``dask`` extra (``pip install "sklosses[dask]"``). Each epoch, every
partition of the data runs one epoch of SGD (``partial_fit``) from the
current model, as a dask task wherever dask schedules it (a
``dask.distributed`` cluster when a client is active); the models are then
averaged, weighted by the partitions' sizes (Zinkevich et al., 2010;
McDonald et al., 2010). The result is an ordinary fitted sklosses estimator.

When it helps: many partitions of a large dataset that would not fit on one
machine, or whose reading dominates. What it costs: each epoch ships the
model to every partition and back (small for a linear model) and waits for
the slowest partition; averaging K models trained on 1/K of the data each
converges more slowly per epoch than one model seeing all of it, so it
needs a few more epochs than single-process SGD.
"""

import copy

import numpy as np
from sklearn.base import clone, is_classifier


def fit_distributed(estimator, X, y, *, epochs=5, classes=None):
    """Train ``estimator`` on dask data partitioned across workers.

    Parameters
    ----------
    estimator : SGDClassifier or SGDRegressor
        The model to train; it is cloned, not modified.
        ``learning_rate="auto"`` is recommended: every partition then derives
        the same kind of step from its own rows.
    X : dask array or dask DataFrame of shape (n_samples, n_features)
        Partitioned by rows; each row block is one task per epoch.
    y : dask array or dask Series of shape (n_samples,)
        Targets, partitioned like ``X`` (rechunked to match if needed).
    epochs : int, default=5
        Rounds of (one epoch per partition, then averaging).
    classes : array-like, default=None
        All class labels, for a classifier (each partition may lack some);
        computed from ``y`` when ``None``.

    Returns
    -------
    estimator : a fitted clone of ``estimator``
        With ``loss_curve_`` holding, per round, the partitions' mean
        training objective.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklosses import SGDRegressor
    >>> from sklosses.dask import fit_distributed
    >>> rng = da.random.RandomState(0)
    >>> X = rng.normal(size=(4000, 3), chunks=(1000, 3))
    >>> y = X @ [1.0, 2.0, 3.0]
    >>> model = fit_distributed(SGDRegressor(learning_rate="auto"), X, y, epochs=3)
    >>> model.coef_.round(2)
    array([1., 2., 3.])
    """
    import dask

    X, y = _as_arrays(X, y)
    if is_classifier(estimator) and classes is None:
        classes = np.unique(y.compute())
    X = X.rechunk({1: -1})
    y = y.rechunk((X.chunks[0],))
    sizes = np.asarray(X.chunks[0], dtype=float)
    parts = list(zip(X.to_delayed().ravel(), y.to_delayed().ravel(), strict=True))
    fit_params = {"classes": classes} if is_classifier(estimator) else {}

    model = clone(estimator)
    for _ in range(epochs):
        models = dask.compute(
            *[dask.delayed(_one_epoch)(model, Xp, yp, fit_params) for Xp, yp in parts]
        )
        model = _mix(models, sizes)
    return model


def _as_arrays(X, y):
    # Partition lengths from the arrays' own graphs: a column read alone from
    # Parquet may come in fewer, larger partitions than the frame it came
    # from, which to_dask_array(lengths=True) refuses (dask 2026.8).
    if hasattr(X, "to_dask_array"):  # dask DataFrame or Series
        X = X.to_dask_array().compute_chunk_sizes()
    if hasattr(y, "to_dask_array"):
        y = y.to_dask_array().compute_chunk_sizes()
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X must be 2-D and y 1-D with as many rows; got shapes {X.shape} "
            f"and {y.shape}."
        )
    return X, y


def _one_epoch(model, X, y, fit_params):
    # A copy: the threaded scheduler hands every task the same object.
    return copy.deepcopy(model).partial_fit(X, y, **fit_params)


def _mix(models, sizes):
    """The partitions' models averaged, weighted by their sizes."""
    weights = sizes / sizes.sum()
    states = [model.get_model_state() for model in models]
    mixed = copy.deepcopy(models[0])
    mixed.set_model_state(
        {
            name: sum(w * state[name] for w, state in zip(weights, states, strict=True))
            for name in states[0]
        }
    )
    mixed.loss_curve_[-1] = float(
        sum(w * m.loss_curve_[-1] for w, m in zip(weights, models, strict=True))
    )
    return mixed
