"""The intake use cases against the in-memory store: the script end to end, submission routes,
clocks, references, refusals that change nothing, and one commit for everything."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.calendar import WorkingCalendar, months_before
from frontdoor.contact import Child, Contact, ContactState, ImmediateRisk
from frontdoor.history_checks import HistoryRecorded, record_history_checks
from frontdoor.intake import (
    DraftCancelled,
    MentionTarget,
    Refusal,
    RefusalReason,
    SectionSaved,
    SubmissionResult,
    cancel_draft,
    go_back,
    save_section,
    start_contact,
    submit_contact,
)
from frontdoor.policy import default_policy, parse_policy
from frontdoor.records import ClockKind, Deadline, DeadlineState, RotaEntry, StoredAuditEvent
from frontdoor.repeats import child_key
from frontdoor.roles import Role
from frontdoor.script import Section, section_of
from frontdoor.submission_routing import Route, is_rereferral
from frontdoor.unit_of_work import Store
from tests.fakes import InMemoryStore, InMemoryUnitOfWork

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # Monday 16 March 2026, 10:00 in London (GMT)
TODAY = date(2026, 3, 16)
CALENDAR = WorkingCalendar()
POLICY = default_policy()
OFFICER = "aad-officer-1"
OTHER_OFFICER = "aad-officer-2"

ALL_NO: dict[str, object] = {f"risk_{risk.value}": "no" for risk in ImmediateRisk}

ROUTINE: dict[Section, dict[str, object]] = {
    Section.SOURCE: {"source": "phone", "contact_type": "referral"},
    Section.EMERGENCY: {
        "emergency_child": "Boy, about 8",
        "emergency_whereabouts": "Example hospital, children's ward",
        "emergency_phone": "07700 900123",
    },
    Section.REFERRER: {
        "referrer_type": "professional",
        "referrer_name": "Testy McTestface",
        "referrer_agency": "Example Primary School",
        "referrer_phone": "0191 498 0000",
    },
    Section.CHILDREN: {"child_0_name": "Zebedee Example", "child_0_dob": "2019-05-04"},
    Section.PARENTS: {"consent": "given"},
    Section.WORRIES: {"worries": "Worried about home conditions", "presenting_needs": "neglect"},
    Section.RISK: ALL_NO,
    Section.HISTORY: {
        "open_case": "false",
        "systems_checked": "social_care",
    },
    Section.SUMMARY: {},
}


def answers(**changes: dict[str, object]) -> dict[Section, dict[str, object]]:
    """The routine answers with some sections' values merged over."""
    merged = {section: dict(values) for section, values in ROUTINE.items()}
    for name, values in changes.items():
        merged[Section(name)] |= values
    return merged


async def started(store: Store, actor: str = OFFICER) -> Contact:
    result = await start_contact(store.unit_of_work(), who=Who(actor, frozenset({Role.OFFICER})), now=NOW)
    assert isinstance(result, Contact)
    return result


async def save(
    store: Store, contact: Contact, section: Section, values: dict[str, object], **kwargs: object
) -> SectionSaved | Refusal:
    return await save_section(
        store.unit_of_work(),
        contact.id,
        section,
        values,
        kwargs.pop("actor", OFFICER),
        kwargs.pop("version", contact.version),
        rules=Rules(kwargs.pop("now", NOW), CALENDAR, POLICY),
        **kwargs,
    )


async def drafted(
    store: Store, script: dict[Section, dict[str, object]] | None = None, actor: str = OFFICER
) -> Contact:
    """A draft walked through the script to its summary card, following the sections it is sent to."""
    script = script or ROUTINE
    contact = await started(store, actor)
    section = Section.SOURCE
    while section is not Section.SUMMARY:
        result = await save(store, contact, section, script[section], actor=actor)
        assert isinstance(result, SectionSaved), result
        contact, section = result.contact, result.section
    return contact


async def created(
    store: Store, script: dict[Section, dict[str, object]], now: datetime = NOW
) -> SubmissionResult:
    """An urgent draft walked to its emergency details card and saved: the contact created at once."""
    contact = await started(store)
    section = Section.SOURCE
    while True:
        result = await save(store, contact, section, script[section], now=now)
        assert isinstance(result, SectionSaved), result
        if result.created is not None:
            assert section is Section.EMERGENCY
            return result.created
        contact, section = result.contact, result.section


async def submit(
    store: Store, contact: Contact, *, received_at: datetime | None = None, now: datetime = NOW
) -> SubmissionResult | Refusal:
    return await submit_contact(
        store.unit_of_work(),
        contact.id,
        OFFICER,
        contact.version,
        received_at,
        rules=Rules(now, CALENDAR, POLICY),
    )


