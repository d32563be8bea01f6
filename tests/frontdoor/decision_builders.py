"""Builders for the tests of threshold decisions and everything after them: the cast, the policy and
calendar in force, and contacts submitted, screened and seated in a store."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from frontdoor.acting import Rules, Who
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
    RereferralChoice,
    RereferralDecided,
    RereferralDecision,
    ScreeningDecided,
    ScreeningDecision,
    ScreeningRoute,
    decide_rereferral,
    decide_screening,
)
from frontdoor.intake import SubmissionResult, submit_contact
from frontdoor.outcomes import ServiceConsent
from frontdoor.policy import Policy, default_policy
from frontdoor.records import ClockKind, Deadline, DeadlineState, StoredAuditEvent
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from frontdoor.usecase import AlreadyDecided, Refusal

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
            closed_on=(now - timedelta(days=30)).date() if rereferral else None,
            last_worker_id=last_worker if rereferral else None,
            systems_checked=("social_care",),
        ),
        draft_section="summary",
    )
    async with store.unit_of_work() as uow:
        await uow.contacts.add(draft)
        await uow.commit()
    result = await submit_contact(
        store.unit_of_work(),
        draft.id,
        OFFICER,
        draft.version,
        rules=Rules(now, CALENDAR, POLICY),
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
        contact.version if version is None else version,
        who=Who(actor, ROLES.get(actor, frozenset()) if roles is None else frozenset(roles)),
        rules=Rules(now, CALENDAR, policy),
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
        contact.version if version is None else version,
        who=Who(actor, ROLES.get(actor, frozenset()) if roles is None else frozenset(roles)),
        rules=Rules(NOW, CALENDAR, POLICY),
    )


CP_MET = RereferralDecision(RereferralChoice.CP_THRESHOLD_MET, "Disclosure on a recently closed case")
REASSIGN = RereferralDecision(RereferralChoice.REASSIGN, "Known to the last worker")
