"""Screening routes I-IV, re-referral decisions, allocation under the caseload cap and the loads
view, against the in-memory store: clocks, audit, refusals that change nothing, and two deciders
at once. The helpers here are shared with ``test_casework``."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.allocation import worker_loads
from frontdoor.contact import (
    Consent,
    Contact,
    ContactState,
)
from frontdoor.decisions import (
    RereferralDecided,
    RereferralDecision,
    ScreeningDecided,
    ScreeningDecision,
    ScreeningRoute,
    decide_screening,
    may_stay_with_early_help,
)
from frontdoor.outcomes import (
    Agency,
    OutcomeKind,
    ServiceConsent,
    current_outcome,
    read_event_data,
    without_consent,
    without_consent_data,
    without_consent_problem,
)
from frontdoor.policy import Caseload
from frontdoor.records import ClockKind, DeadlineState
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from frontdoor.usecase import AlreadyDecided, Refusal, RefusalReason
from tests.fakes import InMemoryStore, InMemoryUnitOfWork
from tests.frontdoor.decision_builders import (
    CALENDAR,
    CONSULTANT,
    CONSULTANT_2,
    CP_MET,
    DUTY_MANAGER,
    NOW,
    OFFICER,
    POLICY,
    REASSIGN,
    ROLES,
    ROUTE_I,
    ROUTE_II,
    ROUTE_III,
    ROUTE_IV,
    STAFF,
    SW,
    SW_2,
    SW_3,
    TEAM_MANAGER,
    audit_actions,
    audit_rows,
    deadlines_of,
    load_up,
    open_clocks,
    rereferral,
    route,
    screen,
    screened,
    seat,
    snapshot,
    states,
    stored,
    submitted,
)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


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
        store.unit_of_work(),
        "no-such-id",
        ROUTE_I,
        1,
        who=Who(CONSULTANT, ROLES[CONSULTANT]),
        rules=Rules(NOW, CALENDAR, POLICY),
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
    assert set(clocks) == {ClockKind.REREFERRAL_RECOMMENDATION, ClockKind.COMPLETION_48H}
    recommendation = clocks[ClockKind.REREFERRAL_RECOMMENDATION]
    assert (recommendation.started_at, recommendation.due_at, recommendation.assignee_id) == (
        NOW,
        NOW + timedelta(hours=48),
        expected,
    )
    # As for route IV, the 48-hour completion clock from received-at (two working days), theirs too.
    completion = clocks[ClockKind.COMPLETION_48H]
    assert (completion.started_at, completion.due_at, completion.assignee_id) == (
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


# -- stays with early help -------------------------------------------------------------------------


async def _open_to_early_help(store: Store, contact: Contact) -> Contact:
    history = replace(contact.history, open_to_early_help=True, early_help_worker_id="aad-eh-1")
    async with store.unit_of_work() as uow:
        saved = await uow.contacts.save(replace(contact, history=history), contact.version)
        await uow.commit()
    return saved


STAYS = ScreeningDecision(
    ScreeningRoute.II,
    "Early help plan in place and working",
    stays_with_early_help=True,
    service_consent=ServiceConsent.GIVEN,
)


async def test_a_child_open_to_early_help_stays_with_it_as_route_ii_with_the_worker_named(
    store: Store,
) -> None:
    await seat(store)
    contact = await _open_to_early_help(store, await submitted(store))
    assert may_stay_with_early_help(contact)
    result = await screen(store, contact, STAYS)
    assert isinstance(result, ScreeningDecided)
    assert result.early_help_worker == "aad-eh-1"
    assert result.contact.state is ContactState.AWAITING_SIGNOFF
    recorded = current_outcome(result.contact)
    assert recorded is not None
    assert (recorded.outcome.kind, recorded.outcome.agency) == (OutcomeKind.OTHER_AGENCY, Agency.EARLY_HELP)
    # like any route II outcome, it records consent for a service, and is refused without it
    assert recorded.outcome.service_consent is ServiceConsent.GIVEN
    unconsented = replace(STAYS, service_consent=None)
    assert "Route II: record whether there is consent for a service" in unconsented.problems()
    assert read_event_data(result.contact.events[-1])["early_help_worker"] == "aad-eh-1"
    assert set(await open_clocks(store, contact.reference)) == {ClockKind.COMPLETION_24H}
    last = (await audit_rows(store))[-1].event
    assert last.action == "contact.stays_with_early_help" and "early_help_worker=aad-eh-1" in last.detail


@pytest.mark.parametrize("urgent", [True, False])
async def test_stays_with_early_help_is_refused_when_urgent_or_not_open_to_early_help(
    store: Store, urgent: bool
) -> None:
    await seat(store)
    contact = await submitted(store, urgent=urgent)
    if urgent:
        contact = await _open_to_early_help(store, contact)
    assert not may_stay_with_early_help(contact)
    result = await screen(store, contact, STAYS)
    assert isinstance(result, Refusal) and "cannot stay with early help" in result.message
    assert (await stored(store, contact)).state is ContactState.AWAITING_SCREENING
    wrong_route = replace(STAYS, route=ScreeningRoute.I)
    assert "route II decision" in wrong_route.problems()[0]


@pytest.mark.parametrize(
    ("consent", "cp_decision", "confirmation_needed"),
    [
        (Consent.GIVEN, False, False),
        (Consent.GIVEN, True, False),
        (Consent.REFUSED, False, True),
        (Consent.REFUSED, True, True),
        (Consent.NOT_SOUGHT, False, True),
        (Consent.NOT_SOUGHT, True, True),
        # an urgent contact whose officer has not reached the consent card: route IV, the re-referral
        # decisions and an accepted outcome need the confirmation; route I's 2-hour decision does not
        (None, False, True),
        (None, True, False),
    ],
)
def test_the_one_rule_for_proceeding_without_consent(
    consent: Consent | None, cp_decision: bool, confirmation_needed: bool
) -> None:
    contact = Contact(id="c-1", created_by="aad-officer", created_at=NOW, consent=consent)
    assert without_consent(contact, cp_decision=cp_decision) is confirmation_needed
    missing = without_consent_problem(contact, " ", cp_decision=cp_decision)
    assert (missing is not None) is confirmation_needed
    assert without_consent_problem(contact, "Bruising seen at school", cp_decision=cp_decision) is None
    data = without_consent_data(contact, " Bruising seen at school ", cp_decision=cp_decision)
    assert data == (
        {"without_consent": True, "risk_of_harm": "Bruising seen at school"} if confirmation_needed else {}
    )
