"""scikit-learn's estimator checks: all of them on a few configurations, on the
others only those whose outcome depends on the loss.

Most checks pin down what every loss shares: parameters, tags, input
validation, the containers fit accepts. Run once per loss, they repeat the
same code on the same data. A loss, though, is more than its gradient: it
decides the inverse link of ``predict``, whether ``predict_proba`` exists
and what it returns, the best constant a fit starts from, the targets a
regressor accepts (and so its tags), and which branch of
``learning_rate="auto"`` sizes the steps. So the rule, by check name:

- A check is **loss-independent** (:data:`LOSS_INDEPENDENT_CHECKS`, each
  with why) when code that every loss shares settles its outcome: it never
  trains; or what it asserts is decided by input validation before the loss
  is looked at (NaN, 1-D ``X``, a wrong number of features, continuous
  classes, zero weights); or it trains on well-posed data and asserts only
  on the estimator's API around the fit (returns ``self``, attributes,
  unchanged parameters, the containers, dtypes, memory layouts and sparse
  formats of ``X`` and ``sample_weight`` it accepts, round trips through
  pickle, a pipeline or ``sparsify``). The loss sees raw scores and targets,
  never ``X`` (the compiled loop takes a built-in loss as a number and its
  parameters: one loop per input type serves them all); what does see ``X``
  per loss is ``learning_rate="auto"``, and each of its branches
  (non-smooth, smooth, log link) has a configuration that runs every check.
  The two sample-weight equivalences fail for every configuration (see the
  modules' ``EXPECTED_FAILURES``): an expected failure shows nothing more
  for another loss.
- A check is **loss-dependent** (:data:`LOSS_DEPENDENT_CHECKS`) when it
  trains and asserts on what the model learned or predicts: the values of
  predictions, decision values, probabilities or scores, their consistency
  with each other, their invariance under reordering, subsets or refits;
  when it hands the targets over in another form (2-D, integers, not an
  array, one label, strings, multilabel), or weights them (sample weights,
  class weights), where the loss's own validation and fit take over; or when
  it fits degenerate data (one sample, one feature), where the loss's
  arithmetic meets its edge cases.

Evidence for the split, besides a reading of each check: in scikit-learn
1.9's sources, a loss-independent check asserts only that something raises
or runs, that an attribute, parameter, tag or ``__dict__`` is as it should
be, or that a fitted model's outputs are unchanged by a round trip; a
loss-dependent one compares predictions, probabilities or scores with the
targets or with those of another fit, or
(``check_sample_weights_not_overwritten``, ``check_fit2d_1sample``,
``check_fit2d_1feature``) hands loss-specific code the weights or the
degenerate rows it must leave alone or cope with.

The configurations that run the full list are chosen so that every code path
a loss selects is among them; the others run the checks that are not
loss-independent. A check scikit-learn adds is neither: it runs on every
configuration, and ``test_estimator_check_selection.py`` fails until it is
placed in one of the two tables.
"""

import functools

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

