"""
====================================
Multilabel classification
====================================

When a sample can carry several labels at once, pass ``y`` as a 2-D
indicator matrix: :class:`~sklosses.SGDClassifier` fits one binary model per
label (a sigmoid per label for the log loss), and ``predict`` returns an
indicator matrix of the same shape.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_multilabel_classification
from sklearn.metrics import f1_score, hamming_loss, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklosses import SGDClassifier

X, Y = make_multilabel_classification(
    n_samples=2000, n_features=20, n_classes=5, n_labels=2, random_state=0
)
X = StandardScaler().fit_transform(X)
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, random_state=0)

model = SGDClassifier(loss="log_loss", learning_rate="auto", random_state=0)
model.fit(X_train, Y_train)
Y_pred = model.predict(X_test)
proba = model.predict_proba(X_test)
print("coef_ shape:", model.coef_.shape, "predictions:", Y_pred.shape)
print(
    f"Hamming loss {hamming_loss(Y_test, Y_pred):.3f}, "
    f"micro F1 {f1_score(Y_test, Y_pred, average='micro'):.3f}, "
    f"mean per-label log loss "
    f"{np.mean([log_loss(Y_test[:, k], proba[:, k]) for k in range(5)]):.3f}"
)
# fmt: skip

# %%
# Per label: how often it is present, and how well its model does.
labels = np.arange(Y.shape[1])
fig, ax = plt.subplots()
ax.bar(labels - 0.2, Y_test.mean(axis=0), width=0.4, label="share of samples")
ax.bar(labels + 0.2, f1_score(Y_test, Y_pred, average=None), width=0.4, label="F1")
ax.set_xlabel("label")
ax.set_xticks(labels)
ax.legend()
plt.show()
