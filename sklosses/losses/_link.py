"""Links and target domains: small objects, as scikit-learn's.

The problem: a loss's link was a string, ``"identity"`` or ``"log"``, and
its target domain another (``"real"``, ``"nonnegative"``, ``"positive"``);
a dozen places in seven modules compared them and wrote out what the link
means each time (``np.exp`` to predict, ``np.log`` to score, the ONNX
operator, the mean's domain, the messages for refused targets).

The choice: an object per link and per domain, as scikit-learn's
``sklearn/_loss/link.py`` (``IdentityLink``, ``LogLink`` with ``link`` and
``inverse``, and ``Interval``), which knows what it means: its functions, its
``interval_y_pred``, whether it is the identity, the ONNX operator of its
inverse. They are written here rather than imported: scikit-learn's are
private, and each is a few lines.

Code written against the strings keeps working: a link or a domain compares
equal to its former name and prints as it, and a loss class may still
declare ``link = "log"`` or ``target_domain = "positive"``, which
:class:`~sklosses.losses.Loss` turns into the object when the class is
created.
"""

import math

import numpy as np


class _Named:
    """Equal to its name, and hashed as it, as the strings it replaces."""

    name = ""

    def __eq__(self, other):
        if isinstance(other, str):
            return self.name == other
        return type(other) is type(self) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    def __str__(self):
        return self.name


class Interval(_Named):
    """An interval of the real line: the targets a loss accepts.

    Parameters
    ----------
    low, high : float
        The bounds; infinite for an unbounded side.
    low_inclusive, high_inclusive : bool
        Whether each bound belongs to the interval.
    name : str
        Its name, to which it compares equal.
    description : str, default=""
        How its members read in a message ("non-negative").
    refused : str, default=""
        How the others read ("negative").
    """

    def __init__(
        self, low, high, low_inclusive, high_inclusive, name, description="", refused=""
    ):
        self.low = low
        self.high = high
        self.low_inclusive = low_inclusive
        self.high_inclusive = high_inclusive
        self.name = name
        self.description = description
        self.refused = refused

    def contains(self, y):
        """Whether each value lies in the interval.

        An unbounded side checks nothing, so the real line contains every
        value, as a loss of real targets accepts any.

        Parameters
        ----------
        y : array-like

        Returns
        -------
        contains : ndarray of bool of the shape of ``y``
        """
        y = np.asarray(y)
        inside = np.ones(y.shape, dtype=bool)
        if self.low > -math.inf:
            inside &= y >= self.low if self.low_inclusive else y > self.low
        if self.high < math.inf:
            inside &= y <= self.high if self.high_inclusive else y < self.high
        return inside

    def __repr__(self):
        return (
            f"Interval({self.low}, {self.high}, {self.low_inclusive}, "
            f"{self.high_inclusive}, {self.name!r})"
        )


REAL = Interval(-math.inf, math.inf, False, False, "real", "real")
NONNEGATIVE = Interval(0.0, math.inf, True, False, "nonnegative", "non-negative",
                       "negative")  # fmt: skip
POSITIVE = Interval(0.0, math.inf, False, False, "positive", "positive",
                    "zero or negative")  # fmt: skip
TARGET_DOMAINS = {domain.name: domain for domain in (REAL, NONNEGATIVE, POSITIVE)}


class Link(_Named):
    """How a raw score relates to the prediction: ``raw = link(mu)``.

    Attributes
    ----------
    name : str
        Its name, to which it compares equal (``"identity"``, ``"log"``).
    is_identity : bool
        Whether the raw score is the prediction itself.
    interval_y_pred : Interval
        The predictions the inverse reaches.
    onnx_operator : str or None
        The ONNX operator that computes :meth:`inverse`; None for the
        identity.
    """

    is_identity = False
    interval_y_pred = REAL
    onnx_operator = None

    def link(self, y_pred):
        """The raw score of each prediction."""
        raise NotImplementedError

    def inverse(self, raw):
        """The prediction of each raw score."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class IdentityLink(Link):
    """The raw score is the prediction."""

    name = "identity"
    is_identity = True

    def link(self, y_pred):
        return y_pred

    def inverse(self, raw):
        return raw


class LogLink(Link):
    """The raw score is the log of a positive mean: ``mu = exp(raw)``.

    Both directions are silent where they leave the floats (``exp`` beyond
    709, ``log(0)``): the infinities are the answers.
    """

    name = "log"
    interval_y_pred = POSITIVE
    onnx_operator = "Exp"

    def link(self, y_pred):
        with np.errstate(divide="ignore"):
            return np.log(y_pred)

    def inverse(self, raw):
        with np.errstate(over="ignore"):
            return np.exp(raw)


IDENTITY = IdentityLink()
LOG = LogLink()
LINKS = {link.name: link for link in (IDENTITY, LOG)}
