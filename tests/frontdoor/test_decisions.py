"""Screening routes I-IV, re-referral decisions, allocation under the caseload cap and the loads
view, against the in-memory store: clocks, audit, refusals that change nothing, and two deciders
at once. The helpers here are shared with ``test_casework``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from frontdoor.calendar import WorkingCalendar
from frontdoor.contact import (
    Child,
    Consent,
    Contact,
    ContactState,
    ContactType,
    HistoryChecks,
    ImmediateRisk,
    PresentingNeed,
    Referrer,
    ReferrerType,
    Source,
)
from frontdoor.decisions import (
    Agency,
    AlreadyDecided,
    OutcomeKind,
    Refusal,
    RefusalReason,
    RereferralChoice,
    RereferralDecided,
    RereferralDecision,
    ScreeningDecided,
    ScreeningDecision,
    ScreeningRoute,
    ServiceConsent,
    current_outcome,
    decide_rereferral,
    decide_screening,
    worker_loads,
)
from frontdoor.intake import SubmissionResult, submit_contact
from frontdoor.policy import Caseload, Policy, default_policy
from frontdoor.ports import Store
from frontdoor.records import ClockKind, Deadline, DeadlineState, StoredAuditEvent
from frontdoor.roles import Role
from tests.fakes import InMemoryStore, InMemoryUnitOfWork

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # Monday 16 March 2026, 10:00 in London (GMT)
CALENDAR = WorkingCalendar()
POLICY = default_policy()

OFFICER = "aad-officer-1"
OFFICER_2 = "aad-officer-2"
CONSULTANT = "aad-cons-1"
CONSULTANT_2 = "aad-cons-2"
TEAM_MANAGER = "aad-tm-1"
DUTY_MANAGER = "aad-dm-1"
SW = "aad-sw-1"
SW_2 = "aad-sw-2"
SW_3 = "aad-sw-3"

STAFF: dict[str, tuple[Role, str]] = {
    OFFICER: (Role.OFFICER, "Officer One"),
    OFFICER_2: (Role.OFFICER, "Officer Two"),
    CONSULTANT: (Role.CONSULTANT, "Consultant One"),
    CONSULTANT_2: (Role.CONSULTANT, "Consultant Two"),
    TEAM_MANAGER: (Role.TEAM_MANAGER, "Team Manager One"),
    DUTY_MANAGER: (Role.DUTY_MANAGER, "Duty Manager One"),
    SW: (Role.SOCIAL_WORKER, "Social Worker One"),
    SW_2: (Role.SOCIAL_WORKER, "Social Worker Two"),
    SW_3: (Role.SOCIAL_WORKER, "Social Worker Three"),
}

#: The roles each person acts with, as the caller would derive them from the directory.
ROLES: dict[str, frozenset[Role]] = {person: frozenset({role}) for person, (role, _) in STAFF.items()}

PROFESSIONAL = Referrer(
    ReferrerType.PROFESSIONAL,
    name="Testy McTestface",
    agency="Example Primary School",
    role="Designated safeguarding lead",
    phone="+441914980000",
    email="testy@example.org",
)
ANONYMOUS_PUBLIC = Referrer(
    ReferrerType.MEMBER_OF_PUBLIC,
    name="Anonymous Neighbourname",
    phone="+447700900123",
    anonymity_requested=True,
)
CHILD = Child(
    "Zebedee Example", date(2019, 5, 4), address="1 Example Street, AB1 2CD", school="Example Primary"
)
WORRIES = "Worried about home conditions at Example Street"


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


async def seat(store: Store) -> None:
    """Everybody in the role directory with a display name."""
    async with store.unit_of_work() as uow:
        for person, (role, name) in STAFF.items():
            await uow.roles.grant(person, role)
            await uow.roles.set_display_name(person, name)
        await uow.commit()


async def submitted(
    store: Store,
    *,
    urgent: bool = False,
    rereferral: bool = False,
    last_worker: str | None = SW_2,
    referrer: Referrer = PROFESSIONAL,
    children: tuple[Child, ...] = (CHILD,),
    now: datetime = NOW,
) -> Contact:
    """A complete draft submitted through intake, so its clocks are intake's own."""
    draft = Contact(
        id=str(uuid.uuid4()),
        created_by=OFFICER,
        created_at=now,
        source=Source.PHONE,
        contact_type=ContactType.REFERRAL,
        referrer=referrer,
        children=children,
        consent=Consent.GIVEN,
        worries=WORRIES,
        presenting_needs=frozenset({PresentingNeed.NEGLECT}),
        immediate_risks=frozenset({ImmediateRisk.INJURY}) if urgent else frozenset(),
        history=HistoryChecks(
            closed_within_3_months=rereferral,
            last_worker_id=last_worker if rereferral else None,
            systems_checked=("social_care",),
        ),
        draft_section="summary",
    )
    async with store.unit_of_work() as uow:
        await uow.contacts.add(draft)
        await uow.commit()
    result = await submit_contact(
        store.unit_of_work(), draft.id, OFFICER, draft.version, now, CALENDAR, POLICY
    )
    assert isinstance(result, SubmissionResult), result
    return result.contact


