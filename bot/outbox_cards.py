"""What each kind of outbox row looks like in Teams.

The dispatcher claims a row of the alert outbox (``frontdoor.alerts.OutboxItem``), asks
``render`` for its message, and posts it to the row's recipient. Each kind of row has one
renderer; the feature that enqueues a kind provides its renderer and lists it in ``RENDERERS``.

A renderer is a pure function of the row, the time of sending and the display names of the
people it may @mention: it never touches the store or the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from bot.cards.alerts import ALERT_CARD_KINDS, render_alert
from bot.cards.continuity import render_continuity
from bot.cards.edt import render_edt_handover, render_overnight_summary, render_urgent_out_of_hours
from bot.cards.figures import render_weekly_figures
from bot.cards.handover import render_handover, render_handover_escalation, render_marac_reminder
from bot.cards.mail import render_mail_untaken
from bot.cards.rendered import Rendered, Renderer
from frontdoor.alerts import AlertKind, OutboxItem

__all__ = ["POSSIBLE_REPEAT", "RENDERERS", "Rendered", "Renderer", "render"]


#: One renderer per kind of row; a kind missing here is a programming error caught by the tests.
#: ``email`` rows are not rendered for Teams: they go by e-mail only (``bot.mail``).
RENDERERS: dict[AlertKind, Renderer] = {
    AlertKind.HANDOVER: render_handover,
    AlertKind.HANDOVER_ESCALATION: render_handover_escalation,
    AlertKind.MARAC_REMINDER: render_marac_reminder,
    AlertKind.CONTINUITY: render_continuity,
    AlertKind.EDT_HANDOVER: render_edt_handover,
    AlertKind.OVERNIGHT_SUMMARY: render_overnight_summary,
    AlertKind.URGENT_OUT_OF_HOURS: render_urgent_out_of_hours,
    AlertKind.MAIL_UNTAKEN: render_mail_untaken,
    AlertKind.WEEKLY_FIGURES: render_weekly_figures,
    **dict.fromkeys(ALERT_CARD_KINDS, render_alert),
}


def render(item: OutboxItem, now: datetime, names: Mapping[str, str]) -> Rendered:
    renderer = RENDERERS.get(item.kind)
    if renderer is None:
        raise LookupError(f"no renderer for outbox rows of kind {item.kind.value}")
    rendered = renderer(item, now, names)
    if not item.interrupted:
        return rendered
    # The bot stopped while sending this once: Teams may have posted that copy (a send cannot be
    # made conditional), so say so rather than leave two identical cards unexplained.
    card = dict(rendered.card)
    card["body"] = [
        *card.get("body", []),
        {"type": "TextBlock", "text": POSSIBLE_REPEAT, "wrap": True, "isSubtle": True},
    ]
    return replace(rendered, card=card)


#: Shown on a card sent again after its sending process stopped mid-send.
POSSIBLE_REPEAT = "If this reached you a moment ago, this is a repeat: the bot restarted while sending it."
