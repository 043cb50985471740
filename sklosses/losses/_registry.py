"""Loss names accepted by the estimators, and the function that resolves them."""

from ._base import Loss
from ._classification import (
    HingeLoss,
    LogLoss,
    ModifiedHuberLoss,
    PerceptronLoss,
    SquaredHingeLoss,
)
from ._deviance import GammaLoss, PoissonLoss, TweedieLoss
from ._regression import (
    AbsoluteLoss,
    EpsilonInsensitiveLoss,
    HuberLoss,
    QuantileLoss,
    SquaredEpsilonInsensitiveLoss,
    SquaredLoss,
)

# The built-in losses: each class gives the names ``loss=`` accepts for it
# (``names``) and the parameter the estimators' ``epsilon`` sets
# (``epsilon_parameter``). Their order is that of the names sklosses adds.
BUILT_IN_LOSSES = (
    HingeLoss,
    LogLoss,
    ModifiedHuberLoss,
    SquaredHingeLoss,
    PerceptronLoss,
    SquaredLoss,
    AbsoluteLoss,
    HuberLoss,
    EpsilonInsensitiveLoss,
    SquaredEpsilonInsensitiveLoss,
    QuantileLoss,
    PoissonLoss,
    GammaLoss,
    TweedieLoss,
)


def loss_names(task=None):
    """Every loss name that :func:`get_loss` and the estimators accept.

    Parameters
    ----------
    task : {"regression", "classification"}, default=None
        Only the names usable for this task: regression losses of the whole
        real line serve both tasks (a classifier trains them on -1/+1
        targets, as scikit-learn does), classification losses and those of
        counts and positive amounts (``"poisson"``, ``"gamma"``,
        ``"tweedie"``) one task only. ``None`` lists all.

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from sklosses.losses import loss_names
    >>> loss_names("regression")  # doctest: +NORMALIZE_WHITESPACE
    ['squared_error', 'huber', 'epsilon_insensitive',
     'squared_epsilon_insensitive', 'squared', 'absolute', 'absolute_error',
     'quantile', 'poisson', 'gamma', 'tweedie']
    """
    if task not in (None, "regression", "classification"):
        raise ValueError(
            f"task must be 'regression', 'classification' or None, got {task!r}."
        )
    return [
        name
        for name, (cls, _) in _REGISTRY.items()
        if task is None
        or cls.task == task
        # As SGDClassifier refuses a link other than the identity.
        or (task == "classification" and cls.link.is_identity)
    ]


# The names scikit-learn's SGD estimators take; the others are sklosses's own.
SCIKIT_LEARN_NAMES = (
    "hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron",
    "squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive",
)  # fmt: skip
# scikit-learn's default ``epsilon``.
DEFAULT_EPSILON = 0.1


def _registry(losses):
    """name -> (class, the loss parameter that takes the estimator's
    ``epsilon``): scikit-learn's names first, in its order, then the names
    sklosses adds, in the order of ``losses``."""
    entries = {
        name: (cls, cls.epsilon_parameter) for cls in losses for name in cls.names
    }
    first = [name for name in SCIKIT_LEARN_NAMES if name in entries]
    rest = [name for name in entries if name not in SCIKIT_LEARN_NAMES]
    return {name: entries[name] for name in first + rest}


_REGISTRY = _registry(BUILT_IN_LOSSES)


def scikit_learn_loss_functions(task):
    """The estimators' ``loss_functions``, shaped as scikit-learn's class attribute.

    ``{name: (loss class, *the parameters its kernel runs with)}`` for
    scikit-learn's names, with scikit-learn's default ``epsilon``:
    ``(HingeLoss, 1.0)``, ``(PerceptronLoss, 0.0)``, ``(HuberLoss, 0.1)``,
    ``(SquaredLoss,)``.
    """
    functions = {}
    for name in loss_names(task):
        if name in SCIKIT_LEARN_NAMES:
            loss = get_loss(name, epsilon=DEFAULT_EPSILON)
            functions[name] = (type(loss), *loss.kernel_spec()[1])
    return functions


def get_loss(loss, *, epsilon=None):
    """Turn a loss name or a :class:`Loss` instance into a validated loss.

    Parameters
    ----------
    loss : str or Loss
        A name from :func:`loss_names` or a Loss instance, returned as is
        after checking its parameters.
    epsilon : float, default=None
        For ``"huber"``, ``"epsilon_insensitive"`` and
        ``"squared_epsilon_insensitive"`` given by name, the threshold, as
        scikit-learn's SGD estimators pass their ``epsilon``. A Loss instance
        keeps its own parameters. ``None`` keeps the loss's default.

    Returns
    -------
    loss : Loss

    Raises
    ------
    ValueError
        If ``loss`` is neither a known name nor a Loss instance, or its
        parameters are invalid.

    Examples
    --------
    >>> from sklosses.losses import get_loss
    >>> get_loss("huber", epsilon=0.5)
    HuberLoss(delta=0.5)
    >>> get_loss("absolute_error")
    AbsoluteLoss()
    """
    if isinstance(loss, Loss):
        instance = loss
    elif isinstance(loss, str) and loss in _REGISTRY:
        cls, epsilon_param = _REGISTRY[loss]
        kwargs = {}
        if epsilon_param is not None and epsilon is not None:
            kwargs[epsilon_param] = epsilon
        instance = cls(**kwargs)
    else:
        raise ValueError(
            f"Unknown loss {loss!r}. Valid losses are a sklosses.losses.Loss "
            f"instance or one of the names {loss_names()}."
        )
    instance._validate_params()
    return instance
