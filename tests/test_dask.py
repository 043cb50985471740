"""Training on a dask.distributed cluster: two process workers, no mocks."""

import joblib
import numpy as np
import pytest
from sklearn.metrics import log_loss, mean_squared_error, r2_score
from sklearn.model_selection import GridSearchCV

from sklosses import SGDClassifier, SGDRegressor

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


def _logistic(n_samples, chunk_rows, seed=0):
    rng = da.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 10), chunks=(chunk_rows, 10))
    w = np.linspace(-1.0, 1.0, 10)
    y = (X @ w + rng.logistic(size=n_samples, chunks=chunk_rows) > 0).astype(int)
    return X, y


def test_incremental_wraps_both_estimators(client):
    dask_ml = pytest.importorskip("dask_ml.wrappers")
    X, y = _logistic(20_000, 5_000)
    classifier = dask_ml.Incremental(
        SGDClassifier(loss="log_loss", learning_rate="auto", random_state=0),
        scoring="accuracy",
    ).fit(X, y, classes=[0, 1])
    assert classifier.score(X, y) > 0.75
    target = X @ np.arange(10.0)
    regressor = dask_ml.Incremental(
        SGDRegressor(learning_rate="auto", random_state=0)
    ).fit(X, target)
    # dask-ml's own r2 fails on predictions of unknown chunk sizes with this
    # dask ("cannot broadcast shape (nan,)"): score the computed arrays.
    prediction = regressor.predict(X).compute()
    assert r2_score(target.compute(), prediction) > 0.99


def test_grid_search_on_the_cluster_picks_as_locally(client):
    X, y = (a.compute() for a in _logistic(4_000, 4_000))
    search = GridSearchCV(
        SGDClassifier(loss="log_loss", random_state=0),
        {"alpha": [1e-5, 1e-2, 1.0]},
        scoring="neg_log_loss",
        cv=3,
        n_jobs=-1,
    )
    with joblib.parallel_backend("dask"):
        on_cluster = search.fit(X, y).best_params_
    assert search.fit(X, y).best_params_ == on_cluster


@pytest.mark.parametrize("as_frame", [False, True])
def test_parameter_mixing_matches_single_process_sgd(client, as_frame):
    from sklosses.dask import fit_distributed

    X, y = _logistic(60_000, 10_000)
    X_test, y_test = (a.compute() for a in _logistic(20_000, 20_000, seed=1))
    if as_frame:
        dd = pytest.importorskip("dask.dataframe")
        X, y = dd.from_dask_array(X), dd.from_dask_array(y)
    params = dict(loss="log_loss", learning_rate="auto", random_state=0)
    mixed = fit_distributed(SGDClassifier(**params), X, y, epochs=5)
    single = SGDClassifier(max_iter=5, tol=None, **params).fit(
        np.asarray(X), np.asarray(y)
    )
    assert isinstance(mixed, SGDClassifier)
    assert len(mixed.loss_curve_) == 5
    assert log_loss(y_test, mixed.predict_proba(X_test)) <= 1.02 * log_loss(
        y_test, single.predict_proba(X_test)
    )


def test_a_dask_dataframe_read_from_parquet_trains_as_the_same_arrays(client, tmp_path):
    from sklosses.dask import fit_distributed

    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    X, y = (a.compute() for a in _logistic(40_000, 10_000))
    columns = [f"x{k}" for k in range(X.shape[1])]
    for part in range(4):  # a dataset of four files, a partition each
        rows = slice(part * 10_000, (part + 1) * 10_000)
        frame = pd.DataFrame(X[rows], columns=columns).assign(y=y[rows])
        frame.to_parquet(tmp_path / f"part-{part}.parquet")
    table = dd.read_parquet(tmp_path)
    params = dict(loss="log_loss", learning_rate="auto", random_state=0)
    from_parquet = fit_distributed(
        SGDClassifier(**params), table[columns], table["y"], epochs=3
    )
    from_arrays = fit_distributed(
        SGDClassifier(**params),
        da.from_array(X, chunks=(10_000, X.shape[1])),
        da.from_array(y, chunks=10_000),
        epochs=3,
    )
    np.testing.assert_array_equal(from_parquet.coef_, from_arrays.coef_)
    np.testing.assert_array_equal(from_parquet.intercept_, from_arrays.intercept_)


