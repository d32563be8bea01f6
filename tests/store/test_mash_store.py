"""MASH episodes through the use cases on the fake, SQLite and PostgreSQL (the ``store`` fixture):
the episode and its requests round-trip, the policy sets when requests are due, answers close their
clocks, closing cancels the rest, retention deletes closed episodes after
``retention.mash_episodes_months`` and partners are tied to one agency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.agencies import (
    Agency,
    AnswerChannel,
    MashDecision,
    SharedChild,
    Urgency,
)
from frontdoor.calendar import WorkingCalendar
from frontdoor.mash import (
    PartnerView,
    StaffView,
    close_episode,
    partner_answer,
    partners_of,
    purge_expired_episodes,
    read_episode,
    record_phone_answer,
    set_partner_agency,
)
from frontdoor.policy import parse_policy
from frontdoor.records import ClockKind, DeadlineState
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal, RefusalReason
from tests.frontdoor.decision_builders import CHILD, CONSULTANT, NOW, POLICY
from tests.store.mash_builders import CONSULTANT_ROLES, HEALTH, PARTNER_ROLES, POLICE, opened


@pytest.mark.parametrize(
    ("urgency", "policy_text", "due"),
    [
        (Urgency.URGENT, "", NOW + timedelta(hours=4)),
        (Urgency.URGENT, "[mash]\nrequest_hours_urgent = 2\n", NOW + timedelta(hours=2)),
        (Urgency.STANDARD, "", NOW + timedelta(days=1)),  # Monday 10:00 -> Tuesday 10:00
        (Urgency.STANDARD, "[mash]\nrequest_working_days = 3\n", NOW + timedelta(days=3)),
    ],
)
async def test_requests_are_due_by_the_policy_for_the_urgency(
    store: Store, urgency: Urgency, policy_text: str, due: datetime
) -> None:
    episode = await opened(store, urgency, parse_policy(policy_text))
    async with store.unit_of_work() as uow:
        stored = await uow.mash.get(episode.reference)
        clocks = await uow.deadlines.for_subject(f"{episode.reference}:police")
    assert stored == episode
    assert [r.due_at for r in episode.requests] == [due, due]
    assert episode.children == (SharedChild(CHILD.name, CHILD.date_of_birth),)
    clock = ClockKind.MASH_REQUEST_URGENT if urgency is Urgency.URGENT else ClockKind.MASH_REQUEST
    assert [(d.clock, d.due_at, d.assignee_id) for d in clocks] == [(clock, due, CONSULTANT)]


async def test_answers_close_their_clocks_and_closing_cancels_the_rest(store: Store) -> None:
    episode = await opened(store)
    reference = episode.reference
    answered = await partner_answer(
        store.unit_of_work(),
        reference,
        "Nothing known",
        who=Who(POLICE, PARTNER_ROLES),
        rules=Rules(NOW + timedelta(hours=1), WorkingCalendar(), POLICY),
    )
    assert not isinstance(answered, Refusal)
    request = answered.request_for(Agency.POLICE)
    assert request is not None and request.answer is not None and request.answer.channel is AnswerChannel.CARD
    again = await record_phone_answer(
        store.unit_of_work(),
        reference,
        Agency.POLICE,
        "Twice",
        "Someone",
        who=Who(CONSULTANT, CONSULTANT_ROLES),
        rules=Rules(NOW + timedelta(hours=2), WorkingCalendar(), POLICY),
    )
    assert isinstance(again, Refusal) and again.reason is RefusalReason.WRONG_STATE
    closed = await close_episode(
        store.unit_of_work(),
        reference,
        MashDecision.NO_FURTHER_ACTION,
        "No concerns shared",
        (Agency.POLICE,),
        who=Who(CONSULTANT, CONSULTANT_ROLES),
        rules=Rules(NOW + timedelta(hours=3), WorkingCalendar(), POLICY),
    )
    assert not isinstance(closed, Refusal) and closed.closure is not None
    async with store.unit_of_work() as uow:
        assert await uow.mash.get(reference) == closed
        police = await uow.deadlines.for_subject(f"{reference}:police")
        health = await uow.deadlines.for_subject(f"{reference}:health")
    assert [d.state for d in police] == [DeadlineState.MET]
    assert [d.state for d in health] == [DeadlineState.CANCELLED]


async def test_a_partner_reads_only_their_own_agencys_request(store: Store) -> None:
    episode = await opened(store)
    await partner_answer(
        store.unit_of_work(),
        episode.reference,
        "Police answer",
        who=Who(POLICE, PARTNER_ROLES),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    health = await read_episode(
        store.unit_of_work(), episode.reference, who=Who(HEALTH, PARTNER_ROLES), now=NOW
    )
    assert (
        isinstance(health, PartnerView) and health.agency is Agency.HEALTH and health.request.answer is None
    )
    staff = await read_episode(
        store.unit_of_work(), episode.reference, who=Who(CONSULTANT, CONSULTANT_ROLES), now=NOW
    )
    assert isinstance(staff, StaffView)
    # A partner whose role was revoked, or with no agency, is refused.
    async with store.unit_of_work() as uow:
        await set_partner_agency(uow, HEALTH, None, actor_id="admin", now=NOW)
        await uow.commit()
    gone = await read_episode(
        store.unit_of_work(), episode.reference, who=Who(HEALTH, PARTNER_ROLES), now=NOW
    )
    assert isinstance(gone, Refusal) and gone.reason is RefusalReason.NOT_PERMITTED
    async with store.unit_of_work() as uow:
        assert await partners_of(uow, Agency.POLICE) == [POLICE]
        assert await partners_of(uow, Agency.HEALTH) == []


@pytest.mark.parametrize(("months", "kept"), [(12, True), (1, False)])
async def test_retention_deletes_closed_episodes_after_the_policys_months(
    store: Store, months: int, kept: bool
) -> None:
    episode = await opened(store)
    await close_episode(
        store.unit_of_work(),
        episode.reference,
        MashDecision.ADVICE_SIGNPOSTING,
        "Advice given",
        (Agency.POLICE,),
        who=Who(CONSULTANT, CONSULTANT_ROLES),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    other = await opened(store)  # still open: never deleted
    later = datetime(2026, 6, 16, 10, 0, tzinfo=UTC)  # three months on
    policy = parse_policy(f"[retention]\nmash_episodes_months = {months}\n")
    deleted = await purge_expired_episodes(
        store.unit_of_work(), rules=Rules(later, WorkingCalendar(), policy)
    )
    assert deleted == (() if kept else (episode.reference,))
    async with store.unit_of_work() as uow:
        assert (await uow.mash.get(episode.reference) is not None) is kept
        assert await uow.mash.get(other.reference) is not None
        audit = [e.event for e in await uow.audit.for_subject(episode.reference)]
    assert [e.action for e in audit if e.action == "mash.deleted"] == ([] if kept else ["mash.deleted"])


async def test_two_partners_answering_at_once_both_keep_their_answers(store: Store) -> None:
    """Each answer writes its own request's row: neither overwrites the other with the episode as
    it was read before the other's answer."""
    episode = await opened(store)
    rules = Rules(NOW + timedelta(hours=1), WorkingCalendar(), POLICY)
    results = await asyncio.gather(
        *(
            partner_answer(
                store.unit_of_work(), episode.reference, text, who=Who(person, PARTNER_ROLES), rules=rules
            )
            for person, text in (
                (POLICE, "Known to police: one call-out"),
                (HEALTH, "Nothing known to health"),
            )
        )
    )
    assert not any(isinstance(result, Refusal) for result in results), results
    async with store.unit_of_work() as uow:
        stored = await uow.mash.get(episode.reference)
        clocks = [d for r in episode.requests for d in await uow.deadlines.for_subject(r.subject)]
    assert stored is not None
    answers = {r.agency: r.answer.text if r.answer else None for r in stored.requests}
    assert answers == {
        Agency.POLICE: "Known to police: one call-out",
        Agency.HEALTH: "Nothing known to health",
    }
    assert {d.state for d in clocks} == {DeadlineState.MET}


