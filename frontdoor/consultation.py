"""Anonymous professional consultations of SPEC §2: ``PC-YY-NNNNN`` records and their use cases.

A partner-agency professional describes a worry *without identifying the child or family* and gets
advice; front-door staff may log one on behalf of a caller on the phone. The worry and the advice
pass the identifying-data guard (``frontdoor.guard``) before saving: a professional must edit what
it finds; staff may save anyway with a recorded reason, which is audited (the reason is kept on the
record, never copied into the audit log).

The use cases are plain async functions over a ``ConsultationUnitOfWork``. The caller opens the
unit of work; a use case that changes something commits it. Expected outcomes (refused, invalid,
not found) are results, not exceptions, so the Teams adapter can turn each into a reply.

Finding a consultation never tells anyone whether a reference exists for someone else: a missing
reference and one the actor may not see give the same "not found" result, word for word.

The managers' CSV export is in ``frontdoor.consultation_export``, the deletion after retention in
``frontdoor.consultation_retention``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Protocol

from frontdoor.acting import Rules, Who
from frontdoor.calendar import LONDON, require_aware
from frontdoor.contact import Contact
from frontdoor.errors import InvalidReferenceError
from frontdoor.guard import Finding, FindingKind, national_phone_digits, redact_preview, scan
from frontdoor.policy import Policy
from frontdoor.ports import AuditLog, ReferenceSequence
from frontdoor.records import AuditEvent
from frontdoor.references import Reference, ReferenceKind, format_reference, parse_reference, two_digit_year
from frontdoor.roles import Permission, may

__all__ = [
    "Consultation",
    "ConsultationDraft",
    "ConsultationField",
    "ConsultationLinkUnitOfWork",
    "ConsultationRepository",
    "ConsultationUnitOfWork",
    "ContactLookup",
    "FieldError",
    "FieldFindings",
    "FindOutcome",
    "FindResult",
    "LinkOutcome",
    "LinkResult",
    "SaveOutcome",
    "SaveResult",
    "consultations_followed_by",
    "find_consultation",
    "follows_text",
    "link_consultation",
    "not_found_message",
    "save_consultation",
    "starting_draft",
    "validate_draft",
]

#: Longest name, agency or role; these are one-line fields.
MAX_SHORT_FIELD_CHARS = 200
#: Longest reason for saving despite the guard's findings: a sentence, not an essay.
MAX_OVERRIDE_REASON_CHARS = 500
MAX_PHONE_CHARS = 40

#: What a card's form id looks like (``uuid.uuid4().hex``).
_FORM_ID = re.compile(r"[0-9a-f]{32}")

# Audit actions; the detail never carries free text.
ACTION_CREATE = "consultation.create"
ACTION_OVERRIDE = "consultation.override"
ACTION_LINK = "consultation.link"


class ConsultationField(StrEnum):
    """The fields of the consultation card, named as on ``ConsultationDraft``."""

    PROFESSIONAL_NAME = "professional_name"
    AGENCY = "agency"
    PROFESSIONAL_ROLE = "professional_role"
    WORRY = "worry"
    ADVICE = "advice"
    ON_BEHALF = "on_behalf"
    CONTACT_PHONE = "contact_phone"
    OVERRIDE_REASON = "override_reason"


_LABELS: dict[ConsultationField, str] = {
    ConsultationField.PROFESSIONAL_NAME: "The name",
    ConsultationField.AGENCY: "The agency",
    ConsultationField.PROFESSIONAL_ROLE: "The role",
    ConsultationField.WORRY: "The worry",
    ConsultationField.ADVICE: "The advice",
    ConsultationField.CONTACT_PHONE: "The phone number",
    ConsultationField.OVERRIDE_REASON: "The reason",
}

#: Fields the guard reads. Name, agency and role are the professional's own and meant to identify them.
GUARDED_FIELDS: tuple[ConsultationField, ...] = (ConsultationField.WORRY, ConsultationField.ADVICE)


# -- values --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Consultation:
    """A saved consultation. ``author_id`` is who logged it (the professional, or the staff member
    who took the call when ``on_behalf``); ``override_reason`` is empty unless staff saved it
    despite the guard's findings."""

    id: str
    reference: str
    author_id: str
    on_behalf: bool
    professional_name: str
    agency: str
    professional_role: str
    worry: str
    advice: str
    advised_by: str | None
    created_at: datetime
    linked_contact_reference: str | None = None
    override_reason: str = ""
    #: the professional's own contact number, if they gave one; the guard never flags it
    contact_phone: str = ""
    #: the card it was saved from: a second save from the same card gives this record back
    form_id: str | None = None


