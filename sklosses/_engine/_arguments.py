"""What the engine's functions take, grouped by what it is.

The SGD loop reads about thirty values: the rows, the model it updates, the
rule of each step, the plan of the epochs and the progress of the run. Passed
one by one, a new flag was six edits and a swap of two floats would have
run. Here they travel as five named tuples, which numba compiles as
structures whose fields it reads by name (jitclasses would do as well, but
numba cannot cache them across processes).

numba types a named tuple argument in Python, about a microsecond each call,
where a plain array or number costs a few dozen nanoseconds: the groups cost
about 4 us per call of the engine, a few percent of a ``partial_fit`` on a
small batch (benchmarks/README.md, "Streaming"). A structured NumPy record
costs more (1.5 us), so the progress is a named tuple too, handed back by
each call.
"""

from typing import NamedTuple

import numpy as np


class Rows(NamedTuple):
    """The training rows, read only.

    ``data``: a dense C-ordered ``X`` flattened, or a CSR matrix's ``data``;
    ``indices`` and ``indptr``: the CSR matrix's, None for dense rows;
    ``y``: the encoded targets (-1/+1 or 0/1, class indices for the softmax,
    values for a regression); ``sample_weight``: the weight of each visit of
    a row.
    """

    data: np.ndarray
    indices: np.ndarray | None
    indptr: np.ndarray | None
    n_features: int
    y: np.ndarray
    sample_weight: np.ndarray


class Model(NamedTuple):
    """The arrays SGD updates in place, one row (and intercept) per output.

    ``avg_coef`` has no columns, and ``avg_intercept`` is unused, without
    averaging; ``l1_q``, the L1 penalty each weight has received so far
    (Tsuruoka et al.), has none without an L1 penalty.
    """

    coef: np.ndarray
    intercept: np.ndarray
    avg_coef: np.ndarray
    avg_intercept: np.ndarray
    l1_q: np.ndarray


class Rule(NamedTuple):
    """How each visit steps: the loss, the penalty and the schedule.

    ``kind`` and ``loss_params``: the loss's kernel (see ``_losses.py``);
    ``multinomial``: the softmax over the rows of ``coef``; ``penalty``,
    ``alpha`` (per visit) and ``l1_ratio``; ``learning_rate`` (``CONSTANT``
    ... ``PA2`` of ``_sgd.py``), ``eta0``, ``power_t`` and ``optimal_init``
    (Bottou's offset of the optimal schedule); ``intercept_decay``: the scale
    of the intercept's steps (0.01 for sparse rows, as scikit-learn).
    """

    kind: int
    loss_params: np.ndarray
    multinomial: bool
    penalty: int
    alpha: float
    l1_ratio: float
    learning_rate: int
    eta0: float
    power_t: float
    optimal_init: float
    fit_intercept: bool
    intercept_decay: float


class Plan(NamedTuple):
    """The epochs: which rows each visits, in what order, and when to stop.

    ``train``: the rows every epoch visits; ``repeats``: rows visited again
    (``learning_rate="auto"`` splits heavy rows into several visits);
    ``shuffling``: ``IN_ORDER``, ``PERMUTATION`` or ``BLOCKS`` (see
    ``_order.py``); ``tol`` (``-inf``: never stalled) and
    ``n_iter_no_change``: the stopping rule's; ``watch_objective``: whether
    the stopping rule watches the training objective of each epoch, or
    something the estimator computes after it (a validation score).
    """

    train: np.ndarray
    repeats: np.ndarray
    shuffling: int
    tol: float
    n_iter_no_change: int
    watch_objective: bool


class Progress(NamedTuple):
    """Where a run is, handed from one call of the engine to the next.

    ``t``: steps taken plus one; ``l1_u``: the L1 penalty accumulated per
    weight; ``eta``: the step of the constant and adaptive schedules;
    ``average``: the step the average counts from (0: no averaging);
    ``best`` and ``no_improvement``: the stopping rule's (see ``stop_rule``).
    """

    t: float
    l1_u: float
    eta: float
    average: int
    best: float
    no_improvement: int
