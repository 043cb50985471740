"""
=====================================================
A focal loss for imbalanced binary classification
=====================================================

The focal loss (Lin et al., 2017) multiplies the log loss of each sample by
:math:`(1 - p_t)^\\gamma`, where :math:`p_t` is the probability the model gives
to the sample's true class. Well-classified samples (:math:`p_t` near 1) then
count for little, and training concentrates on the hard ones, which in an
imbalanced problem are mostly those of the rare class. :math:`\\gamma = 0` is
the log loss.

This example writes the focal loss as a user-defined classification loss,
checks that :math:`\\gamma = 0` trains exactly as the built-in log loss, and
compares it with the log loss and with class weights on a problem where 5% of
the samples are positive.
"""

# %%
# Writing the loss
# ----------------
# With :math:`z = \pm\,\mathrm{raw}` (the logit, signed by the true class),
# :math:`p_t = \sigma(z)` and :math:`-\log p_t = \mathrm{softplus}(-z)`:
#
# .. math::
#
#     L = \sigma(-z)^\gamma \, \mathrm{softplus}(-z), \qquad
#     \frac{\partial L}{\partial z} = -\sigma(-z)^\gamma
#         \left(\gamma\,\sigma(z)\,\mathrm{softplus}(-z) + \sigma(-z)\right).
#
# Everything is computed from :math:`e^{-|z|}`, so that no exponential
# overflows. The class attributes say that the loss trains a classifier on
# 0/1 targets and gives probabilities through the sigmoid.
import math

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_sample_weight

from sklosses import SGDClassifier
from sklosses.losses import LogLoss, Loss, check_loss


class FocalLoss(Loss):
    r"""Focal loss, :math:`-(1 - p_t)^\gamma \log p_t`."""

    task = "classification"
    label_encoding = "binary"
    is_probabilistic = True
    is_convex = False
    response_method = "predict_proba"

    def __init__(self, gamma=2.0):
        self.gamma = gamma

    @staticmethod
    def sample_loss(y, raw, params):
        z = raw if y > 0.5 else -raw
        e = math.exp(-abs(z))
        minus_log_pt = max(-z, 0.0) + math.log1p(e)  # softplus(-z)
        q = e / (1.0 + e) if z >= 0.0 else 1.0 / (1.0 + e)  # sigmoid(-z)
        return q ** params[0] * minus_log_pt

    @staticmethod
    def sample_gradient(y, raw, params):
        sign = 1.0 if y > 0.5 else -1.0
        z = sign * raw
        e = math.exp(-abs(z))
        minus_log_pt = max(-z, 0.0) + math.log1p(e)
        p = 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)  # sigmoid(z)
        q = 1.0 - p if z >= 0.0 else 1.0 / (1.0 + e)
        return -sign * q ** params[0] * (params[0] * p * minus_log_pt + q)

    def inverse_link(self, raw):
        return expit(np.asarray(raw, dtype=float))


# %%
# :func:`~sklosses.losses.check_loss` catches a wrong derivative or a false
# claim; for instance it finds that the focal loss is not convex for
# :math:`\gamma > 0` (declaring ``is_convex = True`` would fail it).
for gamma in (0.0, 2.0, 5.0):
    check_loss(FocalLoss(gamma=gamma))

# %%
# An imbalanced problem
# ---------------------
X, y = make_classification(
    n_samples=10_000,
    n_features=20,
    n_informative=5,
    weights=[0.95],
    class_sep=1.5,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
params = dict(learning_rate="invscaling", eta0=0.1, average=True, max_iter=20, tol=None)

# %%
# With :math:`\gamma = 0`, the focal loss is the log loss, and SGD trains it
# to the same coefficients as the built-in log loss, up to rounding.
focal_0 = SGDClassifier(loss=FocalLoss(gamma=0.0), random_state=0, **params)
log = SGDClassifier(loss=LogLoss(), random_state=0, **params)
focal_0.fit(X_train, y_train)
log.fit(X_train, y_train)
print("largest coefficient difference:", np.abs(focal_0.coef_ - log.coef_).max())

# %%
# Where the training signal goes
# ------------------------------
# At the fitted model, the rare class carries a larger share of the (weighted)
# gradient under the focal loss than under the log loss: the focal loss looks
# at the hard samples. Balanced class weights shift the share further.
models = {
    "log loss": (log, LogLoss(), None),
    "focal, gamma=2": (
        SGDClassifier(loss=FocalLoss(gamma=2.0), random_state=0, **params),
        FocalLoss(gamma=2.0),
        None,
    ),
    "log loss, balanced class weights": (
        SGDClassifier(
            loss="log_loss", class_weight="balanced", random_state=0, **params
        ),
        LogLoss(),
        compute_sample_weight("balanced", y_train),
    ),
}
for name, (model, loss, weight) in models.items():
    model.fit(X_train, y_train)
    gradient = np.abs(loss.gradient(y_train, model.decision_function(X_train)))
    if weight is not None:
        gradient *= weight
    share = gradient[y_train == 1].sum() / gradient.sum()
    accuracy = balanced_accuracy_score(y_test, model.predict(X_test))
    precision = average_precision_score(y_test, model.predict_proba(X_test)[:, 1])
    print(
        f"{name:>33}: rare class's share of the gradient {share:.2f}, "
        f"balanced accuracy {accuracy:.3f}, average precision {precision:.3f}"
    )

# %%
# For a linear model, the ranking of the samples (average precision) hardly
# changes: the focal loss reweights samples, it does not add capacity. Its
# probabilities are pulled towards 1/2, so at the default threshold it does
# not find more of the rare class; class weights do that directly. The focal
# loss earns its keep where easy samples vastly outnumber hard ones and
# swamp the gradient, as in dense object detection, where it was introduced.
fig, ax = plt.subplots()
for name, (model, _, _) in models.items():
    ax.hist(model.predict_proba(X_test)[y_test == 1, 1], bins=30, alpha=0.5, label=name)
ax.set_xlabel("predicted probability of the rare class (rare-class samples)")
ax.set_ylabel("samples")
ax.legend()
plt.show()
