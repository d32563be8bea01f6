"""MASH episodes (SPEC §9): open one on a contact, answer its partners' information requests (on
the card, or by phone through staff), close it with the multi-agency decision; what each person may
see of it; and its retention.

Each use case opens one unit of work, checks the actor's permission from the directory (never from
a card), changes the episode, its clocks and the audit log together, and commits once. A partner's
agency comes from the directory too: a partner can only ever answer or read their own agency's
request, whatever reference or agency a card claims. Audit events carry references, agencies and
closed-vocabulary values only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from frontdoor.acting import Rules, Who
from frontdoor.agencies import (
    Agency,
    Answer,
    AnswerChannel,
    Closure,
    InformationRequest,
    MashDecision,
    MashEpisode,
    MashReason,
    SharedChild,
    Urgency,
)
from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.clocks import due_at
from frontdoor.consultation_retention import due_for_deletion
from frontdoor.contact import ContactState
from frontdoor.policy import Policy
from frontdoor.records import RETENTION_ACTOR, AuditEvent, ClockKind, DeadlineState
from frontdoor.references import ReferenceKind, format_reference
from frontdoor.roles import Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import Refusal, RefusalReason, close_clocks, start_clock

log = logging.getLogger(__name__)

OPENED = "mash.opened"
ANSWERED = "mash.answered"
CLOSED = "mash.closed"
VIEWED = "mash.viewed"
REQUEST_VIEWED = "mash.request_viewed"
REFUSED = "mash.refused"
DELETED = "mash.deleted"
AGENCY_SET = "partner.agency"

_NOT_ASKED = "Sorry, your agency has not been asked about that record."
_NOT_PERMITTED = Refusal(RefusalReason.NOT_PERMITTED, _NOT_ASKED)
_ONLY_CONSULTANTS = "Sorry, only consultants or team managers open or close a MASH episode."


def request_clock(urgency: Urgency) -> ClockKind:
    return ClockKind.MASH_REQUEST_URGENT if urgency is Urgency.URGENT else ClockKind.MASH_REQUEST


def request_due(urgency: Urgency, start: datetime, calendar: WorkingCalendar, policy: Policy) -> datetime:
    """When a request sent at ``start`` is due back: ``mash.request_hours_urgent`` elapsed hours
    for an urgent episode, ``mash.request_working_days`` working days otherwise."""
    return due_at(request_clock(urgency), start, calendar, policy)


@dataclass(frozen=True, slots=True)
class EpisodeForm:
    """What the consultant chose on the card that opens an episode."""

    contact_reference: str
    urgency: Urgency
    reasons: tuple[MashReason, ...]
    agencies: tuple[Agency, ...]
    question: str
    #: the card's id: a second press of the same card (a repeat, or a stale copy) opens nothing
    form_id: str | None = None

    def problems(self, max_chars: int) -> list[str]:
        found = []
        if not self.reasons:
            found.append("Tick at least one reason the MASH is required.")
        if not self.agencies:
            found.append("Choose at least one partner agency to ask.")
        if not self.question.strip():
            found.append("Write the question the partners are asked.")
        elif len(self.question) > max_chars:
            found.append(f"The question is longer than {max_chars} characters.")
        return found


async def _audit(
    uow: UnitOfWork, at: datetime, actor_id: str, action: str, subject: str, detail: str
) -> None:
    await uow.audit.append(AuditEvent(at.astimezone(UTC), actor_id, action, subject, detail))


async def _refuse(
    uow: UnitOfWork, now: datetime, actor_id: str, subject: str, what: str, refusal: Refusal
) -> Refusal:
    """Audit a refused attempt in its own commit (nothing else was changed) and return it."""
    await uow.rollback()
    await _audit(uow, now, actor_id, REFUSED, subject, f"action={what}; reason={refusal.reason.value}")
    await uow.commit()
    log.info("mash action refused", extra={"reference": subject, "status": refusal.reason.value})
    return refusal


def _repeated_opening(episodes: Sequence[MashEpisode], form: EpisodeForm) -> Refusal | None:
    """Why ``form`` opens nothing: its card opened an episode already, or the contact has one open
    (one open episode a contact: its partners are asked once)."""
    for episode in episodes:
        if form.form_id is not None and episode.form_id == form.form_id:
            return Refusal(
                RefusalReason.WRONG_STATE,
                f"This card opened {episode.reference} already: nothing was opened or sent again. "
                f"Type find {episode.reference} to see it.",
            )
    for episode in episodes:
        if not episode.closed:
            return Refusal(
                RefusalReason.WRONG_STATE,
                f"{form.contact_reference} has MASH episode {episode.reference} open already: nothing "
                f"was opened or sent again. Type find {episode.reference} to see it.",
            )
    return None


async def open_episode(
    uow: UnitOfWork, form: EpisodeForm, *, who: Who, rules: Rules
) -> MashEpisode | Refusal:
    """Open an episode on a submitted, open contact, send a request to each agency chosen (its clock
    runs from now, with the consultant as the person chased alongside the partner), commit."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    async with uow:
        if not may(who.roles, Permission.MASH_EPISODE):
            return await _refuse(
                uow,
                now,
                who.actor_id,
                form.contact_reference,
                "open",
                Refusal(
                    RefusalReason.NOT_PERMITTED,
                    "Sorry, only consultants or team managers open a MASH episode.",
                ),
            )
        problems = form.problems(rules.policy.limits.max_free_text_chars)
        if problems:
            return Refusal(RefusalReason.INVALID, " ".join(problems))
        contact = await uow.contacts.get_by_reference(form.contact_reference)
        if contact is None or contact.state in (ContactState.DRAFT, ContactState.CLOSED):
            return Refusal(RefusalReason.WRONG_STATE, f"{form.contact_reference} is not an open contact.")
        number = await uow.references.allocate(ReferenceKind.MASH_EPISODE.value, now.year)
        # After the allocation, which waits for another opening to commit: of two presses at once
        # the second sees the first's episode. Refusing rolls the number back.
        repeat = _repeated_opening(await uow.mash.of_contact(form.contact_reference), form)
        if repeat is not None:
            return await _refuse(uow, now, who.actor_id, form.contact_reference, "open", repeat)
        reference = format_reference(ReferenceKind.MASH_EPISODE, now.year, number)
        clock = request_clock(form.urgency)
        requests = []
        for agency in dict.fromkeys(form.agencies):
            request = InformationRequest(
                reference, agency, request_due(form.urgency, now, rules.calendar, rules.policy)
            )
            await start_clock(uow, request.subject, clock, now, rules.calendar, rules.policy, who.actor_id)
            requests.append(request)
        episode = MashEpisode(
            reference=reference,
            contact_reference=form.contact_reference,
            opened_by=who.actor_id,
            opened_at=now,
            urgency=form.urgency,
            reasons=tuple(dict.fromkeys(form.reasons)),
            question=form.question.strip(),
            children=tuple(SharedChild(c.name, c.date_of_birth) for c in contact.children),
            requests=tuple(requests),
            form_id=form.form_id,
        )
        await uow.mash.add(episode)
        detail = (
            f"contact={form.contact_reference}; urgency={form.urgency.value}; "
            f"agencies={','.join(r.agency.value for r in requests)}; "
            f"reasons={','.join(r.value for r in episode.reasons)}"
        )
        await _audit(uow, now, who.actor_id, OPENED, reference, detail)
        await uow.commit()
    log.info("mash episode opened", extra={"reference": reference, "count": len(requests)})
    return episode


