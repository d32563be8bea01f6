"""Registering the decisions and duty channels, against the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from frontdoor.acting import Who
from frontdoor.channels import ChannelRefusal, ChannelRegistered, channel_conversation, register_channel
from frontdoor.records import ChannelPurpose, ConversationKind, ConversationRecord
from frontdoor.roles import Role
from tests.fakes import InMemoryStore

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
ADMIN = "aad-admin-1"


def _record(conversation_id: str, kind: ConversationKind = ConversationKind.CHANNEL) -> ConversationRecord:
    return ConversationRecord(
        conversation_id=conversation_id,
        kind=kind,
        tenant_id="tenant",
        service_url="https://example.invalid/",
        reference="{}",
        updated_at=NOW,
    )


@pytest.fixture
async def store() -> InMemoryStore:
    store = InMemoryStore()
    async with store.unit_of_work() as uow:
        for record in (_record("19:a"), _record("19:b"), _record("a:1", ConversationKind.PERSONAL)):
            await uow.conversations.upsert(record)
        await uow.commit()
    return store


async def _register(
    store: InMemoryStore,
    conversation_id: str,
    roles: set[Role] | None = None,
    kind: ConversationKind = ConversationKind.CHANNEL,
    purpose: ChannelPurpose = ChannelPurpose.DECISIONS,
) -> ChannelRegistered | ChannelRefusal:
    return await register_channel(
        store.unit_of_work(),
        purpose,
        conversation_id,
        kind,
        who=Who(ADMIN, frozenset(roles or {Role.ADMIN})),
        now=NOW,
    )


async def _audit_details(store: InMemoryStore) -> list[str]:
    async with store.unit_of_work() as uow:
        rows = await uow.audit.between(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    return [f"{row.event.action} {row.event.subject} {row.event.detail}" for row in rows]


async def test_registering_and_moving_a_channel(store: InMemoryStore) -> None:
    first = await _register(store, "19:a")
    assert isinstance(first, ChannelRegistered)
    assert first.previous is None and first.moved_from is None
    again = await _register(store, "19:a")
    assert isinstance(again, ChannelRegistered) and again.previous is not None and again.moved_from is None
    moved = await _register(store, "19:b")
    assert isinstance(moved, ChannelRegistered) and moved.moved_from == "19:a"
    async with store.unit_of_work() as uow:
        record = await channel_conversation(uow, ChannelPurpose.DECISIONS)
        assert await channel_conversation(uow, ChannelPurpose.DUTY) is None
    assert record is not None and record.conversation_id == "19:b"
    assert await _audit_details(store) == [
        "channel.registered channel:decisions conversation=19:a; previous=none",
        "channel.registered channel:decisions conversation=19:a; previous=19:a",
        "channel.registered channel:decisions conversation=19:b; previous=19:a",
    ]


@pytest.mark.parametrize(
    ("conversation_id", "roles", "kind", "message"),
    [
        ("19:a", {Role.TEAM_MANAGER}, ConversationKind.CHANNEL, "only administrators"),
        ("a:1", {Role.ADMIN}, ConversationKind.PERSONAL, "a chat cannot be one"),
        ("19:unknown", {Role.ADMIN}, ConversationKind.CHANNEL, "no record of this channel"),
        ("a:1", {Role.ADMIN}, ConversationKind.CHANNEL, "no record of this channel"),
    ],
)
async def test_refusals_change_nothing(
    store: InMemoryStore, conversation_id: str, roles: set[Role], kind: ConversationKind, message: str
) -> None:
    result = await _register(store, conversation_id, roles, kind)
    assert isinstance(result, ChannelRefusal) and message in result.message
    async with store.unit_of_work() as uow:
        assert await uow.channels.get(ChannelPurpose.DECISIONS) is None
    assert await _audit_details(store) == []


async def test_a_dead_channel_is_not_offered_for_posting(store: InMemoryStore) -> None:
    await _register(store, "19:a", purpose=ChannelPurpose.DUTY)
    async with store.unit_of_work() as uow:
        await uow.conversations.mark_dead("19:a", "BotNotInConversationRoster")
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await channel_conversation(uow, ChannelPurpose.DUTY) is None
