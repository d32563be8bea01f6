"""The domestic-abuse triage's incidents through the use cases on the fake, SQLite and PostgreSQL:
Monday to Friday only, one outcome each, and deleted after ``retention.triage_incidents_months``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.agencies import TriageDecision, TriageIncident, TriageOutcome
from frontdoor.calendar import WorkingCalendar
from frontdoor.policy import parse_policy
from frontdoor.roles import Role
from frontdoor.triage import purge_expired_incidents, record_incident
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
