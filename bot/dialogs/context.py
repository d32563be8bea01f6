"""What every feature of the bot is given: one ``FeatureContext``, built once by the composition
root (``bot.app``), so a feature's constructor names only what is its own (another feature it
hands work to, say) and every feature reads the same store, clock, calendar and policy.

A feature calls a use case with the turn's ``actor.who`` and ``self._context.rules()``: the rules
in force at the clock's now (or ``rules(now)`` for a moment it already read).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.notify import Notifier
from frontdoor.acting import Rules
from frontdoor.calendar import WorkingCalendar
from frontdoor.policy import Policy
from frontdoor.ports import Clock
from frontdoor.unit_of_work import Store

__all__ = ["FeatureContext"]


@dataclass(frozen=True, slots=True)
class FeatureContext:
    store: Store
    clock: Clock
    #: the working calendar the clocks count in (bank holidays from the service's source)
    calendar: WorkingCalendar
    policy: Policy
    #: sends proactive messages and cards (alerts, channel posts, personal chats)
    notifier: Notifier

    def rules(self, now: datetime | None = None) -> Rules:
        """The rules in force at ``now`` (the clock's now when not given)."""
        return Rules(now=self.clock.now() if now is None else now, calendar=self.calendar, policy=self.policy)
