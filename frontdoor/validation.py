"""Server-side checks of the contact script (SPEC §5): what a card sends back, parsed into typed
answers or refused with messages that name the field as the officer sees it.

Cards send strings: text as typed, dates as ``YYYY-MM-DD``, times as ``HH:MM``, toggles as
``"true"``/``"false"`` and multi-selects as comma-separated values. ``parse_section`` reads those
(and the plain Python values a test or another client may send) into a ``ParsedSection``; anything
missing, malformed, unknown or of the wrong type becomes a ``FieldError``, never an exception.
Keys that are not fields of the section (the card's action data, ids and versions) are ignored.

``partial=True`` is for "Save draft": required answers may still be missing, but whatever is
given must be valid. ``check_complete`` re-checks a whole draft before submission, because a
draft can be edited section by section in any order through Back.

Choices made here, beyond the spec's words:

- Received-at may be back-dated up to ``MAX_BACKDATE`` (14 days): long enough for an e-mail found
  after a bank-holiday weekend, short enough to catch a wrong year or month.
- An expected date for an unborn child lies between ``OVERDUE_TOLERANCE`` (6 weeks) ago and
  ``UNBORN_HORIZON`` (305 days, about ten months) ahead: a pregnancy can run two weeks past its
  date before induction, and a contact about an overdue or just-born baby is often made before the
  birth is registered, so a few weeks in the past is real; more than six is a mistyped date. A
  date of birth lies between ``OLDEST_CHILD_YEARS`` (25, the oldest care
  leaver) years ago and today, which catches a mistyped century.
- Phone numbers are stored as typed (``0191 498 0000``), once checked; ``normalise_phone`` gives
  the E.164 form (``+441914980000``) for comparing them. Accepted: mobiles (07), geographic
  numbers (01, 02), non-geographic 03 numbers, and 0800/0808 freephone numbers (helplines such as
  the NSPCC's), written with spaces, dashes, dots or brackets, with +44, 0044 or +44 (0) in front.
  The emergency details card also takes a number abroad in international form (an urgent caller
  may be anywhere), and "whereabouts not known" / "number withheld or not given" as ticks: an
  urgent call must reach a consultant whatever the caller could say.
- Received-at of a contact started from an e-mail is the e-mail's received time, set by
  ``frontdoor.intake`` and never read from the card, so ``MAX_BACKDATE`` does not limit it.
- An address and its postcode are two inputs on the card but one ``address`` text on the record
  (the records have no postcode column): the postcode is its last line (see ``join_address``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from frontdoor.answers import (
    ChildrenAnswers,
    EmergencyAnswers,
    HistoryAnswers,
    ParentsAnswers,
    ParsedSection,
    ReferrerAnswers,
    RiskAnswers,
    SourceAnswers,
    SummaryAnswers,
    WorriesAnswers,
)
from frontdoor.calendar import LONDON
from frontdoor.card_values import (
    CardValues,
    FieldError,
    all_blank,
    fields_by_id,
    group_indices,
)
from frontdoor.contact import (
    PHONE_NOT_GIVEN,
    WHEREABOUTS_NOT_KNOWN,
    Child,
    Consent,
    Contact,
    ContactType,
    EmergencyDetails,
    HistoryChecks,
    ImmediateRisk,
    Parent,
    PresentingNeed,
    Referrer,
    ReferrerType,
    Source,
)
from frontdoor.contact_details import (
    join_address,
)
from frontdoor.policy import Policy
from frontdoor.script import (
    DEFAULT_LOCAL_SYSTEMS,
    MAX_CHILDREN,
    MAX_PARENTS,
    UNBORN_NAME,
    Choice,
    FieldKind,
    Section,
    child_fields,
    fields_for,
    parent_fields,
)

__all__ = [
    "MAX_BACKDATE",
    "OLDEST_CHILD_YEARS",
    "OVERDUE_TOLERANCE",
    "UNBORN_HORIZON",
    # defined with the card reader (frontdoor.card_values); what parse_section and the checks return
    "FieldError",
    "apply_section",
    "check_complete",
    "check_emergency",
    "check_history",
    "check_received_at",
    "parse_section",
]

MAX_BACKDATE = timedelta(days=14)
UNBORN_HORIZON = timedelta(days=305)
OVERDUE_TOLERANCE = timedelta(weeks=6)
OLDEST_CHILD_YEARS = 25


# -- dates and times -----------------------------------------------------------------------------
def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def check_received_at(
    received_at: datetime, now: datetime, field_id: str = "received_date"
) -> list[FieldError]:
    """Received-at must not be in the future, nor more than ``MAX_BACKDATE`` ago."""
    if received_at > now:
        return [FieldError(field_id, "Date received: must not be in the future")]
    if received_at < now - MAX_BACKDATE:
        return [
            FieldError(
                field_id,
                f"Date received: can be back-dated at most {MAX_BACKDATE.days} days; check the date",
            )
        ]
    return []


def _child_date_errors(child: Child, index: int, today: date) -> list[FieldError]:
    n = index + 1
    errors: list[FieldError] = []
    if child.date_of_birth is not None:
        if child.date_of_birth > today:
            errors.append(
                FieldError(f"child_{index}_dob", f"Child {n} date of birth: must not be in the future")
            )
        elif child.date_of_birth < _years_before(today, OLDEST_CHILD_YEARS):
            errors.append(
                FieldError(
                    f"child_{index}_dob",
                    f"Child {n} date of birth: is more than {OLDEST_CHILD_YEARS} years ago; check the year",
                )
            )
    if child.expected_date is not None:
        if child.expected_date < today - OVERDUE_TOLERANCE:
            weeks = OVERDUE_TOLERANCE.days // 7
            errors.append(
                FieldError(
                    f"child_{index}_expected",
                    f"Child {n} expected date: is more than {weeks} weeks ago; if the baby is born, "
                    "give the date of birth instead",
                )
            )
        elif child.expected_date > today + UNBORN_HORIZON:
            errors.append(
                FieldError(
                    f"child_{index}_expected",
                    f"Child {n} expected date: is more than 10 months away; check the date",
                )
            )
    return errors


def _child_completeness_errors(child: Child, index: int) -> list[FieldError]:
    n = index + 1
    errors: list[FieldError] = []
    if not child.name.strip():
        errors.append(
            FieldError(
                f"child_{index}_name",
                f'Child {n} name: enter the child\'s name (or "{UNBORN_NAME}" with an expected date)',
            )
        )
    if child.date_of_birth is not None and child.expected_date is not None:
        errors.append(
            FieldError(
                f"child_{index}_expected",
                f"Child {n} expected date: give a date of birth or an expected date, not both",
            )
        )
    elif child.date_of_birth is None and child.expected_date is None:
        if child.name.strip().casefold() == UNBORN_NAME.casefold():
            errors.append(
                FieldError(f"child_{index}_expected", f"Child {n} expected date: enter it for an unborn baby")
            )
        else:
            errors.append(
                FieldError(
                    f"child_{index}_dob",
                    f"Child {n} date of birth: enter it (or an expected date for an unborn baby)",
                )
            )
    return errors


def _referrer_errors(referrer: Referrer, partial: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    # A rule, not a missing answer: checked on "Save draft" too.
    if referrer.anonymity_requested and referrer.type is not ReferrerType.MEMBER_OF_PUBLIC:
        errors.append(
            FieldError(
                "anonymity_requested",
                "Anonymity requested: only a member of the public may stay anonymous",
            )
        )
    if not partial and referrer.type is ReferrerType.PROFESSIONAL:
        if not referrer.name:
            errors.append(FieldError("referrer_name", "Referrer name: a professional must give their name"))
        if not referrer.agency:
            errors.append(
                FieldError("referrer_agency", "Referrer agency: a professional must give their agency")
            )
    return errors


# -- the sections ----------------------------------------------------------------------------------


def _parse_source(read: CardValues, today: date, now: datetime) -> SourceAnswers:
    spec = fields_by_id(fields_for(Section.SOURCE))
    source = read.choice(spec["source"], Source)
    contact_type = read.choice(spec["contact_type"], ContactType)
    received_date = read.date(spec["received_date"])
    received_time = read.time(spec["received_time"])
    received_at: datetime | None = None
    if received_date is not None and received_time is None:
        read.error(spec["received_time"], "enter the time too, or clear the date")
    elif received_time is not None:
        # A time alone means today: "it came in at 09:10".
        day = received_date or today
        received_at = datetime.combine(day, received_time, tzinfo=LONDON).astimezone(UTC)
        read.errors.extend(check_received_at(received_at, now))
    return SourceAnswers(source, contact_type, received_at)


def _parse_referrer(read: CardValues) -> ReferrerAnswers:
    spec = fields_by_id(fields_for(Section.REFERRER))
    if read.partial and all_blank(read.values, spec.values()):
        return ReferrerAnswers(None)
    # Even a draft needs the type once anything else is given: the rules hang on it.
    type_reader = CardValues(read.values, read.policy, partial=False)
    referrer_type = type_reader.choice(spec["referrer_type"], ReferrerType)
    read.errors.extend(type_reader.errors)
    name = read.text(spec["referrer_name"])
    agency = read.text(spec["referrer_agency"])
    role = read.text(spec["referrer_role"])
    phone = read.phone(spec["referrer_phone"])
    email = read.email(spec["referrer_email"])
    anonymous = read.toggle(spec["anonymity_requested"])
    if referrer_type is None:
        return ReferrerAnswers(None)
    referrer = Referrer(referrer_type, name, agency, role, phone, email, anonymous)
    read.errors.extend(_referrer_errors(referrer, read.partial))
    return ReferrerAnswers(referrer)


def _parse_children(read: CardValues, today: date) -> ChildrenAnswers:
    children: list[tuple[int, Child]] = []
    for index in group_indices(read.values, "child"):
        if index >= MAX_CHILDREN:
            problem = f"At most {MAX_CHILDREN} children per contact"
            read.errors.append(FieldError(f"child_{index}_name", problem))
            continue
        specs = child_fields(index)
        # An empty block left by "Add another child" is not a child.
        if all_blank(read.values, specs):
            continue
        spec = fields_by_id(specs)
        # The name is read as optional: an unborn baby may have none; checked below instead.
        name = read.text(replace(spec[f"child_{index}_name"], required=False))
        expected = read.date(spec[f"child_{index}_expected"])
        if not name and expected is not None:
            name = UNBORN_NAME
        address = read.text(spec[f"child_{index}_address"])
        postcode = read.postcode(spec[f"child_{index}_postcode"])
        child = Child(
            name=name,
            date_of_birth=read.date(spec[f"child_{index}_dob"]),
            expected_date=expected,
            gender=read.plain_choice(spec[f"child_{index}_gender"]),
            address=join_address(address, postcode),
            school=read.text(spec[f"child_{index}_school"]),
        )
        read.errors.extend(_child_date_errors(child, index, today))
        if not read.partial:
            read.errors.extend(_child_completeness_errors(child, index))
        children.append((index, child))
    if not children and not read.partial:
        read.errors.append(FieldError("child_0_name", "Child 1 name: a contact needs at least one child"))
    return ChildrenAnswers(tuple(child for _, child in children))


def _parse_parents(read: CardValues) -> ParentsAnswers:
    parents: list[Parent] = []
    for index in group_indices(read.values, "parent"):
        if index >= MAX_PARENTS:
            problem = f"At most {MAX_PARENTS} parents per contact"
            read.errors.append(FieldError(f"parent_{index}_name", problem))
            continue
        specs = parent_fields(index)
        if all_blank(read.values, specs):
            continue
        spec = fields_by_id(specs)
        name = read.text(spec[f"parent_{index}_name"])
        if not name and not read.partial:
            read.error(spec[f"parent_{index}_name"], "enter their name, or clear this parent's details")
        address = read.text(spec[f"parent_{index}_address"])
        postcode = read.postcode(spec[f"parent_{index}_postcode"])
        parents.append(
            Parent(
                name=name,
                relationship=read.text(spec[f"parent_{index}_relationship"]),
                address=join_address(address, postcode),
                phone=read.phone(spec[f"parent_{index}_phone"]),
            )
        )
    spec = fields_by_id(fields_for(Section.PARENTS))
    consent = read.choice(spec["consent"], Consent)
    reason = read.text(spec["consent_reason"])
    if consent in _REASONED and not reason and not read.partial:
        read.error(spec["consent_reason"], _REASONED[consent])
    # A reason belongs only to "refused" and "not sought"; a stale one would read as if it applied.
    return ParentsAnswers(tuple(parents), consent, reason if consent in _REASONED else "")


#: The consents that need a reason (SPEC §2-3), and what to ask for.
_REASONED: dict[Consent, str] = {
    Consent.NOT_SOUGHT: "say why seeking consent would place the child at risk",
    Consent.REFUSED: "record the reason the parents gave for refusing",
}


def _parse_worries(read: CardValues) -> WorriesAnswers:
    spec = fields_by_id(fields_for(Section.WORRIES))
    return WorriesAnswers(
        worries=read.text(spec["worries"]),
        working_well=read.text(spec["working_well"]),
        needs_to_happen=read.text(spec["needs_to_happen"]),
        presenting_needs=read.multichoice(spec["presenting_needs"], PresentingNeed),
    )


def _parse_risk(read: CardValues) -> RiskAnswers:
    spec = fields_by_id(fields_for(Section.RISK))
    yes = frozenset(risk for risk in ImmediateRisk if read.plain_choice(spec[f"risk_{risk.value}"]) == "yes")
    return RiskAnswers(yes)


#: The emergency details that may be answered with a tick instead (SPEC §3): field, its tick, what
#: the tick records, and what to ask for when neither is given.
_ANSWER_OR_TICK: tuple[tuple[str, str, str, str], ...] = (
    (
        "emergency_whereabouts",
        "emergency_whereabouts_unknown",
        WHEREABOUTS_NOT_KNOWN,
        "say where the child is",
    ),
    ("emergency_phone", "emergency_phone_withheld", PHONE_NOT_GIVEN, "enter their number"),
)


def _parse_emergency(read: CardValues) -> EmergencyAnswers:
    spec = fields_by_id(fields_for(Section.EMERGENCY))
    answers: dict[str, str] = {}
    for field_id, tick_id, tick_answer, ask in _ANSWER_OR_TICK:
        field, tick = spec[field_id], spec[tick_id]
        # a typed answer says more than the tick; a number typed wrong is refused as such (the
        # first message per field is the one kept)
        given = read.phone(field, abroad=True) if field.kind is FieldKind.PHONE else read.text(field)
        answers[field_id] = given or (tick_answer if read.toggle(tick) else "")
        if not answers[field_id] and not read.partial:
            read.error(field, f"{ask}, or tick {tick.label}")
    return EmergencyAnswers(
        EmergencyDetails(
            child=read.text(spec["emergency_child"]),
            whereabouts=answers["emergency_whereabouts"],
            phone=answers["emergency_phone"],
        )
    )


def _parse_history(read: CardValues, today: date, local_systems: Sequence[Choice]) -> HistoryAnswers:
    spec = fields_by_id(fields_for(Section.HISTORY, local_systems=local_systems))
    open_case = read.toggle(spec["open_case"])
    worker = read.person(spec["allocated_worker"])
    # When the id was unreadable, that error is already recorded and is the one kept for the field.
    if open_case and worker is None and not read.partial:
        read.error(spec["allocated_worker"], "choose the allocated worker of the open case")
    early_help = read.toggle(spec["open_to_early_help"])
    early_help_worker = read.person(spec["early_help_worker"])
    if early_help and early_help_worker is None and not read.partial:
        read.error(spec["early_help_worker"], "choose the early help worker")
    closed_on = read.date(spec["closed_on"])
    if closed_on is not None and closed_on > today:
        read.error(spec["closed_on"], "must not be in the future")
    history = HistoryChecks(
        open_case=open_case,
        allocated_worker_id=worker,
        last_worker_id=read.person(spec["last_worker"]),
        systems_checked=read.multichoice_values(spec["systems_checked"]),
        chronology=read.text(spec["chronology"]),
        closed_on=closed_on,
        open_to_early_help=early_help,
        # a worker belongs to early help only while the child is open to it
        early_help_worker_id=early_help_worker if early_help else None,
    )
    return HistoryAnswers(history)


def parse_section(
    section: Section,
    values: Mapping[str, object],
    today: date,
    now: datetime,
    policy: Policy,
    *,
    partial: bool = False,
    local_systems: Sequence[Choice] = DEFAULT_LOCAL_SYSTEMS,
) -> ParsedSection | list[FieldError]:
    """The answers of ``section``'s card, or every problem with them (never an exception).

    ``today`` is the local date dates of birth are judged against; ``now`` the instant received-at
    is. With ``partial`` (Save draft) missing required answers are allowed.
    """
    if not isinstance(values, Mapping):
        return [FieldError("", "This card could not be read; please open it again")]
    read = CardValues(values, policy, partial)
    parsed: ParsedSection
    match section:
        case Section.SOURCE:
            parsed = _parse_source(read, today, now)
        case Section.REFERRER:
            parsed = _parse_referrer(read)
        case Section.CHILDREN:
            parsed = _parse_children(read, today)
        case Section.PARENTS:
            parsed = _parse_parents(read)
        case Section.WORRIES:
            parsed = _parse_worries(read)
        case Section.RISK:
            parsed = _parse_risk(read)
        case Section.EMERGENCY:
            parsed = _parse_emergency(read)
        case Section.HISTORY:
            parsed = _parse_history(read, today, local_systems)
        case Section.SUMMARY:
            parsed = SummaryAnswers()
    # One message per field is enough to act on; the first found is the most basic.
    first: dict[str, FieldError] = {}
    for error in read.errors:
        first.setdefault(error.field_id, error)
    return list(first.values()) if first else parsed


def apply_section(contact: Contact, parsed: ParsedSection) -> Contact:
    """``contact`` with a section's answers in place of what it held for that section."""
    match parsed:
        case SourceAnswers(source, contact_type, received_at):
            return replace(contact, source=source, contact_type=contact_type, received_at=received_at)
        case ReferrerAnswers(referrer):
            return replace(contact, referrer=referrer)
        case ChildrenAnswers(children):
            return replace(contact, children=children)
        case ParentsAnswers(parents, consent, reason):
            return replace(contact, parents=parents, consent=consent, consent_reason=reason)
        case WorriesAnswers(worries, working_well, needs_to_happen, needs):
            return replace(
                contact,
                worries=worries,
                working_well=working_well,
                needs_to_happen=needs_to_happen,
                presenting_needs=needs,
            )
        case RiskAnswers(risks):
            return replace(contact, immediate_risks=risks)
        case EmergencyAnswers(emergency):
            return replace(contact, emergency=emergency)
        case HistoryAnswers(history):
            return replace(contact, history=history)
        case SummaryAnswers():
            return contact