async def _answer(
    uow: UnitOfWork,
    episode: MashEpisode,
    agency: Agency,
    answer: Answer,
) -> MashEpisode | Refusal:
    request = episode.request_for(agency)
    if request is None:
        return Refusal(RefusalReason.NOT_FOUND, _NOT_ASKED)
    if request.answer is not None:
        return Refusal(RefusalReason.WRONG_STATE, f"{request.subject} was answered already.")
    if episode.closed:
        return Refusal(RefusalReason.WRONG_STATE, f"{episode.reference} is closed.")
    # A conditional write of this request's row alone: a second press of the same answer, or an
    # episode closed meanwhile, finds it taken; another agency's answer is never overwritten.
    if not await uow.mash.answer(episode.reference, agency, answer):
        await uow.rollback()
        return await _answered_or_closed(uow, episode.reference, request.subject)
    await close_clocks(uow, request.subject, [request_clock(episode.urgency)], answer.at, by=answer.by)
    late = "late" if answer.at > request.due_at else "in_time"
    await _audit(
        uow,
        answer.at,
        answer.by,
        ANSWERED,
        episode.reference,
        f"agency={agency.value}; via={answer.channel.value}; {late}",
    )
    updated = await uow.mash.get(episode.reference)  # with any answer given meanwhile
    await uow.commit()
    log.info("mash request answered", extra={"reference": request.subject, "status": late})
    assert updated is not None
    return updated


