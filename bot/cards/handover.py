"""The end-of-day handover card, its escalation card and the MARAC reminder card (SPEC §7), and the
outbox renderers that turn their rows into messages.

The duty channel is read by many people, so these cards hold what the handover holds: contact
references, clock names, times, counts, RAG and staff names from the role directory; never a
child's or family's name and nothing anyone typed. Times are shown in London time.

"I acknowledge" (``Action.Execute``, verb ``ACK_VERB``) carries the handover's day and the outbox
row the card came from; who is acknowledging, and whether they may, is decided on the server
(``bot.dialogs.duty``), never from the card.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    Container,
    ExecuteAction,
    Fact,
    FactSet,
    TextBlock,
    TextColor,
)

from bot.cards.clocks import CLOCK_TITLES
from bot.cards.common import RAG_STYLES, flag, to_dict
from bot.cards.rendered import Rendered
from frontdoor.alerts import OutboxItem
from frontdoor.calendar import LONDON
from frontdoor.duty import HandoverAck, HandoverEscalation, HandoverPost
from frontdoor.handover import BandPosition, ClockLine, Handover, OpenContactCount, WorkerLoad
from frontdoor.marac import MaracReminder
from frontdoor.rag import Rag
from frontdoor.timefmt import format_duration, format_local

__all__ = [
    "ACK_VERB",
    "DAY_KEY",
    "ITEM_KEY",
    "MAX_LINES",
    "band_line",
    "capped_facts",
    "clock_facts",
    "escalation_card",
    "handover_card",
    "heading",
    "load_facts",
    "marac_card",
    "rag_text",
    "render_handover",
    "render_handover_escalation",
    "render_marac_reminder",
]

#: The verb of "I acknowledge" on a handover or escalation card.
ACK_VERB: Final = "handover.ack"
#: The keys of its data: the handover's day (ISO) and the outbox row of the message.
DAY_KEY: Final = "day"
ITEM_KEY: Final = "item"

#: The most lines a list on a card shows; Teams refuses messages over about 28 KB.
MAX_LINES: Final = 25

#: The clock titles of the contact cards, but for the challenge, which a handover line calls a window.

_BAND: Mapping[BandPosition, str] = {
    BandPosition.BELOW: "below the band, which is not a concern in itself",
    BandPosition.WITHIN: "within the band",
    BandPosition.ABOVE: "above the band",
}


def rag_text(rag: Rag) -> str:
    return RAG_STYLES[rag][0]


def _day(moment_or_day: Any) -> str:
    return f"{moment_or_day:%a} {moment_or_day.day} {moment_or_day:%b %Y}"


def _name(person_id: str | None, names: Mapping[str, str], missing: str = "unassigned") -> str:
    if not person_id:
        return missing
    return names.get(person_id) or person_id


def _people(ids: Sequence[str], names: Mapping[str, str]) -> str:
    return ", ".join(_name(person, names) for person in ids)


def heading(text: str) -> TextBlock:
    return TextBlock(text=text, weight="Bolder", size="Medium", wrap=True, spacing="Medium")


def _line(
    text: str, *, subtle: bool = False, color: TextColor | None = None, bold: bool = False
) -> TextBlock:
    return TextBlock(
        text=text, wrap=True, is_subtle=subtle or None, color=color, weight="Bolder" if bold else None
    )


def capped_facts(facts: Sequence[Fact], empty: str, more: str = "") -> list[CardElement]:
    """``facts`` as a fact set of at most ``MAX_LINES`` lines, a note of how many more, or ``empty``."""
    if not facts:
        return [_line(empty, subtle=True)]
    shown: list[CardElement] = [FactSet(facts=list(facts[:MAX_LINES]))]
    if len(facts) > MAX_LINES:
        shown.append(_line(f"…and {len(facts) - MAX_LINES} more.{more}", subtle=True))
    return shown


def band_line(count: OpenContactCount) -> CardElement:
    """Open contacts against the band: above it red, within it green, each named and on its colour;
    below it plain words, since fewer open contacts is not a concern in itself."""
    text = (
        f"{count.count} open; the target band is {count.band_low}–{count.band_high}: {_BAND[count.position]}"
    )
    if count.rag is None:
        return _line(f"{text}.", bold=True)
    label, style = RAG_STYLES[count.rag]
    return flag(f"{text} ({label}).", style)


def load_facts(loads: Sequence[WorkerLoad], names: Mapping[str, str]) -> list[Fact]:
    return [
        Fact(
            title=_name(load.worker_id, names),
            value=f"{load.open_contacts} of {load.cap} ({rag_text(load.rag)})",
        )
        for load in loads
    ]


def clock_facts(lines: Sequence[ClockLine], names: Mapping[str, str], made_at: datetime) -> list[Fact]:
    facts = []
    for line in lines:
        if line.breached:
            when = f"was due {format_local(line.due_at)}, overdue by {format_duration(made_at - line.due_at)}"
        else:
            when = f"due {format_local(line.due_at)}"
        facts.append(
            Fact(
                title=line.subject,
                value=f"{CLOCK_TITLES[line.clock]}, {when} ({rag_text(line.rag)}); "
                f"{_name(line.assignee_id, names)}",
            )
        )
    return facts


def _ack_elements(ack: HandoverAck | None, names: Mapping[str, str]) -> list[CardElement]:
    if ack is None:
        return []
    return [
        _line(
            f"Acknowledged by {_name(ack.person_id, names)} at {format_local(ack.at)}.",
            color="Good",
            bold=True,
        )
    ]


def _ack_action(day: str, item_id: int | None) -> ExecuteAction:
    data: dict[str, Any] = {DAY_KEY: day}
    if item_id is not None:
        data[ITEM_KEY] = item_id
    return ExecuteAction(title="I acknowledge", verb=ACK_VERB, data=data)


def _opening(handover: Handover) -> str:
    """Whether the front door is open as the handover is made, or when it next opens."""
    if handover.open_until is not None:
        return f"The front door is open now, until {handover.open_until.astimezone(LONDON):%H:%M}."
    return f"The front door next opens at {format_local(handover.next_opening)}."


def handover_card(
    handover: Handover,
    names: Mapping[str, str],
    *,
    due_at: datetime | None = None,
    late: bool = False,
    ack: HandoverAck | None = None,
    item_id: int | None = None,
    on_demand: bool = False,
    lines: Sequence[str] = (),
    notice: str = "",
) -> dict[str, Any]:
    """The handover of ``handover.day``. Posted (``on_demand`` False) it carries "I acknowledge"
    until someone has; on demand it is the handover as it stands, with ``lines`` saying where the
    last posted one is."""
    body: list[CardElement] = []
    if late:
        body.append(
            Container(
                style="warning",
                items=[
                    _line(
                        f"Sent late: due at {format_local(due_at or handover.made_at)}, made at "
                        f"{format_local(handover.made_at)} (the bot was not running).",
                        bold=True,
                    )
                ],
            )
        )
    title = "Handover as it stands now" if on_demand else "End-of-day handover"
    body += [
        TextBlock(text=title, is_subtle=True, wrap=True),
        TextBlock(text=_day(handover.day), size="Large", weight="Bolder", wrap=True),
        _line(f"Made at {format_local(handover.made_at)}. {_opening(handover)}", subtle=True),
    ]
    who = _people(handover.next_duty_managers, names)
    next_day = _day(handover.next_duty_day)
    if not handover.next_duty_managers:
        body.append(
            _line(f"Nobody holds the duty manager role to take over on {next_day}.", color="Attention")
        )
    elif handover.next_duty_managers_from_rota:
        body.append(_line(f"Over to: {who} (duty manager on the rota for {next_day}).", bold=True))
    else:
        body.append(
            flag(
                f"Nobody is on the rota as duty manager for {next_day}: over to every duty manager ({who}).",
                "warning",
            )
        )
    body += [heading("Open contacts"), band_line(handover.open_contacts)]

    body.append(heading(f"Breached or at-risk clocks ({len(handover.at_risk)})"))
    body += capped_facts(clock_facts(handover.at_risk, names, handover.made_at), "None.")

    body.append(heading(f"Falling due before the next opening ({len(handover.due_before_opening)})"))
    body += capped_facts(clock_facts(handover.due_before_opening, names, handover.made_at), "None.")

    body.append(heading(f"E-mails waiting untaken ({len(handover.untaken_mail)})"))
    body += capped_facts(
        [
            Fact(
                title=f"Received {format_local(moment)}",
                value=f"waiting {format_duration(handover.made_at - moment)}",
            )
            for moment in handover.untaken_mail
        ],
        "None.",
    )

    body.append(heading(f"With social workers and still open ({len(handover.reassigned)})"))
    reassigned = []
    for item in handover.reassigned:
        due = "no open clock" if item.due_at is None else f"due {format_local(item.due_at)}"
        if item.rag is not None:
            due += f" ({rag_text(item.rag)})"
        reassigned.append(
            Fact(
                title=item.reference,
                value=f"{_name(item.worker_id, names)}; received {format_duration(item.age)} ago; {due}",
            )
        )
    body += capped_facts(reassigned, "None.")

    outstanding = handover.history_outstanding
    body.append(heading(f"Urgent contacts with history checks outstanding ({len(outstanding)})"))
    body += capped_facts(
        [Fact(title=reference, value="history checks not yet recorded") for reference in outstanding], "None."
    )

    cap = handover.loads[0].cap if handover.loads else None
    body.append(heading("Social workers' loads" + (f" (cap {cap})" if cap is not None else "")))
    body += capped_facts(load_facts(handover.loads, names), "No social workers in the directory.")

    body += [_line(line, bold=True) for line in lines]
    body += _ack_elements(ack, names)
    if notice:
        body.append(_line(notice, color="Attention", bold=True))
    body.append(
        _line(
            "References only: names and details are not shown in the channel.",
            subtle=True,
        )
    )
    actions: list[Action] = (
        [] if on_demand or ack is not None else [_ack_action(handover.day.isoformat(), item_id)]
    )
    return to_dict(AdaptiveCard(body=body, actions=actions, fallback_text=f"{title}: {_day(handover.day)}"))


def escalation_card(
    escalation: HandoverEscalation,
    names: Mapping[str, str],
    *,
    late: bool = False,
    ack: HandoverAck | None = None,
    item_id: int | None = None,
    notice: str = "",
) -> dict[str, Any]:
    """The handover of ``escalation.day`` was not acknowledged by the next opening."""
    body: list[CardElement] = [
        Container(
            style="attention",
            items=[_line("Handover not acknowledged", bold=True)],
        ),
        _line(
            f"Nobody acknowledged the end-of-day handover of {_day(escalation.day)} (posted at "
            f"{format_local(escalation.handover_at)}) by the opening at "
            f"{format_local(escalation.escalated_at)}.",
        ),
    ]
    incoming = _people(escalation.next_duty_managers, names) or "nobody holds the duty manager role"
    body.append(
        FactSet(
            facts=[
                Fact(title=f"Duty manager for {_day(escalation.next_duty_day)}", value=incoming),
                Fact(
                    title="Team manager on duty",
                    value=_people(escalation.team_managers, names) or "nobody holds the team manager role",
                ),
            ]
        )
    )
    if late:
        body.append(_line("Sent late: the bot was not running at the opening.", subtle=True))
    body.append(
        _line(
            "Make sure someone has picked up the handover: type **handover** in a chat with me to see it "
            "as it stands now.",
        )
    )
    body += _ack_elements(ack, names)
    if notice:
        body.append(_line(notice, color="Attention", bold=True))
    actions: list[Action] = [] if ack is not None else [_ack_action(escalation.day.isoformat(), item_id)]
    return to_dict(
        AdaptiveCard(
            body=body,
            actions=actions,
            fallback_text=f"Handover of {_day(escalation.day)} not acknowledged",
        )
    )


def marac_card(
    reminder: MaracReminder,
    *,
    late: bool = False,
    sent_at: datetime | None = None,
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Information requests are due back before today's MARAC meeting; those still outstanding."""
    names = names or {}
    meeting = format_local(reminder.meeting_at)
    body: list[CardElement] = [
        TextBlock(text="MARAC reminder", is_subtle=True, wrap=True),
        TextBlock(
            text=f"MARAC meeting today at {reminder.meeting_at.astimezone(LONDON):%H:%M}",
            size="Large",
            weight="Bolder",
            wrap=True,
        ),
        _line(
            f"Information requests sent to teams for the MARAC meeting ({meeting}) are due back before "
            "the meeting. Chase any that are still outstanding.",
        ),
    ]
    if reminder.outstanding:
        body.append(_line(f"Still outstanding ({len(reminder.outstanding)}):"))
        body += [
            _line(f"- {case}: {team}, {names.get(worker) or 'a worker'}")
            for case, team, worker in reminder.outstanding
        ]
    if late:
        body.append(
            _line(
                f"Sent late: due at {format_local(reminder.remind_at)}"
                + (f", sent at {format_local(sent_at)}" if sent_at is not None else "")
                + " (the bot was not running).",
                subtle=True,
            )
        )
    return to_dict(AdaptiveCard(body=body, fallback_text=f"MARAC meeting today ({meeting})"))


