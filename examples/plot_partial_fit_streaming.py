"""
==========================================
Learning from a stream with partial_fit
==========================================

When the data does not fit in memory, or arrives over time, ``partial_fit``
runs one epoch over each chunk it is given and carries the model (and the
step-size schedule) over to the next. With ``learning_rate="auto"`` the step
is derived from the first chunk and kept. Here chunks of 2,000 rows of a
logistic problem arrive one by one; the held-out log loss after each chunk
approaches that of a model fitted on all the data at once.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from sklosses import SGDClassifier

rng = np.random.default_rng(0)
n_features = 50
w = rng.normal(size=n_features) / np.sqrt(n_features) * 3


def chunk(n_rows):
    X = rng.normal(size=(n_rows, n_features))
    y = (X @ w + rng.logistic(size=n_rows) > 0).astype(int)
    return X, y


X_test, y_test = chunk(20_000)
model = SGDClassifier(loss="log_loss", learning_rate="auto", random_state=0)
seen, held_out = [], []
stream = [chunk(2_000) for _ in range(25)]
for X_chunk, y_chunk in stream:
    model.partial_fit(X_chunk, y_chunk, classes=[0, 1])
    seen.append((len(seen) + 1) * len(y_chunk))
    held_out.append(log_loss(y_test, model.predict_proba(X_test)))

# %%
# The reference: logistic regression on everything the stream delivered.
X_all = np.vstack([X for X, _ in stream])
y_all = np.concatenate([y for _, y in stream])
reference = LogisticRegression(C=1e4).fit(X_all, y_all)
best = log_loss(y_test, reference.predict_proba(X_test))
print(f"after the stream: {held_out[-1]:.4f}; all data at once: {best:.4f}")

fig, ax = plt.subplots()
ax.plot(seen, held_out, marker="o", label="SGD, one partial_fit per chunk")
ax.axhline(best, color="k", linestyle=":", label="LogisticRegression, all rows")
ax.set_xlabel("rows seen")
ax.set_ylabel("held-out log loss")
ax.legend()
plt.show()
