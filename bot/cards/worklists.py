"""The ``my work`` and ``queue`` cards (SPEC §6): one line per contact, most pressing first, each with
a "View" button (``Action.Execute``, the channel cards' ``contact.view``) that sends the full record
to the viewer's personal chat when their role lets them see contacts.

A line shows what a channel card may show (SPEC §8), built from ``frontdoor.views.ChannelSummary``:
the reference, the state, the contact type, the due time in London with its RAG, and on ``my work``
the children's initials and ages. No names, addresses, dates of birth, referrers or anything typed
reach these cards, so ``queue`` may be asked for in a team channel as safely as in a personal chat.

A list is cut to ``frontdoor.worklists.WORKLIST_LIMIT`` lines by the use case; the card then says
how many more there are, so it stays far below Teams' message size limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    CardElement,
    Container,
    Fact,
    FactSet,
    TextBlock,
)

from bot.cards.clocks import due_title
from bot.cards.common import rag_flag, to_dict
from bot.cards.decision import view_action
from bot.cards.details import STATE_TITLES
from frontdoor.script import CONTACT_TYPE_TITLES
from frontdoor.timefmt import format_due, format_local
from frontdoor.views import ChannelSummary
from frontdoor.worklists import URGENT_DRAFTS_NAMED, URGENT_DRAFTS_NAMED_FOR, UrgentDraft, WorkItem, WorkList

__all__ = ["MAX_CHILDREN_SHOWN", "MAX_REPEATS_SHOWN", "my_work_card", "queue_card"]

#: Children listed on a line before "and N more" (a line is a pointer to the record, not the record).
MAX_CHILDREN_SHOWN: Final = 4
#: Earlier contacts named on a queue line before "and N more".
MAX_REPEATS_SHOWN: Final = 3

_NOT_SHOWN = "Names and details are not shown in lists. View sends the full record to your personal chat."


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _children(summary: ChannelSummary) -> str:
    shown = [f"{child.initials} ({child.age_text})" for child in summary.children[:MAX_CHILDREN_SHOWN]]
    hidden = len(summary.children) - len(shown)
    if hidden > 0:
        shown.append(f"and {hidden} more")
    return "; ".join(shown) or "none recorded"


def _earlier(references: Sequence[str]) -> str:
    """The earlier contacts, newest first, the oldest left off past ``MAX_REPEATS_SHOWN``."""
    newest = list(reversed(references))
    shown = newest[:MAX_REPEATS_SHOWN]
    if len(newest) > len(shown):
        shown.append(f"and {len(newest) - len(shown)} more")
    return ", ".join(shown)


def _due(at: datetime, now: datetime) -> str:
    return f"{format_local(at)} ({format_due(at, now)})"


def _status_line(summary: ChannelSummary) -> list[CardElement]:
    """The reference in bold, then urgency and RAG in their colours."""
    parts: list[CardElement] = [TextBlock(text=summary.reference, weight="Bolder", size="Medium", wrap=True)]
    if summary.urgent:
        parts.append(
            TextBlock(
                text="URGENT: immediate risk", color="Attention", weight="Bolder", spacing="None", wrap=True
            )
        )
    if summary.rag is not None:
        parts.append(rag_flag(summary.rag, spacing="Small"))
    return parts


def _line(summary: ChannelSummary, facts: Sequence[Fact]) -> Container:
    return Container(
        separator=True,
        spacing="Medium",
        items=[
            *_status_line(summary),
            FactSet(facts=list(facts)),
            ActionSet(actions=[view_action(summary.reference)]),
        ],
    )


def _next_due(summary: ChannelSummary, now: datetime) -> Fact:
    if summary.due_at is None or summary.due_clock is None:
        return Fact(title="Next due", value="no clock running")
    return Fact(title=due_title(summary.due_clock), value=_due(summary.due_at, now))


def _contact_type(summary: ChannelSummary) -> list[Fact]:
    if summary.contact_type is None:
        return []
    return [Fact(title="Contact type", value=CONTACT_TYPE_TITLES[summary.contact_type])]


def _my_line(item: WorkItem, now: datetime) -> Container:
    summary = item.summary
    facts = [
        Fact(title="State", value=STATE_TITLES[summary.state]),
        _next_due(summary, now),
        *_contact_type(summary),
        Fact(title="Children", value=_children(summary)),
    ]
    return _line(summary, facts)


def _queue_line(item: WorkItem, now: datetime) -> Container:
    summary = item.summary
    facts: list[Fact] = []
    if summary.received_at is not None:
        facts.append(Fact(title="Received", value=format_local(summary.received_at)))
    if item.screening_due_at is not None:
        facts.append(Fact(title="Screening due", value=_due(item.screening_due_at, now)))
    if (
        summary.due_clock is not None
        and summary.due_at is not None
        and summary.due_at != item.screening_due_at
    ):
        # An urgent contact's 2-hour child-protection clock runs out long before screening's.
        facts.append(_next_due(summary, now))
    facts += _contact_type(summary)
    if item.repeat_of:
        facts.append(Fact(title="Repeat contact", value=f"Yes, earlier {_earlier(item.repeat_of)}"))
    return _line(summary, facts)


def _more(work: WorkList) -> str:
    if not work.more:
        return ""
    return (
        f"And {_plural(work.more, 'more contact', 'more contacts')} not shown: the most pressing come first."
    )


def _card(heading: str, intro: str, lines: list[CardElement], more: str, fallback: str) -> dict[str, Any]:
    body: list[CardElement] = [
        TextBlock(text=heading, size="Large", weight="Bolder", wrap=True),
        TextBlock(text=intro, is_subtle=True, wrap=True, spacing="None"),
        *lines,
    ]
    if more:
        body.append(TextBlock(text=more, weight="Bolder", separator=True, wrap=True))
    body.append(TextBlock(text=_NOT_SHOWN, is_subtle=True, size="Small", wrap=True))
    return to_dict(AdaptiveCard(body=body, fallback_text=fallback))


def my_work_card(work: WorkList, now: datetime) -> dict[str, Any]:
    """The contacts assigned to the person asking: urgent first, then by next due time."""
    intro = (
        f"{_plural(work.total, 'open contact is', 'open contacts are')} assigned to you, urgent first, "
        f"then by the next due time. As at {format_local(now)}."
    )
    more = _more(work)
    lines: list[CardElement] = [_my_line(item, now) for item in work.items]
    return _card("My work", intro, lines, more, f"My work: {_plural(work.total, 'contact', 'contacts')}")


def _urgent_drafts(drafts: Sequence[UrgentDraft], now: datetime) -> list[CardElement]:
    """Urgent calls still in a draft (SPEC §3): above the queue, in the attention colour. Those
    started in the last day are named (at most ``URGENT_DRAFTS_NAMED``); the rest are counted with
    when the oldest was started, so a call dropped and never cancelled stays in sight without
    crowding out today's."""
    if not drafts:
        return []
    named = [d for d in drafts if now - d.started_at <= URGENT_DRAFTS_NAMED_FOR][:URGENT_DRAFTS_NAMED]
    lines: list[CardElement] = [
        TextBlock(
            text=f"Urgent calls not yet created: {len(drafts)}", color="Attention", weight="Bolder", wrap=True
        ),
        TextBlock(
            text="A yes on the immediate-risk screen, but the emergency details were not saved, so there is "
            "no contact and no consultant was told. Ask them, or phone the referrer.",
            wrap=True,
            spacing="None",
        ),
    ]
    lines += [
        TextBlock(
            text=f"- Started by {draft.officer_name} at {format_local(draft.started_at)}",
            wrap=True,
            spacing="None",
        )
        for draft in named
    ]
    if len(drafts) > len(named):
        count = len(drafts) - len(named)
        oldest = format_local(min(draft.started_at for draft in drafts))
        more = f"and {count} more" if named else f"{count} started more than a day ago"
        text = f"{more}, the oldest started {oldest}: ask the officers to finish or cancel them."
        lines.append(TextBlock(text=text, wrap=True, spacing="None"))
    return [Container(style="attention", items=lines)]


def queue_card(work: WorkList, now: datetime) -> dict[str, Any]:
    """The contacts awaiting screening: urgent first, then the oldest received first; urgent calls
    still in a draft above them."""
    intro = (
        f"{_plural(work.total, 'contact is', 'contacts are')} awaiting screening, urgent first, then the "
        f"oldest first. As at {format_local(now)}."
    )
    more = _more(work)
    lines: list[CardElement] = [
        *_urgent_drafts(work.urgent_drafts, now),
        *(_queue_line(item, now) for item in work.items),
    ]
    return _card(
        "Awaiting screening", intro, lines, more, f"Queue: {_plural(work.total, 'contact', 'contacts')}"
    )
