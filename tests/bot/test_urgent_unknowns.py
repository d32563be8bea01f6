"""An urgent call always reaches a consultant (SPEC §3, §5), through the Teams endpoint: the
emergency details card takes "number withheld or not given" and "whereabouts not known" as answers
rather than blanks, and a number abroad in international form, so an anonymous caller, a withheld
or foreign number or a call that ended early still creates the urgent contact and @mentions the
consultant. A blank without its tick is refused, naming the field, and nothing is created."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.cards.intake import NEXT
from frontdoor.contact import PHONE_NOT_GIVEN, WHEREABOUTS_NOT_KNOWN, ContactState
from frontdoor.roles import Role
from frontdoor.script import Section
from frontdoor.systemclock import SettableClock
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    ALL_NO,
    CONSULTANT,
    OFFICER,
    ROUTINE,
    clock,
    decisions_channel,
    inputs,
    on_rota,
    only_contact,
    press,
    register_channels,
    section_of_card,
    staff,
    start,
    texts_of,
)
from tests.harness.teams import TeamsChannel

INJURED = {**ALL_NO, "risk_injury": "yes"}
#: An anonymous caller who rang off: what a front-door officer knows.
RANG_OFF = {
    "emergency_child": "Boy, about 10",
    "emergency_whereabouts_unknown": "true",
    "emergency_phone_withheld": "true",
}


async def _ready(
    start_bot: StartBot, teams_channel: TeamsChannel, the_clock: SettableClock | None = None
) -> RunningBot:
    bot = await start_bot(clock=the_clock or clock())
    await staff(bot)
    await register_channels(teams_channel)
    return bot


async def _to_emergency_card(teams_channel: TeamsChannel, officer_chat: Any) -> dict[str, Any]:
    await start(teams_channel, officer_chat, OFFICER)
    await press(teams_channel, officer_chat, OFFICER, NEXT, ROUTINE[Section.SOURCE])
    reply = await press(teams_channel, officer_chat, OFFICER, NEXT, INJURED)
    card = reply.cards[-1]
    assert section_of_card(card) is Section.EMERGENCY
    return card


def _urgent_posts(teams_channel: TeamsChannel) -> list[Any]:
    return [p for p in teams_channel.sent_to(decisions_channel(teams_channel)) if p.card is not None]


async def test_an_anonymous_caller_who_rang_off_still_reaches_the_consultant_at_once(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await on_rota(bot, CONSULTANT, Role.CONSULTANT)
    chat = teams_channel.personal(OFFICER)
    card = await _to_emergency_card(teams_channel, chat)
    fields = inputs(card)
    # the card offers the two explicit answers, and does not demand a number or a place
    assert fields["emergency_phone_withheld"]["title"] == "Number withheld or not given"
    assert fields["emergency_whereabouts_unknown"]["title"] == "Whereabouts not known"
    assert not fields["emergency_phone"].get("isRequired")
    assert not fields["emergency_whereabouts"].get("isRequired")
    assert fields["emergency_child"]["isRequired"] is True

    reply = await press(teams_channel, chat, OFFICER, NEXT, RANG_OFF)

    [post] = _urgent_posts(teams_channel)
    assert post.text is not None and "Urgent contact CT-26-000001" in post.text
    assert [m.id for m in post.mentions] == [CONSULTANT.aad_object_id]
    assert section_of_card(reply.cards[-1]) is Section.REFERRER
    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SCREENING and contact.reference == "CT-26-000001"
    assert contact.emergency.phone == PHONE_NOT_GIVEN
    assert contact.emergency.whereabouts == WHEREABOUTS_NOT_KNOWN
    # the consultant reads the answers as answers on the full record
    consultant_chat = teams_channel.personal(CONSULTANT)
    record = (await teams_channel.say(consultant_chat, CONSULTANT, "find CT-26-000001")).cards[-1]
    assert "Withheld or not given" in texts_of(record) and "Not known" in texts_of(record)


async def test_a_number_abroad_in_international_form_is_taken_as_typed(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    chat = teams_channel.personal(OFFICER)
    await _to_emergency_card(teams_channel, chat)
    typed = {
        "emergency_child": "Girl, about 6",
        "emergency_whereabouts": "Example Primary School office",
        "emergency_phone": "+33 6 12 34 56 78",
    }
    await press(teams_channel, chat, OFFICER, NEXT, typed)
    assert len(_urgent_posts(teams_channel)) == 1
    assert (await only_contact(bot)).emergency.phone == "+33 6 12 34 56 78"


async def test_a_blank_without_its_tick_is_refused_naming_the_field_and_nothing_is_created(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    chat = teams_channel.personal(OFFICER)
    await _to_emergency_card(teams_channel, chat)
    # each case says every input, since the card shown again keeps what was typed before
    nothing = {**RANG_OFF, "emergency_whereabouts_unknown": "false", "emergency_phone_withheld": "false"}
    for typed, message in (
        (
            {**nothing, "emergency_whereabouts_unknown": "true"},
            "Referrer's phone: enter their number, or tick Number withheld or not given",
        ),
        (
            {**nothing, "emergency_phone": "0191 498 0000"},
            "Where the child is now: say where the child is, or tick Whereabouts not known",
        ),
        (
            {**RANG_OFF, "emergency_phone_withheld": "false", "emergency_phone": "+44 12"},
            "Referrer's phone: enter a UK phone number, such as 07700 900123, or a number abroad "
            "with + and its country code",
        ),
    ):
        reply = await press(teams_channel, chat, OFFICER, NEXT, typed)
        assert section_of_card(reply.cards[-1]) is Section.EMERGENCY
        assert message in texts_of(reply.cards[-1]) + " ".join(reply.texts), texts_of(reply.cards[-1])
        assert _urgent_posts(teams_channel) == []
        assert (await only_contact(bot)).reference is None


async def test_a_yes_left_in_a_draft_shows_in_the_queue_until_the_contact_is_created(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    the_clock = clock()
    await _ready(start_bot, teams_channel, the_clock)
    chat = teams_channel.personal(OFFICER)
    await _to_emergency_card(teams_channel, chat)  # a yes, then the officer is called away
    consultant_chat = teams_channel.personal(CONSULTANT)

    reply = await teams_channel.say(consultant_chat, CONSULTANT, "queue")

    [card] = reply.cards
    text = texts_of(card)
    assert "Urgent calls not yet created: 1" in text
    assert f"Started by {OFFICER.name}" in text and "Mon 16 Mar 2026 10:00" in text
    assert "Ask them, or phone the referrer" in text
    # a channel may ask for the queue: nothing about the child is on it
    for private in ("Boy", "Girl", "Zebedee", "school"):
        assert private not in text
    # in the decisions channel too
    posted = await teams_channel.say(decisions_channel(teams_channel), CONSULTANT, "queue")
    assert "Urgent calls not yet created: 1" in texts_of(posted.cards[-1])

    # a day on, a call still left in a draft (dropped, never cancelled) is counted, no longer named
    started = the_clock.now()
    the_clock.set(started + timedelta(days=1, minutes=1))
    text = texts_of((await teams_channel.say(consultant_chat, CONSULTANT, "queue")).cards[-1])
    assert "Urgent calls not yet created: 1" in text and "Started by" not in text
    assert (
        "1 started more than a day ago, the oldest started Mon 16 Mar 2026 10:00: ask the officers to "
        "finish or cancel them." in text
    )
    the_clock.set(started)

    # once the emergency details are saved, it is a contact in the queue like any other
    await press(teams_channel, chat, OFFICER, NEXT, RANG_OFF)
    text = texts_of((await teams_channel.say(consultant_chat, CONSULTANT, "queue")).cards[-1])
    assert "Urgent calls not yet created" not in text and "CT-26-000001" in text
