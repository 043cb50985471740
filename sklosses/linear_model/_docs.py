"""Docstring entries the two estimators share, written once.

A docstring names an entry as ``%(name)s`` alone on a line, indented as the
entry should be; :func:`fill_doc` puts the entry there, each of its lines
indented alike (the pattern of SciPy's ``doccer`` and MNE's ``fill_doc``).
"""

import re
import textwrap

DOCS = {
    "penalty": """
penalty : {"l2", "l1", "elasticnet", None}, default="l2"
    The regularization term.""",
    "alpha": """
alpha : float, default=0.0001
    Constant that multiplies the regularization term; also sets the step
    size of ``learning_rate="optimal"``.""",
    "l1_ratio": """
l1_ratio : float or None, default=0.15
    Elastic-net mixing: 0 is pure L2, 1 pure L1. Only used with
    ``penalty="elasticnet"``.""",
    "max_iter_tol_shuffle_verbose": """
max_iter : int, default=1000
    Maximum number of epochs (passes over the data) in ``fit``.
tol : float or None, default=1e-3
    Training stops when the watched quantity (the training objective,
    or the validation score with ``early_stopping``) has not improved by
    ``tol`` for ``n_iter_no_change`` consecutive epochs. With
    ``learning_rate="auto"`` it is relative: training stops once the
    objective is within about ``tol`` times its value of its minimum
    (estimated as its last decrease times the epochs run). ``None``
    never stops early.
shuffle : bool or {"blocks", "permutation"}, default=True
    The order of the samples in each epoch. True, or "blocks", visits
    random blocks of 16 consecutive samples, 16 blocks at a time and 8
    samples of each in turn: as good as a random permutation for SGD, even
    on data sorted by class, at a third of its cost on large data; data
    under 16 MiB, which stays in cache, is permuted instead.
    "permutation" visits a fresh random permutation, as scikit-learn
    does. False visits the samples in order.
verbose : int, default=0
    Print one line per epoch when positive.""",
    "random_state": """
random_state : int, RandomState instance or None, default=None
    Seeds the shuffling and the validation split. Equal seeds and data
    give bit-identical coefficients.""",
    "auto": """
``"auto"``, recommended, needs no tuning: averaged SGD (Bach &
Moulines, 2013) with steps sized for ``R^2``, the 90th percentile of
the rows' weighted squared norms: a constant ``1 / (2 L R^2)`` for a
loss of smoothness ``L``, steps decreasing as ``1 / sqrt(t)`` for
losses whose gradient jumps (hinge, absolute, quantile,
epsilon-insensitive). Rows heavier than ``R^2`` are visited several
times per epoch, each visit with its share of their weight, so that
no step overshoots and the objective stays the same. The fit
watches the training objective of the average, which restarts when
it lags, and stops once that objective is estimated within ``tol``
of its minimum; a regression starts from the best constant.
``eta0`` and ``power_t`` are ignored. It lands within 1% of the
optimum in one epoch on the benchmark's problems of 100,000 rows and
in one to four on small datasets, and within 2% of the
exact optimum's held-out loss on every fold of ten real tables.
``partial_fit`` derives the step from its first batch.""",
    "n_iter_no_change": """
n_iter_no_change : int, default=5
    Epochs without improvement before stopping.""",
    "warm_start_average": """
warm_start : bool, default=False
    Start ``fit`` from the previous solution.
average : bool or int, default=False
    Average the weights over the steps (Polyak-Ruppert averaging), from
    the start when ``True``, from the given sample count otherwise. The
    classic way to make non-smooth losses (absolute, quantile) converge.""",
    "n_partitions": """
n_partitions : int, default=1
    Local SGD (Zinkevich et al. 2010; Lin et al. 2018): each round of
    visits is split into this many shares, each trains its own copy of the
    model by plain SGD, and the copies are averaged, weighted by their
    visits; the next round starts from the average. Threads run the shares
    on as many cores (see ``n_jobs``): 2 made an epoch of large tables 1.2
    to 1.8 times faster on two cores. A parameter of the algorithm: the
    coefficients depend on it, never on ``n_jobs``. 1 is sequential SGD;
    partitions beyond the rows of a round have no share and cost nothing.""",
    "common_attributes": """
t_ : float
    Number of weight updates performed, plus one.
n_features_in_ : int
    Number of features seen during ``fit``.
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Feature names, when ``X`` has string column names.
loss_ : Loss
    The loss object trained on.""",
    "validation_loss_curve_": """
validation_loss_curve_ : list of float
    With ``early_stopping``: the mean loss on the validation split per
    epoch.""",
    "best_epoch_": """
best_epoch_ : int
    With ``early_stopping``, the epoch (counted from 1 over the curves)
    of the best validation score, from which early stopping counted
    ``n_iter_no_change``; otherwise the epoch of the lowest training
    objective in ``loss_curve_``. The coefficients are those of the last
    epoch, as in scikit-learn.""",
    "X_fit": """
X : {array-like, sparse matrix} of shape (n_samples, n_features)
    Training data. C-ordered float64/float32 arrays and CSR matrices
    are used in place, without a copy.""",
    "X_batch": """
X : {array-like, sparse matrix} of shape (n_samples, n_features)
    A batch of training data.""",
    "X_predict": """
Parameters
----------
X : {array-like, sparse matrix} of shape (n_samples, n_features)
    Samples.""",
    "returns_fitted": """
Returns
-------
self : object
    The fitted estimator.""",
    "returns_updated": """
Returns
-------
self : object
    The updated estimator.""",
}

_PLACEHOLDER = re.compile(r"^( *)%\((\w+)\)s$", re.MULTILINE)


def fill_doc(obj):
    """Fill the ``%(name)s`` lines of ``obj``'s docstring with :data:`DOCS`."""

    def entry(match):
        indent, name = match.groups()
        return textwrap.indent(DOCS[name].strip("\n"), indent)

    obj.__doc__ = _PLACEHOLDER.sub(entry, obj.__doc__)
    return obj