async def submitted(store: Store, script: dict[Section, dict[str, object]] | None = None) -> SubmissionResult:
    result = await submit(store, await drafted(store, script))
    assert isinstance(result, SubmissionResult), result
    return result


async def stored(store: Store, contact_id: str) -> Contact | None:
    async with store.unit_of_work() as uow:
        return await uow.contacts.get(contact_id)


async def deadlines_of(store: Store, subject: str) -> list[Deadline]:
    async with store.unit_of_work() as uow:
        return await uow.deadlines.for_subject(subject)


EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


async def audit_rows(store: Store) -> list[StoredAuditEvent]:
    async with store.unit_of_work() as uow:
        return await uow.audit.between(*EVER)


async def all_contacts(store: Store) -> list[Contact]:
    async with store.unit_of_work() as uow:
        return await uow.contacts.list_by_state(list(ContactState))


async def all_deadlines(store: Store) -> list[Deadline]:
    async with store.unit_of_work() as uow:
        return await uow.deadlines.open_due_before(EVER[1], limit=1000)


async def next_number(store: Store, year: int = 26) -> int:
    """The contact number the next submission would get (allocated and rolled back)."""
    async with store.unit_of_work() as uow:
        return await uow.references.allocate("CT", year)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


# -- starting ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OFFICER, Role.CONSULTANT, Role.TEAM_MANAGER])
async def test_officers_consultants_and_team_managers_start_a_draft(store: Store, role: Role) -> None:
    contact = await start_contact(store.unit_of_work(), who=Who(OFFICER, frozenset({role})), now=NOW)
    assert isinstance(contact, Contact)
    assert contact.state is ContactState.DRAFT
    assert contact.draft_section == "source"
    assert await stored(store, contact.id) == contact
    assert [(row.event.action, row.event.subject) for row in await audit_rows(store)] == [
        ("contact.started", contact.id)
    ]


@pytest.mark.parametrize(
    "roles",
    [set(), {Role.SOCIAL_WORKER}, {Role.PROFESSIONAL}, {Role.ADMIN}, {Role.DUTY_MANAGER}],
)
async def test_anyone_else_is_told_politely_who_can(store: Store, roles: set[Role]) -> None:
    result = await start_contact(store.unit_of_work(), who=Who(OFFICER, frozenset(roles)), now=NOW)
    assert isinstance(result, Refusal)
    assert result.reason is RefusalReason.NOT_PERMITTED
    assert "officers, social work consultants and team managers" in result.message
    assert await all_contacts(store) == [] and await audit_rows(store) == []


# -- the script ----------------------------------------------------------------------------------


async def test_each_section_is_saved_and_the_draft_moves_on(store: Store) -> None:
    contact = await started(store)
    result = await save(store, contact, Section.SOURCE, ROUTINE[Section.SOURCE])
    assert isinstance(result, SectionSaved)
    assert result.section is Section.RISK  # immediate risk comes second
    assert result.contact.version == contact.version + 1
    assert await stored(store, contact.id) == result.contact
    last = (await audit_rows(store))[-1].event
    assert (last.action, last.subject, last.detail) == ("contact.section_saved", contact.id, "source")


async def test_answers_survive_in_the_store_through_to_the_summary(store: Store) -> None:
    contact = await drafted(store)
    again = await stored(store, contact.id)
    assert again is not None and again.draft_section == "summary"
    assert again.children[0].name == "Zebedee Example"
    assert again.referrer is not None and again.referrer.phone == "0191 498 0000"


async def test_an_urgent_yes_creates_the_contact_at_the_emergency_details_and_keeps_every_card(
    store: Store,
) -> None:
    contact = await drafted(store, answers(risk={"risk_injury": "yes"}))
    saved = [
        row.event.detail.split(";")[0]
        for row in await audit_rows(store)
        if row.event.action == "contact.section_saved"
    ]
    # the history checks are still asked; every card after the emergency details is on the contact
    assert saved == ["source", "risk", "emergency", "referrer", "children", "parents", "worries", "history"]
    assert contact.reference == "CT-26-000001" and contact.completing
    assert contact.state is ContactState.AWAITING_SCREENING
    assert contact.draft_section == "summary"
    assert contact.emergency.phone == "07700 900123"
    assert contact.history.recorded
    # one contact throughout: the cards after creation are audited under its reference
    after = [row.event for row in await audit_rows(store) if row.event.subject == "CT-26-000001"]
    assert [e.action for e in after][:2] == ["contact.submitted", "contact.section_saved"]
    assert all(f"contact={contact.id}" in e.detail for e in after)