async def stored(store: Store, contact: Contact) -> Contact:
    async with store.unit_of_work() as uow:
        found = await uow.contacts.get(contact.id)
    assert found is not None
    return found


async def deadlines_of(store: Store, subject: str | None) -> list[Deadline]:
    assert subject is not None
    async with store.unit_of_work() as uow:
        return await uow.deadlines.for_subject(subject)


async def open_clocks(store: Store, subject: str | None) -> dict[ClockKind, Deadline]:
    return {d.clock: d for d in await deadlines_of(store, subject) if d.state is DeadlineState.OPEN}


def states(deadlines: Iterable[Deadline]) -> dict[ClockKind, list[DeadlineState]]:
    found: dict[ClockKind, list[DeadlineState]] = {}
    for deadline in deadlines:
        found.setdefault(deadline.clock, []).append(deadline.state)
    return found


EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


async def audit_rows(store: Store) -> list[StoredAuditEvent]:
    async with store.unit_of_work() as uow:
        return await uow.audit.between(*EVER)


async def audit_actions(store: Store, subject: str | None) -> list[str]:
    return [row.event.action for row in await audit_rows(store) if row.event.subject == subject]


async def snapshot(store: Store, contact: Contact) -> tuple[Contact, list[Deadline], int]:
    """What a refusal must leave alone: the contact, its deadlines and the audit length."""
    return (
        await stored(store, contact),
        await deadlines_of(store, contact.reference),
        len(await audit_rows(store)),
    )


async def screen(
    store: Store,
    contact: Contact,
    decision: ScreeningDecision,
    actor: str = CONSULTANT,
    *,
    roles: Iterable[Role] | None = None,
    version: int | None = None,
    now: datetime = NOW,
    policy: Policy = POLICY,
) -> ScreeningDecided | Refusal | AlreadyDecided:
    return await decide_screening(
        store.unit_of_work(),
        contact.id,
        decision,
        actor,
        ROLES.get(actor, frozenset()) if roles is None else roles,
        contact.version if version is None else version,
        now,
        CALENDAR,
        policy,
    )


def route(which: ScreeningRoute, assignee: str | None = None, **kwargs: object) -> ScreeningDecision:
    if which is ScreeningRoute.II:
        kwargs.setdefault("service_consent", ServiceConsent.GIVEN)  # route II records it with its outcome
    return ScreeningDecision(which, f"Rationale for route {which.value}", assignee, **kwargs)  # type: ignore[arg-type]


ROUTE_I = route(ScreeningRoute.I)
ROUTE_II = route(ScreeningRoute.II)
ROUTE_III = route(ScreeningRoute.III, OFFICER)
ROUTE_IV = route(ScreeningRoute.IV, SW)


async def screened(
    store: Store, contact: Contact, decision: ScreeningDecision, actor: str = CONSULTANT
) -> Contact:
    result = await screen(store, contact, decision, actor)
    assert isinstance(result, ScreeningDecided), result
    return result.contact


async def load_up(
    store: Store, worker: str, count: int, state: ContactState = ContactState.SW_ASSESSMENT
) -> None:
    """``count`` contacts assigned to ``worker`` in ``state``, added straight to the store."""
    async with store.unit_of_work() as uow:
        for n in range(count):
            await uow.contacts.add(
                Contact(
                    id=f"load-{worker}-{state.value}-{n}",
                    created_by=OFFICER,
                    created_at=NOW - timedelta(days=1),
                    state=state,
                    reference=f"CT-25-{abs(hash((worker, state, n))) % 900000 + 100000:06d}",
                    received_at=NOW - timedelta(days=1),
                    assignee_id=worker,
                )
            )
        await uow.commit()


