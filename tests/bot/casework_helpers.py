"""Helpers for the tests of the work after screening in Teams (``test_casework_cards``): the cast
beyond ``intake_script``'s, finding the personal cards the bot sends, pressing their buttons, and
checking that every change on a contact is in the audit trail."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from bot.cards.decisions import DECIDE_VERB
from frontdoor.contact import Contact
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.decision_helpers import (
    RATIONALE,
    _choice_data,
    _decide,
    _duty_post,
    _duty_view,
    _posted,
    _route_data,
    _view,
)
from tests.bot.intake_script import (
    CONSULTANT,
    CONSULTANT_2,
    DUTY_MANAGER,
    OFFICER,
    SOCIAL_WORKER,
    actions,
    audit,
    clock,
    decisions_channel,
    duty_channel,
    grant,
    introduce,
    register_channels,
    script,
    staff,
    submit,
    texts_of,
)
from tests.harness.teams import Conversation, SentActivity, TeamsChannel, TeamsUser, TurnResponse

TEAM_MANAGER = TeamsUser("aad-manager-0309", "Tess Teammanagerperson")
OTHER_WORKER = TeamsUser("aad-worker-0310", "Wim Otherworkerperson")

#: The receiving team named on an accepted outcome (a team, not a person: it may appear in letters).
RECEIVING_TEAM = "Families First Team North"


async def ready(
    start_bot: StartBot, teams_channel: TeamsChannel, *, manager_chat: bool = True, **overrides: Any
) -> tuple[RunningBot, SettableClock]:
    """The bot on Monday 10:00 with both channels registered and everyone in a chat with it."""
    the_clock = clock()
    bot = await start_bot(clock=the_clock, **overrides)
    await staff(bot)
    await grant(bot, TEAM_MANAGER, Role.TEAM_MANAGER)
    await grant(bot, OTHER_WORKER, Role.SOCIAL_WORKER)
    await register_channels(teams_channel)
    for user in (CONSULTANT, CONSULTANT_2, SOCIAL_WORKER, OTHER_WORKER, DUTY_MANAGER, OFFICER):
        await introduce(teams_channel, user)
    if manager_chat:
        await introduce(teams_channel, TEAM_MANAGER)
    return bot, the_clock


async def eventually(check: Callable[[], Any], what: str, *, within: float = 5.0) -> None:
    """Wait for work the bot does after answering (an async ``check`` returning truthy)."""
    for _ in range(int(within / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def card_in(teams_channel: TeamsChannel, chat: Conversation, needle: str) -> SentActivity:
    """The latest card posted to ``chat`` that says ``needle`` (waiting for it if need be)."""
    found: list[SentActivity] = []

    async def check() -> bool:
        found[:] = [
            p for p in teams_channel.sent_to(chat) if p.card is not None and needle in texts_of(p.card)
        ]
        return bool(found)

    await eventually(check, f"a card saying {needle!r}")
    return found[-1]


def button(card: Mapping[str, Any], verb: str, step: str | None = None) -> dict[str, Any]:
    """The data of the ``Action.Execute`` with ``verb`` (and ``step``) on ``card``, show cards included."""
    found = [
        node["data"]
        for node in actions(card)
        if node.get("verb") == verb and (step is None or node.get("data", {}).get("step") == step)
    ]
    assert found, f"no {verb} {step or ''} button: {[a.get('title') for a in actions(card)]}"
    data: dict[str, Any] = found[0]
    return data


def has_button(card: Mapping[str, Any], verb: str, step: str | None = None) -> bool:
    return any(
        node.get("verb") == verb and (step is None or node.get("data", {}).get("step") == step)
        for node in actions(card)
    )


async def press(
    teams_channel: TeamsChannel,
    chat: Conversation,
    user: TeamsUser,
    card: Mapping[str, Any],
    verb: str,
    step: str | None = None,
    activity_id: str | None = None,
    *,
    forged: Mapping[str, object] | None = None,
    **inputs: object,
) -> TurnResponse:
    """``user`` fills ``inputs`` in and presses the button on ``card``; ``forged`` is anything else a
    tampered client adds to the data (claimed actors, roles)."""
    data = {**button(card, verb, step), **inputs, **(forged or {})}
    return await teams_channel.execute(chat, user, verb, data, card_activity_id=activity_id)


def reply_card(response: TurnResponse) -> dict[str, Any]:
    assert response.card is not None, response.text
    return response.card


async def press_card(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """``press`` (the same arguments), and the card Teams shows in reply."""
    return reply_card(await press(*args, **kwargs))


async def screen(
    teams_channel: TeamsChannel, route: str, user: TeamsUser = CONSULTANT, **inputs: object
) -> TurnResponse:
    """A consultant takes ``route`` on the latest decision card."""
    activity_id, card = _posted(teams_channel)
    view = await _view(teams_channel, user, card, activity_id)
    assert any(node.get("verb") == DECIDE_VERB for node in actions(view))
    return await _decide(
        teams_channel, user, _route_data(view, route), activity_id, rationale=RATIONALE, **inputs
    )


async def channel_view(
    teams_channel: TeamsChannel, user: TeamsUser, where: Conversation | None = None
) -> dict[str, Any]:
    """``user``'s own view of the latest channel card (as Teams asks for it through ``refresh``)."""
    channel = where or decisions_channel(teams_channel)
    posts = [post for post in teams_channel.sent_to(channel) if post.card and "refresh" in post.card]
    activity_id = posts[-1].activity_id
    found: list[dict[str, Any]] = []

    async def check() -> bool:
        # The card as the channel shows it now; its in-place update comes after the invoke's answer.
        current = teams_channel.message(activity_id) or {}
        content = (current.get("attachments") or [{}])[0].get("content")
        found[:] = [content] if isinstance(content, dict) and "refresh" in content else []
        return bool(found)

    await eventually(check, "the channel card with a refresh")
    card = found[0]
    response = await teams_channel.execute(
        channel, user, "refresh", card["refresh"]["action"]["data"], card_activity_id=activity_id
    )
    return reply_card(response)


