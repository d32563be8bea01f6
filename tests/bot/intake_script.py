"""Driving the contact script through the loopback Teams channel, as an officer in Teams would.

``press`` finds a button on the last card in a chat and sends what Teams sends for it: the button's
data, the values already on the card's inputs (unless the button sends no inputs), and what the
test "typed" over them. People, answers and helpers shared by the intake tests live here; every
name is an obvious fiction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.cards.intake import NEXT, SUBMIT
from frontdoor.contact import Contact, ContactState, ImmediateRisk
from frontdoor.records import AuditEvent, RotaEntry, StoredAuditEvent
from frontdoor.roles import Role
from frontdoor.script import Section
from frontdoor.systemclock import SettableClock
from tests.bot.conftest import RunningBot
from tests.harness.teams import Conversation, TeamsChannel, TeamsUser, TurnResponse

#: Monday 16 March 2026, 10:00 in London (GMT): a working day, inside office hours.
MONDAY_10AM = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)

OFFICER = TeamsUser("aad-officer-0301", "Olu Officerperson")
OTHER_OFFICER = TeamsUser("aad-officer-0302", "Ola Otherofficer")
CONSULTANT = TeamsUser("aad-consultant-0303", "Cora Consultantperson")
CONSULTANT_2 = TeamsUser("aad-consultant-0304", "Cai Consultantexample")
SOCIAL_WORKER = TeamsUser("aad-worker-0305", "Wren Workerperson")
DUTY_MANAGER = TeamsUser("aad-duty-0306", "Dara Dutyperson")
ADMIN = TeamsUser("aad-admin-0307", "Ada Adminperson")
PROFESSIONAL = TeamsUser("aad-professional-0308", "Pat Partnerperson")

TEAM = "team-front-door"
DECISIONS_CHANNEL = "19:decisions@thread.tacv2"
DUTY_CHANNEL = "19:duty@thread.tacv2"

#: Names and text that must never reach a channel card.
CHILD_NAME = "Zebedee Testchild"
SECOND_CHILD = "Yolanda Testchild"
REFERRER_NAME = "Testy McTestface"
WORRY = "Worried about home conditions at Testchild house"

ALL_NO: dict[str, object] = {f"risk_{risk.value}": "no" for risk in ImmediateRisk}
#: The emergency details card of the urgent path (only reached after a yes on the risk screen).
EMERGENCY: dict[str, object] = {
    "emergency_child": "Girl, about 6, called Zebedee",
    "emergency_whereabouts": "Example Primary School office",
    "emergency_phone": "0191 498 0000",
}

ROUTINE: dict[Section, dict[str, object]] = {
    Section.SOURCE: {"source": "phone", "contact_type": "referral"},
    Section.RISK: ALL_NO,
    Section.EMERGENCY: EMERGENCY,
    Section.REFERRER: {
        "referrer_type": "professional",
        "referrer_name": REFERRER_NAME,
        "referrer_agency": "Example Primary School",
        "referrer_phone": "0191 498 0000",
        "referrer_email": "head@example.org",
    },
    Section.CHILDREN: {
        "child_0_name": CHILD_NAME,
        "child_0_dob": "2019-05-04",
        "child_0_address": "1 Example Street, Testtown",
        "child_0_postcode": "sw1a 1aa",
    },
    Section.PARENTS: {"parent_0_name": "Parent Testperson", "consent": "given"},
    Section.WORRIES: {
        "worries": WORRY,
        "working_well": "Grandparent visits daily",
        "presenting_needs": "neglect,domestic_abuse",
    },
    Section.HISTORY: {"systems_checked": "social_care,police", "chronology": "Two earlier contacts"},
    Section.SUMMARY: {},
}


def script(**changes: dict[str, object]) -> dict[Section, dict[str, object]]:
    """The routine answers with some sections' values merged over (keyed by section value)."""
    merged = {section: dict(values) for section, values in ROUTINE.items()}
    for name, values in changes.items():
        merged[Section(name)] |= values
    return merged


