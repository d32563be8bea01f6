"""The decisions channel's card through the threshold decision and sign-off, end to end: the loopback
Teams channel, the real app over HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from bot.cards.decisions import DECIDE_VERB, REFRESH_VERB, REREFERRAL_VERB, SIGN_OFF_VERB
from frontdoor.contact import ContactState
from frontdoor.policy import Caseload, load_policy
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.decision_helpers import (
    RATIONALE,
    _assert_minimised,
    _choice_data,
    _decide,
    _duty_post,
    _duty_view,
    _executes,
    _posted,
    _route_data,
    _route_ii,
    _view,
)
from tests.bot.intake_script import (
    CONSULTANT,
    CONSULTANT_2,
    DUTY_MANAGER,
    OFFICER,
    PROFESSIONAL,
    SOCIAL_WORKER,
    audit,
    clock,
    contacts,
    decisions_channel,
    duty_channel,
    inputs,
    introduce,
    only_contact,
    register_channels,
    script,
    staff,
    submit,
    texts_of,
)
from tests.harness.teams import Conversation, TeamsChannel


async def _ready(start_bot: StartBot, teams_channel: TeamsChannel, **overrides: Any) -> RunningBot:
    bot = await start_bot(clock=clock(), **overrides)
    await staff(bot)
    await register_channels(teams_channel, duty=False)
    await introduce(teams_channel, CONSULTANT)
    return bot


async def test_deciders_get_the_routes_and_everyone_else_a_status(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    contact = await only_contact(bot)
    activity_id, card = _posted(teams_channel)

    assert card["refresh"]["userIds"] == [CONSULTANT.id]
    assert card["refresh"]["action"]["data"] == {"reference": "CT-26-000001", "version": contact.version}
    assert _executes(card, DECIDE_VERB) == []

    view = await _view(teams_channel, CONSULTANT, card, activity_id)
    assert sorted(node["data"]["route"] for node in _executes(view, DECIDE_VERB)) == ["i", "ii", "iii", "iv"]
    text = texts_of(view)
    assert "Rationale" in text and '"isRequired": true' in text
    assert "Wren Workerperson (0/10)" in text or f"{SOCIAL_WORKER.aad_object_id} (0/10)" in text
    assert all(node["data"]["version"] == contact.version for node in _executes(view, DECIDE_VERB))

    # A consultant Teams did not refresh for presses "Decide or sign off" and gets the same view.
    other = await _view(teams_channel, CONSULTANT_2, card, activity_id)
    assert len(_executes(other, DECIDE_VERB)) == 4

    for user in (SOCIAL_WORKER, OFFICER):
        status = await _view(teams_channel, user, card, activity_id)
        assert _executes(status, DECIDE_VERB) == [] and _executes(status, SIGN_OFF_VERB) == []
        assert "Status: awaiting screening" in texts_of(status)
    # Someone who may not see contacts (a partner professional) gets no part of it, not even the summary.
    refused = await teams_channel.execute(
        decisions_channel(teams_channel), PROFESSIONAL, REFRESH_VERB, card["refresh"]["action"]["data"]
    )
    assert refused.card is None and refused.json["value"].startswith("Sorry, only")
    _assert_minimised(card, view, other)


async def test_route_ii_then_sign_off_by_another_closes_the_contact_and_updates_the_card(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)

    activity_id, response = await _route_ii(teams_channel)

    decided = response.card
    assert decided is not None, response.text
    text = texts_of(decided)
    # the time is shown as everywhere else (not "10:00 on Mon 16 Mar 2026")
    assert (
        "Decided: route II: no further social care involvement, by Cora Consultantperson at "
        "Mon 16 Mar 2026 10:00." in text
    )
    assert "Outcome: Advice and guidance / signposting" in text
    assert "RAG: " in text and "due" in text
    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SIGNOFF
    # The channel message is updated in place for everyone, after the invoke was answered.
    for _ in range(100):
        if teams_channel.updates_to(decisions_channel(teams_channel)):
            break
        await asyncio.sleep(0.05)
    [update] = teams_channel.updates_to(decisions_channel(teams_channel))
    assert update.activity_id == activity_id and update.card is not None
    assert "Decided: route II" in texts_of(update.card)
    assert update.card["refresh"]["action"]["data"]["version"] == contact.version

    signer_view = await _view(teams_channel, CONSULTANT_2, update.card, activity_id)
    [sign] = _executes(signer_view, SIGN_OFF_VERB)
    assert _executes(signer_view, DECIDE_VERB) == []
    signed = await teams_channel.execute(
        decisions_channel(teams_channel),
        CONSULTANT_2,
        SIGN_OFF_VERB,
        sign["data"],
        card_activity_id=activity_id,
    )
    assert signed.card is not None, signed.text
    text = texts_of(signed.card)
    assert "Signed off and closed by Cai Consultantexample at" in text and "also the decider" not in text
    assert "refresh" not in signed.card
    assert (await only_contact(bot)).state is ContactState.CLOSED
    assert [e.action for e in await audit(bot) if e.action in ("contact.route_ii", "contact.sign_off")] == [
        "contact.route_ii",
        "contact.sign_off",
    ]
    _assert_minimised(decided, update.card, signer_view, signed.card)


async def test_the_decider_may_not_sign_off_their_own_decision(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    activity_id, response = await _route_ii(teams_channel)
    assert response.card is not None
    view = await _view(teams_channel, CONSULTANT, response.card, activity_id)
    [sign] = _executes(view, SIGN_OFF_VERB)
    signed = await teams_channel.execute(
        decisions_channel(teams_channel),
        CONSULTANT,
        SIGN_OFF_VERB,
        sign["data"],
        card_activity_id=activity_id,
    )
    assert signed.card is not None
    assert "another consultant or team manager must sign it off. Nothing was changed" in texts_of(signed.card)
    assert (await only_contact(bot)).state is ContactState.AWAITING_SIGNOFF
    assert not [e for e in await audit(bot) if e.action == "contact.sign_off"]


@pytest.mark.parametrize("first", [CONSULTANT, CONSULTANT_2], ids=["cora_first", "cai_first"])
async def test_two_deciders_the_first_wins_and_the_second_is_told_who(
    start_bot: StartBot, teams_channel: TeamsChannel, first: Any
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    second = CONSULTANT_2 if first is CONSULTANT else CONSULTANT
    activity_id, card = _posted(teams_channel)
    first_view = await _view(teams_channel, first, card, activity_id)
    second_view = await _view(teams_channel, second, card, activity_id)

    won = await _decide(teams_channel, first, _route_data(first_view, "ii"), activity_id, rationale=RATIONALE)
    lost = await _decide(
        teams_channel, second, _route_data(second_view, "i"), activity_id, rationale=RATIONALE
    )

    assert won.card is not None and lost.card is not None
    text = texts_of(lost.card)
    assert f"already decided by {first.name}" in text and "nothing was changed" in text
    assert "Decided: route II" in text and _executes(lost.card, DECIDE_VERB) == []
    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SIGNOFF
    routes = [e for e in await audit(bot) if e.action.startswith("contact.route_")]
    assert [(e.action, e.actor_id) for e in routes] == [("contact.route_ii", first.aad_object_id)]


async def test_a_replayed_or_stale_card_changes_nothing(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    activity_id, card = _posted(teams_channel)
    view = await _view(teams_channel, CONSULTANT, card, activity_id)
    data = _route_data(view, "ii")
    await _decide(teams_channel, CONSULTANT, data, activity_id, rationale=RATIONALE)
    after = await only_contact(bot)

    replay = await _decide(teams_channel, CONSULTANT, data, activity_id, rationale=RATIONALE)
    assert replay.card is not None and "You have already done this" in texts_of(replay.card)
    stale = await _decide(
        teams_channel,
        CONSULTANT_2,
        {**_route_data(view, "i"), "version": after.version - 3},
        activity_id,
        rationale=RATIONALE,
    )
    assert stale.card is not None and "already decided by Cora Consultantperson" in texts_of(stale.card)
    assert (await only_contact(bot)).version == after.version
    assert len([e for e in await audit(bot) if e.action.startswith("contact.route_")]) == 1


async def test_forged_actor_and_roles_in_card_data_are_ignored(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    activity_id, card = _posted(teams_channel)
    view = await _view(teams_channel, CONSULTANT, card, activity_id)
    forged = {
        **_route_data(view, "ii"),
        "actor": CONSULTANT.aad_object_id,
        "aad_object_id": CONSULTANT.aad_object_id,
        "roles": ["consultant", "team_manager"],
    }
    for user in (PROFESSIONAL, SOCIAL_WORKER, OFFICER):
        refused = await _decide(teams_channel, user, forged, activity_id, rationale=RATIONALE)
        assert refused.card is None and refused.json["value"].startswith("Sorry, only"), refused.text
    assert (await only_contact(bot)).state is ContactState.AWAITING_SCREENING

    # A consultant's press names the consultant as the decider, whatever the data claims.
    decided = await _decide(
        teams_channel,
        CONSULTANT_2,
        {**forged, "actor": CONSULTANT.aad_object_id},
        activity_id,
        rationale=RATIONALE,
    )
    assert decided.card is not None and "by Cai Consultantexample" in texts_of(decided.card)
    [route] = [e for e in await audit(bot) if e.action == "contact.route_ii"]
    assert route.actor_id == CONSULTANT_2.aad_object_id


async def test_a_decision_without_a_rationale_or_officer_is_refused_on_the_card(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    activity_id, card = _posted(teams_channel)
    view = await _view(teams_channel, CONSULTANT, card, activity_id)
    no_reason = await _decide(teams_channel, CONSULTANT, _route_data(view, "ii"), activity_id, rationale="  ")
    assert no_reason.card is not None and "needs a rationale" in texts_of(no_reason.card)
    no_officer = await _decide(
        teams_channel, CONSULTANT, _route_data(view, "iii"), activity_id, rationale=RATIONALE
    )
    assert no_officer.card is not None and "choose the officer" in texts_of(no_officer.card)
    assert len(_executes(no_officer.card, DECIDE_VERB)) == 4
    assert (await only_contact(bot)).state is ContactState.AWAITING_SCREENING

    routed = await _decide(
        teams_channel,
        CONSULTANT,
        _route_data(view, "iii"),
        activity_id,
        rationale=RATIONALE,
        officer=OFFICER.aad_object_id,
    )
    assert routed.card is not None and "Decided: route III" in texts_of(routed.card)
    contact = await only_contact(bot)
    assert contact.state is ContactState.OFFICER_WORK and contact.assignee_id == OFFICER.aad_object_id


async def test_a_refused_decision_keeps_what_was_typed_on_the_card(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    activity_id, card = _posted(teams_channel)
    view = await _view(teams_channel, CONSULTANT, card, activity_id)

    # Route II without its consent for a service: refused, with the rationale and outcome as typed
    refused = await _decide(
        teams_channel,
        CONSULTANT,
        _route_data(view, "ii"),
        activity_id,
        rationale=RATIONALE,
        outcome="advice_and_guidance",
        service_consent="",
    )

    assert refused.card is not None and "record whether there is consent for a service" in texts_of(
        refused.card
    )
    kept = inputs(refused.card)
    assert kept["rationale"]["value"] == RATIONALE
    assert kept["outcome"]["value"] == "advice_and_guidance"
    assert not kept["service_consent"].get("value")  # still to be chosen
    assert kept["service_consent"]["label"] == "Consent for a service (required for route II)"
    assert (await only_contact(bot)).state is ContactState.AWAITING_SCREENING
    # the channel's card, which everyone sees, was not changed and never shows the rationale
    assert teams_channel.updates_to(decisions_channel(teams_channel)) == []


async def test_allocation_over_the_cap_is_refused_with_the_load_shown(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    policy = dataclasses.replace(load_policy(None), caseload=Caseload(cap=1))
    bot = await _ready(start_bot, teams_channel, policy=policy)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    first_id, first_card = _posted(teams_channel)
    view = await _view(teams_channel, CONSULTANT, first_card, first_id)
    allocated = await _decide(
        teams_channel,
        CONSULTANT,
        _route_data(view, "iv"),
        first_id,
        rationale=RATIONALE,
        worker=SOCIAL_WORKER.aad_object_id,
    )
    assert allocated.card is not None and "Decided: route IV" in texts_of(allocated.card)

    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, script())
    second_id, second_card = _posted(teams_channel)
    assert second_id != first_id
    view = await _view(teams_channel, CONSULTANT, second_card, second_id)
    assert "(1/1): at the cap" in texts_of(view)
    refused = await _decide(
        teams_channel,
        CONSULTANT,
        _route_data(view, "iv"),
        second_id,
        rationale=RATIONALE,
        worker=SOCIAL_WORKER.aad_object_id,
    )
    assert refused.card is not None
    assert "already holds 1 open contacts (the cap is 1)" in texts_of(refused.card)
    states = sorted(c.state.value for c in await contacts(bot))
    assert states == sorted([ContactState.SW_ASSESSMENT.value, ContactState.AWAITING_SCREENING.value])


async def test_an_anonymous_member_of_the_public_is_never_named_through_the_decision(
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
    )
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, anonymous)
    activity_id, response = await _route_ii(teams_channel)
    assert response.card is not None
    view = await _view(teams_channel, CONSULTANT_2, response.card, activity_id)
    [sign] = _executes(view, SIGN_OFF_VERB)
    signed = await teams_channel.execute(
        decisions_channel(teams_channel),
        CONSULTANT_2,
        SIGN_OFF_VERB,
        sign["data"],
        card_activity_id=activity_id,
    )
    _assert_minimised(
        response.card, view, signed.card, *teams_channel.cards(decisions_channel(teams_channel))
    )
    sent: list[Conversation] = [decisions_channel(teams_channel)]
    assert all(
        "Neighbour" not in (post.text or "") for where in sent for post in teams_channel.sent_to(where)
    )


@pytest.mark.parametrize("has_chat", [True, False], ids=["worker_has_chat", "worker_has_no_chat"])
async def test_the_allocated_worker_gets_the_record_in_their_personal_chat(
    start_bot: StartBot, teams_channel: TeamsChannel, has_chat: bool
) -> None:
    bot = await _ready(start_bot, teams_channel)
    worker_chat = await introduce(teams_channel, SOCIAL_WORKER) if has_chat else None
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    activity_id, card = _posted(teams_channel)
    view = await _view(teams_channel, CONSULTANT, card, activity_id)
    decided = await _decide(
        teams_channel,
        CONSULTANT,
        _route_data(view, "iv"),
        activity_id,
        rationale=RATIONALE,
        worker=SOCIAL_WORKER.aad_object_id,
    )
    assert decided.card is not None and "Decided: route IV" in texts_of(decided.card)
    if worker_chat is not None:
        [record] = [
            post
            for post in await teams_channel.wait_for_activities(2, worker_chat)
            if post.card and "CT-26-000001" in texts_of(post.card)
        ]
        assert record.card is not None and "Assigned to you" in texts_of(record.card)
        expected = "contact.assignee_told"
    else:
        consultant_chat = teams_channel.personal(CONSULTANT)
        found = await teams_channel.wait_for_activities(2, consultant_chat)
        assert any("please tell them it is theirs" in (post.text or "") for post in found)
        expected = "contact.assignee_not_told"
    for _ in range(100):
        if any(e.action == expected for e in await audit(bot)):
            break
        await asyncio.sleep(0.05)
    [told] = [e for e in await audit(bot) if e.action == expected]
    assert told.subject == "CT-26-000001" and f"assignee={SOCIAL_WORKER.aad_object_id}" in told.detail


@pytest.mark.parametrize("choice", ["cp_threshold_met", "reassign"])
async def test_the_duty_manager_decides_a_rereferral_on_the_duty_card(
    start_bot: StartBot, teams_channel: TeamsChannel, choice: str
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    await register_channels(teams_channel)
    await introduce(teams_channel, DUTY_MANAGER)
    await introduce(teams_channel, SOCIAL_WORKER)
    answers = script(history={"closed_on": "2026-02-02", "last_worker": SOCIAL_WORKER.aad_object_id})
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, answers)
    activity_id, card = _duty_post(teams_channel)
    assert card["refresh"]["userIds"] == [DUTY_MANAGER.id]

    consultant_view = await _duty_view(teams_channel, CONSULTANT, card, activity_id)
    assert _executes(consultant_view, REREFERRAL_VERB) == [] and _executes(consultant_view, DECIDE_VERB) == []
    view = await _duty_view(teams_channel, DUTY_MANAGER, card, activity_id)
    [worker_input] = [node for node in view["body"] if node.get("id") == "worker"]
    assert worker_input["value"] == SOCIAL_WORKER.aad_object_id

    forged = await teams_channel.execute(
        duty_channel(teams_channel),
        CONSULTANT,
        REREFERRAL_VERB,
        {**_choice_data(view, choice), "roles": ["duty_manager"], "rationale": RATIONALE},
        card_activity_id=activity_id,
    )
    assert forged.card is None and forged.json["value"].startswith("Sorry, only")

    decided = await teams_channel.execute(
        duty_channel(teams_channel),
        DUTY_MANAGER,
        REREFERRAL_VERB,
        {**_choice_data(view, choice), "rationale": RATIONALE, "worker": SOCIAL_WORKER.aad_object_id},
        card_activity_id=activity_id,
    )
    assert decided.card is not None, decided.text
    text = texts_of(decided.card)
    contact = await only_contact(bot)
    if choice == "cp_threshold_met":
        assert "Decided: child-protection threshold met, by Dara Dutyperson" in text
        assert contact.state is ContactState.CP_DECISION
    else:
        assert "Decided: reassigned to Wren Workerperson to recommend, by Dara Dutyperson" in text
        assert (
            contact.state is ContactState.SW_ASSESSMENT and contact.assignee_id == SOCIAL_WORKER.aad_object_id
        )
    replay = await teams_channel.execute(
        duty_channel(teams_channel),
        DUTY_MANAGER,
        REREFERRAL_VERB,
        {**_choice_data(view, choice), "rationale": RATIONALE},
        card_activity_id=activity_id,
    )
    assert replay.card is not None and "You have already done this" in texts_of(replay.card)
    for _ in range(100):
        if teams_channel.updates_to(duty_channel(teams_channel)):
            break
        await asyncio.sleep(0.05)
    [update] = teams_channel.updates_to(duty_channel(teams_channel))
    assert (
        update.activity_id == activity_id and update.card is not None and "Decided:" in texts_of(update.card)
    )
    _assert_minimised(card, view, decided.card, update.card)
