"""The officer's intake use cases (SPEC §3 "Intake", §5): start a draft, save it section by section,
go back, cancel, and submit it into the lifecycle with its clocks.

Each use case takes a fresh ``UnitOfWork``, enters it, and commits at most once, so a contact
change, the deadlines it starts, its reference number and its audit rows are saved together or not
at all. A request that must not go ahead (a card from an earlier step, another person's draft, a
contact that has moved on, invalid answers, a role that may not start contacts) returns a
``Refusal`` with a message fit to show, and changes nothing. Infrastructure failures are not
refusals: they propagate, and leaving the unit of work rolls everything back.

**Urgent** (any yes on the immediate-risk screen, SPEC §3): saving the emergency details card
creates the contact at once (``save_section`` returns it in ``SectionSaved.created``): reference,
received-at, screening with the 2-hour child-protection clock from received-at and the screening
clock, and the consultants on duty to @mention. The draft stays with the officer
(``Contact.completing``) for the remaining cards, which save onto the same contact; its summary's
button finishes it (``submit_contact``), with the history checks allowed to stay outstanding, to be
recorded later by the officer or a consultant (``frontdoor.history_checks``). Urgency wins over an
open case or a recent closure: a consultant decides at once, and those are told besides (the
allocated worker, the duty manager) when the history checks say so.

Routing on submission (open case, re-referral, screening) and the clocks each route starts are the
rules of ``frontdoor.submission_routing``.

Audit rows carry ids, section names, references and routes only, never free text. Drafts are
audited under the contact id (they have no reference yet); submission is audited under the new
reference, with the contact id in the detail to join the two.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum

from frontdoor.acting import Rules, Who
from frontdoor.calendar import LONDON, require_aware
from frontdoor.card_values import FieldError
from frontdoor.contact import Contact, ContactState
from frontdoor.edt import tell_edt_of_urgent_contact
from frontdoor.lifecycle import transition
from frontdoor.mail import return_mail_of_draft
from frontdoor.outcomes import add_event_data
from frontdoor.ports import StaleVersionError
from frontdoor.records import ClockKind, Deadline
from frontdoor.references import ReferenceKind, format_reference
from frontdoor.repeats import REPEAT_OF_KEY, recorded_repeat_of
from frontdoor.repeats import repeat_of as repeats_of
from frontdoor.roles import Permission, Role, may
from frontdoor.script import (
    DEFAULT_LOCAL_SYSTEMS,
    SECTION_TITLES,
    Choice,
    Section,
    is_after,
    next_section,
    previous_section,
    section_of,
)
from frontdoor.submission_routing import ROUTE_MOVES, Route, route_clocks, submission_route
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import audit_event
from frontdoor.validation import (
    apply_section,
    check_complete,
    check_emergency,
    check_received_at,
    parse_section,
)
from frontdoor.views import ChannelSummary, channel_summary

__all__ = [
    "DraftCancelled",
    "MentionTarget",
    "Refusal",
    "RefusalReason",
    "SectionSaved",
    "SubmissionResult",
    "cancel_draft",
    "go_back",
    "received_from_mail",
    "revisit_section",
    "save_section",
    "start_contact",
    "submit_contact",
    "submit_whole_draft",
]


class RefusalReason(StrEnum):
    NOT_PERMITTED = "not_permitted"
    NOT_FOUND = "not_found"
    NOT_YOURS = "not_yours"
    #: submitted or cancelled already
    MOVED_ON = "moved_on"
    #: a card from an earlier step: the draft is on another section or version now
    STALE = "stale"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was not carried out; nothing was changed. ``message`` is safe to show and log."""

    reason: RefusalReason
    message: str
    errors: tuple[FieldError, ...] = ()
    #: for a stale card: the section the draft is on now, so the current card can be shown again
    current_section: Section | None = None


@dataclass(frozen=True, slots=True)
class SectionSaved:
    """The draft as saved, and the section it is now on (its next card)."""

    contact: Contact
    section: Section
    #: the urgent contact created by this save (the emergency details card), to post at once
    created: SubmissionResult | None = None
    #: the contact before this save, for an urgent contact that already exists: what changed decides
    #: whom the Teams layer tells (the allocated worker, the duty manager)
    before: Contact | None = None


