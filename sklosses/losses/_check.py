"""check_loss: the loss counterpart of scikit-learn's check_estimator."""

import weakref

import numpy as np
from sklearn.base import clone

from .._engine._kernels import engine_loss
from ._base import Loss
from ._link import LINKS, TARGET_DOMAINS, Interval, Link

# Targets in each encoding, and raw predictions to evaluate them at.
REGRESSION_TARGETS = (-2.5, -1.0, -0.4, 0.0, 0.7, 1.0, 3.1)
ENCODED_LABELS = {"signed": (-1.0, 1.0), "binary": (0.0, 1.0)}
# Offset from round numbers, where the built-in losses have their kinks.
RAW_GRID = np.linspace(-6.0, 6.0, 241) + 0.0123
RAW_EXTREMES = np.concatenate([-np.logspace(6, -6, 25), [0.0], np.logspace(-6, 6, 25)])
# With a log link, mu = exp(raw) overflows beyond |raw| = 709: the loss is
# checked where mu spans every plausible mean, from 2e-22 to 5e21.
LOG_LINK_RAW_LIMIT = 50.0
STEP = 1e-6
# The same tolerances as the built-in losses' own tests.
GRADIENT_RTOL = GRADIENT_ATOL = 1e-5


# The parameters each loss class passed check_loss with, in this process.
_PASSED = weakref.WeakKeyDictionary()


def check_loss_once(loss):
    """:func:`check_loss`, run once per loss class and parameters.

    The estimators check a user's loss on every ``fit`` and ``partial_fit``;
    a stream of small batches would otherwise run the check on each.
    """
    passed = _PASSED.setdefault(type(loss), set())
    params = loss.kernel_params()
    if params not in passed:
        check_loss(loss)
        passed.add(params)


def check_loss(loss):
    """Check that a loss keeps the contract the SGD estimators rely on.

    The loss counterpart of :func:`sklearn.utils.estimator_checks.check_estimator`,
    for user-defined losses in particular (the estimators run it before
    training one). It checks that:

    - the user's functions read no further than the ``params`` they get
      (compiled with bounds checks for this; the SGD loop has none);
    - the gradient agrees with central finite differences of the loss,
      wherever the loss is smooth (points where one-sided differences
      disagree hold a kink and are skipped);
    - loss and gradient are finite for raw predictions from -1e6 to 1e6
      (from -50 to 50 with a log link, where ``exp(raw)`` spans 2e-22 to
      5e21);
    - the loss is non-negative if ``is_nonnegative``, its gradient
      non-decreasing in ``raw`` if ``is_convex``, changing no faster than
      ``smoothness`` when that is set, and bounded if ``is_lipschitz``;
    - the vectorized :meth:`~Loss.loss` and :meth:`~Loss.gradient` agree with
      the compiled per-sample functions that SGD trains with;
    - parameters survive :func:`~sklearn.base.clone` and ``set_params``;
    - the declared ``task``, ``label_encoding``, ``link`` and
      ``target_domain`` are valid (a log link only for regression), and a
      probabilistic loss maps raw predictions to probabilities in [0, 1],
      non-decreasing.

    Targets are taken in the loss's encoding: a few real values in its
    ``target_domain`` for regression losses (including -1 and +1, on which
    a classifier trains those of the whole real line), the two encoded
    labels for classification losses.

    Parameters
    ----------
    loss : Loss
        The loss instance to check.

    Raises
    ------
    TypeError
        If ``loss`` is not a :class:`Loss` or numba cannot compile it.
    ValueError
        Listing every failed check of the first group that fails: the
        declarations (``task``, ``label_encoding``), then the parameters,
        then the values (the later groups rely on the earlier ones).

    Examples
    --------
    >>> from sklosses.losses import HuberLoss, Loss, check_loss
    >>> check_loss(HuberLoss(delta=0.5))
    >>> class WrongSquaredLoss(Loss):
    ...     @staticmethod
    ...     def sample_loss(y, raw, params):
    ...         return (raw - y) ** 2
    ...
    ...     @staticmethod
    ...     def sample_gradient(y, raw, params):
    ...         return raw - y  # should be 2 * (raw - y)
    >>> check_loss(WrongSquaredLoss())
    Traceback (most recent call last):
    ...
    ValueError: WrongSquaredLoss() fails 1 check of check_loss:
    - gradient: does not match finite differences of the loss at 1687 of 1687
      smooth points; worst at y=3.1, raw=-5.9877: gradient -9.0877, finite
      differences -18.175.
    """
    if not isinstance(loss, Loss):
        raise TypeError(
            f"check_loss takes a sklosses.losses.Loss instance, got {loss!r}."
        )
    problems = _check_declarations(loss)
    if not problems:
        problems = _check_parameters(loss)
    if not problems:
        problems = _check_values(loss)
    if problems:
        n = len(problems)
        lines = "\n".join(f"- {problem}" for problem in problems)
        raise ValueError(
            f"{loss!r} fails {n} check{'s' * (n > 1)} of check_loss:\n{lines}"
        )


