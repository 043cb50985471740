"""scikit-learn's estimator checks for SGDRegressor with every regression loss.

Every check on the configurations that between them take each path a loss
or a parameter selects; on the other losses and configurations, the checks
whose outcome depends on the loss (the rule is in ``_estimator_checks.py``).
"""

import pytest
from _estimator_checks import parametrize_with_loss_dependent_checks
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

# Every check: the default (the squared error, an identity link); a loss
# passed as an object (cloning and parameter handling then see a nested
# estimator); and learning_rate="auto" on the smooth squared error and on the
# Poisson deviance, whose log link weighs the rows' norms by the curvature of
# the loss at the model's predictions, and whose targets are counts (the
# positive_only tag, as scikit-learn's PoissonRegressor declares).
ALL_CHECKS = [
    SGDRegressor(),
    SGDRegressor(loss=HuberLoss(delta=2.0)),
    SGDRegressor(learning_rate="auto"),
    SGDRegressor(loss="poisson", learning_rate="auto"),
]
# The loss-dependent checks: each other loss once, by the first of its names
# (an alias, such as "squared" for "squared_error", is the same estimator),
# and learning_rate="auto" on the absolute loss, whose steps decrease.
LOSS_NAMES = {repr(get_loss(name)): name for name in reversed(loss_names("regression"))}
LOSS_DEPENDENT_CHECKS_ONLY = [
    SGDRegressor(loss=name)
    for name in reversed(LOSS_NAMES.values())
    if name != "squared_error"
] + [SGDRegressor(loss="absolute", learning_rate="auto")]


def expected_failures(_):
    return EXPECTED_FAILURES


@parametrize_with_checks(ALL_CHECKS, expected_failed_checks=expected_failures)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@parametrize_with_loss_dependent_checks(
    LOSS_DEPENDENT_CHECKS_ONLY, expected_failed_checks=expected_failures
)
def test_scikit_learn_loss_dependent_checks(estimator, check):
    check(estimator)
