"""scikit-learn's callbacks (``sklearn.callback``, 1.9+) around the epochs.

With an older scikit-learn the mixin is empty and no hook is called.
"""

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9

    class CallbackSupportMixin:
        """Placeholder: this scikit-learn has no callbacks."""


def begin_fit(estimator, X, y, sample_weight, *, max_subtasks, sequential=True):
    """Open the fit's root task; ``None`` when callbacks are unsupported, or
    when there is none to call: neither the estimator's own nor one from a
    meta-estimator's task (opening a task costs more than a small epoch).

    ``max_subtasks``: the epochs, or the binary models of one-vs-rest, which
    run in parallel threads (``sequential=False``, identified by index).
    """
    if not hasattr(estimator, "_init_callback_context") or not (
        getattr(estimator, "_skl_callbacks", None)
        or hasattr(estimator, "_parent_callback_ctx")
    ):
        return None
    context = estimator._init_callback_context(
        max_subtasks=max_subtasks, sequential_subtasks=sequential
    )
    context.call_on_fit_task_begin(
        estimator=estimator, X=X, y=y, metadata=_metadata(sample_weight)
    )
    return context


def end_fit(context, estimator, X, y, sample_weight):
    if context is not None:
        context.call_on_fit_task_end(
            estimator=estimator, X=X, y=y, metadata=_metadata(sample_weight),
            reconstruction_attributes={},
        )  # fmt: skip


def _metadata(sample_weight):
    return None if sample_weight is None else {"sample_weight": sample_weight}


def epoch_hooks(context, estimator, X, y, sample_weight):
    """Hooks for a model that is the whole estimator; ``None`` without callbacks."""
    if context is None:
        return None
    return EpochHooks(
        context, estimator, X, y, sample_weight, estimator._coef_attributes
    )


class EpochHooks:
    """Calls the callbacks' hooks around each epoch of one model.

    ``reconstruct(coef, intercept)`` gives the attributes that make a copy of
    the estimator predict as the model stands after an epoch (ScoringMonitor
    scores it); ``None`` where one model is not the whole estimator (one
    binary model of one-vs-rest).
    """

    def __init__(self, context, estimator, X, y, sample_weight, reconstruct=None):
        self.context = context
        self.estimator = estimator
        self.X, self.y = X, y
        self.metadata = _metadata(sample_weight)
        self.reconstruct = reconstruct
        self._epoch = None

    def begin_epoch(self):
        self._epoch = self.context.subcontext(task_name="epoch")
        self._epoch.call_on_fit_task_begin(
            estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata
        )

    def end_epoch(self, coef, intercept):
        """Run the end hooks; True when a callback asks to stop."""
        attributes = None
        if self.reconstruct is not None:

            def attributes():
                return self.reconstruct(coef.copy(), intercept.copy())

        return self._epoch.call_on_fit_task_end(
            estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata,
            reconstruction_attributes=attributes,
        )  # fmt: skip
