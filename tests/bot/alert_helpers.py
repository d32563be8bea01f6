"""Reading the alert cards the bot posted: each names its alert key in its reference line's id, and a
breach alert not yet taken carries it in its "I've got this" data too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.app import ALERTS, CALENDAR, SETTINGS
from bot.cards.alerts import ACK_VERB, ALERT_ID_PREFIX, ALERT_KEY
from frontdoor.alerts import AlertKey, OutboxItem
from frontdoor.clocks import due_at
from frontdoor.records import ClockKind, Deadline
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from scheduler.alert_jobs import DeadlineAlerts
from store.sql import SqlStore
from store.tables import AlertOutboxRow
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    CONSULTANT,
    CONSULTANT_2,
    DUTY_MANAGER,
    MONDAY_10AM,
    SOCIAL_WORKER,
    grant,
    introduce,
    register_channels,
    staff,
)
from tests.harness.teams import Conversation, SentActivity, TeamsChannel, TeamsUser


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)


def alert_key_of(card: Mapping[str, Any]) -> str | None:
    """The alert key in the card's "I've got this" data (None: not an alert card, or taken)."""
    for node in _walk(card):
        if node.get("type") == "Action.Execute" and node.get("verb") == ACK_VERB:
            data = node.get("data")
            if isinstance(data, dict) and isinstance(data.get(ALERT_KEY), str):
                return str(data[ALERT_KEY])
    return None


def alert_named_by(card: Mapping[str, Any]) -> str | None:
    """The alert key a card names in its reference line's id (due-soon cards have no button)."""
    for node in _walk(card):
        element_id = node.get("id")
        if isinstance(element_id, str) and element_id.startswith(ALERT_ID_PREFIX):
            return element_id.removeprefix(ALERT_ID_PREFIX)
    return None


def deliveries(teams: TeamsChannel, conversation: Conversation | str) -> list[tuple[AlertKey, SentActivity]]:
    """The alert cards posted to a conversation, with their keys, in order."""
    found: list[tuple[AlertKey, SentActivity]] = []
    for record in teams.sent_to(conversation):
        for card in record.cards:
            key = alert_named_by(card)
            if key is not None:
                found.append((AlertKey.parse(key), record))
    return found


TEAM_MANAGER = TeamsUser("aad-teammanager-0309", "Tam Teammanagerperson")


OTHER_TEAM_MANAGER = TeamsUser("aad-teammanager-0310", "Toby Teammanagerexample")


REFERENCE = "CT-26-000101"


async def ready(start_bot: StartBot, teams: TeamsChannel, clock: SettableClock) -> RunningBot:
    """The bot with the usual cast (and two team managers), both channels registered, and everyone's
    personal chat open; the start-up catch-up has run."""
    bot = await start_bot(clock=clock)
    await staff(bot)
    await grant(bot, TEAM_MANAGER, Role.TEAM_MANAGER)
    await grant(bot, OTHER_TEAM_MANAGER, Role.TEAM_MANAGER)
    await register_channels(teams)
    for person in (CONSULTANT, CONSULTANT_2, SOCIAL_WORKER, DUTY_MANAGER, TEAM_MANAGER, OTHER_TEAM_MANAGER):
        await introduce(teams, person)
    await alerts(bot).tick()
    return bot


def alerts(bot: RunningBot) -> DeadlineAlerts:
    return bot.app[ALERTS]


async def with_cp_clock(
    start_bot: StartBot, teams: TeamsChannel
) -> tuple[RunningBot, SettableClock, datetime]:
    """``ready`` at Monday 10:00 with the social worker's 2-hour child-protection clock running;
    the bot, its clock and when the child-protection decision is due (12:00)."""
    clock = SettableClock(MONDAY_10AM)
    bot = await ready(start_bot, teams, clock)
    await start_clock(bot, ClockKind.CP_DECISION, MONDAY_10AM, assignee=SOCIAL_WORKER)
    return bot, clock, MONDAY_10AM + timedelta(hours=2)


async def start_clock(
    bot: RunningBot,
    kind: ClockKind,
    start: datetime,
    assignee: TeamsUser | None = None,
    subject: str = REFERENCE,
) -> Deadline:
    """A running clock on ``subject`` as the contact's use cases would have started it."""
    due = due_at(kind, start, bot.app[CALENDAR], bot.app[SETTINGS].policy)
    deadline = Deadline(subject, kind, start, due, assignee_id=assignee.aad_object_id if assignee else None)
    async with bot.store.unit_of_work() as uow:
        stored = await uow.deadlines.add(deadline)
        await uow.commit()
    return stored


async def tick_at(bot: RunningBot, clock: SettableClock, moment: datetime) -> None:
    clock.set(moment)
    await alerts(bot).tick()


async def outbox_rows(bot: RunningBot, subject: str = REFERENCE) -> list[OutboxItem]:
    """Every outbox row about ``subject``, oldest first."""
    assert isinstance(bot.store, SqlStore)
    async with bot.store.unit_of_work() as uow:
        ids = (
            await uow.session.execute(
                select(AlertOutboxRow.id).where(AlertOutboxRow.subject == subject).order_by(AlertOutboxRow.id)
            )
        ).scalars()
        rows = [item for row_id in list(ids) if (item := await uow.alerts.get(row_id)) is not None]
    return rows


async def wait_for(condition: Any, within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the loopback channel records on another thread
            await asyncio.sleep(0.02)


def personal(teams: TeamsChannel, user: TeamsUser) -> Conversation:
    return teams.personal(user)