# -- renderers (bot.outbox_cards.RENDERERS) --------------------------------------------------------


def render_handover(item: OutboxItem, now: datetime, names: Mapping[str, str]) -> Rendered:
    """The duty channel's handover post, @mentioning the incoming duty managers."""
    post = HandoverPost.from_payload(item.payload)
    card = handover_card(post.handover, names, due_at=post.due_at, late=item.late(now), item_id=item.id)
    return Rendered(
        card=card,
        mention_ids=post.handover.next_duty_managers,
        text=f"End-of-day handover for {_day(post.handover.day)}: please acknowledge it on the card.",
    )


def render_handover_escalation(item: OutboxItem, now: datetime, names: Mapping[str, str]) -> Rendered:
    """The escalation of an unacknowledged handover, @mentioning the team managers on duty."""
    escalation = HandoverEscalation.from_payload(item.payload)
    card = escalation_card(escalation, names, late=item.late(now), item_id=item.id)
    # In a personal chat the team manager is the reader; in the channel they are named.
    mentions = escalation.team_managers if item.recipient.is_duty_channel else ()
    return Rendered(
        card=card,
        mention_ids=mentions,
        text=f"The handover of {_day(escalation.day)} has not been acknowledged.",
    )


def render_marac_reminder(item: OutboxItem, now: datetime, names: Mapping[str, str]) -> Rendered:
    reminder = MaracReminder.from_payload(item.payload)
    late = item.late(now)
    return Rendered(
        card=marac_card(reminder, late=late, sent_at=now if late else None, names=names),
        text="MARAC today: information requests are due back before the meeting.",
    )