@dataclass(frozen=True, slots=True)
class DraftCancelled:
    contact_id: str


@dataclass(frozen=True, slots=True)
class MentionTarget:
    """A person to @mention: their Azure AD object id and, when known, their Teams display name."""

    person_id: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """Everything the Teams layer needs to post after a submission."""

    contact: Contact
    reference: str
    route: Route
    urgent: bool
    received_at: datetime
    deadlines: tuple[Deadline, ...]
    #: consultants to @mention in the decisions channel (urgent contacts only)
    mention_targets: tuple[MentionTarget, ...]
    summary: ChannelSummary
    #: the allocated worker to send the summary to (open case only)
    worker_to_notify: str | None
    #: references of earlier contacts about the same child within the repeat window
    repeat_of: tuple[str, ...]
    #: an urgent contact created earlier, now finished by its officer (nothing new to post)
    completed: bool = False
    #: an urgent contact created out of office hours: True if the EDT channel was told, False if
    #: no EDT channel is registered (None: office hours, or not urgent)
    edt_told: bool | None = None

    @property
    def repeat(self) -> bool:
        return bool(self.repeat_of)

    def due(self, clock: ClockKind) -> datetime | None:
        return next((d.due_at for d in self.deadlines if d.clock is clock), None)

    @property
    def screening_due(self) -> datetime | None:
        return self.due(ClockKind.SCREENING)

    @property
    def cp_due(self) -> datetime | None:
        return self.due(ClockKind.CP_DECISION)


_STARTERS = "First Contact officers, social work consultants and team managers"


def _local_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def _check_draft(
    contact: Contact | None,
    actor_id: str,
    expected_version: int | None,
    section: Section | None,
) -> Refusal | Contact:
    """The draft if this person may act on it from a card for ``section`` at ``expected_version``
    (None: not from a card, e.g. the typed ``cancel``), else why not."""
    if contact is None:
        return Refusal(
            RefusalReason.NOT_FOUND,
            "That draft no longer exists: it may have been cancelled. Say 'new contact' to start again.",
        )
    if contact.created_by != actor_id:
        return Refusal(
            RefusalReason.NOT_YOURS,
            "That card belongs to a draft someone else started, so nothing was changed.",
        )
    if contact.state is not ContactState.DRAFT and not contact.completing:
        done = f" as {contact.reference}" if contact.reference else ""
        return Refusal(
            RefusalReason.MOVED_ON,
            f"That contact has already been submitted{done}, so this card can no longer change it.",
        )
    if contact.state in _ENDED_STATES:
        # an urgent contact signed off before its officer finished the cards: its record is final
        return Refusal(
            RefusalReason.MOVED_ON,
            f"{contact.reference} is closed, so its cards can no longer be changed. Nothing was changed.",
        )
    current = section_of(contact)
    if contact.completing and section in _CREATION_SECTIONS:
        return Refusal(
            RefusalReason.MOVED_ON,
            f"{contact.reference} has been created as an urgent contact, so its source, risk screen and "
            "emergency details can no longer be changed here.",
            current_section=current,
        )
    if contact.completing and section is current and expected_version not in (None, contact.version):
        return Refusal(
            RefusalReason.STALE,
            f"{contact.reference} changed while this card was open (the consultants may have acted on it), "
            "so nothing was changed here. The card is below again.",
            current_section=current,
        )
    if (section is not None and section is not current) or (
        expected_version is not None and expected_version != contact.version
    ):
        return Refusal(
            RefusalReason.STALE,
            "That card is from an earlier step of this draft, so nothing was changed. "
            f"The draft is at: {SECTION_TITLES[current]}.",
            current_section=current,
        )
    return contact


#: The cards whose saving sets received-at: the source card, and the emergency details card that
#: creates an urgent contact.
_RECEIVED_SECTIONS = frozenset({Section.SOURCE, Section.EMERGENCY})
#: The source card's inputs of received-at.
_RECEIVED_FIELDS = frozenset({"received_date", "received_time"})


