"""The history checks through the Teams endpoint (SPEC §3, §5): re-referral decided from the
closure date and the policy's window, the local systems from the policy file, and a child open to
early help offered to "stay with early help" on the decision card, the early help worker told."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.cards.decisions import DECIDE_VERB
from frontdoor.contact import ContactState
from frontdoor.outcomes import current_outcome
from frontdoor.policy import parse_policy
from frontdoor.records import ClockKind
from frontdoor.roles import Role
from frontdoor.script import Section
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.decision_helpers import RATIONALE, _decide, _executes, _posted, _view
from tests.bot.intake_script import (
    ALL_NO,
    CONSULTANT,
    OFFICER,
    audit,
    clock,
    decisions_channel,
    duty_channel,
    grant,
    inputs,
    introduce,
    only_contact,
    register_channels,
    script,
    staff,
    start,
    submit,
    texts_of,
    walk,
)
from tests.harness.teams import TeamsChannel, TeamsUser

EARLY_HELP_WORKER = TeamsUser("aad-earlyhelp-0309", "Eli Earlyhelpperson")
OPEN_TO_EARLY_HELP = {"open_to_early_help": "true", "early_help_worker": EARLY_HELP_WORKER.aad_object_id}


async def _ready(start_bot: StartBot, teams_channel: TeamsChannel, **overrides: Any) -> RunningBot:
    bot = await start_bot(clock=clock(), **overrides)
    await staff(bot)
    await register_channels(teams_channel)
    return bot


# -- re-referral by date, and the local systems, from the policy ---------------------------------


@pytest.mark.parametrize(
    ("policy_text", "closed_on", "rereferral"),
    [
        # received Monday 16 March 2026: the default 3-month window opens on 16 December 2025
        ("", "2025-12-16", True),
        ("", "2025-12-15", False),
        # a service that counts 1 month: a closure 6 weeks ago is no longer a re-referral
        ("[windows]\nrereferral_months = 1", "2026-02-02", False),
        ("[windows]\nrereferral_months = 1", "2026-02-16", True),
    ],
)
async def test_re_referral_is_decided_from_the_closure_date_with_the_policy_window(
    start_bot: StartBot, teams_channel: TeamsChannel, policy_text: str, closed_on: str, rereferral: bool
) -> None:
    bot = await _ready(start_bot, teams_channel, policy=parse_policy(policy_text))
    await submit(
        teams_channel, teams_channel.personal(OFFICER), OFFICER, script(history={"closed_on": closed_on})
    )
    contact = await only_contact(bot)
    assert contact.history.closed_on is not None and contact.history.closed_on.isoformat() == closed_on
    expected = ContactState.DUTY_MANAGER_REVIEW if rereferral else ContactState.AWAITING_SCREENING
    assert contact.state is expected
    duty_posts = [p for p in teams_channel.sent_to(duty_channel(teams_channel)) if p.card]
    assert len(duty_posts) == (1 if rereferral else 0)


async def test_the_history_card_offers_the_policys_local_systems_and_no_tick_box(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    policy = parse_policy('[history]\nlocal_systems = [["lcs", "Liquid Logic (LCS)"], ["ehm", "EHM"]]')
    bot = await _ready(start_bot, teams_channel, policy=policy)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    card = await walk(teams_channel, chat, OFFICER, until=Section.HISTORY)
    fields = inputs(card)
    assert [(c["value"], c["title"]) for c in fields["systems_checked"]["choices"]] == [
        ("lcs", "Liquid Logic (LCS)"),
        ("ehm", "EHM"),
    ]
    assert fields["closed_on"]["type"] == "Input.Date"
    assert "closed_within_3_months" not in fields
    answers = script(history={"systems_checked": "lcs,ehm"})
    await walk(teams_channel, chat, OFFICER, answers)
    assert (await only_contact(bot)).history.systems_checked == ("lcs", "ehm")


# -- open to early help --------------------------------------------------------------------------


async def _told(bot: RunningBot, action: str) -> list[str]:
    for _ in range(100):
        found = [e.detail for e in await audit(bot) if e.action == action]
        if found:
            return found
        await asyncio.sleep(0.05)
    return []


async def test_a_child_open_to_early_help_can_stay_with_early_help_and_the_worker_is_told(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await grant(bot, EARLY_HELP_WORKER, Role.PROFESSIONAL)
    worker_chat = await introduce(teams_channel, EARLY_HELP_WORKER)
    await introduce(teams_channel, CONSULTANT)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, script(history=OPEN_TO_EARLY_HELP))
    activity_id, card = _posted(teams_channel)
    view = await _view(teams_channel, CONSULTANT, card, activity_id)
    [stays] = [node for node in _executes(view, DECIDE_VERB) if node["data"].get("early_help") == "stays"]
    assert stays["title"] == f"Stays with early help ({EARLY_HELP_WORKER.name} is told)"
    assert sorted(n["data"]["route"] for n in _executes(view, DECIDE_VERB)) == ["i", "ii", "ii", "iii", "iv"]

    response = await _decide(teams_channel, CONSULTANT, stays["data"], activity_id, rationale=RATIONALE)
    assert response.card is not None
    assert "Decided: stays with early help" in texts_of(response.card)

    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SIGNOFF  # signed off like every other outcome
    recorded = current_outcome(contact)
    assert recorded is not None and recorded.outcome.title == "Referral to another agency: Early help"
    async with bot.store.unit_of_work() as uow:
        clocks = {d.clock for d in await uow.deadlines.for_subject("CT-26-000001") if d.state.value == "open"}
    assert clocks == {ClockKind.COMPLETION_24H}
    [decided] = [e for e in await audit(bot) if e.action == "contact.stays_with_early_help"]
    assert decided.actor_id == CONSULTANT.aad_object_id
    assert f"early_help_worker={EARLY_HELP_WORKER.aad_object_id}" in decided.detail
    assert RATIONALE not in decided.detail
    assert await _told(bot, "contact.early_help_told") == [
        f"worker={EARLY_HELP_WORKER.aad_object_id}; via=personal_chat"
    ]
    [message] = [
        p for p in teams_channel.sent_to(worker_chat) if p.card and "CT-26-000001" in texts_of(p.card)
    ]
    assert message.card is not None
    assert "the child stays with early help, with you as their early help worker" in texts_of(message.card)
    # a partner professional is not sent names: the channel's minimised card
    assert "Zebedee" not in texts_of(message.card)


async def test_without_a_chat_the_early_help_worker_is_recorded_and_the_decider_asked_to_tell_them(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await grant(bot, EARLY_HELP_WORKER, Role.PROFESSIONAL)
    consultant_chat = await introduce(teams_channel, CONSULTANT)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, script(history=OPEN_TO_EARLY_HELP))
    activity_id, card = _posted(teams_channel)
    view = await _view(teams_channel, CONSULTANT, card, activity_id)
    [stays] = [node for node in _executes(view, DECIDE_VERB) if node["data"].get("early_help") == "stays"]
    await _decide(teams_channel, CONSULTANT, stays["data"], activity_id, rationale=RATIONALE)
    assert await _told(bot, "contact.early_help_not_told") == [
        f"worker={EARLY_HELP_WORKER.aad_object_id}; via=none"
    ]
    for _ in range(100):
        if any("please let them know" in t for t in teams_channel.texts(consultant_chat)):
            break
        await asyncio.sleep(0.05)
    assert any("please let them know" in t for t in teams_channel.texts(consultant_chat))
    recorded = current_outcome(await only_contact(bot))
    assert recorded is not None


async def test_stays_with_early_help_is_not_offered_or_accepted_for_an_urgent_contact_or_without_early_help(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await grant(bot, EARLY_HELP_WORKER, Role.PROFESSIONAL)  # a worker the directory knows
    await introduce(teams_channel, CONSULTANT)
    urgent = script(risk={**ALL_NO, "risk_injury": "yes"}, history=OPEN_TO_EARLY_HELP)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, urgent)
    activity_id, card = _posted(teams_channel)
    view = await _view(teams_channel, CONSULTANT, card, activity_id)
    assert [n for n in _executes(view, DECIDE_VERB) if n["data"].get("early_help")] == []
    # a card claiming the choice anyway is refused and changes nothing
    [route_ii] = [n for n in _executes(view, DECIDE_VERB) if n["data"]["route"] == "ii"]
    forged = {**route_ii["data"], "early_help": "stays"}
    response = await _decide(teams_channel, CONSULTANT, forged, activity_id, rationale=RATIONALE)
    assert response.card is not None and "cannot stay with early help: it is urgent" in texts_of(
        response.card
    )
    assert (await only_contact(bot)).state is ContactState.AWAITING_SCREENING
    assert not [e for e in await audit(bot) if e.action == "contact.stays_with_early_help"]
    assert decisions_channel(teams_channel)