async def test_finishing_an_urgent_contact_keeps_its_reference_route_and_clocks(store: Store) -> None:
    contact = await drafted(store, answers(risk={"risk_injury": "yes"}, history={"systems_checked": ""}))
    before = await deadlines_of(store, "CT-26-000001")
    result = await submit(store, contact, now=NOW + timedelta(minutes=9))
    assert isinstance(result, SubmissionResult) and result.completed
    assert result.reference == "CT-26-000001" and result.route is Route.SCREENING
    assert not result.contact.completing and result.contact.draft_section == ""
    assert await deadlines_of(store, "CT-26-000001") == before
    assert not result.contact.history.recorded  # outstanding, and allowed to be
    last = (await audit_rows(store))[-1].event
    assert (last.action, last.subject) == ("contact.completed", "CT-26-000001")
    assert "history=outstanding" in last.detail


async def test_an_urgent_contact_refuses_its_creation_cards_cancel_and_back_past_them(store: Store) -> None:
    made = await created(store, answers(risk={"risk_injury": "yes"}))
    contact = made.contact
    for section in (Section.SOURCE, Section.RISK, Section.EMERGENCY):
        refused = await save(store, replace(contact, draft_section=section.value), section, ROUTINE[section])
        assert isinstance(refused, Refusal) and refused.reason is RefusalReason.MOVED_ON
    cancelled = await cancel_draft(store.unit_of_work(), contact.id, OFFICER, NOW)
    assert isinstance(cancelled, Refusal) and "cannot be cancelled" in cancelled.message
    back = await go_back(store.unit_of_work(), contact.id, Section.REFERRER, OFFICER, contact.version, NOW)
    assert isinstance(back, SectionSaved) and back.section is Section.REFERRER
    assert await stored(store, contact.id) == contact


async def test_the_emergency_details_are_required_before_the_contact_is_created(store: Store) -> None:
    contact = await started(store)
    for section in (Section.SOURCE, Section.RISK):
        result = await save(store, contact, section, answers(risk={"risk_injury": "yes"})[section])
        assert isinstance(result, SectionSaved)
        contact = result.contact
    refused = await save(store, contact, Section.EMERGENCY, {"emergency_child": "A girl"})
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.INVALID
    assert {e.field_id for e in refused.errors} == {"emergency_whereabouts", "emergency_phone"}
    stored_now = await stored(store, contact.id)
    assert stored_now is not None and stored_now.reference is None


async def test_invalid_answers_are_refused_with_field_messages_and_nothing_changes(
    store: Store,
) -> None:
    contact = await started(store)
    before = await audit_rows(store)
    result = await save(store, contact, Section.SOURCE, {"source": "phone"})
    assert isinstance(result, Refusal) and result.reason is RefusalReason.INVALID
    assert [error.field_id for error in result.errors] == ["contact_type"]
    assert "Contact type" in result.message
    assert await stored(store, contact.id) == contact
    assert await audit_rows(store) == before


async def test_save_draft_keeps_partial_answers_and_stays_on_the_card(store: Store) -> None:
    contact = await started(store)
    result = await save(store, contact, Section.SOURCE, {"source": "email"}, advance=False)
    assert isinstance(result, SectionSaved)
    assert result.section is Section.SOURCE
    saved = await stored(store, contact.id)
    assert saved is not None and saved.source is not None and saved.source.value == "email"
    assert saved.draft_section == "source"
    assert (await audit_rows(store))[-1].event.action == "contact.draft_saved"


async def test_back_moves_to_the_previous_card(store: Store) -> None:
    contact = await started(store)
    first = await save(store, contact, Section.SOURCE, ROUTINE[Section.SOURCE])
    assert isinstance(first, SectionSaved)
    back = await go_back(store.unit_of_work(), contact.id, Section.RISK, OFFICER, first.contact.version, NOW)
    assert isinstance(back, SectionSaved)
    assert back.section is Section.SOURCE
    assert back.contact.source is not None  # what was saved is kept
    assert (await stored(store, contact.id)) == back.contact


async def test_cancel_deletes_the_draft_and_audits_it(store: Store) -> None:
    contact = await started(store)
    result = await cancel_draft(store.unit_of_work(), contact.id, OFFICER, NOW)
    assert result == DraftCancelled(contact.id)
    assert await stored(store, contact.id) is None
    assert (await audit_rows(store))[-1].event.action == "contact.draft_cancelled"


# -- refusals that change nothing ----------------------------------------------------------------