# -- the routes -----------------------------------------------------------------------------------


async def test_route_i_starts_the_two_hour_and_24_hour_clocks(store: Store) -> None:
    await seat(store)
    contact = await submitted(store)
    result = await screen(store, contact, ROUTE_I)
    assert isinstance(result, ScreeningDecided)
    saved = result.contact
    assert saved.state is ContactState.CP_DECISION and saved.version == contact.version + 1
    assert saved.events[-1].action == "route_i" and saved.events[-1].actor_id == CONSULTANT
    assert saved.events[-1].rationale == "Rationale for route i"
    assert states(await deadlines_of(store, saved.reference)) == {
        ClockKind.SCREENING: [DeadlineState.MET],
        ClockKind.CP_DECISION: [DeadlineState.OPEN],
        ClockKind.COMPLETION_24H: [DeadlineState.OPEN],
    }
    clocks = await open_clocks(store, saved.reference)
    assert clocks[ClockKind.CP_DECISION].due_at == NOW + timedelta(hours=2)
    assert clocks[ClockKind.COMPLETION_24H].due_at == NOW + timedelta(hours=24)
    assert result.next_due == NOW + timedelta(hours=2)
    assert (
        result.summary.due_clock is ClockKind.CP_DECISION and result.summary.state is ContactState.CP_DECISION
    )
    assert await stored(store, contact) == saved
    last = (await audit_rows(store))[-1].event
    assert (last.action, last.subject, last.actor_id, last.detail) == (
        "contact.route_i",
        saved.reference,
        CONSULTANT,
        "route=i",
    )


async def test_route_i_on_an_urgent_contact_keeps_the_clock_started_at_submission(store: Store) -> None:
    await seat(store)
    contact = await submitted(store, urgent=True, now=NOW - timedelta(minutes=30))
    await screened(store, contact, ROUTE_I)
    cp = [d for d in await deadlines_of(store, contact.reference) if d.clock is ClockKind.CP_DECISION]
    assert [(d.state, d.due_at) for d in cp] == [(DeadlineState.OPEN, NOW + timedelta(minutes=90))]


@pytest.mark.parametrize(
    ("decision", "outcome", "agency"),
    [
        (ROUTE_II, OutcomeKind.NO_FURTHER_ACTION, None),
        (route(ScreeningRoute.II, outcome=OutcomeKind.ADVICE), OutcomeKind.ADVICE, None),
        (
            route(ScreeningRoute.II, outcome=OutcomeKind.OTHER_AGENCY, agency=Agency.EARLY_HELP),
            OutcomeKind.OTHER_AGENCY,
            Agency.EARLY_HELP,
        ),
    ],
)
async def test_route_ii_records_the_outcome_and_goes_to_sign_off(
    store: Store, decision: ScreeningDecision, outcome: OutcomeKind, agency: Agency | None
) -> None:
    await seat(store)
    contact = await submitted(store)
    result = await screen(store, contact, decision)
    assert isinstance(result, ScreeningDecided)
    assert result.contact.state is ContactState.AWAITING_SIGNOFF
    assert result.outcome is not None and result.outcome.kind is outcome
    recorded = current_outcome(result.contact)
    assert recorded is not None
    assert (recorded.outcome.kind, recorded.outcome.agency, recorded.decided_by) == (
        outcome,
        agency,
        CONSULTANT,
    )
    assert recorded.outcome.rationale == "Rationale for route ii"
    clocks = await open_clocks(store, contact.reference)
    assert set(clocks) == {ClockKind.COMPLETION_24H}
    assert clocks[ClockKind.COMPLETION_24H].due_at == NOW + timedelta(hours=24)
    detail = (await audit_rows(store))[-1].event.detail
    assert detail.startswith(f"route=ii; outcome={outcome.value}")
    assert ("agency=early_help" in detail) is (agency is not None)


