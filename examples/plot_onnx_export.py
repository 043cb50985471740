"""
====================
Deploy with ONNX
====================

ONNX runs a model without Python: from C++, Java, C#, JavaScript, or
onnxruntime's own server. ``import sklosses.onnx`` teaches skl2onnx to
convert sklosses' estimators, alone or inside a scikit-learn pipeline, so
the whole pipeline (here a scaler and a softmax classifier of wines) becomes
one ONNX graph. onnxruntime then gives the pipeline's own labels and
probabilities. Needs ``pip install "sklosses[onnx]"``.
"""

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime
import skl2onnx
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklosses.onnx  # noqa: F401 (registers the converters with skl2onnx)
from sklosses import SGDClassifier

X, y = load_wine(return_X_y=True)
X = X.astype(np.float32)  # the precision the graph will take
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = make_pipeline(
    StandardScaler(), SGDClassifier(loss="log_loss", random_state=0)
).fit(X_train, y_train)

# %%
# Convert: the first rows tell skl2onnx the input's type and width. Without
# ``zipmap``, probabilities come out as an array rather than a list of dicts.
onnx_model = skl2onnx.to_onnx(model, X_train[:1], options={"zipmap": False})
session = onnxruntime.InferenceSession(
    onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
)
labels, proba = session.run(None, {"X": X_test})
print("labels equal:", np.array_equal(labels, model.predict(X_test)))
largest = np.abs(proba - model.predict_proba(X_test)).max()
print(f"largest difference in probability: {largest:.1e}")

# %%
# Each held-out wine's probabilities, from Python and from onnxruntime: the
# points lie on the diagonal. ``onnx_model.SerializeToString()`` is what to
# ship; onnxruntime loads the same bytes from a file in any language.
fig, ax = plt.subplots(figsize=(4.5, 4.5))
for k in range(proba.shape[1]):
    ax.scatter(model.predict_proba(X_test)[:, k], proba[:, k], s=12,
               label=f"class {k}")  # fmt: skip
ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
ax.set_xlabel("sklosses predict_proba")
ax.set_ylabel("onnxruntime")
ax.legend()
plt.show()
