"""Each inbound activity is acted on once, even when the channel delivers it again.

Teams re-sends an activity when the bot has not answered within about 15 seconds, so the second
copy usually arrives while the first is still being handled. The turn therefore *claims* the
activity in its first transaction (an insert into ``processed_activities`` that only one copy can
win) before acting on it, and gives the claim back if the turn fails, so that a later retry is
handled. The key is a hash of the channel, conversation and activity ids: Teams message ids are
timestamps, unique within a conversation only. Keys are kept for a day (``RETENTION``), far
longer than any retry, and pruned hourly.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta
from http import HTTPStatus
from typing import Any, Final

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot.routing import InvokeReply
from frontdoor.ports import Clock
from frontdoor.unit_of_work import Store

log = logging.getLogger(__name__)

#: How long a handled activity's key is remembered.
RETENTION: Final = timedelta(hours=24)
#: How often old keys are forgotten.
PRUNE_INTERVAL_SECONDS: Final = 3600.0

ALREADY_HANDLED = "That was already done."


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def activity_key(activity: Activity) -> str | None:
    """The dedup key of an activity, or None when it has no id to recognise a copy by."""
    activity_id = _text(activity.id)
    if not activity_id:
        return None
    conversation_id = _text(getattr(activity.conversation, "id", None))
    material = "\x1f".join((_text(activity.channel_id), conversation_id, activity_id))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


def log_duplicate(activity: Activity) -> None:
    log.info(
        "activity already handled",
        extra={"activity_id": _text(activity.id)[:64], "activity_type": _text(activity.type)[:32]},
    )


class Deduplicator:
    """Gives back the claims of failed turns and forgets old keys. (The claim itself is made in
    the turn's first transaction, with the conversation record: ``FrontDoorBot._remember``.)"""

    def __init__(self, store: Store, clock: Clock, retention: timedelta = RETENTION) -> None:
        self._store = store
        self._clock = clock
        self._retention = retention

    async def release(self, key: str | None) -> None:
        """Give a claim back after its turn failed."""
        if key is None:
            return
        async with self._store.unit_of_work() as uow:
            await uow.activities.release(key)
            await uow.commit()

    async def prune(self) -> int:
        async with self._store.unit_of_work() as uow:
            removed = await uow.activities.prune(self._clock.now() - self._retention)
            await uow.commit()
        if removed:
            log.info("old activity ids forgotten", extra={"count": removed})
        return removed

    async def prune_periodically(self, interval: float = PRUNE_INTERVAL_SECONDS) -> None:
        while True:
            try:
                await self.prune()
            except Exception as error:  # a busy or unreachable database: try again next time
                log.warning("old activity ids not pruned", extra={"error_code": type(error).__name__})
            await asyncio.sleep(interval)


async def answer_duplicate(turn_context: TurnContext) -> None:
    """A copy of an activity already handled: nothing is done again. An invoke still needs an
    answer (the channel waits for one), so it gets a short message instead of a second action."""
    activity: Activity = turn_context.activity
    if activity.type != ActivityTypes.invoke:
        return
    body = InvokeReply(message=ALREADY_HANDLED).body() if activity.name == "adaptiveCard/action" else None
    await turn_context.send_activity(
        Activity(
            type=ActivityTypes.invoke_response, value=InvokeResponse(status=int(HTTPStatus.OK), body=body)
        )
    )
