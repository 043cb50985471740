"""Scalar loss kernels for the SGD loop.

Every built-in loss reaches compiled code as plain data: an integer kind and a
parameter array. Dispatching on ``kind`` inside one cached function (rather than
passing a jitted function around) lets numba load the kernels from its on-disk
cache in a new process instead of recompiling them.

``y`` is the encoded target of one output (a real value for regression, -1/+1
for margin losses, 0/1 for the logistic loss) and ``raw`` the raw prediction.
"""

import math

import numpy as np

from ._cache import cached_njit

# The SGD loop's floating-point flags (``_sgd.py``), which the functions it
# calls are compiled with too. Reassociation lets LLVM vectorize the row
# sums (a sequential sum waits on each addition); contraction fuses
# multiply-adds, which CSR epochs need most. Both change results by rounding
# only, the same way from run to run.
VECTORIZE = {"reassoc", "contract"}

# The registry of the built-in kernels: one line per kind gives its number
# (the order of registration), its name, the one a loss's kernel_spec gives,
# and its flags. The loop asks a kind for its flags (has_log_link), never for
# a range of numbers.
KINDS = {}
# The flag of the log link's deviances: ``log_link_loss`` and
# ``_log_link_curvature`` compute them, and the loop steps them implicitly.
LOG_LINK = 1
_FLAGS = []


def register_kind(name, flags=0):
    """Register the built-in kernel ``name`` with its ``flags``; return its kind."""
    KINDS[name] = len(_FLAGS)
    _FLAGS.append(flags)
    return KINDS[name]


SQUARED = register_kind("squared")
ABSOLUTE = register_kind("absolute")
HUBER = register_kind("huber")
EPSILON_INSENSITIVE = register_kind("epsilon_insensitive")
SQUARED_EPSILON_INSENSITIVE = register_kind("squared_epsilon_insensitive")
QUANTILE = register_kind("quantile")
LOG = register_kind("log")
HINGE = register_kind("hinge")
SQUARED_HINGE = register_kind("squared_hinge")
MODIFIED_HUBER = register_kind("modified_huber")
POISSON = register_kind("poisson", LOG_LINK)
GAMMA = register_kind("gamma", LOG_LINK)
TWEEDIE = register_kind("tweedie", LOG_LINK)

# The kinds of each flag as the bits of one integer, which numba freezes into
# the compiled code: a test of a bit costs a shift, and reads no memory.
LOG_LINK_KINDS = sum(1 << kind for kind, flags in enumerate(_FLAGS) if flags & LOG_LINK)
# A loss defined by the user's own per-sample functions: the engine compiles
# its loop with them (see _kernels.py) instead of dispatching on the kind.
USER_DEFINED = -1
KINDS["user"] = USER_DEFINED


@cached_njit(nogil=True, inline="always")
def has_log_link(kind):
    """Whether ``kind`` is registered with the ``LOG_LINK`` flag (a user's
    loss, of kind -1, is not)."""
    return kind >= 0 and (LOG_LINK_KINDS >> kind) & 1 == 1


