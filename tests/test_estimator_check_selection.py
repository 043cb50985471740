"""The estimator-check modules run every check scikit-learn generates, and
leave out of the extra configurations only the loss-independent ones."""

import pytest
import test_classification_checks
import test_regression_checks
from _estimator_checks import (
    LOSS_DEPENDENT_CHECKS,
    LOSS_INDEPENDENT_CHECKS,
    check_names,
)
from sklearn.utils.estimator_checks import parametrize_with_checks

MODULES = [test_classification_checks, test_regression_checks]


def _parametrization(test):
    (mark,) = [mark for mark in test.pytestmark if mark.name == "parametrize"]
    return mark


def test_the_two_tables_do_not_overlap():
    assert LOSS_DEPENDENT_CHECKS.isdisjoint(LOSS_INDEPENDENT_CHECKS)


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__)
def test_every_check_is_classified(module):
    # A check that a new scikit-learn adds runs on every configuration until
    # it is placed in a table; this test says which ones are not.
    estimators = module.ALL_CHECKS + module.LOSS_DEPENDENT_CHECKS_ONLY
    generated = check_names(parametrize_with_checks(estimators))
    classified = LOSS_DEPENDENT_CHECKS | set(LOSS_INDEPENDENT_CHECKS)
    assert sorted(generated - classified) == []


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__)
def test_only_the_loss_independent_checks_are_left_out(module):
    # Filtering falls back to every check if scikit-learn's parameters take
    # another form: nothing is lost then, but this test says so.
    every = check_names(parametrize_with_checks(module.LOSS_DEPENDENT_CHECKS_ONLY))
    run = check_names(_parametrization(module.test_scikit_learn_loss_dependent_checks))
    assert run == every - set(LOSS_INDEPENDENT_CHECKS)