@pytest.mark.parametrize(
    ("decision", "state", "assignee"),
    [(ROUTE_III, ContactState.OFFICER_WORK, OFFICER), (ROUTE_IV, ContactState.SW_ASSESSMENT, SW)],
)
async def test_routes_iii_and_iv_assign_the_work_and_its_48_hour_clock(
    store: Store, decision: ScreeningDecision, state: ContactState, assignee: str
) -> None:
    await seat(store)
    contact = await submitted(store)
    result = await screen(store, contact, decision)
    assert isinstance(result, ScreeningDecided)
    assert (result.contact.state, result.contact.assignee_id, result.assignee_id) == (
        state,
        assignee,
        assignee,
    )
    clocks = await open_clocks(store, contact.reference)
    assert set(clocks) == {ClockKind.COMPLETION_48H}
    assert (clocks[ClockKind.COMPLETION_48H].due_at, clocks[ClockKind.COMPLETION_48H].assignee_id) == (
        NOW + timedelta(hours=48),
        assignee,
    )
    assert (await audit_rows(store))[-1].event.detail == f"route={decision.route.value}; assignee={assignee}"


@pytest.mark.parametrize("decision", [ROUTE_II, ROUTE_III, ROUTE_IV])
async def test_routes_ii_to_iv_on_an_urgent_contact_are_its_child_protection_decision(
    store: Store, decision: ScreeningDecision
) -> None:
    await seat(store)
    contact = await submitted(store, urgent=True)
    await screened(store, contact, decision)
    found = states(await deadlines_of(store, contact.reference))
    assert found[ClockKind.CP_DECISION] == [DeadlineState.MET]
    assert found[ClockKind.SCREENING] == [DeadlineState.MET]


@pytest.mark.parametrize("decision", [route(ScreeningRoute.I, SW), route(ScreeningRoute.II, OFFICER)])
async def test_routes_i_and_ii_assign_nobody_whatever_the_card_sent(
    store: Store, decision: ScreeningDecision
) -> None:
    await seat(store)
    contact = await submitted(store)
    result = await screen(store, contact, decision)
    assert isinstance(result, ScreeningDecided)
    assert result.assignee_id is None and result.contact.assignee_id is None
    assert all(d.assignee_id is None for d in await deadlines_of(store, contact.reference))


async def test_a_team_manager_may_screen(store: Store) -> None:
    await seat(store)
    contact = await submitted(store)
    result = await screen(store, contact, ROUTE_IV, TEAM_MANAGER)
    assert isinstance(result, ScreeningDecided) and result.decided_by == TEAM_MANAGER


# -- refusals change nothing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (ScreeningDecision(ScreeningRoute.I, "  "), "needs a rationale"),
        (route(ScreeningRoute.III), "choose the officer"),
        (route(ScreeningRoute.IV), "choose the social worker"),
        (route(ScreeningRoute.II, outcome=OutcomeKind.ACCEPTED), "is route I"),
        (route(ScreeningRoute.II, outcome=OutcomeKind.OTHER_AGENCY), "choose the agency"),
        (route(ScreeningRoute.II, agency=Agency.HEALTH), "only a referral to another agency"),
        (route(ScreeningRoute.II, service_consent=None), "consent for a service"),
        (route(ScreeningRoute.III, SW), "not listed as one of the First Contact officers"),
        (route(ScreeningRoute.IV, OFFICER), "not listed as one of the social workers"),
        (route(ScreeningRoute.IV, "aad-nobody"), "not listed as one of the social workers"),
    ],
)
async def test_an_invalid_decision_is_refused(
    store: Store, decision: ScreeningDecision, expected: str
) -> None:
    await seat(store)
    contact = await submitted(store)
    before = await snapshot(store, contact)
    result = await screen(store, contact, decision)
    assert isinstance(result, Refusal) and result.reason is RefusalReason.INVALID
    assert expected in result.message
    assert await snapshot(store, contact) == before


@pytest.mark.parametrize(
    "roles",
    [
        frozenset(),
        frozenset({Role.OFFICER}),
        frozenset({Role.SOCIAL_WORKER}),
        frozenset({Role.DUTY_MANAGER}),
        frozenset({Role.PROFESSIONAL}),
        frozenset({Role.ADMIN}),
    ],
)
@pytest.mark.parametrize("decision", [ROUTE_I, ROUTE_II, ROUTE_III, ROUTE_IV])
async def test_a_forged_role_is_refused(
    store: Store, roles: frozenset[Role], decision: ScreeningDecision
) -> None:
    """The actor is a consultant in the directory, but the roles passed in (which the caller derives
    from the directory, never from the card) do not allow it: the roles passed are what counts."""
    await seat(store)
    contact = await submitted(store)
    before = await snapshot(store, contact)
    result = await screen(store, contact, decision, CONSULTANT, roles=roles)
    assert isinstance(result, Refusal) and result.reason is RefusalReason.NOT_PERMITTED
    assert "consultants or team managers" in result.message
    assert await snapshot(store, contact) == before


