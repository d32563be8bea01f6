"""Who hears of an accepted contact when it is signed off (SPEC §3 "Sign-off", "Disagreement by the
receiving team"; §8): an accepted outcome must name the receiving team manager, the sign-off card
says whom signing off tells, and a manager who has lost their role by the time of the sign-off gets
no part of the contact: the signer is told on the card, and it is audited. The loopback Teams
channel, the real app over HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.cards.decisions import SIGN_OFF_VERB
from bot.cards.work_inputs import OUTCOME_VERB
from frontdoor.contact import ContactState
from frontdoor.roles import Role
from tests.bot.casework_helpers import (
    RECEIVING_TEAM,
    TEAM_MANAGER,
    channel_message_id,
    channel_view,
    eventually,
    press,
    press_card,
    ready,
    reply_card,
    screen,
)
from tests.bot.conftest import RunningBot
from tests.bot.decision_helpers import RATIONALE
from tests.bot.intake_script import (
    CHILD_NAME,
    CONSULTANT,
    CONSULTANT_2,
    OFFICER,
    REFERRER_NAME,
    audit,
    decisions_channel,
    only_contact,
    submit,
    texts_of,
)
from tests.harness.teams import TeamsChannel

#: the accepted outcome's inputs on the decisions card, without its receiving team manager
ACCEPTED = dict(
    outcome="accepted_for_assessment",
    service_consent="given",
    outcome_rationale=RATIONALE,
    receiving_team=RECEIVING_TEAM,
)


async def _route_i(teams_channel: TeamsChannel) -> dict[str, Any]:
    """A routine contact screened to route I; the consultant's view of its card."""
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await screen(teams_channel, "i")
    return await channel_view(teams_channel, CONSULTANT)


async def _record(teams_channel: TeamsChannel, view: dict[str, Any], **inputs: object) -> dict[str, Any]:
    return await press_card(
        teams_channel,
        decisions_channel(teams_channel),
        CONSULTANT,
        view,
        OUTCOME_VERB,
        "outcome",
        channel_message_id(teams_channel),
        **inputs,
    )


async def _sign_off(teams_channel: TeamsChannel) -> dict[str, Any]:
    where = decisions_channel(teams_channel)
    view = await channel_view(teams_channel, CONSULTANT_2)
    response = await press(
        teams_channel, where, CONSULTANT_2, view, SIGN_OFF_VERB, activity_id=channel_message_id(teams_channel)
    )
    return reply_card(response)


async def _audited(bot: RunningBot, action: str) -> list[str]:
    return [event.detail for event in await audit(bot) if event.action == action]