@cached_njit(nogil=True, inline="always")
def loss_value_and_derivative(kind, params, y, raw):
    """Loss of one prediction ``raw`` against the encoded target ``y``, and
    its derivative with respect to ``raw``.

    Both come from one function, inlined into the SGD loop, where a call
    would cost on every sample. The log loss shares one exponential between the
    two and never overflows.
    """
    if kind == SQUARED:
        r = raw - y
        return 0.5 * r * r, r
    if kind == ABSOLUTE:
        value = abs(raw - y)
        if raw > y:
            return value, 1.0
        if raw < y:
            return value, -1.0
        return value, 0.0
    if kind == HUBER:
        delta = params[0]
        r = raw - y
        a = abs(r)
        value = 0.5 * a * a if a <= delta else delta * a - 0.5 * delta * delta
        if r > delta:
            return value, delta
        if r < -delta:
            return value, -delta
        return value, r
    if kind == EPSILON_INSENSITIVE:
        value = max(0.0, abs(y - raw) - params[0])
        if y - raw > params[0]:
            return value, -1.0
        if raw - y > params[0]:
            return value, 1.0
        return value, 0.0
    if kind == SQUARED_EPSILON_INSENSITIVE:
        r = max(0.0, abs(y - raw) - params[0])
        z = y - raw
        if z > params[0]:
            return r * r, -2.0 * (z - params[0])
        if z < -params[0]:
            return r * r, 2.0 * (-z - params[0])
        return r * r, 0.0
    if kind == QUANTILE:
        r = y - raw
        value = params[0] * r if r >= 0 else (params[0] - 1.0) * r
        if y > raw:
            return value, -params[0]
        return value, 1.0 - params[0]
    if kind == LOG:
        # softplus(raw) - y raw, and expit(raw) - y, from exp(-|raw|).
        e = math.exp(-abs(raw))
        value = max(raw, 0.0) + math.log1p(e) - y * raw
        probability = 1.0 / (1.0 + e) if raw >= 0.0 else e / (1.0 + e)
        return value, probability - y
    if kind == HINGE:
        value = max(0.0, params[0] - y * raw)
        # The threshold itself counts as violated, as in scikit-learn: with
        # threshold 0 (the perceptron) a zero margin still triggers an update.
        if y * raw <= params[0]:
            return value, -y
        return value, 0.0
    if kind == SQUARED_HINGE:
        z = params[0] - y * raw
        if z > 0.0:
            return z * z, -2.0 * y * z
        return 0.0, 0.0
    if kind == MODIFIED_HUBER:
        z = y * raw
        if z >= 1.0:
            return 0.0, 0.0
        if z >= -1.0:
            return (1.0 - z) * (1.0 - z), -2.0 * (1.0 - z) * y
        return -4.0 * z, -4.0 * y
    if has_log_link(kind):
        return log_link_loss(kind, params, y, raw)
    return np.nan, np.nan


@cached_njit(nogil=True, inline="always")
def log_link_loss(kind, params, y, raw):
    """:func:`loss_value_and_derivative` of the log link's deviances
    (``POISSON``, ``GAMMA``, ``TWEEDIE``), alone: what their implicit steps
    evaluate, without the other losses' branches to compile."""
    if kind == POISSON:
        # Half deviances with mu = exp(raw), zero where mu = y. With
        # z = log(y / mu), Poisson's is y (exp(-z) - 1 + z) and Gamma's
        # exp(z) - 1 - z: expm1 keeps them accurate near the fit.
        mu = math.exp(raw)
        if y > 0.0:
            z = math.log(y) - raw
            return y * (math.expm1(-z) + z), mu - y
        return mu, mu - y
    if kind == GAMMA:
        z = math.log(y) - raw
        e = math.expm1(z)
        return e - z, -e
    # TWEEDIE
    p = params[0]
    if p == 0.0:
        mu = math.exp(raw)
        return 0.5 * (mu - y) * (mu - y), mu * (mu - y)
    mu2 = math.exp((2.0 - p) * raw)
    if y == 0.0:
        return mu2 / (2.0 - p), mu2
    mu1 = math.exp((1.0 - p) * raw)
    value = mu2 / (2.0 - p) - y * mu1 / (1.0 - p)
    if y > 0.0:
        value += y ** (2.0 - p) / ((1.0 - p) * (2.0 - p))
    derivative = mu2 - y * mu1
    if math.isnan(derivative):
        # Both powers of mu overflowed (|raw| in the hundreds): the
        # deviance of a positive target tends to infinity at both ends,
        # and its slope takes the sign of raw.
        return math.inf, math.copysign(math.inf, raw)
    return value, derivative


@cached_njit(nogil=True, inline="always")
def _log_link_curvature(kind, params, y, raw):
    """The second derivative in ``raw`` of a log link's deviance."""
    if kind == POISSON:
        return math.exp(raw)
    if kind == GAMMA:
        return y * math.exp(-raw)
    p = params[0]
    if p == 0.0:
        mu = math.exp(raw)
        return mu * (2.0 * mu - y)
    return (2.0 - p) * math.exp((2.0 - p) * raw) - (1.0 - p) * y * math.exp(
        (1.0 - p) * raw
    )


