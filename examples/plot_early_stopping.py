"""
==========================================
Loss curves and early stopping
==========================================

The way to judge a fit is its trend: the training objective must fall, and a
validation loss that turns up while the training loss keeps falling is
over-fitting. Every sklosses estimator records ``loss_curve_`` (the mean
training objective per epoch); with ``early_stopping=True`` it holds out
``validation_fraction`` of the data, records ``validation_loss_curve_`` and
``validation_score_curve_``, and stops when the validation score has not
improved for ``n_iter_no_change`` epochs.

Here a regression with many more features than it needs, little data and no
penalty, fitted with a constant step, over-fits after a few epochs.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklosses import SGDRegressor
from sklosses.plotting import LossCurveDisplay

rng = np.random.default_rng(0)
n_samples, n_features = 300, 150
X = rng.normal(size=(n_samples, n_features))
y = X[:, :5] @ np.ones(5) + rng.normal(scale=2.0, size=n_samples)

params = dict(
    penalty=None, learning_rate="constant", eta0=0.002, early_stopping=True,
    random_state=0,
)  # fmt: skip
# The whole run: 100 epochs with the validation curves recorded; tol=None
# turns the stopping rule off.
full = SGDRegressor(max_iter=100, tol=None, **params).fit(X, y)
# Early stopping as it is meant to run: stop after 10 epochs without a
# validation score better by tol than the best.
stopped = SGDRegressor(max_iter=100, n_iter_no_change=10, **params).fit(X, y)
print(f"stopped after {stopped.n_iter_} epochs; the whole run took {full.n_iter_}")

# %%
# :class:`~sklosses.plotting.LossCurveDisplay` draws the curves and marks
# ``best_epoch_``, the epoch of the best validation score. The training
# objective keeps falling; the validation loss has its minimum early and
# then rises: the epochs after it fit the noise. Early stopping ran
# ``n_iter_no_change`` epochs past its own best epoch.
display = LossCurveDisplay.from_estimator(full, log_scale=True)
display.ax_.axvline(stopped.n_iter_, color="k", label="early stopping ended")
display.ax_.legend()
plt.show()
