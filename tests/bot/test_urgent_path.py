"""The urgent path of SPEC §3 through the Teams endpoint: immediate risk first, the urgent contact
created from three cards with the consultant on duty @mentioned, the officer completing the same
contact (its channel card updated in place), history checks outstanding until recorded, the
allocated worker of an open case told at once, and an urgent re-referral shown to the duty
manager."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.cards.intake import HISTORY_OPEN, HISTORY_SAVE, NEXT, SUBMIT
from frontdoor.contact import ContactState
from frontdoor.installation import SYSTEM_ACTOR
from frontdoor.records import ClockKind
from frontdoor.roles import Role
from frontdoor.script import Section
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.decision_helpers import _decide, _posted, _route_data, _view
from tests.bot.intake_script import (
    ALL_NO,
    CHILD_NAME,
    CONSULTANT,
    CONSULTANT_2,
    DUTY_MANAGER,
    EMERGENCY,
    MONDAY_10AM,
    OFFICER,
    ROUTINE,
    SOCIAL_WORKER,
    action,
    audit,
    clock,
    decisions_channel,
    duty_channel,
    inputs,
    introduce,
    on_rota,
    only_contact,
    press,
    receipt_reference,
    register_channels,
    script,
    section_of_card,
    staff,
    start,
    step_of,
    texts_of,
    walk,
)
from tests.harness.teams import Conversation, SentActivity, TeamsChannel

#: The injured child: a school rings about a bruise and a disclosure.
INJURED = {**ALL_NO, "risk_injury": "yes"}
#: Nothing typed on any card reaches a channel.
PRIVATE = (CHILD_NAME, "Zebedee", "Example Primary School office", "0191 498 0000", "+441914980000")


async def _ready(start_bot: StartBot, teams_channel: TeamsChannel) -> RunningBot:
    bot = await start_bot(clock=clock())
    await staff(bot)
    await register_channels(teams_channel)
    return bot


def _posts(teams_channel: TeamsChannel, conversation: Conversation) -> list[SentActivity]:
    return [post for post in teams_channel.sent_to(conversation) if post.card is not None]


def _facts(card: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in card["body"]:
        if item["type"] == "FactSet":
            found |= {fact["title"]: fact["value"] for fact in item["facts"]}
    return found


async def _created(teams_channel: TeamsChannel, chat: Conversation, risk: dict[str, object]) -> int:
    """The officer's first three cards of an urgent call; returns how many cards were submitted."""
    await start(teams_channel, chat, OFFICER)
    submissions = 0
    for section, typed in (
        (Section.SOURCE, ROUTINE[Section.SOURCE]),
        (Section.RISK, risk),
        (Section.EMERGENCY, EMERGENCY),
    ):
        assert section_of_card(teams_channel.last_card(chat)) is section
        await press(teams_channel, chat, OFFICER, NEXT, typed)
        submissions += 1
    return submissions