@dataclass(frozen=True, slots=True)
class ConsultationDraft:
    """What the consultation card sends back, already parsed into plain values."""

    professional_name: str
    agency: str
    professional_role: str = ""
    worry: str = ""
    advice: str = ""
    on_behalf: bool = False
    contact_phone: str = ""

    def text_of(self, field: ConsultationField) -> str:
        value = getattr(self, field.value)
        return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class FieldError:
    """A field the author must fix; ``message`` is shown on the card beside it."""

    field: str
    message: str


@dataclass(frozen=True, slots=True)
class FieldFindings:
    """What the guard found in one field, and the field with each finding replaced by a placeholder
    (so the card can show *where* without echoing the data again)."""

    field: ConsultationField
    findings: tuple[Finding, ...]
    preview: str

    @property
    def kinds(self) -> tuple[FindingKind, ...]:
        return tuple(dict.fromkeys(finding.kind for finding in self.findings))


class SaveOutcome(StrEnum):
    SAVED = "saved"
    INVALID = "invalid"
    NEEDS_CHANGES = "needs_changes"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class SaveResult:
    outcome: SaveOutcome
    consultation: Consultation | None = None
    errors: tuple[FieldError, ...] = ()
    findings: tuple[FieldFindings, ...] = ()
    #: whether the actor may save despite the findings by giving a reason (staff only)
    can_override: bool = False
    message: str = ""
    #: SAVED earlier from the same card: ``consultation`` is that record and nothing new was written
    repeated: bool = False