def _check_declarations(loss):
    problems = []
    if loss.task not in ("regression", "classification"):
        problems.append(
            f"task: must be 'regression' or 'classification', got {loss.task!r}."
        )
    if loss.label_encoding not in ENCODED_LABELS:
        problems.append(
            "label_encoding: must be 'signed' (-1/+1) or 'binary' (0/1), got "
            f"{loss.label_encoding!r}."
        )
    if not isinstance(loss.link, Link):
        problems.append(f"link: must be one of {tuple(LINKS)}, got {loss.link!r}.")
    elif not loss.link.is_identity and loss.task != "regression":
        problems.append(
            f"link: a {loss.link} link is for regression losses; a "
            "classification loss maps raw scores to probabilities with "
            "inverse_link."
        )
    if not isinstance(loss.target_domain, Interval):
        problems.append(
            f"target_domain: must be one of {tuple(TARGET_DOMAINS)}, got "
            f"{loss.target_domain!r}."
        )
    return problems


def _check_parameters(loss):
    try:
        clone(loss).set_params(**loss.get_params())
    except Exception as error:  # any failure here is the loss's to fix
        return [
            "parameters: get_params, clone or set_params failed (the "
            "constructor must store its arguments unchanged, as scikit-learn "
            f"requires): {type(error).__name__}: {error}"
        ]
    return []


def _targets(loss):
    if loss.task == "regression":
        targets = np.asarray(REGRESSION_TARGETS)
        return targets[loss.in_target_domain(targets)]
    return np.asarray(ENCODED_LABELS[loss.label_encoding])


def _compiled(loss, kernel, y, raw):
    engine = engine_loss(loss)
    out = np.empty_like(raw)
    return getattr(engine.kernels, kernel)(engine.kind, engine.params, y, raw, out)


def _check_values(loss):
    targets = _targets(loss)
    problems = _check_params_reads(loss, targets)
    if problems:  # the other checks would read stray memory
        return problems
    y, raw = (a.ravel() for a in np.meshgrid(targets, RAW_GRID, indexing="ij"))
    with np.errstate(all="ignore"):
        value = _compiled(loss, "loss_values", y, raw)
        gradient = _compiled(loss, "loss_derivatives", y, raw)
        h = STEP * np.maximum(1.0, np.abs(raw))
        above = _compiled(loss, "loss_values", y, raw + h)
        below = _compiled(loss, "loss_values", y, raw - h)
        forward, backward = (above - value) / h, (value - below) / h
        central = (above - below) / (2 * h)
        vectorized = loss.loss(y, raw), loss.gradient(y, raw)

    smooth = np.abs(forward - backward) < 1e-3 * (1.0 + np.abs(forward))
    wrong = smooth & ~np.isclose(
        gradient, central, rtol=GRADIENT_RTOL, atol=GRADIENT_ATOL
    )
    if wrong.any():
        worst = np.argmax(np.where(wrong, np.abs(gradient - central), -np.inf))
        problems.append(
            "gradient: does not match finite differences of the loss at "
            f"{wrong.sum()} of {smooth.sum()} smooth points; worst at "
            f"y={y[worst]:.5g}, raw={raw[worst]:.5g}: gradient "
            f"{gradient[worst]:.5g}, finite differences {central[worst]:.5g}."
        )

    for name, compiled, numpy in zip(
        ("loss", "gradient"), (value, gradient), vectorized, strict=True
    ):
        differ = ~np.isclose(numpy, compiled, rtol=1e-7, atol=1e-12)
        if differ.any():
            at = np.argmax(differ)
            problems.append(
                f"{name}: the vectorized method and the compiled per-sample "
                f"function differ at y={y[at]:.5g}, raw={raw[at]:.5g}: "
                f"{numpy[at]:.5g} vs {compiled[at]:.5g}."
            )

    if loss.is_nonnegative and (value < 0).any():
        at = np.argmin(value)
        problems.append(
            f"non-negative: is_nonnegative is True but the loss is {value[at]:.5g} "
            f"at y={y[at]:.5g}, raw={raw[at]:.5g}."
        )

    # The gradient along the raw grid, one row per target, and its changes.
    by_target = gradient.reshape(len(targets), -1)
    change = np.diff(by_target, axis=1)
    if loss.is_convex:
        drops = change < -1e-9 * (1.0 + np.abs(by_target[:, 1:]))
        if drops.any():
            row, col = np.argwhere(drops)[0]
            problems.append(
                "convex: is_convex is True but the gradient decreases between "
                f"raw={RAW_GRID[col]:.5g} and raw={RAW_GRID[col + 1]:.5g} "
                f"(y={targets[row]:.5g})."
            )

    if loss.smoothness is not None:
        slope = change / np.diff(RAW_GRID)
        steep = np.abs(slope) > loss.smoothness * (1.0 + 1e-6) + 1e-9
        if steep.any():
            row, col = np.argwhere(steep)[0]
            problems.append(
                f"smoothness: the gradient changes by {slope[row, col]:.5g} per "
                f"unit of raw between raw={RAW_GRID[col]:.5g} and "
                f"raw={RAW_GRID[col + 1]:.5g} (y={targets[row]:.5g}), more than "
                f"smoothness={loss.smoothness}."
            )

    problems += _check_finite(loss, targets)
    if loss.is_probabilistic:
        problems += _check_probabilities(loss)
    return problems