async def _answered_or_closed(uow: UnitOfWork, reference: str, subject: str) -> Refusal:
    """Why an answer was not recorded: the episode closed, or the request answered, meanwhile."""
    episode = await uow.mash.get(reference)
    if episode is None or episode.closed:
        return Refusal(RefusalReason.WRONG_STATE, f"{reference} is closed.")
    return Refusal(RefusalReason.WRONG_STATE, f"{subject} was answered already.")


async def partner_answer(
    uow: UnitOfWork, reference: str, text: str, *, who: Who, rules: Rules
) -> MashEpisode | Refusal:
    """A partner answers their own agency's request on ``reference`` (the agency is theirs in the
    directory, whatever the card says)."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    async with uow:
        agency = (
            await uow.mash.agency_of(who.actor_id)
            if may(who.roles, Permission.ANSWER_AGENCY_REQUESTS)
            else None
        )
        episode = await uow.mash.get(reference)
        if agency is None or episode is None or episode.request_for(agency) is None:
            return await _refuse(
                uow, now, who.actor_id, reference, "answer", Refusal(RefusalReason.NOT_PERMITTED, _NOT_ASKED)
            )
        if not text.strip() or len(text) > rules.policy.limits.max_free_text_chars:
            return Refusal(
                RefusalReason.INVALID,
                f"Write your answer (at most {rules.policy.limits.max_free_text_chars} characters).",
            )
        return await _answer(
            uow, episode, agency, Answer(text.strip(), who.actor_id, now, AnswerChannel.CARD)
        )


async def record_phone_answer(
    uow: UnitOfWork, reference: str, agency: Agency, text: str, given_by: str, *, who: Who, rules: Rules
) -> MashEpisode | Refusal:
    """Front-door staff record an answer a partner gave by phone, with who gave it."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    async with uow:
        if not may(who.roles, Permission.VIEW_CONTACTS):
            return await _refuse(
                uow,
                now,
                who.actor_id,
                reference,
                "phone_answer",
                Refusal(RefusalReason.NOT_PERMITTED, "Sorry, only front-door staff record a phone answer."),
            )
        episode = await uow.mash.get(reference)
        if episode is None:
            return Refusal(RefusalReason.NOT_FOUND, f"No MASH episode {reference}.")
        limit = rules.policy.limits.max_free_text_chars
        if not text.strip() or not given_by.strip() or len(text) > limit or len(given_by) > limit:
            return Refusal(RefusalReason.INVALID, "Write the answer and who gave it by phone.")
        answer = Answer(text.strip(), who.actor_id, now, AnswerChannel.PHONE, given_by.strip())
        return await _answer(uow, episode, agency, answer)


async def close_episode(
    uow: UnitOfWork,
    reference: str,
    decision: MashDecision,
    rationale: str,
    participants: Sequence[Agency],
    *,
    who: Who,
    rules: Rules,
) -> MashEpisode | Refusal:
    """Record the multi-agency decision and who took part; requests still open are withdrawn (their
    clocks cancelled, so nobody is chased for an episode that is over)."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    async with uow:
        if not may(who.roles, Permission.MASH_EPISODE):
            return await _refuse(
                uow,
                now,
                who.actor_id,
                reference,
                "close",
                Refusal(
                    RefusalReason.NOT_PERMITTED,
                    "Sorry, only consultants or team managers close a MASH episode.",
                ),
            )
        episode = await uow.mash.get(reference)
        if episode is None:
            return Refusal(RefusalReason.NOT_FOUND, f"No MASH episode {reference}.")
        if episode.closed:
            return Refusal(RefusalReason.WRONG_STATE, f"{reference} is closed already.")
        if not rationale.strip() or len(rationale) > rules.policy.limits.max_free_text_chars:
            return Refusal(RefusalReason.INVALID, "Write the reasons for the multi-agency decision.")
        if not participants:
            return Refusal(RefusalReason.INVALID, "Choose the partner agencies that took part.")
        closure = Closure(decision, rationale.strip(), tuple(dict.fromkeys(participants)), who.actor_id, now)
        if not await uow.mash.close(reference, closure):  # closed by someone else meanwhile
            await uow.rollback()
            return Refusal(RefusalReason.WRONG_STATE, f"{reference} is closed already.")
        for request in episode.requests:
            if not request.answered:
                await close_clocks(
                    uow,
                    request.subject,
                    [request_clock(episode.urgency)],
                    now,
                    DeadlineState.CANCELLED,
                    by=who.actor_id,
                )
        await _audit(
            uow,
            now,
            who.actor_id,
            CLOSED,
            reference,
            f"decision={decision.value}; participants={','.join(a.value for a in closure.participants)}",
        )
        closed = await uow.mash.get(reference)  # with any answer given meanwhile
        await uow.commit()
    log.info("mash episode closed", extra={"reference": reference, "status": decision.value})
    assert closed is not None
    return closed


@dataclass(frozen=True, slots=True)
class StaffView:
    """Front-door staff see the whole episode."""

    episode: MashEpisode


@dataclass(frozen=True, slots=True)
class PartnerView:
    """A partner sees their own agency's request and what it shares: nothing else."""

    reference: str
    agency: Agency
    urgency: Urgency
    question: str
    children: tuple[SharedChild, ...]
    request: InformationRequest
    closed: bool

    @classmethod
    def of(cls, episode: MashEpisode, agency: Agency) -> PartnerView | None:
        request = episode.request_for(agency)
        if request is None:
            return None
        return cls(
            episode.reference,
            agency,
            episode.urgency,
            episode.question,
            episode.children,
            request,
            episode.closed,
        )