def check_complete(contact: Contact, today: date) -> list[FieldError]:
    """Everything a contact needs before it is submitted, re-checked on the record itself.

    History checks are not required of an urgent contact: it is created before they are done, and
    they stay outstanding on it until someone records them (``check_history``).
    """
    errors: list[FieldError] = []
    if contact.source is None:
        errors.append(FieldError("source", "Source: this is required"))
    if contact.contact_type is None:
        errors.append(FieldError("contact_type", "Contact type: this is required"))
    if contact.referrer is None:
        errors.append(FieldError("referrer_type", "Referrer type: this is required"))
    else:
        errors.extend(_referrer_errors(contact.referrer, partial=False))
    if not contact.children:
        errors.append(FieldError("child_0_name", "Child 1 name: a contact needs at least one child"))
    for index, child in enumerate(contact.children):
        errors.extend(_child_completeness_errors(child, index))
        errors.extend(_child_date_errors(child, index, today))
    if contact.consent is None:
        errors.append(FieldError("consent", "Consent: this is required"))
    elif contact.consent in _REASONED and not contact.consent_reason.strip():
        errors.append(FieldError("consent_reason", f"Consent reason: {_REASONED[contact.consent]}"))
    if not contact.worries.strip():
        errors.append(FieldError("worries", "What are we worried about: this is required"))
    if not contact.presenting_needs:
        errors.append(FieldError("presenting_needs", "Presenting needs: choose at least one"))
    if not contact.urgent or contact.history.recorded:
        errors.extend(check_history(contact))
    return errors


