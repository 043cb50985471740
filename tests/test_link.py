import math
import pickle

import numpy as np
import pytest
from _helpers import ALL_LOSSES, loss_id
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from sklosses.losses import GammaLoss, Loss, PoissonLoss, SquaredLoss, TweedieLoss
from sklosses.losses._link import (
    IDENTITY,
    LOG,
    NONNEGATIVE,
    POSITIVE,
    REAL,
    IdentityLink,
    Interval,
    Link,
    LogLink,
)

finite = st.floats(-700.0, 700.0)


@given(st.lists(finite, min_size=1, max_size=20))
def test_log_link_inverts_exp(raw):
    raw = np.asarray(raw)
    assert_array_equal(LOG.inverse(raw), np.exp(raw))
    mu = LOG.inverse(raw)
    assert_array_equal(LOG.link(mu), np.log(mu))


@given(st.lists(finite, min_size=1, max_size=20))
def test_identity_link_returns_its_input(raw):
    raw = np.asarray(raw)
    assert_array_equal(IDENTITY.inverse(raw), raw)
    assert_array_equal(IDENTITY.link(raw), raw)


def test_links_say_what_they_are():
    assert IDENTITY.is_identity and not LOG.is_identity
    assert IDENTITY.onnx_operator is None
    assert LOG.onnx_operator == "Exp"
    assert LOG.interval_y_pred == POSITIVE
    assert IDENTITY.interval_y_pred == REAL
    assert isinstance(IDENTITY, IdentityLink) and isinstance(LOG, LogLink)


def test_log_link_is_silent_where_exp_overflows_and_log_diverges():
    with np.errstate(all="raise"):
        assert LOG.inverse(np.array([800.0]))[0] == math.inf
        assert LOG.link(np.array([0.0]))[0] == -math.inf


def test_links_and_domains_equal_their_former_names():
    # Code written against the strings "identity", "log", "real", ... keeps
    # working: the objects compare and print as those names.
    assert IDENTITY == "identity" and LOG == "log" and LOG != "identity"
    assert str(LOG) == "log" and repr(LOG) == "LogLink()"
    assert REAL == "real" and NONNEGATIVE == "nonnegative" and POSITIVE == "positive"
    assert POSITIVE != NONNEGATIVE
    assert {LOG: 1}["log"] == 1
    assert pickle.loads(pickle.dumps(LOG)) == LOG


def test_intervals_contain_their_targets_elementwise():
    y = np.array([-1.0, 0.0, 2.0, np.inf, np.nan])
    assert_array_equal(REAL.contains(y), [True] * 5)
    assert_array_equal(NONNEGATIVE.contains(y), [False, True, True, True, False])
    assert_array_equal(POSITIVE.contains(y), [False, False, True, True, False])
    closed = Interval(0.0, 1.0, True, True, "unit")
    assert_array_equal(closed.contains([0.0, 1.0, 1.5]), [True, True, False])
    assert NONNEGATIVE.description == "non-negative"
    assert NONNEGATIVE.refused == "negative"


def test_declaring_a_link_by_name_gives_the_link_object():
    class LogLinkSquares(Loss):
        link = "log"
        target_domain = "positive"

    assert LogLinkSquares.link is LOG
    assert LogLinkSquares().target_domain is POSITIVE
    assert SquaredLoss().link is IDENTITY


def test_deviances_link_and_domains():
    assert PoissonLoss().link is LOG and GammaLoss().link is LOG
    assert PoissonLoss().target_domain is NONNEGATIVE
    assert GammaLoss().target_domain is POSITIVE
    assert TweedieLoss(power=0).target_domain is REAL
    assert TweedieLoss(power=1.5).target_domain is NONNEGATIVE
    assert TweedieLoss(power=3).target_domain is POSITIVE


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)
def test_every_loss_has_a_link_object_and_a_domain(loss):
    assert isinstance(loss.link, Link)
    assert isinstance(loss.target_domain, Interval)
    # The regressor's prediction is the link's inverse of the raw score.
    raw = np.linspace(-3, 3, 7)
    if loss.task == "regression":
        assert_array_equal(loss.inverse_link(raw), loss.link.inverse(raw))
