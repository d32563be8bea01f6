"""The consultation repository contract, against the in-memory fake, SQLite and PostgreSQL alike
(the ``store`` fixture is parametrized over the three), and the consultation use cases on each."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from frontdoor.acting import Rules, Who
from frontdoor.calendar import WorkingCalendar
from frontdoor.consultation import (
    Consultation,
    ConsultationDraft,
    SaveOutcome,
    link_consultation,
    save_consultation,
)
from frontdoor.consultation_retention import purge_expired_consultations
from frontdoor.policy import default_policy
from frontdoor.ports import NotFoundError
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from tests.store.samples import BST, T0, full_contact

POLICY = default_policy()


def sample(reference: str = "PC-26-00001", **changes: object) -> Consultation:
    base = Consultation(
        id=f"id-{reference}",
        reference=reference,
        author_id="prof-1",
        on_behalf=False,
        professional_name="Testy McTestface",
        agency="Example Primary School",
        professional_role="Designated safeguarding lead",
        worry="A Year 6 pupil has been arriving hungry.",
        advice="",
        advised_by=None,
        created_at=T0,
        contact_phone="0113 496 0000",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def add(store: Store, *consultations: Consultation) -> None:
    async with store.unit_of_work() as uow:
        for consultation in consultations:
            await uow.consultations.add(consultation)
        await uow.commit()


async def test_a_consultation_round_trips_with_every_field(store: Store) -> None:
    full = sample(
        on_behalf=True,
        author_id="officer-1",
        advice="Talk to the family about a food bank; ring back if it gets worse.",
        advised_by="officer-1",
        override_reason="The number is the school office's.",
        form_id="0123456789abcdef0123456789abcdef",
        linked_contact_reference="CT-26-000001",
    )
    bare = sample("PC-26-00002", contact_phone="", professional_role="", created_at=T0 + timedelta(hours=1))
    await add(store, full, bare)
    async with store.unit_of_work() as uow:
        loaded = await uow.consultations.get_by_reference("PC-26-00001")
        assert loaded == full
        assert loaded is not None and loaded.created_at.tzinfo is UTC
        assert loaded.created_at.microsecond == 123456
        assert await uow.consultations.get_by_reference("PC-26-00002") == bare
        assert await uow.consultations.get_by_reference("PC-26-00009") is None


async def test_nothing_is_kept_without_a_commit(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.consultations.add(sample())
    async with store.unit_of_work() as uow:
        assert await uow.consultations.get_by_reference("PC-26-00001") is None


async def test_list_between_is_half_open_and_oldest_first(store: Store) -> None:
    times = [T0 - timedelta(microseconds=1), T0, T0 + timedelta(days=1), T0 + timedelta(days=2)]
    await add(
        store, *(sample(f"PC-26-0000{n}", created_at=at) for n, at in zip((4, 3, 2, 1), times, strict=True))
    )
    async with store.unit_of_work() as uow:
        found = await uow.consultations.list_between(T0, T0 + timedelta(days=2))
        assert [c.reference for c in found] == ["PC-26-00003", "PC-26-00002"]
        # the bounds may be given in any zone
        again = await uow.consultations.list_between(
            T0.astimezone(UTC), (T0 + timedelta(days=2)).astimezone(BST)
        )
        assert again == found


async def test_delete_older_than_deletes_before_the_cutoff_only(store: Store) -> None:
    await add(
        store,
        sample("PC-25-00001", created_at=T0 - timedelta(days=200)),
        sample("PC-26-00002", created_at=T0 - timedelta(microseconds=1)),
        sample("PC-26-00001", created_at=T0),
    )
    async with store.unit_of_work() as uow:
        assert await uow.consultations.delete_older_than(T0) == ["PC-25-00001", "PC-26-00002"]
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert [
            c.reference
            for c in await uow.consultations.list_between(T0 - timedelta(days=365), T0 + timedelta(1))
        ] == ["PC-26-00001"]
        assert await uow.consultations.delete_older_than(T0) == []


async def test_link_and_the_lookup_by_contact(store: Store) -> None:
    await add(
        store,
        sample("PC-26-00001"),
        sample("PC-26-00002", created_at=T0 - timedelta(hours=1)),
        sample("PC-26-00003"),
    )
    async with store.unit_of_work() as uow:
        await uow.consultations.link("PC-26-00001", "CT-26-000007")
        await uow.consultations.link("PC-26-00002", "CT-26-000007")
        await uow.commit()
    async with store.unit_of_work() as uow:
        linked = await uow.consultations.linked_to("CT-26-000007")
        assert [c.reference for c in linked] == ["PC-26-00002", "PC-26-00001"]
        assert all(c.linked_contact_reference == "CT-26-000007" for c in linked)
        assert await uow.consultations.linked_to("CT-26-000008") == []
        with pytest.raises(NotFoundError):
            await uow.consultations.link("PC-26-00099", "CT-26-000007")


async def test_from_form_is_per_author_and_unique(store: Store) -> None:
    form = "0123456789abcdef0123456789abcdef"
    await add(store, sample(form_id=form), sample("PC-26-00002", author_id="prof-2", form_id=form))
    async with store.unit_of_work() as uow:
        mine = await uow.consultations.from_form("prof-1", form)
        assert mine is not None and mine.reference == "PC-26-00001"
        theirs = await uow.consultations.from_form("prof-2", form)
        assert theirs is not None and theirs.reference == "PC-26-00002"
        assert await uow.consultations.from_form("prof-3", form) is None
    with pytest.raises((IntegrityError, ValueError)):
        await add(store, sample("PC-26-00003", id="id-3", form_id=form))


async def test_latest_own_skips_what_was_logged_for_callers(store: Store) -> None:
    await add(
        store,
        sample("PC-26-00001", agency="Old School", created_at=T0 - timedelta(days=9)),
        sample("PC-26-00002", agency="New School", created_at=T0 - timedelta(days=1)),
        sample("PC-26-00003", agency="Caller's Agency", created_at=T0, on_behalf=True),
    )
    async with store.unit_of_work() as uow:
        latest = await uow.consultations.latest_own("prof-1")
        assert latest is not None and latest.agency == "New School"
        assert await uow.consultations.latest_own("prof-2") is None


# -- the use cases on each store ------------------------------------------------------------------

DRAFT = ConsultationDraft(
    professional_name="Testy McTestface",
    agency="Example Primary School",
    worry="A Year 6 pupil has been arriving hungry and says there is no food at home.",
)
NOW = datetime(2026, 6, 8, 9, 30, tzinfo=UTC)
PROFESSIONAL = frozenset({Role.PROFESSIONAL})


async def test_concurrent_saves_from_one_card_save_once_and_leave_no_gap(store: Store) -> None:
    form = "fedcba9876543210fedcba9876543210"

    async def press(form_id: str) -> tuple[str, bool]:
        async with store.unit_of_work() as uow:
            result = await save_consultation(
                uow,
                DRAFT,
                form_id=form_id,
                who=Who("prof-1", PROFESSIONAL),
                rules=Rules(NOW, WorkingCalendar(), POLICY),
            )
        assert result.outcome is SaveOutcome.SAVED and result.consultation is not None
        return result.consultation.reference, result.repeated

    results = await asyncio.gather(*(press(form) for _ in range(6)))
    assert {reference for reference, _ in results} == {"PC-26-00001"}
    assert sorted(repeated for _, repeated in results) == [False] + [True] * 5
    other = await press("00000000000000000000000000000001")
    assert other == ("PC-26-00002", False)  # the presses that lost rolled their numbers back
    async with store.unit_of_work() as uow:
        creates = [e for e in await uow.audit.between(NOW - timedelta(1), NOW + timedelta(1))]
        assert [(e.event.action, e.event.subject) for e in creates] == [
            ("consultation.create", "PC-26-00001"),
            ("consultation.create", "PC-26-00002"),
        ]


async def test_link_purge_and_audit_on_each_store(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.contacts.add(full_contact())
        await uow.commit()
    async with store.unit_of_work() as uow:
        old = await save_consultation(
            uow,
            DRAFT,
            who=Who("prof-1", PROFESSIONAL),
            rules=Rules(NOW - timedelta(days=200), WorkingCalendar(), POLICY),
        )
    async with store.unit_of_work() as uow:
        new = await save_consultation(
            uow,
            DRAFT,
            who=Who("prof-1", PROFESSIONAL),
            rules=Rules(NOW, WorkingCalendar(), POLICY),
        )
    assert old.consultation is not None and new.consultation is not None
    async with store.unit_of_work() as uow:
        linked = await link_consultation(
            uow,
            new.consultation.reference,
            "CT-26-000001",
            who=Who("officer-1", frozenset({Role.OFFICER})),
            now=NOW,
        )
    assert linked.consultation is not None and linked.consultation.linked_contact_reference == "CT-26-000001"
    async with store.unit_of_work() as uow:
        deleted = await purge_expired_consultations(uow, rules=Rules(NOW, WorkingCalendar(), POLICY))
    assert deleted == (old.consultation.reference,) == ("PC-25-00001",)
    async with store.unit_of_work() as uow:
        assert await uow.consultations.get_by_reference("PC-25-00001") is None
        kept = await uow.consultations.get_by_reference("PC-26-00001")
        assert kept is not None and kept.linked_contact_reference == "CT-26-000001"
        assert [s.event.action for s in await uow.audit.for_subject("PC-25-00001")] == [
            "consultation.create",
            "consultation.delete",
        ]
        assert [s.event.action for s in await uow.audit.for_subject("PC-26-00001")] == [
            "consultation.create",
            "consultation.link",
        ]
