"""
==============================================================
Robust regression: squared, absolute and Huber losses
==============================================================

A few gross errors in the target pull a least-squares fit towards them: the
squared loss's gradient grows with the residual. The absolute loss fits the
conditional median and gives every residual the same pull; the Huber loss is
squared for small residuals and absolute beyond ``delta``, so it keeps the
efficiency of least squares on the clean points and ignores the outliers'
size. Here 10% of the targets are shifted far up.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklosses import SGDRegressor
from sklosses.losses import AbsoluteLoss, HuberLoss, SquaredLoss

rng = np.random.default_rng(0)
n_samples = 300
x = rng.uniform(0, 10, n_samples)
y = 0.5 * x + 2.0 + rng.normal(scale=0.5, size=n_samples)
outliers = rng.random(n_samples) < 0.1
y[outliers] += rng.uniform(10, 20, outliers.sum())
X = x[:, np.newaxis]

# %%
# One model per loss, with ``learning_rate="auto"``: no step size to tune.
losses = {"squared": SquaredLoss(), "absolute": AbsoluteLoss(), "Huber": HuberLoss()}
models = {
    name: SGDRegressor(loss=loss, learning_rate="auto", max_iter=100, random_state=0)
    for name, loss in losses.items()
}
for name, model in models.items():
    model.fit(X, y)
    print(f"{name:>8}: slope {model.coef_[0]:.3f}, intercept {model.intercept_[0]:.3f}")

# %%
# The truth is ``y = 0.5 x + 2``.
fig, ax = plt.subplots()
ax.scatter(x[~outliers], y[~outliers], s=8, color="0.6", label="clean")
ax.scatter(x[outliers], y[outliers], s=8, color="C3", label="outliers")
grid = np.linspace(0, 10, 2)[:, np.newaxis]
# The truth is a pale band under the fits, which have three styles, so that
# fits lying on the truth, or on each other, stay visible.
ax.plot(grid, 0.5 * grid + 2.0, color="0.3", linewidth=6, alpha=0.3, label="truth")
for (name, model), style in zip(models.items(), ["-", "--", ":"], strict=True):
    ax.plot(grid, model.predict(grid), style, linewidth=2, label=name)
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend()
plt.show()
