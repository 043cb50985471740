"""Scorers that match the losses, built with :func:`sklearn.metrics.make_scorer`.

Like scikit-learn's ``neg_*`` scorers they return the negated metric, so that
greater is better in model selection.
"""

from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import (
    log_loss,
    make_scorer,
    mean_absolute_error,
    root_mean_squared_error,
)

from .losses import get_loss, loss_names
from .metrics import loss_metric

# name -> (metric, make_scorer's other arguments). get_scorer makes a new
# scorer from them each time, as scikit-learn's returns a copy: a scorer is
# mutable (set_score_request), and one caller's changes must not reach others.
_SCORERS = {
    "rmse": (root_mean_squared_error, {}),
    "mae": (mean_absolute_error, {}),
    "log_loss": (log_loss, {"response_method": "predict_proba"}),
}


def _make_named_scorer(name):
    metric, kwargs = _SCORERS[name]
    return make_scorer(metric, greater_is_better=False, **kwargs)


rmse_scorer = _make_named_scorer("rmse")
mae_scorer = _make_named_scorer("mae")
log_loss_scorer = _make_named_scorer("log_loss")


def make_loss_scorer(loss, *, epsilon=None):
    """Make a scorer from the metric that matches ``loss``.

    The scorer asks the estimator for the response the loss's metric takes:
    ``predict`` for regression losses, ``predict_proba`` for the log loss,
    ``decision_function`` for margin losses (hinge, squared hinge, modified
    Huber, perceptron). It returns the negated metric (greater is better).

    Parameters
    ----------
    loss : str or Loss
        A loss name (see :func:`sklosses.losses.loss_names`) or object.
    epsilon : float, default=None
        Threshold for ``"huber"`` and the epsilon-insensitive losses given by
        name, as the estimators' ``epsilon``; ``None`` keeps the default.

    Returns
    -------
    scorer : callable
        A scikit-learn scorer ``scorer(estimator, X, y, sample_weight=None)``.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklosses.losses import HuberLoss
    >>> from sklosses.scorers import make_loss_scorer
    >>> X, y = load_diabetes(return_X_y=True)
    >>> scorer = make_loss_scorer(HuberLoss(delta=10.0))
    >>> scores = cross_val_score(Ridge(), X, y, scoring=scorer, cv=3)
    >>> bool((scores < 0).all())
    True
    """
    loss = get_loss(loss, epsilon=epsilon)
    return make_scorer(
        loss_metric,
        greater_is_better=False,
        response_method=loss.response_method,
        loss=loss,
    )


def get_scorer(scoring):
    """Get a scorer by name: sklosses's names first, then scikit-learn's.

    Parameters
    ----------
    scoring : str or callable
        ``"rmse"``, ``"mae"``, ``"log_loss"``, any loss name (its matching
        scorer, see :func:`make_loss_scorer`), or a name or callable that
        :func:`sklearn.metrics.get_scorer` accepts.

    Returns
    -------
    scorer : callable
        A fresh copy, safe to modify.

    Examples
    --------
    >>> from sklosses.scorers import get_scorer
    >>> get_scorer("rmse")  # doctest: +NORMALIZE_WHITESPACE
    make_scorer(root_mean_squared_error, greater_is_better=False,
                response_method='predict')
    """
    if isinstance(scoring, str):
        if scoring in _SCORERS:
            return _make_named_scorer(scoring)
        if scoring in loss_names():
            return make_loss_scorer(scoring)
    try:
        return _sklearn_get_scorer(scoring)
    except ValueError:
        raise ValueError(
            f"{scoring!r} is not a valid scoring value. Use one of sklosses's "
            f"scorers {sorted(_SCORERS)}, a loss name from {loss_names()}, or "
            "a scikit-learn scorer name (sklearn.metrics.get_scorer_names())."
        ) from None
