"""A repeated or stale press of a multi-agency form makes nothing new, on the fake, SQLite and
PostgreSQL: a MASH episode (one open a contact; a card opens one), an information request and a
MARAC linked child are each made once per card, even when the two presses race, and the refusal
names the record that exists."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta

from frontdoor.acting import Rules, Who
from frontdoor.agencies import (
    Agency,
    BodyRequest,
    MaracCase,
    MaracRequest,
    MashDecision,
    MashEpisode,
    RequestingBody,
)
from frontdoor.body_requests import BodyRequestForm, log_request
from frontdoor.marac_cases import add_case, link_child
from frontdoor.mash import EpisodeForm, close_episode, open_episode
from frontdoor.records import AuditEvent
from frontdoor.references import ReferenceKind
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal, RefusalReason
from tests.frontdoor.decision_builders import CALENDAR, CONSULTANT, NOW, OFFICER, POLICY, SW, seat, submitted
from tests.store.mash_builders import CONSULTANT_ROLES, _form, _partners

OFFICER_ROLES = frozenset({Role.OFFICER})
RULES = Rules(NOW, CALENDAR, POLICY)
FORM = "0123456789abcdef0123456789abcdef"
OTHER_FORM = "fedcba9876543210fedcba9876543210"


async def _contact(store: Store) -> str:
    await seat(store)
    await _partners(store)
    contact = await submitted(store)
    assert contact.reference is not None
    return contact.reference


async def _open(store: Store, form: EpisodeForm) -> MashEpisode | Refusal:
    return await open_episode(store.unit_of_work(), form, who=Who(CONSULTANT, CONSULTANT_ROLES), rules=RULES)


async def _episodes_and_clocks(store: Store, contact: str) -> tuple[list[MashEpisode], int, list[AuditEvent]]:
    async with store.unit_of_work() as uow:
        episodes = await uow.mash.of_contact(contact)
        clocks = [d for e in episodes for r in e.requests for d in await uow.deadlines.for_subject(r.subject)]
        events = [e.event for e in await uow.audit.for_subject(contact)]
    return episodes, len(clocks), events


async def test_a_mash_card_pressed_twice_at_once_opens_one_episode(store: Store) -> None:
    contact = await _contact(store)
    form = replace(_form(contact), form_id=FORM)
    results = await asyncio.gather(_open(store, form), _open(store, form))
    [episode] = [r for r in results if isinstance(r, MashEpisode)]
    [refused] = [r for r in results if isinstance(r, Refusal)]
    assert refused.reason is RefusalReason.WRONG_STATE
    assert episode.reference in refused.message and "nothing was opened or sent again" in refused.message
    episodes, clocks, events = await _episodes_and_clocks(store, contact)
    assert episodes == [episode] and episode.form_id == FORM
    assert clocks == 2  # police and health, once
    assert [e.detail for e in events if e.action == "mash.refused"] == ["action=open; reason=wrong_state"]
    # The refusal gave its number back: the next episode is the next number.
    async with store.unit_of_work() as uow:
        assert await uow.references.allocate(ReferenceKind.MASH_EPISODE.value, NOW.year) == 2


async def test_a_stale_mash_card_opens_nothing_and_a_contact_has_one_open_episode(store: Store) -> None:
    contact = await _contact(store)
    first = await _open(store, replace(_form(contact), form_id=FORM))
    assert isinstance(first, MashEpisode)
    # Another consultant's fresh card while the episode is open: refused, naming it.
    second = await _open(store, replace(_form(contact), form_id=OTHER_FORM))
    assert (
        isinstance(second, Refusal) and f"{contact} has MASH episode {first.reference} open" in second.message
    )
    closed = await close_episode(
        store.unit_of_work(),
        first.reference,
        MashDecision.NO_FURTHER_ACTION,
        "Nothing shared",
        (Agency.POLICE,),
        who=Who(CONSULTANT, CONSULTANT_ROLES),
        rules=Rules(NOW + timedelta(hours=1), CALENDAR, POLICY),
    )
    assert isinstance(closed, MashEpisode)
    later = Rules(NOW + timedelta(hours=2), CALENDAR, POLICY)
    who = Who(CONSULTANT, CONSULTANT_ROLES)
    # The first card, pressed again after the episode closed: still nothing.
    stale = await open_episode(
        store.unit_of_work(), replace(_form(contact), form_id=FORM), who=who, rules=later
    )
    assert isinstance(stale, Refusal) and f"This card opened {first.reference} already" in stale.message
    # A new card on the contact, once nothing is open, opens a new episode.
    fresh = await open_episode(
        store.unit_of_work(), replace(_form(contact), form_id=OTHER_FORM), who=who, rules=later
    )
    assert isinstance(fresh, MashEpisode) and fresh.reference != first.reference
    episodes, clocks, _ = await _episodes_and_clocks(store, contact)
    assert [e.reference for e in episodes] == [first.reference, fresh.reference]
    assert clocks == 4


async def _log(store: Store, form_id: str | None) -> BodyRequest | Refusal:
    form = BodyRequestForm(
        RequestingBody.CAFCASS, "CAF-1", "Una Example", None, "", date(2026, 3, 20), form_id=form_id
    )
    return await log_request(
        store.unit_of_work(), form, calendar=CALENDAR, who=Who(OFFICER, OFFICER_ROLES), now=NOW
    )


async def test_an_information_request_card_pressed_twice_at_once_logs_one_request(store: Store) -> None:
    results = await asyncio.gather(_log(store, FORM), _log(store, FORM))
    [logged] = [r for r in results if isinstance(r, BodyRequest)]
    [refused] = [r for r in results if isinstance(r, Refusal)]
    assert f"This card logged {logged.reference} already" in refused.message
    stale = await _log(store, FORM)
    assert isinstance(stale, Refusal) and logged.reference in stale.message
    async with store.unit_of_work() as uow:
        assert await uow.body_requests.from_form(FORM) == logged
        assert await uow.body_requests.get("IR-26-00002") is None
        assert len(await uow.deadlines.for_subject(logged.reference)) == 1
    fresh = await _log(store, OTHER_FORM)  # a new card logs a new request
    assert isinstance(fresh, BodyRequest) and fresh.reference == "IR-26-00002"


async def _link(store: Store, case: MaracCase, form_id: str) -> tuple[MaracCase, MaracRequest] | Refusal:
    return await link_child(
        store.unit_of_work(),
        case.id,
        "Vic Example",
        None,
        "Team A",
        SW,
        who=Who(OFFICER, OFFICER_ROLES),
        rules=RULES,
        form_id=form_id,
    )


async def test_a_marac_link_pressed_twice_at_once_asks_the_worker_once(store: Store) -> None:
    case = await add_case(store.unit_of_work(), "MARAC-1", who=Who(OFFICER, OFFICER_ROLES), rules=RULES)
    assert isinstance(case, MaracCase)
    results = await asyncio.gather(_link(store, case, FORM), _link(store, case, FORM))
    [(_, request)] = [r for r in results if not isinstance(r, Refusal)]
    [refused] = [r for r in results if isinstance(r, Refusal)]
    assert refused.reason is RefusalReason.WRONG_STATE
    assert "This card linked a child to MARAC-1 already (Vic Example, asked of Team A)" in refused.message
    assert isinstance(await _link(store, case, FORM), Refusal)  # a stale copy, later
    async with store.unit_of_work() as uow:
        stored = await uow.marac.get_case(case.id)
        assert stored is not None and stored.requests == (request,)
        assert request.form_id == FORM
        assert len(await uow.deadlines.for_subject(request.subject)) == 1
        events = [e.event.action for e in await uow.audit.for_subject("MARAC-1")]
    assert events.count("marac.request_sent") == 1
    assert not isinstance(await _link(store, case, OTHER_FORM), Refusal)  # a new card links again
