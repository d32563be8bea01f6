"""Back to screening in Teams, end to end: "Send back" on the decisions channel card's sign-off view,
"Return for a threshold decision" on the social worker's personal card, the decision made again and
signed off, and refusals (wrong role, no reason, stale, replayed, forged roles) that change nothing.
The loopback Teams channel, the real app over HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from bot.cards.decisions import DECIDE_VERB, SIGN_OFF_VERB
from bot.cards.quality import REFUSE_SIGN_OFF_VERB, RETURN_VERB
from bot.cards.work_inputs import WORK_VERB
from frontdoor.allocation import worker_loads
from frontdoor.contact import ContactState
from frontdoor.policy import default_policy
from tests.bot.casework_helpers import (
    OTHER_WORKER,
    _rereferral,
    assert_every_change_audited,
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
from tests.bot.decision_helpers import _assert_minimised
from tests.bot.intake_script import (
    CONSULTANT,
    CONSULTANT_2,
    OFFICER,
    SOCIAL_WORKER,
    audit,
    decisions_channel,
    only_contact,
    submit,
    texts_of,
)
from tests.harness.teams import TeamsChannel, TeamsUser

REASON = "The rationale does not weigh the school's neglect concerns"


async def _channel_says(teams_channel: TeamsChannel, needle: str) -> dict[str, Any]:
    """The latest in-place update of the decisions card that says ``needle``."""
    found: list[dict[str, Any]] = []

    async def check() -> bool:
        found[:] = [
            u.card
            for u in teams_channel.updates_to(decisions_channel(teams_channel))
            if u.card and needle in texts_of(u.card)
        ]
        return bool(found)

    await eventually(check, f"the channel card saying {needle!r}")
    return found[-1]


async def _send_back(
    teams_channel: TeamsChannel, user: TeamsUser, view: dict[str, Any], **inputs: object
) -> dict[str, Any]:
    channel = decisions_channel(teams_channel)
    return await press_card(
        teams_channel,
        channel,
        user,
        view,
        REFUSE_SIGN_OFF_VERB,
        activity_id=channel_message_id(teams_channel),
        **inputs,
    )


async def _sign_off(teams_channel: TeamsChannel, user: TeamsUser) -> dict[str, Any]:
    view = await channel_view(teams_channel, user)
    channel = decisions_channel(teams_channel)
    return await press_card(
        teams_channel, channel, user, view, SIGN_OFF_VERB, activity_id=channel_message_id(teams_channel)
    )


async def _load(bot: RunningBot, worker: TeamsUser) -> int:
    loads = await worker_loads(bot.store.unit_of_work(), default_policy())
    [choice] = [c for c in loads if c.worker_id == worker.aad_object_id]
    return choice.load.open_contacts


async def test_a_sent_back_outcome_is_decided_again_and_signed_off(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await screen(teams_channel, "ii", outcome="advice_and_guidance")
    assert (await only_contact(bot)).state is ContactState.AWAITING_SIGNOFF

    view = await channel_view(teams_channel, CONSULTANT_2)
    assert has_button(view, SIGN_OFF_VERB) and has_button(view, REFUSE_SIGN_OFF_VERB)
    assert "Why it is not signed off (required)" in texts_of(view)
    back = await _send_back(teams_channel, CONSULTANT_2, view, send_back_reason=REASON)

    # The consultant gets the screening routes back at once, with who sent it back and when.
    text = texts_of(back)
    assert "Sent back: CT-26-000001 is awaiting screening again, due by 10:00 on Tue 17 Mar" in text
    assert (
        "Sent back from sign-off for a fresh decision, by Cai Consultantexample at Mon 16 Mar 2026 10:00."
        in text
    )
    assert has_button(back, DECIDE_VERB) and not has_button(back, SIGN_OFF_VERB)
    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SCREENING and contact.events[-1].rationale == REASON
    updated = await _channel_says(teams_channel, "Sent back from sign-off")
    assert "Contact awaiting screening" in texts_of(updated)

    # The consultant who recorded the outcome is told in their personal chat, with the reason.
    told = await card_in(
        teams_channel, teams_channel.personal(CONSULTANT), "the outcome you recorded was not signed off"
    )
    assert told.card is not None and REASON in texts_of(told.card)
    assert "Sent back from sign-off for a fresh decision" in texts_of(told.card)
    _assert_minimised(view, back, updated)
    for card in (view, back, updated):
        assert REASON not in texts_of(card)

    # Decided again (route II), then signed off: closed.
    await screen(teams_channel, "ii", CONSULTANT_2, outcome="no_further_action")
    signed = await _sign_off(teams_channel, CONSULTANT)
    assert "Signed off and closed by Cora Consultantperson" in texts_of(signed)
    closed = await only_contact(bot)
    assert closed.state is ContactState.CLOSED
    seen = await assert_every_change_audited(bot, closed)
    assert (
        seen.index("contact.route_ii")
        < seen.index("contact.refuse_sign_off")
        < seen.index("contact.sign_off")
    )

    async def recorder_told() -> bool:
        return "contact.recorder_told" in [e.action for e in await audit(bot)]

    await eventually(recorder_told, "the recorder's notice audited")


async def test_a_social_worker_returns_an_allocation_for_a_consultant_to_decide(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    worker_chat = teams_channel.personal(SOCIAL_WORKER)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await screen(teams_channel, "iv", worker=SOCIAL_WORKER.aad_object_id)
    post = await card_in(teams_channel, worker_chat, "Assigned to you for a social-work assessment")
    assert post.card is not None and has_button(post.card, RETURN_VERB)
    assert await _load(bot, SOCIAL_WORKER) == 1

    refused = await press_card(
        teams_channel, worker_chat, SOCIAL_WORKER, post.card, RETURN_VERB, return_reason=" "
    )
    assert "Reason: say why a threshold decision by a consultant is needed" in texts_of(refused)
    card = await press_card(
        teams_channel, worker_chat, SOCIAL_WORKER, post.card, RETURN_VERB, return_reason=REASON
    )
    text = texts_of(card)
    assert "Returned: CT-26-000001 is back with the consultants" in text
    assert not has_button(card, WORK_VERB, "outcome") and not has_button(card, RETURN_VERB)
    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SCREENING and contact.assignee_id is None
    assert await _load(bot, SOCIAL_WORKER) == 0
    updated = await _channel_says(teams_channel, "Returned by the social worker for a threshold decision")
    assert REASON not in texts_of(updated)

    # The consultant decides again on the same channel card, and it is signed off.
    view = await channel_view(teams_channel, CONSULTANT)
    assert has_button(view, DECIDE_VERB)
    await screen(teams_channel, "ii", outcome="advice_and_guidance")
    await _sign_off(teams_channel, CONSULTANT_2)
    closed = await only_contact(bot)
    assert closed.state is ContactState.CLOSED
    seen = await assert_every_change_audited(bot, closed)
    assert (
        seen.index("contact.route_iv")
        < seen.index("contact.return_for_screening")
        < seen.index("contact.route_ii")
    )


async def test_a_returned_re_referral_gets_a_card_on_the_decisions_channel(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    """A re-referral's only card is on the duty channel; returned for a threshold decision it is
    posted to the decisions channel too, where consultants decide it and later redraws go."""
    bot, _ = await ready(start_bot, teams_channel)
    await _rereferral(teams_channel, "reassign")
    assert not [post for post in teams_channel.sent_to(decisions_channel(teams_channel)) if post.card]
    worker_chat = teams_channel.personal(SOCIAL_WORKER)
    post = await card_in(teams_channel, worker_chat, "Assigned to you for a recommendation within 48 hours")
    assert post.card is not None
    await press_card(teams_channel, worker_chat, SOCIAL_WORKER, post.card, RETURN_VERB, return_reason=REASON)
    reference = (await only_contact(bot)).reference or ""

    async def posted() -> bool:
        return any(
            event.action == "contact.posted"
            and event.subject == reference
            and "purpose=decisions" in event.detail
            for event in await audit(bot)
        )

    await eventually(posted, "the returned re-referral posted to the decisions channel")
    [card] = [p.card for p in teams_channel.sent_to(decisions_channel(teams_channel)) if p.card]
    assert "refresh" in card and REASON not in texts_of(card)
    _assert_minimised(card)
    assert has_button(await channel_view(teams_channel, CONSULTANT), DECIDE_VERB)

    await screen(teams_channel, "ii", outcome="advice_and_guidance")
    await _sign_off(teams_channel, CONSULTANT_2)
    closed = await only_contact(bot)
    assert closed.state is ContactState.CLOSED
    seen = await assert_every_change_audited(bot, closed)
    assert (
        seen.index("contact.reassign")
        < seen.index("contact.return_for_screening")
        < seen.index("contact.route_ii")
    )


async def test_an_officers_card_has_no_return_for_a_threshold_decision(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    await ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await screen(teams_channel, "iii", officer=OFFICER.aad_object_id)
    post = await card_in(teams_channel, teams_channel.personal(OFFICER), "Assigned to you for further work")
    assert post.card is not None and has_button(post.card, WORK_VERB, "outcome")
    assert not has_button(post.card, RETURN_VERB)


async def test_wrong_roles_no_reason_stale_and_replayed_send_backs_change_nothing(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await screen(teams_channel, "ii", outcome="advice_and_guidance")
    view = await channel_view(teams_channel, CONSULTANT_2)
    channel = decisions_channel(teams_channel)
    before = await only_contact(bot)
    audited = len(await audit(bot))
    forged: dict[str, object] = {"roles": ["consultant"], "aad_object_id": CONSULTANT_2.aad_object_id}

    # A social worker or an officer, whatever the card claims, is refused.
    for user in (SOCIAL_WORKER, OFFICER):
        response = await press(
            teams_channel,
            channel,
            user,
            view,
            REFUSE_SIGN_OFF_VERB,
            activity_id=channel_message_id(teams_channel),
            forged=forged,
            send_back_reason=REASON,
        )
        assert response.card is None and response.json["value"].startswith("Sorry, only consultants")
    # No reason: the card says what is missing.
    empty = await _send_back(teams_channel, CONSULTANT_2, view, send_back_reason="")
    assert "Reason: say why the outcome is not signed off" in texts_of(empty)
    assert has_button(empty, SIGN_OFF_VERB)
    # A card that cannot be read.
    unreadable = await teams_channel.execute(
        channel, CONSULTANT_2, REFUSE_SIGN_OFF_VERB, {"reference": before.reference, "version": "x"}
    )
    assert unreadable.json["value"] == "This card could not be read, so nothing was changed."
    # A card older than the decision (its version before route II).
    stale = await _send_back(
        teams_channel, CONSULTANT_2, view, version=before.version - 1, send_back_reason=REASON
    )
    assert "was already decided by Cora Consultantperson" in texts_of(stale)
    assert (await only_contact(bot)).version == before.version
    refusals = (await audit(bot))[audited:]
    assert [e.action for e in refusals] == ["access.refused"] * 2
    assert {e.actor_id for e in refusals} == {SOCIAL_WORKER.aad_object_id, OFFICER.aad_object_id}

    # Sent back once; the same press again, and another consultant's on the old view, change nothing.
    await _send_back(teams_channel, CONSULTANT_2, view, send_back_reason=REASON)
    after = await only_contact(bot)
    replay = await _send_back(teams_channel, CONSULTANT_2, view, send_back_reason=REASON)
    assert "You have already done this" in texts_of(replay)
    other = await _send_back(teams_channel, CONSULTANT, view, send_back_reason=REASON)
    assert "was already decided by Cai Consultantexample" in texts_of(other)
    signing = await press(
        teams_channel, channel, CONSULTANT, view, SIGN_OFF_VERB, activity_id=channel_message_id(teams_channel)
    )
    assert "was already decided by Cai Consultantexample" in texts_of(reply_card(signing))
    assert (await only_contact(bot)).version == after.version
    assert [e.action for e in await audit(bot)].count("contact.refuse_sign_off") == 1


async def test_only_the_allocated_worker_returns_it_from_their_personal_chat(
    start_bot: Any, teams_channel: TeamsChannel
) -> None:
    bot, _ = await ready(start_bot, teams_channel)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await screen(teams_channel, "iv", worker=SOCIAL_WORKER.aad_object_id)
    worker_chat = teams_channel.personal(SOCIAL_WORKER)
    post = await card_in(teams_channel, worker_chat, "Assigned to you")
    assert post.card is not None
    card = post.card
    before = await only_contact(bot)
    forged: dict[str, object] = {"roles": ["social_worker"], "aad_object_id": SOCIAL_WORKER.aad_object_id}

    consultant = await press(
        teams_channel,
        teams_channel.personal(CONSULTANT),
        CONSULTANT,
        card,
        RETURN_VERB,
        forged=forged,
        return_reason=REASON,
    )
    assert consultant.card is None and consultant.json["value"].startswith("Sorry, only social workers")
    other = await press_card(
        teams_channel,
        teams_channel.personal(OTHER_WORKER),
        OTHER_WORKER,
        card,
        RETURN_VERB,
        forged=forged,
        return_reason=REASON,
    )
    assert "is allocated to someone else" in texts_of(other)
    for where in (decisions_channel(teams_channel), teams_channel.group_chat(SOCIAL_WORKER, CONSULTANT)):
        elsewhere = await press(teams_channel, where, SOCIAL_WORKER, card, RETURN_VERB, return_reason=REASON)
        assert elsewhere.card is None and "only in your personal chat" in elsewhere.json["value"]
    assert (await only_contact(bot)).version == before.version

    await press_card(teams_channel, worker_chat, SOCIAL_WORKER, card, RETURN_VERB, return_reason=REASON)
    replay = await press_card(
        teams_channel, worker_chat, SOCIAL_WORKER, card, RETURN_VERB, return_reason=REASON
    )
    assert "You have already done this" in texts_of(replay)
    # The worker's old card no longer records work either.
    work = await press_card(
        teams_channel, worker_chat, SOCIAL_WORKER, card, WORK_VERB, "referrer_contact", referrer_notes="Spoke"
    )
    assert "You have already done this" in texts_of(work)
    assert [e.action for e in await audit(bot)].count("contact.return_for_screening") == 1
