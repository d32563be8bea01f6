"""Why a clock ran late (SPEC §11 "breaches with reasons"), recorded on the breach alert card end to
end: the real app over HTTP with the scheduler, SQLite and PostgreSQL, the loopback Teams channel
(which validates every card) and an injected clock. The reason is a code from the card's choice;
every sent copy of the card shows it; it can be changed (the last wins, each audited); people who
may not, stale cards and forged codes change nothing; the figures card counts it."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.cards.alerts import ACK_VERB, ALERT_KEY, REASON_INPUT, REASON_VERB
from frontdoor.records import ClockKind, DeadlineState, LateReason
from tests.bot.alert_helpers import (
    REFERENCE,
    deliveries,
    outbox_rows,
    personal,
    tick_at,
    wait_for,
    with_cp_clock,
)
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.figures_helpers import table_rows
from tests.bot.intake_script import (
    ADMIN,
    DUTY_MANAGER,
    OFFICER,
    SOCIAL_WORKER,
    audit,
    duty_channel,
    introduce,
    texts_of,
)
from tests.harness.teams import TeamsChannel

AGENCY = "Why it ran late: Waiting for information from an agency."
CONSENT = "Why it ran late: Consent being sought."


def _buttons(card: dict[str, object]) -> list[str]:
    return [str(a.get("verb")) for a in card.get("actions", []) if isinstance(a, dict)]  # type: ignore[union-attr]


async def _reason(bot: RunningBot) -> tuple[DeadlineState, LateReason | None]:
    async with bot.store.unit_of_work() as uow:
        [deadline] = await uow.deadlines.for_subject(REFERENCE)
    return deadline.state, deadline.late_reason


async def test_a_reason_is_recorded_on_the_breach_card_changed_later_and_counted(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, clock, due = await with_cp_clock(start_bot, teams_channel)
    await tick_at(bot, clock, due)
    worker, duty = personal(teams_channel, SOCIAL_WORKER), duty_channel(teams_channel)
    [(key, post)] = deliveries(teams_channel, duty)
    assert post.card is not None
    # The breach card asks why, with a fixed list, and offers "Record the reason".
    assert _buttons(post.card) == [ACK_VERB, REASON_VERB, "contact.view"]
    [choices] = [e for e in post.card["body"] if e.get("id") == REASON_INPUT]
    assert [c["value"] for c in choices["choices"]] == [r.value for r in LateReason]

    # The person the work is with records it from their own copy.
    clock.set(due + timedelta(minutes=20))
    [(_, own)] = deliveries(teams_channel, worker)
    data = {ALERT_KEY: key.text, REASON_INPUT: LateReason.AGENCY_INFORMATION.value}
    reply = await teams_channel.execute(
        worker, SOCIAL_WORKER, REASON_VERB, data, card_activity_id=own.activity_id
    )
    assert reply.status == 200 and reply.card is not None, reply.text
    assert AGENCY in texts_of(reply.card)
    assert await _reason(bot) == (DeadlineState.OPEN, LateReason.AGENCY_INFORMATION)
    # Every sent copy shows it, in place.
    copies = {item.activity_id for item in await outbox_rows(bot) if item.activity_id}
    await wait_for(lambda: {u.activity_id for u in teams_channel.updates_to(None)} >= copies)
    for activity_id in copies:
        assert AGENCY in json.dumps(teams_channel.message(activity_id))

    # The duty manager takes it: the reason stays on the card.
    taken = await teams_channel.execute(
        duty, DUTY_MANAGER, ACK_VERB, {ALERT_KEY: key.text}, card_activity_id=post.activity_id
    )
    assert (
        taken.card is not None
        and AGENCY in texts_of(taken.card)
        and "Taken by Dara Dutyperson" in texts_of(taken.card)
    )
    assert _buttons(taken.card) == [REASON_VERB, "contact.view"]

    # ... and changes the reason after the clock closed late: the last one wins.
    async with bot.store.unit_of_work() as uow:
        closing = due + timedelta(minutes=30)
        await uow.deadlines.close(
            REFERENCE, ClockKind.CP_DECISION.value, "met", closing, closed_by=DUTY_MANAGER.aad_object_id
        )
        await uow.commit()
    clock.set(due + timedelta(minutes=40))
    data = {ALERT_KEY: key.text, REASON_INPUT: LateReason.CONSENT.value}
    changed = await teams_channel.execute(
        duty, DUTY_MANAGER, REASON_VERB, data, card_activity_id=post.activity_id
    )
    assert (
        changed.card is not None
        and CONSENT in texts_of(changed.card)
        and AGENCY not in texts_of(changed.card)
    )
    assert "Taken by Dara Dutyperson" in texts_of(changed.card)
    assert await _reason(bot) == (DeadlineState.LATE, LateReason.CONSENT)
    await wait_for(lambda: all(CONSENT in json.dumps(teams_channel.message(a)) for a in copies))

    recorded = [
        (e.actor_id, e.subject, e.detail) for e in await audit(bot) if e.action == "clock.late_reason"
    ]
    assert recorded == [
        (SOCIAL_WORKER.aad_object_id, REFERENCE, "clock=cp_decision; reason=agency_information"),
        (DUTY_MANAGER.aad_object_id, REFERENCE, "clock=cp_decision; reason=consent"),
    ]

    # The figures count it: this week's late child-protection clock, consent being sought.
    shown = await teams_channel.say(personal(teams_channel, DUTY_MANAGER), DUTY_MANAGER, "figures this week")
    [card] = shown.cards
    rows = table_rows(card)
    assert ["Consent being sought", "1"] in rows and ["No reason recorded", "0"] in rows
    assert len(json.dumps(card, separators=(",", ":")).encode()) < 28 * 1024


async def test_who_may_not_forged_codes_and_stale_cards_change_nothing(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, clock, due = await with_cp_clock(start_bot, teams_channel)
    await introduce(teams_channel, OFFICER)
    await tick_at(bot, clock, due)
    duty = duty_channel(teams_channel)
    [(key, post)] = deliveries(teams_channel, duty)
    good = {ALERT_KEY: key.text, REASON_INPUT: LateReason.VOLUME.value}
    before = len(await audit(bot))

    # An officer who is not the assignee may see the card but not say why it ran late: audited.
    refused = await teams_channel.execute(duty, OFFICER, REASON_VERB, good, card_activity_id=post.activity_id)
    assert refused.card is None and "only the person the work is with" in refused.text
    # An administrator has no case access: refused before the handler.
    outsider = await teams_channel.execute(duty, ADMIN, REASON_VERB, good, card_activity_id=post.activity_id)
    assert outsider.card is None and "Sorry, only" in outsider.text
    # Forged or missing codes and garbled keys: nothing recorded.
    for data in (
        {ALERT_KEY: key.text, REASON_INPUT: "staff were on strike"},
        {ALERT_KEY: key.text},
        {ALERT_KEY: "a1|CT-26-000101|cp_decision|nonsense|0|x", REASON_INPUT: "volume"},
    ):
        reply = await teams_channel.execute(
            duty, DUTY_MANAGER, REASON_VERB, data, card_activity_id=post.activity_id
        )
        assert reply.card is None and ("choose why" in reply.text or "could not be read" in reply.text)
    assert [(e.action, e.actor_id, e.subject) for e in (await audit(bot))[before:]] == [
        ("clock.late_reason_refused", OFFICER.aad_object_id, REFERENCE),
        ("access.refused", ADMIN.aad_object_id, "verb:alert.reason"),
    ]
    assert await _reason(bot) == (DeadlineState.OPEN, None)

    # A stale card: the clock stopped mattering (cancelled) by its due time, so it did not run late
    # (cancelled after its due time it would be recorded late, SPEC §3).
    async with bot.store.unit_of_work() as uow:
        await uow.deadlines.close(
            REFERENCE, ClockKind.CP_DECISION.value, "cancelled", due, closed_by=DUTY_MANAGER.aad_object_id
        )
        await uow.commit()
    stale = await teams_channel.execute(
        duty, DUTY_MANAGER, REASON_VERB, good, card_activity_id=post.activity_id
    )
    assert stale.card is None and "did not run late (cancelled)" in stale.text
    assert await _reason(bot) == (DeadlineState.CANCELLED, None)
    assert not [e for e in await audit(bot) if e.action == "clock.late_reason"]
    assert teams_channel.updates_to(duty) == []
