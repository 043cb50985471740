"""scikit-learn's estimator checks for SGDRegressor with every regression loss."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklosses import SGDRegressor
from sklosses.losses import HuberLoss, get_loss, loss_names

# The checks fit on a few unscaled rows with max_iter as low as 1 or 5, where
# SGD says that it stopped early or that its steps were too large: expected
# there, and what the checks look at is not these warnings.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# scikit-learn declares these two for its own SGDRegressor: SGD visits the
# samples in random order, so weight 2 is not the same as a repeated row.
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": (
        "per-sample SGD: a weight of 2 and a repeated sample differ in the "
        "order of updates"
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "per-sample SGD: a weight of 2 and a repeated sample differ in the "
        "order of updates"
    ),
}

# Each loss once, by the first of its names (an alias, such as "squared"
# for "squared_error", is the same estimator), and a loss passed as an object
# once: the checks' cloning and parameter handling then see a nested estimator.
LOSS_NAMES = {repr(get_loss(name)): name for name in reversed(loss_names("regression"))}
ESTIMATORS = [SGDRegressor(loss=name) for name in reversed(LOSS_NAMES.values())] + [
    SGDRegressor(loss=HuberLoss(delta=2.0)),
    SGDRegressor(learning_rate="auto"),
    SGDRegressor(loss="absolute", learning_rate="auto"),
    SGDRegressor(loss="poisson", learning_rate="auto"),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda _: EXPECTED_FAILURES)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
