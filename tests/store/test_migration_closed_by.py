"""Migration ``0011_closed_by`` on SQLite and PostgreSQL: clocks closed before it get, as who closed
them, the actor of their contact's event recorded at the moment they closed (the last such event),
the rule the figures read before the column existed; anything else stays null."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from frontdoor.contact import Contact, ContactEvent, ContactState
from frontdoor.figures import GroupBy, Narrowing
from frontdoor.records import ClockKind, Deadline, DeadlineState
from store.migrate import upgrade
from store.sql import SqlStore
from store.tables import DeadlineRow
from tests.postgres import PostgresServer

PREVIOUS = "0010_letter_review"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SCREENED, DECIDED, SIGNED = T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0 + timedelta(hours=20)
REFERENCE = "CT-26-000901"


def _event(at: datetime, actor: str, action: str, to_state: ContactState) -> ContactEvent:
    return ContactEvent(at, actor, action, ContactState.AWAITING_SCREENING, to_state, "seeded")


async def _seed_before_the_column(url: str) -> dict[str, int]:
    """A contact screened, decided and signed off, and its clocks closed as the use cases closed
    them (at the moment of an event), written while ``deadlines`` had no ``closed_by``; returns the
    clocks' ids by name."""
    store = SqlStore(url)
    try:
        async with store.unit_of_work() as uow:
            await uow.contacts.add(
                Contact(
                    id="backfill-1",
                    created_by="officer-1",
                    created_at=T0,
                    state=ContactState.CLOSED,
                    reference=REFERENCE,
                    received_at=T0,
                    events=(
                        _event(T0, "officer-1", "submit", ContactState.AWAITING_SCREENING),
                        _event(SCREENED, "consultant-1", "route_i", ContactState.CP_DECISION),
                        # two events at one instant (accepted and its outcome): the last one counts
                        _event(DECIDED, "consultant-9", "accept_referral", ContactState.REFERRAL_ACCEPTED),
                        _event(DECIDED, "consultant-2", "record_outcome", ContactState.AWAITING_SIGNOFF),
                        _event(SIGNED, "consultant-3", "sign_off", ContactState.CLOSED),
                    ),
                )
            )
            ids: dict[str, int] = {}
            for name, subject, clock, closed_at, assignee in (
                ("screening", REFERENCE, ClockKind.SCREENING, SCREENED, None),
                ("cp", REFERENCE, ClockKind.CP_DECISION, DECIDED, None),
                ("completion", REFERENCE, ClockKind.COMPLETION_24H, SIGNED, None),
                ("assigned", REFERENCE, ClockKind.COMPLETION_48H, SIGNED, "sw-1"),
                # closed at a moment no event of the contact's was recorded
                ("no event", REFERENCE, ClockKind.PARENT_LETTER, SIGNED + timedelta(minutes=1), None),
                # an information request's clock: its subject is no contact
                ("not a contact", "IR-26-000001", ClockKind.BODY_REQUEST, SCREENED, "officer-1"),
                ("open", REFERENCE, ClockKind.LETTER_REVIEW, None, "sw-1"),
            ):
                added = await uow.deadlines.add(
                    Deadline(subject, clock, T0, T0 + timedelta(days=3), assignee_id=assignee)
                )
                assert added.id is not None
                ids[name] = added.id
                if closed_at is not None:
                    # closed as the store closed clocks before the column existed
                    await uow.session.execute(
                        update(DeadlineRow)
                        .where(DeadlineRow.id == added.id)
                        .values(state=DeadlineState.MET.value, closed_at=closed_at)
                        .execution_options(synchronize_session=False)
                    )
            await uow.commit()
    finally:
        await store.close()
    return ids


async def _check_backfill(url: str) -> None:
    upgrade(url, PREVIOUS)
    ids = await _seed_before_the_column(url)
    upgrade(url)
    store = SqlStore(url)
    try:
        async with store.unit_of_work() as uow:
            found = {
                d.id: d.closed_by
                for subject in (REFERENCE, "IR-26-000001")
                for d in await uow.deadlines.for_subject(subject)
            }
            week = [T0 - timedelta(days=1), T0 + timedelta(days=6)]
            by_worker = await uow.figures.timeliness(
                week, T0 + timedelta(days=1), Narrowing(), GroupBy.WORKER
            )
    finally:
        await store.close()
    assert {name: found[key] for name, key in ids.items()} == {
        "screening": "consultant-1",
        "cp": "consultant-2",
        "completion": "consultant-3",
        "assigned": "consultant-3",
        "no event": None,
        "not a contact": None,
        "open": None,
    }
    # The figures read the column: the decisions for their deciders, the completion handed to nobody
    # for the consultant who signed it off, the assigned one for its assignee.
    assert sorted((row.group, row.clock.value) for row in by_worker) == [
        ("consultant-1", "screening"),
        ("consultant-2", "cp_decision"),
        ("consultant-3", "completion_24h"),
        ("sw-1", "completion_48h"),
    ]


async def test_sqlite_backfills_who_closed_each_clock(tmp_path: Path) -> None:
    await _check_backfill(f"sqlite+aiosqlite:///{tmp_path}/frontdoor.db")


@pytest.mark.postgres
async def test_postgres_backfills_who_closed_each_clock(postgres_server: PostgresServer) -> None:
    name = "migration_closed_by"
    url = postgres_server.create_database(name)
    try:
        await _check_backfill(url)
    finally:
        postgres_server.drop_database(name)
