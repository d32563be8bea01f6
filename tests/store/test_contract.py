"""The store contract: every port of ``frontdoor.ports``, run against the in-memory fake, SQLite and
PostgreSQL alike (the ``store`` fixture is parametrized over the three)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from frontdoor.contact import (
    Child,
    ChildOnContact,
    Contact,
    ContactEvent,
    ContactState,
    ContactSummary,
    HistoryChecks,
    ImmediateRisk,
    Parent,
)
from frontdoor.ports import NotFoundError, StaleVersionError
from frontdoor.records import (
    AuditEvent,
    ChannelPurpose,
    ChannelRegistration,
    ClockKind,
    ConversationKind,
    Deadline,
    DeadlineState,
    DirectoryEntry,
    RotaEntry,
)
from frontdoor.retention import PERSONAL_DATA_REMOVED
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from store import chain
from tests.store.samples import BST, T0, conversation, full_contact, in_utc, minimal_contact

# -- contacts -------------------------------------------------------------------------------------


async def test_a_contact_round_trips_exactly_with_children_parents_and_events(store: Store) -> None:
    contact = full_contact()
    async with store.unit_of_work() as uow:
        await uow.contacts.add(contact)
        await uow.commit()

    async with store.unit_of_work() as uow:
        loaded = await uow.contacts.get(contact.id)

    assert loaded == in_utc(contact)
    assert loaded is not None
    assert loaded == contact  # the same instants
    times = [loaded.created_at, loaded.received_at, *(event.at for event in loaded.events)]
    assert all(moment is not None and moment.tzinfo is UTC for moment in times)
    assert loaded.created_at.microsecond == 123456


async def test_a_contact_with_nothing_optional_round_trips(store: Store) -> None:
    contact = minimal_contact("c-min")
    async with store.unit_of_work() as uow:
        await uow.contacts.add(contact)
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.contacts.get("c-min") == in_utc(contact)
        assert await uow.contacts.get("nobody") is None


async def test_save_checks_the_version_increments_it_and_replaces_the_parts(store: Store) -> None:
    contact = full_contact()
    async with store.unit_of_work() as uow:
        await uow.contacts.add(contact)
        await uow.commit()

    changed = replace(
        contact,
        state=ContactState.SW_ASSESSMENT,
        referrer=None,
        children=(Child(name="Only child"),),
        parents=(),
        consent=None,
        presenting_needs=frozenset(),
        immediate_risks=frozenset(),
        events=(
            *contact.events,
            ContactEvent(
                T0 + timedelta(hours=1), "consultant-1", "route_iv", ContactState.AWAITING_SCREENING, None
            ),
        ),
    )
    async with store.unit_of_work() as uow:
        saved = await uow.contacts.save(changed, expected_version=0)
        await uow.commit()
    assert saved == in_utc(replace(changed, version=1))

    async with store.unit_of_work() as uow:
        assert await uow.contacts.get(contact.id) == in_utc(replace(changed, version=1))
        again = await uow.contacts.save(replace(changed, parents=(Parent(name="P"),)), expected_version=1)
        await uow.commit()
    assert again.version == 2
    async with store.unit_of_work() as uow:
        loaded = await uow.contacts.get(contact.id)
    assert loaded is not None
    assert loaded.version == 2
    assert loaded.parents == (Parent(name="P"),)


async def test_a_grown_history_saves_as_one_that_was_rewritten(store: Store) -> None:
    """An appended event is written alone when the events read are unchanged; an earlier event
    changed as well (its data, a retention pass) rewrites the history: both read back whole."""
    contact = full_contact()
    async with store.unit_of_work() as uow:
        await uow.contacts.add(contact)
        await uow.commit()

    def later(minutes: int, action: str) -> ContactEvent:
        return ContactEvent(
            T0 + timedelta(minutes=minutes), "consultant-1", action, ContactState.AWAITING_SCREENING, None
        )

    version = 0
    current = contact
    for step, edit in enumerate(("append", "append", "change an earlier one and append")):
        async with store.unit_of_work() as uow:
            loaded = await uow.contacts.get(contact.id)
            assert loaded == in_utc(replace(current, version=version))
            events = loaded.events
            if edit != "append":
                events = (replace(events[0], rationale="Corrected rationale"), *events[1:])
            current = replace(loaded, events=(*events, later(10 + step, f"note_{step}")))
            await uow.contacts.save(current, expected_version=version)
            await uow.commit()
        version += 1
    async with store.unit_of_work() as uow:
        assert await uow.contacts.get(contact.id) == in_utc(replace(current, version=version))
    assert len(current.events) == len(contact.events) + 3
    assert current.events[0].rationale == "Corrected rationale"


async def test_saving_from_a_stale_version_raises(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.contacts.add(full_contact())
        await uow.commit()

    async with store.unit_of_work() as first, store.unit_of_work() as second:
        one = await first.contacts.get("c-1")
        two = await second.contacts.get("c-1")
        assert one is not None and two is not None
        await first.contacts.save(replace(one, worries="first"), expected_version=one.version)
        await first.commit()
        with pytest.raises(StaleVersionError):
            await second.contacts.save(replace(two, worries="second"), expected_version=two.version)

    async with store.unit_of_work() as uow:
        loaded = await uow.contacts.get("c-1")
    assert loaded is not None
    assert (loaded.worries, loaded.version) == ("first", 1)


async def test_saving_an_unknown_contact_raises_not_found(store: Store) -> None:
    async with store.unit_of_work() as uow:
        with pytest.raises(NotFoundError):
            await uow.contacts.save(minimal_contact("ghost"), expected_version=0)


async def test_find_by_reference(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.contacts.add(full_contact("c-1", reference="CT-26-000001"))
        await uow.contacts.add(full_contact("c-2", reference="CT-26-000002"))
        await uow.contacts.add(minimal_contact("c-3"))
        await uow.commit()
    async with store.unit_of_work() as uow:
        found = await uow.contacts.get_by_reference("CT-26-000002")
        assert found is not None and found.id == "c-2"
        assert await uow.contacts.get_by_reference("CT-26-000003") is None


async def test_list_by_state_and_drafts_of_oldest_first(store: Store) -> None:
    screening = ContactState.AWAITING_SCREENING
    async with store.unit_of_work() as uow:
        await uow.contacts.add(replace(minimal_contact("late", minutes=10), state=screening))
        await uow.contacts.add(replace(minimal_contact("early", minutes=1), state=screening))
        await uow.contacts.add(replace(minimal_contact("closed", minutes=2), state=ContactState.CLOSED))
        await uow.contacts.add(minimal_contact("draft-b", "officer-2", minutes=5))
        await uow.contacts.add(minimal_contact("draft-a", "officer-2", minutes=3))
        await uow.contacts.add(minimal_contact("draft-other", "officer-3"))
        await uow.commit()

    async with store.unit_of_work() as uow:
        assert [c.id for c in await uow.contacts.list_by_state([screening])] == ["early", "late"]
        both = await uow.contacts.list_by_state([ContactState.CLOSED, screening])
        assert [c.id for c in both] == ["early", "closed", "late"]
        assert await uow.contacts.list_by_state([]) == []
        assert [c.id for c in await uow.contacts.drafts_of("officer-2")] == ["draft-a", "draft-b"]
        assert await uow.contacts.drafts_of("officer-9") == []


async def test_summaries_hold_the_submitted_contacts_in_the_states_asked_for(store: Store) -> None:
    screening = ContactState.AWAITING_SCREENING
    received = T0 - timedelta(hours=1)
    async with store.unit_of_work() as uow:
        await uow.contacts.add(
            replace(
                minimal_contact("late", minutes=10),
                state=screening,
                reference="CT-26-000002",
                received_at=received,
                assignee_id="sw-1",
                # urgent, created before its history checks: outstanding
                immediate_risks=frozenset({ImmediateRisk.INJURY}),
            )
        )
        await uow.contacts.add(
            replace(
                minimal_contact("early", minutes=1),
                state=screening,
                reference="CT-26-000001",
                received_at=received,
                # urgent, with its history checks recorded
                immediate_risks=frozenset({ImmediateRisk.INJURY}),
                history=HistoryChecks(systems_checked=("LCS",)),
            )
        )
        await uow.contacts.add(
            replace(
                minimal_contact("closed", minutes=2),
                state=ContactState.CLOSED,
                reference="CT-26-000003",
                received_at=received,
            )
        )
        await uow.contacts.add(replace(minimal_contact("no-reference", minutes=3), state=screening))
        await uow.commit()
    async with store.unit_of_work() as uow:
        found = await uow.contacts.summaries([screening])
        assert await uow.contacts.summaries([]) == []
    assert found == [
        ContactSummary("CT-26-000001", screening, received, None),
        ContactSummary("CT-26-000002", screening, received, "sw-1", history_outstanding=True),
    ]
    assert all(summary.received_at.tzinfo is not None for summary in found)


async def test_children_born_on_reads_the_submitted_contacts_children_by_birthday(store: Store) -> None:
    screening, closed = ContactState.AWAITING_SCREENING, ContactState.CLOSED
    born, other_day = date(2019, 4, 1), date(2019, 4, 2)
    since = T0 - timedelta(days=30)

    def submitted(
        contact_id: str, number: int, days_ago: int, *children: Child, state: ContactState = screening
    ) -> Contact:
        return replace(
            minimal_contact(contact_id, minutes=number),
            state=state,
            reference=f"CT-26-{number:06d}",
            received_at=(T0 - timedelta(days=days_ago)).astimezone(BST),
            children=children,
        )

    async with store.unit_of_work() as uow:
        await uow.contacts.add(
            submitted("newer", 2, 1, Child("Ada Example", born), Child("Bo Example", other_day))
        )
        await uow.contacts.add(submitted("older", 1, 20, Child("ADA  example", born), state=closed))
        await uow.contacts.add(submitted("too-old", 3, 31, Child("Ada Example", born)))
        await uow.contacts.add(submitted("unborn", 4, 2, Child("Baby Example", None, expected_date=born)))
        await uow.contacts.add(
            replace(submitted("draft", 5, 1, Child("Ada Example", born)), state=ContactState.DRAFT)
        )
        await uow.contacts.add(
            replace(minimal_contact("no-reference", minutes=6), children=(Child("A", born),))
        )
        await uow.commit()
    async with store.unit_of_work() as uow:
        found = await uow.contacts.children_born_on({born}, since, [screening, closed])
        assert await uow.contacts.children_born_on({born}, since, [screening]) == [found[1]]
        assert await uow.contacts.children_born_on(set(), since, [screening]) == []
        assert await uow.contacts.children_born_on({born, other_day}, since, []) == []
        both = await uow.contacts.children_born_on({born, other_day}, since, [screening, closed])
    assert found == [
        ChildOnContact("older", "CT-26-000001", T0 - timedelta(days=20), "ADA  example", born),
        ChildOnContact("newer", "CT-26-000002", T0 - timedelta(days=1), "Ada Example", born),
    ]
    assert all(child.received_at.tzinfo is UTC for child in found)
    assert [child.name for child in both] == ["ADA  example", "Ada Example", "Bo Example"]


async def test_closed_before_finds_closed_contacts_by_their_latest_closing_event(store: Store) -> None:
    def closed(contact_id: str, *minutes: int, state: ContactState = ContactState.CLOSED) -> Contact:
        events = tuple(ContactEvent(T0 + timedelta(minutes=m), "c", "submit", None, state) for m in minutes)
        return replace(minimal_contact(contact_id, minutes=minutes[0]), state=state, events=events)

    noted = closed("noted-later", 4)  # closed in time, then a note (a letter sent) after the cutoff
    letter = ContactEvent(T0 + timedelta(minutes=40), "c", "letter_sent", None, None)
    noted = replace(noted, events=(*noted.events, letter))
    done = closed("removed-already", 1)  # its personal data went on an earlier night
    removal = ContactEvent(T0 + timedelta(minutes=2), "system:retention", PERSONAL_DATA_REMOVED, None, None)
    done = replace(done, events=(*done.events, removal))
    async with store.unit_of_work() as uow:
        await uow.contacts.add(closed("old", 1, 5))
        await uow.contacts.add(closed("closed-again-later", 2, 30))  # its last closing is after
        await uow.contacts.add(closed("edge", 3, 10))
        await uow.contacts.add(noted)
        await uow.contacts.add(done)
        await uow.contacts.add(closed("open", 1, state=ContactState.AWAITING_SIGNOFF))
        await uow.commit()
    async with store.unit_of_work() as uow:
        found = await uow.contacts.closed_before(T0 + timedelta(minutes=10))
        assert [c.id for c in found] == ["old", "edge", "noted-later"]
        assert [len(c.events) for c in found] == [2, 2, 2]  # loaded whole
        assert await uow.contacts.closed_before(T0) == []


async def test_delete_removes_the_contact_and_its_parts(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.contacts.add(full_contact("c-1", reference="CT-26-000001"))
        await uow.contacts.add(full_contact("c-2", reference="CT-26-000002"))
        await uow.commit()
    async with store.unit_of_work() as uow:
        await uow.contacts.delete("c-1")
        await uow.contacts.delete("never-there")
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.contacts.get("c-1") is None
        assert await uow.contacts.get_by_reference("CT-26-000001") is None
        assert await uow.contacts.get("c-2") == in_utc(full_contact("c-2", reference="CT-26-000002"))
    # The id can be used again: nothing of the old contact is left behind.
    async with store.unit_of_work() as uow:
        await uow.contacts.add(minimal_contact("c-1"))
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.contacts.get("c-1") == in_utc(minimal_contact("c-1"))


# -- reference numbers ----------------------------------------------------------------------------


async def test_references_are_sequential_per_prefix_and_year(store: Store) -> None:
    async with store.unit_of_work() as uow:
        first = [await uow.references.allocate("CT", 26) for _ in range(3)]
        other_prefix = await uow.references.allocate("PC", 26)
        other_year = await uow.references.allocate("CT", 27)
        await uow.commit()
    async with store.unit_of_work() as uow:
        later = await uow.references.allocate("CT", 26)
        await uow.commit()
    assert first == [1, 2, 3]
    assert (other_prefix, other_year, later) == (1, 1, 4)


async def test_a_rolled_back_allocation_is_not_consumed(store: Store) -> None:
    async with store.unit_of_work() as uow:
        assert await uow.references.allocate("CT", 26) == 1
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.references.allocate("CT", 26) == 2
        await uow.rollback()
        assert await uow.references.allocate("CT", 26) == 2
        # leaving the block without committing rolls back too
    async with store.unit_of_work() as uow:
        assert await uow.references.allocate("CT", 26) == 2
        await uow.commit()


# -- role directory and rota ----------------------------------------------------------------------


async def test_grant_and_revoke_are_idempotent(store: Store) -> None:
    async with store.unit_of_work() as uow:
        assert await uow.roles.grant("aad-1", Role.CONSULTANT) is True
        assert await uow.roles.grant("aad-1", Role.CONSULTANT) is False
        assert await uow.roles.grant("aad-1", Role.DUTY_MANAGER) is True
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.roles.roles_of("aad-1") == {Role.CONSULTANT, Role.DUTY_MANAGER}
        assert await uow.roles.roles_of("stranger") == frozenset()
        assert await uow.roles.revoke("aad-1", Role.CONSULTANT) is True
        assert await uow.roles.revoke("aad-1", Role.CONSULTANT) is False
        assert await uow.roles.revoke("stranger", Role.ADMIN) is False
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.roles.roles_of("aad-1") == {Role.DUTY_MANAGER}


async def test_entries_holders_and_display_names(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.roles.grant("aad-2", Role.OFFICER)
        await uow.roles.grant("aad-1", Role.CONSULTANT)
        await uow.roles.set_display_name("aad-1", "Sam Consultant")
        await uow.roles.grant("aad-1", Role.TEAM_MANAGER)  # keeps the name
        await uow.roles.set_display_name("not-listed", "Nobody")  # ignored
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.roles.entries() == [
            DirectoryEntry("aad-1", frozenset({Role.CONSULTANT, Role.TEAM_MANAGER}), "Sam Consultant"),
            DirectoryEntry("aad-2", frozenset({Role.OFFICER}), ""),
        ]
        assert await uow.roles.holders(Role.TEAM_MANAGER) == [
            DirectoryEntry("aad-1", frozenset({Role.CONSULTANT, Role.TEAM_MANAGER}), "Sam Consultant")
        ]
        assert await uow.roles.holders(Role.ADMIN) == []
        assert await uow.roles.roles_of("not-listed") == frozenset()


async def test_named_roles_records_the_name_and_returns_the_roles_in_one_go(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.roles.grant("aad-1", Role.CONSULTANT)
        await uow.roles.grant("aad-1", Role.TEAM_MANAGER)
        assert await uow.roles.named_roles("aad-1", "Sam Consultant") == {Role.CONSULTANT, Role.TEAM_MANAGER}
        assert await uow.roles.named_roles("not-listed", "Nobody") == frozenset()
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.roles.entries() == [
            DirectoryEntry("aad-1", frozenset({Role.CONSULTANT, Role.TEAM_MANAGER}), "Sam Consultant")
        ]
        assert await uow.roles.named_roles("aad-1", "Sam Renamed") == {Role.CONSULTANT, Role.TEAM_MANAGER}
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert [entry.display_name for entry in await uow.roles.entries()] == ["Sam Renamed"]


async def test_rota_set_remove_and_on(store: Store) -> None:
    monday, tuesday = date(2026, 6, 1), date(2026, 6, 2)
    entries = [
        RotaEntry(monday, Role.DUTY_MANAGER, "dm-1"),
        RotaEntry(monday, Role.CONSULTANT, "c-2"),
        RotaEntry(monday, Role.CONSULTANT, "c-1"),
        RotaEntry(tuesday, Role.CONSULTANT, "c-1"),
    ]
    async with store.unit_of_work() as uow:
        for entry in entries:
            await uow.rota.set(entry)
        await uow.rota.set(entries[0])  # twice is once
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.rota.on(monday) == [entries[2], entries[1], entries[0]]
        assert await uow.rota.remove(entries[1]) is True
        assert await uow.rota.remove(entries[1]) is False
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.rota.on(monday) == [entries[2], entries[0]]
        assert await uow.rota.on(tuesday) == [entries[3]]
        assert await uow.rota.on(date(2026, 6, 3)) == []


# -- conversations and channels -------------------------------------------------------------------


async def test_conversations_upsert_get_and_personal_chat(store: Store) -> None:
    chat = conversation("a:personal-1", user_id="user-1")
    channel = conversation("19:channel@thread.tacv2", kind=ConversationKind.CHANNEL, user_id=None)
    async with store.unit_of_work() as uow:
        await uow.conversations.upsert(chat)
        await uow.conversations.upsert(channel)
        await uow.commit()
    async with store.unit_of_work() as uow:
        loaded = await uow.conversations.get("a:personal-1")
        assert loaded == chat
        assert loaded is not None and loaded.updated_at.tzinfo is UTC
        assert await uow.conversations.get("19:channel@thread.tacv2") == channel
        assert await uow.conversations.get("nope") is None
        assert await uow.conversations.personal_chat_of("user-1") == chat
        assert await uow.conversations.personal_chat_of("user-2") is None

    newer = replace(
        chat, service_url="https://smba.trafficmanager.net/emea/", updated_at=T0 + timedelta(days=1)
    )
    async with store.unit_of_work() as uow:
        await uow.conversations.upsert(newer)
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.conversations.get("a:personal-1") == newer


async def test_an_upsert_that_keeps_the_service_url_leaves_another_one_stored(store: Store) -> None:
    chat = conversation("a:personal-1", user_id="user-1")
    moved = replace(chat, service_url="https://forged.example.invalid/", updated_at=T0 + timedelta(hours=1))
    same = replace(chat, reference='{"kept":"url"}', updated_at=T0 + timedelta(hours=2))
    async with store.unit_of_work() as uow:
        assert await uow.conversations.upsert(chat, keep_service_url=True) is True  # new: stored
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.conversations.upsert(moved, keep_service_url=True) is False
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.conversations.get("a:personal-1") == chat
        assert await uow.conversations.upsert(same, keep_service_url=True) is True
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.conversations.get("a:personal-1") == same
        assert await uow.conversations.upsert(moved) is True  # authenticated: the URL may move
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.conversations.get("a:personal-1") == moved


async def test_mark_dead_and_an_upsert_revives(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.conversations.upsert(conversation("a:1", user_id="user-1"))
        await uow.conversations.upsert(conversation("a:2", user_id="user-2"))
        await uow.commit()
    async with store.unit_of_work() as uow:
        await uow.conversations.mark_dead("a:1", "403 BotNotInConversationRoster")
        await uow.conversations.mark_dead("unknown", "404")
        await uow.commit()
    async with store.unit_of_work() as uow:
        dead = await uow.conversations.dead()
        assert [(c.conversation_id, c.dead, c.dead_reason) for c in dead] == [
            ("a:1", True, "403 BotNotInConversationRoster")
        ]
        await uow.conversations.upsert(conversation("a:1", user_id="user-1", minutes=30))
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.conversations.dead() == []
        revived = await uow.conversations.get("a:1")
        assert revived is not None and (revived.dead, revived.dead_reason) == (False, "")


async def test_personal_chat_prefers_a_live_chat_then_the_newest(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.conversations.upsert(conversation("a:old", minutes=0))
        await uow.conversations.upsert(conversation("a:new", minutes=10))
        await uow.conversations.upsert(conversation("g:group", kind=ConversationKind.GROUP_CHAT, minutes=20))
        await uow.commit()
    async with store.unit_of_work() as uow:
        chat = await uow.conversations.personal_chat_of("user-1")
        assert chat is not None and chat.conversation_id == "a:new"
        await uow.conversations.mark_dead("a:new", "blocked")
        await uow.commit()
    async with store.unit_of_work() as uow:
        chat = await uow.conversations.personal_chat_of("user-1")
        assert chat is not None and chat.conversation_id == "a:old"


async def test_personal_chats_of_many_people_are_each_what_personal_chat_of_gives(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.conversations.upsert(conversation("a:1-old", user_id="user-1", minutes=0))
        await uow.conversations.upsert(conversation("a:1-new", user_id="user-1", minutes=10))
        await uow.conversations.upsert(conversation("a:2-live", user_id="user-2", minutes=0))
        await uow.conversations.upsert(conversation("a:2-dead", user_id="user-2", minutes=10))
        await uow.conversations.upsert(conversation("a:3", user_id="user-3", minutes=0))
        await uow.conversations.upsert(conversation("g:group", kind=ConversationKind.GROUP_CHAT, minutes=20))
        await uow.conversations.mark_dead("a:2-dead", "blocked")
        await uow.commit()
    people = ["user-1", "user-2", "user-4"]
    async with store.unit_of_work() as uow:
        chats = await uow.conversations.personal_chats_of(people)
        assert {user: chat.conversation_id for user, chat in chats.items()} == {
            "user-1": "a:1-new",
            "user-2": "a:2-live",
        }
        for person in people:
            assert chats.get(person) == await uow.conversations.personal_chat_of(person)
        assert await uow.conversations.personal_chats_of([]) == {}


async def test_registering_a_channel_replaces_and_returns_the_previous_one(store: Store) -> None:
    first = ChannelRegistration(ChannelPurpose.DECISIONS, "19:a@thread.tacv2", "admin-1", T0)
    second = ChannelRegistration(
        ChannelPurpose.DECISIONS, "19:b@thread.tacv2", "admin-2", T0 + timedelta(hours=2)
    )
    duty = ChannelRegistration(ChannelPurpose.DUTY, "19:d@thread.tacv2", "admin-1", T0)
    async with store.unit_of_work() as uow:
        assert await uow.channels.register(first) is None
        assert await uow.channels.register(duty) is None
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.channels.register(second) == first
        await uow.commit()
    async with store.unit_of_work() as uow:
        current = await uow.channels.get(ChannelPurpose.DECISIONS)
        assert current == second
        assert current is not None and current.registered_at.tzinfo is UTC
        assert await uow.channels.get(ChannelPurpose.DUTY) == duty


# -- deadlines ----------------------------------------------------------------------------------


def _deadline(subject: str, clock: ClockKind, due_minutes: int) -> Deadline:
    return Deadline(
        subject, clock, started_at=T0, due_at=T0 + timedelta(minutes=due_minutes), assignee_id="sw-1"
    )


async def test_deadlines_add_for_subject_due_and_close(store: Store) -> None:
    async with store.unit_of_work() as uow:
        screening = await uow.deadlines.add(_deadline("CT-26-000001", ClockKind.SCREENING, 60))
        cp = await uow.deadlines.add(_deadline("CT-26-000001", ClockKind.CP_DECISION, 30))
        later = await uow.deadlines.add(_deadline("CT-26-000002", ClockKind.SCREENING, 90))
        await uow.commit()
    assert None not in (screening.id, cp.id, later.id)
    assert len({screening.id, cp.id, later.id}) == 3
    assert screening == replace(_deadline("CT-26-000001", ClockKind.SCREENING, 60), id=screening.id)
    assert screening.due_at.tzinfo is UTC

    async with store.unit_of_work() as uow:
        assert await uow.deadlines.for_subject("CT-26-000001") == [cp, screening]
        assert await uow.deadlines.for_subject("CT-26-000009") == []
        assert await uow.deadlines.open_due_before(T0 + timedelta(minutes=59)) == [cp]
        assert await uow.deadlines.open_due_before(T0 + timedelta(minutes=60)) == [cp, screening]  # at is due
        assert await uow.deadlines.open_due_before(T0 + timedelta(days=1), limit=2) == [cp, screening]
        assert await uow.deadlines.open_due_before(T0) == []

        at = T0 + timedelta(minutes=30)  # exactly at its due time: met
        cp, met = ClockKind.CP_DECISION, DeadlineState.MET
        assert await uow.deadlines.close("CT-26-000001", cp, met, at, closed_by="consultant-1") == 1
        # closed already: a second closing changes nothing, nor who closed it
        assert await uow.deadlines.close("CT-26-000001", cp, met, at, closed_by="consultant-2") == 0
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.deadlines.open_due_before(T0 + timedelta(days=1)) == [screening, later]
        closed = await uow.deadlines.for_subject("CT-26-000001")
        assert [(d.state, d.closed_at, d.closed_by) for d in closed] == [
            (DeadlineState.MET, at, "consultant-1"),
            (DeadlineState.OPEN, None, None),
        ]


async def test_a_clock_closed_after_its_due_time_is_late_never_met(store: Store) -> None:
    """SPEC §3: closing a breached clock records it late, with the time it closed, whether it was
    closed as met or cancelled (a breached clock never disappears as cancelled)."""
    async with store.unit_of_work() as uow:
        await uow.deadlines.add(_deadline("CT-1", ClockKind.SCREENING, 60))
        await uow.deadlines.add(_deadline("CT-1", ClockKind.SCREENING, 120))
        await uow.deadlines.add(_deadline("CT-1", ClockKind.CP_DECISION, 30))
        await uow.commit()
    late = T0 + timedelta(minutes=90)
    async with store.unit_of_work() as uow:
        assert await uow.deadlines.close("CT-1", "screening", "met", late, closed_by="consultant-1") == 2
        assert await uow.deadlines.close("CT-1", "cp_decision", "cancelled", late, closed_by="system:x") == 1
        await uow.commit()
    async with store.unit_of_work() as uow:
        found = [
            (d.clock, d.state, d.closed_at, d.closed_by) for d in await uow.deadlines.for_subject("CT-1")
        ]
    assert found == [
        (ClockKind.CP_DECISION, DeadlineState.LATE, late, "system:x"),
        (ClockKind.SCREENING, DeadlineState.LATE, late, "consultant-1"),
        (ClockKind.SCREENING, DeadlineState.MET, late, "consultant-1"),
    ]


async def test_the_tick_reads_only_deadlines_whose_next_alert_has_come(store: Store) -> None:
    async with store.unit_of_work() as uow:
        soon = await uow.deadlines.add(_deadline("CT-26-000001", ClockKind.CP_DECISION, 30))
        quiet = await uow.deadlines.add(_deadline("CT-26-000002", ClockKind.SCREENING, 90))
        letter = await uow.deadlines.add(_deadline("CT-26-000003", ClockKind.PARENT_LETTER, 60))
        await uow.commit()
    assert soon.id is not None and quiet.id is not None and letter.id is not None
    async with store.unit_of_work() as uow:
        # a new deadline is read by the next tick, which records its next alert
        assert await uow.deadlines.alerts_due_by(T0) == [soon, letter, quiet]
        assert await uow.deadlines.alerts_due_by(T0 - timedelta(seconds=1)) == []
        await uow.deadlines.set_next_alerts(
            {soon.id: T0 + timedelta(minutes=20), quiet.id: None, letter.id: T0 + timedelta(minutes=50)}
        )
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.deadlines.alerts_due_by(T0 + timedelta(minutes=19)) == []
        assert await uow.deadlines.alerts_due_by(T0 + timedelta(minutes=20)) == [soon]
        assert await uow.deadlines.alerts_due_by(T0 + timedelta(days=9)) == [soon, letter]
        closing = T0 + timedelta(minutes=30)
        assert (
            await uow.deadlines.close(
                "CT-26-000001", ClockKind.CP_DECISION, DeadlineState.MET, closing, closed_by="consultant-1"
            )
            == 1
        )
        await uow.deadlines.set_next_alerts({})
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.deadlines.alerts_due_by(T0 + timedelta(days=9)) == [letter]
        parent_letters = await uow.deadlines.open_due_before(
            T0 + timedelta(days=9), None, clock=ClockKind.PARENT_LETTER
        )
        assert parent_letters == [letter]


async def test_closing_closes_every_open_deadline_on_that_clock(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.deadlines.add(_deadline("CT-1", ClockKind.PARENT_LETTER, 10))
        await uow.deadlines.add(_deadline("CT-1", ClockKind.PARENT_LETTER, 20))
        await uow.deadlines.add(_deadline("CT-1", ClockKind.SCREENING, 20))
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.deadlines.close("CT-1", "parent_letter", "cancelled", T0, closed_by="sw-1") == 2
        await uow.commit()
    async with store.unit_of_work() as uow:
        states = {(d.clock, d.state) for d in await uow.deadlines.for_subject("CT-1")}
    assert states == {
        (ClockKind.PARENT_LETTER, DeadlineState.CANCELLED),
        (ClockKind.SCREENING, DeadlineState.OPEN),
    }


# -- audit ----------------------------------------------------------------------------------------


def _event(minutes: int, subject: str = "CT-26-000001", action: str = "submitted") -> AuditEvent:
    return AuditEvent(
        at=T0 + timedelta(minutes=minutes), actor_id="officer-1", action=action, subject=subject
    )


async def test_audit_events_form_a_hash_chain(store: Store) -> None:
    async with store.unit_of_work() as uow:
        first = await uow.audit.append(_event(0))
        second = await uow.audit.append(_event(1, "CT-26-000002", "viewed"))
        await uow.commit()
    async with store.unit_of_work() as uow:
        third = await uow.audit.append(replace(_event(2), detail="route=I"))
        await uow.commit()

    assert first.prev_hash == chain.GENESIS_HASH == "0" * 64
    assert first.row_hash == chain.row_hash(chain.GENESIS_HASH, _event(0))
    assert second.prev_hash == first.row_hash
    assert third.prev_hash == second.row_hash
    assert first.seq < second.seq < third.seq
    assert first.event == _event(0) and first.event.at.tzinfo is UTC

    async with store.unit_of_work() as uow:
        everything = await uow.audit.between(T0 - timedelta(days=1), T0 + timedelta(days=1))
        assert everything == [first, second, third]
        assert chain.verify_chain(everything)
        assert await uow.audit.for_subject("CT-26-000001") == [first, third]
        assert await uow.audit.for_subject("CT-26-000009") == []
        # half-open: the start is in, the end is out
        assert await uow.audit.between(T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)) == [second]

    tampered = [first, replace(second, event=replace(second.event, actor_id="someone-else")), third]
    assert not chain.verify_chain(tampered)
    assert not chain.verify_chain([first, third])


# -- units of work --------------------------------------------------------------------------------


async def test_rollback_discards_everything(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.contacts.add(full_contact())
        await uow.roles.grant("aad-1", Role.ADMIN)
        await uow.deadlines.add(_deadline("CT-26-000001", ClockKind.SCREENING, 60))
        await uow.audit.append(_event(0))
        assert await uow.activities.claim("k", T0)
        await uow.rollback()
        assert await uow.contacts.get("c-1") is None
    async with store.unit_of_work() as uow:
        await uow.conversations.upsert(conversation("a:1"))
        # no commit: leaving the block rolls back
    async with store.unit_of_work() as uow:
        assert await uow.contacts.get("c-1") is None
        assert await uow.roles.entries() == []
        assert await uow.deadlines.for_subject("CT-26-000001") == []
        assert await uow.audit.between(T0 - timedelta(days=1), T0 + timedelta(days=1)) == []
        assert await uow.activities.claim("k", T0)  # the claim was rolled back
        assert await uow.conversations.get("a:1") is None
        # and the audit chain starts afresh
        assert (await uow.audit.append(_event(5))).prev_hash == chain.GENESIS_HASH


async def test_changes_are_seen_by_others_only_after_commit(store: Store) -> None:
    async with store.unit_of_work() as writer:
        await writer.contacts.add(full_contact())
        assert await writer.contacts.get("c-1") is not None  # its own writes
        async with store.unit_of_work() as reader:
            assert await reader.contacts.get("c-1") is None
        await writer.commit()
        # the unit of work goes on after a commit
        await writer.roles.grant("aad-1", Role.OFFICER)
        await writer.commit()
    async with store.unit_of_work() as reader:
        assert await reader.contacts.get("c-1") is not None
        assert await reader.roles.roles_of("aad-1") == {Role.OFFICER}


async def test_naive_datetimes_are_refused(store: Store) -> None:
    naive = datetime(2026, 6, 1, 9, 30)
    async with store.unit_of_work() as uow:
        with pytest.raises(Exception, match="naive") as refused:
            await uow.contacts.add(replace(minimal_contact("c-naive"), created_at=naive))
        assert isinstance(refused.value, ValueError) or isinstance(refused.value.__cause__, ValueError)
    async with store.unit_of_work() as uow:
        with pytest.raises(Exception, match="naive"):
            await uow.audit.append(AuditEvent(naive, "a", "b", "c"))


async def test_times_in_any_zone_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    moment = datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=BST)  # around a clock change
    async with store.unit_of_work() as uow:
        added = await uow.deadlines.add(
            Deadline("S", ClockKind.CHALLENGE, moment, moment + timedelta(hours=2))
        )
        await uow.commit()
    async with store.unit_of_work() as uow:
        (loaded,) = await uow.deadlines.for_subject("S")
    assert loaded == added
    assert loaded.started_at == moment
    assert loaded.started_at.tzinfo is UTC
    assert loaded.started_at.hour == 23


async def test_ping(store: Store) -> None:
    assert await store.ping() is True


@pytest.mark.parametrize("run", [1, 2])
async def test_each_test_gets_an_empty_store(store: Store, run: int) -> None:
    """Run twice: the second run gets a store (or a recycled database) with nothing left over."""
    async with store.unit_of_work() as uow:
        assert await uow.contacts.list_by_state(list(ContactState)) == []
        assert await uow.roles.entries() == []
        assert await uow.activities.claim("k", T0)  # no activity claimed by an earlier run
        assert await uow.references.allocate("CT", 26) == 1
        assert (await uow.audit.append(_event(0))).seq == 1
        assert (await uow.deadlines.add(_deadline("CT-1", ClockKind.SCREENING, 5))).id == 1
        await uow.contacts.add(full_contact())
        await uow.roles.grant("aad-1", Role.ADMIN)
        await uow.commit()