async def test_an_accepted_outcome_must_name_the_receiving_team_manager(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    view = await _route_i(teams_channel)
    [picker] = [node for node in _nodes(view) if node.get("id") == "receiving_manager"]
    assert "the receiving team manager (required" in picker["label"]

    refused = await _record(teams_channel, view, **ACCEPTED)
    assert "Receiving team manager: choose the receiving team's manager" in texts_of(refused)
    # the card comes back with what was typed on it
    typed = {str(node.get("id")): node.get("value") for node in _nodes(refused) if "id" in node}
    assert (typed["outcome_rationale"], typed["receiving_team"]) == (RATIONALE, RECEIVING_TEAM)
    assert (await only_contact(bot)).state is ContactState.CP_DECISION
    assert not await _audited(bot, "contact.record_outcome")

    # Once the decision to progress is made, accepted is the only choice: the card insists too.
    view = await channel_view(teams_channel, CONSULTANT)
    decided = await press_card(
        teams_channel,
        decisions_channel(teams_channel),
        CONSULTANT,
        view,
        OUTCOME_VERB,
        "accept",
        channel_message_id(teams_channel),
        cp_rationale=RATIONALE,
    )
    [picker] = [node for node in _nodes(decided) if node.get("id") == "receiving_manager"]
    assert picker.get("isRequired") is True
    recorded = await _record(teams_channel, decided, **ACCEPTED, receiving_manager=TEAM_MANAGER.aad_object_id)
    assert "Outcome: Accepted for a statutory assessment" in texts_of(recorded)

    # The sign-off card names whom signing off tells.
    signing = await channel_view(teams_channel, CONSULTANT_2)
    assert (
        "Signing off tells Tess Teammanagerperson, the receiving team manager named on the outcome"
        in texts_of(signing)
    )
    await _sign_off(teams_channel)

    async def told() -> bool:
        return bool(await _audited(bot, "contact.receiving_manager_told"))

    await eventually(told, "the receiving team manager told")
    assert not await _audited(bot, "contact.receiving_manager_not_told")


async def test_no_team_manager_in_the_directory_is_said_on_the_outcome_form(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    async with bot.store.unit_of_work() as uow:
        await uow.roles.revoke(TEAM_MANAGER.aad_object_id, Role.TEAM_MANAGER)
        await uow.commit()
    view = await _route_i(teams_channel)
    assert "No team manager is in the role directory, so a contact cannot be accepted yet" in texts_of(view)
    refused = await _record(teams_channel, view, **ACCEPTED)
    assert "Receiving team manager: choose" in texts_of(refused)
    assert (await only_contact(bot)).state is ContactState.CP_DECISION


async def test_a_receiving_manager_who_lost_their_role_before_the_sign_off_gets_nothing(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    view = await _route_i(teams_channel)
    await _record(teams_channel, view, **ACCEPTED, receiving_manager=TEAM_MANAGER.aad_object_id)
    reference = (await only_contact(bot)).reference or ""
    # Days later, before the sign-off, Tess is no longer a team manager.
    async with bot.store.unit_of_work() as uow:
        await uow.roles.revoke(TEAM_MANAGER.aad_object_id, Role.TEAM_MANAGER)
        await uow.commit()
    manager_chat = teams_channel.personal(TEAM_MANAGER)
    already = len(teams_channel.sent_to(manager_chat))

    # The signer sees, before signing, that she will not be told; and after it, that she was not.
    signing = await channel_view(teams_channel, CONSULTANT_2)
    assert f"will not be told of {reference}: they are no longer a team manager" in texts_of(signing)
    signed = await _sign_off(teams_channel)
    assert (await only_contact(bot)).state is ContactState.CLOSED

    # Nothing about the contact reaches her: no card, no @mention, no highlight.
    async def answered_after() -> bool:
        actions = {event.action for event in await audit(bot)}
        return bool(actions & {"contact.letter_delivered", "contact.letter_not_delivered"})

    await eventually(answered_after, "the work after the sign-off")
    await asyncio.sleep(0.2)  # anything sent after the answer would have gone by now
    for post in teams_channel.sent_to(manager_chat)[already:]:
        shown = (post.text or "") + (texts_of(post.card) if post.card else "")
        assert reference not in shown and CHILD_NAME not in shown and REFERRER_NAME not in shown
    mentioned = [p for p in teams_channel.sent_to(decisions_channel(teams_channel)) if p.mentions]
    assert not any(m.id == TEAM_MANAGER.aad_object_id for p in mentioned for m in p.mentions)
    assert not await _audited(bot, "contact.receiving_manager_told")
    assert not await _audited(bot, "contact.highlighted")

    # It is audited, and the signer's answer says who was not told and why.
    async def audited() -> bool:
        return bool(await _audited(bot, "contact.receiving_manager_not_told"))

    await eventually(audited, "the audit row of the manager not told")
    assert await _audited(bot, "contact.receiving_manager_not_told") == [
        f"manager={TEAM_MANAGER.aad_object_id}; reason=not_permitted"
    ]
    text = texts_of(signed)
    assert "Signed off and closed by Cai Consultantexample" in text
    assert f"was not told of {reference}: they are no longer a team manager, so they may not see it" in text
    assert "Please tell the receiving team's manager yourself" in text


def _nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [found for item in node for found in _nodes(item)]
    if isinstance(node, dict):
        return [node, *(found for value in node.values() for found in _nodes(value))]
    return []