async def test_a_card_from_an_earlier_step_is_refused(store: Store) -> None:
    contact = await started(store)
    first = await save(store, contact, Section.SOURCE, ROUTINE[Section.SOURCE])
    assert isinstance(first, SectionSaved)
    audit_before = await audit_rows(store)
    # The source card pressed again: old section and old version.
    again = await save(store, contact, Section.SOURCE, {"source": "email", "contact_type": "advice"})
    assert isinstance(again, Refusal) and again.reason is RefusalReason.STALE
    assert again.current_section is Section.RISK
    assert "earlier step" in again.message
    # The right section but a stale version (another card of the same step) is refused too.
    stale = await save(store, first.contact, Section.RISK, ROUTINE[Section.RISK], version=contact.version)
    assert isinstance(stale, Refusal) and stale.reason is RefusalReason.STALE
    assert await stored(store, contact.id) == first.contact
    assert await audit_rows(store) == audit_before


async def test_another_persons_draft_is_refused(store: Store) -> None:
    contact = await started(store)
    for result in (
        await save(store, contact, Section.SOURCE, ROUTINE[Section.SOURCE], actor=OTHER_OFFICER),
        await go_back(store.unit_of_work(), contact.id, Section.SOURCE, OTHER_OFFICER, contact.version, NOW),
        await cancel_draft(store.unit_of_work(), contact.id, OTHER_OFFICER, NOW),
        await submit_contact(
            store.unit_of_work(),
            contact.id,
            OTHER_OFFICER,
            contact.version,
            rules=Rules(NOW, CALENDAR, POLICY),
        ),
    ):
        assert isinstance(result, Refusal) and result.reason is RefusalReason.NOT_YOURS
    assert await stored(store, contact.id) == contact
    assert len(await audit_rows(store)) == 1


async def test_a_contact_that_has_moved_on_is_refused(store: Store) -> None:
    contact = await drafted(store)
    result = await submit(store, contact)
    assert isinstance(result, SubmissionResult)
    audit_before = await audit_rows(store)
    for refused in (
        await submit(store, contact),
        await save(store, contact, Section.SUMMARY, {}),
        await cancel_draft(store.unit_of_work(), contact.id, OFFICER, NOW),
    ):
        assert isinstance(refused, Refusal) and refused.reason is RefusalReason.MOVED_ON
        assert "CT-26-000001" in refused.message
    assert await stored(store, contact.id) == result.contact
    assert await audit_rows(store) == audit_before
    assert len(await deadlines_of(store, "CT-26-000001")) == 1


async def test_a_missing_draft_is_refused(store: Store) -> None:
    result = await save_section(
        store.unit_of_work(),
        "no-such-id",
        Section.SOURCE,
        {},
        OFFICER,
        0,
        rules=Rules(NOW, CALENDAR, POLICY),
    )
    assert isinstance(result, Refusal) and result.reason is RefusalReason.NOT_FOUND


async def test_submitting_before_the_summary_is_refused(store: Store) -> None:
    contact = await started(store)
    result = await submit(store, contact)
    assert isinstance(result, Refusal) and result.reason is RefusalReason.STALE
    assert await next_number(store) == 1


async def test_an_incomplete_draft_is_refused_at_submission(store: Store) -> None:
    contact = await drafted(store)
    # Back to the children card and saved as a draft with the child's date of birth cleared.
    async with store.unit_of_work() as uow:
        await uow.contacts.save(replace(contact, children=(Child("Zebedee Example"),)), contact.version)
        await uow.commit()
    current = await stored(store, contact.id)
    assert current is not None
    result = await submit(store, current)
    assert isinstance(result, Refusal) and result.reason is RefusalReason.INVALID
    assert [error.field_id for error in result.errors] == ["child_0_dob"]
    assert await stored(store, contact.id) == current
    assert await next_number(store) == 1


# -- submission routes ---------------------------------------------------------------------------


async def test_a_routine_contact_goes_to_screening_with_the_screening_clock(store: Store) -> None:
    result = await submitted(store)
    assert result.reference == "CT-26-000001"
    assert result.route is Route.SCREENING
    assert not result.urgent
    contact = result.contact
    assert contact.state is ContactState.AWAITING_SCREENING
    assert contact.reference == "CT-26-000001"
    assert contact.received_at == NOW
    assert contact.events[-1].action == "submit"
    # One working day from Monday 10:00 is Tuesday 10:00.
    assert result.screening_due == datetime(2026, 3, 17, 10, 0, tzinfo=UTC)
    assert result.cp_due is None
    assert [(d.clock, d.due_at) for d in await deadlines_of(store, "CT-26-000001")] == [
        (ClockKind.SCREENING, datetime(2026, 3, 17, 10, 0, tzinfo=UTC))
    ]
    assert result.mention_targets == ()
    assert result.worker_to_notify is None
    assert await stored(store, contact.id) == contact
    last = (await audit_rows(store))[-1].event
    assert (last.action, last.subject) == ("contact.submitted", "CT-26-000001")
    assert "route=screening" in last.detail and contact.id in last.detail


