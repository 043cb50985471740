"""
===========================================
Out-of-core training from a file on disk
===========================================

Data larger than memory can stay on disk: :mod:`sklosses.streaming` reads a
``numpy.memmap`` (or a CSV file) one chunk at a time, and ``partial_fit``
runs an epoch of SGD on each chunk. Memory stays near one chunk plus the
model. Here a 40 MB file is streamed in chunks of 2 MB, three times over,
and the held-out error after each pass is compared with a fit on all the
data in memory.
"""

import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import root_mean_squared_error

from sklosses import SGDRegressor
from sklosses.streaming import iter_memmap_chunks

# %%
# Write the data to disk, block by block, as a producer would.
folder = tempfile.mkdtemp()
n_samples, n_features, chunk_size = 100_000, 50, 5_000
rng = np.random.default_rng(0)
w = rng.normal(size=n_features)
X = np.memmap(
    os.path.join(folder, "X.dat"), np.float64, "w+", shape=(n_samples, n_features)
)
y = np.memmap(os.path.join(folder, "y.dat"), np.float64, "w+", shape=(n_samples,))
for start in range(0, n_samples, 20_000):
    block = rng.normal(size=(20_000, n_features))
    X[start : start + 20_000] = block
    y[start : start + 20_000] = block @ w + rng.normal(size=20_000)
X.flush()
y.flush()
X_test = rng.normal(size=(5_000, n_features))
y_test = X_test @ w + rng.normal(size=5_000)

# %%
# Stream it: one ``partial_fit`` per chunk; the step size of
# ``learning_rate="auto"`` comes from the first chunk.
model = SGDRegressor(learning_rate="auto", random_state=0)
errors = []
for _ in range(3):
    for X_chunk, y_chunk in iter_memmap_chunks(X, y, chunk_size):
        model.partial_fit(X_chunk, y_chunk)
        errors.append(root_mean_squared_error(y_test, model.predict(X_test)))

in_memory = SGDRegressor(learning_rate="auto", max_iter=3, tol=None, random_state=0)
in_memory.fit(np.asarray(X), np.asarray(y))
best = root_mean_squared_error(y_test, in_memory.predict(X_test))
print(f"streamed: RMSE {errors[-1]:.4f}; in memory: {best:.4f} (noise sd 1)")

# %%
# The held-out error falls within the first pass and then stays at the level
# of the in-memory fit.
fig, ax = plt.subplots()
chunks_per_pass = n_samples // chunk_size
ax.plot(np.arange(1, len(errors) + 1) / chunks_per_pass, errors, label="streamed")
ax.axhline(best, color="k", linestyle=":", label="fit in memory, 3 epochs")
ax.set_xlabel("passes over the file")
ax.set_ylabel("held-out RMSE")
ax.ticklabel_format(axis="y", useOffset=False)
ax.legend()
fig.tight_layout()
plt.show()
