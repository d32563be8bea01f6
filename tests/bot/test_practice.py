"""The procedure where a child's safety depends on it, end to end in Teams: sign-off as the only way
the receiving team hears, nobody signing off their own decision, the receiving team's disagreement
and the referrer's challenge with their escalations to a service manager, outcome letters for
professionals only, and the retention of referrals not accepted. The loopback Teams channel, the
real app over HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app import SETTINGS
from bot.cards.decisions import SIGN_OFF_VERB
from bot.cards.work_inputs import (
    CHALLENGE_VERB,
    LETTER_SENT_VERB,
    OUTCOME_VERB,
    REFERRER_CHALLENGE_VERB,
    WORK_VERB,
)
from frontdoor.contact import ContactState
from frontdoor.outcomes import OutcomeKind, ServiceConsent, current_outcome
from frontdoor.records import ClockKind, DeadlineState
from frontdoor.roles import Role
from scheduler.jobs import run_retention
from tests.bot.casework_helpers import (
    RECEIVING_TEAM,
    TEAM_MANAGER,
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
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    CHILD_NAME,
    CONSULTANT,
    CONSULTANT_2,
    OFFICER,
    REFERRER_NAME,
    WORRY,
    audit,
    contacts,
    decisions_channel,
    grant,
    introduce,
    script,
    submit,
    texts_of,
)
from tests.harness.teams import TeamsChannel, TeamsUser


async def sign_off(
    teams_channel: TeamsChannel, user: TeamsUser = CONSULTANT_2, **inputs: object
) -> dict[str, Any]:
    """``user`` presses "Sign off and close" on their view of the latest decisions card."""
    view = await channel_view(teams_channel, user)
    response = await press(
        teams_channel,
        decisions_channel(teams_channel),
        user,
        view,
        SIGN_OFF_VERB,
        activity_id=channel_message_id(teams_channel),
        **inputs,
    )
    return reply_card(response)


async def by_reference(bot: RunningBot, reference: str) -> Any:
    [contact] = [c for c in await contacts(bot) if c.reference == reference]
    return contact


async def deadlines_of(bot: RunningBot, reference: str) -> list[tuple[ClockKind, DeadlineState]]:
    async with bot.store.unit_of_work() as uow:
        rows = await uow.deadlines.for_subject(reference)
    return sorted((row.clock, row.state) for row in rows)


# -- retention of referrals not accepted ----------------------------------------------------------


async def test_retention_removes_a_seven_month_old_not_accepted_contacts_personal_data_keeping_its_figures(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, the_clock = await ready(start_bot, teams_channel)
    officer_chat = teams_channel.personal(OFFICER)
    # March: a referral with no further action, signed off.
    await submit(teams_channel, officer_chat, OFFICER)
    await screen(teams_channel, "ii")
    await sign_off(teams_channel)
    # June: another, closed the same way: only four months old in October.
    the_clock.set(datetime(2026, 6, 15, 10, 0, tzinfo=UTC))
    await submit(
        teams_channel, officer_chat, OFFICER, script(children={"child_0_name": "Yorick Recentchild"})
    )
    await screen(teams_channel, "ii")
    await sign_off(teams_channel)
    old, recent = sorted(c.reference or "" for c in await contacts(bot))
    before = await by_reference(bot, old)
    clocks_before = await deadlines_of(bot, old)
    assert before.state is ContactState.CLOSED and clocks_before

    # Seven months after the first closed, the bot starts: retention runs at start-up.
    later = datetime(2026, 10, 16, 10, 0, tzinfo=UTC)
    the_clock.set(later)
    bot = await start_bot(clock=the_clock, scheduler_enabled=True)

    async def removed() -> bool:
        return any(e.action == "contact.personal_data_removed" for e in await audit(bot))

    await eventually(removed, "the removal's audit row")
    rows = [e for e in await audit(bot) if e.action == "contact.personal_data_removed"]
    assert [(e.actor_id, e.subject, e.detail) for e in rows] == [
        ("system:retention", old, "outcome=no_further_action; months=6")
    ]

    after = await by_reference(bot, old)
    # Gone: names, dates of birth, addresses, phones, free text.
    assert [child.name for child in after.children] == [""]
    assert after.children[0].date_of_birth is None and after.children[0].address == ""
    assert after.parents == ()
    assert after.referrer is not None and (after.referrer.name, after.referrer.phone) == ("", "")
    assert after.worries == after.working_well == after.history.chronology == ""
    assert all(event.rationale == "" for event in after.events)
    # Kept: the reference, dates, source and type, the route, the outcome kind and the clock rows.
    assert (after.reference, after.received_at, after.source, after.contact_type) == (
        before.reference,
        before.received_at,
        before.source,
        before.contact_type,
    )
    assert after.referrer.type is before.referrer.type
    assert [e.action for e in after.events][: len(before.events)] == [e.action for e in before.events]
    assert [e.at for e in after.events][: len(before.events)] == [e.at for e in before.events]
    assert "route_ii" in [e.action for e in after.events]
    recorded = current_outcome(after)
    assert recorded is not None and recorded.outcome.kind is OutcomeKind.NO_FURTHER_ACTION
    assert await deadlines_of(bot, old) == clocks_before
    assert after.presenting_needs == before.presenting_needs

    # The four-month-old contact is untouched.
    assert (await by_reference(bot, recent)).children[0].name == "Yorick Recentchild"

    # What staff see of it in Teams has no personal data left.
    reply = await teams_channel.say(teams_channel.personal(CONSULTANT), CONSULTANT, f"find {old}")
    shown = " ".join(texts_of(card) for card in reply.cards)
    assert old in shown
    for secret in (CHILD_NAME, REFERRER_NAME, WORRY, "Example Street", "Parent Testperson", "0191 498"):
        assert secret not in shown, secret

    # A second run removes nothing more.
    assert await run_retention(bot.store.unit_of_work, the_clock, bot.app[SETTINGS].policy) == ()
    assert len([e for e in await audit(bot) if e.action == "contact.personal_data_removed"]) == 1
    assert (await by_reference(bot, old)).version == after.version


# -- the receiving team's disagreement ------------------------------------------------------------

SERVICE_MANAGER = TeamsUser("aad-service-0311", "Sam Servicemanagerperson")
GROUNDS = "In our view the threshold for a statutory assessment is not met"


async def accepted_and_signed_off(bot: RunningBot, teams_channel: TeamsChannel) -> str:
    """Route I; Cora records it accepted with Tess as the receiving manager; Cai signs it off."""
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await screen(teams_channel, "i")
    view = await channel_view(teams_channel, CONSULTANT)
    await press(
        teams_channel,
        decisions_channel(teams_channel),
        CONSULTANT,
        view,
        OUTCOME_VERB,
        "outcome",
        channel_message_id(teams_channel),
        outcome="accepted_for_assessment",
        service_consent="given",
        outcome_rationale="Disclosure of harm by a parent",
        receiving_team=RECEIVING_TEAM,
        receiving_manager=TEAM_MANAGER.aad_object_id,
    )
    # Cora decided it, so she may not sign it off; Cai does.
    own = await sign_off(teams_channel, CONSULTANT)
    assert "another consultant or team manager must sign it off" in texts_of(own)
    await sign_off(teams_channel, CONSULTANT_2)
    [contact] = await contacts(bot)
    assert contact.state is ContactState.CLOSED
    return contact.reference or ""


async def test_a_challenger_cannot_settle_their_own_challenge_and_a_disagreement_reaches_the_service_manager(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    await grant(bot, SERVICE_MANAGER, Role.SERVICE_MANAGER)
    await introduce(teams_channel, SERVICE_MANAGER)
    reference = await accepted_and_signed_off(bot, teams_channel)
    manager_chat = teams_channel.personal(TEAM_MANAGER)
    post = await card_in(teams_channel, manager_chat, "was accepted for a statutory assessment")
    assert post.card is not None and "signed off by Cai Consultantexample" in texts_of(post.card)
    raised = await press_card(
        teams_channel, manager_chat, TEAM_MANAGER, post.card, CHALLENGE_VERB, "raise", grounds=GROUNDS
    )
    assert "Recorded: your challenge." in texts_of(raised)
    # The challenger may discuss it or say it is not agreed, never settle it: no button, and a
    # forged press is refused with nothing changed.
    assert not has_button(raised, CHALLENGE_VERB, "resolve")
    assert has_button(raised, CHALLENGE_VERB, "escalate")
    before = (await by_reference(bot, reference)).version
    forged = await teams_channel.execute(
        manager_chat,
        TEAM_MANAGER,
        CHALLENGE_VERB,
        {
            **button(raised, CHALLENGE_VERB, "escalate"),
            "step": "resolve",
            "result": "upheld",
            "result_rationale": "Settling my own",
        },
    )
    assert forged.card is not None
    assert "You raised the challenge on" in texts_of(forged.card) and "cannot settle it" in texts_of(
        forged.card
    )
    assert (await by_reference(bot, reference)).version == before
    assert not [e for e in await audit(bot) if e.action == "contact.challenge_resolved"]

    # The decider is told, discusses it, and they do not agree: it escalates.
    await eventually(
        lambda: _said(teams_channel, CONSULTANT, "was challenged by the receiving team"), "the decider told"
    )
    view = await channel_view(teams_channel, CONSULTANT)
    assert has_button(view, CHALLENGE_VERB, "resolve") and not has_button(view, CHALLENGE_VERB, "raise")
    where, message = decisions_channel(teams_channel), channel_message_id(teams_channel)
    discussed = await press_card(
        teams_channel,
        where,
        CONSULTANT,
        view,
        CHALLENGE_VERB,
        "discuss",
        message,
        discussion="Talked it over",
    )
    escalated = await press_card(
        teams_channel,
        where,
        CONSULTANT,
        discussed,
        CHALLENGE_VERB,
        "escalate",
        message,
        escalate_reason="We still disagree about the disclosure",
    )
    assert "Not agreed: escalated to the service manager (Cora Consultantperson)" in texts_of(escalated)
    assert not has_button(escalated, CHALLENGE_VERB, "resolve")  # the decider no longer settles it

    # The service manager gets the contact on their personal card and records the final decision.
    sm_chat = teams_channel.personal(SERVICE_MANAGER)
    sm_post = await card_in(teams_channel, sm_chat, "a challenge that could not be settled has come to you")
    assert sm_post.card is not None and "Record the final decision" in texts_of(sm_post.card)
    final = await press_card(
        teams_channel,
        sm_chat,
        SERVICE_MANAGER,
        sm_post.card,
        CHALLENGE_VERB,
        "resolve",
        result="upheld",
        result_rationale="The disclosure meets the threshold",
    )
    assert "Challenge upheld: final decision by the service manager Sam Servicemanagerperson" in texts_of(
        final
    )
    rows = [(e.action, e.actor_id, e.detail) for e in await audit(bot) if e.subject == reference]
    steps = [(action, actor) for action, actor, _ in rows if action.startswith("contact.challenge")]
    assert steps == [
        ("contact.challenge_raised", TEAM_MANAGER.aad_object_id),
        ("contact.challenge_discussed", CONSULTANT.aad_object_id),
        ("contact.challenge_escalated", CONSULTANT.aad_object_id),
        ("contact.challenge_resolved", SERVICE_MANAGER.aad_object_id),
    ]
    assert (
        "contact.escalation_told",
        CONSULTANT.aad_object_id,
        f"to={SERVICE_MANAGER.aad_object_id}; role=service_manager; via=personal_chat",
    ) in rows
    assert ("contact.challenge_resolved", SERVICE_MANAGER.aad_object_id, "result=upheld; final=yes") in rows
    for _, _, detail in rows:
        assert GROUNDS not in detail and "disagree" not in detail


def _said(teams_channel: TeamsChannel, user: TeamsUser, needle: str) -> Any:
    async def check() -> bool:
        return any(needle in (p.text or "") for p in teams_channel.sent_to(teams_channel.personal(user)))

    return check()


# -- the referrer's challenge ---------------------------------------------------------------------


async def test_the_referrer_challenge_goes_from_discussion_to_team_manager_to_service_manager(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    await grant(bot, SERVICE_MANAGER, Role.SERVICE_MANAGER)
    await introduce(teams_channel, SERVICE_MANAGER)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await screen(teams_channel, "ii")
    await sign_off(teams_channel)
    [contact] = await contacts(bot)
    reference = contact.reference or ""

    async def work_card(user: TeamsUser) -> dict[str, Any]:
        chat = teams_channel.personal(user)
        found = await teams_channel.say(chat, user, f"find {reference}")
        record = found.cards[-1]  # the record (a proactive card may arrive during the turn)
        assert "The full record" in texts_of(record)
        return await press_card(teams_channel, chat, user, record, WORK_VERB, "refresh")

    # The school rings back to disagree: the officer records it from the contact's work card.
    officer_card = await work_card(OFFICER)
    assert "Challenge by the referrer" in texts_of(officer_card)
    raised = await press_card(
        teams_channel,
        teams_channel.personal(OFFICER),
        OFFICER,
        officer_card,
        REFERRER_CHALLENGE_VERB,
        "raise",
        referrer_grounds="The school says the family needs a social worker",
    )
    assert "Challenged by the referrer: recorded by Olu Officerperson" in texts_of(raised)
    assert not has_button(raised, REFERRER_CHALLENGE_VERB, "step")  # the officer does not discuss it

    # A consultant discusses it: it remains.
    consultant_card = await work_card(CONSULTANT)
    discussed = await press_card(
        teams_channel,
        teams_channel.personal(CONSULTANT),
        CONSULTANT,
        consultant_card,
        REFERRER_CHALLENGE_VERB,
        "step",
        referrer_result="remains",
        referrer_step_notes="Explained the decision; the school still disagrees",
    )
    assert "Discussed with the referrer: the challenge remains, by Cora Consultantperson" in texts_of(
        discussed
    )
    assert not has_button(discussed, REFERRER_CHALLENGE_VERB, "step")  # the next step is a team manager's

    # The team managers are told; Tess meets the agency's lead: it still remains.
    tm_post = await card_in(
        teams_channel, teams_channel.personal(TEAM_MANAGER), "a challenge that could not be settled"
    )
    assert tm_post.card is not None
    no_lead = await press_card(
        teams_channel,
        teams_channel.personal(TEAM_MANAGER),
        TEAM_MANAGER,
        tm_post.card,
        REFERRER_CHALLENGE_VERB,
        "step",
        referrer_result="remains",
        referrer_step_notes="Met the head teacher",
    )
    assert "name who took part for the referrer's agency" in texts_of(no_lead)
    managed = await press_card(
        teams_channel,
        teams_channel.personal(TEAM_MANAGER),
        TEAM_MANAGER,
        no_lead,
        REFERRER_CHALLENGE_VERB,
        "step",
        referrer_result="remains",
        referrer_step_notes="Met the head teacher",
        agency_lead="Hattie Headteacherperson",
    )
    assert "Team manager with the agency's lead: the challenge remains" in texts_of(managed)

    # The service manager with the agency's lead records the last step.
    sm_post = await card_in(
        teams_channel, teams_channel.personal(SERVICE_MANAGER), "a challenge that could not be settled"
    )
    assert sm_post.card is not None
    final = await press_card(
        teams_channel,
        teams_channel.personal(SERVICE_MANAGER),
        SERVICE_MANAGER,
        sm_post.card,
        REFERRER_CHALLENGE_VERB,
        "step",
        referrer_result="resolved",
        referrer_step_notes="Agreed an early help offer with the school",
        agency_lead="Hattie Headteacherperson",
    )
    assert "Service manager with the agency's lead: resolved, by Sam Servicemanagerperson" in texts_of(final)
    assert not has_button(final, REFERRER_CHALLENGE_VERB, "step")
    rows = [(e.action, e.actor_id, e.detail) for e in await audit(bot) if e.subject == reference]
    assert [r for r in rows if r[0].startswith("contact.referrer_challenge")] == [
        ("contact.referrer_challenge_raised", OFFICER.aad_object_id, ""),
        ("contact.referrer_challenge_step", CONSULTANT.aad_object_id, "stage=discussion; result=remains"),
        ("contact.referrer_challenge_step", TEAM_MANAGER.aad_object_id, "stage=team_manager; result=remains"),
        (
            "contact.referrer_challenge_step",
            SERVICE_MANAGER.aad_object_id,
            "stage=service_manager; result=resolved",
        ),
    ]
    told = [r for r in rows if r[0] == "contact.escalation_told"]
    assert [r[2].split("; ")[1] for r in told] == ["role=team_manager", "role=service_manager"]
    viewed = [d for action, actor, d in rows if (action, actor) == ("contact.viewed", OFFICER.aad_object_id)]
    assert any(detail.startswith("via=personal_card") for detail in viewed)
    for _, _, detail in rows:
        assert "Hattie" not in detail and "school" not in detail


# -- outcome letters -------------------------------------------------------------------------------


@pytest.mark.parametrize("referrer_type", ["member_of_public", "family_member"])
async def test_no_outcome_letter_for_a_member_of_the_public_or_a_family_member(
    start_bot: StartBot, teams_channel: TeamsChannel, referrer_type: str
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    answers = script(referrer={"referrer_type": referrer_type, "referrer_agency": ""})
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, answers)
    await screen(teams_channel, "ii")
    await sign_off(teams_channel)
    [contact] = await contacts(bot)
    assert contact.state is ContactState.CLOSED

    async def not_told() -> bool:
        return any(e.action == "contact.referrer_not_told" for e in await audit(bot))

    await eventually(not_told, "the referrer-not-told audit row")
    assert not any(e.action == "outcome_letter_produced" for e in contact.events)
    assert not any(e.action.startswith("contact.letter_") for e in await audit(bot))
    # The decider's work card says there is no letter, and why.
    chat = teams_channel.personal(CONSULTANT)
    found = await teams_channel.say(chat, CONSULTANT, f"find {contact.reference}")
    record = found.cards[-1]
    card = await press_card(teams_channel, chat, CONSULTANT, record, WORK_VERB, "refresh")
    assert "members of the public and family members are told at the time of the call" in texts_of(card)
    assert "Dear" not in texts_of(card) and not has_button(card, LETTER_SENT_VERB)


# -- consent ---------------------------------------------------------------------------------------


async def test_proceeding_without_consent_needs_the_tick_and_a_sentence_and_outcomes_record_service_consent(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    officer_chat = teams_channel.personal(OFFICER)
    # Refused needs its reason on the script's card too.
    refused_answers = script(
        parents={"consent": "refused", "consent_reason": "Mother declined any involvement"}
    )
    await submit(teams_channel, officer_chat, OFFICER, refused_answers)
    [contact] = await contacts(bot)
    assert contact.consent_reason == "Mother declined any involvement"

    # Route I without the tick and sentence is refused; nothing changes.
    view = await channel_view(teams_channel, CONSULTANT)
    assert "the evidence suggests a risk of harm" in texts_of(view)
    refused = reply_card(await screen(teams_channel, "i"))
    assert "tick that the evidence suggests a risk of harm" in texts_of(refused)
    assert (await by_reference(bot, contact.reference or "")).state is ContactState.AWAITING_SCREENING
    # A sentence without the tick is not a confirmation either.
    unticked = reply_card(await screen(teams_channel, "i", risk_of_harm="Bruising seen at school"))
    assert "tick that the evidence suggests a risk of harm" in texts_of(unticked)
    decided = reply_card(
        await screen(teams_channel, "i", risk_confirmed="true", risk_of_harm="Bruising seen at school")
    )
    assert "Decided: route I" in texts_of(decided)

    # The outcome asks for consent for a service, and accepting repeats the confirmation.
    view = await channel_view(teams_channel, CONSULTANT)
    where, message = decisions_channel(teams_channel), channel_message_id(teams_channel)
    fields = dict(
        outcome="accepted_for_assessment",
        outcome_rationale="Disclosure of harm",
        receiving_team=RECEIVING_TEAM,
        receiving_manager=TEAM_MANAGER.aad_object_id,
    )
    no_consent = await press_card(
        teams_channel, where, CONSULTANT, view, OUTCOME_VERB, "outcome", message, **fields
    )
    assert "record whether there is consent for a service" in texts_of(no_consent)
    unconfirmed = await press_card(
        teams_channel,
        where,
        CONSULTANT,
        view,
        OUTCOME_VERB,
        "outcome",
        message,
        service_consent="not_given",
        **fields,
    )
    assert "evidence suggests a risk of harm" in texts_of(unconfirmed)
    recorded = await press_card(
        teams_channel,
        where,
        CONSULTANT,
        view,
        OUTCOME_VERB,
        "outcome",
        message,
        service_consent="not_given",
        risk_confirmed="true",
        risk_of_harm="The disclosure cannot wait for consent",
        **fields,
    )
    assert "Outcome: Accepted for a statutory assessment" in texts_of(recorded)
    current = await by_reference(bot, contact.reference or "")
    outcome = current_outcome(current)
    assert outcome is not None and outcome.outcome.service_consent is ServiceConsent.NOT_GIVEN
    assert outcome.outcome.risk_of_harm == "The disclosure cannot wait for consent"
    details = [e.detail for e in await audit(bot) if e.subject == contact.reference]
    assert any(d.startswith("route=i") and d.endswith("without_consent=yes") for d in details)
    assert any("service_consent=not_given; without_consent=yes" in d for d in details)
    assert not any("Bruising" in d or "cannot wait" in d for d in details)