@cached_njit(nogil=True, fastmath=VECTORIZE)
def implicit_derivative(kind, params, y, raw, derivative, reach):
    """The derivative at the point an implicit step reaches, for a log link.

    An explicit step moves the raw score by ``-reach * derivative``, where
    ``reach`` is the step size times the sample's weight and squared norm:
    with ``mu = exp(raw)`` the curvature grows with the mean, and a step that
    suits one row throws another's mean to infinity. The implicit step
    (Toulis & Airoldi 2017) takes the derivative at the point it reaches:
    ``g = L'(y, raw - reach * g)``, the same minimum, stable at any step
    size. ``d = -reach * g`` solves ``d + reach * L'(y, raw + d) = 0``, found
    by Newton's method kept inside the bracket between 0 and the explicit
    step (bisecting when Newton leaves it), which holds the root when the
    loss is convex. Returns ``g``.
    """
    if reach <= 0.0 or derivative == 0.0:
        return derivative
    explicit = -reach * derivative
    low, high = min(0.0, explicit), max(0.0, explicit)
    d = 0.0
    g = derivative
    previous_move = high - low
    for _ in range(200):
        f = d + reach * g
        if f == 0.0:
            break
        if f > 0.0:
            high = d
        else:
            low = d
        slope = 1.0 + reach * _log_link_curvature(kind, params, y, raw + d)
        following = d - f / slope
        # Newton's step, unless it leaves the bracket (also NaN, past an
        # overflow) or would not halve the last move: far on the steep side
        # of exp it creeps by one unit a step, where bisection halves.
        if not (low < following < high) or abs(2.0 * f) > abs(previous_move * slope):
            following = 0.5 * (low + high)
        previous_move = following - d
        d = following
        if abs(previous_move) <= 1e-13 * (1.0 + abs(d)):
            break
        g = log_link_loss(kind, params, y, raw + d)[1]
    return -d / reach


@cached_njit(nogil=True)
def loss_value(kind, params, y, raw):
    """Loss of one prediction ``raw`` against the encoded target ``y``."""
    return loss_value_and_derivative(kind, params, y, raw)[0]


@cached_njit(nogil=True)
def loss_derivative(kind, params, y, raw):
    """Derivative of :func:`loss_value` with respect to ``raw``."""
    return loss_value_and_derivative(kind, params, y, raw)[1]


@cached_njit(nogil=True, fastmath=VECTORIZE)
def softmax_cross_entropy(raw, y, gradient):
    """Multinomial log loss of the logits ``raw`` for class index ``y``.

    Returns ``logsumexp(raw) - raw[y]`` and writes its gradient
    ``softmax(raw) - onehot(y)`` into ``gradient``.
    """
    top = raw[0]
    for k in range(1, raw.shape[0]):
        top = max(top, raw[k])
    # Three loops where one would do, so that the sum is summed the same way
    # at every address. Compiled with reassociation, a loop that reads ``raw``
    # and writes ``gradient`` is vectorized only when the two arrays lie far
    # enough apart, and a vectorized sum rounds differently from a scalar
    # one. In place and read-only loops need no such check.
    for k in range(raw.shape[0]):
        gradient[k] = raw[k] - top
    for k in range(raw.shape[0]):
        gradient[k] = math.exp(gradient[k])
    total = 0.0
    for k in range(raw.shape[0]):
        total += gradient[k]
    for k in range(raw.shape[0]):
        gradient[k] /= total
    gradient[y] -= 1.0
    return top + math.log(total) - raw[y]


@cached_njit(nogil=True)
def softmax_cross_entropies(y, raw, out, gradient):
    """:func:`softmax_cross_entropy` of each row of ``raw`` for its class in
    ``y``: the losses into ``out``, the gradients into the rows of
    ``gradient``."""
    for i in range(raw.shape[0]):
        out[i] = softmax_cross_entropy(raw[i], y[i], gradient[i])
    return out


@cached_njit(nogil=True)
def loss_values(kind, params, y, raw, out):
    """Apply :func:`loss_value` elementwise over 1-D arrays, into ``out``."""
    for i in range(raw.shape[0]):
        out[i] = loss_value(kind, params, y[i], raw[i])
    return out


@cached_njit(nogil=True)
def loss_derivatives(kind, params, y, raw, out):
    """Apply :func:`loss_derivative` elementwise over 1-D arrays, into ``out``."""
    for i in range(raw.shape[0]):
        out[i] = loss_derivative(kind, params, y[i], raw[i])
    return out
