"""The urgent-only mode cards (SPEC §10): switched on (to the decisions and duty channels and the
service managers) and switched off, with the list of alerts it held back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from microsoft_teams.cards import AdaptiveCard, CardElement, Fact, FactSet, TextBlock

from bot.cards.alerts import ALERT_KIND_TITLES
from bot.cards.clocks import CLOCK_TITLES
from bot.cards.common import to_dict
from bot.cards.rendered import Rendered
from frontdoor.alerts import AlertKind, OutboxItem
from frontdoor.continuity import ContinuityNotice, HeldAlert, UrgentOnly
from frontdoor.records import ClockKind
from frontdoor.timefmt import format_duration, format_local

#: The banner the decisions channel's cards and ``status`` show while the mode is on.
URGENT_ONLY_BANNER = "Urgent-only mode: only urgent contacts and child-protection clocks alert."


def with_urgent_only_banner(card: dict[str, Any], mode: UrgentOnly | None) -> dict[str, Any]:
    """``card`` with the urgent-only banner on top while the mode is on; as it is otherwise."""
    if mode is None:
        return card
    banner = to_dict(
        AdaptiveCard(
            body=[
                TextBlock(
                    text=f"{URGENT_ONLY_BANNER} ({mode.reason})",
                    color="Attention",
                    weight="Bolder",
                    wrap=True,
                )
            ]
        )
    )["body"]
    return {**card, "body": [*banner, *card.get("body", [])]}


def held_line(alert: HeldAlert) -> str:
    """E.g. ``CT-26-000101 · Screening decision · Due soon · due Mon 16 Mar 2026 17:00``."""
    clock = CLOCK_TITLES[alert.clock] if alert.clock is not None else "Deadline"
    kind = ALERT_KIND_TITLES.get(alert.kind, alert.kind.value)
    return f"{alert.subject} · {clock} · {kind} · due {format_local(alert.due_at)}"


def rest_line(rest: Sequence[tuple[AlertKind, ClockKind | None, int]]) -> str:
    """The held alerts not listed one by one, counted: e.g. ``…and 1,204 more, not listed one by
    one: 1,000 × Screening decision · Due soon; 204 × Deadline · E-mail left untaken.``"""
    total = sum(count for _, _, count in rest)
    parts = [
        f"{count:,} × {CLOCK_TITLES[clock] if clock is not None else 'Deadline'} · "
        f"{ALERT_KIND_TITLES.get(kind, kind.value)}"
        for kind, clock, count in rest
    ]
    return f"…and {total:,} more, not listed one by one: {'; '.join(parts)}."


def continuity_card(notice: ContinuityNotice, names: Mapping[str, str]) -> dict[str, Any]:
    mode = notice.mode
    by = names.get(mode.by, "a team manager")
    facts = [Fact(title="Since", value=format_local(mode.since)), Fact(title="Reason", value=mode.reason)]
    if notice.on:
        body: list[CardElement] = [
            TextBlock(text="Business continuity", is_subtle=True, wrap=True),
            TextBlock(
                text="Urgent-only mode is ON", size="Large", weight="Bolder", color="Attention", wrap=True
            ),
            TextBlock(text=URGENT_ONLY_BANNER, wrap=True),
            FactSet(facts=[*facts, Fact(title="Switched on by", value=by)]),
            TextBlock(
                text="Other alerts are held, not lost: they are listed here when the mode ends.",
                is_subtle=True,
                wrap=True,
            ),
        ]
        return to_dict(AdaptiveCard(body=body, fallback_text="Urgent-only mode is on"))
    ended = notice.ended_at or mode.since
    body = [
        TextBlock(text="Business continuity", is_subtle=True, wrap=True),
        TextBlock(text="Urgent-only mode has ended", size="Large", weight="Bolder", color="Good", wrap=True),
        FactSet(
            facts=[
                *facts,
                Fact(title="Ended", value=format_local(ended)),
                Fact(title="Lasted", value=format_duration(ended - mode.since)),
                Fact(title="Alerts held", value=str(notice.held_count)),
            ]
        ),
    ]
    if notice.held:
        body.append(TextBlock(text="Held while it was on:", weight="Bolder", wrap=True))
        body += [TextBlock(text=held_line(alert), wrap=True, spacing="None") for alert in notice.held]
        if notice.rest:
            body.append(TextBlock(text=rest_line(notice.rest), wrap=True))
    else:
        body.append(TextBlock(text="No alerts were held.", is_subtle=True, wrap=True))
    return to_dict(AdaptiveCard(body=body, fallback_text="Urgent-only mode has ended"))


def render_continuity(item: OutboxItem, now: datetime, names: Mapping[str, str]) -> Rendered:
    notice = ContinuityNotice.from_payload(item.payload)
    text = "Urgent-only mode is on." if notice.on else "Urgent-only mode has ended."
    return Rendered(card=continuity_card(notice, names), text=text)