async def received_from_mail(uow: UnitOfWork, contact_id: str) -> datetime | None:
    """Within ``uow``: the received time of the e-mail a contact was started from, or None for a
    contact not started from one. SPEC §5a: the clock starts when the e-mail arrived, not when an
    officer opens it, so this is its received-at, kept to the second; the ``MAX_BACKDATE`` limit on
    a typed time does not apply to it (a backlog after a closure is still dated truly)."""
    item = await uow.mail.for_contact(contact_id)
    return item.received_at if item is not None else None


#: The states in which a contact's front-door work has ended: nothing on it is changed from a card.
_ENDED_STATES = frozenset({ContactState.CLOSED, ContactState.PASSED_ON, ContactState.CANCELLED})

#: The cards that create an urgent contact: fixed once it exists (its clocks started from them).
_CREATION_SECTIONS = frozenset({Section.SOURCE, Section.RISK, Section.EMERGENCY})


def _stale(contact: Contact) -> Refusal:
    current = section_of(contact)
    return Refusal(
        RefusalReason.STALE,
        "This draft was changed at the same time from another card, so nothing was changed here. "
        "Please look at it again.",
        current_section=current,
    )


# -- start, save, back, cancel -------------------------------------------------------------------


async def start_contact(uow: UnitOfWork, *, who: Who, now: datetime) -> Contact | Refusal:
    """A new draft on the first section, if ``roles`` may start contacts."""
    require_aware(now, "now")
    if not may(who.roles, Permission.START_CONTACT):
        return Refusal(
            RefusalReason.NOT_PERMITTED,
            f"Sorry, only {_STARTERS} can record a new contact. To talk a situation through without "
            "naming the child, say 'consultation'.",
        )
    contact = Contact(
        id=str(uuid.uuid4()),
        created_by=who.actor_id,
        created_at=now.astimezone(UTC),
        draft_section=Section.SOURCE.value,
    )
    async with uow:
        await uow.contacts.add(contact)
        await uow.audit.append(audit_event(now, who.actor_id, "contact.started", contact.id))
        await uow.commit()
    return contact


async def save_section(
    uow: UnitOfWork,
    contact_id: str,
    section: Section,
    values: Mapping[str, object],
    actor_id: str,
    expected_version: int,
    *,
    rules: Rules,
    advance: bool = True,
    local_systems: Sequence[Choice] = DEFAULT_LOCAL_SYSTEMS,
) -> SectionSaved | Refusal:
    """Save one card's answers to the draft and, with ``advance``, move it to the next card.

    ``advance=False`` is "Save draft": the answers given are kept (missing required ones allowed)
    and the draft stays on this card. Moving on from the emergency details card creates the urgent
    contact at once (SPEC §3), which needs ``calendar`` for its clocks.
    """
    require_aware(rules.now, "now")
    async with uow:
        checked = _check_draft(await uow.contacts.get(contact_id), actor_id, expected_version, section)
        if isinstance(checked, Refusal):
            return checked
        # An urgent contact may move on from its history card with no system checked: the checks
        # then stay outstanding (SPEC §3), to be recorded later.
        later = section is Section.HISTORY and checked.urgent and not values.get("systems_checked")
        from_mail = await received_from_mail(uow, contact_id) if section in _RECEIVED_SECTIONS else None
        if section is Section.SOURCE and from_mail is not None:
            # The e-mail's received time is not the card's to change (SPEC §5a), whatever it sends.
            values = {key: value for key, value in values.items() if key not in _RECEIVED_FIELDS}
        parsed = parse_section(
            section,
            values,
            _local_date(rules.now),
            rules.now,
            rules.policy,
            partial=not advance or later,
            local_systems=local_systems,
        )
        if isinstance(parsed, list):
            names = "; ".join(error.message for error in parsed)
            return Refusal(RefusalReason.INVALID, f"Please check: {names}", tuple(parsed))
        updated = apply_section(checked, parsed)
        if section is Section.SOURCE and from_mail is not None:
            updated = replace(updated, received_at=from_mail)
        landing = section
        if advance:
            # The summary has no next card: saving it keeps the draft there, ready to submit.
            landing = next_section(section, updated) or section
        updated = replace(updated, draft_section=landing.value)
        creating = advance and section is Section.EMERGENCY and checked.reference is None
        if creating:
            if rules.calendar is None:
                raise ValueError("creating an urgent contact needs the working calendar")
            errors = check_emergency(updated)
            received = (from_mail or updated.received_at or rules.now).astimezone(UTC)
            if from_mail is None:
                errors += check_received_at(received, rules.now)
            if errors:
                names = "; ".join(error.message for error in errors)
                return Refusal(RefusalReason.INVALID, f"Please check: {names}", tuple(errors))
            created = await _create(uow, updated, actor_id, expected_version, received, rules=rules)
            if isinstance(created, Refusal):
                return created
            await uow.audit.append(
                audit_event(rules.now, actor_id, "contact.section_saved", contact_id, section.value)
            )
            await uow.commit()
            return SectionSaved(created.contact, landing, created=created)
        try:
            saved = await uow.contacts.save(updated, expected_version)
        except StaleVersionError:
            return _stale(checked)
        action = "contact.section_saved" if advance else "contact.draft_saved"
        # An urgent contact already has a reference: its changes are audited under it.
        subject = checked.reference or contact_id
        detail = section.value if checked.reference is None else f"{section.value}; contact={contact_id}"
        await uow.audit.append(audit_event(rules.now, actor_id, action, subject, detail))
        await uow.commit()
    before = checked if checked.reference is not None else None
    return SectionSaved(saved, landing, before=before)