async def test_screening_a_re_referral_is_refused_as_the_wrong_state(store: Store) -> None:
    await seat(store)
    contact = await submitted(store, rereferral=True)
    before = await snapshot(store, contact)
    result = await screen(store, contact, ROUTE_I)
    assert isinstance(result, Refusal) and result.reason is RefusalReason.WRONG_STATE
    assert contact.reference is not None and contact.reference in result.message
    assert await snapshot(store, contact) == before


async def test_an_unknown_contact_is_refused(store: Store) -> None:
    result = await decide_screening(
        store.unit_of_work(), "no-such-id", ROUTE_I, CONSULTANT, ROLES[CONSULTANT], 1, NOW, CALENDAR, POLICY
    )
    assert isinstance(result, Refusal) and result.reason is RefusalReason.NOT_FOUND


# -- two deciders, stale cards and replays --------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [(CONSULTANT, CONSULTANT_2), (CONSULTANT_2, CONSULTANT)])
async def test_the_second_decider_is_told_who_decided_and_nothing_changes(
    store: Store, first: str, second: str
) -> None:
    await seat(store)
    contact = await submitted(store)
    won = await screen(store, contact, ROUTE_IV, first)
    assert isinstance(won, ScreeningDecided)
    after_first = await snapshot(store, contact)
    # The second decider's card still carries the version both of them saw.
    lost = await screen(store, contact, ROUTE_I, second)
    assert isinstance(lost, AlreadyDecided)
    assert (lost.by, lost.by_name, lost.action, lost.replay) == (first, STAFF[first][1], "route_iv", False)
    assert lost.contact == won.contact
    assert f"already decided by {STAFF[first][1]}" in lost.message and "route iv" in lost.message
    assert await snapshot(store, contact) == after_first
    assert (await audit_actions(store, contact.reference)).count("contact.route_iv") == 1


class _YieldingStore(InMemoryStore):
    """Reads a contact and then yields, so two decisions both read before either saves: the second
    save meets ``StaleVersionError`` rather than a version already moved on."""

    def unit_of_work(self) -> InMemoryUnitOfWork:
        uow = super().unit_of_work()
        contacts = uow.contacts
        get = contacts.get

        async def get_then_yield(contact_id: str) -> Contact | None:
            found = await get(contact_id)
            await asyncio.sleep(0)
            return found

        contacts.get = get_then_yield  # type: ignore[method-assign]
        return uow


@pytest.mark.parametrize(("first", "second"), [(CONSULTANT, CONSULTANT_2), (CONSULTANT_2, CONSULTANT)])
async def test_two_deciders_at_the_same_moment_one_wins(first: str, second: str) -> None:
    store = _YieldingStore()
    await seat(store)
    contact = await submitted(store)
    results = await asyncio.gather(
        screen(store, contact, ROUTE_II, first), screen(store, contact, ROUTE_III, second)
    )
    won, lost = results
    assert isinstance(won, ScreeningDecided) and won.decided_by == first
    assert isinstance(lost, AlreadyDecided) and lost.by == first and not lost.replay
    saved = await stored(store, contact)
    assert saved.state is ContactState.AWAITING_SIGNOFF and saved.version == contact.version + 1
    assert [e.action for e in saved.events] == ["submit", "route_ii"]
    assert await audit_actions(store, contact.reference) == ["contact.submitted", "contact.route_ii"]
    assert set(await open_clocks(store, contact.reference)) == {ClockKind.COMPLETION_24H}
    assert not store.writer.locked()


async def test_a_replayed_card_changes_nothing(store: Store) -> None:
    await seat(store)
    contact = await submitted(store)
    assert isinstance(await screen(store, contact, ROUTE_III), ScreeningDecided)
    after = await snapshot(store, contact)
    again = await screen(store, contact, ROUTE_III)
    assert isinstance(again, AlreadyDecided) and again.replay and again.by == CONSULTANT
    assert again.message.startswith("You have already done this")
    assert await snapshot(store, contact) == after


