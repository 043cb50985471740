"""Loss curves, best_epoch_ and LossCurveDisplay."""

import sys

import matplotlib
import numpy as np
import pytest
from _helpers import synthetic_binary
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklosses import SGDClassifier, SGDRegressor
from sklosses.plotting import LossCurveDisplay

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def overfitting():
    """Few rows, many useless features, no penalty: validation turns up."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 150))
    y = X[:, :5] @ np.ones(5) + rng.normal(scale=2.0, size=300)
    return X, y


def _overfit(X, y, **params):
    return SGDRegressor(
        penalty=None, learning_rate="constant", eta0=0.002, early_stopping=True,
        random_state=0, **params,
    ).fit(X, y)  # fmt: skip


def test_best_epoch_is_the_best_validation_score(overfitting):
    model = _overfit(*overfitting, max_iter=30, tol=None)
    scores = model.validation_score_curve_
    assert model.best_epoch_ == int(np.argmax(scores)) + 1
    # Over-fitting: the validation loss rises after the best epoch while the
    # training objective keeps falling.
    best = model.best_epoch_ - 1
    assert model.validation_loss_curve_[-1] > model.validation_loss_curve_[best]
    assert model.loss_curve_[-1] < model.loss_curve_[best]


def test_early_stopping_stops_n_iter_no_change_after_the_best_epoch(overfitting):
    model = _overfit(*overfitting, max_iter=100, n_iter_no_change=7)
    assert model.n_iter_ == model.best_epoch_ + 7


def test_best_epoch_is_the_lowest_training_objective_without_a_validation_split():
    X, y = make_regression(n_samples=200, n_features=5, noise=20.0, random_state=0)
    # Large constant steps: the objective goes up and down from epoch to epoch.
    model = SGDRegressor(
        learning_rate="constant", eta0=0.05, max_iter=12, tol=None, random_state=0
    ).fit(X, y)
    assert model.best_epoch_ == int(np.argmin(model.loss_curve_)) + 1
    assert model.best_epoch_ < len(model.loss_curve_)


def test_partial_fit_appends_one_point_per_call():
    X, y = make_classification(n_samples=300, random_state=0)
    model = SGDClassifier(random_state=0)
    for calls in range(1, 5):
        model.partial_fit(X, y, classes=[0, 1])
        assert len(model.loss_curve_) == calls
        assert model.best_epoch_ == int(np.argmin(model.loss_curve_)) + 1


def test_display_draws_the_estimators_curves(overfitting, tmp_path):
    model = _overfit(*overfitting, max_iter=20, tol=None)
    display = LossCurveDisplay.from_estimator(model, name="SGD")
    training, validation = display.lines_
    assert_array_equal(training.get_xdata(), np.arange(1, 21))
    assert_array_equal(training.get_ydata(), model.loss_curve_)
    assert_array_equal(validation.get_ydata(), model.validation_loss_curve_)
    assert display.best_epoch_line_.get_xdata()[0] == model.best_epoch_
    assert training.get_label() == "SGD: training objective"
    assert display.ax_.get_xlabel() == "epoch"
    assert "SquaredLoss()" in display.ax_.get_ylabel()
    assert display.figure_ is display.ax_.figure
    path = tmp_path / "curves.png"
    display.figure_.savefig(path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_display_of_a_pipeline_without_validation_on_given_axes():
    import matplotlib.pyplot as plt

    X, y = synthetic_binary()
    pipeline = make_pipeline(
        StandardScaler(), SGDClassifier(loss="log_loss", max_iter=8, tol=None)
    ).fit(X, y)
    _, ax = plt.subplots()
    display = LossCurveDisplay.from_estimator(pipeline, ax=ax, log_scale=True)
    assert display.ax_ is ax
    assert len(display.lines_) == 1
    assert ax.get_yscale() == "log"
    assert "LogLoss()" in ax.get_ylabel()
    plt.close("all")


def test_display_rejects_unfitted_and_foreign_estimators():
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import Ridge

    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(SGDRegressor())
    X, y = make_regression(n_samples=20, n_features=2, random_state=0)
    with pytest.raises(TypeError, match="records no loss_curve_"):
        LossCurveDisplay.from_estimator(Ridge().fit(X, y))


def test_without_matplotlib_the_error_says_how_to_install_it(monkeypatch):
    for name in ("matplotlib", "matplotlib.pyplot"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it fails
    with pytest.raises(ImportError, match=r"pip install 'sklosses\[plot\]'"):
        LossCurveDisplay(loss_curve=[1.0, 0.5]).plot()


def test_verbose_prints_each_epoch_with_its_validation_loss(overfitting, capsys):
    model = _overfit(*overfitting, max_iter=3, tol=None, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    epoch_lines = [line for line in lines if line.startswith("Norm:")]
    assert len(epoch_lines) == 3 == model.n_iter_
    for line, loss, validation in zip(
        epoch_lines, model.loss_curve_, model.validation_loss_curve_, strict=True
    ):
        assert f"Avg. loss: {loss:.6f}" in line
        assert f"Validation loss: {validation:.6f}" in line
        assert "T: " in line and "Bias: " in line
    assert sum("Total training time" in line for line in lines) == 3
