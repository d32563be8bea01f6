"""The handover, escalation and MARAC renderers as the dispatcher calls them: valid Adaptive Cards
1.5 under Microsoft's SDK, the right @mentions, late marking, and a busy day's handover still small
enough for Teams."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.cards.duty import rota_card, status_card
from bot.cards.handover import ACK_VERB, MAX_LINES, handover_card
from bot.outbox_cards import RENDERERS, render
from frontdoor.alert_recipients import Staffing
from frontdoor.alerts import DUTY_CHANNEL, AlertKind, OutboxItem, OutboxMessage, OutboxState, Recipient
from frontdoor.calendar import WorkingCalendar
from frontdoor.contact import ContactState
from frontdoor.continuity import UrgentOnly
from frontdoor.duty import HandoverAck, HandoverEscalation, HandoverPost
from frontdoor.handover import HandoverContact, build_handover, handover_key, handover_message
from frontdoor.marac import plan_marac_reminder
from frontdoor.policy import default_policy
from frontdoor.records import ClockKind, Deadline, DirectoryEntry, RotaEntry
from frontdoor.roles import Role
from frontdoor.rota import ROTA_ROLES, RotaDay, RotaPerson
from frontdoor.status import EmailedAlert, Status
from tests.bot.intake_script import actions, texts_of
from tests.frontdoor.bank_holiday_dates import WEEKDAY_HOLIDAYS
from tests.harness.cards import validate_card

POLICY = default_policy()
CAL = WorkingCalendar(non_working_dates=WEEKDAY_HOLIDAYS)
AT = datetime(2026, 3, 16, 16, 30, tzinfo=UTC)
NAMES = {"aad-duty": "Dara Dutyperson", "aad-worker": "Wren Workerperson", "aad-tm": "Tam Teammanagerperson"}
#: Teams refuses messages over about 28 KB.
TEAMS_LIMIT = 28 * 1024


def item_of(message: OutboxMessage, item_id: int = 7) -> OutboxItem:
    return OutboxItem(
        id=item_id,
        key=message.key,
        subject=message.subject,
        clock=message.clock,
        kind=message.kind,
        conversation_id=None,
        payload=message.payload,
        due_at=message.send_at,
        created_at=message.send_at,
        state=OutboxState.LEASED,
        attempts=1,
        next_attempt_at=message.send_at,
    )


def staffing() -> Staffing:
    return Staffing.of(
        [RotaEntry(date(2026, 3, 17), Role.DUTY_MANAGER, "aad-duty")],
        [
            DirectoryEntry("aad-duty", frozenset({Role.DUTY_MANAGER})),
            DirectoryEntry("aad-worker", frozenset({Role.SOCIAL_WORKER})),
        ],
    )


def busy_handover_item(contacts: int) -> OutboxItem:
    views = [
        HandoverContact(f"CT-26-{n:06d}", ContactState.SW_ASSESSMENT, AT - timedelta(hours=40), "aad-worker")
        for n in range(1, contacts + 1)
    ]
    deadlines = [
        Deadline(
            view.reference, ClockKind.COMPLETION_48H, view.received_at, view.received_at + timedelta(hours=48)
        )
        for view in views
    ]
    handover = build_handover(views, deadlines, AT, CAL, POLICY, staffing())
    return item_of(handover_message(handover, CAL, POLICY))


def assert_valid(card: dict[str, object]) -> None:
    assert validate_card(card) == []
    assert len(json.dumps(card).encode()) < TEAMS_LIMIT


def test_every_kind_the_daily_jobs_enqueue_has_a_renderer() -> None:
    for kind in (AlertKind.HANDOVER, AlertKind.HANDOVER_ESCALATION, AlertKind.MARAC_REMINDER):
        assert kind in RENDERERS


def test_the_handover_renders_with_the_incoming_duty_manager_to_mention() -> None:
    item = busy_handover_item(2)
    rendered = render(item, AT + timedelta(seconds=30), NAMES)
    assert rendered.mention_ids == ("aad-duty",)
    assert rendered.text is not None and "Mon 16 Mar 2026" in rendered.text
    assert_valid(rendered.card)
    [ack] = [node for node in actions(rendered.card) if node.get("verb") == ACK_VERB]
    assert ack["data"] == {"day": "2026-03-16", "item": 7}
    text = texts_of(rendered.card)
    assert "Over to: Dara Dutyperson (duty manager on the rota for Tue 17 Mar 2026)" in text
    assert "Sent late" not in text
    late = render(item, AT + timedelta(hours=3), NAMES)
    assert "Sent late" in texts_of(late.card)


@pytest.mark.parametrize("contacts", [0, 1, MAX_LINES, 85, 200])
def test_a_busy_days_handover_stays_small_enough_for_teams(contacts: int) -> None:
    rendered = render(busy_handover_item(contacts), AT, NAMES)
    assert_valid(rendered.card)
    text = texts_of(rendered.card)
    if contacts > MAX_LINES:
        assert f"…and {contacts - MAX_LINES} more." in text
    if contacts == 0:
        assert "With social workers and still open (0)" in text


def test_an_acknowledged_handover_has_no_button_and_names_who() -> None:
    item = busy_handover_item(1)
    handover = json.loads(item.payload)
    assert handover["kind"] == AlertKind.HANDOVER.value
    post = HandoverPost.from_payload(item.payload)
    ack = HandoverAck(date(2026, 3, 16), "aad-duty", datetime(2026, 3, 17, 8, 5, tzinfo=UTC))
    card = handover_card(post.handover, NAMES, due_at=post.due_at, ack=ack, item_id=item.id)
    assert_valid(card)
    assert "Acknowledged by Dara Dutyperson at Tue 17 Mar 2026 08:05" in texts_of(card)
    assert [node for node in actions(card) if node.get("verb") == ACK_VERB] == []


def test_the_escalation_mentions_the_team_managers_in_the_channel_only() -> None:
    key = handover_key(date(2026, 3, 16), CAL, POLICY).but(AlertKind.HANDOVER_ESCALATION)
    escalation = HandoverEscalation(
        day=date(2026, 3, 16),
        handover_at=AT,
        escalated_at=datetime(2026, 3, 17, 8, 30, tzinfo=UTC),
        next_duty_day=date(2026, 3, 17),
        next_duty_managers=("aad-duty",),
        team_managers=("aad-tm",),
    )
    body = {"kind": key.kind.value, "escalation": escalation.data()}
    for recipient, mentions in ((DUTY_CHANNEL, ("aad-tm",)), (Recipient.person("aad-tm"), ())):
        message = OutboxMessage.create(
            f"{key.text}#{recipient.text}", key, recipient, escalation.escalated_at, body
        )
        rendered = render(item_of(message), escalation.escalated_at, NAMES)
        assert rendered.mention_ids == mentions
        assert_valid(rendered.card)
        text = texts_of(rendered.card)
        assert (
            "Handover not acknowledged" in text
            and "Dara Dutyperson" in text
            and "Tam Teammanagerperson" in text
        )


def test_the_marac_reminder_renders_and_says_when_it_is_late() -> None:
    remind = datetime(2026, 3, 17, 9, 30, tzinfo=UTC)
    message = plan_marac_reminder(remind, CAL, POLICY, {})
    assert message is not None
    rendered = render(item_of(message), remind, NAMES)
    assert_valid(rendered.card)
    assert rendered.mention_ids == ()
    assert "MARAC meeting today at 13:00" in texts_of(rendered.card)
    late = render(item_of(message), remind + timedelta(hours=2), NAMES)
    assert "Sent late" in texts_of(late.card)


def test_the_rota_and_status_cards_are_valid_with_and_without_people() -> None:
    nobody = RotaDay(
        date(2026, 3, 21), False, {role: () for role in ROTA_ROLES}, {role: () for role in ROTA_ROLES}
    )
    assert_valid(rota_card(nobody, editable=True))
    someone = RotaPerson("aad-duty", "Dara Dutyperson")
    full = RotaDay(
        date(2026, 3, 17),
        True,
        {**{role: () for role in ROTA_ROLES}, Role.DUTY_MANAGER: (someone,)},
        {**{role: () for role in ROTA_ROLES}, Role.DUTY_MANAGER: (someone,)},
    )
    card = rota_card(full, editable=True, saved="Saved: no changes.")
    assert_valid(card)
    assert texts_of(card).count("Dara Dutyperson") == 2  # on duty, and a choice
    handover = build_handover([], [], AT, CAL, POLICY, staffing())
    status = Status(
        made_at=AT,
        open_contacts=handover.open_contacts,
        loads=handover.loads,
        breached=(),
        at_risk=(),
        dead=(),
        undelivered=(),
        outbox={state: 0 for state in OutboxState},
        channels={},
    )
    assert_valid(status_card(status, NAMES))
    # In urgent-only mode, with an alert that went by e-mail.
    emailed = EmailedAlert(
        "CT-26-000101", ClockKind.CP_DECISION, AlertKind.BREACHED, AT, OutboxState.SENT, AT, ""
    )
    busy = replace(status, urgent_only=UrgentOnly(AT, "aad-tm", "Loss of IT"), emailed=(emailed,))
    card = status_card(busy, NAMES)
    assert_valid(card)
    assert "Urgent-only mode" in texts_of(card) and "Loss of IT" in texts_of(card)
    assert "Alerts sent by e-mail (1)" in texts_of(card) and "CT-26-000101" in texts_of(card)


def test_the_handover_lists_urgent_contacts_whose_history_checks_are_outstanding() -> None:
    received = AT - timedelta(hours=1)
    views = [
        HandoverContact("CT-26-000007", ContactState.AWAITING_SCREENING, received, None, True),
        HandoverContact("CT-26-000008", ContactState.AWAITING_SCREENING, received, None, False),
    ]
    handover = build_handover(views, [], AT, CAL, POLICY, staffing())
    rendered = render(item_of(handover_message(handover, CAL, POLICY)), AT + timedelta(seconds=30), NAMES)
    assert_valid(rendered.card)
    text = texts_of(rendered.card)
    assert "Urgent contacts with history checks outstanding (1)" in text
    assert "CT-26-000007" in text and "CT-26-000008" not in text