async def test_a_stale_card_changes_nothing(store: Store) -> None:
    await seat(store)
    contact = await submitted(store)
    before = await snapshot(store, contact)
    for version in (contact.version - 1, contact.version + 1):
        result = await screen(store, contact, ROUTE_I, version=version)
        assert isinstance(result, AlreadyDecided) and result.contact == contact
    assert await snapshot(store, contact) == before


# -- allocation and the caseload cap --------------------------------------------------------------


async def test_allocation_beyond_the_cap_is_refused_with_the_load_shown(store: InMemoryStore) -> None:
    await seat(store)
    await load_up(store, SW, POLICY.caseload.cap)
    contact = await submitted(store)
    before = await snapshot(store, contact)
    result = await screen(store, contact, ROUTE_IV)
    assert isinstance(result, Refusal) and result.reason is RefusalReason.OVER_CAP
    assert result.load is not None and (
        result.load.worker_id,
        result.load.open_contacts,
        result.load.cap,
    ) == (
        SW,
        10,
        10,
    )
    assert "Social Worker One already holds 10 open contacts (the cap is 10)" in result.message
    assert await snapshot(store, contact) == before
    assert not store.writer.locked()
    # Another worker with room takes it.
    assert isinstance(await screen(store, contact, route(ScreeningRoute.IV, SW_2)), ScreeningDecided)


async def test_the_cap_comes_from_the_policy_and_counts_open_contacts_only(store: Store) -> None:
    await seat(store)
    policy = replace(POLICY, caseload=Caseload(cap=3))
    await load_up(store, SW, 2)
    # Closed, signed-off and passed-on contacts are not work in hand.
    await load_up(store, SW, 5, ContactState.CLOSED)
    await load_up(store, SW, 5, ContactState.PASSED_ON)
    first = await submitted(store)
    assert isinstance(await screen(store, first, ROUTE_IV, policy=policy), ScreeningDecided)
    second = await submitted(store)
    refused = await screen(store, second, ROUTE_IV, policy=policy)
    assert isinstance(refused, Refusal) and refused.load is not None
    assert (refused.load.open_contacts, refused.load.cap) == (3, 3)


async def test_worker_loads_show_each_social_worker_against_the_cap(store: Store) -> None:
    await seat(store)
    await load_up(store, SW, 10)
    await load_up(store, SW_2, 3)
    await load_up(store, OFFICER, 4, ContactState.OFFICER_WORK)
    await load_up(store, SW_2, 2, ContactState.CLOSED)
    loads = await worker_loads(store.unit_of_work(), POLICY)
    assert [(c.worker_id, c.load.open_contacts, c.load.cap, c.available, c.label) for c in loads] == [
        (SW, 10, 10, False, "Social Worker One (10/10)"),
        (SW_3, 0, 10, True, "Social Worker Three (0/10)"),
        (SW_2, 3, 10, True, "Social Worker Two (3/10)"),
    ]


# -- re-referrals ---------------------------------------------------------------------------------


async def rereferral(
    store: Store,
    contact: Contact,
    decision: RereferralDecision,
    actor: str = DUTY_MANAGER,
    *,
    roles: Iterable[Role] | None = None,
    version: int | None = None,
) -> RereferralDecided | Refusal | AlreadyDecided:
    return await decide_rereferral(
        store.unit_of_work(),
        contact.id,
        decision,
        actor,
        ROLES.get(actor, frozenset()) if roles is None else roles,
        contact.version if version is None else version,
        NOW,
        CALENDAR,
        POLICY,
    )


CP_MET = RereferralDecision(RereferralChoice.CP_THRESHOLD_MET, "Disclosure on a recently closed case")
REASSIGN = RereferralDecision(RereferralChoice.REASSIGN, "Known to the last worker")


