"""The one table of allowed moves: every transition from every status, allowed or refused."""

import pytest

from subscriptions.lifecycle import (
    MOVES,
    DisabledReason,
    IllegalMove,
    Status,
    Transition,
    check_move,
    sources,
)

P, A, S, D = Status.PENDING_ACTIVATION, Status.ACTIVE, Status.SUSPENDED, Status.DISABLED
ALLOWED = {
    (Transition.ACTIVATE, P): (A, ""),
    (Transition.RENEW, A): (A, ""),
    (Transition.SUSPEND, A): (S, ""),
    (Transition.REINSTATE, S): (A, ""),
    (Transition.CANCEL, P): (D, DisabledReason.CANCELED),
    (Transition.CANCEL, A): (D, DisabledReason.CANCELED),
    (Transition.CANCEL, S): (D, DisabledReason.CANCELED),
    (Transition.EXPIRE, P): (D, DisabledReason.EXPIRED),
    (Transition.EXPIRE, A): (D, DisabledReason.EXPIRED),
    (Transition.EXPIRE, S): (D, DisabledReason.EXPIRED),
    (Transition.DISABLE_FOR_NON_PAYMENT, S): (D, DisabledReason.NON_PAYMENT),
}
EVERY = [(t, s) for t in Transition.values for s in Status.values]


@pytest.mark.parametrize(("transition", "status"), EVERY)
def test_every_move_is_allowed_or_refused_as_the_lifecycle_says(transition, status):
    if (transition, status) in ALLOWED:
        move = check_move(transition, status)
        assert (move.target, move.reason) == ALLOWED[(transition, status)]
    else:
        with pytest.raises(IllegalMove) as refused:
            check_move(transition, status)
        assert refused.value.code == "illegal_move"
        assert (refused.value.transition, refused.value.status) == (transition, status)


@pytest.mark.parametrize("transition", Transition.values)
def test_disabled_is_terminal_and_says_to_buy_again(transition):
    with pytest.raises(IllegalMove) as refused:
        check_move(transition, D)
    assert refused.value.message == (
        "A disabled app can't be reactivated. Buy it again to keep using it."
    )


def test_other_refusals_say_what_and_why_in_words():
    with pytest.raises(IllegalMove) as refused:
        check_move(Transition.SUSPEND, P)
    assert refused.value.message == "An app that is pending set-up can't be suspended."
    with pytest.raises(IllegalMove) as refused:
        check_move(Transition.REINSTATE, A)
    assert refused.value.message == "An app that is active can't be reinstated."


def test_the_set_based_twins_read_their_sources_from_the_same_table():
    assert sources(Transition.EXPIRE) == sorted([A, P, S])
    assert all(set(sources(t)) == MOVES[t].sources for t in Transition.values)