async def test_reference_numbers_are_sequential(store: Store) -> None:
    first = await submitted(store)
    second = await submitted(store)
    assert (first.reference, second.reference) == ("CT-26-000001", "CT-26-000002")


async def seat(store: Store, *, on_rota: bool) -> None:
    async with store.unit_of_work() as uow:
        for person, name in (("aad-cons-1", "Consultant One"), ("aad-cons-2", "Consultant Two")):
            await uow.roles.grant(person, Role.CONSULTANT)
            await uow.roles.set_display_name(person, name)
        await uow.roles.grant("aad-dm-1", Role.DUTY_MANAGER)
        await uow.rota.set(RotaEntry(TODAY, Role.DUTY_MANAGER, "aad-dm-1"))
        await uow.rota.set(RotaEntry(TODAY + timedelta(days=1), Role.CONSULTANT, "aad-cons-1"))
        if on_rota:
            await uow.rota.set(RotaEntry(TODAY, Role.CONSULTANT, "aad-cons-2"))
        await uow.commit()


async def test_an_urgent_contact_starts_the_two_hour_clock_and_mentions_the_consultant_on_duty(
    store: Store,
) -> None:
    await seat(store, on_rota=True)
    result = await created(store, answers(risk={"risk_disclosure": "yes"}))
    assert result.urgent and result.route is Route.SCREENING
    assert result.contact.state is ContactState.AWAITING_SCREENING
    assert result.cp_due == NOW + timedelta(hours=2)
    assert result.screening_due == datetime(2026, 3, 17, 10, 0, tzinfo=UTC)
    assert {d.clock for d in await deadlines_of(store, result.reference)} == {
        ClockKind.CP_DECISION,
        ClockKind.SCREENING,
    }
    assert result.mention_targets == (MentionTarget("aad-cons-2", "Consultant Two"),)
    assert result.summary.urgent
    assert result.summary.due_clock is ClockKind.CP_DECISION
    assert result.summary.due_at == NOW + timedelta(hours=2)


async def test_with_nobody_on_the_rota_every_consultant_is_mentioned(store: Store) -> None:
    await seat(store, on_rota=False)
    result = await created(store, answers(risk={"risk_injury": "yes"}))
    assert result.mention_targets == (
        MentionTarget("aad-cons-1", "Consultant One"),
        MentionTarget("aad-cons-2", "Consultant Two"),
    )


async def test_an_urgent_contact_after_hours_is_due_two_elapsed_hours_later(store: Store) -> None:
    late = datetime(2026, 3, 20, 22, 30, tzinfo=UTC)  # Friday night
    result = await created(store, answers(risk={"risk_injury": "yes"}), now=late)
    assert result.cp_due == late + timedelta(hours=2)
    # The screening clock waits for Monday's opening and runs one working day from there.
    assert result.screening_due == datetime(2026, 3, 24, 8, 30, tzinfo=UTC)


async def test_the_urgent_clock_runs_from_received_at_not_from_the_emergency_card(store: Store) -> None:
    script = answers(risk={"risk_injury": "yes"}, source={"received_time": "09:40"})
    result = await created(store, script)
    received = datetime(2026, 3, 16, 9, 40, tzinfo=UTC)
    assert result.received_at == received and result.cp_due == received + timedelta(hours=2)


async def test_an_urgent_contact_is_screened_even_with_an_open_case_or_a_recent_closure(store: Store) -> None:
    history = {"open_case": "true", "allocated_worker": "aad-sw-1", "closed_on": "2026-03-01"}
    contact = await drafted(store, answers(risk={"risk_injury": "yes"}, history=history))
    result = await submit(store, contact)
    assert isinstance(result, SubmissionResult) and result.route is Route.SCREENING
    assert result.contact.state is ContactState.AWAITING_SCREENING


async def test_an_open_case_is_passed_to_the_allocated_worker(store: Store) -> None:
    script = answers(
        source={"contact_type": "open_case_information"},
        history={"open_case": "true", "allocated_worker": "aad-sw-1"},
    )
    result = await submitted(store, script)
    assert result.route is Route.OPEN_CASE
    assert result.contact.state is ContactState.PASSED_ON
    assert result.worker_to_notify == "aad-sw-1"
    assert result.contact.assignee_id == "aad-sw-1"
    assert result.deadlines == ()
    assert await deadlines_of(store, result.reference) == []
    assert result.contact.events[-1].action == "open_case"