# -- people and places ---------------------------------------------------------------------------


async def grant(bot: RunningBot, user: TeamsUser, *roles: Role) -> None:
    async with bot.store.unit_of_work() as uow:
        for role in roles:
            await uow.roles.grant(user.aad_object_id, role)
        await uow.commit()


async def on_rota(bot: RunningBot, user: TeamsUser, role: Role, day: datetime = MONDAY_10AM) -> None:
    async with bot.store.unit_of_work() as uow:
        await uow.rota.set(RotaEntry(day.date(), role, user.aad_object_id))
        await uow.commit()


async def staff(bot: RunningBot) -> None:
    """The usual cast: an officer, two consultants, a social worker, a duty manager, an admin."""
    await grant(bot, OFFICER, Role.OFFICER)
    await grant(bot, OTHER_OFFICER, Role.OFFICER)
    await grant(bot, CONSULTANT, Role.CONSULTANT)
    await grant(bot, CONSULTANT_2, Role.CONSULTANT)
    await grant(bot, SOCIAL_WORKER, Role.SOCIAL_WORKER)
    await grant(bot, DUTY_MANAGER, Role.DUTY_MANAGER)
    await grant(bot, ADMIN, Role.ADMIN)


def decisions_channel(channel: TeamsChannel) -> Conversation:
    return channel.channel(
        TEAM, DECISIONS_CHANNEL, "Decisions", members=[ADMIN, CONSULTANT, CONSULTANT_2, SOCIAL_WORKER]
    )


def duty_channel(channel: TeamsChannel) -> Conversation:
    return channel.channel(TEAM, DUTY_CHANNEL, "Duty", members=[ADMIN, DUTY_MANAGER])


async def register_channels(channel: TeamsChannel, *, decisions: bool = True, duty: bool = True) -> None:
    if decisions:
        reply = await channel.say(decisions_channel(channel), ADMIN, "register decisions channel")
        assert any("now the decisions channel" in text for text in reply.texts), reply.texts
    if duty:
        reply = await channel.say(duty_channel(channel), ADMIN, "register duty channel")
        assert any("now the duty channel" in text for text in reply.texts), reply.texts


async def introduce(channel: TeamsChannel, user: TeamsUser) -> Conversation:
    """``user`` opens a personal chat with the bot (so it can message them later)."""
    chat = channel.personal(user)
    await channel.installation_update(chat, user)
    return chat


def clock() -> SettableClock:
    return SettableClock(MONDAY_10AM)


# -- cards ---------------------------------------------------------------------------------------


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key not in ("data", "choices", "msteams"):
                yield from _walk(value)


