"""The nightly retention job deletes every multi-agency record past its own ``[retention]`` key, on
the fake, SQLite and PostgreSQL: closed MASH episodes, the triage list, answered CAFCASS/Ofsted
requests, and MARAC cases and MAPPA invitations; what is still open stays."""

from __future__ import annotations

from datetime import UTC, date, datetime

from frontdoor.acting import Rules, Who
from frontdoor.agencies import Agency, BodyRequest, MaracCase, MashDecision, RequestingBody, TriageIncident
from frontdoor.body_requests import BodyRequestForm, log_request, respond
from frontdoor.marac_cases import add_case
from frontdoor.mash import close_episode
from frontdoor.policy import parse_policy
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from frontdoor.triage import record_incident
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal
from scheduler.jobs import run_retention
from tests.frontdoor.decision_builders import CALENDAR, CONSULTANT, NOW, OFFICER, POLICY
from tests.store.mash_builders import CONSULTANT_ROLES, opened

ROLES = frozenset({Role.OFFICER})
MONTH = (
    "[retention]\nmash_episodes_months = 1\ntriage_incidents_months = 1\n"
    "information_requests_months = 1\nmarac_mappa_months = 1\n"
)


async def test_the_retention_job_deletes_each_multi_agency_record_after_its_months(store: Store) -> None:
    closed = await opened(store)
    result = await close_episode(
        store.unit_of_work(),
        closed.reference,
        MashDecision.NO_FURTHER_ACTION,
        "Nothing to add",
        (Agency.POLICE,),
        who=Who(CONSULTANT, CONSULTANT_ROLES),
        rules=Rules(NOW, CALENDAR, POLICY),
    )
    assert not isinstance(result, Refusal), result
    still_open = await opened(store)
    incident = await record_incident(
        store.unit_of_work(),
        "DA-7",
        date(2026, 3, 15),
        "Argument between adults",
        who=Who(OFFICER, ROLES),
        now=NOW,
    )
    assert isinstance(incident, TriageIncident)
    form = BodyRequestForm(RequestingBody.CAFCASS, "C-1", "Una Example", None, "", date(2026, 3, 20))
    request = await log_request(
        store.unit_of_work(), form, calendar=CALENDAR, who=Who(OFFICER, ROLES), now=NOW
    )
    assert isinstance(request, BodyRequest)
    answered = await respond(
        store.unit_of_work(),
        request.reference,
        "None held",
        who=Who(OFFICER, ROLES),
        rules=Rules(NOW, CALENDAR, POLICY),
    )
    assert not isinstance(answered, Refusal)
    case = await add_case(
        store.unit_of_work(),
        "MARAC-9",
        who=Who(OFFICER, ROLES),
        rules=Rules(NOW, CALENDAR, POLICY),
    )
    assert isinstance(case, MaracCase)

    later = SettableClock(datetime(2026, 5, 20, 2, 30, tzinfo=UTC))
    kept = await run_retention(store.unit_of_work, later, POLICY)
    assert kept == ()
    deleted = await run_retention(store.unit_of_work, later, parse_policy(MONTH))
    assert set(deleted) == {closed.reference, "DA-7", request.reference, "MARAC-9"}
    async with store.unit_of_work() as uow:
        assert await uow.mash.get(still_open.reference) is not None
        assert await uow.mash.get(closed.reference) is None
