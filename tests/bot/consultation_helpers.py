"""Shared steps for the consultation tests: the people, reading the form and logging one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from frontdoor.consultation import Consultation
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from tests.bot.conftest import RunningBot, StartBot
from tests.harness.teams import Conversation, Operation, TeamsChannel, TeamsUser, TurnResponse
from tests.store.samples import full_contact

PROFESSIONAL = TeamsUser("aad-prof-0501", "Testy McTestface")
OTHER_PROFESSIONAL = TeamsUser("aad-prof-0502", "Zebedee Example")
OFFICER = TeamsUser("aad-officer-0503", "Ollie Officerperson")
ADMIN = TeamsUser("aad-admin-0504", "Ada Adminperson")

NOW = datetime(2026, 6, 8, 9, 30, tzinfo=UTC)
CLEAN_WORRY = "A Year 6 pupil has been arriving hungry and says there is no food at home."
RISKY_WORRY = "The boy lives at B33 8TH and his mum is on 07700 900123."

JsonObject = dict[str, Any]


# -- reading cards --------------------------------------------------------------------------------


def _walk(node: Any) -> Iterator[JsonObject]:
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key != "data":
                yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def inputs(card: JsonObject) -> dict[str, JsonObject]:
    return {n["id"]: n for n in _walk(card["body"]) if str(n.get("type", "")).startswith("Input.")}


def texts(card: JsonObject) -> list[str]:
    return [n["text"] for n in _walk(card) if n.get("type") == "TextBlock"]


def facts(card: JsonObject) -> dict[str, str]:
    return {f["title"]: f["value"] for n in _walk(card) if n.get("type") == "FactSet" for f in n["facts"]}


def action(card: JsonObject, title: str) -> JsonObject:
    found: list[JsonObject] = [a for a in card.get("actions", []) if a.get("title") == title]
    assert found, f"no {title!r} button; buttons: {[a.get('title') for a in card.get('actions', [])]}"
    return found[0]


def press(card: JsonObject, title: str, **values: str) -> JsonObject:
    """What Teams sends for a press on ``title``: the button's data and the inputs' values."""
    button = action(card, title)
    typed = (
        {}
        if button.get("associatedInputs") == "none"
        else {k: v.get("value", "") for k, v in inputs(card).items()}
    )
    typed = {k: v for k, v in typed.items() if v != ""}  # Teams leaves out what nobody touched
    return {**typed, **values, **button["data"]}


# -- helpers --------------------------------------------------------------------------------------


async def started(start_bot: StartBot) -> RunningBot:
    bot = await start_bot(clock=SettableClock(NOW), scheduler_enabled=False)
    async with bot.store.unit_of_work() as uow:
        await uow.roles.grant(OFFICER.aad_object_id, Role.OFFICER)
        await uow.roles.grant(ADMIN.aad_object_id, Role.ADMIN)
        await uow.contacts.add(full_contact("c-1", reference="CT-26-000001"))
        await uow.contacts.add(full_contact("c-2", reference="CT-26-000002"))
        await uow.commit()
    return bot


async def open_form(channel: TeamsChannel, chat: Conversation, user: TeamsUser) -> tuple[JsonObject, str]:
    reply = await channel.say(chat, user, "consultation")
    [sent] = reply.sent
    assert sent.operation is Operation.REPLY or sent.operation is Operation.SEND
    assert sent.card is not None
    return sent.card, sent.activity_id


def updated_card(reply: TurnResponse, activity_id: str) -> JsonObject:
    """The card the bot put in place of the pressed one (and nothing else sent)."""
    assert [(s.operation, s.activity_id) for s in reply.sent] == [(Operation.UPDATE, activity_id)], (
        reply.texts
    )
    card = reply.sent[0].card
    assert card is not None
    return card


async def stored(bot: RunningBot, reference: str) -> Consultation | None:
    async with bot.store.unit_of_work() as uow:
        return await uow.consultations.get_by_reference(reference)


async def actions_on(bot: RunningBot, subject: str) -> list[tuple[str, str, str]]:
    async with bot.store.unit_of_work() as uow:
        return [
            (s.event.action, s.event.actor_id, s.event.detail) for s in await uow.audit.for_subject(subject)
        ]


async def _log_one(channel: TeamsChannel, user: TeamsUser, agency: str = "Example Primary School") -> str:
    chat = channel.personal(user)
    form, form_id = await open_form(channel, chat, user)
    receipt = updated_card(
        await channel.submit(
            chat,
            user,
            press(form, "Save", professional_name="Caller Testperson", agency=agency, worry=CLEAN_WORRY),
        ),
        form_id,
    )
    return facts(receipt)["Reference"]