def actions(card: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [node for node in _walk(card) if str(node.get("type", "")).startswith("Action.")]


def action(card: Mapping[str, Any], fd: str) -> dict[str, Any]:
    found = [
        node for node in actions(card) if isinstance(node.get("data"), dict) and node["data"].get("fd") == fd
    ]
    assert found, f"no button {fd} on the card: {[a.get('title') for a in actions(card)]}"
    return found[0]


def inputs(card: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in _walk(card) if str(node.get("type", "")).startswith("Input.")}


def texts_of(card: Mapping[str, Any]) -> str:
    """Every piece of text on a card, for "does it say" checks."""
    return json.dumps(card, ensure_ascii=False)


def step_of(card: Mapping[str, Any]) -> str:
    """The card's "Step n of N: title" line (8 steps, 9 on the urgent path)."""
    for node in _walk(card):
        text = node.get("text")
        if node.get("type") == "TextBlock" and isinstance(text, str) and text.startswith("Step "):
            return text
    raise AssertionError("not a section card")


def section_of_card(card: Mapping[str, Any]) -> Section:
    for node in actions(card):
        data = node.get("data")
        if isinstance(data, dict) and "section" in data:
            return Section(data["section"])
    raise AssertionError("not a section card")


async def press(
    channel: TeamsChannel,
    chat: Conversation,
    user: TeamsUser,
    fd: str,
    typed: Mapping[str, object] | None = None,
    *,
    card: Mapping[str, Any] | None = None,
    card_activity_id: str | None = None,
) -> TurnResponse:
    """``user`` presses the button ``fd`` on ``card`` (default: the last card in ``chat``) after
    typing ``typed`` over its inputs."""
    card = card if card is not None else channel.last_card(chat)
    button = action(card, fd)
    value: dict[str, Any] = {}
    if button.get("associatedInputs") != "none":
        for input_id, node in inputs(card).items():
            if isinstance(node.get("value"), str) and node["value"]:
                value[input_id] = node["value"]
        value |= dict(typed or {})
    value |= button["data"]
    return await channel.submit(chat, user, value, card_activity_id=card_activity_id)


async def start(channel: TeamsChannel, chat: Conversation, user: TeamsUser) -> TurnResponse:
    reply = await channel.say(chat, user, "new contact")
    # A card the bot sends in the background (an earlier sign-off's letter, say) may land in the
    # same chat during this turn: the wizard's card is the last section card of the reply.
    sections = [card for card in reply.cards if _is_section(card)]
    assert sections and step_of(sections[-1]).startswith("Step 1 of 8"), reply.texts
    return reply


def _is_section(card: Mapping[str, Any]) -> bool:
    try:
        step_of(card)
    except AssertionError:
        return False
    return True


async def walk(
    channel: TeamsChannel,
    chat: Conversation,
    user: TeamsUser,
    answers: Mapping[Section, Mapping[str, object]] | None = None,
    *,
    until: Section = Section.SUMMARY,
) -> dict[str, Any]:
    """Answer the cards from the current one up to ``until``'s card; returns that card."""
    answers = answers or ROUTINE
    card = channel.last_card(chat)
    for _ in range(len(Section)):
        section = section_of_card(card)
        if section is until:
            return card
        reply = await press(channel, chat, user, NEXT, answers[section])
        assert reply.cards, reply.texts
        card = reply.cards[-1]
        assert section_of_card(card) is not section or "Please check" not in texts_of(card), texts_of(card)
    raise AssertionError("the script did not reach the card")


async def submit(
    channel: TeamsChannel,
    chat: Conversation,
    user: TeamsUser,
    answers: Mapping[Section, Mapping[str, object]] | None = None,
) -> TurnResponse:
    """New contact, every card answered, submitted; returns the submission turn."""
    await start(channel, chat, user)
    await walk(channel, chat, user, answers)
    return await press(channel, chat, user, SUBMIT)


def receipt_reference(reply: TurnResponse) -> str:
    for card in reply.cards:
        for node in _walk(card):
            text = node.get("text")
            if isinstance(text, str) and text.startswith("CT-"):
                return text
    raise AssertionError(f"no receipt in {reply.texts}")


# -- the store -----------------------------------------------------------------------------------


async def contacts(bot: RunningBot) -> list[Contact]:
    async with bot.store.unit_of_work() as uow:
        return await uow.contacts.list_by_state(list(ContactState))


async def only_contact(bot: RunningBot) -> Contact:
    [contact] = await contacts(bot)
    return contact


async def audit(bot: RunningBot) -> list[AuditEvent]:
    async with bot.store.unit_of_work() as uow:
        rows: list[StoredAuditEvent] = await uow.audit.between(
            datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        )
    return [row.event for row in rows]


#: Anything identifying that a channel card must never show.
NEVER_IN_A_CHANNEL = (
    CHILD_NAME,
    "Zebedee",
    "Testchild",
    REFERRER_NAME,
    "Example Primary School",
    "Example Street",
    "SW1A",
    "2019-05-04",
    "Parent Testperson",
    WORRY,
    "Grandparent",
    "A Neighbour",
)
