"""Where a submitted contact goes (SPEC §3), the state that takes it to, and the clocks it starts.

In this order:

0. **Urgent** (any yes on the immediate-risk screen): screening, whatever the history checks say:
   a consultant decides at once, with the 2-hour child-protection clock and the screening clock,
   both from received-at.
1. **Open case** (the history checks say the child's case is open): passed on to the allocated
   worker and closed here, whatever the contact type, following the contact protocol (1.5: "any
   significant information received about a child who is an open case ... passed to the child's
   allocated social worker"). No clock starts: the front door's part ends here.
2. **Re-referral** (the child's case closed less than ``windows.rereferral_months`` before
   received-at, from the closure date the history checks record): to the duty manager. The
   screening clock (1 working day from received-at) starts too, because the duty manager's decision
   is this contact's disposal decision, and a clock is what makes sure somebody is alerted if it
   waits.
3. Otherwise **screening**, with the screening clock.

Pure rules over a contact and the policy: the submission that applies them (reference, saving,
audit) is ``frontdoor.intake``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from frontdoor.calendar import LONDON, WorkingCalendar, months_before
from frontdoor.clocks import due_at
from frontdoor.contact import Contact, ContactState
from frontdoor.lifecycle import Action
from frontdoor.policy import Policy
from frontdoor.records import ClockKind, Deadline

__all__ = ["ROUTE_MOVES", "Route", "is_rereferral", "route_clocks", "submission_route"]


class Route(StrEnum):
    """Where a submitted contact went."""

    SCREENING = "screening"
    OPEN_CASE = "open_case"
    REREFERRAL = "rereferral"


def is_rereferral(contact: Contact, received_at: datetime, policy: Policy) -> bool:
    """Whether the child's case closed less than ``windows.rereferral_months`` before ``received_at``
    (SPEC §3), from the closure date the history checks record. A closure on the day the window
    opens counts: "within 3 months" includes its first day."""
    closed_on = contact.history.closed_on
    if closed_on is None:
        return False
    window_opens = months_before(received_at, policy.windows.rereferral_months).astimezone(LONDON).date()
    return closed_on >= window_opens


def submission_route(contact: Contact, received_at: datetime, policy: Policy) -> Route:
    """The route of ``contact`` submitted as received at ``received_at``, by the rules above."""
    if contact.urgent:
        return Route.SCREENING
    if contact.history.open_case:
        return Route.OPEN_CASE
    if is_rereferral(contact, received_at, policy):
        return Route.REREFERRAL
    return Route.SCREENING


#: The state a contact on each route moves to from its draft, and the lifecycle action that does it.
ROUTE_MOVES: Mapping[Route, tuple[ContactState, Action]] = MappingProxyType(
    {
        Route.SCREENING: (ContactState.AWAITING_SCREENING, Action.SUBMIT),
        Route.OPEN_CASE: (ContactState.PASSED_ON, Action.OPEN_CASE),
        Route.REREFERRAL: (ContactState.DUTY_MANAGER_REVIEW, Action.REFER_REREFERRAL),
    }
)


def route_clocks(
    route: Route,
    urgent: bool,
    subject: str,
    received_at: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
) -> list[Deadline]:
    """The clocks a contact on ``route`` starts, under the reference ``subject``: none for an open
    case; otherwise the screening clock, and the child-protection clock first when ``urgent``."""
    if route is Route.OPEN_CASE:
        return []
    deadlines: list[Deadline] = []
    if urgent:
        # An urgent contact's child-protection clock starts at received-at (SPEC §3, §4).
        cp_due = due_at(ClockKind.CP_DECISION, received_at, calendar, policy)
        deadlines.append(Deadline(subject, ClockKind.CP_DECISION, received_at, cp_due))
    screening_due = due_at(ClockKind.SCREENING, received_at, calendar, policy)
    deadlines.append(Deadline(subject, ClockKind.SCREENING, received_at, screening_due))
    return deadlines