async def go_back(
    uow: UnitOfWork,
    contact_id: str,
    section: Section,
    actor_id: str,
    expected_version: int,
    now: datetime,
) -> SectionSaved | Refusal:
    """Move the draft from ``section`` to the card before it. The answers on the card being left are
    not saved (Save draft does that); those saved before are kept and shown again."""
    require_aware(now, "now")
    async with uow:
        checked = _check_draft(await uow.contacts.get(contact_id), actor_id, expected_version, section)
        if isinstance(checked, Refusal):
            return checked
        back = previous_section(section, checked)
        if back is None:
            return SectionSaved(checked, section)
        try:
            saved = await uow.contacts.save(replace(checked, draft_section=back.value), expected_version)
        except StaleVersionError:
            return _stale(checked)
        await uow.audit.append(audit_event(now, actor_id, "contact.section_back", contact_id, back.value))
        await uow.commit()
    return SectionSaved(saved, back)


async def revisit_section(
    uow: UnitOfWork,
    contact_id: str,
    section: Section,
    target: Section,
    actor_id: str,
    expected_version: int,
    now: datetime,
) -> SectionSaved | Refusal:
    """Move the draft from ``section`` back to the earlier card ``target``: where a problem found at
    submission (``check_complete``) is fixed. Saved answers are kept. A ``target`` that is not
    earlier than ``section`` leaves the draft where it is."""
    require_aware(now, "now")
    async with uow:
        checked = _check_draft(await uow.contacts.get(contact_id), actor_id, expected_version, section)
        if isinstance(checked, Refusal):
            return checked
        if not is_after(section, target):
            return SectionSaved(checked, section)
        try:
            saved = await uow.contacts.save(replace(checked, draft_section=target.value), expected_version)
        except StaleVersionError:
            return _stale(checked)
        await uow.audit.append(audit_event(now, actor_id, "contact.section_back", contact_id, target.value))
        await uow.commit()
    return SectionSaved(saved, target)


