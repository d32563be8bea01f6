"""What submission does, end to end: the decision card and its data minimisation, the urgent
contact's @mentions, open cases, re-referrals, the repeat flag, a missing decisions
channel, back-dating, and the full record through View and ``find``."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import timedelta
from typing import Any

import pytest

import bot.dialogs.intake.records as intake_records
from bot.cards.decision import VIEW_VERB
from bot.cards.intake import SUBMIT
from bot.logs import JsonFormatter
from frontdoor.contact import ContactState
from frontdoor.records import ConversationKind
from frontdoor.roles import Role
from frontdoor.script import Section
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    CHILD_NAME,
    CONSULTANT,
    CONSULTANT_2,
    DECISIONS_CHANNEL,
    DUTY_MANAGER,
    MONDAY_10AM,
    NEVER_IN_A_CHANNEL,
    OFFICER,
    PROFESSIONAL,
    REFERRER_NAME,
    SOCIAL_WORKER,
    audit,
    clock,
    decisions_channel,
    duty_channel,
    grant,
    introduce,
    only_contact,
    press,
    receipt_reference,
    register_channels,
    script,
    staff,
    start,
    submit,
    texts_of,
    walk,
)
from tests.harness.teams import Conversation, SentActivity, TeamsChannel


def assert_minimised(posts: list[SentActivity]) -> None:
    assert posts
    for post in posts:
        text = texts_of(post.body or {})
        for secret in NEVER_IN_A_CHANNEL:
            assert secret not in text, secret


def _posts(channel: TeamsChannel, conversation: Conversation) -> list[SentActivity]:
    return [post for post in channel.sent_to(conversation) if post.card is not None]


def _records(channel: TeamsChannel, chat: Conversation) -> list[SentActivity]:
    """Cards about the contact sent to a personal chat (not the greeting)."""
    return [post for post in channel.sent_to(chat) if post.card and "CT-26-000001" in texts_of(post.card)]


def _facts(card: dict[str, Any]) -> dict[str, str]:
    return {
        fact["title"]: fact["value"]
        for item in card["body"]
        if item["type"] == "FactSet"
        for fact in item["facts"]
    }


async def _ready(start_bot: StartBot, teams_channel: TeamsChannel, **channels: bool) -> RunningBot:
    bot = await start_bot(clock=clock())
    await staff(bot)
    await register_channels(teams_channel, **channels)
    return bot


async def test_the_decision_card_shows_only_what_a_channel_may(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await _ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    [post] = _posts(teams_channel, decisions_channel(teams_channel))
    assert post.card is not None
    facts = _facts(post.card)
    assert facts["Children"] == "Z.T. (6 years)"
    assert facts["Presenting needs"] == "Neglect, Domestic abuse"
    assert facts["Urgency"] == "Not urgent"
    assert facts["Screening decision due"] == "Tue 17 Mar 2026 10:00 (due in 1 day)"
    assert "RAG: Green" in texts_of(post.card)
    assert "Repeat contact" not in facts
    assert_minimised([post])


# The urgent path itself (three cards to the consultant on duty, the same contact completed after)
# is tests/bot/test_urgent_path.py.


async def test_an_urgent_contact_mentions_every_consultant_when_nobody_is_on_the_rota(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    # a consultant who has spoken to the bot is @mentioned by their Teams name
    await teams_channel.say(teams_channel.personal(CONSULTANT), CONSULTANT, "help")
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, script(risk={"risk_injury": "yes"}))
    [post] = _posts(teams_channel, decisions_channel(teams_channel))
    mentioned = {m.id: m.text for m in post.mentions}
    assert mentioned == {
        CONSULTANT.aad_object_id: f"<at>{CONSULTANT.name}</at>",
        CONSULTANT_2.aad_object_id: "<at>Consultant on duty</at>",
    }
    assert post.text is not None and f"<at>{CONSULTANT.name}</at>" in post.text
    assert bot is not None


async def test_an_open_case_goes_to_the_allocated_worker_and_closes_here(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    worker_chat = await introduce(teams_channel, SOCIAL_WORKER)
    answers = script(
        source={"contact_type": "open_case_information"},
        history={"open_case": "true", "allocated_worker": SOCIAL_WORKER.aad_object_id},
    )
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    history = await walk(teams_channel, chat, OFFICER, answers, until=Section.HISTORY)
    # the worker is picked from the directory by name
    [picker] = [i for i in history["body"] if i.get("id") == "allocated_worker"]
    assert {c["value"] for c in picker["choices"]} >= {SOCIAL_WORKER.aad_object_id, CONSULTANT.aad_object_id}
    await walk(teams_channel, chat, OFFICER, answers)
    reply = await press(teams_channel, chat, OFFICER, SUBMIT)

    [sent] = _records(teams_channel, worker_chat)
    assert sent.card is not None
    worker_card = texts_of(sent.card)
    assert "CT-26-000001" in worker_card and CHILD_NAME in worker_card  # the full record, privately
    assert "case is open to you" in worker_card
    assert _posts(teams_channel, decisions_channel(teams_channel)) == []
    contact = await only_contact(bot)
    assert contact.state is ContactState.PASSED_ON
    assert contact.assignee_id == SOCIAL_WORKER.aad_object_id
    assert "personal chat" in texts_of(reply.cards[-1])
    events = [(e.action, e.detail) for e in await audit(bot) if e.action == "contact.passed_to_worker"]
    detail = f"worker={SOCIAL_WORKER.aad_object_id}; via=personal_chat; activity={sent.activity_id}"
    assert events == [("contact.passed_to_worker", detail)]


async def test_an_open_case_goes_to_the_decisions_channel_when_the_worker_has_no_chat_with_the_bot(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    answers = script(history={"open_case": "true", "allocated_worker": SOCIAL_WORKER.aad_object_id})
    reply = await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, answers)
    [post] = _posts(teams_channel, decisions_channel(teams_channel))
    assert [m.id for m in post.mentions] == [SOCIAL_WORKER.aad_object_id]
    assert post.card is not None
    assert "Significant information on an open case" in texts_of(post.card)
    assert_minimised([post])
    assert "posted to the decisions channel with an @mention" in texts_of(reply.cards[-1])
    assert (await only_contact(bot)).state is ContactState.PASSED_ON


async def test_a_re_referral_goes_to_the_duty_channel(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    answers = script(history={"closed_on": "2026-02-02", "last_worker": SOCIAL_WORKER.aad_object_id})
    reply = await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, answers)
    [post] = _posts(teams_channel, duty_channel(teams_channel))
    assert post.card is not None
    assert "Re-referral for the duty manager" in texts_of(post.card)
    assert_minimised([post])
    assert _posts(teams_channel, decisions_channel(teams_channel)) == []
    assert (await only_contact(bot)).state is ContactState.DUTY_MANAGER_REVIEW
    assert "Posted to the duty channel" in texts_of(reply.cards[-1])


async def test_a_second_contact_about_the_same_child_is_flagged_as_a_repeat(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await _ready(start_bot, teams_channel)
    chat = teams_channel.personal(OFFICER)
    await submit(teams_channel, chat, OFFICER)
    # the same child, the name typed differently
    reply = await submit(
        teams_channel, chat, OFFICER, script(children={"child_0_name": "zebedee  TESTCHILD"})
    )
    assert receipt_reference(reply) == "CT-26-000002"
    first, second = _posts(teams_channel, decisions_channel(teams_channel))
    assert first.card is not None and second.card is not None
    assert "Repeat contact" not in _facts(first.card)
    assert _facts(second.card)["Repeat contact"] == "Yes, within 12 months"
    # the earlier reference on a line of its own across the card, never cut at a hyphen in a column
    texts = [node["text"] for node in second.card["body"] if node["type"] == "TextBlock"]
    assert texts[texts.index("Earlier contacts (12 months):") + 1] == "CT-26-000001"


async def test_an_anonymous_member_of_the_public_is_never_named_on_a_channel_card(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await _ready(start_bot, teams_channel)
    anonymous = script(
        source={"source": "member_of_public"},
        referrer={
            "referrer_type": "member_of_public",
            "referrer_name": "A Neighbour",
            "referrer_agency": "",
            "anonymity_requested": "true",
        },
        risk={"risk_unsafe_adult": "yes"},
    )
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, anonymous)
    await submit(
        teams_channel,
        teams_channel.personal(OFFICER),
        OFFICER,
        script(
            referrer=anonymous[Section.REFERRER],
            history={"closed_on": "2026-02-02"},
        ),
    )
    posts = _posts(teams_channel, decisions_channel(teams_channel)) + _posts(
        teams_channel, duty_channel(teams_channel)
    )
    assert len(posts) == 2
    assert_minimised(posts)
    assert all("Neighbour" not in (post.text or "") for post in posts)


async def test_without_a_decisions_channel_the_contact_is_submitted_and_the_officer_told(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel, decisions=False)
    reply = await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    assert receipt_reference(reply) == "CT-26-000001"
    assert "No decisions channel is set" in texts_of(reply.cards[-1])
    assert (await only_contact(bot)).state is ContactState.AWAITING_SCREENING
    assert [e.detail for e in await audit(bot) if e.action == "contact.not_posted"] == [
        "purpose=decisions; reason=no_channel"
    ]


async def test_a_back_dated_contact_starts_its_clock_when_the_call_came_in(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel, duty=False)
    answers = script(source={"received_date": "2026-03-16", "received_time": "08:40"})
    reply = await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, answers)
    receipt = texts_of(reply.cards[-1])
    assert "Mon 16 Mar 2026 08:40" in receipt and "Tue 17 Mar 2026 08:40" in receipt
    contact = await only_contact(bot)
    assert contact.received_at == MONDAY_10AM - timedelta(minutes=80)


async def test_view_sends_the_full_record_to_the_viewers_personal_chat(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel, duty=False)
    consultant_chat = await introduce(teams_channel, CONSULTANT)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    decisions = decisions_channel(teams_channel)
    [post] = _posts(teams_channel, decisions)

    response = await teams_channel.execute(
        decisions, CONSULTANT, VIEW_VERB, {"reference": "CT-26-000001"}, card_activity_id=post.activity_id
    )

    assert response.status == 200 and response.invoke_status == 200
    assert "sent the full record of CT-26-000001 to your personal chat" in response.json["value"]
    [record] = _records(teams_channel, consultant_chat)
    assert record.card is not None
    text = texts_of(record.card)
    assert CHILD_NAME in text and REFERRER_NAME in text and "Awaiting screening" in text
    assert_minimised(_posts(teams_channel, decisions))
    assert [e.actor_id for e in await audit(bot) if e.action == "contact.viewed"] == [
        CONSULTANT.aad_object_id
    ]


async def test_view_opens_a_personal_chat_for_someone_without_one(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await _ready(start_bot, teams_channel, duty=False)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    decisions = decisions_channel(teams_channel)
    response = await teams_channel.execute(decisions, CONSULTANT_2, VIEW_VERB, {"reference": "CT-26-000001"})
    assert "your personal chat" in response.json["value"]
    chat = teams_channel.personal(CONSULTANT_2)
    [record] = _records(teams_channel, chat)
    assert record.card is not None and CHILD_NAME in texts_of(record.card)


@pytest.mark.parametrize("roles", [(), (Role.ADMIN,)])
async def test_view_is_refused_to_roles_that_may_not_see_contacts(
    start_bot: StartBot, teams_channel: TeamsChannel, roles: tuple[Role, ...]
) -> None:
    bot = await _ready(start_bot, teams_channel, duty=False)
    await grant(bot, PROFESSIONAL, *roles)
    viewer_chat = await introduce(teams_channel, PROFESSIONAL)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    decisions = decisions_channel(teams_channel)
    response = await teams_channel.execute(decisions, PROFESSIONAL, VIEW_VERB, {"reference": "CT-26-000001"})
    assert response.json["value"].startswith("Sorry, only")
    assert _records(teams_channel, viewer_chat) == []
    [refused] = [e for e in await audit(bot) if e.action.endswith("refused")]
    assert (refused.action, refused.subject) == ("access.refused", "CT-26-000001")
    assert refused.detail == "verb=contact.view; place=decisions_channel; reason=not_permitted"


@pytest.mark.parametrize("reference", ["CT-26-999999", "not a reference", "PC-26-00001", 7])
async def test_view_of_an_unknown_or_forged_reference_is_answered(
    start_bot: StartBot, teams_channel: TeamsChannel, reference: object
) -> None:
    await _ready(start_bot, teams_channel, duty=False)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    response = await teams_channel.execute(
        decisions_channel(teams_channel), CONSULTANT, VIEW_VERB, {"reference": reference}
    )
    assert response.status == 200
    assert response.json["value"] in ("This card could not be read.", "I could not find CT-26-999999.")


async def test_find_shows_the_full_record_to_staff_and_refuses_others(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel, duty=False)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    reply = await teams_channel.say(teams_channel.personal(DUTY_MANAGER), DUTY_MANAGER, "find CT-26-000001")
    [card] = reply.cards
    assert CHILD_NAME in texts_of(card) and "CT-26-000001" in texts_of(card)
    reply = await teams_channel.say(teams_channel.personal(DUTY_MANAGER), DUTY_MANAGER, "find CT-26-000002")
    assert reply.texts == ["No contact has the reference CT-26-000002."]
    reply = await teams_channel.say(teams_channel.personal(PROFESSIONAL), PROFESSIONAL, "find CT-26-000001")
    assert reply.cards == [] and reply.texts[0].startswith("Sorry, only")
    async with bot.store.unit_of_work() as uow:
        record = await uow.conversations.personal_chat_of(DUTY_MANAGER.aad_object_id)
    assert record is not None and record.kind is ConversationKind.PERSONAL


async def test_a_whole_journey_leaves_no_name_or_free_text_in_the_logs(
    start_bot: StartBot, teams_channel: TeamsChannel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        await _ready(start_bot, teams_channel)
        await introduce(teams_channel, CONSULTANT)
        chat = teams_channel.personal(OFFICER)
        await start(teams_channel, chat, OFFICER)
        await walk(teams_channel, chat, OFFICER, until=Section.CHILDREN)
        await press(
            teams_channel,
            chat,
            OFFICER,
            "intake.next",
            {"child_0_name": CHILD_NAME, "child_0_dob": "2030-01-01"},
        )
        await teams_channel.say(chat, OFFICER, f"the child is {CHILD_NAME}")
        await walk(teams_channel, chat, OFFICER, script(risk={"risk_injury": "yes"}))
        await press(teams_channel, chat, OFFICER, SUBMIT)
        await teams_channel.execute(
            decisions_channel(teams_channel), CONSULTANT, VIEW_VERB, {"reference": "CT-26-000001"}
        )
    finally:
        logging.getLogger().removeHandler(handler)
    logged = stream.getvalue()
    assert "CT-26-000001" in logged  # references are logged...
    for secret in (*NEVER_IN_A_CHANNEL, OFFICER.name, CONSULTANT.name):
        assert secret not in logged, secret  # ...names and free text never


@pytest.mark.parametrize(("status", "dead"), [(403, True), (429, False), (500, False)])
async def test_when_teams_refuses_the_decision_card_the_contact_is_kept_and_the_officer_told(
    start_bot: StartBot, teams_channel: TeamsChannel, status: int, dead: bool
) -> None:
    bot = await _ready(start_bot, teams_channel, duty=False)
    teams_channel.fail_next(DECISIONS_CHANNEL, status)
    reply = await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    assert receipt_reference(reply) == "CT-26-000001"
    assert "I could not post to the decisions channel" in texts_of(reply.cards[-1])
    assert (await only_contact(bot)).state is ContactState.AWAITING_SCREENING
    [failure] = [e.detail for e in await audit(bot) if e.action == "contact.post_failed"]
    assert failure.startswith(f"purpose=decisions; conversation={DECISIONS_CHANNEL}; code=")
    async with bot.store.unit_of_work() as uow:
        record = await uow.conversations.get(DECISIONS_CHANNEL)
    assert record is not None and record.dead is dead


async def test_view_answers_teams_in_time_and_sends_the_record_after(
    start_bot: StartBot, teams_channel: TeamsChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await _ready(start_bot, teams_channel, duty=False)
    chat = await introduce(teams_channel, CONSULTANT)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    monkeypatch.setattr(intake_records, "INVOKE_BUDGET_SECONDS", 0.0)  # as if the send were slow
    response = await teams_channel.execute(
        decisions_channel(teams_channel), CONSULTANT, VIEW_VERB, {"reference": "CT-26-000001"}
    )
    assert response.json["value"] == "I am sending the full record of CT-26-000001 to your personal chat."
    for _ in range(100):  # the record, then its audit row, arrive after the answer
        viewed = [e.actor_id for e in await audit(bot) if e.action == "contact.viewed"]
        if viewed:
            break
        await asyncio.sleep(0.02)
    assert viewed == [CONSULTANT.aad_object_id]
    [record] = _records(teams_channel, chat)
    assert record.card is not None and CHILD_NAME in texts_of(record.card)
