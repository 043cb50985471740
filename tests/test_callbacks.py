"""scikit-learn's callbacks (sklearn.callback, 1.9+) around the epochs."""

import numpy as np
import pytest
from _helpers import synthetic_binary, synthetic_three_classes
from sklearn.datasets import make_classification, make_regression

from sklosses import SGDClassifier, SGDRegressor
from sklosses.linear_model import _callbacks

callback = pytest.importorskip("sklearn.callback")


def test_scoring_monitor_scores_every_epoch_of_a_regressor():
    X, y = make_regression(n_samples=300, n_features=5, noise=5.0, random_state=0)
    monitor = callback.ScoringMonitor(scoring="r2")
    model = SGDRegressor(max_iter=6, tol=None, random_state=0).set_callbacks(monitor)
    model.fit(X, y)
    records = monitor.get_logs(select="most_recent").data
    epochs = [r["r2"] for r in records if r["task_name"] == "epoch"]
    (fit,) = [r["r2"] for r in records if r["task_name"] == "fit"]
    assert len(epochs) == 6
    # Each epoch's score is that of the model as it stood then: the last one
    # is the fitted model's, and the fit improves on the first epoch.
    assert epochs[-1] == pytest.approx(model.score(X, y), rel=1e-12)
    assert fit == pytest.approx(model.score(X, y), rel=1e-12)
    assert epochs[0] < epochs[-1]


def test_scoring_monitor_scores_the_averaged_multinomial_model():
    X, y = make_classification(n_samples=400, n_classes=3, n_informative=4,
                               random_state=0)  # fmt: skip
    monitor = callback.ScoringMonitor(scoring="neg_log_loss")
    model = (
        SGDClassifier(
            loss="log_loss", learning_rate="auto", max_iter=4, tol=None, random_state=0
        )
        .set_callbacks(monitor)
        .fit(X, y)
    )
    records = monitor.get_logs(select="most_recent").data
    epochs = [r["neg_log_loss"] for r in records if r["task_name"] == "epoch"]
    assert len(epochs) == 4
    assert epochs[-1] == pytest.approx(-_log_loss(model, X, y), rel=1e-12)


def _log_loss(model, X, y):
    from sklearn.metrics import log_loss

    return log_loss(y, model.predict_proba(X))


def test_a_callback_can_stop_training():
    class StopAfterThree:
        def setup(self, estimator, context):
            self.ended = 0

        def on_fit_task_begin(self, estimator, context):
            pass

        def on_fit_task_end(self, estimator, context):
            if context.task_name == "epoch":
                self.ended += 1
                return self.ended >= 3
            return False

        def teardown(self, estimator, context):
            pass

    X, y = synthetic_binary()
    stopper = StopAfterThree()
    model = SGDClassifier(max_iter=50, tol=None, random_state=0)
    model.set_callbacks(stopper).fit(X, y)
    assert model.n_iter_ == 3 == len(model.loss_curve_)


def test_one_vs_rest_has_one_task_per_binary_model():
    seen = []

    class Recorder:
        def setup(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context):
            seen.append(
                (context.task_name, context.parent and context.parent.task_name)
            )

        def on_fit_task_end(self, estimator, context):
            return False

        def teardown(self, estimator, context):
            pass

    X, y = synthetic_three_classes()
    model = SGDClassifier(max_iter=4, tol=None, random_state=0, n_jobs=2)
    model.set_callbacks(Recorder()).fit(X, y)
    assert seen.count(("binary model", "fit")) == 3
    assert seen.count(("epoch", "binary model")) == 12


def test_progress_bar_runs_over_the_epochs(capsys):
    pytest.importorskip("rich")
    X, y = synthetic_binary()
    model = SGDClassifier(max_iter=5, tol=None, random_state=0)
    model.set_callbacks(callback.ProgressBar()).fit(X, y)
    assert model.n_iter_ == 5


def test_without_sklearn_callbacks_everything_works(monkeypatch):
    # What an older scikit-learn looks like: no _init_callback_context.
    monkeypatch.delattr(_callbacks.CallbackSupportMixin, "_init_callback_context")
    X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    model = SGDRegressor(max_iter=5, tol=None, random_state=0).fit(X, y)
    assert len(model.loss_curve_) == 5
    assert np.isfinite(model.coef_).all()