async def test_a_re_referral_goes_to_the_duty_manager(store: Store) -> None:
    result = await submitted(store, answers(history={"closed_on": "2026-02-02", "last_worker": "aad-sw-2"}))
    assert result.route is Route.REREFERRAL
    assert result.contact.state is ContactState.DUTY_MANAGER_REVIEW
    assert result.summary.rereferral
    assert result.screening_due == datetime(2026, 3, 17, 10, 0, tzinfo=UTC)
    assert result.worker_to_notify is None


@pytest.mark.parametrize(
    ("closed_on", "months", "route"),
    [
        # received Monday 16 March 2026: the 3-month window opens on 16 December 2025
        ("2025-12-16", 3, Route.REREFERRAL),
        ("2025-12-15", 3, Route.SCREENING),
        ("2026-03-16", 3, Route.REREFERRAL),
        ("", 3, Route.SCREENING),
        # the service's own window, from its policy file
        ("2025-12-15", 6, Route.REREFERRAL),
        ("2025-09-15", 6, Route.SCREENING),
    ],
)
async def test_re_referral_is_decided_from_the_closure_date_and_the_policy_window(
    store: Store, closed_on: str, months: int, route: Route
) -> None:
    policy = parse_policy(f"[windows]\nrereferral_months = {months}")
    contact = await drafted(store, answers(history={"closed_on": closed_on}))
    result = await submit_contact(
        store.unit_of_work(),
        contact.id,
        OFFICER,
        contact.version,
        rules=Rules(NOW, CALENDAR, policy),
    )
    assert isinstance(result, SubmissionResult)
    assert result.route is route
    assert result.contact.history.closed_on == (date.fromisoformat(closed_on) if closed_on else None)


# -- the repeat flag -----------------------------------------------------------------------------


async def earlier_contact(store: Store, received_at: datetime, child: Child, number: int) -> str:
    reference = f"CT-25-{number:06d}"
    async with store.unit_of_work() as uow:
        await uow.contacts.add(
            Contact(
                id=f"old-{number}",
                created_by=OFFICER,
                created_at=received_at,
                state=ContactState.CLOSED,
                reference=reference,
                received_at=received_at,
                children=(child,),
            )
        )
        await uow.commit()
    return reference


async def test_a_previous_contact_for_the_same_child_within_12_months_is_a_repeat(
    store: Store,
) -> None:
    same = await earlier_contact(
        store, NOW - timedelta(days=300), Child("zebedee  EXAMPLE", date(2019, 5, 4)), 7
    )
    await earlier_contact(store, NOW - timedelta(days=400), Child("Zebedee Example", date(2019, 5, 4)), 8)
    await earlier_contact(store, NOW - timedelta(days=30), Child("Zebedee Example", date(2019, 5, 5)), 9)
    await earlier_contact(store, NOW - timedelta(days=30), Child("Testy McTestface", date(2019, 5, 4)), 10)
    result = await submitted(store)
    assert result.repeat_of == (same,)
    assert result.repeat and result.summary.repeat


async def test_a_second_submission_for_the_same_child_is_a_repeat(store: Store) -> None:
    first = await submitted(store)
    assert not first.repeat
    second = await submitted(store)
    assert second.repeat_of == (first.reference,)


def test_child_key_ignores_case_spacing_and_punctuation_but_not_the_date() -> None:
    assert child_key(Child("Zebedee  O'Example", date(2019, 5, 4))) == child_key(
        Child("zebedee o example", date(2019, 5, 4))
    )
    assert child_key(Child("Unborn", expected_date=date(2026, 8, 1))) is None


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 3, 16, 10, tzinfo=UTC), 12, datetime(2025, 3, 16, 10, tzinfo=UTC)),
        (
            datetime(2026, 3, 31, 10, tzinfo=UTC),
            1,
            datetime(2026, 2, 28, 11, tzinfo=UTC),
        ),  # 11:00 BST, GMT then
        (datetime(2026, 1, 15, 10, tzinfo=UTC), 3, datetime(2025, 10, 15, 9, tzinfo=UTC)),  # BST then
    ],
)
def test_months_before(moment: datetime, months: int, expected: datetime) -> None:
    assert months_before(moment, months) == expected


# -- received-at ---------------------------------------------------------------------------------


async def test_received_at_can_be_back_dated_and_starts_the_clock(store: Store) -> None:
    friday = datetime(2026, 3, 13, 16, 0, tzinfo=UTC)
    result = await submit(store, await drafted(store), received_at=friday)
    assert isinstance(result, SubmissionResult)
    assert result.contact.received_at == friday
    # Friday 16:00 plus one working day is Monday 16:00.
    assert result.screening_due == datetime(2026, 3, 16, 16, 0, tzinfo=UTC)


