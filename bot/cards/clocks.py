"""What each clock is called on every card: one title per clock, so an alert, a handover line, a
work list and a record all name a deadline the same way."""

from __future__ import annotations

from collections.abc import Mapping

from frontdoor.records import ClockKind

CLOCK_TITLES: Mapping[ClockKind, str] = {
    ClockKind.SCREENING: "Screening decision",
    ClockKind.CP_DECISION: "Child-protection decision",
    ClockKind.COMPLETION_24H: "Completion (24 hours)",
    ClockKind.COMPLETION_48H: "Completion (48 hours)",
    ClockKind.REREFERRAL_RECOMMENDATION: "Re-referral recommendation",
    ClockKind.PARENT_LETTER: "Parent letter lapses",
    ClockKind.LETTER_REVIEW: "Review after the parent letter lapsed",
    ClockKind.CHALLENGE: "Challenge by the receiving team",
    ClockKind.MASH_REQUEST_URGENT: "MASH information request (urgent)",
    ClockKind.MASH_REQUEST: "MASH information request",
    ClockKind.BODY_REQUEST: "CAFCASS / Ofsted response",
    ClockKind.MARAC_REQUEST: "MARAC information request",
}


def due_title(clock: ClockKind) -> str:
    """The label of a clock's due time: "Screening decision due"."""
    return f"{CLOCK_TITLES[clock]} due"
