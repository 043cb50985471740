"""
==========================================
Every loss as a function of its argument
==========================================

Regression losses are functions of the residual :math:`r = f(x) - y`,
classification losses of the margin :math:`z = y f(x)` with :math:`y = \\pm 1`
(the log loss's 0/1 encoding is drawn on the same margin). Each is a
:class:`~sklosses.losses.Loss` object whose ``loss`` method is vectorized, so
drawing them takes one call each.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklosses.losses import (
    AbsoluteLoss,
    EpsilonInsensitiveLoss,
    HingeLoss,
    HuberLoss,
    LogLoss,
    ModifiedHuberLoss,
    PerceptronLoss,
    QuantileLoss,
    SquaredEpsilonInsensitiveLoss,
    SquaredHingeLoss,
    SquaredLoss,
)

# %%
# Regression losses (left): ``loss(y, raw)`` with ``y = 0`` is the loss of
# the residual ``raw``. Classification losses (right): the positive class
# (``y = +1``, or 1 for the log loss) at raw prediction ``z`` has margin
# ``z``. The figure is drawn in one cell, so that the page shows it whole.

residual = np.linspace(-3, 3, 601)
margin = np.linspace(-3, 3, 601)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))

for loss in [
    SquaredLoss(),
    AbsoluteLoss(),
    HuberLoss(delta=1.0),
    EpsilonInsensitiveLoss(epsilon=0.5),
    SquaredEpsilonInsensitiveLoss(epsilon=0.5),
    QuantileLoss(quantile=0.8),
]:
    left.plot(residual, loss.loss(np.zeros_like(residual), residual), label=repr(loss))
left.set_xlabel("residual f(x) - y")
left.set_ylabel("loss")
left.set_ylim(0, 4)
left.legend(fontsize="small")

for loss in [
    HingeLoss(),
    PerceptronLoss(),
    SquaredHingeLoss(),
    ModifiedHuberLoss(),
    LogLoss(),
]:
    positive = np.ones_like(margin)
    right.plot(margin, loss.loss(positive, margin), label=repr(loss))
right.plot(margin, margin < 0, "k:", label="0-1 loss")
right.set_xlabel("margin y f(x)")
right.set_ylim(0, 4)
right.legend(fontsize="small")
fig.tight_layout()
plt.show()
