"""An activity Teams delivers twice (it re-sends after ~15 s without an answer) is acted on once."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta

from bot.app import DEDUP
from bot.dedup import activity_key
from frontdoor.systemclock import SettableClock
from tests.bot.conftest import RunningBot, StartBot
from tests.harness.teams import TeamsChannel, TeamsUser

ADMIN = TeamsUser("aad-admin-0711", "Dee Dupadmin")
ALEX = TeamsUser("aad-staff-0712", "Alex Replayname")
CARD_VERB = "no.such.verb"


async def _audit_count(bot: RunningBot, person: str) -> int:
    async with bot.store.unit_of_work() as uow:
        return len(await uow.audit.for_subject(f"person:{person}"))


async def test_a_replayed_message_is_acted_on_once(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot = await start_bot(admins=frozenset({ADMIN.aad_object_id}))
    group = teams_channel.group_chat(ADMIN, ALEX)
    first = teams_channel.activity(
        group,
        ADMIN,
        "message",
        text="<at>Front Door</at> grant <at>Alex Replayname</at> officer",
        entities=[
            {"type": "mention", "mentioned": teams_channel.bot, "text": "<at>Front Door</at>"},
            {
                "type": "mention",
                "mentioned": {"id": ALEX.id, "name": ALEX.name},
                "text": "<at>Alex Replayname</at>",
            },
        ],
    )
    original = await teams_channel.send_activity(first)
    replay = await teams_channel.send_activity(copy.deepcopy(first))
    assert original.texts == ["Done: Alex Replayname now has the role **officer**."]
    assert replay.status in (200, 201)
    assert replay.sent == ()
    assert await _audit_count(bot, ALEX.aad_object_id) == 1


async def test_copies_arriving_together_are_acted_on_once(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await start_bot()
    chat = teams_channel.personal(ALEX)
    body = teams_channel.activity(chat, ALEX, "message", text="help")
    replies = await asyncio.gather(*(teams_channel.send_activity(copy.deepcopy(body)) for _ in range(5)))
    assert all(reply.status in (200, 201) for reply in replies)
    assert len(teams_channel.sent_to(chat)) == 1


async def test_a_replayed_card_action_gets_an_answer_but_no_second_action(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await start_bot()
    chat = teams_channel.personal(ALEX)
    first = await teams_channel.execute(chat, ALEX, CARD_VERB, {"x": 1})
    assert first.json["value"] == "This action is not available."
    assert first.inbound is not None
    replay = await teams_channel.send_activity(copy.deepcopy(first.inbound))
    assert replay.status == 200
    assert replay.json == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "That was already done.",
    }


async def test_the_same_id_in_another_conversation_is_a_different_activity(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await start_bot()
    alex_chat, admin_chat = teams_channel.personal(ALEX), teams_channel.personal(ADMIN)
    for user, chat in ((ALEX, alex_chat), (ADMIN, admin_chat)):
        reply = await teams_channel.send_activity(
            teams_channel.activity(chat, user, "message", text="help", id="17")
        )
        assert len(reply.cards) == 1


async def test_a_turn_that_failed_is_handled_when_teams_retries(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await start_bot()
    chat = teams_channel.personal(ALEX)
    body = teams_channel.activity(chat, ALEX, "message", text="help")
    teams_channel.fail_next(chat.id, 502)  # the help card cannot be delivered: the turn fails
    failed = await teams_channel.send_activity(body)
    assert failed.cards == []
    retried = await teams_channel.send_activity(copy.deepcopy(body))
    assert len(retried.cards) == 1


async def test_old_activity_ids_are_pruned(start_bot: StartBot) -> None:
    clock = SettableClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    bot = await start_bot(clock=clock)
    async with bot.store.unit_of_work() as uow:
        assert await uow.activities.claim("old-key", clock.now() - timedelta(hours=25))
        assert await uow.activities.claim("new-key", clock.now() - timedelta(hours=23))
        await uow.commit()
    await bot.app[DEDUP].prune()  # (the app also prunes by itself at start-up and every hour)
    assert await bot.app[DEDUP].prune() == 0
    async with bot.store.unit_of_work() as uow:
        assert await uow.activities.claim("old-key", clock.now())
        assert not await uow.activities.claim("new-key", clock.now())


def test_the_key_depends_on_channel_conversation_and_id_only() -> None:
    from botbuilder.schema import Activity, ConversationAccount

    def activity(conversation: str, activity_id: str | None, text: str = "x") -> Activity:
        return Activity(
            id=activity_id, channel_id="msteams", conversation=ConversationAccount(id=conversation), text=text
        )

    assert activity_key(activity("a", "1")) == activity_key(activity("a", "1", text="y"))
    assert activity_key(activity("a", "1")) != activity_key(activity("b", "1"))
    assert activity_key(activity("a", "1")) != activity_key(activity("a", "2"))
    assert activity_key(activity("a", None)) is None
    key = activity_key(activity("a" * 100_000, "1"))
    assert key is not None and len(key) == 64