def channel_message_id(teams_channel: TeamsChannel, where: Conversation | None = None) -> str:
    channel = where or decisions_channel(teams_channel)
    posts = [post for post in teams_channel.sent_to(channel) if post.card and "refresh" in post.card]
    return posts[-1].activity_id


async def assert_every_change_audited(bot: RunningBot, contact: Contact) -> list[str]:
    """Every event on the contact after its submission has an audit row under its reference, and no
    audit row carries anything typed. Returns the contact's audit actions, in order."""
    rows = [event for event in await audit(bot) if event.subject == contact.reference]
    actions_seen = Counter(event.action for event in rows)
    _, *after = contact.events
    wanted = Counter(f"contact.{event.action}" for event in after)
    missing = wanted - actions_seen
    assert not missing, f"changes without an audit row: {dict(missing)}"
    for event in rows:
        assert RATIONALE not in event.detail and RECEIVING_TEAM not in event.detail
    return [event.action for event in rows]


__all__ = [
    "OTHER_WORKER",
    "RECEIVING_TEAM",
    "TEAM_MANAGER",
    "assert_every_change_audited",
    "button",
    "card_in",
    "channel_message_id",
    "channel_view",
    "eventually",
    "has_button",
    "press",
    "ready",
    "reply_card",
    "screen",
]


async def _rereferral(teams_channel: TeamsChannel, choice: str) -> None:
    answers = script(history={"closed_on": "2026-02-02", "last_worker": SOCIAL_WORKER.aad_object_id})
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, answers)
    activity_id, card = _duty_post(teams_channel)
    view = await _duty_view(teams_channel, DUTY_MANAGER, card, activity_id)
    decided = await teams_channel.execute(
        duty_channel(teams_channel),
        DUTY_MANAGER,
        "contact.rereferral",
        {**_choice_data(view, choice), "rationale": RATIONALE},
        card_activity_id=activity_id,
    )
    assert decided.card is not None, decided.text
