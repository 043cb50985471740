"""sklosses estimators in scikit-learn's model selection, end to end."""

import _helpers
import numpy as np
import pandas as pd
import pytest
import sklearn
from numpy.testing import assert_allclose
from scipy.stats import loguniform, uniform
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklosses import SGDClassifier, SGDRegressor
from sklosses.losses import AbsoluteLoss, HuberLoss, QuantileLoss, SquaredLoss
from sklosses.scorers import (
    log_loss_scorer,
    mae_scorer,
    make_loss_scorer,
    rmse_scorer,
)


@pytest.fixture(scope="module")
def diabetes():
    return _helpers.diabetes()


@pytest.fixture(scope="module")
def cancer():
    return _helpers.breast_cancer()


def _regressor(**params):
    return make_pipeline(
        StandardScaler(), SGDRegressor(learning_rate="auto", random_state=0, **params)
    )


def _classifier(**params):
    return make_pipeline(
        StandardScaler(), SGDClassifier(learning_rate="auto", random_state=0, **params)
    )


def test_grid_search_over_loss_objects_picks_by_rmse(diabetes):
    X, y = diabetes
    losses = [SquaredLoss(), AbsoluteLoss(), HuberLoss(delta=50.0)]
    search = GridSearchCV(
        _regressor(), {"sgdregressor__loss": losses}, scoring=rmse_scorer, cv=3
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_["sgdregressor__loss"] is losses[np.argmax(scores)]
    assert repr(search.best_estimator_[-1].loss_) == repr(losses[np.argmax(scores)])


def test_grid_search_over_loss_names_and_nested_delta(diabetes):
    X, y = diabetes
    names = GridSearchCV(
        _regressor(),
        {"sgdregressor__loss": ["squared_error", "absolute", "huber"]},
        scoring=mae_scorer,
        cv=3,
    ).fit(X, y)
    mae = dict(
        zip(
            [params["sgdregressor__loss"] for params in names.cv_results_["params"]],
            -names.cv_results_["mean_test_score"],
            strict=True,
        )
    )
    assert names.best_params_["sgdregressor__loss"] == min(mae, key=mae.get)
    # Given by name, the Huber loss takes epsilon=0.1 as its delta: at the
    # scale of these targets, the absolute loss.
    assert mae["huber"] == pytest.approx(mae["absolute"], rel=0.02)
    deltas = GridSearchCV(
        _regressor(loss=HuberLoss()),
        {"sgdregressor__loss__delta": [0.1, 10.0, 100.0]},
        scoring=rmse_scorer,
        cv=3,
    ).fit(X, y)
    # The diabetes residuals are about 50 wide: a tiny delta is the absolute
    # loss, which loses on RMSE.
    assert deltas.best_params_["sgdregressor__loss__delta"] != 0.1
    assert (
        deltas.best_estimator_[-1].loss_.delta
        == deltas.best_params_["sgdregressor__loss__delta"]
    )


def test_randomized_search_with_scipy_distributions(diabetes):
    X, y = diabetes
    for loss, distribution in [
        (HuberLoss(), {"sgdregressor__loss__delta": uniform(1.0, 100.0)}),
        (QuantileLoss(), {"sgdregressor__loss__quantile": uniform(0.1, 0.8)}),
    ]:
        search = RandomizedSearchCV(
            _regressor(loss=loss),
            {**distribution, "sgdregressor__alpha": loguniform(1e-6, 1e-1)},
            n_iter=4,
            scoring=make_loss_scorer(loss),
            cv=3,
            random_state=0,
        ).fit(X, y)
        assert np.isfinite(search.cv_results_["mean_test_score"]).all()
        assert set(search.best_params_) == {*distribution, "sgdregressor__alpha"}


@pytest.mark.filterwarnings(
    # Breast cancer is nearly separable: at alpha=1e-4 the objective still falls
    # at max_iter, and the fit says so. The scorers are what is tested here.
    "ignore:Maximum number of iteration:sklearn.exceptions.ConvergenceWarning"
)
def test_cross_validate_with_a_dict_of_scorers_refits_on_one(cancer):
    X, y = cancer
    scoring = {
        "log_loss": log_loss_scorer,
        "hinge": make_loss_scorer("hinge"),
        "accuracy": "accuracy",
    }
    results = cross_validate(_classifier(loss="log_loss"), X, y, scoring=scoring, cv=4)
    assert (results["test_log_loss"] < 0).all()
    assert (results["test_accuracy"] > 0.9).all()
    search = GridSearchCV(
        _classifier(loss="log_loss"),
        {"sgdclassifier__alpha": [1e-4, 1e-1]},
        scoring=scoring,
        refit="log_loss",
        cv=3,
    ).fit(X, y)
    best = np.argmax(search.cv_results_["mean_test_log_loss"])
    assert search.best_index_ == best


@pytest.mark.filterwarnings(
    # Breast cancer is nearly separable: at alpha=1e-4 the objective still falls
    # at max_iter, and the fit says so. The scorers are what is tested here.
    "ignore:Maximum number of iteration:sklearn.exceptions.ConvergenceWarning"
)
def test_scorers_in_cross_val_score(diabetes, cancer):
    X, y = diabetes
    rmse = -cross_val_score(_regressor(), X, y, scoring=rmse_scorer, cv=3)
    mae = -cross_val_score(_regressor(), X, y, scoring=mae_scorer, cv=3)
    assert (mae < rmse).all()
    X, y = cancer
    scores = cross_val_score(
        _classifier(loss="log_loss"), X, y, scoring=log_loss_scorer, cv=3
    )
    # Within 2% of the exact minimizer of the same objective, or better.
    exact = make_pipeline(
        StandardScaler(), LogisticRegression(C=1 / (1e-4 * len(y) * 2 / 3))
    )
    optimum = cross_val_score(exact, X, y, scoring=log_loss_scorer, cv=3)
    assert (-scores <= -1.02 * optimum).all()


def test_metadata_routing_sends_sample_weight_to_fit_and_scorer(diabetes):
    X, y = diabetes
    weight = np.where(np.arange(len(y)) % 2 == 0, 1.0, 3.0)
    with sklearn.config_context(enable_metadata_routing=True):
        scaler = StandardScaler().set_fit_request(sample_weight=False)
        model = SGDRegressor(learning_rate="auto", random_state=0)
        model.set_fit_request(sample_weight=True)
        scorer = make_loss_scorer("squared").set_score_request(sample_weight=True)
        routed = cross_validate(
            make_pipeline(scaler, model), X, y, scoring=scorer, cv=KFold(3),
            params={"sample_weight": weight},
        )["test_score"]  # fmt: skip
    # The same by hand: weighted fits, weighted scores.
    expected = []
    for train, test in KFold(3).split(X):
        fitted = _regressor().fit(
            X[train], y[train], sgdregressor__sample_weight=weight[train]
        )
        residual = fitted.predict(X[test]) - y[test]
        expected.append(-np.sqrt(np.average(residual**2, weights=weight[test])))
    assert_allclose(routed, expected, rtol=1e-12)


def test_dataframe_input_keeps_feature_names_through_a_search(diabetes):
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    search = GridSearchCV(
        SGDRegressor(learning_rate="auto", random_state=0),
        {"loss": [SquaredLoss(), HuberLoss(delta=30.0)]},
        cv=3,
    ).fit(X, y)
    assert list(search.best_estimator_.feature_names_in_) == list(X.columns)
    assert isinstance(X, pd.DataFrame)


def test_process_workers_give_the_same_search_as_one_process(diabetes):
    X, y = diabetes
    grid = {"sgdregressor__loss": [SquaredLoss(), HuberLoss(delta=30.0)]}
    results = [
        GridSearchCV(_regressor(), grid, scoring=rmse_scorer, cv=3, n_jobs=n_jobs)
        .fit(X, y)
        .cv_results_["mean_test_score"]
        for n_jobs in (1, 2)
    ]
    assert_allclose(*results, rtol=0, atol=0)
