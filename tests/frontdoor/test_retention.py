"""Retention of referrals not accepted (SPEC §7): which contacts lose their personal data, when, and
what stays for the figures. Runs on the in-memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from frontdoor.acting import Rules
from frontdoor.calendar import WorkingCalendar
from frontdoor.contact import Contact, ContactEvent, ContactState
from frontdoor.outcomes import event_data
from frontdoor.policy import parse_policy
from frontdoor.retention import anonymised, remove_expired_personal_data
from frontdoor.unit_of_work import Store
from tests.store.samples import full_contact

CLOSED_AT = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
POLICY = parse_policy("[retention]\nreferrals_not_accepted_months = 6\n")


def closed(contact_id: str, outcome: str, at: datetime = CLOSED_AT, **data: str) -> Contact:
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


async def test_only_not_accepted_contacts_closed_long_enough_ago_lose_their_personal_data(
    store: Store,
) -> None:
    async with store.unit_of_work() as uow:
        await uow.contacts.add(closed("c-000001", "no_further_action"))
        await uow.contacts.add(closed("c-000002", "advice_and_guidance"))
        await uow.contacts.add(closed("c-000003", "accepted_for_assessment"))
        await uow.contacts.add(closed("c-000004", "no_further_action", CLOSED_AT + timedelta(days=40)))
        await uow.contacts.add(
            replace(closed("c-000005", "no_further_action"), state=ContactState.AWAITING_SIGNOFF)
        )
        await uow.commit()

    # One minute short of six months: nothing yet.
    assert (
        await remove_expired_personal_data(
            store.unit_of_work,
            rules=Rules(datetime(2026, 9, 16, 10, 59, tzinfo=UTC), WorkingCalendar(), POLICY),
        )
        == ()
    )
    done = await remove_expired_personal_data(
        store.unit_of_work,
        rules=Rules(datetime(2026, 9, 16, 11, 0, tzinfo=UTC), WorkingCalendar(), POLICY),
    )
    assert done == ("CT-26-000001", "CT-26-000002")
    assert (
        await remove_expired_personal_data(
            store.unit_of_work,
            rules=Rules(datetime(2026, 9, 17, tzinfo=UTC), WorkingCalendar(), POLICY),
        )
        == ()
    )

    async with store.unit_of_work() as uow:
        removed = await uow.contacts.get("c-000001")
        accepted = await uow.contacts.get("c-000003")
        rows = await uow.audit.for_subject("CT-26-000001")
    assert removed is not None and accepted is not None
    assert accepted.children[0].name == "Child One"  # accepted: kept whole
    assert [child.name for child in removed.children] == ["", ""]
    assert removed.events[-1].action == "personal_data_removed"
    [row] = rows
    assert (row.event.action, row.event.actor_id, row.event.detail) == (
        "contact.personal_data_removed",
        "system:retention",
        "outcome=no_further_action; months=6",
    )


def test_what_goes_and_what_stays() -> None:
    before = closed("c-000001", "referral_to_other_agency", agency="health")
    after = anonymised(before)
    text = repr(after)
    for gone in (
        "Child One",
        "1 Road",
        "Primary",
        "2018",
        "A Neighbour",
        "01632",
        "n@example.org",
        "reassuring",
        "Team North",
    ):
        assert gone not in text, gone
    assert after.parents == () and after.worries == "" and after.consent_reason == ""
    assert (after.reference, after.received_at, after.source, after.contact_type) == (
        before.reference,
        before.received_at,
        before.source,
        before.contact_type,
    )
    assert [(e.at, e.action, e.actor_id, e.from_state, e.to_state) for e in after.events] == [
        (e.at, e.action, e.actor_id, e.from_state, e.to_state) for e in before.events
    ]
    assert after.events[1].data == event_data(
        {"agency": "health", "outcome": "referral_to_other_agency", "route": "ii"}
    )
    assert (
        after.presenting_needs == before.presenting_needs and after.immediate_risks == before.immediate_risks
    )
    assert after.referrer is not None and after.referrer.type is before.referrer.type  # type: ignore[union-attr]