def check_emergency(contact: Contact) -> list[FieldError]:
    """What an urgent contact needs before it is created: the emergency details (SPEC §3)."""
    emergency = contact.emergency
    missing = (
        ("emergency_child", "Child's name or description: this is required", emergency.child),
        (
            "emergency_whereabouts",
            "Where the child is now: say where the child is, or tick Whereabouts not known",
            emergency.whereabouts,
        ),
        (
            "emergency_phone",
            "Referrer's phone: enter their number, or tick Number withheld or not given",
            emergency.phone,
        ),
    )
    errors = [FieldError(field_id, message) for field_id, message, value in missing if not value]
    if contact.source is None:
        errors.append(FieldError("source", "Source: this is required"))
    if contact.contact_type is None:
        errors.append(FieldError("contact_type", "Contact type: this is required"))
    return errors


def check_history(contact: Contact) -> list[FieldError]:
    """The history checks as recorded: the systems checked, and the worker of an open case or of
    early help."""
    errors: list[FieldError] = []
    history = contact.history
    if not history.systems_checked:
        errors.append(FieldError("systems_checked", "Checks done: choose the systems you checked"))
    if history.open_case and not history.allocated_worker_id:
        errors.append(
            FieldError("allocated_worker", "Allocated worker: choose the allocated worker of the open case")
        )
    if history.open_to_early_help and not history.early_help_worker_id:
        errors.append(FieldError("early_help_worker", "Early help worker: choose the early help worker"))
    if contact.contact_type is ContactType.OPEN_CASE_INFORMATION and not history.open_case:
        errors.append(
            FieldError(
                "open_case",
                "Open case: the contact type is significant information on an open case; "
                "record the open case and its worker, or change the contact type",
            )
        )
    return errors
