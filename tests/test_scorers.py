import pickle

import numpy as np
import pytest
from _helpers import breast_cancer, diabetes
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import get_scorer as sklearn_get_scorer
from sklearn.metrics import hinge_loss
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklosses.losses import HuberLoss, LogLoss, loss_names
from sklosses.scorers import (
    get_scorer,
    log_loss_scorer,
    mae_scorer,
    make_loss_scorer,
    rmse_scorer,
)


@pytest.fixture(scope="module")
def regression():
    X, y = diabetes()
    return X, y, Ridge(alpha=0.1).fit(X, y)


@pytest.fixture(scope="module")
def binary():
    X, y = breast_cancer()
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    return X, y, model


@pytest.fixture(scope="module")
def multiclass():
    X, y = load_iris(return_X_y=True)
    return X, y, LogisticRegression(max_iter=1000).fit(X, y)


@pytest.mark.parametrize(
    "scorer, sklearn_name",
    [
        (rmse_scorer, "neg_root_mean_squared_error"),
        (mae_scorer, "neg_mean_absolute_error"),
        (make_loss_scorer("squared_error"), "neg_root_mean_squared_error"),
        (make_loss_scorer("absolute"), "neg_mean_absolute_error"),
    ],
)
def test_regression_scorers_equal_scikit_learn(regression, scorer, sklearn_name):
    X, y, model = regression
    expected = sklearn_get_scorer(sklearn_name)(model, X, y)
    assert scorer(model, X, y) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("scorer", [log_loss_scorer, make_loss_scorer(LogLoss())])
@pytest.mark.parametrize("data", ["binary", "multiclass"])
def test_log_loss_scorers_equal_neg_log_loss(scorer, data, request):
    X, y, model = request.getfixturevalue(data)
    expected = sklearn_get_scorer("neg_log_loss")(model, X, y)
    assert scorer(model, X, y) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_scorers_are_negated_so_greater_is_better(regression):
    X, y, model = regression
    assert rmse_scorer(model, X, y) < 0
    assert rmse_scorer(model, X, y) > rmse_scorer(Ridge(alpha=1e3).fit(X, y), X, y)


def test_hinge_scorer_takes_decision_function(binary):
    X, y, model = binary
    expected = -hinge_loss(y, model.decision_function(X))
    assert make_loss_scorer("hinge")(model, X, y) == pytest.approx(expected)


def test_sample_weight_reaches_the_metric(regression):
    X, y, model = regression
    weight = np.linspace(0.1, 2.0, len(y))
    expected = sklearn_get_scorer("neg_root_mean_squared_error")(
        model, X, y, sample_weight=weight
    )
    assert rmse_scorer(model, X, y, sample_weight=weight) == pytest.approx(expected)
    assert rmse_scorer(model, X, y, sample_weight=weight) != rmse_scorer(model, X, y)


@pytest.mark.parametrize("name", loss_names("regression"))
def test_every_regression_loss_scores_a_ridge_in_cross_val_score(regression, name):
    X, y, _ = regression
    scores = cross_val_score(Ridge(), X, y, scoring=make_loss_scorer(name), cv=3)
    assert scores.shape == (3,)
    assert np.isfinite(scores).all() and (scores <= 0).all()


@pytest.mark.parametrize(
    "name", sorted(set(loss_names("classification")) - set(loss_names("regression")))
)
@pytest.mark.parametrize("data", ["binary", "multiclass"])
def test_every_classification_loss_scores_a_logistic_regression(name, data, request):
    X, y, _ = request.getfixturevalue(data)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    scores = cross_val_score(model, X, y, scoring=make_loss_scorer(name), cv=3)
    assert np.isfinite(scores).all() and (scores <= 0).all()


def test_cross_validate_with_a_dict_of_scorers(regression):
    X, y, _ = regression
    scoring = {
        "rmse": rmse_scorer,
        "mae": mae_scorer,
        "huber": make_loss_scorer(HuberLoss(delta=20.0)),
    }
    results = cross_validate(Ridge(), X, y, scoring=scoring, cv=4)
    for name in scoring:
        assert results[f"test_{name}"].shape == (4,)
    assert (results["test_rmse"] <= results["test_mae"]).all()


def test_grid_search_refits_on_a_loss_scorer(regression):
    X, y, _ = regression
    search = GridSearchCV(
        Ridge(),
        {"alpha": [1e-3, 1.0, 1e3]},
        scoring={"rmse": rmse_scorer, "huber": make_loss_scorer("huber", epsilon=20.0)},
        refit="rmse",
        cv=3,
    ).fit(X, y)
    assert search.best_params_ == {"alpha": 1e-3}
    assert search.best_score_ == pytest.approx(
        search.cv_results_["mean_test_rmse"].max()
    )


def test_get_scorer_knows_sklosses_and_scikit_learn_names(regression):
    X, y, model = regression
    assert get_scorer("rmse")(model, X, y) == rmse_scorer(model, X, y)
    assert get_scorer("absolute")(model, X, y) == mae_scorer(model, X, y)
    assert get_scorer("r2")(model, X, y) == model.score(X, y)
    assert get_scorer("rmse") is not rmse_scorer


def test_get_scorer_rejects_unknown_names():
    with pytest.raises(ValueError, match="'rsme' is not a valid scoring value"):
        get_scorer("rsme")


def test_unknown_loss_in_make_loss_scorer():
    with pytest.raises(ValueError, match="Unknown loss"):
        make_loss_scorer("hubber")


def test_scorers_survive_pickling(regression):
    X, y, model = regression
    scorer = make_loss_scorer(HuberLoss(delta=5.0))
    assert pickle.loads(pickle.dumps(scorer))(model, X, y) == scorer(model, X, y)


@pytest.mark.parametrize("name", ["rmse", "mae", "log_loss", "huber"])
def test_get_scorer_is_not_changed_by_what_callers_do_with_scorers(name):
    from sklearn import config_context

    with config_context(enable_metadata_routing=True):
        public = {"rmse": rmse_scorer, "mae": mae_scorer}.get(name)
        first = get_scorer(name)
        changed = [scorer for scorer in (public, first) if scorer is not None]
        try:
            for scorer in changed:
                scorer.set_score_request(sample_weight=True)
            fresh = get_scorer(name).get_metadata_routing()
            assert fresh.score.requests["sample_weight"] is None
        finally:
            for scorer in changed:
                scorer.set_score_request(sample_weight=None)
