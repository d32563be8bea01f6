"""Read-only views of a contact for the cards, shaped by who may see what (SPEC §8).

``ChannelSummary`` is what a channel card may show: the reference, the children's initials and
ages, presenting needs, urgency, RAG and the due time. It holds no names, addresses, dates of
birth or free text, and its referrer is only a type ("Member of the public (anonymous)"), so an
anonymous member of the public can never be named on a channel card whatever the card does.
``referrer_label`` is the one place a referrer becomes text, and names an anonymous referrer only
in the contact's own view. ``section_values`` gives back a draft's answers as card input values,
so a resumed or revisited card shows what was entered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from frontdoor.calendar import LONDON, WorkingCalendar
from frontdoor.contact import (
    PHONE_NOT_GIVEN,
    WHEREABOUTS_NOT_KNOWN,
    Child,
    Contact,
    ContactState,
    ContactType,
    ImmediateRisk,
    PresentingNeed,
    Referrer,
    ReferrerType,
    Source,
)
from frontdoor.contact_details import split_address
from frontdoor.policy import Policy
from frontdoor.rag import Rag, clock_rag
from frontdoor.records import ClockKind, Deadline, DeadlineState
from frontdoor.script import (
    NEED_TITLES,
    REFERRER_TYPE_TITLES,
    UNBORN_NAME,
    Section,
    is_after,
    section_of,
)

__all__ = [
    "ChannelSummary",
    "ChildSummary",
    "channel_summary",
    "child_summary",
    "format_phone",
    "initials",
    "referrer_label",
    "section_values",
]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def initials(name: str) -> str:
    """``"Zebedee Example"`` -> ``"Z.E."``; an unborn baby recorded without a name stays "Unborn"."""
    if name.strip().casefold() == UNBORN_NAME.casefold():
        return UNBORN_NAME
    letters = [next((ch for ch in word if ch.isalpha()), "") for word in name.split()]
    found = [letter.upper() for letter in letters if letter]
    return "".join(f"{letter}." for letter in found) if found else "?"


@dataclass(frozen=True, slots=True)
class ChildSummary:
    """A child as a channel card may show them: initials and age, never name or date of birth."""

    initials: str
    age_years: int | None = None
    #: set for children under a year
    age_months: int | None = None
    #: the month an unborn baby is due (the first of it): a month says enough to prioritise
    due_month: date | None = None

    @property
    def age_text(self) -> str:
        if self.due_month is not None:
            return f"unborn, due {_MONTHS[self.due_month.month - 1]} {self.due_month.year}"
        if self.age_years is None:
            return "age not known"
        if self.age_years >= 1:
            return f"{self.age_years} year" + ("" if self.age_years == 1 else "s")
        months = self.age_months or 0
        if months == 0:
            return "under 1 month"
        return f"{months} month" + ("" if months == 1 else "s")


def child_summary(child: Child, today: date) -> ChildSummary:
    """``child`` reduced to initials and age on ``today``."""
    if child.date_of_birth is None:
        due = child.expected_date.replace(day=1) if child.expected_date is not None else None
        return ChildSummary(initials(child.name), due_month=due)
    born = child.date_of_birth
    before_birthday = (today.month, today.day) < (born.month, born.day)
    years = max(today.year - born.year - before_birthday, 0)
    months = None
    if years == 0:
        months = max((today.year - born.year) * 12 + today.month - born.month - (today.day < born.day), 0)
    return ChildSummary(initials(child.name), age_years=years, age_months=months)


def referrer_label(referrer: Referrer | None, *, own_view: bool) -> str:
    """The referrer as text.

    Outside the contact's own view (channel cards, letters, exports) a referrer is only their type,
    and an anonymous member of the public is only that. In the own view, the name and agency are
    shown, with the anonymity request said plainly next to the name so nobody passes it on.
    """
    if referrer is None:
        return "Not recorded"
    kind = REFERRER_TYPE_TITLES[referrer.type]
    if referrer.anonymity_requested and referrer.type is ReferrerType.MEMBER_OF_PUBLIC:
        if not own_view:
            return f"{kind} (anonymous)"
        name = referrer.name or "name not given"
        return f"{kind}: {name} (anonymity requested: do not disclose)"
    if not own_view:
        return kind
    parts = [part for part in (referrer.name, referrer.role, referrer.agency) if part]
    return f"{kind}: {', '.join(parts)}" if parts else kind


@dataclass(frozen=True, slots=True)
class ChannelSummary:
    """What a decisions or duty channel card shows about a contact (SPEC §8: minimised data)."""

    contact_id: str
    reference: str
    state: ContactState
    urgent: bool
    children: tuple[ChildSummary, ...]
    presenting_needs: tuple[PresentingNeed, ...]
    immediate_risks: tuple[ImmediateRisk, ...]
    source: Source | None
    contact_type: ContactType | None
    #: the referrer's type only; see ``referrer_label``
    referrer: str
    received_at: datetime | None
    #: the earliest open clock: what the card's due time and RAG describe
    due_clock: ClockKind | None
    due_at: datetime | None
    rag: Rag | None
    #: another contact about the same child within the repeat window
    repeat: bool = False

    @property
    def need_titles(self) -> tuple[str, ...]:
        return tuple(NEED_TITLES[need] for need in self.presenting_needs)

    @property
    def rereferral(self) -> bool:
        return self.state is ContactState.DUTY_MANAGER_REVIEW


def channel_summary(
    contact: Contact,
    deadlines: Iterable[Deadline],
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
    *,
    repeat: bool = False,
) -> ChannelSummary:
    """The channel view of ``contact`` at ``now``, timed by its earliest open deadline."""
    today = now.astimezone(LONDON).date()
    open_deadlines = sorted(
        (d for d in deadlines if d.state is DeadlineState.OPEN), key=lambda d: (d.due_at, d.clock.value)
    )
    first = open_deadlines[0] if open_deadlines else None
    rag = None
    if first is not None:
        rag = clock_rag(first.clock, first.started_at, first.due_at, now, calendar, policy)
    return ChannelSummary(
        contact_id=contact.id,
        reference=contact.reference or "",
        state=contact.state,
        urgent=contact.urgent,
        children=tuple(child_summary(child, today) for child in contact.children),
        # Enum order, so every card lists needs and risks the same way.
        presenting_needs=tuple(need for need in PresentingNeed if need in contact.presenting_needs),
        immediate_risks=tuple(risk for risk in ImmediateRisk if risk in contact.immediate_risks),
        source=contact.source,
        contact_type=contact.contact_type,
        referrer=referrer_label(contact.referrer, own_view=False),
        received_at=contact.received_at,
        due_clock=first.clock if first else None,
        due_at=first.due_at if first else None,
        rag=rag,
        repeat=repeat,
    )


# -- a draft's answers as card values --------------------------------------------------------------


def format_phone(stored: str) -> str:
    """A stored number as shown: as it was typed; one stored in E.164 before numbers were kept as
    typed (``+447700900123``) as dialled in the UK (``07700900123``)."""
    return f"0{stored[3:]}" if stored.startswith("+44") and stored[3:].isdigit() else stored


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _iso(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


def section_values(contact: Contact, section: Section) -> dict[str, str]:
    """The card input values that show ``contact``'s answers for ``section``, keyed by field id,
    as the card would send them back (so ``parse_section`` reads them to the same answers)."""
    values: dict[str, str] = {}
    match section:
        case Section.SOURCE:
            values["source"] = contact.source.value if contact.source else ""
            values["contact_type"] = contact.contact_type.value if contact.contact_type else ""
            if contact.received_at is not None:
                local = contact.received_at.astimezone(LONDON)
                values["received_date"] = local.date().isoformat()
                values["received_time"] = f"{local:%H:%M}"
        case Section.REFERRER:
            referrer = contact.referrer
            if referrer is not None:
                values.update(
                    referrer_type=referrer.type.value,
                    referrer_name=referrer.name,
                    referrer_agency=referrer.agency,
                    referrer_role=referrer.role,
                    referrer_phone=format_phone(referrer.phone),
                    referrer_email=referrer.email,
                    anonymity_requested=_flag(referrer.anonymity_requested),
                )
        case Section.CHILDREN:
            for index, child in enumerate(contact.children):
                address, postcode = split_address(child.address)
                prefix = f"child_{index}_"
                values[f"{prefix}name"] = child.name
                values[f"{prefix}dob"] = _iso(child.date_of_birth)
                values[f"{prefix}expected"] = _iso(child.expected_date)
                values[f"{prefix}gender"] = child.gender
                values[f"{prefix}address"] = address
                values[f"{prefix}postcode"] = postcode
                values[f"{prefix}school"] = child.school
        case Section.PARENTS:
            for index, parent in enumerate(contact.parents):
                address, postcode = split_address(parent.address)
                prefix = f"parent_{index}_"
                values[f"{prefix}name"] = parent.name
                values[f"{prefix}relationship"] = parent.relationship
                values[f"{prefix}address"] = address
                values[f"{prefix}postcode"] = postcode
                values[f"{prefix}phone"] = format_phone(parent.phone)
            values["consent"] = contact.consent.value if contact.consent else ""
            values["consent_reason"] = contact.consent_reason
        case Section.WORRIES:
            values["worries"] = contact.worries
            values["working_well"] = contact.working_well
            values["needs_to_happen"] = contact.needs_to_happen
            values["presenting_needs"] = ",".join(
                need.value for need in PresentingNeed if need in contact.presenting_needs
            )
        case Section.RISK:
            # A "no" is shown only once the whole screen has been answered and the draft has moved
            # past it; before that an unanswered question stays blank rather than looking like "no".
            answered = is_after(section_of(contact), Section.RISK)
            for risk in ImmediateRisk:
                if risk in contact.immediate_risks:
                    values[f"risk_{risk.value}"] = "yes"
                else:
                    values[f"risk_{risk.value}"] = "no" if answered else ""
        case Section.HISTORY:
            history = contact.history
            values.update(
                open_case=_flag(history.open_case),
                allocated_worker=history.allocated_worker_id or "",
                open_to_early_help=_flag(history.open_to_early_help),
                early_help_worker=history.early_help_worker_id or "",
                closed_on=_iso(history.closed_on),
                last_worker=history.last_worker_id or "",
                systems_checked=",".join(history.systems_checked),
                chronology=history.chronology,
            )
        case Section.EMERGENCY:
            emergency = contact.emergency
            unknown = emergency.whereabouts == WHEREABOUTS_NOT_KNOWN
            withheld = emergency.phone == PHONE_NOT_GIVEN
            values.update(
                emergency_child=emergency.child,
                emergency_whereabouts="" if unknown else emergency.whereabouts,
                emergency_whereabouts_unknown=_flag(unknown),
                emergency_phone="" if withheld else format_phone(emergency.phone),
                emergency_phone_withheld=_flag(withheld),
            )
        case Section.SUMMARY:
            pass
    return values
