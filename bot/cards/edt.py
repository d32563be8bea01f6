"""The emergency duty team's cards (SPEC §10): the EDT handover at closing, with "I'll take it" on
each child-protection clock open overnight, the EDT channel's notice of an urgent contact created
out of hours, and the duty channel's overnight summary at opening.

Both carry references, clock times and staff names only; what the EDT recorded overnight is read in
the contact's record, never on a channel card.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    CardElement,
    Column,
    ColumnSet,
    ExecuteAction,
    TextBlock,
)

from bot.cards.alerts import ALERT_KEY, TakenBy
from bot.cards.common import to_dict
from bot.cards.rendered import Rendered
from frontdoor.alerts import OutboxItem
from frontdoor.edt import EdtHandover, EdtItem, OvernightSummary, UrgentOutOfHours
from frontdoor.timefmt import format_due, format_local

#: The verb of "I'll take it" on an item of the EDT handover.
TAKE_VERB: Final = "edtTake"
#: The key of the handover's day in the action's data.
DAY_KEY: Final = "edt_day"


def _item_line(item: EdtItem, now: datetime) -> str:
    due = f"{format_local(item.due_at)} ({format_due(item.due_at, now)})"
    return f"**{item.subject}** · Child-protection decision due {due}"


def edt_handover_card(
    handover: EdtHandover,
    now: datetime,
    names: Mapping[str, str],
    taken: Mapping[str, TakenBy] | None = None,
    *,
    late: bool = False,
    note: str = "",
) -> dict[str, Any]:
    taken = taken or {}
    edt = ", ".join(names.get(person, "") for person in handover.edt if names.get(person)) or "nobody named"
    body: list[CardElement] = [
        TextBlock(text="Emergency duty team", is_subtle=True, wrap=True),
        TextBlock(
            text=f"EDT handover: {format_local(handover.closing)}", size="Large", weight="Bolder", wrap=True
        ),
        TextBlock(
            text=f"Until the front door opens at {format_local(handover.opens)}. EDT on the rota: {edt}.",
            wrap=True,
        ),
    ]
    if late:
        body.append(
            TextBlock(text="Sent late (the bot was not running at closing).", is_subtle=True, wrap=True)
        )
    if note:
        body.append(TextBlock(text=note, color="Attention", weight="Bolder", wrap=True))
    if not handover.items:
        body.append(
            TextBlock(text="No urgent contacts or child-protection clocks are open tonight.", wrap=True)
        )
    else:
        body.append(
            TextBlock(
                text=f"Urgent contacts and child-protection clocks open overnight ({len(handover.items)}):",
                weight="Bolder",
                wrap=True,
            )
        )
    for item in handover.items:
        who = taken.get(item.subject)
        right: CardElement
        if who is not None:
            right = TextBlock(text=f"Taken by {who.name} at {format_local(who.at)}", color="Good", wrap=True)
        else:
            right = ActionSet(
                actions=[
                    ExecuteAction(
                        title="I'll take it",
                        verb=TAKE_VERB,
                        data={ALERT_KEY: item.key.text, DAY_KEY: handover.day.isoformat()},
                    )
                ]
            )
        body.append(
            ColumnSet(
                columns=[
                    Column(width="stretch", items=[TextBlock(text=_item_line(item, now), wrap=True)]),
                    Column(width="auto", items=[right]),
                ]
            )
        )
    body.append(
        TextBlock(
            text="Record what you did on the contact: in your chat with the bot, type "
            "**overnight CT-… what was done**.",
            is_subtle=True,
            wrap=True,
        )
    )
    return to_dict(AdaptiveCard(body=body, fallback_text="EDT handover"))


def overnight_card(summary: OvernightSummary, now: datetime, names: Mapping[str, str]) -> dict[str, Any]:
    body: list[CardElement] = [
        TextBlock(text="Emergency duty team", is_subtle=True, wrap=True),
        TextBlock(
            text=f"Overnight summary: {format_local(summary.opening)}",
            size="Large",
            weight="Bolder",
            wrap=True,
        ),
        TextBlock(text=f"Since the front door closed at {format_local(summary.since)}.", wrap=True),
    ]
    if summary.entries:
        body.append(TextBlock(text="What the EDT did:", weight="Bolder", wrap=True))
        for entry in summary.entries:
            who = names.get(entry.person_id, "the EDT")
            what = (
                "took the child-protection clock"
                if entry.took
                else "recorded overnight action (see the record)"
            )
            body.append(
                TextBlock(text=f"**{entry.subject}** · {who} {what} at {format_local(entry.at)}", wrap=True)
            )
    else:
        body.append(TextBlock(text="Nothing was recorded by the EDT overnight.", wrap=True))
    if summary.open_items:
        body.append(TextBlock(text="Child-protection clocks still open:", weight="Bolder", wrap=True))
        body += [TextBlock(text=_item_line(item, now), wrap=True) for item in summary.open_items]
    return to_dict(AdaptiveCard(body=body, fallback_text="Overnight summary"))


def render_edt_handover(item: OutboxItem, now: datetime, names: Mapping[str, str]) -> Rendered:
    handover = EdtHandover.from_payload(item.payload)
    return Rendered(
        card=edt_handover_card(handover, now, names, late=item.late(now)),
        mention_ids=handover.edt,
        text=f"EDT handover: {len(handover.items)} open overnight.",
    )


def render_overnight_summary(item: OutboxItem, now: datetime, names: Mapping[str, str]) -> Rendered:
    summary = OvernightSummary.from_payload(item.payload)
    return Rendered(card=overnight_card(summary, now, names), text="Overnight summary from the EDT.")


def urgent_out_of_hours_card(
    notice: UrgentOutOfHours, now: datetime, names: Mapping[str, str], *, late: bool = False
) -> dict[str, Any]:
    edt = ", ".join(names.get(person, "") for person in notice.edt if names.get(person)) or "nobody named"
    due = f"{format_local(notice.due_at)} ({format_due(notice.due_at, now)})"
    body: list[CardElement] = [
        TextBlock(text="Emergency duty team", is_subtle=True, wrap=True),
        TextBlock(
            text=f"Urgent contact out of hours: {notice.subject}", size="Large", weight="Bolder", wrap=True
        ),
        TextBlock(
            text=f"Received {format_local(notice.received_at)}, logged {format_local(notice.created_at)}. "
            f"Child-protection decision due {due}.",
            wrap=True,
        ),
        TextBlock(text=f"EDT on the rota: {edt}.", wrap=True),
    ]
    if late:
        body.append(
            TextBlock(text="Sent late (the bot could not send it at once).", is_subtle=True, wrap=True)
        )
    body.append(
        TextBlock(
            text=f"Read it in your chat with the bot: **find {notice.subject}**. Record what you did: "
            f"**overnight {notice.subject} what was done**.",
            is_subtle=True,
            wrap=True,
        )
    )
    return to_dict(AdaptiveCard(body=body, fallback_text=f"Urgent contact out of hours: {notice.subject}"))


def render_urgent_out_of_hours(item: OutboxItem, now: datetime, names: Mapping[str, str]) -> Rendered:
    notice = UrgentOutOfHours.from_payload(item.payload)
    return Rendered(
        card=urgent_out_of_hours_card(notice, now, names, late=item.late(now)),
        mention_ids=notice.edt,
        text=f"Urgent contact {notice.subject} logged out of hours: it cannot wait for the morning.",
    )
