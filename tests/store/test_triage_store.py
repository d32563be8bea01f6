"""The domestic-abuse triage's incidents through the use cases on the fake, SQLite and PostgreSQL:
Monday to Friday only, one outcome each, and deleted after ``retention.triage_incidents_months``."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.agencies import TriageDecision, TriageIncident, TriageOutcome
from frontdoor.calendar import WorkingCalendar
from frontdoor.contact import Consent, ContactState, ImmediateRisk
from frontdoor.intake import SubmissionResult
from frontdoor.policy import default_policy, parse_policy
from frontdoor.records import AuditEvent
from frontdoor.references import ReferenceKind
from frontdoor.roles import Role
from frontdoor.triage import (
    ChildKnown,
    OutcomeForm,
    decide_incident,
    purge_expired_incidents,
    record_incident,
)
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal, RefusalReason
from tests.frontdoor.decision_builders import NOW, OFFICER

ROLES = frozenset({Role.OFFICER})
SUMMARY = "Verbal argument between two adults, children present"


async def _recorded(store: Store, reference: str = "DA-1", now: datetime = NOW) -> TriageIncident:
    incident = await record_incident(
        store.unit_of_work(),
        reference,
        date(2026, 3, 15),
        SUMMARY,
        who=Who(OFFICER, ROLES),
        now=now,
    )
    assert isinstance(incident, TriageIncident), incident
    return incident


async def test_an_incident_round_trips_and_takes_one_outcome(store: Store) -> None:
    incident = await _recorded(store)
    decision = TriageDecision(TriageOutcome.OTHER_AUTHORITY, OFFICER, NOW, other_authority="Example Council")
    async with store.unit_of_work() as uow:
        assert await uow.triage.on(NOW.date()) == [incident]
        assert await uow.triage.decide(incident.id, decision)
        assert not await uow.triage.decide(
            incident.id, TriageDecision(TriageOutcome.POLICE_ONLY, OFFICER, NOW)
        )
        await uow.commit()
    async with store.unit_of_work() as uow:
        stored = await uow.triage.get(incident.id)
    assert stored is not None and stored.decision == decision


async def test_the_triage_meets_monday_to_friday(store: Store) -> None:
    saturday = NOW + timedelta(days=5)
    refused = await record_incident(
        store.unit_of_work(),
        "DA-2",
        date(2026, 3, 20),
        SUMMARY,
        who=Who(OFFICER, ROLES),
        now=saturday,
    )
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.WRONG_STATE


@pytest.mark.parametrize(("months", "kept"), [(3, True), (1, False)])
async def test_incidents_are_deleted_after_the_policys_months(store: Store, months: int, kept: bool) -> None:
    await _recorded(store, "DA-OLD")
    later = datetime(2026, 5, 20, 10, 0, tzinfo=UTC)  # two months on
    recent = await _recorded(store, "DA-NEW", later)
    policy = parse_policy(f"[retention]\ntriage_incidents_months = {months}\n")
    deleted = await purge_expired_incidents(
        store.unit_of_work(), rules=Rules(later, WorkingCalendar(), policy)
    )
    assert deleted == (() if kept else ("DA-OLD",))
    async with store.unit_of_work() as uow:
        assert await uow.triage.get(recent.id) is not None
        events = [e.event.action for e in await uow.audit.for_subject("DA-OLD")]
    assert events.count("triage.deleted") == (0 if kept else 1)


CHILD = ChildKnown(
    "Zara Triagechild", date(2018, 2, 1), Consent.GIVEN, systems_checked=("social_care", "police")
)
FURTHER_ENQUIRIES = OutcomeForm(TriageOutcome.FURTHER_ENQUIRIES, CHILD)
STATUTORY = OutcomeForm(
    TriageOutcome.STATUTORY,
    ChildKnown("Zara Triagechild", date(2018, 2, 1), Consent.GIVEN, risks=frozenset({ImmediateRisk.INJURY})),
)
OTHER_AUTHORITY = OutcomeForm(TriageOutcome.OTHER_AUTHORITY, other_authority="Example County Council")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (FURTHER_ENQUIRIES, FURTHER_ENQUIRIES),
        (FURTHER_ENQUIRIES, OTHER_AUTHORITY),
        (STATUTORY, STATUTORY),
    ],
    ids=["b+b", "b+d", "c+c"],
)
async def test_two_outcomes_pressed_at_once_leave_one_outcome_and_at_most_one_contact(
    store: Store, first: OutcomeForm, second: OutcomeForm
) -> None:
    incident = await _recorded(store)
    rules = Rules(NOW, WorkingCalendar(), default_policy())
    who = Who(OFFICER, ROLES)
    results = await asyncio.gather(
        *(
            decide_incident(store.unit_of_work, incident.id, form, who=who, rules=rules)
            for form in (first, second)
        )
    )
    won = [r for r in results if not isinstance(r, Refusal)]
    lost = [r for r in results if isinstance(r, Refusal)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].reason is RefusalReason.WRONG_STATE and "DA-1" in lost[0].message
    decided, submitted = won[0]
    assert decided.decision is not None
    async with store.unit_of_work() as uow:
        contacts = await uow.contacts.list_by_state(list(ContactState))
        clocks = [d for c in contacts if c.reference for d in await uow.deadlines.for_subject(c.reference)]
        stored = await uow.triage.get(incident.id)
        events = [e.event.action for e in await uow.audit.for_subject("DA-1")]
    # The contact of the winning outcome, and nothing of the losing one: no second CT reference,
    # no clock running for a contact nobody sees.
    expected = [submitted.reference] if isinstance(submitted, SubmissionResult) else []
    assert [c.reference for c in contacts] == expected
    assert {d.subject for d in clocks} == set(expected)
    assert stored is not None and stored.decision == decided.decision
    assert stored.decision.contact_reference == (expected[0] if expected else "")
    assert events.count("triage.decided") == 1
    async with store.unit_of_work() as uow:  # the losing press's reference number was given back
        assert await uow.references.allocate(ReferenceKind.CONTACT.value, 26) == len(expected) + 1


async def test_a_press_waits_for_an_incident_held_by_another_before_it_takes_any_other_lock(
    store: Store,
) -> None:
    """The claim comes first. Had the press submitted its contact first, it would hold the audit
    chain (PostgreSQL's advisory lock, to commit) while waiting for the incident, and the holder,
    appending to the chain before it commits, would wait for it: a deadlock."""
    incident = await _recorded(store)
    rules = Rules(NOW, WorkingCalendar(), default_policy())
    async with store.unit_of_work() as holder:
        assert await holder.triage.decide(
            incident.id, TriageDecision(TriageOutcome.POLICE_ONLY, OFFICER, NOW)
        )
        pressed = asyncio.create_task(
            decide_incident(
                store.unit_of_work, incident.id, FURTHER_ENQUIRIES, who=Who(OFFICER, ROLES), rules=rules
            )
        )
        await asyncio.sleep(1)  # the press runs until it waits for the incident
        await holder.audit.append(AuditEvent(NOW, OFFICER, "triage.decided", "DA-1", "outcome=a"))
        await holder.commit()
    refused = await asyncio.wait_for(pressed, 30)
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.WRONG_STATE, refused
    async with store.unit_of_work() as uow:
        assert await uow.contacts.list_by_state(list(ContactState)) == []
        stored = await uow.triage.get(incident.id)
    assert stored is not None and stored.decision is not None
    assert stored.decision.outcome is TriageOutcome.POLICE_ONLY


@pytest.mark.parametrize(
    ("child", "said"),
    [
        (replace(CHILD, systems_checked=()), "Checks done"),  # a contact that cannot be submitted
        (replace(CHILD, name="Zara " * 60), "at most 200 characters"),  # longer than a contact takes
    ],
    ids=["unchecked", "long-name"],
)
async def test_a_contact_that_cannot_be_submitted_leaves_the_incident_undecided_and_nothing_kept(
    store: Store, child: ChildKnown, said: str
) -> None:
    incident = await _recorded(store)
    refused = await decide_incident(
        store.unit_of_work,
        incident.id,
        OutcomeForm(TriageOutcome.FURTHER_ENQUIRIES, child),
        who=Who(OFFICER, ROLES),
        rules=Rules(NOW, WorkingCalendar(), default_policy()),
    )
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.INVALID
    assert said in refused.message
    async with store.unit_of_work() as uow:
        assert await uow.contacts.list_by_state(list(ContactState)) == []
        stored = await uow.triage.get(incident.id)
        number = await uow.references.allocate(ReferenceKind.CONTACT.value, 26)
    assert stored is not None and stored.decision is None
    assert number == 1  # no reference was used up
