"""Sample records for the store tests: every field set, times in a non-UTC zone with microseconds."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

from frontdoor.contact import (
    Child,
    Consent,
    Contact,
    ContactEvent,
    ContactState,
    ContactType,
    EmergencyDetails,
    HistoryChecks,
    ImmediateRisk,
    Parent,
    PresentingNeed,
    Referrer,
    ReferrerType,
    Source,
)
from frontdoor.outcomes import event_data
from frontdoor.records import ConversationKind, ConversationRecord

#: British Summer Time, so a time that goes in is not already in UTC.
BST = timezone(timedelta(hours=1), "BST")
T0 = datetime(2026, 6, 1, 9, 30, 15, 123456, tzinfo=BST)


def full_contact(contact_id: str = "c-1", *, reference: str | None = "CT-26-000001") -> Contact:
    return Contact(
        id=contact_id,
        created_by="officer-1",
        created_at=T0,
        state=ContactState.AWAITING_SCREENING,
        version=0,
        reference=reference,
        received_at=T0 - timedelta(minutes=5, microseconds=7),
        source=Source.POLICE_FORM,
        contact_type=ContactType.REFERRAL,
        referrer=Referrer(
            type=ReferrerType.MEMBER_OF_PUBLIC,
            name="A Neighbour",
            agency="",
            role="neighbour",
            phone="01632 960000",
            email="n@example.org",
            anonymity_requested=True,
        ),
        children=(
            Child(
                name="Child One",
                date_of_birth=date(2018, 2, 3),
                gender="f",
                address="1 Road",
                school="Primary",
            ),
            Child(name="Unborn", expected_date=date(2026, 9, 1)),
        ),
        parents=(
            Parent(name="Parent One", relationship="mother", address="1 Road", phone="07700 900000"),
            Parent(name="Parent Two", relationship="father"),
        ),
        consent=Consent.NOT_SOUGHT,
        consent_reason="seeking consent would place the child at risk",
        worries="Bruise seen at school; «quotes» and ünïcode",
        working_well="Attends school",
        needs_to_happen="Screening today",
        presenting_needs=frozenset({PresentingNeed.PHYSICAL_HARM, PresentingNeed.NEGLECT}),
        immediate_risks=frozenset({ImmediateRisk.INJURY}),
        history=HistoryChecks(
            open_case=False,
            allocated_worker_id="sw-9",
            last_worker_id="sw-3",
            systems_checked=("LCS", "EHM", "Police"),
            chronology="Closed in April after assessment.",
            closed_on=date(2026, 4, 30),
            open_to_early_help=True,
            early_help_worker_id="eh-7",
        ),
        emergency=EmergencyDetails(child="Girl, about 6", whereabouts="School office", phone="+441914980000"),
        assignee_id="consultant-1",
        draft_section="summary",
        events=(
            ContactEvent(T0, "officer-1", "created", None, ContactState.DRAFT),
            ContactEvent(
                T0 + timedelta(minutes=20),
                "officer-1",
                "submitted",
                ContactState.DRAFT,
                ContactState.AWAITING_SCREENING,
            ),
            ContactEvent(
                T0 + timedelta(minutes=21), "consultant-1", "viewed", None, None, rationale="why: check"
            ),
            ContactEvent(
                T0 + timedelta(minutes=30),
                "consultant-1",
                "outcome_recorded",
                None,
                None,
                rationale="why: decided",
                data='{"kind": "nfa"}',
            ),
        ),
    )


def minimal_contact(contact_id: str, created_by: str = "officer-1", *, minutes: int = 0) -> Contact:
    return Contact(id=contact_id, created_by=created_by, created_at=T0 + timedelta(minutes=minutes))


def in_utc(contact: Contact) -> Contact:
    """What a store gives back for ``contact``: the same instants, in UTC."""
    return replace(
        contact,
        created_at=contact.created_at.astimezone(UTC),
        received_at=None if contact.received_at is None else contact.received_at.astimezone(UTC),
        events=tuple(replace(event, at=event.at.astimezone(UTC)) for event in contact.events),
    )


def conversation(
    conversation_id: str,
    *,
    kind: ConversationKind = ConversationKind.PERSONAL,
    user_id: str | None = "user-1",
    minutes: int = 0,
) -> ConversationRecord:
    return ConversationRecord(
        conversation_id=conversation_id,
        kind=kind,
        tenant_id="tenant-1",
        service_url="https://smba.trafficmanager.net/uk/",
        reference=json.dumps({"conversation": {"id": conversation_id}}),
        updated_at=T0 + timedelta(minutes=minutes),
        user_id=user_id,
        team_id=None if kind is ConversationKind.PERSONAL else "team-1",
        channel_id=None if kind is not ConversationKind.CHANNEL else conversation_id,
    )


#: When ``closed_contact`` closes by default (a Monday, GMT).
CLOSED_AT = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)


def closed_contact(contact_id: str, outcome: str, at: datetime = CLOSED_AT, **data: str) -> Contact:
    """``full_contact`` closed at ``at`` with ``outcome`` (an ``OutcomeKind`` value) on route II, its
    outcome letter produced as it closed."""
    contact = replace(full_contact(contact_id, reference=f"CT-26-{contact_id[-6:]}"), events=())
    events = (
        ContactEvent(
            at - timedelta(hours=2),
            "officer-1",
            "submit",
            ContactState.DRAFT,
            ContactState.AWAITING_SCREENING,
        ),
        ContactEvent(
            at - timedelta(hours=1),
            "consultant-1",
            "route_ii",
            ContactState.AWAITING_SCREENING,
            ContactState.AWAITING_SIGNOFF,
            rationale="Checks with Child One's school were reassuring",
            data=event_data({"route": "ii", "outcome": outcome, "receiving_team": "Team North", **data}),
        ),
        ContactEvent(at, "consultant-2", "sign_off", ContactState.AWAITING_SIGNOFF, ContactState.CLOSED),
        ContactEvent(
            at,
            "consultant-2",
            "outcome_letter_produced",
            ContactState.CLOSED,
            None,
            data=event_data({"letter": "Dear A Neighbour"}),
        ),
    )
    return replace(contact, state=ContactState.CLOSED, events=events)