async def cancel_draft(
    uow: UnitOfWork,
    contact_id: str,
    actor_id: str,
    now: datetime,
    expected_version: int | None = None,
) -> DraftCancelled | Refusal:
    """Delete the draft (SPEC §3: "cancel (draft deleted)"). ``expected_version`` comes from a card's
    Cancel button; the typed ``cancel`` command has none and cancels whatever step it is on."""
    require_aware(now, "now")
    async with uow:
        checked = _check_draft(await uow.contacts.get(contact_id), actor_id, expected_version, None)
        if isinstance(checked, Refusal):
            return checked
        if checked.reference is not None:
            return Refusal(
                RefusalReason.MOVED_ON,
                f"{checked.reference} is an urgent contact already with the consultants, so it cannot be "
                "cancelled. Finish its cards, or tell the consultant on duty if it was made in error.",
            )
        # The draft first: a save of one of its cards in flight holds it, and giving its e-mail back
        # appends to the audit chain, whose lock (PostgreSQL) waiting for the draft would hold
        # while that save, appending to the chain, waited for it: a deadlock.
        await uow.contacts.delete(contact_id)
        await return_mail_of_draft(uow, contact_id, actor_id, now)
        await uow.audit.append(audit_event(now, actor_id, "contact.draft_cancelled", contact_id))
        await uow.commit()
    return DraftCancelled(contact_id)


# -- submission ----------------------------------------------------------------------------------


async def _consultants_on_duty(uow: UnitOfWork, today: date) -> tuple[MentionTarget, ...]:
    holders = await uow.roles.holders(Role.CONSULTANT)
    names = {entry.aad_object_id: entry.display_name for entry in holders}
    on_duty = [entry.person_id for entry in await uow.rota.on(today) if entry.role is Role.CONSULTANT]
    # Nobody on the rota: tell every consultant rather than nobody.
    people = on_duty or [entry.aad_object_id for entry in holders]
    return tuple(MentionTarget(person, names.get(person, "")) for person in dict.fromkeys(people))


async def _create(
    uow: UnitOfWork, draft: Contact, actor_id: str, expected_version: int, received: datetime, *, rules: Rules
) -> SubmissionResult | Refusal:
    """Give ``draft`` its reference, route and clocks, inside the caller's unit of work (which
    commits). ``draft.draft_section`` is kept: "" for a finished submission, the next card for an
    urgent contact its officer is still completing."""
    route = submission_route(draft, received, rules.policy)
    repeat_of = await repeats_of(uow, draft, received, rules.policy)
    mention_targets = await _consultants_on_duty(uow, _local_date(rules.now)) if draft.urgent else ()

    # The reference year is the year of receipt where the front door is (SPEC §2).
    year = received.astimezone(LONDON).year % 100
    number = await uow.references.allocate(ReferenceKind.CONTACT.value, year)
    reference = format_reference(ReferenceKind.CONTACT, year, number)

    to_state, action = ROUTE_MOVES[route]
    moved = transition(draft, to_state, actor_id, rules.now, action)
    if repeat_of:
        # Kept with the submission, so every later drawing of the contact's cards says it too.
        moved = add_event_data(moved, {REPEAT_OF_KEY: " ".join(repeat_of)})
    worker = draft.history.allocated_worker_id if route is Route.OPEN_CASE else None
    submitted = replace(moved, reference=reference, received_at=received, assignee_id=worker)
    try:
        saved = await uow.contacts.save(submitted, expected_version)
    except StaleVersionError:
        return _stale(draft)
    deadlines = [
        await uow.deadlines.add(deadline)
        for deadline in route_clocks(route, draft.urgent, reference, received, rules.calendar, rules.policy)
    ]
    # Out of hours an urgent contact cannot wait for the morning: the EDT is told at once (SPEC §10).
    edt_told = (
        await tell_edt_of_urgent_contact(uow, reference, deadlines, rules=rules) if draft.urgent else None
    )
    urgent = "yes" if draft.urgent else "no"
    detail = f"route={route.value}; urgent={urgent}; contact={draft.id}"
    await uow.audit.append(audit_event(rules.now, actor_id, "contact.submitted", reference, detail))
    summary = channel_summary(
        saved, deadlines, rules.now, rules.calendar, rules.policy, repeat=bool(repeat_of)
    )
    return SubmissionResult(
        contact=saved,
        reference=reference,
        route=route,
        urgent=draft.urgent,
        received_at=received,
        deadlines=tuple(deadlines),
        mention_targets=mention_targets,
        summary=summary,
        worker_to_notify=worker,
        repeat_of=repeat_of,
        edt_told=edt_told,
    )


