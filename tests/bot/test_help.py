"""help and unknown text, in a personal chat, a group chat and a channel, end to end."""

from __future__ import annotations

import json

import pytest

from bot.cards.help import help_card
from bot.dialogs.find import USAGE as FIND_USAGE
from frontdoor.commands import Scope
from frontdoor.roles import Role
from tests.bot.conftest import StartBot
from tests.bot.intake_script import _walk, grant, typed_commands
from tests.harness.teams import TeamsChannel, TeamsUser

OFFICER = TeamsUser("aad-officer-0001", "Officer Testperson")


def _facts(card: dict) -> list[str]:
    return typed_commands(card)


async def test_help_in_a_personal_chat_gets_the_help_card(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await start_bot()
    chat = teams_channel.personal(OFFICER)
    reply = await teams_channel.say(chat, OFFICER, "help")
    assert reply.status in (200, 201)
    [card] = reply.cards
    assert "help" in _facts(card)
    assert not any("recognise" in item.get("text", "") for item in card["body"])


@pytest.mark.parametrize("text", ["what now?", "tell me a story", "", "   ", "💥" * 50])
async def test_unknown_text_gets_the_help_card(
    start_bot: StartBot, teams_channel: TeamsChannel, text: str
) -> None:
    await start_bot()
    chat = teams_channel.personal(OFFICER)
    reply = await teams_channel.say(chat, OFFICER, text)
    [card] = reply.cards
    assert "didn't recognise" in card["body"][0]["text"]
    assert "help" in _facts(card)


@pytest.mark.parametrize("text", ["Help", "  HELP ", "help.", "help?"])
async def test_help_is_recognised_in_any_case_and_punctuation(
    start_bot: StartBot, teams_channel: TeamsChannel, text: str
) -> None:
    await start_bot()
    reply = await teams_channel.say(teams_channel.personal(OFFICER), OFFICER, text)
    [card] = reply.cards
    assert "recognise" not in card["body"][0]["text"]


async def test_help_in_a_channel_strips_the_bot_mention(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await start_bot()
    channel = teams_channel.channel("team-1", "channel-1", "Decisions", members=[OFFICER])
    reply = await teams_channel.say(channel, OFFICER, "help")
    [card] = reply.cards
    assert "recognise" not in card["body"][0]["text"]
    assert reply.sent[0].conversation_id.startswith(channel.id)


async def test_help_in_a_group_chat(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    await start_bot()
    other = TeamsUser("aad-other-0002", "Colleague Testperson")
    group = teams_channel.group_chat(OFFICER, other)
    reply = await teams_channel.say(group, other, "help")
    [card] = reply.cards
    assert "help" in _facts(card)


async def test_installing_the_bot_in_a_personal_chat_greets_with_the_help_card(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await start_bot()
    installed, _joined = await teams_channel.install(teams_channel.personal(OFFICER), OFFICER)
    [card] = installed.cards
    assert "help" in _facts(card)


async def test_an_unknown_card_action_is_answered_not_failed(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await start_bot()
    chat = teams_channel.personal(OFFICER)
    await teams_channel.say(chat, OFFICER, "help")
    response = await teams_channel.execute(chat, OFFICER, "no.such.verb", {"contact": "x"})
    assert response.status == 200
    assert response.json["statusCode"] == 200
    assert "not available" in response.json["value"]


async def test_a_stray_card_submission_is_answered(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    await start_bot()
    chat = teams_channel.personal(OFFICER)
    await teams_channel.say(chat, OFFICER, "help")
    reply = await teams_channel.submit(chat, OFFICER, {"step": "gone"})
    assert reply.status in (200, 201)
    assert any("no longer active" in text for text in reply.texts)


async def test_every_command_is_shown_whole_on_a_line_of_its_own_with_both_kinds_of_reference(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot()
    async with bot.store.unit_of_work() as uow:
        await uow.roles.grant(OFFICER.aad_object_id, Role.OFFICER)
        await uow.commit()
    [card] = (await teams_channel.say(teams_channel.personal(OFFICER), OFFICER, "help")).cards
    typed = typed_commands(card)
    # a command and its references in one text across the card's width, never a narrow column
    for example in ("find PC-26-00012", "find CT-26-000123", "link PC-26-00012 CT-26-000123"):
        assert example in typed, typed
    assert not any(node.get("type") in ("FactSet", "ColumnSet") for node in _walk(card))
    assert "find CT-26-000123" in FIND_USAGE  # what `find` alone says agrees


def _texts(card: dict) -> list[str]:
    return [item["text"] for item in card["body"] if item["type"] == "TextBlock"]


async def test_a_person_without_a_role_is_told_their_id_and_the_grant_line(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await start_bot()
    newcomer = TeamsUser("3f0c2a9e-5b1d-4c7e-9a2f-000000000abc", "Newcomer Testperson")
    chat = teams_channel.personal(newcomer)
    [card] = (await teams_channel.say(chat, newcomer, "help")).cards
    # the id, then the grant line to copy, each in code format (monospace) on a line of its own
    texts = _texts(card)
    start = texts.index("You have no role yet. Your Azure AD object id:")
    assert texts[start:] == [
        "You have no role yet. Your Azure AD object id:",
        "3f0c2a9e-5b1d-4c7e-9a2f-000000000abc",
        "Give an administrator this line:",
        "frontdoor-bot roles grant 3f0c2a9e-5b1d-4c7e-9a2f-000000000abc <role>",
    ]
    monospace = [node["text"] for node in card["body"] if node.get("fontType") == "Monospace"]
    assert monospace == texts[start + 1 :: 2]
    refused = await teams_channel.say(chat, newcomer, "new contact")
    assert refused.texts == [
        "Sorry, only First Contact officers, consultants or team managers can do that. If you think you "
        "should be able to, ask an administrator. You have no role yet. Your Azure AD object id is "
        "3f0c2a9e-5b1d-4c7e-9a2f-000000000abc; give an administrator this line: "
        "`frontdoor-bot roles grant 3f0c2a9e-5b1d-4c7e-9a2f-000000000abc officer`"
    ]


async def test_a_person_with_a_role_is_not_told_the_grant_line(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot()
    await grant(bot, OFFICER, Role.OFFICER)
    chat = teams_channel.personal(OFFICER)
    [card] = (await teams_channel.say(chat, OFFICER, "help")).cards
    assert not any("roles grant" in t for t in _texts(card))
    refused = await teams_channel.say(chat, OFFICER, "roles")
    assert refused.texts == [
        "Sorry, only administrators can do that. If you think you should be able to, ask an administrator."
    ]


def test_each_help_card_is_a_fresh_copy_of_the_one_built() -> None:
    """The card is built once per roles, place and (with no role) person: a caller that changes the
    card it got changes nobody else's."""
    first = help_card(frozenset({Role.OFFICER}), Scope.PERSONAL, False, "aad-help-copy-1")
    first["body"].clear()
    again = help_card(frozenset({Role.OFFICER}), Scope.PERSONAL, False, "aad-help-copy-2")
    assert again["body"]  # unchanged by the first caller, and the same for another officer
    assert again == help_card(frozenset({Role.OFFICER}), Scope.PERSONAL, False, "aad-help-copy-1")
    assert "aad-help-copy-2" not in json.dumps(again)  # a role holder's id is never shown
    nobody = help_card(frozenset(), Scope.PERSONAL, False, "aad-help-copy-3")
    assert "aad-help-copy-3" in json.dumps(nobody)
    assert "aad-help-copy-4" in json.dumps(help_card(frozenset(), Scope.PERSONAL, False, "aad-help-copy-4"))