async def test_an_answer_and_a_close_at_once_lose_neither(store: Store) -> None:
    """Closing writes the episode's row alone: an answer given at the same moment is kept (or, if
    the close came first, refused as closed), and its clock is met, not cancelled."""
    episode = await opened(store)
    rules = Rules(NOW + timedelta(hours=1), WorkingCalendar(), POLICY)
    answered, closed = await asyncio.gather(
        partner_answer(
            store.unit_of_work(),
            episode.reference,
            "Nothing known",
            who=Who(POLICE, PARTNER_ROLES),
            rules=rules,
        ),
        close_episode(
            store.unit_of_work(),
            episode.reference,
            MashDecision.NO_FURTHER_ACTION,
            "Partners know nothing of concern",
            (Agency.POLICE, Agency.HEALTH),
            who=Who(CONSULTANT, CONSULTANT_ROLES),
            rules=rules,
        ),
    )
    assert not isinstance(closed, Refusal), closed
    async with store.unit_of_work() as uow:
        stored = await uow.mash.get(episode.reference)
        police = await uow.deadlines.for_subject(f"{episode.reference}:police")
    assert stored is not None and stored.closed
    request = stored.request_for(Agency.POLICE)
    assert request is not None
    if isinstance(answered, Refusal):
        assert answered.reason is RefusalReason.WRONG_STATE and "closed" in answered.message
        assert request.answer is None and [d.state for d in police] == [DeadlineState.CANCELLED]
    else:
        assert request.answer is not None and request.answer.text == "Nothing known"
        assert [d.state for d in police] == [DeadlineState.MET]
