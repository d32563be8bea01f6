"""Consultations end to end through the loopback Teams channel, on SQLite and PostgreSQL: the form,
the guard and the staff override, the receipt, ``find``, ``link``, bad input, and the logs."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from typing import Any

import pytest

from bot.app import SCHEDULER
from frontdoor.commands import COMMANDS, CommandName
from frontdoor.systemclock import SettableClock
from tests.bot.conftest import StartBot
from tests.bot.consultation_helpers import (
    ADMIN,
    CLEAN_WORRY,
    NOW,
    OFFICER,
    OTHER_PROFESSIONAL,
    PROFESSIONAL,
    RISKY_WORRY,
    _log_one,
    action,
    actions_on,
    facts,
    inputs,
    open_form,
    press,
    started,
    stored,
    texts,
    updated_card,
)
from tests.bot.intake_script import typed_commands
from tests.harness.teams import TeamsChannel, TeamsUser

# -- the professional's form ----------------------------------------------------------------------


async def test_a_professional_logs_a_consultation_and_gets_a_receipt(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await started(start_bot)
    chat = teams_channel.personal(PROFESSIONAL)
    form, form_id = await open_form(teams_channel, chat, PROFESSIONAL)

    fields = inputs(form)
    assert fields["professional_name"]["value"] == "Testy McTestface"  # from the Teams profile
    assert "value" not in fields["agency"]  # Teams does not say; nothing remembered yet
    assert "advice" not in fields and "on_behalf" not in fields and "override_reason" not in fields
    for name in ("professional_name", "agency", "worry"):
        assert fields[name]["isRequired"] is True and fields[name]["errorMessage"]
    assert fields["worry"]["maxLength"] == 4000
    assert [a["title"] for a in form["actions"]] == ["Save", "Cancel"]
    assert action(form, "Cancel")["associatedInputs"] == "none"

    values = {"agency": "Example Primary School", "professional_role": "DSL", "worry": CLEAN_WORRY}
    reply = await teams_channel.submit(chat, PROFESSIONAL, press(form, "Save", **values))
    receipt = updated_card(reply, form_id)
    assert receipt["body"][0]["text"] == "Consultation saved: PC-26-00001"
    shown = facts(receipt)
    assert shown["Reference"] == "PC-26-00001"
    assert shown["Agency"] == "Example Primary School" and shown["Linked contact"] == "none yet"
    assert "No advice was recorded with this consultation." in texts(receipt)
    assert any("Quote PC-26-00001 when you make the referral" in t for t in texts(receipt))
    assert any("deleted 6 months after" in t for t in texts(receipt))
    assert "actions" not in receipt  # the form cannot be pressed again
    assert teams_channel.message(form_id) is not None

    saved = await stored(bot, "PC-26-00001")
    assert saved is not None
    assert (saved.author_id, saved.professional_name, saved.worry) == (
        PROFESSIONAL.aad_object_id,
        "Testy McTestface",
        CLEAN_WORRY,
    )
    assert saved.created_at == NOW and not saved.on_behalf
    assert await actions_on(bot, "PC-26-00001") == [("consultation.create", PROFESSIONAL.aad_object_id, "")]

    # The next form remembers the agency and role; the name still comes from Teams.
    again, _ = await open_form(teams_channel, chat, PROFESSIONAL)
    assert {
        k: inputs(again)[k].get("value") for k in ("professional_name", "agency", "professional_role")
    } == {
        "professional_name": "Testy McTestface",
        "agency": "Example Primary School",
        "professional_role": "DSL",
    }


async def test_the_guard_reshows_the_same_card_with_the_text_kept(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await started(start_bot)
    chat = teams_channel.personal(PROFESSIONAL)
    form, form_id = await open_form(teams_channel, chat, PROFESSIONAL)
    values = {"agency": "Example Primary School", "worry": RISKY_WORRY}

    reply = await teams_channel.submit(chat, PROFESSIONAL, press(form, "Save", **values))
    shown = updated_card(reply, form_id)
    assert inputs(shown)["worry"]["value"] == RISKY_WORRY
    assert inputs(shown)["agency"]["value"] == "Example Primary School"
    said = texts(shown)
    assert any(t.startswith("Remove anything that could identify") for t in said)
    assert (
        "The worry seems to contain a postcode and a phone number. Remove it, or say it another way:" in said
    )
    assert "The boy lives at \\[postcode\\] and his mum is on \\[phone\\]." in said
    assert "override_reason" not in inputs(shown)
    assert [a["title"] for a in shown["actions"]] == ["Save", "Cancel"]  # professionals cannot override
    assert await stored(bot, "PC-26-00001") is None

    # A professional cannot force the override by sending its data.
    forged = {**press(shown, "Save"), "fd": "consultation.override", "override_reason": "Because"}
    reply = await teams_channel.submit(chat, PROFESSIONAL, forged)
    assert "override_reason" not in inputs(updated_card(reply, form_id))
    assert await stored(bot, "PC-26-00001") is None

    reply = await teams_channel.submit(
        chat, PROFESSIONAL, press(shown, "Save", worry="A Year 6 pupil mentions no food at home.")
    )
    receipt = updated_card(reply, form_id)
    assert facts(receipt)["Reference"] == "PC-26-00001"  # nothing was used up by the refusals


async def test_staff_log_for_a_caller_and_may_override_with_a_reason(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await started(start_bot)
    chat = teams_channel.personal(OFFICER)
    form, form_id = await open_form(teams_channel, chat, OFFICER)
    fields = inputs(form)
    assert fields["on_behalf"]["value"] == "true"
    assert "value" not in fields["professional_name"]  # the caller's, not the officer's
    assert "advice" in fields

    worry = "The school office is on 0113 496 0000 and the family live near B33 8TH."
    values = {
        "professional_name": "Caller Testperson",
        "agency": "Example Academy",
        "contact_phone": "0113 496 0000",
        "worry": worry,
        "advice": "Speak to the family about the food bank; ring back if it gets worse.",
    }
    reply = await teams_channel.submit(chat, OFFICER, press(form, "Save", **values))
    shown = updated_card(reply, form_id)
    assert "The worry seems to contain a postcode. Remove it, or say it another way:" in texts(shown)
    assert "override_reason" in inputs(shown)
    assert [a["title"] for a in shown["actions"]] == ["Save", "Save with this reason", "Cancel"]

    reply = await teams_channel.submit(chat, OFFICER, press(shown, "Save with this reason"))
    shown = updated_card(reply, form_id)
    assert "Give the reason for saving it as it is." in texts(shown)
    assert await stored(bot, "PC-26-00001") is None

    reason = "B33 8TH is the school's postcode, not the family's."
    reply = await teams_channel.submit(
        chat, OFFICER, press(shown, "Save with this reason", override_reason=reason)
    )
    receipt = updated_card(reply, form_id)
    assert facts(receipt)["Logged for them by"] == "Ollie Officerperson"
    assert facts(receipt)["Advice given by"] == "Ollie Officerperson"
    assert "Speak to the family about the food bank; ring back if it gets worse." in texts(receipt)
    assert any("link PC-26-00001" in t for t in texts(receipt))
    saved = await stored(bot, "PC-26-00001")
    assert saved is not None
    assert (saved.on_behalf, saved.override_reason, saved.advised_by) == (True, reason, OFFICER.aad_object_id)
    assert await actions_on(bot, "PC-26-00001") == [
        ("consultation.create", OFFICER.aad_object_id, "on_behalf"),
        ("consultation.override", OFFICER.aad_object_id, "postcode"),  # what kind, never the text
    ]


async def test_pressing_save_twice_saves_once(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot = await started(start_bot)
    chat = teams_channel.personal(PROFESSIONAL)
    form, form_id = await open_form(teams_channel, chat, PROFESSIONAL)
    pressed = press(form, "Save", agency="Example Primary School", worry=CLEAN_WORRY)
    await teams_channel.submit(chat, PROFESSIONAL, pressed)
    reply = await teams_channel.submit(chat, PROFESSIONAL, pressed)
    receipt = updated_card(reply, form_id)
    assert "This form was already saved as PC-26-00001." in texts(receipt)
    assert await stored(bot, "PC-26-00002") is None
    # Cancelling a saved form does not pretend to cancel.
    reply = await teams_channel.submit(chat, PROFESSIONAL, press(form, "Cancel"))
    assert any("already saved as PC-26-00001" in t for t in texts(updated_card(reply, form_id)))


async def test_cancel_saves_nothing(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot = await started(start_bot)
    chat = teams_channel.personal(PROFESSIONAL)
    form, form_id = await open_form(teams_channel, chat, PROFESSIONAL)
    reply = await teams_channel.submit(chat, PROFESSIONAL, press(form, "Cancel"))
    closed = updated_card(reply, form_id)
    assert "Cancelled: nothing was saved. Type **consultation** to start again." in texts(closed)
    assert "actions" not in closed and inputs(closed) == {}
    assert await stored(bot, "PC-26-00001") is None


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"worry": "x" * 4001}, "The worry is 4,001 characters; the limit is 4,000."),
        ({"worry": "   "}, "Describe the worry."),
        ({"agency": "A" * 201}, "The agency is 201 characters; the limit is 200."),
        (
            {"contact_phone": "ask the office"},
            "Give a phone number such as 0113 496 0000, or leave it empty.",
        ),
    ],
)
async def test_bad_values_are_refused_naming_the_field_and_limit(
    start_bot: StartBot, teams_channel: TeamsChannel, values: dict[str, str], expected: str
) -> None:
    bot = await started(start_bot)
    chat = teams_channel.personal(PROFESSIONAL)
    form, form_id = await open_form(teams_channel, chat, PROFESSIONAL)
    typed = {"agency": "Example Primary School", "worry": CLEAN_WORRY, **values}
    reply = await teams_channel.submit(chat, PROFESSIONAL, press(form, "Save", **typed))
    shown = updated_card(reply, form_id)
    assert expected in texts(shown)
    assert "Some fields need changing before this can be saved." in texts(shown)
    assert await stored(bot, "PC-26-00001") is None


@pytest.mark.parametrize(
    "tamper",
    [
        {"form": "not-a-form-id"},
        {"form": None},
        {"worry": {"nested": "object"}},
        {"on_behalf": "maybe"},
    ],
)
async def test_forged_form_data_gets_a_clear_reply(
    start_bot: StartBot, teams_channel: TeamsChannel, tamper: dict[str, Any]
) -> None:
    bot = await started(start_bot)
    chat = teams_channel.personal(PROFESSIONAL)
    form, _ = await open_form(teams_channel, chat, PROFESSIONAL)
    data = {**press(form, "Save", agency="Example Primary School", worry=CLEAN_WORRY), **tamper}
    reply = await teams_channel.submit(chat, PROFESSIONAL, data)
    assert reply.status in (200, 201)
    assert reply.texts == [
        "That consultation form is no longer active. Type **consultation** to start a new one."
    ]
    assert await stored(bot, "PC-26-00001") is None


async def test_a_professional_cannot_log_on_behalf_by_sending_the_toggle(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await started(start_bot)
    chat = teams_channel.personal(PROFESSIONAL)
    form, form_id = await open_form(teams_channel, chat, PROFESSIONAL)
    data = press(form, "Save", agency="X", worry=CLEAN_WORRY, on_behalf="true", advice="Ring back.")
    shown = updated_card(await teams_channel.submit(chat, PROFESSIONAL, data), form_id)
    assert "Only front-door staff log a consultation on behalf of someone else." in texts(shown)
    assert "Only front-door staff record the advice given." in texts(shown)
    assert await stored(bot, "PC-26-00001") is None


async def test_consultations_are_personal_chat_only(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot = await started(start_bot)
    group = teams_channel.group_chat(PROFESSIONAL, OFFICER)
    reply = await teams_channel.say(group, PROFESSIONAL, "consultation")
    [card] = reply.cards
    assert "didn't recognise" in card["body"][0]["text"]  # not offered here
    form, _ = await open_form(teams_channel, teams_channel.personal(PROFESSIONAL), PROFESSIONAL)
    data = press(form, "Save", agency="Example Primary School", worry=CLEAN_WORRY)
    reply = await teams_channel.submit(group, PROFESSIONAL, data)
    assert reply.texts == ["Consultations are logged in a personal chat with me."]
    reply = await teams_channel.submit(group, PROFESSIONAL, press(form, "Cancel"))
    assert reply.texts == ["Consultations are logged in a personal chat with me."]
    assert await stored(bot, "PC-26-00001") is None


async def test_an_administrator_may_not_log_or_find(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    await started(start_bot)
    chat = teams_channel.personal(ADMIN)
    for text in ("consultation", "find PC-26-00001"):
        reply = await teams_channel.say(chat, ADMIN, text)
        assert reply.texts and reply.texts[0].startswith("Sorry, only "), text


# -- find -----------------------------------------------------------------------------------------


async def test_find_shows_own_to_professionals_and_any_to_staff(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await started(start_bot)
    reference = await _log_one(teams_channel, PROFESSIONAL)

    own = await teams_channel.say(
        teams_channel.personal(PROFESSIONAL), PROFESSIONAL, f"find {reference.lower()}"
    )
    [card] = own.cards
    assert card["body"][0]["text"] == f"Consultation {reference}"
    assert CLEAN_WORRY in texts(card)

    staff = await teams_channel.say(teams_channel.personal(OFFICER), OFFICER, f"find {reference}")
    [card] = staff.cards
    assert facts(card)["Reference"] == reference

    others = await teams_channel.say(
        teams_channel.personal(OTHER_PROFESSIONAL), OTHER_PROFESSIONAL, f"find {reference}"
    )
    missing = await teams_channel.say(
        teams_channel.personal(OTHER_PROFESSIONAL), OTHER_PROFESSIONAL, "find PC-26-00099"
    )
    assert others.cards == [] and missing.cards == []
    assert others.texts == [f"No consultation {reference} was found."]
    assert missing.texts == ["No consultation PC-26-00099 was found."]


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("find", "Type **find** and a reference, for example **find PC-26-00012** or **find CT-26-000123**."),
        ("find my thing", "That is not a reference. Type **find** and a reference"),
        ("find PC-26-0001", "That is not a reference."),
    ],
)
async def test_find_with_other_references(
    start_bot: StartBot, teams_channel: TeamsChannel, text: str, reply: str
) -> None:
    await started(start_bot)
    answer = await teams_channel.say(teams_channel.personal(OFFICER), OFFICER, text)
    assert len(answer.texts) == 1 and answer.texts[0].startswith(reply)


# -- link -----------------------------------------------------------------------------------------


async def test_an_officer_links_a_consultation_to_a_contact(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await started(start_bot)
    reference = await _log_one(teams_channel, PROFESSIONAL)
    officer_chat = teams_channel.personal(OFFICER)

    reply = await teams_channel.say(officer_chat, OFFICER, f"link CT-26-000001 {reference}")  # either order
    assert reply.texts == [
        f"{reference} is now linked to contact CT-26-000001. "
        f"The contact shows “follows consultation {reference}”."
    ]
    async with bot.store.unit_of_work() as uow:
        followed = await uow.consultations.linked_to("CT-26-000001")
    assert [c.reference for c in followed] == [reference]
    [card] = (await teams_channel.say(officer_chat, OFFICER, f"find {reference}")).cards
    assert facts(card)["Linked contact"] == "CT-26-000001"
    [record] = (await teams_channel.say(officer_chat, OFFICER, "find CT-26-000001")).cards
    assert f"Follows consultation {reference}" in json.dumps(record)

    again = await teams_channel.say(officer_chat, OFFICER, f"link {reference} CT-26-000001")
    assert again.texts == [f"{reference} was already linked to contact CT-26-000001."]
    elsewhere = await teams_channel.say(officer_chat, OFFICER, f"link {reference} CT-26-000002")
    assert elsewhere.texts == [f"{reference} is already linked to CT-26-000001."]
    # the officer's find of the consultation is a read of its full record: audited
    assert [a for a, _, _ in await actions_on(bot, reference)] == [
        "consultation.create",
        "consultation.link",
        "consultation.viewed",
    ]


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("link PC-26-00099 CT-26-000001", "No consultation PC-26-00099 was found."),
        ("link PC-26-00001 CT-26-000099", "No contact CT-26-000099 was found."),
        ("link PC-26-00001", "Type **link**, the consultation's reference and the contact's"),
        ("link PC-26-00001 PC-26-00002", "Type **link**"),
        ("link", "Type **link**"),
    ],
)
async def test_links_that_do_not_happen(
    start_bot: StartBot, teams_channel: TeamsChannel, text: str, reply: str
) -> None:
    await started(start_bot)
    await _log_one(teams_channel, PROFESSIONAL)
    answer = await teams_channel.say(teams_channel.personal(OFFICER), OFFICER, text)
    assert len(answer.texts) == 1 and answer.texts[0].startswith(reply)


async def test_professionals_may_not_link(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot = await started(start_bot)
    reference = await _log_one(teams_channel, PROFESSIONAL)
    reply = await teams_channel.say(
        teams_channel.personal(PROFESSIONAL), PROFESSIONAL, f"link {reference} CT-26-000001"
    )
    assert reply.texts[0].startswith("Sorry, only ")
    saved = await stored(bot, reference)
    assert saved is not None and saved.linked_contact_reference is None


# -- logs -----------------------------------------------------------------------------------------


async def test_nothing_typed_reaches_the_logs(
    start_bot: StartBot,
    teams_channel: TeamsChannel,
    captured_logs: io.StringIO,
) -> None:
    await started(start_bot)
    chat = teams_channel.personal(OFFICER)
    values = {
        "professional_name": "Wilhelmina Fictionperson",
        "agency": "Imaginary Academy",
        "worry": RISKY_WORRY,
        "advice": "worried about bruises",
    }
    form, form_id = await open_form(teams_channel, chat, OFFICER)
    shown = updated_card(await teams_channel.submit(chat, OFFICER, press(form, "Save", **values)), form_id)
    reason = press(shown, "Save with this reason", override_reason="Sure.")
    updated_card(await teams_channel.submit(chat, OFFICER, reason), form_id)
    await teams_channel.say(chat, OFFICER, "find PC-26-00001")
    logged = captured_logs.getvalue()
    assert "PC-26-00001" in logged  # references are logged ...
    for secret in ("Wilhelmina", "Imaginary Academy", "B33", "07700", "bruises", "Sure.", "Ollie"):
        assert secret not in logged, secret  # ... what people typed is not
    for line in logged.splitlines():
        json.loads(line)


# -- the scheduler in the running app --------------------------------------------------------------


async def test_the_app_runs_retention_at_start_up_and_stops_the_scheduler(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await started(start_bot)  # scheduler off: seed first
    await _log_one(teams_channel, PROFESSIONAL)
    clock = SettableClock(NOW + timedelta(days=200))
    bot = await start_bot(clock=clock, scheduler_enabled=True)
    scheduler = bot.app[SCHEDULER]
    assert scheduler.running and "retention" in scheduler.job_ids()
    for _ in range(200):
        if await stored(bot, "PC-26-00001") is None:
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the start-up retention run did not delete the expired consultation")
    assert await actions_on(bot, "PC-26-00001") == [
        ("consultation.create", PROFESSIONAL.aad_object_id, ""),
        ("consultation.delete", "system:retention", "retention"),
    ]
    await bot.server.close()
    assert not scheduler.running


async def test_the_scheduler_can_be_switched_off(start_bot: StartBot) -> None:
    bot = await start_bot(scheduler_enabled=False)
    assert SCHEDULER not in bot.app


def _help_title(name: CommandName) -> str:
    [command] = [c for c in COMMANDS if c.name is name]
    return command.words + (f" {command.usage}" if command.usage else "")


@pytest.mark.parametrize(
    ("user", "listed"),
    [
        (PROFESSIONAL, {CommandName.CONSULTATION, CommandName.FIND}),
        (OFFICER, {CommandName.CONSULTATION, CommandName.FIND, CommandName.LINK}),
        (ADMIN, set()),
    ],
)
async def test_the_help_card_lists_the_consultation_commands_by_role(
    start_bot: StartBot, teams_channel: TeamsChannel, user: TeamsUser, listed: set[CommandName]
) -> None:
    await started(start_bot)
    [card] = (await teams_channel.say(teams_channel.personal(user), user, "help")).cards
    ours = {CommandName.CONSULTATION, CommandName.FIND, CommandName.LINK}
    assert {name for name in ours if _help_title(name) in typed_commands(card)} == listed
