"""Export fitted models to ONNX, through skl2onnx.

Importing this module registers converters for :class:`~sklosses.SGDClassifier`
and :class:`~sklosses.SGDRegressor` with skl2onnx, so that
``skl2onnx.to_onnx`` and ``skl2onnx.convert_sklearn`` convert them, alone or
as steps of scikit-learn pipelines and column transformers::

    import skl2onnx
    import sklosses.onnx  # noqa: F401 (registers the converters)

    onnx_model = skl2onnx.to_onnx(model, X[:1])

A classifier's graph has scikit-learn's two outputs: the labels ``predict``
gives, and ``predict_proba``'s probabilities. The converter follows the
fitted model, not the ``loss`` parameter: the sigmoid or the softmax of the
log loss, modified Huber's clipped link, one-vs-rest probabilities
normalized as ``predict_proba`` normalizes them, one sigmoid per label for
multilabel targets (whose labels are then the 0/1 indicator matrix). For a
loss without probabilities the second output holds ``decision_function``'s
scores (for a binary model, a column of ``-score`` and one of ``score``, as
skl2onnx does for ``LinearSVC``); so does any model converted with
``options={"raw_scores": True}``. skl2onnx's ``zipmap`` option applies as to
its own classifiers: ONNX's ZipMap takes float32, so float64 inputs need
``options={"zipmap": False}``. Its ``nocl`` option too: with
``options={"nocl": True}`` the graph holds no label, and gives the classes'
indices 0 to ``n_classes - 1`` in their place, as the label output, the
ZipMap's keys and ``output_class_labels``' list. Integer labels come out as
int64, as skl2onnx gives them; unsigned labels beyond int64's range come out
as uint64, which ONNX's ZipMap cannot map: such a model converts with
``zipmap=False`` or ``nocl=True``, and otherwise says so. A regressor's
graph gives ``predict``'s values: the scores, or their exponential for a
loss with a log link (the Poisson, Gamma and Tweedie deviances). The graph
computes in float64 where the model does (float32 rows on float64
coefficients) and gives its outputs in the input's precision.

A model whose predictions the graph cannot reproduce (a user-defined loss
with a link of its own, which is Python code) raises an error saying so
rather than giving other numbers; a user's loss that keeps the log loss's or
modified Huber's link converts with it. Needs ``pip install "sklosses[onnx]"``.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._optional import import_optional
from .linear_model import SGDClassifier, SGDRegressor
from .losses import LogLoss, Loss, ModifiedHuberLoss

skl2onnx = import_optional("skl2onnx", "sklosses.onnx", extra="onnx")
from onnx.numpy_helper import from_array  # noqa: E402
from skl2onnx._parse import _parse_sklearn_classifier  # noqa: E402
from skl2onnx.algebra.onnx_ops import (  # noqa: E402
    OnnxAdd,
    OnnxArgMax,
    OnnxCast,
    OnnxClip,
    OnnxConcat,
    OnnxConstant,
    OnnxDiv,
    OnnxEqual,
    OnnxExp,
    OnnxGather,
    OnnxGreater,
    OnnxIdentity,
    OnnxMatMul,
    OnnxNeg,
    OnnxReduceSumApi11,
    OnnxReshape,
    OnnxSoftmax,
    OnnxSub,
    OnnxWhere,
)
from skl2onnx.common.data_types import (  # noqa: E402
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
    UInt64TensorType,
)
from skl2onnx.common.shape_calculator import (  # noqa: E402
    calculate_linear_regressor_output_shapes,
)
from skl2onnx.common.utils_classifier import get_label_classes  # noqa: E402

__all__ = []


def _output_type(operator):
    """The outputs' type: the input's float type (float32 for integers)."""
    if isinstance(operator.inputs[0].type, DoubleTensorType):
        return DoubleTensorType, np.float64
    return FloatTensorType, np.float32


def _scores(operator, opv):
    """``X @ coef_.T + intercept_``, shape (n_samples, n_outputs), and its
    dtype: numpy's for the input's and the coefficients' dtypes, as in
    ``decision_function`` (float64 unless both are float32)."""
    model = operator.raw_operator
    coef = model.coef_
    coef = coef.toarray() if hasattr(coef, "toarray") else np.asarray(coef)
    dtype = np.result_type(_output_type(operator)[1], coef.dtype)
    X = operator.inputs[0]
    if not isinstance(
        X.type, DoubleTensorType if dtype == np.float64 else FloatTensorType
    ):
        X = OnnxCast(X, to=dtype, op_version=opv)
    coef = coef.reshape(-1, model.n_features_in_).T.astype(dtype)
    intercept = np.asarray(model.intercept_, dtype=dtype).reshape(-1)
    scores = OnnxAdd(OnnxMatMul(X, coef, op_version=opv), intercept, op_version=opv)
    return scores, dtype


def _label_classes(scope, model):
    """The labels the graph gives for the classes, in an ONNX type that holds
    them exactly: their indices under ``nocl`` (skl2onnx's option), strings,
    int64 as skl2onnx gives integer labels, uint64 for unsigned labels that
    int64 cannot hold."""
    classes = get_label_classes(scope, model)
    if classes.dtype.kind in "OUS":
        return classes.astype(str)
    if classes.dtype.kind == "u" and classes.max() > np.iinfo(np.int64).max:
        return classes
    return classes.astype(np.int64)


def _parse_classifier(scope, model, inputs, custom_parsers=None):
    # skl2onnx's parser reads classes_ first: an unfitted model would get
    # "No known ways to retrieve the number of classes".
    check_is_fitted(model)
    options = scope.get_options(
        model, dict(zipmap=True, nocl=False, output_class_labels=False)
    )
    classes = _label_classes(scope, model)
    if options["zipmap"] is not False and classes.dtype == np.uint64:
        beyond = classes[classes > np.iinfo(np.int64).max]
        raise ValueError(
            "ONNX's ZipMap maps int64 or string labels, and the labels "
            f"{beyond.tolist()} are beyond int64's range. Convert with "
            "options={'zipmap': False} for uint64 labels and an array of "
            "probabilities, or with options={'nocl': True} for the classes' "
            "indices."
        )
    if options["zipmap"] == "columns" and options["nocl"]:
        # skl2onnx names the columns after the labels, which nocl removes.
        raise ValueError(
            "skl2onnx cannot convert zipmap='columns', one output named after "
            "each label, with nocl=True, which replaces the labels by their "
            "indices. Convert with zipmap=True or zipmap=False."
        )
    outputs = _parse_sklearn_classifier(scope, model, inputs, custom_parsers)
    if options["output_class_labels"] and options["nocl"]:
        # skl2onnx types the list of labels after classes_, while it holds
        # the indices.
        outputs[-1].type = Int64TensorType([len(model.classes_)])
    return outputs


def _classifier_shapes(operator):
    model = operator.raw_operator
    n_rows = operator.inputs[0].get_first_dimension()
    output_type, _ = _output_type(operator)
    n_classes = len(model.classes_)
    if model._mode == "multilabel":
        operator.outputs[0].type = Int64TensorType([n_rows, n_classes])
    else:
        label_type = {"U": StringTensorType, "u": UInt64TensorType}
        kind = _label_classes(operator.scope_inst, model).dtype.kind
        operator.outputs[0].type = label_type.get(kind, Int64TensorType)([n_rows])
    operator.outputs[1].type = output_type([n_rows, n_classes])


def _link(model, scores, opv):
    """What ``predict_proba`` makes of the float64 scores, or ``None`` for a
    loss without probabilities."""
    loss = model.loss_
    if not loss.is_probabilistic:
        return None
    one = np.array(1.0)
    link = _link_of(loss)
    if link is LogLoss:
        if model._mode == "multinomial":
            return OnnxSoftmax(scores, axis=1, op_version=opv)
        positive = _sigmoid(scores, opv)
    elif link is ModifiedHuberLoss:
        clipped = OnnxClip(scores, np.array(-1.0), one, op_version=opv)
        positive = OnnxDiv(
            OnnxAdd(clipped, one, op_version=opv), np.array(2.0), op_version=opv
        )
    else:
        raise NotImplementedError(
            f"sklosses.onnx cannot convert the probabilities of {loss!r}: its "
            "inverse link is Python code that ONNX cannot run. Convert with "
            "options={'raw_scores': True} for decision_function's scores, and "
            "apply the link to them where the model runs."
        )
    if model._mode == "binary":
        negative = OnnxSub(one, positive, op_version=opv)
        return OnnxConcat(negative, positive, axis=1, op_version=opv)
    if model._mode == "multilabel":
        return positive
    return _normalized(positive, len(model.classes_), opv)


def _link_of(loss):
    """The built-in loss whose probabilities ``loss`` gives: its class or a
    subclass (a user's loss among them) that keeps its link."""
    for builtin in (LogLoss, ModifiedHuberLoss):
        if (
            isinstance(loss, builtin)
            and type(loss).inverse_link is builtin.inverse_link
            and type(loss).predict_proba is builtin.predict_proba
        ):
            return builtin
    return None


def _sigmoid(scores, opv):
    """``1 / (1 + exp(-s))``, as scipy's ``expit``: small probabilities keep
    their digits (onnxruntime's Sigmoid gives 0 below about 1e-20)."""
    one = np.array(1.0)
    exp = OnnxExp(OnnxNeg(scores, op_version=opv), op_version=opv)
    return OnnxDiv(one, OnnxAdd(one, exp, op_version=opv), op_version=opv)


def _normalized(proba, n_classes, opv):
    """Rows over their sum; a row of zeros uniform, as ``normalize_ovr_proba``."""
    total = OnnxReduceSumApi11(proba, axes=[1], keepdims=1, op_version=opv)
    zero = OnnxEqual(total, np.array(0.0), op_version=opv)
    divisor = OnnxWhere(zero, np.array(1.0), total, op_version=opv)
    uniform = np.array(1.0 / n_classes)
    return OnnxWhere(
        zero, uniform, OnnxDiv(proba, divisor, op_version=opv), op_version=opv
    )


def _labels(scope, model, scores, dtype, opv):
    """What ``predict`` gives, as :func:`_label_classes` holds it."""
    zero = np.array(0, dtype=dtype)
    if model._mode == "multilabel":
        positive = OnnxGreater(scores, zero, op_version=opv)
        return OnnxCast(positive, to=np.int64, op_version=opv)
    if model._mode == "binary":
        flat = OnnxReshape(scores, np.array([-1], dtype=np.int64), op_version=opv)
        positive = OnnxGreater(flat, zero, op_version=opv)
        index = OnnxCast(positive, to=np.int64, op_version=opv)
    else:
        index = OnnxArgMax(scores, axis=1, keepdims=0, op_version=opv)
    # A Constant node: skl2onnx makes no initializer of a uint64 array.
    classes = from_array(_label_classes(scope, model))
    return OnnxGather(
        OnnxConstant(value=classes, op_version=opv), index, axis=0, op_version=opv
    )


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    opv = container.target_opset
    scores, dtype = _scores(operator, opv)
    options = container.get_options(model, dict(raw_scores=False))
    proba = None
    if not options["raw_scores"]:
        # predict_proba computes the link in float64, whatever the scores'.
        if dtype != np.float64:
            scores64 = OnnxCast(scores, to=np.float64, op_version=opv)
        else:
            scores64 = scores
        proba = _link(model, scores64, opv)
    if proba is None:  # decision_function's scores
        proba = scores
        if model._mode == "binary":
            negative = OnnxNeg(scores, op_version=opv)
            proba = OnnxConcat(negative, scores, axis=1, op_version=opv)
    _, output_dtype = _output_type(operator)
    OnnxIdentity(
        _labels(scope, model, scores, dtype, opv), op_version=opv,
        output_names=operator.outputs[:1],
    ).add_to(scope, container)  # fmt: skip
    OnnxCast(
        proba, to=output_dtype, op_version=opv, output_names=operator.outputs[1:]
    ).add_to(scope, container)


# The operator of each link's inverse, by the name the link gives.
_ONNX_OPERATORS = {"Exp": OnnxExp}


def _convert_regressor(scope, operator, container):
    opv = container.target_opset
    model = operator.raw_operator
    scores, _ = _scores(operator, opv)
    _, output_dtype = _output_type(operator)
    loss = model.loss_
    if type(loss).inverse_link is not Loss.inverse_link:
        raise NotImplementedError(
            f"sklosses.onnx cannot convert the predictions of {loss!r}: its "
            "inverse link is Python code that ONNX cannot run. Apply it to "
            "the scores of the model with its coefficients where it runs."
        )
    if loss.link.onnx_operator is not None:
        scores = _ONNX_OPERATORS[loss.link.onnx_operator](scores, op_version=opv)
    prediction = OnnxCast(scores, to=output_dtype, op_version=opv)
    OnnxReshape(
        prediction, np.array([-1, 1], dtype=np.int64), op_version=opv,
        output_names=operator.outputs[:1],
    ).add_to(scope, container)  # fmt: skip


def _regressor_shapes(operator):
    check_is_fitted(operator.raw_operator)
    calculate_linear_regressor_output_shapes(operator)


skl2onnx.update_registered_converter(
    SGDClassifier,
    "SklossesSGDClassifier",
    _classifier_shapes,
    _convert_classifier,
    parser=_parse_classifier,
    # skl2onnx's parser reads the first three, as for its own classifiers.
    options={
        "zipmap": [True, False, "columns"],
        "nocl": [False, True],
        "output_class_labels": [False, True],
        "raw_scores": [False, True],
    },
)


skl2onnx.update_registered_converter(
    SGDRegressor, "SklossesSGDRegressor", _regressor_shapes, _convert_regressor
)