async def read_episode(
    uow: UnitOfWork, reference: str, *, who: Who, now: datetime
) -> StaffView | PartnerView | Refusal:
    """What ``actor_id`` may see of ``reference``; every read, and every refused one, is audited."""
    now = require_aware(now, "now").astimezone(UTC)
    async with uow:
        episode = await uow.mash.get(reference)
        if may(who.roles, Permission.VIEW_CONTACTS):
            if episode is None:
                return Refusal(RefusalReason.NOT_FOUND, f"No MASH episode {reference}.")
            await _audit(uow, now, who.actor_id, VIEWED, reference, "full")
            await uow.commit()
            return StaffView(episode)
        agency = (
            await uow.mash.agency_of(who.actor_id)
            if may(who.roles, Permission.ANSWER_AGENCY_REQUESTS)
            else None
        )
        view = PartnerView.of(episode, agency) if episode is not None and agency is not None else None
        if view is None:
            return await _refuse(
                uow, now, who.actor_id, reference, "read", Refusal(RefusalReason.NOT_PERMITTED, _NOT_ASKED)
            )
        await _audit(uow, now, who.actor_id, REQUEST_VIEWED, reference, f"agency={view.agency.value}")
        await uow.commit()
        return view


async def set_partner_agency(
    uow: UnitOfWork, person_id: str, agency: Agency | None, *, actor_id: str, now: datetime
) -> None:
    """Tie a partner to their agency and audit it (the caller commits)."""
    await uow.mash.set_agency(person_id, agency)
    await audit_partner_agency(uow, person_id, agency, actor_id=actor_id, now=now)


async def audit_partner_agency(
    uow: UnitOfWork, person_id: str, agency: Agency | None, *, actor_id: str, now: datetime
) -> None:
    """Audit a partner's agency written by ``uow.mash.set_agency``. A role change writes the agency
    first, then the role and its audit row, then this: another administrator's change of the same
    partner may hold the agency's row, and waiting for it after appending to the audit chain would
    hold the chain's lock (PostgreSQL) while they, appending, waited for it."""
    detail = agency.value if agency is not None else "none"
    await _audit(uow, require_aware(now, "now"), actor_id, AGENCY_SET, f"person:{person_id}", detail)


async def partners_of(uow: UnitOfWork, agency: Agency) -> list[str]:
    """The partners of ``agency`` who hold the ``partner`` role now."""
    holders = {entry.aad_object_id for entry in await uow.roles.holders(Role.PARTNER)}
    return [person for person, theirs in await uow.mash.partners() if theirs is agency and person in holders]


def episode_retention_cutoff(now: datetime, policy: Policy) -> datetime:
    """Episodes closed before this are past ``retention.mash_episodes_months``."""
    return due_for_deletion(now, policy, policy.retention.mash_episodes_months)


async def purge_expired_episodes(uow: UnitOfWork, *, rules: Rules) -> tuple[str, ...]:
    """Delete the closed episodes past retention with their answers, audit each, commit."""
    at = require_aware(rules.now, "now").astimezone(UTC)
    deleted = await uow.mash.delete_closed_before(episode_retention_cutoff(at, rules.policy))
    for reference in deleted:
        await _audit(uow, at, RETENTION_ACTOR, DELETED, reference, "retention")
    await uow.commit()
    return tuple(deleted)
