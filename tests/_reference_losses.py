"""Every built-in loss's value and gradient in closed form, in NumPy, and
scikit-learn's ``sklearn._loss`` losses where it has them: references the
compiled kernels are tested against, written from the formulas of the
losses' docstrings.

``sklearn._loss`` is private: it is used only within the versions tested
here, and any failure to build or call it leaves the closed forms alone.
"""

import numpy as np
import sklearn
from scipy.special import expit


def closed_form(loss, y, raw):
    """(value, gradient) of ``loss`` at float64 arrays ``y`` and ``raw``."""
    name, params = loss.kernel_spec()
    t = params[0] if params else None
    r = raw - y
    with np.errstate(all="ignore"):
        if name == "squared":
            return 0.5 * r * r, r
        if name == "absolute":
            return np.abs(r), np.sign(r)
        if name == "huber":
            a = np.abs(r)
            return np.where(a <= t, 0.5 * a * a, t * a - 0.5 * t * t), np.clip(r, -t, t)
        if name == "epsilon_insensitive":
            return np.maximum(0.0, np.abs(r) - t), np.where(
                np.abs(r) > t, np.sign(r), 0.0
            )
        if name == "squared_epsilon_insensitive":
            excess = np.maximum(0.0, np.abs(r) - t)
            return excess**2, 2.0 * np.sign(r) * excess
        if name == "quantile":
            return np.maximum(t * -r, (t - 1.0) * -r), np.where(y > raw, -t, 1.0 - t)
        if name == "log":
            return np.logaddexp(0.0, raw) - y * raw, expit(raw) - y
        margin = y * raw
        if name == "hinge":
            return np.maximum(0.0, t - margin), np.where(margin <= t, -y, 0.0)
        if name == "squared_hinge":
            excess = np.maximum(0.0, t - margin)
            return excess**2, -2.0 * y * excess
        if name == "modified_huber":
            inner = np.maximum(0.0, 1.0 - margin)
            return (
                np.where(margin >= -1.0, inner**2, -4.0 * margin),
                np.where(margin >= -1.0, -2.0 * y * inner, -4.0 * y),
            )
        mu = np.exp(raw)
        if name == "poisson":
            z = np.log(y) - raw
            return np.where(y > 0, y * (np.expm1(-z) + z), mu), mu - y
        if name == "gamma":
            z = np.log(y) - raw
            return np.expm1(z) - z, -np.expm1(z)
        if name == "tweedie":
            return _tweedie(t, y, raw)
    raise AssertionError(f"no closed form for the kernel {name!r}")


def _tweedie(p, y, raw):
    if p == 0:
        mu = np.exp(raw)
        return 0.5 * (mu - y) ** 2, mu * (mu - y)
    mu1, mu2 = np.exp((1 - p) * raw), np.exp((2 - p) * raw)
    weighed = np.where(y != 0, y * mu1, 0.0)
    value = (
        np.maximum(y, 0.0) ** (2 - p) / ((1 - p) * (2 - p))
        - weighed / (1 - p)
        + mu2 / (2 - p)
    )
    gradient = mu2 - weighed
    # Both powers of mu overflowed: the deviance tends to infinity.
    return (
        np.where(np.isnan(value), np.inf, value),
        np.where(np.isnan(gradient), np.copysign(np.inf, raw), gradient),
    )


def _version():
    return tuple(int(part) for part in sklearn.__version__.split(".")[:2])


# The scikit-learn releases whose sklearn._loss these references were
# checked with.
SKLEARN_LOSS_VERSIONS = ((1, 4), (1, 9))


def scikit_learn(loss, y, raw):
    """(value, gradient) from ``sklearn._loss`` with the constant that makes
    its deviances zero at ``mu = y``, or None where it has no such loss or
    cannot serve."""
    low, high = SKLEARN_LOSS_VERSIONS
    if not low <= _version() <= high:
        return None
    try:
        from sklearn._loss import loss as sk

        name, params = loss.kernel_spec()
        make = {
            "squared": sk.HalfSquaredError,
            "absolute": sk.AbsoluteError,
            "quantile": lambda: sk.PinballLoss(quantile=params[0]),
            "huber": lambda: sk.HuberLoss(delta=params[0]),
            "log": sk.HalfBinomialLoss,
            "poisson": sk.HalfPoissonLoss,
            "gamma": sk.HalfGammaLoss,
            "tweedie": lambda: sk.HalfTweedieLoss(power=params[0]),
        }.get(name)
        if make is None:
            return None
        reference = make()
        y, raw = np.ascontiguousarray(y), np.ascontiguousarray(raw)
        value = reference.loss(y, raw)
        if name in ("poisson", "gamma", "tweedie"):
            value = value + reference.constant_to_optimal_zero(y)
        return value, reference.gradient(y, raw)
    except Exception:  # a private API: its change is not this test's failure
        return None


def scikit_learn_multinomial(y, raw):
    """(value, gradient) of the multinomial loss from ``sklearn._loss``, or
    None where it cannot serve."""
    low, high = SKLEARN_LOSS_VERSIONS
    if not low <= _version() <= high:
        return None
    try:
        from sklearn._loss import loss as sk

        reference = sk.HalfMultinomialLoss(n_classes=raw.shape[1])
        y, raw = np.asarray(y, dtype=float), np.ascontiguousarray(raw)
        return reference.loss(y, raw), reference.gradient(y, raw)
    except Exception:  # a private API: its change is not this test's failure
        return None