async def test_the_injured_child_call_reaches_the_consultant_on_duty_in_three_cards_then_is_completed(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await on_rota(bot, CONSULTANT_2, Role.CONSULTANT)
    decisions = decisions_channel(teams_channel)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    # immediate risk is the second card, straight after source and contact type
    reply = await press(teams_channel, chat, OFFICER, NEXT, ROUTINE[Section.SOURCE])
    assert section_of_card(reply.cards[-1]) is Section.RISK
    assert step_of(reply.cards[-1]).startswith("Step 2 of 8")
    reply = await press(teams_channel, chat, OFFICER, NEXT, INJURED)
    emergency_card = reply.cards[-1]
    assert section_of_card(emergency_card) is Section.EMERGENCY
    assert step_of(emergency_card).startswith("Step 3 of 9")
    assert _posts(teams_channel, decisions) == []  # nothing yet: two cards submitted

    reply = await press(teams_channel, chat, OFFICER, NEXT, EMERGENCY)  # the third card

    # the consultant on duty has it: the URGENT card, @mentioned, with the 2-hour clock
    [post] = _posts(teams_channel, decisions)
    assert [(m.id, m.text) for m in post.mentions] == [
        (CONSULTANT_2.aad_object_id, "<at>Consultant on duty</at>")
    ]
    assert post.text is not None and post.text.startswith(
        "<at>Consultant on duty</at> Urgent contact CT-26-000001"
    )
    assert post.card is not None
    assert "URGENT: immediate risk" in texts_of(post.card) and "CT-26-000001" in texts_of(post.card)
    facts = _facts(post.card)
    assert facts["Urgency"] == "Urgent"
    assert facts["Child-protection decision due"] == "Mon 16 Mar 2026 12:00 (due in 2 h)"
    assert "History checks: outstanding." in texts_of(post.card)
    # the officer has the reference at once, then the next card of the same contact
    receipt = next(card for card in reply.cards if "Urgent contact created" in texts_of(card))
    assert receipt_reference(reply) == "CT-26-000001"
    assert "The consultant on duty was @mentioned there." in texts_of(receipt)
    assert section_of_card(reply.cards[-1]) is Section.REFERRER
    assert "CT-26-000001 is with the consultant on duty" in texts_of(reply.cards[-1])
    assert "Cancel" not in [a.get("title") for a in reply.cards[-1]["actions"]]
    async with bot.store.unit_of_work() as uow:
        clocks = {d.clock: d for d in await uow.deadlines.for_subject("CT-26-000001")}
    assert clocks[ClockKind.CP_DECISION].started_at == MONDAY_10AM
    assert clocks[ClockKind.CP_DECISION].due_at == MONDAY_10AM + timedelta(hours=2)
    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SCREENING and contact.completing
    assert contact.emergency.phone == "0191 498 0000"

    # the officer carries on with the same contact; each saved card updates the channel card
    answers = script(risk=INJURED)
    seen_updates = len(teams_channel.updates_to(decisions))
    for section in (Section.REFERRER, Section.CHILDREN, Section.PARENTS, Section.WORRIES, Section.HISTORY):
        reply = await press(teams_channel, chat, OFFICER, NEXT, answers[section])
        updates = teams_channel.updates_to(decisions)
        assert len(updates) == seen_updates + 1, section
        seen_updates = len(updates)
        assert updates[-1].activity_id == post.activity_id  # in place: the same message
    updated = teams_channel.updates_to(decisions)[-1].card
    assert updated is not None
    assert "Z.T." in texts_of(updated)  # the child's initials, now recorded
    assert _facts(updated)["Presenting needs"] == "Neglect, Domestic abuse"
    assert "History checks: outstanding." not in texts_of(updated)
    assert section_of_card(reply.cards[-1]) is Section.SUMMARY
    reply = await press(teams_channel, chat, OFFICER, SUBMIT)
    assert "Urgent contact finished" in texts_of(reply.cards[-1])
    assert "Where it is now: Awaiting screening." in texts_of(reply.cards[-1])
    assert receipt_reference(reply) == "CT-26-000001"

    contact = await only_contact(bot)  # still one contact, one reference
    assert contact.reference == "CT-26-000001" and not contact.completing
    assert contact.children[0].name == CHILD_NAME and contact.history.recorded
    assert len(_posts(teams_channel, decisions)) == 1
    channel_text = [texts_of(u.card or {}) for u in teams_channel.updates_to(decisions)]
    for secret in PRIVATE:
        assert all(secret not in text for text in [*channel_text, texts_of(post.card)]), secret
    assert [e.action for e in await audit(bot) if e.subject == "CT-26-000001"].count("contact.completed") == 1


async def test_history_checks_left_outstanding_are_recorded_afterwards_by_a_consultant(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    decisions = decisions_channel(teams_channel)
    chat = teams_channel.personal(OFFICER)
    await _created(teams_channel, chat, INJURED)
    answers = script(risk=INJURED, history={"systems_checked": "", "chronology": ""})
    await walk(teams_channel, chat, OFFICER, answers)  # the history card left blank
    reply = await press(teams_channel, chat, OFFICER, SUBMIT)
    assert "History checks: outstanding" in texts_of(reply.cards[-1])
    contact = await only_contact(bot)
    assert not contact.history.recorded and not contact.completing
    assert "History checks: outstanding." in texts_of(teams_channel.updates_to(decisions)[-1].card or {})

    # a social worker may view it but not record the checks
    worker_chat = teams_channel.personal(SOCIAL_WORKER)
    reply = await teams_channel.say(worker_chat, SOCIAL_WORKER, "find CT-26-000001")
    assert "History checks: outstanding" in texts_of(reply.cards[-1])
    assert "Record history checks" not in texts_of(reply.cards[-1])
    refused = await teams_channel.submit(
        worker_chat,
        SOCIAL_WORKER,
        {"fd": HISTORY_SAVE, "reference": "CT-26-000001", "version": contact.version},
    )
    assert refused.texts and "Sorry" in refused.texts[-1]

    # the consultant finds it, presses "Record history checks" and saves them
    consultant_chat = teams_channel.personal(CONSULTANT)
    reply = await teams_channel.say(consultant_chat, CONSULTANT, "find CT-26-000001")
    record = reply.cards[-1]
    assert action(record, HISTORY_OPEN)["title"] == "Record history checks"
    reply = await press(teams_channel, consultant_chat, CONSULTANT, HISTORY_OPEN, card=record)
    form = reply.cards[-1]
    assert "Record the history checks: CT-26-000001" in texts_of(form)
    reply = await press(teams_channel, consultant_chat, CONSULTANT, HISTORY_SAVE, {"chronology": "Known"})
    assert "Checks done: this is required" in " ".join(reply.texts)  # nothing chosen: refused
    assert not (await only_contact(bot)).history.recorded
    before = len(teams_channel.updates_to(decisions))
    reply = await press(
        teams_channel,
        consultant_chat,
        CONSULTANT,
        HISTORY_SAVE,
        {"systems_checked": "social_care,police", "chronology": "Known to police"},
    )
    assert "Saved." in " ".join(reply.texts)
    contact = await only_contact(bot)
    assert contact.history.recorded and contact.history.systems_checked == ("social_care", "police")
    assert len(teams_channel.updates_to(decisions)) == before + 1
    assert "History checks: outstanding." not in texts_of(teams_channel.updates_to(decisions)[-1].card or {})
    [recorded] = [e for e in await audit(bot) if e.action == "contact.history_recorded"]
    assert (recorded.actor_id, recorded.subject) == (CONSULTANT.aad_object_id, "CT-26-000001")
    assert "Known to police" not in recorded.detail
    # recorded once: the button is gone and a second save is refused
    reply = await teams_channel.say(consultant_chat, CONSULTANT, "find CT-26-000001")
    assert "Record history checks" not in texts_of(reply.cards[-1])
    again = await teams_channel.submit(
        consultant_chat,
        CONSULTANT,
        {
            "fd": HISTORY_SAVE,
            "reference": "CT-26-000001",
            "version": contact.version,
            "systems_checked": "police",
        },
    )
    assert "recorded already" in " ".join(again.texts)


async def test_an_urgent_contact_on_an_open_case_tells_the_allocated_worker_at_once(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    worker_chat = await introduce(teams_channel, SOCIAL_WORKER)
    chat = teams_channel.personal(OFFICER)
    await _created(teams_channel, chat, INJURED)
    answers = script(
        risk=INJURED, history={"open_case": "true", "allocated_worker": SOCIAL_WORKER.aad_object_id}
    )
    await walk(teams_channel, chat, OFFICER, answers, until=Section.HISTORY)
    assert [
        p for p in teams_channel.sent_to(worker_chat) if p.card and "CT-26-000001" in texts_of(p.card)
    ] == []
    await press(teams_channel, chat, OFFICER, NEXT, answers[Section.HISTORY])  # the history card saved

    [told] = [p for p in teams_channel.sent_to(worker_chat) if p.card and "CT-26-000001" in texts_of(p.card)]
    assert told.card is not None
    assert "Urgent: an immediate risk about a child whose case is open to you" in texts_of(told.card)
    assert CHILD_NAME in texts_of(told.card)  # the full record, privately
    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SCREENING  # urgent: still screened by the consultant
    [passed] = [e for e in await audit(bot) if e.action == "contact.passed_to_worker"]
    assert passed.detail.startswith(f"worker={SOCIAL_WORKER.aad_object_id}; via=personal_chat")


async def test_an_urgent_re_referral_stays_with_the_consultant_and_is_shown_to_the_duty_manager(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    chat = teams_channel.personal(OFFICER)
    await _created(teams_channel, chat, INJURED)
    answers = script(
        risk=INJURED, history={"closed_on": "2026-01-20", "last_worker": SOCIAL_WORKER.aad_object_id}
    )
    await walk(teams_channel, chat, OFFICER, answers, until=Section.SUMMARY)

    [shown] = _posts(teams_channel, duty_channel(teams_channel))
    assert shown.card is not None and "CT-26-000001" in texts_of(shown.card)
    assert "Urgent re-referral: the consultant on duty is screening it now" in texts_of(shown.card)
    assert "URGENT: immediate risk" in texts_of(shown.card)
    for secret in PRIVATE:
        assert secret not in texts_of(shown.card)
    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SCREENING
    assert [e.action for e in await audit(bot)].count("contact.shown_to_duty") == 1
    assert DUTY_MANAGER.aad_object_id  # the duty channel's members include the duty manager


async def test_the_consultant_decides_while_the_officer_is_still_completing_the_contact(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await introduce(teams_channel, CONSULTANT)
    decisions = decisions_channel(teams_channel)
    chat = teams_channel.personal(OFFICER)
    await _created(teams_channel, chat, INJURED)
    activity_id, card = _posted(teams_channel)
    early_view = await _view(teams_channel, CONSULTANT, card, activity_id)
    answers = script(risk=INJURED)
    await press(teams_channel, chat, OFFICER, NEXT, answers[Section.REFERRER])  # the officer carries on

    # the consultant's view from before that save is out of date: told so, nothing changed
    stale = await _decide(
        teams_channel, CONSULTANT, _route_data(early_view, "i"), activity_id, rationale="Injury"
    )
    assert stale.card is not None and "updated by the officer completing it" in texts_of(stale.card)
    assert (await only_contact(bot)).state is ContactState.AWAITING_SCREENING
    view = await _view(
        teams_channel, CONSULTANT, teams_channel.updates_to(decisions)[-1].card or card, activity_id
    )
    decided = await _decide(
        teams_channel, CONSULTANT, _route_data(view, "i"), activity_id, rationale="Injury"
    )
    assert decided.card is not None and "Decided: route I" in texts_of(decided.card)
    assert (await only_contact(bot)).state is ContactState.CP_DECISION

    # the officer's children card was drawn before the decision: refused, shown again, then saved
    reply = await press(teams_channel, chat, OFFICER, NEXT, answers[Section.CHILDREN])
    assert any("CT-26-000001 changed while this card was open" in text for text in reply.texts)
    assert section_of_card(reply.cards[-1]) is Section.CHILDREN
    reply = await press(teams_channel, chat, OFFICER, NEXT, answers[Section.CHILDREN])
    assert section_of_card(reply.cards[-1]) is Section.PARENTS
    contact = await only_contact(bot)
    assert contact.state is ContactState.CP_DECISION and contact.children[0].name == CHILD_NAME
    assert "Z.T." in texts_of(teams_channel.updates_to(decisions)[-1].card or {})


async def test_a_channel_that_names_no_message_for_the_urgent_post_still_sees_the_card_redrawn(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    # Microsoft 365 Agents Playground shows a post's text and its card as two messages and answers
    # 202 with no id, so the @mentioned urgent post's message cannot be updated by id.
    bot = await _ready(start_bot, teams_channel)
    await on_rota(bot, CONSULTANT_2, Role.CONSULTANT)
    decisions = decisions_channel(teams_channel)
    chat = teams_channel.personal(OFFICER)
    teams_channel.split_text_and_cards()
    await _created(teams_channel, chat, INJURED)
    [first] = _posts(teams_channel, decisions)
    assert first.text is None  # the @mention line went as a message of its own
    [posted] = [e for e in await audit(bot) if e.action == "contact.posted"]
    assert "activity=" not in posted.detail  # no empty id recorded
    assert posted.actor_id == OFFICER.aad_object_id

    # the officer's next card redraws the channel card: posted afresh, and that post is recorded
    answers = script(risk=INJURED)
    await press(teams_channel, chat, OFFICER, NEXT, answers[Section.REFERRER])
    first_again, second = _posts(teams_channel, decisions)
    assert first_again.activity_id == first.activity_id
    assert second.text is None and second.card is not None and not second.mentions
    assert "CT-26-000001" in texts_of(second.card) and "URGENT: immediate risk" in texts_of(second.card)
    assert teams_channel.updates_to(decisions) == []
    again = [e for e in await audit(bot) if e.action == "contact.posted"][-1]
    assert again.actor_id == SYSTEM_ACTOR and again.subject == "CT-26-000001"
    assert f"activity={second.activity_id}" in again.detail and "reason=no_message_id" in again.detail

    # later redraws update that post in place: no third card
    await press(teams_channel, chat, OFFICER, NEXT, answers[Section.CHILDREN])
    assert len(_posts(teams_channel, decisions)) == 2
    [update] = teams_channel.updates_to(decisions)
    assert update.activity_id == second.activity_id
    assert update.card is not None and "Z.T." in texts_of(update.card)


async def test_the_consultant_records_the_history_checks_while_the_officer_has_not_finished(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    """The officer stops after the urgent contact is created (taken ill mid-call): the consultant can
    still record the history checks, and the officer's draft skips its history card afterwards."""
    bot = await _ready(start_bot, teams_channel)
    decisions = decisions_channel(teams_channel)
    chat = teams_channel.personal(OFFICER)
    await _created(teams_channel, chat, INJURED)
    assert (await only_contact(bot)).completing
    activity_id, card = _posted(teams_channel)
    early_view = await _view(teams_channel, CONSULTANT_2, card, activity_id)

    consultant_chat = teams_channel.personal(CONSULTANT)
    reply = await teams_channel.say(consultant_chat, CONSULTANT, "find CT-26-000001")
    record = reply.cards[-1]
    assert action(record, HISTORY_OPEN)["title"] == "Record history checks"
    reply = await press(teams_channel, consultant_chat, CONSULTANT, HISTORY_OPEN, card=record)
    assert "Record the history checks: CT-26-000001" in texts_of(reply.cards[-1])
    reply = await press(
        teams_channel,
        consultant_chat,
        CONSULTANT,
        HISTORY_SAVE,
        {"systems_checked": "social_care,police", "chronology": "Known to police"},
    )
    assert "Saved." in " ".join(reply.texts)
    contact = await only_contact(bot)
    assert contact.completing and contact.history.systems_checked == ("social_care", "police")
    assert "History checks: outstanding." not in texts_of(teams_channel.updates_to(decisions)[-1].card or {})
    [recorded] = [e for e in await audit(bot) if e.action == "contact.history_recorded"]
    assert recorded.actor_id == CONSULTANT.aad_object_id
    # a decision card drawn before the checks were saved is out of date, and says why
    stale = await _decide(
        teams_channel, CONSULTANT_2, _route_data(early_view, "i"), activity_id, rationale="Injury"
    )
    assert stale.card is not None
    assert "history checks were recorded by Cora Consultantperson" in texts_of(stale.card)
    assert (await only_contact(bot)).state is ContactState.AWAITING_SCREENING

    # The officer comes back to the call: the cards after the consultant's save carry on from the
    # referrer's, and the worries card leads straight to the summary.
    answers = script(risk=INJURED)
    # the referrer card was drawn before the consultant's save: refused, and drawn again with what
    # the officer had typed on it (at the contact's new version, so pressing again saves it)
    typed = {**answers[Section.REFERRER], "referrer_agency": "Example Typed Academy"}
    reply = await press(teams_channel, chat, OFFICER, NEXT, typed)
    assert any("CT-26-000001 changed while this card was open" in text for text in reply.texts)
    assert inputs(teams_channel.last_card(chat))["referrer_agency"].get("value") == "Example Typed Academy"
    for section in (Section.REFERRER, Section.CHILDREN, Section.PARENTS, Section.WORRIES):
        assert section_of_card(teams_channel.last_card(chat)) is section
        await press(teams_channel, chat, OFFICER, NEXT, answers[section])
    assert section_of_card(teams_channel.last_card(chat)) is Section.SUMMARY
    await press(teams_channel, chat, OFFICER, SUBMIT)
    finished = await only_contact(bot)
    assert not finished.completing and finished.history.systems_checked == ("social_care", "police")


async def test_the_consultants_history_checks_survive_the_officer_saving_a_card_meanwhile(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    """The consultant's history card was drawn before the officer saved the referrer's card: the
    save is refused (the contact changed), and the card comes back with what was typed on it."""
    bot = await _ready(start_bot, teams_channel)
    chat = teams_channel.personal(OFFICER)
    await _created(teams_channel, chat, INJURED)
    consultant_chat = teams_channel.personal(CONSULTANT)
    record = (await teams_channel.say(consultant_chat, CONSULTANT, "find CT-26-000001")).cards[-1]
    await press(teams_channel, consultant_chat, CONSULTANT, HISTORY_OPEN, card=record)
    history_card = teams_channel.last_card(consultant_chat)

    await press(teams_channel, chat, OFFICER, NEXT, script(risk=INJURED)[Section.REFERRER])

    typed = {"systems_checked": "social_care,police", "chronology": "Known to police"}
    reply = await press(teams_channel, consultant_chat, CONSULTANT, HISTORY_SAVE, typed, card=history_card)
    assert "CT-26-000001 changed while this card was open" in " ".join(reply.texts)
    redrawn = teams_channel.last_card(consultant_chat)
    assert inputs(redrawn)["chronology"].get("value") == "Known to police"
    assert not (await only_contact(bot)).history.recorded

    reply = await press(teams_channel, consultant_chat, CONSULTANT, HISTORY_SAVE, typed, card=redrawn)
    assert "Saved." in " ".join(reply.texts)
    assert (await only_contact(bot)).history.systems_checked == ("social_care", "police")