# By what settles the check's outcome. Each reason says why no loss changes it.
LOSS_INDEPENDENT_CHECKS = {
    # Never trains: construction, parameters, tags, cloning.
    **dict.fromkeys(
        [
            "check_estimator_cloneable",
            "check_estimator_repr",
            "check_estimator_tags_renamed",
            "check_valid_tag_types",
            "check_mixin_order",
            "check_no_attributes_set_in_init",
            "check_do_not_raise_errors_in_init_or_set_params",
            "check_parameters_default_constructible",
            "check_get_params_invariance",
            "check_set_params",
            "check_estimators_unfitted",
            "check_array_api_input",
        ],
        "construction, parameters and tags; nothing is trained",
    ),
    # Input validation rejects the data before the loss is looked at.
    **dict.fromkeys(
        [
            "check_all_zero_sample_weights_error",
            "check_complex_data",
            "check_dtype_object",
            "check_estimators_empty_data_messages",
            "check_estimators_nan_inf",
            "check_fit1d",
            "check_fit2d_predict1d",
            "check_supervised_y_no_nan",
            "check_classifiers_regression_target",
            "check_sample_weights_shape",
            "check_requires_y_none",
            "check_n_features_in",
            "check_n_features_in_after_fitting",
            "check_estimators_partial_fit_n_features",
            "check_estimator_sparse_tag",
            "check_positive_only_tag_during_fit",
        ],
        "input validation decides it, before any loss code runs",
    ),
    # Trains on well-posed data; asserts on the API around the fit.
    **dict.fromkeys(
        [
            "check_fit_score_takes_y",
            "check_estimators_fit_returns_self",
            "check_fit_check_is_fitted",
            "check_non_transformer_estimators_n_iter",
            "check_dont_overwrite_parameters",
            "check_estimators_overwrite_params",
            "check_dict_unchanged",
            "check_regressors_no_decision_function",
        ],
        "asserts on the estimator's API around a fit, not on what it learned",
    ),
    **dict.fromkeys(
        [
            "check_estimators_dtypes",
            "check_f_contiguous_array_estimator",
            "check_readonly_memmap_input",
            "check_estimator_sparse_array",
            "check_estimator_sparse_matrix",
            "check_sample_weights_list",
            "check_sample_weights_not_an_array",
            "check_sample_weights_pandas_series",
        ],
        "the containers of X and sample_weight fit accepts; the loss never sees X",
    ),
    **dict.fromkeys(
        [
            "check_estimators_pickle",
            "check_pipeline_consistency",
            "check_sparsify_coefficients",
        ],
        "the same fitted model's predictions before and after a round trip "
        "(every loss's own pickling is tested in test_losses.py)",
    ),
    **dict.fromkeys(
        [
            "check_sample_weight_equivalence_on_dense_data",
            "check_sample_weight_equivalence_on_sparse_data",
        ],
        "expected to fail for every configuration, by the order of SGD's updates",
    ),
}

LOSS_DEPENDENT_CHECKS = frozenset(
    [
        # What the model predicts, and how its outputs agree.
        "check_classifiers_train",
        "check_regressors_train",
        "check_decision_proba_consistency",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_fit_idempotent",
        # Targets in another form, or weighted.
        "check_classifiers_classes",
        "check_classifiers_one_label",
        "check_classifiers_one_label_sample_weights",
        "check_classifiers_multilabel_representation_invariance",
        "check_classifiers_multilabel_output_format_predict",
        "check_classifiers_multilabel_output_format_predict_proba",
        "check_classifiers_multilabel_output_format_decision_function",
        "check_classifier_data_not_an_array",
        "check_regressor_data_not_an_array",
        "check_regressors_int",
        "check_supervised_y_2d",
        "check_class_weight_classifiers",
        "check_class_weight_balanced_linear_classifier",
        "check_sample_weights_not_overwritten",
        # Degenerate data.
        "check_fit2d_1sample",
        "check_fit2d_1feature",
    ]
)


def check_name(check):
    """The name of a check as scikit-learn yields it: a function, or a
    partial of one (its estimator's name bound, keywords such as
    ``readonly_memmap``), possibly wrapped by a decorator."""
    while True:
        if isinstance(check, functools.partial):
            check = check.func
        elif hasattr(check, "__wrapped__"):
            check = check.__wrapped__
        else:
            return check.__name__


def _pairs(argvalues):
    """The ``(estimator, check)`` pairs of a ``parametrize_with_checks``
    mark's parameters, whether plain or wrapped in ``pytest.param`` (an
    expected failure)."""
    return [tuple(getattr(value, "values", value)) for value in argvalues]


def parametrize_with_loss_dependent_checks(estimators, expected_failed_checks):
    """``parametrize_with_checks`` without the :data:`LOSS_INDEPENDENT_CHECKS`.

    The same parameters, ids and expected failures, filtered. Should
    scikit-learn's mark ever take another form, every check runs.
    """

    def every_check():
        return parametrize_with_checks(
            estimators, expected_failed_checks=expected_failed_checks
        )

    mark = every_check()
    try:
        argnames, argvalues = mark.args
        # scikit-learn 1.8 passes a generator: it is read once, here.
        argvalues = list(argvalues)
        kept = [
            value
            for value, (_, check) in zip(argvalues, _pairs(argvalues), strict=True)
            if check_name(check) not in LOSS_INDEPENDENT_CHECKS
        ]
    except Exception:
        return every_check()
    return pytest.mark.parametrize(argnames, kept, **mark.kwargs)


def check_names(mark):
    """The names of the checks a ``parametrize_with_checks`` mark runs."""
    _, argvalues = mark.args
    return {check_name(check) for _, check in _pairs(argvalues)}
