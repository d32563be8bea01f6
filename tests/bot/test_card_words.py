"""The words and keys cards share have one home each, and cover everything they name."""

from __future__ import annotations

from bot.cards import keys
from bot.cards.clocks import CLOCK_TITLES, due_title
from frontdoor.decisions import ROUTE_ACTIONS, ROUTE_TITLES, ScreeningRoute
from frontdoor.lifecycle import TRANSITIONS
from frontdoor.records import ClockKind


def test_every_clock_has_one_title_and_no_two_clocks_share_it() -> None:
    assert set(CLOCK_TITLES) == set(ClockKind)
    assert len(set(CLOCK_TITLES.values())) == len(ClockKind)
    assert due_title(ClockKind.CHALLENGE) == "Challenge by the receiving team due"


def test_the_card_data_keys_are_distinct() -> None:
    values = [keys.ACTION_KEY, keys.REFERENCE_KEY, keys.VERSION_KEY]
    assert len(set(values)) == len(values)


def test_every_route_has_a_title_and_records_its_own_lifecycle_action() -> None:
    assert set(ROUTE_TITLES) == set(ROUTE_ACTIONS) == set(ScreeningRoute)
    actions = list(ROUTE_ACTIONS.values())
    assert len(set(actions)) == len(actions)
    allowed = {transition.action for transition in TRANSITIONS}
    assert set(actions) <= allowed
