"""What every use case is given besides its subject: who acts (``Who``) and the rules in force
(``Rules``). A use case takes them keyword-only, after its subject and the card's version, so its
signature reads in one line and the order cannot drift:

    async def decide_screening(uow, contact_id, decision, expected_version, *, who, rules)

The bot builds ``Who`` from the turn's sender (``bot.routing.Actor.who``) and ``Rules`` from its
clock, calendar and policy (``bot.dialogs.context.FeatureContext.rules``); the scheduler builds
``Rules`` from its own; tests build both directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from frontdoor.calendar import WorkingCalendar
from frontdoor.policy import Policy
from frontdoor.roles import Role

__all__ = ["Rules", "Who"]


@dataclass(frozen=True, slots=True)
class Who:
    """Who acts: the person's directory id and their roles from the directory (never from a card).
    Every use case that checks a permission takes one, keyword-only: ``who=Who(actor_id, roles)``."""

    actor_id: str
    roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class Rules:
    """The rules in force when a use case runs: the moment it happens (timezone-aware), the working
    calendar its clocks count in, and the policy's timescales and limits. Every use case that
    starts a clock or reads the policy takes one, keyword-only: ``rules=Rules(now, calendar, policy)``."""

    now: datetime
    calendar: WorkingCalendar
    policy: Policy
