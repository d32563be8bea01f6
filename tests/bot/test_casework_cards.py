"""The work after screening, end to end in Teams: the officer's and the social worker's personal
cards, route I's child-protection decision and outcome with the urgent highlight, sign-off and the
outcome letter, the parent letter's lapse, re-referrals, and the receiving team's challenge. The
loopback Teams channel, the real app over HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app import CALENDAR, SETTINGS
from bot.cards.decisions import SIGN_OFF_VERB
from bot.cards.work_inputs import CHALLENGE_VERB, LETTER_SENT_VERB, OUTCOME_VERB, WORK_VERB
from frontdoor.acting import Rules
from frontdoor.casework import LetterLapsed, lapse_parent_letter
from frontdoor.contact import ContactState
from frontdoor.records import ClockKind, DeadlineState
from frontdoor.usecase import Refusal, RefusalReason
from tests.bot.casework_helpers import (
    OTHER_WORKER,
    RECEIVING_TEAM,
    TEAM_MANAGER,
    _rereferral,
    assert_every_change_audited,
    button,
    card_in,
    channel_message_id,
    channel_view,
    eventually,
    has_button,
    press,
    press_card,
    ready,
    reply_card,
    screen,
)
from tests.bot.conftest import RunningBot
from tests.bot.decision_helpers import RATIONALE, _assert_minimised
from tests.bot.intake_script import (
    CONSULTANT,
    CONSULTANT_2,
    DUTY_MANAGER,
    OFFICER,
    PROFESSIONAL,
    REFERRER_NAME,
    SOCIAL_WORKER,
    audit,
    contacts,
    decisions_channel,
    duty_channel,
    only_contact,
    script,
    submit,
    texts_of,
)
from tests.harness.teams import TeamsChannel, TeamsUser

WORK_RATIONALE = "Early help offer accepted by the family after the home visit"
NOTES = "Spoke to the designated safeguarding lead about attendance"
#: the earlier contact, a TextBlock of its own (its whole text) on the channel card
EARLIER = '"text": "CT-26-000001"'


async def _deadlines(bot: RunningBot, reference: str) -> dict[ClockKind, list[DeadlineState]]:
    async with bot.store.unit_of_work() as uow:
        rows = await uow.deadlines.for_subject(reference)
    found: dict[ClockKind, list[DeadlineState]] = {}
    for row in rows:
        found.setdefault(row.clock, []).append(row.state)
    return found


async def _actions(bot: RunningBot) -> list[str]:
    return [event.action for event in await audit(bot)]


async def _sign_off(
    teams_channel: TeamsChannel,
    bot: RunningBot,
    user: TeamsUser = CONSULTANT_2,
    where: Any = None,
    **inputs: object,
) -> dict[str, Any]:
    """``user`` signs off on the channel card; returns once the outcome letter has gone out."""
    channel = where or decisions_channel(teams_channel)
    view = await channel_view(teams_channel, user, channel)
    response = await press(
        teams_channel,
        channel,
        user,
        view,
        SIGN_OFF_VERB,
        activity_id=channel_message_id(teams_channel, channel),
        **inputs,
    )
    card = reply_card(response)
    reference = button(view, SIGN_OFF_VERB)["reference"]
    [contact] = [c for c in await contacts(bot) if c.reference == reference]
    if any(e.action == "outcome_letter_produced" for e in contact.events):

        async def delivered() -> bool:
            found = {e.action for e in await audit(bot) if e.subject == contact.reference}
            return bool(found & {"contact.letter_delivered", "contact.letter_not_delivered"})

        await eventually(delivered, "the outcome letter's delivery")
    return card


def _nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [found for item in node for found in _nodes(item)]
    if isinstance(node, dict):
        return [node, *(found for value in node.values() for found in _nodes(value))]
    return []


async def _channel_updated(teams_channel: TeamsChannel, needle: str, where: Any = None) -> dict[str, Any]:
    channel = where or decisions_channel(teams_channel)
    found: list[dict[str, Any]] = []

    async def check() -> bool:
        found[:] = [
            u.card for u in teams_channel.updates_to(channel) if u.card and needle in texts_of(u.card)
        ]
        return bool(found)

    await eventually(check, f"the channel card saying {needle!r}")
    return found[-1]


# -- route III ------------------------------------------------------------------------------------


async def test_route_iii_officer_work_outcome_letters_and_sign_off(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    officer_chat = teams_channel.personal(OFFICER)
    await submit(teams_channel, officer_chat, OFFICER)
    decided = await screen(teams_channel, "iii", officer=OFFICER.aad_object_id)
    assert "Decided: route III" in texts_of(reply_card(decided))

    post = await card_in(teams_channel, officer_chat, "Assigned to you for further work")
    card = post.card
    assert card is not None
    assert has_button(card, WORK_VERB, "officer_work") and has_button(card, WORK_VERB, "outcome")
    # An officer never makes a threshold decision: no "accepted" outcome on their card.
    assert "accepted_for_assessment" not in texts_of(card)

    worked = await press_card(
        teams_channel,
        officer_chat,
        OFFICER,
        card,
        WORK_VERB,
        "officer_work",
        post.activity_id,
        work_notes=NOTES,
    )
    assert "Recorded: the further work." in texts_of(worked) and NOTES in texts_of(worked)
    letter = await press_card(
        teams_channel, officer_chat, OFFICER, worked, WORK_VERB, "parents_unreachable", post.activity_id
    )
    assert "Recorded: the letter to the parents." in texts_of(letter)
    assert "a letter advising them of the contact was sent" in texts_of(letter)
    outcome = await press_card(
        teams_channel,
        officer_chat,
        OFFICER,
        letter,
        WORK_VERB,
        "outcome",
        post.activity_id,
        outcome="referral_to_other_agency",
        service_consent="given",
        outcome_rationale=WORK_RATIONALE,
        outcome_agency="early_help",
    )
    text = texts_of(outcome)
    assert "Recorded: the outcome. It now waits for sign-off" in text
    assert "Outcome letter to the referrer (draft)" in text and f"Dear {REFERRER_NAME}" in text
    assert not has_button(outcome, WORK_VERB, "outcome")
    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SIGNOFF and contact.assignee_id is None

    # The decisions card follows the contact: its heading and the outcome, for everyone.
    update = await _channel_updated(teams_channel, "Outcome recorded by Olu Officerperson")
    assert "Contact awaiting sign-off" in texts_of(update) and "Contact awaiting screening" not in texts_of(
        update
    )
    signed = await _sign_off(teams_channel, bot)
    assert "Signed off and closed by Cai Consultantexample" in texts_of(signed)
    assert "Contact closed" in texts_of(signed)

    # The officer, who recorded the outcome, gets the letter to send, and records it as sent.
    letter_post = await card_in(teams_channel, officer_chat, "The outcome letter to the referrer is below")
    assert letter_post.card is not None
    letter_text = texts_of(letter_post.card)
    assert f"Dear {REFERRER_NAME}" in letter_text and "the early help service" in letter_text
    assert WORK_RATIONALE in letter_text  # the rationale is on the record, not in the letter itself
    sent = await press_card(teams_channel, officer_chat, OFFICER, letter_post.card, LETTER_SENT_VERB)
    assert "Recorded as sent at Mon 16 Mar 2026 10:00 by Olu Officerperson" in texts_of(sent)
    assert not has_button(sent, LETTER_SENT_VERB)

    closed = await only_contact(bot)
    assert closed.state is ContactState.CLOSED
    seen = await assert_every_change_audited(bot, closed)
    for action in (
        "contact.route_iii",
        "contact.officer_work_recorded",
        "contact.parent_letter_sent",
        "contact.record_outcome",
        "contact.sign_off",
        "contact.outcome_letter_produced",
        "contact.outcome_letter_sent",
    ):
        assert action in seen, action
    await eventually(lambda: _has(bot, "contact.letter_delivered"), "the letter's delivery audit")
    _assert_minimised(*teams_channel.cards(decisions_channel(teams_channel)))


async def _has(bot: RunningBot, action: str) -> bool:
    return action in await _actions(bot)


# -- route IV, consent, recommendation, the letter as sent by the worker --------------------------


async def test_route_iv_worker_records_contact_consent_and_recommends(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    worker_chat = teams_channel.personal(SOCIAL_WORKER)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await screen(teams_channel, "iv", worker=SOCIAL_WORKER.aad_object_id)
    post = await card_in(teams_channel, worker_chat, "Assigned to you for a social-work assessment")
    card = post.card
    assert card is not None and not has_button(card, WORK_VERB, "officer_work")
    assert "Make the recommendation" in texts_of(card)

    card = await press_card(
        teams_channel, worker_chat, SOCIAL_WORKER, card, WORK_VERB, "referrer_contact", referrer_notes=NOTES
    )
    card = await press_card(
        teams_channel,
        worker_chat,
        SOCIAL_WORKER,
        card,
        WORK_VERB,
        "parent_contact",
        parent_notes="Mother agreed",
    )
    refused = await press_card(
        teams_channel, worker_chat, SOCIAL_WORKER, card, WORK_VERB, "consent", consent="not_sought"
    )
    assert "say why seeking consent would place the child at risk" in texts_of(refused)
    card = await press_card(
        teams_channel, worker_chat, SOCIAL_WORKER, refused, WORK_VERB, "consent", consent="given"
    )
    assert "Recorded: consent given." in texts_of(card)
    card = await press_card(
        teams_channel,
        worker_chat,
        SOCIAL_WORKER,
        card,
        WORK_VERB,
        "outcome",
        outcome="advice_and_guidance",
        service_consent="given",
        outcome_rationale=WORK_RATIONALE,
        # left over from considering acceptance: ignored for advice
        receiving_team=RECEIVING_TEAM,
    )
    assert "Recorded: the recommendation." in texts_of(card)
    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SIGNOFF
    assert [e.action for e in contact.events[-4:]] == [
        "referrer_contacted",
        "parents_contacted",
        "consent_recorded",
        "recommend",
    ]
    await _channel_updated(teams_channel, "Recommendation by Wren Workerperson")
    await _sign_off(teams_channel, bot, CONSULTANT)

    # The worker recorded the outcome, so the letter comes to them, and they may record it sent.
    letter_post = await card_in(teams_channel, worker_chat, "The outcome letter to the referrer is below")
    assert letter_post.card is not None and "Advice and guidance have been given" in texts_of(
        letter_post.card
    )
    sent = await press_card(teams_channel, worker_chat, SOCIAL_WORKER, letter_post.card, LETTER_SENT_VERB)
    assert "Recorded as sent" in texts_of(sent)
    closed = await only_contact(bot)
    assert closed.consent is not None and closed.consent.value == "given"
    seen = await assert_every_change_audited(bot, closed)
    assert (
        seen.index("contact.route_iv")
        < seen.index("contact.referrer_contacted")
        < seen.index("contact.recommend")
    )
    assert (
        seen.index("contact.recommend")
        < seen.index("contact.sign_off")
        < seen.index("contact.outcome_letter_sent")
    )


# -- route IV: parents not reached, the letter lapses, the worker re-applies the threshold --------


async def test_a_parent_letter_lapses_back_to_the_worker_who_re_applies_the_threshold(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, the_clock = await ready(start_bot, teams_channel)
    worker_chat = teams_channel.personal(SOCIAL_WORKER)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await screen(teams_channel, "iv", worker=SOCIAL_WORKER.aad_object_id)
    post = await card_in(teams_channel, worker_chat, "Assigned to you")
    assert post.card is not None
    waiting = await press_card(
        teams_channel, worker_chat, SOCIAL_WORKER, post.card, WORK_VERB, "parents_unreachable"
    )
    text = texts_of(waiting)
    # Monday 10:00 + 3 working days.
    assert "They have until 10:00 on Thu 19 Mar to make contact" in text
    assert "asking them to make contact by Thu 19 Mar 2026 10:00" in text
    contact = await only_contact(bot)
    reference = contact.reference or ""
    assert (await _deadlines(bot, reference))[ClockKind.PARENT_LETTER] == [DeadlineState.OPEN]

    # Not yet lapsed at 09:59 on Thursday; lapsed at 10:01 (the scheduler's job calls this).
    calendar, policy = bot.app[CALENDAR], bot.app[SETTINGS].policy
    the_clock.set(datetime(2026, 3, 19, 9, 59, tzinfo=UTC))
    early = await lapse_parent_letter(
        bot.store.unit_of_work(),
        reference,
        rules=Rules(the_clock.now(), calendar, policy),
    )
    assert isinstance(early, Refusal) and early.reason is RefusalReason.NOT_DUE
    the_clock.set(datetime(2026, 3, 19, 10, 1, tzinfo=UTC))
    lapsed = await lapse_parent_letter(
        bot.store.unit_of_work(),
        reference,
        rules=Rules(the_clock.now(), calendar, policy),
    )
    assert isinstance(lapsed, LetterLapsed) and lapsed.worker_id == SOCIAL_WORKER.aad_object_id
    refreshed = await press_card(teams_channel, worker_chat, SOCIAL_WORKER, waiting, WORK_VERB, "refresh")
    text = texts_of(refreshed)
    assert "The parents did not make contact after the letter" in text
    assert "Review the contact and re-apply the threshold by Fri 20 Mar 2026 10:01" in text
    assert "Review after the parent letter lapsed" in text
    assert has_button(refreshed, WORK_VERB, "outcome")  # still with the worker, in sw_assessment
    back = await only_contact(bot)
    assert (back.state, back.assignee_id) == (ContactState.SW_ASSESSMENT, SOCIAL_WORKER.aad_object_id)

    # Re-applied: progress to referral, with the receiving team and its manager.
    recommended = await press_card(
        teams_channel,
        worker_chat,
        SOCIAL_WORKER,
        refreshed,
        WORK_VERB,
        "outcome",
        outcome="accepted_for_assessment",
        service_consent="given",
        outcome_rationale=WORK_RATIONALE,
        receiving_team=RECEIVING_TEAM,
        strategy_discussion="false",
        receiving_manager=TEAM_MANAGER.aad_object_id,
    )
    assert "Recorded: the recommendation." in texts_of(recommended)
    clocks = await _deadlines(bot, reference)
    # The letter ran out without the parents getting in touch: late, as it is whenever the scheduler
    # runs. The review after the lapse is the worker's own clock (not a screening decision): met.
    assert clocks[ClockKind.PARENT_LETTER] == [DeadlineState.LATE]
    assert clocks[ClockKind.LETTER_REVIEW] == [DeadlineState.MET]
    assert clocks[ClockKind.SCREENING] == [DeadlineState.MET]  # the consultant's screening only
    # The receiving team manager named hears of it only when it is signed off, to challenge today.
    manager = teams_channel.personal(TEAM_MANAGER)
    assert not [p for p in teams_channel.sent_to(manager) if p.card and reference in texts_of(p.card)]
    await _sign_off(teams_channel, bot)
    manager_post = await card_in(
        teams_channel, teams_channel.personal(TEAM_MANAGER), "was accepted for a statutory"
    )
    assert manager_post.card is not None and "URGENT" not in texts_of(manager_post.card)
    closed = await only_contact(bot)
    assert closed.state is ContactState.CLOSED
    seen = await assert_every_change_audited(bot, closed)
    assert seen.index("contact.parent_letter_sent") < seen.index("contact.parent_letter_lapsed")
    assert seen.index("contact.parent_letter_lapsed") < seen.index("contact.recommend")


# -- route I: the child-protection decision, the outcome, the urgent highlight --------------------


@pytest.mark.parametrize("manager_chat", [True, False], ids=["manager_in_chat", "manager_without_chat"])
async def test_route_i_urgent_accepted_is_highlighted_to_the_receiving_team_manager(
    start_bot: Any, teams_channel: TeamsChannel, manager_chat: bool
) -> None:
    bot, _ = await ready(start_bot, teams_channel, manager_chat=manager_chat)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, script(risk={"risk_injury": "yes"}))
    await screen(teams_channel, "i")
    contact = await only_contact(bot)
    reference = contact.reference or ""
    assert contact.state is ContactState.CP_DECISION

    # Officers and social workers see the status only; a consultant sees the two steps.
    for user in (OFFICER, SOCIAL_WORKER):
        status = await channel_view(teams_channel, user)
        assert not has_button(status, OUTCOME_VERB)
    view = await channel_view(teams_channel, CONSULTANT)
    assert "Contact awaiting the child-protection decision" in texts_of(view)
    assert has_button(view, OUTCOME_VERB, "accept") and has_button(view, OUTCOME_VERB, "outcome")
    accepted = await press_card(
        teams_channel,
        decisions_channel(teams_channel),
        CONSULTANT,
        view,
        OUTCOME_VERB,
        "accept",
        channel_message_id(teams_channel),
        cp_rationale=RATIONALE,
    )
    assert "Child-protection decision: progress to referral, by Cora Consultantperson" in texts_of(accepted)
    assert (await only_contact(bot)).state is ContactState.REFERRAL_ACCEPTED
    assert (await _deadlines(bot, reference))[ClockKind.CP_DECISION] == [DeadlineState.MET]
    # Once the decision to progress is made, only "accepted" may follow.
    assert not has_button(accepted, OUTCOME_VERB, "accept")
    assert "no_further_action" not in texts_of(accepted)

    recorded = await press_card(
        teams_channel,
        decisions_channel(teams_channel),
        CONSULTANT,
        accepted,
        OUTCOME_VERB,
        "outcome",
        channel_message_id(teams_channel),
        outcome="accepted_for_assessment",
        service_consent="given",
        outcome_rationale=RATIONALE,
        receiving_team=RECEIVING_TEAM,
        strategy_discussion="true",
        receiving_manager=TEAM_MANAGER.aad_object_id,
    )
    text = texts_of(recorded)
    assert "Outcome: Accepted for a statutory assessment (strategy discussion needed)" in text
    assert RECEIVING_TEAM not in text and RATIONALE not in text  # a channel card: nothing typed
    assert (await only_contact(bot)).state is ContactState.AWAITING_SIGNOFF
    # Nobody outside the front door hears of it before the sign-off.
    manager = teams_channel.personal(TEAM_MANAGER)
    assert not [p for p in teams_channel.sent_to(manager) if p.card and reference in texts_of(p.card)]
    assert "contact.highlighted" not in await _actions(bot)
    # The sign-off card carries the highlight, pre-ticked for an urgent contact.
    signing = await channel_view(teams_channel, CONSULTANT_2)
    tick = [node for node in _nodes(signing) if node.get("id") == "highlight"]
    assert [(t["type"], t["value"]) for t in tick] == [("Input.Toggle", "true")]
    await _sign_off(teams_channel, bot, highlight="true")

    if manager_chat:
        post = await card_in(teams_channel, teams_channel.personal(TEAM_MANAGER), "URGENT")
        assert post.card is not None
        shown = texts_of(post.card)
        assert (
            f"URGENT: {reference} has immediate risk and was accepted for a statutory assessment by" in shown
        )
        assert RECEIVING_TEAM in shown and "Please prioritise the child and family now" in shown
        expected = f"manager={TEAM_MANAGER.aad_object_id}; via=personal_chat"
    else:
        found: list[Any] = []

        async def mentioned() -> bool:
            found[:] = [
                p
                for p in teams_channel.sent_to(decisions_channel(teams_channel))
                if any(m.id == TEAM_MANAGER.aad_object_id for m in p.mentions)
            ]
            return bool(found)

        await eventually(mentioned, "the @mention of the receiving team manager")
        assert "accepted for assessment with immediate risk" in (found[0].text or "")
        _assert_minimised(found[0].card)
        expected = f"manager={TEAM_MANAGER.aad_object_id}; via=decisions_channel"

    async def highlighted() -> bool:
        return any(e.action == "contact.highlighted" and e.detail == expected for e in await audit(bot))

    await eventually(highlighted, "the highlight's audit row")
    closed = await only_contact(bot)
    assert closed.state is ContactState.CLOSED
    seen = await assert_every_change_audited(bot, closed)
    assert (
        seen.index("contact.route_i")
        < seen.index("contact.accept_referral")
        < seen.index("contact.record_outcome")
    )
    _assert_minimised(*teams_channel.cards(decisions_channel(teams_channel)))


async def test_route_i_threshold_not_met_after_all_is_recorded_with_a_rationale_and_signed_off(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await screen(teams_channel, "i")
    view = await channel_view(teams_channel, CONSULTANT_2)
    where, message = decisions_channel(teams_channel), channel_message_id(teams_channel)
    no_reason = await press_card(
        teams_channel,
        where,
        CONSULTANT_2,
        view,
        OUTCOME_VERB,
        "outcome",
        message,
        outcome="no_further_action",
        service_consent="given",
    )
    assert "every outcome needs a rationale" in texts_of(no_reason)
    assert (await only_contact(bot)).state is ContactState.CP_DECISION
    recorded = await press_card(
        teams_channel,
        where,
        CONSULTANT_2,
        no_reason,
        OUTCOME_VERB,
        "outcome",
        message,
        outcome="no_further_action",
        service_consent="given",
        outcome_rationale=RATIONALE,
    )
    assert "Outcome: No further action." in texts_of(recorded)
    # The consultant who recorded the outcome may not sign it off; another consultant may.
    own = await _sign_off(teams_channel, bot, CONSULTANT_2)
    assert "so another consultant or team manager must sign it off" in texts_of(own)
    assert (await only_contact(bot)).state is ContactState.AWAITING_SIGNOFF
    signed = await _sign_off(teams_channel, bot, CONSULTANT)
    assert "Signed off and closed by Cora Consultantperson at" in texts_of(signed)
    closed = await only_contact(bot)
    assert closed.state is ContactState.CLOSED
    await assert_every_change_audited(bot, closed)


# -- the decisions card keeps its heading and repeat line in step ---------------------------------


async def test_the_decided_card_heading_follows_the_state_and_keeps_the_repeat_line(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)  # the same child again
    posted = [p.card for p in teams_channel.sent_to(decisions_channel(teams_channel)) if p.card]
    assert posted[-1] is not None and "Repeat contact" in texts_of(posted[-1])
    assert EARLIER in texts_of(posted[-1])

    decided = reply_card(await screen(teams_channel, "ii", outcome="advice_and_guidance"))
    for card in (decided, await _channel_updated(teams_channel, "Decided: route II")):
        text = texts_of(card)
        assert "Contact awaiting sign-off" in text and "Contact awaiting screening" not in text
        assert "Repeat contact" in text and EARLIER in text
    view = await channel_view(teams_channel, CONSULTANT_2)
    assert "Repeat contact" in texts_of(view)
    signed = await _sign_off(teams_channel, bot)
    assert "Contact closed" in texts_of(signed) and EARLIER in texts_of(signed)


# -- re-referrals ---------------------------------------------------------------------------------


async def test_a_reassigned_re_referral_is_recommended_on_the_workers_card_within_48_hours(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    await _rereferral(teams_channel, "reassign")
    worker_chat = teams_channel.personal(SOCIAL_WORKER)
    post = await card_in(teams_channel, worker_chat, "Assigned to you for a recommendation within 48 hours")
    assert post.card is not None
    text = texts_of(post.card)
    assert "Re-referral: recommend no further involvement or progress to referral" in text
    assert "Re-referral recommendation" in text and "Wed 18 Mar 2026 10:00" in text
    assert "Progress to referral for single assessment" in text and "No further involvement" in text

    card = await press_card(
        teams_channel,
        worker_chat,
        SOCIAL_WORKER,
        post.card,
        WORK_VERB,
        "outcome",
        outcome="accepted_for_assessment",
        service_consent="given",
        outcome_rationale=WORK_RATIONALE,
        receiving_team=RECEIVING_TEAM,
        receiving_manager=TEAM_MANAGER.aad_object_id,
    )
    assert "Recorded: the recommendation." in texts_of(card)
    contact = await only_contact(bot)
    reference = contact.reference or ""
    assert contact.state is ContactState.AWAITING_SIGNOFF
    assert (await _deadlines(bot, reference))[ClockKind.REREFERRAL_RECOMMENDATION] == [DeadlineState.MET]
    # Waiting for sign-off it is timed like a route IV outcome: the 48-hour completion clock from
    # received-at, now with the consultants (alerted and handed over), open until it is signed off.
    async with bot.store.unit_of_work() as uow:
        waiting = await uow.deadlines.open_for_subjects([reference])
    assert [(d.clock, d.assignee_id) for d in waiting] == [(ClockKind.COMPLETION_48H, None)]
    recommend = contact.events[-1]
    assert recommend.action == "recommend" and '"recommendation":"progress_to_referral"' in recommend.data
    # Signed off on the duty channel's card, which now says where the re-referral is.
    update = await _channel_updated(
        teams_channel, "Recommendation by Wren Workerperson", duty_channel(teams_channel)
    )
    assert "Re-referral: contact awaiting sign-off" in texts_of(update)
    await _sign_off(teams_channel, bot, CONSULTANT, duty_channel(teams_channel))
    closed = await only_contact(bot)
    assert closed.state is ContactState.CLOSED
    assert (await _deadlines(bot, reference))[ClockKind.COMPLETION_48H] == [DeadlineState.MET]
    seen = await assert_every_change_audited(bot, closed)
    assert seen.index("contact.reassign") < seen.index("contact.recommend") < seen.index("contact.sign_off")


async def test_the_duty_manager_records_the_outcome_of_a_re_referral_they_sent_to_cp(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    await _rereferral(teams_channel, "cp_threshold_met")
    where = duty_channel(teams_channel)
    view = await channel_view(teams_channel, DUTY_MANAGER, where)
    recorded = await press_card(
        teams_channel,
        where,
        DUTY_MANAGER,
        view,
        OUTCOME_VERB,
        "outcome",
        channel_message_id(teams_channel, where),
        outcome="accepted_for_assessment",
        service_consent="given",
        outcome_rationale=RATIONALE,
        receiving_team=RECEIVING_TEAM,
        receiving_manager=TEAM_MANAGER.aad_object_id,
    )
    assert "Outcome recorded by Dara Dutyperson" in texts_of(recorded)
    assert (await only_contact(bot)).state is ContactState.AWAITING_SIGNOFF
    await assert_every_change_audited(bot, await only_contact(bot))


# -- the receiving team's challenge ---------------------------------------------------------------

GROUNDS = "In our view the threshold for a statutory assessment is not met"


async def _accepted_with_manager(teams_channel: TeamsChannel) -> None:
    """Route I, then accepted by Cora for the receiving team, Tess named as its manager."""
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await screen(teams_channel, "i")
    view = await channel_view(teams_channel, CONSULTANT)
    recorded = await press(
        teams_channel,
        decisions_channel(teams_channel),
        CONSULTANT,
        view,
        OUTCOME_VERB,
        "outcome",
        channel_message_id(teams_channel),
        outcome="accepted_for_assessment",
        service_consent="given",
        outcome_rationale=RATIONALE,
        receiving_team=RECEIVING_TEAM,
        receiving_manager=TEAM_MANAGER.aad_object_id,
    )
    assert "Outcome: Accepted" in texts_of(reply_card(recorded))


@pytest.mark.parametrize("result", ["upheld", "overturned"])
async def test_a_challenge_the_same_day_is_discussed_and_resolved_on_the_contact(
    start_bot: Any, teams_channel: TeamsChannel, result: str
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    await _accepted_with_manager(teams_channel)
    await _sign_off(teams_channel, bot)
    manager_chat = teams_channel.personal(TEAM_MANAGER)
    post = await card_in(teams_channel, manager_chat, "was accepted for a statutory assessment")
    assert post.card is not None
    assert "You may challenge the threshold until 17:00 on Mon 16 Mar" in texts_of(post.card)
    card = post.card

    raised = await press_card(
        teams_channel, manager_chat, TEAM_MANAGER, card, CHALLENGE_VERB, "raise", grounds=GROUNDS
    )
    text = texts_of(raised)
    assert "Recorded: your challenge." in text and "Threshold challenged by Tess Teammanagerperson" in text
    assert not has_button(raised, CHALLENGE_VERB, "raise")  # one open challenge at a time
    told = await card_or_text(teams_channel, CONSULTANT, "was challenged by the receiving team")
    assert "Record the discussion and its result on the decisions card" in told
    await _channel_updated(
        teams_channel, "Threshold challenged by the receiving team (Tess Teammanagerperson)"
    )

    view = await channel_view(teams_channel, CONSULTANT)
    assert has_button(view, CHALLENGE_VERB, "discuss") and has_button(view, CHALLENGE_VERB, "resolve")
    assert not has_button(view, CHALLENGE_VERB, "raise")  # consultants answer; team managers challenge
    where, message = decisions_channel(teams_channel), channel_message_id(teams_channel)
    discussed = await press_card(
        teams_channel,
        where,
        CONSULTANT,
        view,
        CHALLENGE_VERB,
        "discuss",
        message,
        discussion="Talked it through",
    )
    assert "Challenge discussed (Cora Consultantperson)" in texts_of(discussed)
    resolved = await press_card(
        teams_channel,
        where,
        CONSULTANT,
        discussed,
        CHALLENGE_VERB,
        "resolve",
        message,
        result=result,
        result_rationale="Agreed after the discussion",
        revised_outcome="advice_and_guidance" if result == "overturned" else "",
    )
    text = texts_of(resolved)
    assert f"Challenge resolved: {result} (Cora Consultantperson)" in text
    assert not has_button(resolved, CHALLENGE_VERB, "resolve")
    contact = await only_contact(bot)
    if result == "overturned":
        # A closed contact's outcome changed: a fresh letter goes to whoever recorded the result.
        assert "Outcome: Advice and guidance / signposting." in text
        letter = await card_in(
            teams_channel, teams_channel.personal(CONSULTANT), "Advice and guidance have been given"
        )
        assert letter.card is not None and has_button(letter.card, LETTER_SENT_VERB)
    else:
        assert contact.state is ContactState.CLOSED
    seen = await assert_every_change_audited(bot, await only_contact(bot))
    assert seen.index("contact.challenge_raised") < seen.index("contact.challenge_discussed")
    assert seen.index("contact.challenge_discussed") < seen.index("contact.challenge_resolved")
    for card in teams_channel.cards(decisions_channel(teams_channel)):
        assert GROUNDS not in texts_of(card) and "Talked it through" not in texts_of(card)
    _assert_minimised(*teams_channel.cards(decisions_channel(teams_channel)))


async def card_or_text(teams_channel: TeamsChannel, user: TeamsUser, needle: str) -> str:
    chat = teams_channel.personal(user)
    found: list[str] = []

    async def check() -> bool:
        found[:] = [p.text or "" for p in teams_channel.sent_to(chat) if needle in (p.text or "")]
        return bool(found)

    await eventually(check, f"a message saying {needle!r}")
    return found[-1]


async def test_a_challenge_after_the_end_of_the_working_day_is_refused_with_the_time(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, the_clock = await ready(start_bot, teams_channel)
    await _accepted_with_manager(teams_channel)
    await _sign_off(teams_channel, bot)
    manager_chat = teams_channel.personal(TEAM_MANAGER)
    post = await card_in(teams_channel, manager_chat, "was accepted for a statutory assessment")
    assert post.card is not None
    before = await only_contact(bot)
    the_clock.set(datetime(2026, 3, 16, 17, 1, tzinfo=UTC))
    refused = await press_card(
        teams_channel, manager_chat, TEAM_MANAGER, post.card, CHALLENGE_VERB, "raise", grounds=GROUNDS
    )
    text = texts_of(refused)
    assert "could be challenged until 17:00 on Mon 16 Mar; that time has passed" in text
    assert "The time to challenge the threshold ended at Mon 16 Mar 2026 17:00" in text
    assert not has_button(refused, CHALLENGE_VERB, "raise")
    assert (await only_contact(bot)).version == before.version
    assert "contact.challenge_raised" not in await _actions(bot)


# -- forged actors and roles, stale and replayed cards --------------------------------------------


async def test_forged_actors_and_roles_stale_and_replayed_work_cards_change_nothing(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await screen(teams_channel, "iv", worker=SOCIAL_WORKER.aad_object_id)
    worker_chat = teams_channel.personal(SOCIAL_WORKER)
    post = await card_in(teams_channel, worker_chat, "Assigned to you")
    assert post.card is not None
    card = post.card
    # the delivery is audited after the card arrives: counted before the presses, not among them
    await eventually(lambda: _has(bot, "contact.assignee_told"), "the assignee's delivery audit")
    forged: dict[str, object] = {
        "actor": SOCIAL_WORKER.aad_object_id,
        "aad_object_id": SOCIAL_WORKER.aad_object_id,
        "roles": ["social_worker"],
    }
    before = await only_contact(bot)
    audited = len(await audit(bot))

    # A partner professional never gets the record, whatever the card claims.
    refused = await press(
        teams_channel,
        teams_channel.personal(PROFESSIONAL),
        PROFESSIONAL,
        card,
        WORK_VERB,
        "referrer_contact",
        referrer_notes=NOTES,
        forged=forged,
    )
    assert refused.card is None and refused.json["value"].startswith("Sorry, only")
    # Another social worker: not their allocation; no casework for them on the card they get back.
    other = await press_card(
        teams_channel,
        teams_channel.personal(OTHER_WORKER),
        OTHER_WORKER,
        card,
        WORK_VERB,
        "referrer_contact",
        referrer_notes=NOTES,
        forged=forged,
    )
    assert "is allocated to someone else" in texts_of(other) and not has_button(
        other, WORK_VERB, "referrer_contact"
    )
    # A consultant may see contacts but does not do the worker's casework.
    consultant = await press_card(
        teams_channel,
        teams_channel.personal(CONSULTANT),
        CONSULTANT,
        card,
        WORK_VERB,
        "parent_contact",
        parent_notes=NOTES,
        forged=forged,
    )
    assert "Sorry, only social workers or First Contact officers" in texts_of(consultant)
    # Forged roles on the team managers' and deciders' actions.
    challenge = await teams_channel.execute(
        teams_channel.personal(CONSULTANT),
        CONSULTANT,
        CHALLENGE_VERB,
        {
            "reference": before.reference,
            "version": before.version,
            "step": "raise",
            "grounds": GROUNDS,
            "roles": ["team_manager"],
        },
    )
    assert challenge.card is None and challenge.json["value"].startswith("Sorry, only team managers")
    outcome = await teams_channel.execute(
        decisions_channel(teams_channel),
        OFFICER,
        OUTCOME_VERB,
        {
            "reference": before.reference,
            "version": before.version,
            "step": "outcome",
            "outcome": "no_further_action",
            "outcome_rationale": RATIONALE,
            "roles": ["consultant"],
        },
        card_activity_id=channel_message_id(teams_channel),
    )
    assert outcome.card is None and outcome.json["value"].startswith("Sorry, only")
    unreadable = await teams_channel.execute(
        worker_chat,
        SOCIAL_WORKER,
        WORK_VERB,
        {"reference": before.reference, "version": "x", "step": "consent"},
    )
    assert unreadable.json["value"] == "This card could not be read, so nothing was changed."
    # The card forwarded to a channel or a group chat never answers with the record.
    for where in (decisions_channel(teams_channel), teams_channel.group_chat(SOCIAL_WORKER, CONSULTANT)):
        for step in ("refresh", "referrer_contact"):
            elsewhere = await press(
                teams_channel, where, SOCIAL_WORKER, card, WORK_VERB, step, referrer_notes=NOTES
            )
            assert elsewhere.card is None and "only in your personal chat" in elsewhere.json["value"]
    assert (await only_contact(bot)).version == before.version
    refusals = [e for e in (await audit(bot))[audited:]]
    # refused at the gate (access.refused) or by the use case (contact.action_refused); a refusal
    # answered with the personal card in a staff member's own chat is a read of the record (viewed)
    allowed = {"access.refused", "contact.action_refused", "contact.viewed"}
    assert all(e.action in allowed for e in refusals), [e.action for e in refusals]
    assert {e.actor_id for e in refusals} >= {
        PROFESSIONAL.aad_object_id,
        CONSULTANT.aad_object_id,
        OFFICER.aad_object_id,
    }

    # The worker's own press works once; the same press again, and an old card, change nothing.
    done = await press_card(
        teams_channel, worker_chat, SOCIAL_WORKER, card, WORK_VERB, "referrer_contact", referrer_notes=NOTES
    )
    assert "Recorded: contact with the referrer." in texts_of(done)
    after = await only_contact(bot)
    replay = await press_card(
        teams_channel, worker_chat, SOCIAL_WORKER, card, WORK_VERB, "referrer_contact", referrer_notes=NOTES
    )
    assert "You have already done this" in texts_of(replay)
    stale = await press_card(
        teams_channel,
        worker_chat,
        SOCIAL_WORKER,
        card,
        WORK_VERB,
        "outcome",
        version=before.version - 1,
        outcome="no_further_action",
        service_consent="given",
        outcome_rationale=RATIONALE,
    )
    assert "You have already done this: CT-26-000001 (referrer contacted" in texts_of(stale)
    assert (await only_contact(bot)).version == after.version
    assert [e.action for e in await audit(bot)].count("contact.referrer_contacted") == 1


# -- an anonymous member of the public ------------------------------------------------------------


async def test_an_anonymous_member_of_the_public_is_never_told_or_named_outside_the_record(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    anonymous = script(
        source={"source": "member_of_public"},
        referrer={
            "referrer_type": "member_of_public",
            "referrer_name": "A Neighbour",
            "referrer_agency": "",
            "anonymity_requested": "true",
        },
    )
    officer_chat = teams_channel.personal(OFFICER)
    await submit(teams_channel, officer_chat, OFFICER, anonymous)
    await screen(teams_channel, "iii", officer=OFFICER.aad_object_id)
    post = await card_in(teams_channel, officer_chat, "Assigned to you for further work")
    assert post.card is not None
    # The contact's own view names them only with the warning not to.
    own_view = texts_of(post.card)
    assert "A Neighbour" in own_view and "anonymity requested: do not disclose" in own_view
    recorded = await press_card(
        teams_channel,
        officer_chat,
        OFFICER,
        post.card,
        WORK_VERB,
        "outcome",
        outcome="no_further_action",
        service_consent="given",
        outcome_rationale=WORK_RATIONALE,
    )
    text = texts_of(recorded)
    assert "they will not hear the outcome, so there will be no letter" in text
    assert "Outcome letter to the referrer" not in text and "Dear" not in text
    await _sign_off(teams_channel, bot)

    async def not_told() -> bool:
        return "contact.referrer_not_told" in await _actions(bot)

    await eventually(not_told, "the referrer-not-told audit row")
    closed = await only_contact(bot)
    assert not any("letter" in e.data for e in closed.events)
    # No letter went to anyone, and nothing outside the record names them.
    assert "contact.letter_delivered" not in await _actions(bot)
    assert not [
        p for p in teams_channel.sent_to(officer_chat) if p.card and "for you to send" in texts_of(p.card)
    ]
    _assert_minimised(*teams_channel.cards(decisions_channel(teams_channel)))
    for post in teams_channel.sent_to():
        shown = texts_of(post.body or {})
        if "A Neighbour" in shown:
            assert "anonymity requested: do not disclose" in shown
            assert post.root_conversation_id == officer_chat.id
    seen = await assert_every_change_audited(bot, closed)
    assert "contact.referrer_not_told" in seen