async def test_received_at_entered_on_the_source_card_is_used(store: Store) -> None:
    script = answers(source={"received_date": "2026-03-16", "received_time": "08:05"})
    result = await submitted(store, script)
    assert result.received_at == datetime(2026, 3, 16, 8, 5, tzinfo=UTC)


async def test_the_reference_year_is_the_year_of_receipt(store: Store) -> None:
    new_year = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    contact = await drafted(store)
    result = await submit(
        store, contact, received_at=datetime(2025, 12, 31, 23, 30, tzinfo=UTC), now=new_year
    )
    assert isinstance(result, SubmissionResult)
    assert result.reference == "CT-25-000001"


@pytest.mark.parametrize("received_at", [NOW + timedelta(minutes=5), NOW - timedelta(days=15)])
async def test_received_at_in_the_future_or_too_far_back_is_refused(
    store: Store, received_at: datetime
) -> None:
    contact = await drafted(store)
    result = await submit(store, contact, received_at=received_at)
    assert isinstance(result, Refusal) and result.reason is RefusalReason.INVALID
    assert [error.field_id for error in result.errors] == ["received_date"]
    assert await stored(store, contact.id) == contact
    assert await next_number(store) == 1 and await all_deadlines(store) == []
    # Nothing was used up: the next submission still gets the first number.
    ok = await submit(store, contact)
    assert isinstance(ok, SubmissionResult) and ok.reference == "CT-26-000001"


# -- one commit ----------------------------------------------------------------------------------


class _CommitFails(InMemoryUnitOfWork):
    async def commit(self) -> None:
        raise ConnectionError("the database went away")


class FailingStore(InMemoryStore):
    def unit_of_work(self) -> InMemoryUnitOfWork:
        return _CommitFails(self) if self.failing else super().unit_of_work()

    failing = False


async def test_a_failed_commit_leaves_neither_the_contact_change_nor_a_deadline() -> None:
    store = FailingStore()
    contact = await drafted(store)
    audit_before = await audit_rows(store)
    store.failing = True
    with pytest.raises(ConnectionError):
        await submit(store, contact)
    store.failing = False
    assert await stored(store, contact.id) == contact
    assert await all_deadlines(store) == []
    assert await next_number(store) == 1
    assert await audit_rows(store) == audit_before
    assert not store.writer.locked()
    result = await submit(store, contact)
    assert isinstance(result, SubmissionResult) and result.reference == "CT-26-000001"
    assert [d.state for d in await deadlines_of(store, "CT-26-000001")] == [DeadlineState.OPEN]


# -- history checks recorded later ---------------------------------------------------------------


async def _record(store: Store, contact: Contact, values: dict[str, object], roles: set[Role]) -> object:
    return await record_history_checks(
        store.unit_of_work(),
        contact.reference or "",
        values,
        contact.version,
        who=Who("aad-cons-1", frozenset(roles)),
        rules=Rules(NOW, CALENDAR, POLICY),
    )


async def test_outstanding_history_checks_are_recorded_later_by_whoever_may(store: Store) -> None:
    script = answers(risk={"risk_injury": "yes"}, history={"systems_checked": ""})
    finished = await submit(store, await drafted(store, script))
    assert isinstance(finished, SubmissionResult) and not finished.contact.history.recorded
    contact = finished.contact
    checks = {"systems_checked": "police", "closed_on": "2026-02-01"}
    refused = await _record(store, contact, checks, {Role.SOCIAL_WORKER})
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.NOT_PERMITTED
    invalid = await _record(store, contact, checks | {"open_to_early_help": "true"}, {Role.CONSULTANT})
    assert isinstance(invalid, Refusal) and invalid.reason is RefusalReason.INVALID
    recorded = await _record(store, contact, checks, {Role.CONSULTANT})
    assert isinstance(recorded, HistoryRecorded)
    assert recorded.contact.history.recorded and not recorded.before.history.recorded
    assert recorded.contact.history.closed_on == date(2026, 2, 1)
    assert is_rereferral(recorded.contact, NOW, POLICY)
    last = (await audit_rows(store))[-1].event
    assert (last.action, last.subject) == ("contact.history_recorded", "CT-26-000001")
    assert last.detail == "open_case=no; early_help=no; rereferral=yes"
    again = await _record(store, recorded.contact, checks, {Role.OFFICER})
    assert isinstance(again, Refusal) and "recorded already" in again.message