async def submit_contact(
    uow: UnitOfWork,
    contact_id: str,
    actor_id: str,
    expected_version: int,
    received_at: datetime | None = None,
    *,
    rules: Rules,
) -> SubmissionResult | Refusal:
    """Submit the draft from its summary card: reference, received-at, route, clocks, audit, at once.

    Received-at is the e-mail's received time for a contact started from one (``received_from_mail``,
    not limited in age); otherwise ``received_at`` if given, else the one entered on the source card,
    else ``now``, back-dated at most ``validation.MAX_BACKDATE`` and never in the future. For an urgent
    contact created earlier this finishes it instead: the officer's cards are complete (history
    checks may stay outstanding), and its reference, route and clocks stay as they are.
    """
    require_aware(rules.now, "now")
    async with uow:
        checked = _check_draft(
            await uow.contacts.get(contact_id), actor_id, expected_version, Section.SUMMARY
        )
        if isinstance(checked, Refusal):
            return checked
        if checked.reference is not None:
            return await _finish(uow, checked, actor_id, expected_version, rules=rules)
        from_mail = await received_from_mail(uow, contact_id)
        received = (from_mail or received_at or checked.received_at or rules.now).astimezone(UTC)
        errors = check_complete(checked, _local_date(rules.now))
        if from_mail is None:
            errors += check_received_at(received, rules.now)
        if errors:
            names = "; ".join(error.message for error in errors)
            return Refusal(RefusalReason.INVALID, f"Before submitting, please check: {names}", tuple(errors))
        created = await _create(
            uow, replace(checked, draft_section=""), actor_id, expected_version, received, rules=rules
        )
        if isinstance(created, SubmissionResult):
            await uow.commit()
    return created


async def submit_whole_draft(uow: UnitOfWork, draft: Contact, *, rules: Rules) -> SubmissionResult | Refusal:
    """Add ``draft`` (complete, made by a use case rather than on the officer's cards) and submit it
    as ``submit_contact`` does, received now, inside the caller's unit of work: nothing is
    committed, so the caller commits it with its own change or rolls both back."""
    require_aware(rules.now, "now")
    errors = check_complete(draft, _local_date(rules.now))
    if errors:
        names = "; ".join(error.message for error in errors)
        return Refusal(RefusalReason.INVALID, f"Before submitting, please check: {names}", tuple(errors))
    await uow.contacts.add(draft)
    received = rules.now.astimezone(UTC)
    return await _create(
        uow, replace(draft, draft_section=""), draft.created_by, draft.version, received, rules=rules
    )


async def _finish(
    uow: UnitOfWork, contact: Contact, actor_id: str, expected_version: int, *, rules: Rules
) -> SubmissionResult | Refusal:
    errors = check_complete(contact, _local_date(rules.now))
    if errors:
        names = "; ".join(error.message for error in errors)
        return Refusal(RefusalReason.INVALID, f"Before finishing, please check: {names}", tuple(errors))
    reference = contact.reference or ""
    try:
        saved = await uow.contacts.save(replace(contact, draft_section=""), expected_version)
    except StaleVersionError:
        return _stale(contact)
    history = "recorded" if contact.history.recorded else "outstanding"
    detail = f"contact={contact.id}; history={history}"
    await uow.audit.append(audit_event(rules.now, actor_id, "contact.completed", reference, detail))
    deadlines = await uow.deadlines.for_subject(reference)
    await uow.commit()
    repeat_of = recorded_repeat_of(saved)
    return SubmissionResult(
        contact=saved,
        reference=reference,
        route=Route.REREFERRAL if saved.state is ContactState.DUTY_MANAGER_REVIEW else Route.SCREENING,
        urgent=saved.urgent,
        received_at=saved.received_at or rules.now,
        deadlines=tuple(deadlines),
        mention_targets=(),
        summary=channel_summary(
            saved, deadlines, rules.now, rules.calendar, rules.policy, repeat=bool(repeat_of)
        ),
        worker_to_notify=None,
        repeat_of=repeat_of,
        completed=True,
    )
