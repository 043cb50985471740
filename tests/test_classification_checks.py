"""scikit-learn's estimator checks for SGDClassifier with every classification loss.

Every check on the configurations that between them take each path a loss
or a parameter selects; on the other losses and configurations, the checks
whose outcome depends on the loss (the rule is in ``_estimator_checks.py``).
"""

import pytest
from _estimator_checks import parametrize_with_loss_dependent_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklosses import SGDClassifier
from sklosses.losses import LogLoss, get_loss, loss_names

# The checks fit on a few unscaled rows with max_iter as low as 1 or 5, where
# SGD says that it stopped early or that its steps were too large: expected
# there, and what the checks look at is not these warnings.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# scikit-learn declares these two for its own SGDClassifier: SGD visits the
# samples in random order, so weight 2 is not the same as a repeated row.
EXPECTED_FAILURES = {
    f"check_sample_weight_equivalence_on_{kind}_data": (
        "per-sample SGD: a weight of 2 and a repeated sample differ in the "
        "order of updates"
    )
    for kind in ("dense", "sparse")
}

# The classification losses; the regression losses a classifier accepts are
# tested in test_classification.py (scikit-learn's own SGDClassifier fails
# these checks with several of them).
CLASSIFICATION_LOSSES = sorted(
    set(loss_names("classification")) - set(loss_names("regression"))
)
# Every check: the default (hinge, one-vs-rest, no predict_proba); the log
# loss by its name (softmax probabilities) and as an object (cloning and
# parameter handling then see a nested estimator); averaging over two
# threads, the only configuration that trains classes in parallel; and
# learning_rate="auto" on the hinge loss, whose decreasing steps count the
# non-zeros of sparse rows.
ALL_CHECKS = [
    SGDClassifier(),
    SGDClassifier(loss="log_loss"),
    SGDClassifier(loss=LogLoss()),
    SGDClassifier(loss="hinge", average=True, n_jobs=2),
    SGDClassifier(loss="hinge", learning_rate="auto"),
]
# The loss-dependent checks: each other loss once, by one of its names ("log"
# is "log_loss"), the log loss one-vs-rest (normalized probabilities) and
# multinomial by name, and learning_rate="auto" on the smooth log loss.
LOSS_NAMES = {repr(get_loss(name)): name for name in CLASSIFICATION_LOSSES}
LOSS_DEPENDENT_CHECKS_ONLY = [
    SGDClassifier(loss=name)
    for name in LOSS_NAMES.values()
    if name not in ("hinge", "log_loss")
] + [
    SGDClassifier(loss="log_loss", multi_class="ovr"),
    SGDClassifier(loss="log_loss", multi_class="multinomial"),
    SGDClassifier(loss="log_loss", learning_rate="auto"),
]


# The modified Huber loss's probabilities (clip(f, -1, 1) + 1) / 2 saturate
# at 0 and 1, as in scikit-learn: normalized one-vs-rest probabilities then
# tie where decision values do not, and per-label probabilities reach 0 and 1.
# scikit-learn's SGDClassifier(loss="modified_huber") fails
# check_classifiers_train for the same reason; we keep its formula.
MODIFIED_HUBER_FAILURES = {
    "check_classifiers_train": (
        "saturated modified Huber probabilities tie where decision values differ"
    ),
    "check_classifiers_multilabel_output_format_predict_proba": (
        "modified Huber probabilities are exactly 0 or 1 beyond the margin"
    ),
}


# learning_rate="auto" sizes a non-smooth loss's decreasing steps for
# standardized features. This check's features are unscaled (|x| ~ 40) and
# its class weights 1000 : 0.0001 need a large intercept: after 1000 epochs
# the hinge loss predicts class 0 for 78% of the samples, the check wants 87%.
AUTO_HINGE_FAILURES = {
    "check_class_weight_classifiers": (
        "auto's decreasing steps assume standardized features; the check's "
        "are unscaled and need a large intercept"
    ),
}


def expected_failures(estimator):
    if repr(get_loss(estimator.loss)) == "ModifiedHuberLoss()":
        return {**EXPECTED_FAILURES, **MODIFIED_HUBER_FAILURES}
    if estimator.learning_rate == "auto" and estimator.loss == "hinge":
        return {**EXPECTED_FAILURES, **AUTO_HINGE_FAILURES}
    return EXPECTED_FAILURES


@parametrize_with_checks(ALL_CHECKS, expected_failed_checks=expected_failures)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@parametrize_with_loss_dependent_checks(
    LOSS_DEPENDENT_CHECKS_ONLY, expected_failed_checks=expected_failures
)
def test_scikit_learn_loss_dependent_checks(estimator, check):
    check(estimator)