async def test_history_checks_are_not_recorded_this_way_on_a_routine_contact(store: Store) -> None:
    routine = await submitted(store)
    refused = await _record(store, routine.contact, {"systems_checked": "police"}, {Role.OFFICER})
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.MOVED_ON


async def test_the_consultant_records_the_history_checks_while_the_officer_is_still_completing(
    store: Store,
) -> None:
    """SPEC §3: outstanding "until recorded, by the officer or the consultant": an officer taken ill
    mid-call must not leave them unrecordable. The officer's own draft then skips its history card."""
    script = answers(risk={"risk_injury": "yes"})
    made = await created(store, script)
    assert made.contact.completing and section_of(made.contact) is Section.REFERRER
    # The officer completing it records them on their own card, not this way.
    own = await record_history_checks(
        store.unit_of_work(),
        made.reference,
        {"systems_checked": "police"},
        made.contact.version,
        who=Who(OFFICER, frozenset({Role.OFFICER})),
        rules=Rules(NOW, CALENDAR, POLICY),
    )
    assert isinstance(own, Refusal) and "one of your cards on it" in own.message
    # The consultant records them, whatever card the officer is on.
    checks = {"systems_checked": "police", "closed_on": "2026-02-01"}
    recorded = await _record(store, made.contact, checks, {Role.CONSULTANT})
    assert isinstance(recorded, HistoryRecorded), recorded
    contact = recorded.contact
    assert contact.history.recorded and contact.history.closed_on == date(2026, 2, 1)
    assert contact.completing and section_of(contact) is Section.REFERRER
    assert contact.events[-1].action == "history_recorded" and contact.events[-1].actor_id == "aad-cons-1"
    # The officer carries on: their draft goes from worries straight to the summary, and back again,
    # so nothing on it overwrites the consultant's checks.
    section = Section.REFERRER
    while section is not Section.SUMMARY:
        assert section is not Section.HISTORY
        result = await save(store, contact, section, script[section])
        assert isinstance(result, SectionSaved), result
        contact, section = result.contact, result.section
    back = await go_back(store.unit_of_work(), contact.id, Section.SUMMARY, OFFICER, contact.version, NOW)
    assert isinstance(back, SectionSaved) and back.section is Section.WORRIES
    stale = await save(store, back.contact, Section.HISTORY, {"systems_checked": "social_care"})
    assert isinstance(stale, Refusal)
    forward = await save(store, back.contact, Section.WORRIES, script[Section.WORRIES])
    assert isinstance(forward, SectionSaved) and forward.section is Section.SUMMARY
    finished = await submit(store, forward.contact)
    assert isinstance(finished, SubmissionResult) and finished.completed
    assert finished.contact.history.systems_checked == ("police",)


async def test_the_consultants_history_checks_move_a_draft_waiting_on_its_history_card(store: Store) -> None:
    script = answers(risk={"risk_injury": "yes"})
    made = await created(store, script)
    contact, section = made.contact, Section.REFERRER
    while section is not Section.HISTORY:
        result = await save(store, contact, section, script[section])
        assert isinstance(result, SectionSaved), result
        contact, section = result.contact, result.section
    recorded = await _record(store, contact, {"systems_checked": "police"}, {Role.TEAM_MANAGER})
    assert isinstance(recorded, HistoryRecorded), recorded
    assert section_of(recorded.contact) is Section.SUMMARY
    # the officer's history card, open before, changes nothing
    late = await save(store, contact, Section.HISTORY, {"systems_checked": "social_care"})
    assert isinstance(late, Refusal)
    assert (await _by_reference(store, made.reference)).history.systems_checked == ("police",)


async def test_an_urgent_contact_closed_before_its_officer_finished_cannot_be_changed(store: Store) -> None:
    script = answers(risk={"risk_injury": "yes"})
    made = await created(store, script)
    async with store.unit_of_work() as uow:
        closed = replace(made.contact, state=ContactState.CLOSED)
        await uow.contacts.save(closed, made.contact.version)
        await uow.commit()
    current = await _by_reference(store, made.reference)
    assert current.completing
    refused = await save(store, current, Section.REFERRER, script[Section.REFERRER])
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.MOVED_ON
    assert "is closed, so its cards can no longer be changed" in refused.message
    assert await _by_reference(store, made.reference) == current
    finishing = await submit(store, current)
    assert isinstance(finishing, Refusal) and finishing.reason is RefusalReason.MOVED_ON


async def _by_reference(store: Store, reference: str) -> Contact:
    async with store.unit_of_work() as uow:
        found = await uow.contacts.get_by_reference(reference)
    assert found is not None
    return found
