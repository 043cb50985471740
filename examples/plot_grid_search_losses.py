"""
=====================================================
Choosing a loss with GridSearchCV
=====================================================

Losses are objects with parameters, so a grid search can choose the loss
and its parameters together (``sgdregressor__loss__delta``), scored with the
metric that the question asks: here the root mean squared error and the mean
absolute error, with :mod:`sklosses.scorers`.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklosses import SGDRegressor
from sklosses.losses import AbsoluteLoss, HuberLoss, QuantileLoss, SquaredLoss
from sklosses.scorers import mae_scorer, rmse_scorer

X, y = load_diabetes(return_X_y=True)
model = make_pipeline(
    StandardScaler(), SGDRegressor(learning_rate="auto", random_state=0)
)
grid = [
    {"sgdregressor__loss": [SquaredLoss(), AbsoluteLoss(), QuantileLoss(quantile=0.5)]},
    {
        "sgdregressor__loss": [HuberLoss()],
        "sgdregressor__loss__delta": [5.0, 20.0, 50.0],
    },
]
search = GridSearchCV(
    model, grid, scoring={"RMSE": rmse_scorer, "MAE": mae_scorer}, refit="RMSE", cv=5
).fit(X, y)
print("best:", search.best_params_, f"RMSE {-search.best_score_:.2f}")

# %%
# Both metrics for every candidate: the squared loss wins on RMSE, the
# absolute loss and median regression on MAE, which they minimize.
results = search.cv_results_
labels = [
    repr(p["sgdregressor__loss"]).replace(
        "HuberLoss()", f"HuberLoss(delta={p.get('sgdregressor__loss__delta')})"
    )
    for p in results["params"]
]
fig, ax = plt.subplots(figsize=(8, 4))
position = np.arange(len(labels))
for offset, metric in [(-0.2, "RMSE"), (0.2, "MAE")]:
    ax.barh(
        position + offset,
        -results[f"mean_test_{metric}"],
        height=0.4,
        xerr=results[f"std_test_{metric}"],
        label=metric,
    )
ax.set_yticks(position, labels)
ax.set_xlabel("cross-validated error (lower is better)")
ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the bars
fig.tight_layout()
plt.show()
