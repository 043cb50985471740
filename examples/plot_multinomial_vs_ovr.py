"""
===================================================
Multinomial softmax against one-vs-rest
===================================================

With the log loss and more than two classes, :class:`~sklosses.SGDClassifier`
fits one softmax model (``multi_class="auto"``): its probabilities come from
one cross-entropy over all classes. scikit-learn's SGDClassifier fits one
binary model per class and normalizes their probabilities afterwards
(``multi_class="ovr"`` here). On three overlapping classes, the softmax gives
the better held-out log loss, and its probabilities change smoothly between
the classes.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from sklosses import SGDClassifier

X, y = make_blobs(n_samples=3000, centers=[[-2, 0], [2, 0], [0, 2.5]], cluster_std=1.5,
                  random_state=0)  # fmt: skip
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

models = {
    mode: SGDClassifier(
        loss="log_loss", multi_class=mode, learning_rate="auto", random_state=0
    ).fit(X_train, y_train)
    for mode in ("multinomial", "ovr")
}
for mode, model in models.items():
    loss = log_loss(y_test, model.predict_proba(X_test))
    print(f"{mode:>11}: held-out log loss {loss:.4f}")

# %%
# The probability of class 2 (top) over the plane, for each model.
xx, yy = np.meshgrid(np.linspace(-6, 6, 200), np.linspace(-4, 7, 200))
grid = np.column_stack([xx.ravel(), yy.ravel()])
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, (mode, model) in zip(axes, models.items(), strict=True):
    proba = model.predict_proba(grid)[:, 2].reshape(xx.shape)
    image = ax.contourf(xx, yy, proba, levels=np.linspace(0, 1, 11), cmap="viridis")
    ax.scatter(*X_test[:300].T, c=y_test[:300], s=6, cmap="Set1", edgecolor="none")
    ax.set_title(f"{mode}: P(class 2)")
fig.colorbar(image, ax=axes)
plt.show()
