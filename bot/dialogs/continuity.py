"""``continuity on <reason>`` and ``continuity off``: a team manager switches the front door to
urgent-only mode and back (SPEC §10; ``frontdoor.continuity``).

The reply says what happened; switching off lists the alerts that were held. The channels, the
service managers and ``continuity.notify`` hear of it through the alert outbox.
"""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext

from bot.cards.continuity import URGENT_ONLY_BANNER, held_line, rest_line
from bot.dialogs.context import FeatureContext
from bot.routing import Actor, Router
from frontdoor.commands import CommandName, ParsedCommand
from frontdoor.continuity import MAX_LISTED, Switched, held_counts, switch_urgent_only
from frontdoor.timefmt import format_duration

log = logging.getLogger(__name__)


def reply_text(result: Switched) -> str:
    if result.on:
        return (
            f"The front door is now in **urgent-only mode** ({result.mode.reason}). {URGENT_ONLY_BANNER} "
            "Other alerts are held and will be listed when you type **continuity off**. The decisions "
            "and duty channels and the service managers have been told."
        )
    lasted = format_duration(result.duration) if result.duration is not None else "a moment"
    lines = [f"Urgent-only mode has ended after {lasted}."]
    if result.held:
        lines.append(f"{len(result.held)} alert(s) were held while it was on:")
        lines += [f"- {held_line(alert)}" for alert in result.held[:MAX_LISTED]]
        if len(result.held) > MAX_LISTED:
            lines.append(rest_line(held_counts(result.held[MAX_LISTED:])))
    else:
        lines.append("No alerts were held.")
    return "\n\n".join(lines)


class ContinuityFeature:
    def __init__(self, context: FeatureContext) -> None:
        self._context = context

    def register(self, router: Router) -> None:
        router.command(CommandName.CONTINUITY, self.on_continuity)

    async def on_continuity(self, turn_context: TurnContext, actor: Actor, command: ParsedCommand) -> None:
        result = await switch_urgent_only(
            self._context.store.unit_of_work(),
            command.argument,
            who=actor.who,
            rules=self._context.rules(),
        )
        if not isinstance(result, Switched):
            log.info("urgent-only mode not switched", extra={"status": result.reason.value})
            await turn_context.send_activity(result.message)
            return
        log.info(
            "urgent-only mode switched",
            extra={"status": "on" if result.on else "off", "count": len(result.held)},
        )
        await turn_context.send_activity(reply_text(result))