async def test_a_re_referral_meeting_the_child_protection_threshold(store: Store) -> None:
    await seat(store)
    contact = await submitted(store, rereferral=True)
    assert contact.state is ContactState.DUTY_MANAGER_REVIEW
    result = await rereferral(store, contact, CP_MET)
    assert isinstance(result, RereferralDecided)
    assert (result.contact.state, result.contact.assignee_id, result.worker_id) == (
        ContactState.CP_DECISION,
        None,
        None,
    )
    assert result.contact.events[-1].action == "cp_threshold_met"
    assert states(await deadlines_of(store, contact.reference)) == {
        ClockKind.SCREENING: [DeadlineState.MET],
        ClockKind.CP_DECISION: [DeadlineState.OPEN],
        ClockKind.COMPLETION_24H: [DeadlineState.OPEN],
    }
    assert result.next_due == NOW + timedelta(hours=2)
    assert (await audit_actions(store, contact.reference))[-1] == "contact.cp_threshold_met"


@pytest.mark.parametrize(("chosen", "expected"), [(None, SW_2), (SW_3, SW_3)])
async def test_a_re_referral_reassigned_to_a_social_worker(
    store: Store, chosen: str | None, expected: str
) -> None:
    """By default the last allocated worker; the duty manager may choose another."""
    await seat(store)
    contact = await submitted(store, rereferral=True, last_worker=SW_2)
    result = await rereferral(store, contact, replace(REASSIGN, worker_id=chosen))
    assert isinstance(result, RereferralDecided)
    assert (result.contact.state, result.contact.assignee_id, result.worker_id) == (
        ContactState.SW_ASSESSMENT,
        expected,
        expected,
    )
    clocks = await open_clocks(store, contact.reference)
    assert set(clocks) == {ClockKind.REREFERRAL_RECOMMENDATION}
    recommendation = clocks[ClockKind.REREFERRAL_RECOMMENDATION]
    assert (recommendation.started_at, recommendation.due_at, recommendation.assignee_id) == (
        NOW,
        NOW + timedelta(hours=48),
        expected,
    )
    row = (await audit_rows(store))[-1].event
    assert (row.action, row.detail) == ("contact.reassign", f"decision=reassign; assignee={expected}")


async def test_re_referral_refusals_change_nothing(store: Store) -> None:
    await seat(store)
    contact = await submitted(store, rereferral=True, last_worker=None)
    before = await snapshot(store, contact)
    await load_up(store, SW_3, 10)
    cases: list[tuple[RereferralDecided | Refusal | AlreadyDecided, RefusalReason]] = [
        (await rereferral(store, contact, REASSIGN), RefusalReason.INVALID),  # no last worker, none chosen
        (await rereferral(store, contact, replace(REASSIGN, worker_id=OFFICER)), RefusalReason.INVALID),
        (await rereferral(store, contact, replace(REASSIGN, rationale="")), RefusalReason.INVALID),
        (await rereferral(store, contact, replace(REASSIGN, worker_id=SW_3)), RefusalReason.OVER_CAP),
        (await rereferral(store, contact, CP_MET, CONSULTANT), RefusalReason.NOT_PERMITTED),
        (await rereferral(store, contact, CP_MET, roles={Role.TEAM_MANAGER}), RefusalReason.NOT_PERMITTED),
    ]
    for result, reason in cases:
        assert isinstance(result, Refusal) and result.reason is reason, result
    contact_now, deadlines_now, _ = await snapshot(store, contact)
    assert (contact_now, deadlines_now) == before[:2]


async def test_a_re_referral_decision_on_a_screened_contact_is_refused(store: Store) -> None:
    await seat(store)
    contact = await submitted(store)
    result = await rereferral(store, contact, CP_MET)
    assert isinstance(result, Refusal) and result.reason is RefusalReason.WRONG_STATE


@pytest.mark.parametrize(("first", "second"), [(CP_MET, REASSIGN), (REASSIGN, CP_MET)])
async def test_two_duty_managers_on_one_re_referral(
    store: Store, first: RereferralDecision, second: RereferralDecision
) -> None:
    await seat(store)
    async with store.unit_of_work() as uow:
        await uow.roles.grant("aad-dm-2", Role.DUTY_MANAGER)
        await uow.commit()
    contact = await submitted(store, rereferral=True)
    assert isinstance(await rereferral(store, contact, first), RereferralDecided)
    after = await snapshot(store, contact)
    lost = await rereferral(store, contact, second, "aad-dm-2", roles={Role.DUTY_MANAGER})
    assert isinstance(lost, AlreadyDecided) and lost.by == DUTY_MANAGER
    assert "Duty Manager One" in lost.message
    assert await snapshot(store, contact) == after