def test_parameter_mixing_with_averaging_and_a_regressor(client):
    from sklosses.dask import fit_distributed

    X, _ = _logistic(40_000, 10_000)
    y = X @ np.arange(10.0) + da.random.RandomState(2).normal(size=40_000, chunks=5_000)
    model = fit_distributed(
        SGDRegressor(learning_rate="invscaling", average=True, random_state=0), X, y
    )
    single = SGDRegressor(
        learning_rate="invscaling", average=True, max_iter=5, tol=None, random_state=0
    ).fit(X.compute(), y.compute())
    X_test = X[:5_000].compute()
    y_test = y[:5_000].compute()
    assert mean_squared_error(y_test, model.predict(X_test)) <= 1.02 * (
        mean_squared_error(y_test, single.predict(X_test))
    )
    assert model.coef_ is model._average_coef


def test_parameter_mixing_trains_a_poisson_model(client):
    from sklearn.linear_model import PoissonRegressor
    from sklearn.metrics import mean_poisson_deviance

    from sklosses.dask import fit_distributed

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4_000, 5))
    y = rng.poisson(np.exp(X @ [0.3, -0.2, 0.1, 0.0, 0.5] + 1.0)).astype(float)
    model = fit_distributed(
        SGDRegressor(loss="poisson", learning_rate="auto", random_state=0),
        da.from_array(X, chunks=1_000), da.from_array(y, chunks=1_000), epochs=5,
    )  # fmt: skip
    exact = PoissonRegressor(alpha=1e-4).fit(X, y)
    assert mean_poisson_deviance(y, model.predict(X)) <= 1.01 * mean_poisson_deviance(
        y, exact.predict(X)
    )


def test_parameter_mixing_rejects_mismatched_shapes():
    from sklosses.dask import fit_distributed

    X = da.ones((10, 2), chunks=5)
    with pytest.raises(ValueError, match="as many rows"):
        fit_distributed(SGDRegressor(), X, da.ones(9, chunks=5))


def test_the_dask_joblib_backend_trains_the_same_one_vs_rest_model(client):
    # The binary models run in threads under a process-based backend, not in
    # workers that would train copies and hand back the untrained model.
    X, y = (a.compute() for a in _logistic(2_000, 2_000))
    y = y + (X[:, 0] > 0.5) * 2  # four classes
    reference = SGDClassifier(max_iter=10, tol=None, random_state=0).fit(X, y)
    with joblib.parallel_backend("dask"):
        model = SGDClassifier(max_iter=10, tol=None, random_state=0, n_jobs=2)
        model.fit(X, y)
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    np.testing.assert_array_equal(model.intercept_, reference.intercept_)


def test_classes_may_be_a_lazy_dask_array():
    # What dask-ml's Incremental tests pass: np.unique of a dask y is lazy,
    # of unknown length.
    X, y = _logistic(400, 100)
    classes = np.unique(y)
    assert isinstance(classes, da.Array)
    model = SGDClassifier(random_state=0)
    model.partial_fit(X[:100].compute(), y[:100].compute(), classes=classes)
    np.testing.assert_array_equal(model.classes_, [0, 1])
    model.partial_fit(X[100:].compute(), y[100:].compute(), classes=classes)
    with pytest.raises(ValueError, match="is not the same as on last call"):
        model.partial_fit(X[:10].compute(), y[:10].compute(), classes=da.arange(3))


def test_incremental_with_lazy_classes():
    dask_ml = pytest.importorskip("dask_ml.wrappers")
    X, y = _logistic(2_000, 500)
    model = dask_ml.Incremental(
        SGDClassifier(loss="log_loss", learning_rate="auto", random_state=0),
        scoring="accuracy",
        random_state=0,
    )
    model.fit(X, y, classes=np.unique(y))
    assert model.score(X, y) > 0.75
