"""Retention of referrals not accepted (SPEC §7): which contacts lose their personal data, when, and
what stays for the figures. Runs on the in-memory store, SQLite and PostgreSQL; the columns left in
the database are read with SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from frontdoor.acting import Rules
from frontdoor.calendar import WorkingCalendar
from frontdoor.contact import ContactState, EmergencyDetails
from frontdoor.outcomes import event_data
from frontdoor.policy import parse_policy
from frontdoor.retention import anonymised, remove_expired_personal_data
from frontdoor.unit_of_work import Store
from store.sql import SqlStore
from tests.store.samples import CLOSED_AT
from tests.store.samples import closed_contact as closed

POLICY = parse_policy("[retention]\nreferrals_not_accepted_months = 6\n")


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
        "neighbour",  # the referrer's role
        "reassuring",
        "Team North",
        # the urgent path's emergency details: the child, where the child was, the caller's phone
        "Girl, about 6",
        "School office",
        "+441914980000",
    ):
        assert gone not in text, gone
    assert after.parents == () and after.worries == "" and after.consent_reason == ""
    assert after.emergency == EmergencyDetails() and after.history.chronology == ""
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


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "fresh_postgres_url")
    return url


#: Every column of the contact tables that holds personal data or free text.
_PERSONAL_COLUMNS = {
    "contacts": (
        "worries", "working_well", "needs_to_happen", "consent_reason", "history_chronology",
        "emergency_child", "emergency_whereabouts", "emergency_phone", "referrer_name",
        "referrer_role", "referrer_phone", "referrer_email",
    ),
    "contact_children": ("name", "address", "school"),
    "contact_events": ("rationale",),
}  # fmt: skip


async def test_after_the_job_the_database_holds_no_personal_data_of_the_contact(database_url: str) -> None:
    store = SqlStore(database_url)
    try:
        async with store.unit_of_work() as uow:
            await uow.contacts.add(closed("c-000001", "no_further_action"))
            await uow.contacts.add(closed("c-000002", "accepted_for_assessment"))
            await uow.commit()
        rules = Rules(datetime(2026, 9, 16, 11, 0, tzinfo=UTC), WorkingCalendar(), POLICY)
        assert await remove_expired_personal_data(store.unit_of_work, rules=rules) == ("CT-26-000001",)

        async with store.engine.connect() as connection:

            async def values(contact_id: str) -> list[object]:
                found: list[object] = []
                for table, columns in _PERSONAL_COLUMNS.items():
                    key = "id" if table == "contacts" else "contact_id"
                    rows = await connection.execute(
                        text(f"SELECT {', '.join(columns)} FROM {table} WHERE {key} = :id"),
                        {"id": contact_id},
                    )
                    found.extend(value for row in rows for value in row)
                return found

            removed, accepted = await values("c-000001"), await values("c-000002")
            dates = await connection.execute(
                text(
                    "SELECT date_of_birth, expected_date FROM contact_children WHERE contact_id = 'c-000001'"
                )
            )
            parents = await connection.execute(
                text("SELECT count(*) FROM contact_parents WHERE contact_id = 'c-000001'")
            )
            assert [tuple(row) for row in dates] == [(None, None), (None, None)]
            assert parents.scalar() == 0
    finally:
        await store.close()
    assert removed and all(value == "" for value in removed), removed
    # The accepted contact keeps its emergency details (and the rest).
    assert "Girl, about 6" in accepted and "School office" in accepted and "+441914980000" in accepted