def _check_params_reads(loss, targets):
    """A user's functions must read no further than the ``params`` they get.

    The SGD loop runs them without bounds checks, so a read past the end
    would train on whatever lies in memory there.
    """
    if not loss._is_user_defined():
        return []
    kernels, _, params = engine_loss(loss)  # both functions exist and compile
    raw = np.concatenate([RAW_GRID, RAW_EXTREMES])
    for name in ("sample_loss", "sample_gradient"):
        function = kernels.bounds_checked(getattr(type(loss), name))
        try:
            for y in targets:
                for r in raw:
                    function(float(y), float(r), params)
        except IndexError:
            return [
                f"params: {name} reads past the end of params, which holds "
                f"{params.size} value{'s' * (params.size != 1)} "
                f"{tuple(params.tolist())}: the constructor's parameters in "
                "signature order, or what kernel_params returns."
            ]
    return []


def _raw_extremes(loss):
    if not loss.link.is_identity:
        return RAW_EXTREMES[np.abs(RAW_EXTREMES) <= LOG_LINK_RAW_LIMIT]
    return RAW_EXTREMES


def _limit(extremes):
    """The largest ``|raw|`` checked, as "1e6" or "50"."""
    limit = extremes[-1]
    return f"1e{np.log10(limit):.0f}" if limit >= 1e3 else f"{limit:g}"


def _check_finite(loss, targets):
    extremes = _raw_extremes(loss)
    y, raw = (a.ravel() for a in np.meshgrid(targets, extremes, indexing="ij"))
    with np.errstate(all="ignore"):
        results = {
            "loss": _compiled(loss, "loss_values", y, raw),
            "gradient": _compiled(loss, "loss_derivatives", y, raw),
        }
    problems = []
    if loss.is_lipschitz:
        # A bounded gradient has saturated long before |raw| = 1e6.
        gradient = np.abs(results["gradient"]).reshape(len(targets), -1)
        outer = np.r_[0, -1]
        inner = np.searchsorted(extremes, [-1e5, 1e5])
        if (gradient[:, outer] > 1.01 * gradient[:, inner] + 1e-9).any():
            problems.append(
                "lipschitz: is_lipschitz is True but the gradient still grows "
                "between |raw| = 1e5 and 1e6."
            )
    for name, values in results.items():
        bad = ~np.isfinite(values)
        if bad.any():
            at = np.argmax(bad)
            problems.append(
                f"finite: the {name} is {values[at]} at y={y[at]:.5g}, "
                f"raw={raw[at]:.5g} ({bad.sum()} of {bad.size} points from "
                f"-{_limit(extremes)} to {_limit(extremes)} are not finite); "
                "compute it in a stable form (log1p, softplus, ...)."
            )
    return problems


def _check_probabilities(loss):
    raw = np.sort(np.concatenate([RAW_GRID, RAW_EXTREMES]))
    try:
        with np.errstate(all="ignore"):
            proba = np.asarray(loss.inverse_link(raw), dtype=float)
    except NotImplementedError:
        return ["probabilities: is_probabilistic is True but inverse_link is missing."]
    if proba.shape != raw.shape or not np.all((proba >= 0) & (proba <= 1)):
        return [
            "probabilities: inverse_link must map each raw prediction to a "
            "probability in [0, 1]."
        ]
    if (np.diff(proba) < 0).any():
        return ["probabilities: inverse_link must be non-decreasing in raw."]
    return []
