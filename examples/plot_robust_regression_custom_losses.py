"""
======================================================
Robust regression with your own loss: log-cosh, Cauchy
======================================================

scikit-learn's SGD has a closed list of losses. With sklosses a loss is a small
class: write the loss of one sample and its derivative as plain Python, and
:class:`~sklosses.SGDRegressor` trains it with the same compiled loop as the
built-in losses.

Here we write two robust losses and fit a line through data where 5% of the
targets are gross outliers:

- **log-cosh**, :math:`\\log\\cosh(r)` for the residual :math:`r = f - y`: like
  the squared loss near zero and like the absolute loss far away, smooth
  everywhere. Its derivative is :math:`\\tanh(r)`.
- **Cauchy** (Lorentzian), :math:`\\tfrac{c^2}{2}\\log(1 + (r/c)^2)`: its
  derivative :math:`r / (1 + (r/c)^2)` falls back to zero for large residuals,
  so gross outliers stop pulling at all. It is not convex.
"""

# %%
# Writing the losses
# ------------------
# A loss subclasses :class:`~sklosses.losses.Loss`. ``sample_loss`` and
# ``sample_gradient`` receive one target ``y``, one raw prediction ``raw`` and
# ``params``, the constructor's parameters in the order of its signature.
# They must stay finite for any raw prediction: ``log(cosh(r))`` overflows
# beyond ``|r| > 710``, so log-cosh is written as
# :math:`|r| + \log(1 + e^{-2|r|}) - \log 2`.
import math

import matplotlib.pyplot as plt
import numpy as np

from sklosses import SGDRegressor
from sklosses.losses import Loss, check_loss


class LogCoshLoss(Loss):
    r"""Log-cosh loss, :math:`\log\cosh(f - y)`."""

    @staticmethod
    def sample_loss(y, raw, params):
        r = abs(raw - y)
        return r + math.log1p(math.exp(-2.0 * r)) - math.log(2.0)

    @staticmethod
    def sample_gradient(y, raw, params):
        return math.tanh(raw - y)


class CauchyLoss(Loss):
    r"""Cauchy loss, :math:`\tfrac{c^2}{2}\log(1 + ((f - y)/c)^2)`."""

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


# %%
# :func:`~sklosses.losses.check_loss` verifies the derivative against finite
# differences, finiteness from -1e6 to 1e6, and the declared properties (the
# estimators run it too, before training a loss of yours). It returns nothing
# when all is well and raises an error listing each problem otherwise.
check_loss(LogCoshLoss())
check_loss(CauchyLoss(scale=1.0))

# %%
# Data with outliers
# ------------------
rng = np.random.default_rng(0)
n_samples = 400
x = rng.uniform(-3, 3, size=n_samples)
y = 2.0 * x + 1.0 + rng.normal(scale=0.3, size=n_samples)
outliers = rng.choice(n_samples, size=n_samples // 20, replace=False)
y[outliers] += rng.uniform(15, 30, size=outliers.size)
X = x[:, np.newaxis]

# %%
# Fitting
# -------
# The losses are objects, so they compare side by side; the first fit with a
# new loss compiles the SGD loop for it (a few seconds, once per machine: the
# compiled loop is cached on disk).
losses = {
    "squared": "squared_error",
    "log-cosh": LogCoshLoss(),
    "Cauchy": CauchyLoss(scale=1.0),
}
models = {
    name: SGDRegressor(loss=loss, max_iter=50, random_state=0).fit(X, y)
    for name, loss in losses.items()
}
for name, model in models.items():
    print(f"{name:>9}: slope {model.coef_[0]:.3f}, intercept {model.intercept_[0]:.3f}")

# %%
# The squared loss is dragged up by the outliers; log-cosh much less; the
# Cauchy loss ignores them and recovers the true line ``y = 2x + 1``.
fig, ax = plt.subplots()
ax.scatter(x, y, s=8, color="0.6", label="data")
grid = np.linspace(-3, 3, 2)[:, np.newaxis]
# The truth is drawn first, wide and pale, and the fits in three styles, so
# that fits lying on the truth, or on each other, stay visible.
ax.plot(grid, 2.0 * grid + 1.0, color="0.3", linewidth=6, alpha=0.3, label="truth")
for (name, model), style in zip(models.items(), ["-", "--", ":"], strict=True):
    ax.plot(grid, model.predict(grid), style, linewidth=2, label=name)
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend()
plt.show()