class FindOutcome(StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    INVALID_REFERENCE = "invalid_reference"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class FindResult:
    outcome: FindOutcome
    consultation: Consultation | None = None
    message: str = ""


class LinkOutcome(StrEnum):
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"
    LINKED_ELSEWHERE = "linked_elsewhere"
    NOT_FOUND = "not_found"
    CONTACT_NOT_FOUND = "contact_not_found"
    INVALID_REFERENCE = "invalid_reference"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class LinkResult:
    outcome: LinkOutcome
    consultation: Consultation | None = None
    message: str = ""


# -- ports ---------------------------------------------------------------------------------------


class ConsultationRepository(Protocol):
    async def add(self, consultation: Consultation) -> None: ...

    async def get_by_reference(self, reference: str) -> Consultation | None: ...

    async def list_between(self, start: datetime, end: datetime) -> list[Consultation]:
        """Consultations created at or after ``start`` and before ``end``, oldest first."""
        ...

    async def delete_older_than(self, cutoff: datetime) -> list[str]:
        """Delete consultations created before ``cutoff``; return their references."""
        ...

    async def link(self, reference: str, contact_reference: str) -> None:
        """Record that the consultation ``reference`` became the contact ``contact_reference``."""
        ...

    async def linked_to(self, contact_reference: str) -> list[Consultation]:
        """The consultations linked to the contact ``contact_reference``, oldest first."""
        ...

    async def from_form(self, author_id: str, form_id: str) -> Consultation | None:
        """The consultation ``author_id`` saved from the card ``form_id``, if any."""
        ...

    async def latest_own(self, author_id: str) -> Consultation | None:
        """The newest consultation ``author_id`` logged for themselves (not on behalf of a caller)."""
        ...


class ContactLookup(Protocol):
    """The one thing linking needs from the contacts: does this reference exist?"""

    async def get_by_reference(self, reference: str) -> Contact | None: ...


# Read-only properties rather than attributes, so the full UnitOfWork (whose attributes are
# mutable and more specific) satisfies these narrower protocols.
class ConsultationUnitOfWork(Protocol):
    @property
    def consultations(self) -> ConsultationRepository: ...

    @property
    def references(self) -> ReferenceSequence: ...

    @property
    def audit(self) -> AuditLog: ...

    async def commit(self) -> None: ...


class ConsultationLinkUnitOfWork(ConsultationUnitOfWork, Protocol):
    @property
    def contacts(self) -> ContactLookup: ...


# -- validation ----------------------------------------------------------------------------------


def _too_long(field: ConsultationField, text: str, limit: int) -> FieldError | None:
    if len(text) <= limit:
        return None
    return FieldError(field, f"{_LABELS[field]} is {len(text):,} characters; the limit is {limit:,}.")


def validate_draft(draft: ConsultationDraft, policy: Policy, *, is_staff: bool) -> list[FieldError]:
    """What is wrong with ``draft`` before the guard is even asked, one error per field at most."""
    errors: list[FieldError] = []
    limit = policy.limits.max_free_text_chars
    who = "caller's" if draft.on_behalf else "professional's"

    name = draft.professional_name.strip()
    if not name:
        errors.append(
            FieldError(
                ConsultationField.PROFESSIONAL_NAME,
                f"Give the {who} name: consultations are never anonymous.",
            )
        )
    elif error := _too_long(ConsultationField.PROFESSIONAL_NAME, name, MAX_SHORT_FIELD_CHARS):
        errors.append(error)

    agency = draft.agency.strip()
    if not agency:
        errors.append(FieldError(ConsultationField.AGENCY, f"Give the {who} agency."))
    elif error := _too_long(ConsultationField.AGENCY, agency, MAX_SHORT_FIELD_CHARS):
        errors.append(error)

    if error := _too_long(
        ConsultationField.PROFESSIONAL_ROLE, draft.professional_role.strip(), MAX_SHORT_FIELD_CHARS
    ):
        errors.append(error)

    worry = draft.worry.strip()
    if not worry:
        errors.append(FieldError(ConsultationField.WORRY, "Describe the worry."))
    elif error := _too_long(ConsultationField.WORRY, worry, limit):
        errors.append(error)

    advice = draft.advice.strip()
    if advice and not is_staff:
        errors.append(FieldError(ConsultationField.ADVICE, "Only front-door staff record the advice given."))
    elif error := _too_long(ConsultationField.ADVICE, advice, limit):
        errors.append(error)

    if draft.on_behalf and not is_staff:
        errors.append(
            FieldError(
                ConsultationField.ON_BEHALF,
                "Only front-door staff log a consultation on behalf of someone else.",
            )
        )

    phone = draft.contact_phone.strip()
    if phone:
        if error := _too_long(ConsultationField.CONTACT_PHONE, phone, MAX_PHONE_CHARS):
            errors.append(error)
        elif not 7 <= len(national_phone_digits(phone)) <= 15:
            errors.append(
                FieldError(
                    ConsultationField.CONTACT_PHONE,
                    "Give a phone number such as 0113 496 0000, or leave it empty.",
                )
            )
    return errors


def guard_draft(draft: ConsultationDraft, today: date) -> tuple[FieldFindings, ...]:
    """What the guard finds in the free-text fields of ``draft``; fields with no findings left out."""
    allowed = draft.contact_phone.strip() or None
    found: list[FieldFindings] = []
    for field in GUARDED_FIELDS:
        text = draft.text_of(field).strip()
        findings = scan(text, allowed_phone=allowed, today=today)
        if findings:
            found.append(FieldFindings(field, findings, redact_preview(text, findings)))
    return tuple(found)


# -- use cases -----------------------------------------------------------------------------------


async def save_consultation(
    uow: ConsultationUnitOfWork,
    draft: ConsultationDraft,
    override_reason: str | None = None,
    form_id: str | None = None,
    *,
    who: Who,
    rules: Rules,
) -> SaveResult:
    """Validate and guard ``draft``; if it passes (or staff override with a reason), save it under
    the next ``PC-YY-NNNNN`` reference of the Europe/London year of ``now`` and commit.

    ``form_id`` names the card the draft came from (32 lower-case hex digits; anything else is
    ignored). A second save from the same card by the same person writes nothing and returns the
    first record with ``repeated`` set, even when the two saves race."""
    held = frozenset(who.roles)
    if not may(held, Permission.LOG_CONSULTATION):
        return SaveResult(SaveOutcome.REFUSED, message="Logging consultations is not part of your role.")
    form = form_id if form_id is not None and _FORM_ID.fullmatch(form_id) else None
    if form is not None and (earlier := await uow.consultations.from_form(who.actor_id, form)) is not None:
        return SaveResult(SaveOutcome.SAVED, consultation=earlier, repeated=True)
    is_staff = may(held, Permission.SEE_ANY_CONSULTATION)
    # The reference year and the date-of-birth window follow the service's calendar: at New Year
    # London is on GMT, so its year is the UTC year, but a ``now`` given in another zone must not
    # shift a consultation into the wrong year's sequence.
    local_now = require_aware(rules.now, "now").astimezone(LONDON)

    errors = validate_draft(draft, rules.policy, is_staff=is_staff)
    reason = (override_reason or "").strip()
    if reason and (error := _too_long(ConsultationField.OVERRIDE_REASON, reason, MAX_OVERRIDE_REASON_CHARS)):
        errors.append(error)
    findings = guard_draft(draft, local_now.date())
    can_override = is_staff and bool(findings)

    if errors:
        return SaveResult(
            SaveOutcome.INVALID,
            errors=tuple(errors),
            findings=findings,
            can_override=can_override,
            message="Some fields need changing before this can be saved.",
        )
    if findings and not (is_staff and reason):
        message = "Remove anything that could identify the child or family, then save again."
        if is_staff:
            message += " To save it as it is, give a reason; the override is recorded."
        return SaveResult(
            SaveOutcome.NEEDS_CHANGES, findings=findings, can_override=can_override, message=message
        )

    year = two_digit_year(local_now.year)
    number = await uow.references.allocate(ReferenceKind.CONSULTATION.value, year)
    if form is not None and (earlier := await uow.consultations.from_form(who.actor_id, form)) is not None:
        # The same press delivered twice: the other delivery saved while this one waited for the
        # write lock the allocation takes. Not committing rolls the number back, so no gap.
        return SaveResult(SaveOutcome.SAVED, consultation=earlier, repeated=True)
    reference = format_reference(ReferenceKind.CONSULTATION, year, number)
    advice = draft.advice.strip()
    consultation = Consultation(
        id=uuid.uuid4().hex,
        reference=reference,
        author_id=who.actor_id,
        on_behalf=draft.on_behalf,
        professional_name=draft.professional_name.strip(),
        agency=draft.agency.strip(),
        professional_role=draft.professional_role.strip(),
        worry=draft.worry.strip(),
        advice=advice,
        advised_by=who.actor_id if advice else None,
        created_at=local_now.astimezone(UTC),
        override_reason=reason if findings else "",
        contact_phone=draft.contact_phone.strip(),
        form_id=form,
    )
    await uow.consultations.add(consultation)
    at = consultation.created_at
    await uow.audit.append(
        AuditEvent(at, who.actor_id, ACTION_CREATE, reference, "on_behalf" if draft.on_behalf else "")
    )
    if findings:
        # Which kinds of data were kept, never the data or the reason: those stay on the record.
        kinds = sorted({kind.value for field in findings for kind in field.kinds})
        await uow.audit.append(AuditEvent(at, who.actor_id, ACTION_OVERRIDE, reference, ",".join(kinds)))
    await uow.commit()
    return SaveResult(SaveOutcome.SAVED, consultation=consultation, findings=findings)


def not_found_message(reference: str) -> str:
    """The one reply for a reference that does not exist *and* for one the actor may not see."""
    return f"No consultation {reference} was found."


_NOT_A_CONSULTATION = "That is not a consultation reference; they look like PC-26-00012."


def _consultation_reference(text: str) -> Reference | None:
    try:
        reference = parse_reference(text)
    except InvalidReferenceError:
        return None
    return reference if reference.kind is ReferenceKind.CONSULTATION else None


async def find_consultation(uow: ConsultationUnitOfWork, reference_text: str, *, who: Who) -> FindResult:
    """A professional finds their own consultations; front-door staff find any; others are refused.
    Read-only: nothing is written or committed."""
    held = frozenset(who.roles)
    sees_any = may(held, Permission.SEE_ANY_CONSULTATION)
    if not sees_any and not may(held, Permission.LOG_CONSULTATION):
        return FindResult(FindOutcome.REFUSED, message="Finding consultations is not part of your role.")
    reference = _consultation_reference(reference_text)
    if reference is None:
        return FindResult(FindOutcome.INVALID_REFERENCE, message=_NOT_A_CONSULTATION)
    consultation = await uow.consultations.get_by_reference(str(reference))
    if consultation is None or not (sees_any or consultation.author_id == who.actor_id):
        return FindResult(FindOutcome.NOT_FOUND, message=not_found_message(str(reference)))
    return FindResult(FindOutcome.FOUND, consultation=consultation)


async def link_consultation(
    uow: ConsultationLinkUnitOfWork,
    consultation_reference: str,
    contact_reference: str,
    *,
    who: Who,
    now: datetime,
    commit: bool = True,
) -> LinkResult:
    """Link a consultation to the contact it became. Front-door staff only (officers during intake
    or later). Pass ``commit=False`` when linking inside a larger use case that commits itself,
    such as submitting the contact."""
    if not may(frozenset(who.roles), Permission.SEE_ANY_CONSULTATION):
        return LinkResult(LinkOutcome.REFUSED, message="Linking consultations is for front-door staff.")
    reference = _consultation_reference(consultation_reference)
    if reference is None:
        return LinkResult(LinkOutcome.INVALID_REFERENCE, message=_NOT_A_CONSULTATION)
    try:
        contact_ref = parse_reference(contact_reference)
    except InvalidReferenceError:
        contact_ref = None
    if contact_ref is None or contact_ref.kind is not ReferenceKind.CONTACT:
        return LinkResult(
            LinkOutcome.INVALID_REFERENCE,
            message="That is not a contact reference; they look like CT-26-000123.",
        )
    consultation = await uow.consultations.get_by_reference(str(reference))
    if consultation is None:
        return LinkResult(LinkOutcome.NOT_FOUND, message=not_found_message(str(reference)))
    if consultation.linked_contact_reference == str(contact_ref):
        return LinkResult(LinkOutcome.ALREADY_LINKED, consultation=consultation)
    if consultation.linked_contact_reference is not None:
        # Re-pointing a link would silently rewrite history; a wrong link is a matter for a manager.
        return LinkResult(
            LinkOutcome.LINKED_ELSEWHERE,
            consultation=consultation,
            message=f"{consultation.reference} is already linked to {consultation.linked_contact_reference}.",
        )
    if await uow.contacts.get_by_reference(str(contact_ref)) is None:
        return LinkResult(LinkOutcome.CONTACT_NOT_FOUND, message=f"No contact {contact_ref} was found.")
    await uow.consultations.link(consultation.reference, str(contact_ref))
    await uow.audit.append(
        AuditEvent(
            require_aware(now, "now").astimezone(UTC),
            who.actor_id,
            ACTION_LINK,
            consultation.reference,
            str(contact_ref),
        )
    )
    if commit:
        await uow.commit()
    linked = replace(consultation, linked_contact_reference=str(contact_ref))
    return LinkResult(LinkOutcome.LINKED, consultation=linked)


# -- the card's starting values and the contact's side of a link ---------------------------------


async def starting_draft(uow: ConsultationUnitOfWork, display_name: str, *, who: Who) -> ConsultationDraft:
    """What a new consultation card holds before anyone types.

    Front-door staff mostly log for a caller on the phone, so their card starts empty and "on
    behalf". A professional's starts with the name Teams gives for them and, since Teams does not
    tell the bot their agency, role or number, those of their own last consultation, if any.
    """
    if may(frozenset(who.roles), Permission.SEE_ANY_CONSULTATION):
        return ConsultationDraft(professional_name="", agency="", on_behalf=True)
    last = await uow.consultations.latest_own(who.actor_id)
    name = display_name.strip()[:MAX_SHORT_FIELD_CHARS]
    if last is None:
        return ConsultationDraft(professional_name=name, agency="")
    return ConsultationDraft(
        professional_name=name or last.professional_name,
        agency=last.agency,
        professional_role=last.professional_role,
        contact_phone=last.contact_phone,
    )


async def consultations_followed_by(
    consultations: ConsultationRepository, contact_reference: str
) -> tuple[str, ...]:
    """The references of the consultations a contact follows (linked to it), oldest first."""
    return tuple(c.reference for c in await consultations.linked_to(contact_reference))


def follows_text(consultation_references: Iterable[str]) -> str:
    """The line a contact shows: ``follows consultation PC-26-00012``; empty when it follows none."""
    references = list(consultation_references)
    if not references:
        return ""
    noun = "consultation" if len(references) == 1 else "consultations"
    return f"follows {noun} {', '.join(references)}"
