"""Proceeding without consent (SPEC §3: "a decider who proceeds without consent confirms on the card
that the evidence suggests a risk of harm (a tick and a sentence)") on every path that proceeds: the
duty manager's re-referral decisions, a social worker's recommendation to progress to referral, and
an urgent contact whose consent is not recorded yet (route I's 2-hour decision is not held up; route
IV and the accepted outcome are). The loopback Teams channel, the real app over HTTP, SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from bot.cards.intake import NEXT
from bot.cards.work_inputs import OUTCOME_VERB, WORK_VERB
from frontdoor.contact import ContactState
from frontdoor.outcomes import current_outcome, read_event_data
from frontdoor.script import Section
from tests.bot.casework_helpers import (
    RECEIVING_TEAM,
    TEAM_MANAGER,
    card_in,
    channel_message_id,
    channel_view,
    press_card,
    ready,
    reply_card,
    screen,
)
from tests.bot.decision_helpers import RATIONALE, _choice_data, _duty_post, _duty_view
from tests.bot.intake_script import (
    ALL_NO,
    CONSULTANT,
    DUTY_MANAGER,
    EMERGENCY,
    OFFICER,
    ROUTINE,
    SOCIAL_WORKER,
    audit,
    decisions_channel,
    duty_channel,
    only_contact,
    press,
    script,
    start,
    submit,
    texts_of,
)
from tests.harness.teams import TeamsChannel

REFUSED = {"consent": "refused", "consent_reason": "Mother declined any involvement"}
#: the tick and sentence of a decider proceeding without consent
CONFIRMED = {"risk_confirmed": "true", "risk_of_harm": "Bruising seen at school"}
NEEDS_TICK = "tick that the evidence suggests a risk of harm"
ACCEPTED = dict(
    outcome="accepted_for_assessment",
    service_consent="not_given",
    outcome_rationale=RATIONALE,
    receiving_team=RECEIVING_TEAM,
    receiving_manager=TEAM_MANAGER.aad_object_id,
)


async def _rereferral_decision(teams_channel: TeamsChannel, choice: str, **inputs: object) -> dict[str, Any]:
    activity_id, card = _duty_post(teams_channel)
    view = await _duty_view(teams_channel, DUTY_MANAGER, card, activity_id)
    decided = await teams_channel.execute(
        duty_channel(teams_channel),
        DUTY_MANAGER,
        "contact.rereferral",
        {**_choice_data(view, choice), "rationale": RATIONALE, **inputs},
        card_activity_id=activity_id,
    )
    assert decided.card is not None, decided.text
    return decided.card


@pytest.mark.parametrize("choice", ["cp_threshold_met", "reassign"])
async def test_a_re_referral_without_consent_needs_the_confirmation_on_either_decision(
    start_bot: Any, teams_channel: TeamsChannel, choice: str
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    answers = script(
        parents=REFUSED, history={"closed_on": "2026-02-02", "last_worker": SOCIAL_WORKER.aad_object_id}
    )
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, answers)
    activity_id, card = _duty_post(teams_channel)
    view = await _duty_view(teams_channel, DUTY_MANAGER, card, activity_id)
    assert "Either decision: consent was refused, not sought or is not recorded yet" in texts_of(view)

    refused = await _rereferral_decision(teams_channel, choice)
    assert NEEDS_TICK in texts_of(refused)
    assert (await only_contact(bot)).state is ContactState.DUTY_MANAGER_REVIEW
    unticked = await _rereferral_decision(teams_channel, choice, risk_of_harm="Bruising seen at school")
    assert NEEDS_TICK in texts_of(unticked)

    await _rereferral_decision(teams_channel, choice, **CONFIRMED)
    contact = await only_contact(bot)
    wanted = ContactState.CP_DECISION if choice == "cp_threshold_met" else ContactState.SW_ASSESSMENT
    assert contact.state is wanted
    data = read_event_data(contact.events[-1])
    assert data["without_consent"] is True and data["risk_of_harm"] == "Bruising seen at school"
    [detail] = [
        e.detail for e in await audit(bot) if e.action in ("contact.cp_threshold_met", "contact.reassign")
    ]
    assert detail.endswith("without_consent=yes") and "Bruising" not in detail


async def test_a_social_workers_recommendation_to_progress_without_consent_needs_the_confirmation(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    answers = script(
        parents=REFUSED, history={"closed_on": "2026-02-02", "last_worker": SOCIAL_WORKER.aad_object_id}
    )
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, answers)
    await _rereferral_decision(teams_channel, "reassign", **CONFIRMED)
    worker_chat = teams_channel.personal(SOCIAL_WORKER)
    post = await card_in(teams_channel, worker_chat, "Assigned to you for a recommendation")
    assert post.card is not None
    assert "If accepted: consent was refused, not sought or is not recorded yet" in texts_of(post.card)

    refused = await press_card(
        teams_channel, worker_chat, SOCIAL_WORKER, post.card, WORK_VERB, "outcome", **ACCEPTED
    )
    assert NEEDS_TICK in texts_of(refused)
    assert (await only_contact(bot)).state is ContactState.SW_ASSESSMENT
    recorded = await press_card(
        teams_channel,
        worker_chat,
        SOCIAL_WORKER,
        post.card,
        WORK_VERB,
        "outcome",
        risk_confirmed="true",
        risk_of_harm="The disclosure cannot wait for consent",
        **ACCEPTED,
    )
    assert "Recorded: the recommendation." in texts_of(recorded)
    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SIGNOFF
    outcome = current_outcome(contact)
    assert outcome is not None and outcome.outcome.risk_of_harm == "The disclosure cannot wait for consent"
    [detail] = [e.detail for e in await audit(bot) if e.action == "contact.recommend"]
    assert "without_consent=yes" in detail and "cannot wait" not in detail


async def test_an_urgent_contact_whose_consent_is_not_recorded_yet(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    for typed in (ROUTINE[Section.SOURCE], {**ALL_NO, "risk_injury": "yes"}, EMERGENCY):
        await press(teams_channel, chat, OFFICER, NEXT, typed)
    contact = await only_contact(bot)
    assert contact.completing and contact.consent is None

    # Route IV proceeds with enquiries (48 hours): consent not recorded is not consent, so it needs
    # the confirmation; the card asks for it for route IV only.
    refused = reply_card(await screen(teams_channel, "iv", worker=SOCIAL_WORKER.aad_object_id))
    assert NEEDS_TICK in texts_of(refused)
    assert "Route IV: consent was refused, not sought or is not recorded yet" in texts_of(refused)
    assert (await only_contact(bot)).state is ContactState.AWAITING_SCREENING

    # Route I's 2-hour child-protection decision is never held up for the consent card.
    decided = reply_card(await screen(teams_channel, "i"))
    assert "Decided: route I" in texts_of(decided)
    assert (await only_contact(bot)).state is ContactState.CP_DECISION

    # The accepted outcome proceeds too: with consent still not recorded, it needs the confirmation.
    where, message = decisions_channel(teams_channel), channel_message_id(teams_channel)
    consultant_view = await channel_view(teams_channel, CONSULTANT)
    unconfirmed = await press_card(
        teams_channel, where, CONSULTANT, consultant_view, OUTCOME_VERB, "outcome", message, **ACCEPTED
    )
    assert NEEDS_TICK in texts_of(unconfirmed)
    assert (await only_contact(bot)).state is ContactState.CP_DECISION
    recorded = await press_card(
        teams_channel,
        where,
        CONSULTANT,
        consultant_view,
        OUTCOME_VERB,
        "outcome",
        message,
        **CONFIRMED,
        **ACCEPTED,
    )
    assert "Outcome: Accepted for a statutory assessment" in texts_of(recorded)
