"""Cards posted to a channel about a contact: the decision card (decisions channel), the re-referral
card (duty channel) and the open-case card (decisions channel, when the allocated worker cannot be
messaged directly).

A channel is read by many people, so these cards show only what SPEC §8 allows: the reference, the
children's initials and ages, the presenting needs, the urgency, the RAG status and the due time,
plus the contact type and the repeat flag. They are built from ``frontdoor.views.ChannelSummary``,
which holds nothing more, so no name, address, date of birth or free text (and no referrer, anonymous
or not) can reach a channel card. "View" (``Action.Execute``, verb ``VIEW_VERB``) sends the full
record to the viewer's personal chat when their role lets them see contacts.

The decision card is ready for the threshold decisions of the next piece of work: its buttons are
``Action.Execute``, and ``decision_card`` takes further actions and a ``refresh`` (with the user ids
who get a user-specific view) without any change to what it shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    Container,
    ExecuteAction,
    Fact,
    FactSet,
    RefreshDefinition,
    TextBlock,
)

from bot.cards.clocks import due_title
from bot.cards.common import rag_flag, to_dict
from bot.cards.keys import REFERENCE_KEY
from frontdoor.contact import ContactState
from frontdoor.script import CONTACT_TYPE_TITLES
from frontdoor.timefmt import format_due, format_local
from frontdoor.usecase import state_title
from frontdoor.views import ChannelSummary

__all__ = [
    "VIEW_VERB",
    "ChannelCardKind",
    "channel_card",
    "decision_card",
    "heading",
    "open_case_card",
    "rereferral_card",
    "view_action",
]

#: The verb of "View": the full record in the viewer's personal chat.
VIEW_VERB: Final = "contact.view"
#: The key of the contact's reference in the card actions' data.


class ChannelCardKind(StrEnum):
    DECISION = "decision"
    REREFERRAL = "rereferral"
    OPEN_CASE = "open_case"


_HEADINGS: Mapping[ChannelCardKind, str] = {
    ChannelCardKind.DECISION: "Contact awaiting screening",
    ChannelCardKind.REREFERRAL: "Re-referral for the duty manager: the child's case closed recently",
    ChannelCardKind.OPEN_CASE: "Significant information on an open case, for the allocated worker",
}


def heading(kind: ChannelCardKind, state: ContactState) -> str:
    """The card's heading: what the contact is waiting for now, so a decided card no longer reads
    "awaiting screening"."""
    if kind is ChannelCardKind.DECISION and state is not ContactState.AWAITING_SCREENING:
        return f"Contact {state_title(state)}"
    if kind is ChannelCardKind.REREFERRAL and state is not ContactState.DUTY_MANAGER_REVIEW:
        return f"Re-referral: contact {state_title(state)}"
    return _HEADINGS[kind]


def view_action(reference: str) -> ExecuteAction:
    return ExecuteAction(title="View", verb=VIEW_VERB, data={REFERENCE_KEY: reference})


def _children(summary: ChannelSummary) -> str:
    return "; ".join(f"{child.initials} ({child.age_text})" for child in summary.children) or "none recorded"


def channel_card(
    summary: ChannelSummary,
    now: datetime,
    kind: ChannelCardKind,
    *,
    repeat_of: Sequence[str] = (),
    note: str = "",
    actions: Sequence[ExecuteAction] = (),
    refresh: RefreshDefinition | None = None,
) -> dict[str, Any]:
    """A channel card about a contact. ``note`` is a line of our own wording (never anything typed
    by a person); ``actions`` come after View."""
    body: list[CardElement] = []
    if summary.urgent:
        body.append(
            Container(
                style="attention",
                items=[TextBlock(text="URGENT: immediate risk", weight="Bolder", wrap=True)],
            )
        )
    title = heading(kind, summary.state)
    body += [
        TextBlock(text=title, is_subtle=True, wrap=True),
        TextBlock(text=summary.reference, size="Large", weight="Bolder", wrap=True),
    ]
    facts = [
        Fact(title="Children", value=_children(summary)),
        Fact(title="Presenting needs", value=", ".join(summary.need_titles) or "none recorded"),
        Fact(title="Urgency", value="Urgent" if summary.urgent else "Not urgent"),
    ]
    if summary.contact_type is not None:
        facts.append(Fact(title="Contact type", value=CONTACT_TYPE_TITLES[summary.contact_type]))
    if summary.received_at is not None:
        facts.append(Fact(title="Received", value=format_local(summary.received_at)))
    if summary.due_at is not None and summary.due_clock is not None:
        what = due_title(summary.due_clock)
        facts.append(
            Fact(title=what, value=f"{format_local(summary.due_at)} ({format_due(summary.due_at, now)})")
        )
    if summary.repeat:
        facts.append(Fact(title="Repeat contact", value="Yes, within 12 months"))
    body.append(FactSet(facts=facts))
    if summary.repeat and repeat_of:
        # each reference on a line of its own across the card's width: Teams breaks a line at a
        # hyphen, so a reference in a narrow fact column was cut mid-way ("CT-26-" / "000001")
        body.append(TextBlock(text="Earlier contacts (12 months):", wrap=True, spacing="Small"))
        body += [TextBlock(text=reference, weight="Bolder", spacing="None") for reference in repeat_of]
    if summary.rag is not None:
        body.append(rag_flag(summary.rag))
    if note:
        body.append(TextBlock(text=note, wrap=True))
    body.append(
        TextBlock(
            text="Names and details are not shown in the channel. View sends the full record to your "
            "personal chat.",
            is_subtle=True,
            size="Small",
            wrap=True,
        )
    )
    card = AdaptiveCard(
        body=body,
        actions=[view_action(summary.reference), *actions],
        refresh=refresh,
        fallback_text=f"{title}: {summary.reference}",
    )
    return to_dict(card)


def decision_card(
    summary: ChannelSummary,
    now: datetime,
    *,
    repeat_of: Sequence[str] = (),
    actions: Sequence[ExecuteAction] = (),
    refresh: RefreshDefinition | None = None,
) -> dict[str, Any]:
    """The decisions channel's card for a contact awaiting screening.

    The seam for threshold decisions: pass the route buttons as ``actions`` (``Action.Execute``,
    so the card updates in place) and a ``refresh`` naming who gets a user-specific view.
    """
    return channel_card(
        summary, now, ChannelCardKind.DECISION, repeat_of=repeat_of, actions=actions, refresh=refresh
    )


def rereferral_card(
    summary: ChannelSummary, now: datetime, *, repeat_of: Sequence[str] = ()
) -> dict[str, Any]:
    """The duty channel's card for a re-referral, for the duty manager to decide."""
    return channel_card(summary, now, ChannelCardKind.REREFERRAL, repeat_of=repeat_of)


def open_case_card(summary: ChannelSummary, now: datetime) -> dict[str, Any]:
    """The decisions channel's card for information on an open case whose allocated worker has no
    chat with the bot; the worker is @mentioned in the message above the card."""
    return channel_card(
        summary,
        now,
        ChannelCardKind.OPEN_CASE,
        note="For the allocated worker, @mentioned above: press View for the full record. The contact "
        "is closed at the front door.",
    )
