"""The deadline alert cards (SPEC §7): due soon, breached, the repeats of a breached
child-protection clock, its escalation to the team manager, and a lapsed parent letter.

An alert goes to people's personal chats and to the duty channel, so it shows what a channel may:
the contact's reference, the clock, the due time (London), what kind of alert it is, whether it is
late, and staff by display name. Never a child's or family's name, nor anything anyone typed: the
card is built from ``frontdoor.dispatch.AlertNotice``, which holds ids, clock names and times only.

"I've got this" (breach alerts only: a due-soon alert informs) is an ``Action.Execute`` (verb
``ACK_VERB``) whose data is ``{"alert": <the alert key's text>}`` and nothing else that matters: who
presses is the activity's sender. Once someone has it the card says "Taken by <name> at <time>" and
the button goes; every copy is updated in place.

A breach card also asks why the clock ran late (SPEC §11): a choice of ``LateReason`` codes (input
``REASON_INPUT``) and "Record the reason" (verb ``REASON_VERB``, same data). Once recorded the card
says "Why it ran late: <reason>"; the choice stays, so the reason can be changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    ChoiceSetInput,
    Container,
    ExecuteAction,
    Fact,
    FactSet,
    TextBlock,
)
from microsoft_teams.cards import Choice as CardChoice

from bot.cards.clocks import CLOCK_TITLES
from bot.cards.common import to_dict
from bot.cards.decision import view_action
from bot.cards.rendered import Rendered
from frontdoor.alerts import AlertKind, OutboxItem, Recipient, RecipientKind, is_late
from frontdoor.dispatch import TAKEABLE, AlertNotice
from frontdoor.late_reasons import LATE_REASON_TITLES
from frontdoor.records import LateReason
from frontdoor.timefmt import format_due, format_local

__all__ = [
    "ACK_VERB",
    "ALERT_CARD_KINDS",
    "ALERT_ID_PREFIX",
    "ALERT_KEY",
    "REASON_INPUT",
    "REASON_VERB",
    "TakenBy",
    "alert_card",
    "alert_message",
    "render_alert",
]

#: The verb of "I've got this".
ACK_VERB: Final = "alert.ack"
#: The verb of "Record the reason", and the input of the reason's code.
REASON_VERB: Final = "alert.reason"
REASON_INPUT: Final = "late_reason"
#: The key of the alert key's text in the action's data.
ALERT_KEY: Final = "alert"
#: The id of the card's reference line is this and the alert key's text.
ALERT_ID_PREFIX: Final = "alert:"
#: The kinds of outbox row these cards render.
ALERT_CARD_KINDS: Final = frozenset(
    {AlertKind.DUE_SOON, AlertKind.BREACHED, AlertKind.REPEAT, AlertKind.ESCALATION, AlertKind.LETTER_LAPSED}
)

#: How each kind of clock alert is named (cards and e-mails).
ALERT_KIND_TITLES: Mapping[AlertKind, str] = {
    AlertKind.DUE_SOON: "Due soon",
    AlertKind.BREACHED: "Breached",
    AlertKind.REPEAT: "Still breached, not taken",
    AlertKind.ESCALATION: "Escalated to the team manager",
    AlertKind.LETTER_LAPSED: "Parent letter lapsed",
    AlertKind.MAIL_UNTAKEN: "E-mail left untaken",
    AlertKind.HANDOVER_ESCALATION: "Handover not acknowledged, escalated",
    AlertKind.URGENT_OUT_OF_HOURS: "Urgent contact out of hours",
}


@dataclass(frozen=True, slots=True)
class TakenBy:
    """Who said "I've got this", and when."""

    name: str
    at: datetime


def _clock_title(notice: AlertNotice) -> str:
    return CLOCK_TITLES[notice.key.clock] if notice.key.clock is not None else "Deadline"


def _heading(notice: AlertNotice) -> str:
    clock = _clock_title(notice)
    match notice.key.kind:
        case AlertKind.DUE_SOON:
            return f"Due soon: {clock}"
        case AlertKind.BREACHED:
            return f"Breached: {clock}"
        case AlertKind.REPEAT:
            return f"Still breached, reminder {notice.key.sequence}: {clock}"
        case AlertKind.ESCALATION:
            return f"Escalated to the team manager: {clock} breached and nobody has taken it"
        case AlertKind.LETTER_LAPSED:
            return "Parent letter lapsed: back to review and re-apply the threshold"
        case _:
            return f"Alert: {clock}"


def _person(person_id: str | None, names: Mapping[str, str], nobody: str) -> str:
    if not person_id:
        return nobody
    return names.get(person_id) or "a member of staff"


def _recipient(recipient: Recipient, names: Mapping[str, str]) -> str:
    if recipient.kind is RecipientKind.PERSON:
        return names.get(recipient.address) or "the person it was for"
    return f"the {recipient.address} channel"


def _lapsed_line(notice: AlertNotice, names: Mapping[str, str]) -> str:
    reference = notice.key.subject
    if notice.assignee_id and notice.recipient.person_id == notice.assignee_id:
        whose = "you"
    elif notice.assignee_id:
        whose = _person(notice.assignee_id, names, "its worker")
    else:
        return (
            f"The parents did not make contact in time. {reference} has no worker assigned: please see "
            "that it is reviewed and the threshold re-applied."
        )
    return (
        f"The parents did not make contact in time. {reference} is back with {whose} to review and "
        "re-apply the threshold."
    )


def alert_card(
    notice: AlertNotice,
    now: datetime,
    names: Mapping[str, str],
    *,
    sent_at: datetime | None = None,
    taken: TakenBy | None = None,
    note: str = "",
    reason: LateReason | None = None,
) -> dict[str, Any]:
    """The card for ``notice`` at ``now``. ``sent_at`` is when it was first sent (for a card updated
    later, so it stays marked late or not as it was); ``taken``: someone has it; ``note``: a line of
    our own wording (e.g. "Dara Dutyperson already has this"); ``reason``: why the clock ran late,
    as recorded."""
    kind = notice.key.kind
    reference = notice.key.subject
    due = notice.key.due_at
    body: list[CardElement] = []
    if is_late(notice.at, sent_at or now):
        body.append(
            Container(
                style="warning",
                items=[
                    TextBlock(
                        text=f"Late: this alert was due at {format_local(notice.at)}.",
                        weight="Bolder",
                        wrap=True,
                    )
                ],
            )
        )
    body += [
        TextBlock(
            text=_heading(notice),
            weight="Bolder",
            color="Attention"
            if kind in (AlertKind.BREACHED, AlertKind.REPEAT, AlertKind.ESCALATION)
            else None,
            wrap=True,
        ),
        # The element's id names the alert, so a copy can be told apart with or without its button.
        TextBlock(
            id=f"{ALERT_ID_PREFIX}{notice.key.text}", text=reference, size="Large", weight="Bolder", wrap=True
        ),
    ]
    if kind is AlertKind.LETTER_LAPSED:
        body.append(TextBlock(text=_lapsed_line(notice, names), wrap=True))
    facts = [Fact(title="Clock", value=_clock_title(notice))]
    if kind is AlertKind.LETTER_LAPSED:
        facts.append(Fact(title="Letter lapsed", value=format_local(due)))
        if notice.review_due is not None:
            review = f"{format_local(notice.review_due)} ({format_due(notice.review_due, now)})"
            facts.append(Fact(title="Review due", value=review))
    else:
        facts.append(Fact(title="Due", value=f"{format_local(due)} ({format_due(due, now)})"))
    facts.append(Fact(title="Alert", value=ALERT_KIND_TITLES.get(kind, kind.value)))
    facts.append(Fact(title="Assigned to", value=_person(notice.assignee_id, names, "nobody (unassigned)")))
    if kind is AlertKind.ESCALATION and notice.people:
        managers = ", ".join(_person(person, names, "") for person in notice.people)
        facts.append(Fact(title="Team manager on duty", value=managers))
    body.append(FactSet(facts=facts))
    if notice.rerouted_from is not None:
        who = _recipient(notice.rerouted_from, names)
        why = notice.reroute_reason or "it failed"
        body.append(
            TextBlock(text=f"Sent here because it could not be delivered to {who} ({why}).", wrap=True)
        )
    if taken is not None:
        body.append(
            TextBlock(
                text=f"Taken by {taken.name} at {format_local(taken.at)}.",
                color="Good",
                weight="Bolder",
                wrap=True,
            )
        )
    # A MASH partner's copy chases their agency's answer: the front door takes the alert.
    takeable = kind in TAKEABLE and not notice.for_partner
    if takeable:
        body += _reason_elements(reason)
    elif kind in TAKEABLE:
        body.append(
            TextBlock(
                text="Sent to you to chase your agency's answer: please send it. "
                "The front door takes this alert.",
                wrap=True,
            )
        )
    if note:
        body.append(TextBlock(text=note, wrap=True))
    # Only a contact has a full record to View; a partner's request alert has nothing more to show.
    footer = "No names or details are shown here."
    if reference.startswith("CT-"):
        footer = "No names or details are shown here: View sends the full record to your personal chat."
    elif reference.startswith(("MA-", "IR-")):
        footer += f" Type find {reference.split(':')[0]} in your personal chat to see it."
    body.append(TextBlock(text=footer, is_subtle=True, size="Small", wrap=True))
    actions: list[Action] = []
    if kind is AlertKind.DUE_SOON:
        body.insert(
            -1,
            TextBlock(text="For information: a due-soon alert is not taken; a breach alert is.", wrap=True),
        )
    if takeable and taken is None:
        actions.append(ExecuteAction(title="I've got this", verb=ACK_VERB, data={ALERT_KEY: notice.key.text}))
    if takeable:
        actions.append(
            ExecuteAction(title="Record the reason", verb=REASON_VERB, data={ALERT_KEY: notice.key.text})
        )
    if reference.startswith("CT-"):
        actions.append(view_action(reference))
    card = AdaptiveCard(body=body, actions=actions, fallback_text=f"{_heading(notice)}: {reference}")
    return to_dict(card)


def _reason_elements(reason: LateReason | None) -> list[CardElement]:
    """Why the clock ran late: the reason recorded, if any, and the choice to record or change it."""
    elements: list[CardElement] = []
    if reason is not None:
        elements.append(
            TextBlock(text=f"Why it ran late: {LATE_REASON_TITLES[reason]}.", weight="Bolder", wrap=True)
        )
    elements.append(
        ChoiceSetInput(
            id=REASON_INPUT,
            label="Why it ran late" if reason is None else "Change the reason",
            choices=[CardChoice(title=title, value=code.value) for code, title in LATE_REASON_TITLES.items()],
            value=reason.value if reason is not None else None,
        )
    )
    return elements


def alert_message(notice: AlertNotice, now: datetime, names: Mapping[str, str]) -> Rendered:
    """The alert as it is first posted at ``now``. A channel's copy @mentions the people it also
    went to in person (the assignee, or the team manager for an escalation)."""
    mentions = notice.people if notice.recipient.kind is RecipientKind.CHANNEL else ()
    text = f"{_heading(notice)}: {notice.key.subject}"
    if is_late(notice.at, now):
        text += " (late)"
    return Rendered(alert_card(notice, now, names), tuple(mentions), text)


def render_alert(item: OutboxItem, now: datetime, names: Mapping[str, str]) -> Rendered:
    """The renderer of ``ALERT_CARD_KINDS`` rows (``bot.outbox_cards.RENDERERS``)."""
    return alert_message(AlertNotice.of(item), now, names)
