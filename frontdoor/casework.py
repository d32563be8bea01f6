"""The work after a screening decision (SPEC §3): the social worker's and the officer's casework,
the parent letter and its lapse, outcomes and recommendations, sign-off with the outcome letter,
and the receiving team's challenge.

The use cases follow ``frontdoor.decisions``: a fresh unit of work, roles from the directory, the
card's version checked (``AlreadyDecided`` when someone acted first or the card was sent twice), one
commit for the contact, its deadlines and its audit rows, and a ``Refusal`` that changes nothing.

Who may do what:

- casework on a contact in ``sw_assessment`` (referrer contact, parent contact, consent, parent
  letter, recommendation) is the allocated social worker's, and in ``officer_work`` (route III)
  the assigned officer's: nobody else's allocation can be worked on;
- the child-protection decision and the outcome after it (``cp_decision``, ``referral_accepted``)
  are a consultant's or team manager's, or the duty manager's when they sent the re-referral there;
- an officer records a route III outcome but never "accepted for assessment", which is a threshold
  decision (SPEC §1); a consultant or team manager may record any outcome on route III;
- sign-off is a consultant's or team manager's, never of their own decision or recommendation
  (``deciders``); only the saved sign-off tells the receiving team, with the immediate-risk highlight
  when the signer ticks it;
- an accepted outcome may name the receiving team manager (``Outcome.receiving_manager_id``), who
  must be a team manager in the directory: the one told at sign-off, and the only one who may
  challenge the threshold;
- the outcome letter is recorded as sent by an officer (who sends letters) or by the person who
  recorded the outcome it reports, to whom the Teams card shows it to send.

The parent letter (route IV and re-referrals): recording that the parents could not be reached
records the letter and starts the 3-working-day ``parent_letter`` clock. Parents getting in touch
(a parent contact recorded) closes it as met. When it lapses, ``lapse_parent_letter`` (run by the
scheduler) closes it as met (the wait it timed is over), records the lapse, and gives the worker a
fresh 1-working-day ``screening`` clock to review and re-apply the threshold. The contact does not
change state: it is still open to the same worker in ``sw_assessment``, as the contact protocol
says (3.7-3.8), and the lifecycle has no state of its own for "review after a lapse"; what the
worker decides next (a recommendation) is the threshold re-applied. The route I-IV completion
clocks keep running through a letter: a letter does not stop a timescale from being missed.

Moving to ``awaiting_signoff`` unassigns the contact (sign-off is the consultants' queue, so the
cap counts work in hand) and hands its completion clock to the consultants on duty.

The receiving team's disagreement (SPEC §3): the receiving team manager named on the outcome may
challenge the threshold until the end of the working day the contact was signed off to them
(``challenge_window``; the ``challenge`` clock of SPEC §4, worked out from the sign-off's time; no
deadline row is written, because a window nobody uses is not a breach). The consultant or team
manager who decided answers (``answerers``); either side records the discussion; agreed, the decider
records the result, *upheld* or *overturned* (replaced by the revised outcome, with a fresh outcome
letter); not agreed, either side escalates it to the service manager, who records the final
decision. The challenger never settles their own challenge.

The referrer's challenge: staff record that the referrer disagrees with a closed contact's outcome;
a consultant or team manager discusses it and records the result; if it remains, a team manager
with the agency's lead, then the service manager with the agency's lead, each step with who, when
and the result (``ReferrerChallenge``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from frontdoor.calendar import LONDON, WorkingCalendar, require_aware
from frontdoor.clocks import due_at
from frontdoor.contact import Consent, Contact, ContactEvent, ContactState
from frontdoor.decisions import (
    Agency,
    AlreadyDecided,
    DataValue,
    Outcome,
    OutcomeKind,
    RecordedOutcome,
    Refusal,
    RefusalReason,
    add_event_data,
    audit_event,
    close_clocks,
    current_outcome,
    load_contact,
    not_permitted,
    note,
    open_deadlines,
    outcome_data,
    read_event_data,
    reassign_clocks,
    save_or_race,
    start_clock,
    without_consent_problem,
    wrong_state,
)
from frontdoor.letters import DEFAULT_SERVICE_NAME, outcome_letter
from frontdoor.lifecycle import Action, transition
from frontdoor.policy import Policy
from frontdoor.records import ClockKind, Deadline, DeadlineState
from frontdoor.roles import Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork

__all__ = [
    "PARENT_LETTER_ACTOR",
    "CaseworkAction",
    "CaseworkRecorded",
    "ChallengeRecorded",
    "ChallengeResult",
    "ChallengeStatus",
    "LetterLapsed",
    "OutcomeRecorded",
    "ParentLetterSent",
    "Recommendation",
    "ReferrerChallenge",
    "ReferrerChallengeRecorded",
    "ReferrerResult",
    "ReferrerStage",
    "ReferrerStep",
    "SignedOff",
    "WorkKind",
    "accept_referral",
    "answerers",
    "challenge_status",
    "challenge_window",
    "deciders",
    "due_parent_letters",
    "escalate_challenge",
    "lapse_parent_letter",
    "may_record_stage",
    "raise_challenge",
    "recommend",
    "record_challenge_discussion",
    "record_consent",
    "record_outcome",
    "record_outcome_letter_sent",
    "record_parents_unreachable",
    "record_referrer_challenge",
    "record_referrer_challenge_step",
    "record_work",
    "referrer_challenge",
    "resolve_challenge",
    "sign_off",
]

#: Who the scheduler's lapse of a parent letter is recorded as.
PARENT_LETTER_ACTOR = "system:parent-letter"


class CaseworkAction(StrEnum):
    """Events that record work without moving the contact (their ``to_state`` is None)."""

    REFERRER_CONTACTED = "referrer_contacted"
    PARENTS_CONTACTED = "parents_contacted"
    OFFICER_WORK = "officer_work_recorded"
    CONSENT = "consent_recorded"
    PARENT_LETTER_SENT = "parent_letter_sent"
    PARENT_LETTER_LAPSED = "parent_letter_lapsed"
    OUTCOME_LETTER_PRODUCED = "outcome_letter_produced"
    REFERRER_NOT_TOLD = "referrer_not_told"
    OUTCOME_LETTER_SENT = "outcome_letter_sent"
    CHALLENGE_RAISED = "challenge_raised"
    CHALLENGE_DISCUSSED = "challenge_discussed"
    CHALLENGE_ESCALATED = "challenge_escalated"
    CHALLENGE_RESOLVED = "challenge_resolved"
    REFERRER_CHALLENGE_RAISED = "referrer_challenge_raised"
    REFERRER_CHALLENGE_STEP = "referrer_challenge_step"


class WorkKind(StrEnum):
    """What a worker's or officer's note records."""

    REFERRER_CONTACT = CaseworkAction.REFERRER_CONTACTED.value
    PARENT_CONTACT = CaseworkAction.PARENTS_CONTACTED.value
    #: route III: the further or low-level work itself (officers only)
    OFFICER_WORK = CaseworkAction.OFFICER_WORK.value


class Recommendation(StrEnum):
    """A social worker's recommendation (SPEC §3), read from the outcome they record with it."""

    NO_FURTHER_INVOLVEMENT = "no_further_involvement"
    PROGRESS_TO_REFERRAL = "progress_to_referral"

    @classmethod
    def of(cls, outcome: Outcome) -> Recommendation:
        return cls.PROGRESS_TO_REFERRAL if outcome.accepted else cls.NO_FURTHER_INVOLVEMENT


class ChallengeResult(StrEnum):
    #: the front door's threshold decision stands
    UPHELD = "upheld"
    #: the threshold decision is replaced by a revised outcome
    OVERTURNED = "overturned"


# -- results --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseworkRecorded:
    contact: Contact
    action: str
    #: the contact's open deadlines afterwards
    deadlines: tuple[Deadline, ...]


@dataclass(frozen=True, slots=True)
class ParentLetterSent:
    contact: Contact
    #: when the letter lapses (route IV and re-referrals); None for route III, which has no lapse
    lapses_at: datetime | None


@dataclass(frozen=True, slots=True)
class LetterLapsed:
    contact: Contact
    #: the worker the contact is back with, to review and re-apply the threshold
    worker_id: str | None
    review_due: datetime


@dataclass(frozen=True, slots=True)
class OutcomeRecorded:
    contact: Contact
    outcome: Outcome
    decided_by: str
    #: set when a social worker recorded it (route IV, re-referrals)
    recommendation: Recommendation | None
    deadlines: tuple[Deadline, ...]


@dataclass(frozen=True, slots=True)
class SignedOff:
    contact: Contact
    outcome: Outcome
    #: who recorded the outcome that was signed off
    decided_by: str
    signed_off_by: str
    #: the outcome letter to the referrer, or None when the referrer is not told
    letter: str | None
    #: an accepted outcome: the signer ticked "immediate risk: highlight to the receiving team
    #: manager now" (SPEC §3); False otherwise
    highlight: bool = False

    @property
    def referrer_told(self) -> bool:
        return self.letter is not None


@dataclass(frozen=True, slots=True)
class ChallengeStatus:
    """The latest challenge on a contact, folded from its events."""

    raised_by: str
    raised_at: datetime
    discussions: int
    result: ChallengeResult | None = None
    resolved_by: str | None = None
    #: not agreed: passed to the service manager for the final decision
    escalated_by: str | None = None
    escalated_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.result is None

    @property
    def escalated(self) -> bool:
        return self.escalated_by is not None


@dataclass(frozen=True, slots=True)
class ChallengeRecorded:
    contact: Contact
    action: CaseworkAction
    status: ChallengeStatus
    #: a fresh outcome letter, when an overturned challenge changed a closed contact's outcome
    letter: str | None = None


# -- helpers --------------------------------------------------------------------------------------

_ASSIGNED_STATES = (ContactState.SW_ASSESSMENT, ContactState.OFFICER_WORK)
_WORKERS = (Role.SOCIAL_WORKER, Role.OFFICER)
_DECIDERS = (Role.CONSULTANT, Role.TEAM_MANAGER)


def _invalid(*problems: str) -> Refusal:
    return Refusal(RefusalReason.INVALID, "Please check: " + "; ".join(problems))


def _assigned_work(contact: Contact, actor_id: str, roles: Iterable[Role], doing: str) -> Refusal | None:
    """None if ``actor_id`` may work ``contact`` as its social worker or officer, else why not."""
    if contact.state not in _ASSIGNED_STATES:
        return wrong_state(contact, doing)
    needed = (
        Permission.WORK_ALLOCATED if contact.state is ContactState.SW_ASSESSMENT else Permission.OFFICER_WORK
    )
    role = Role.SOCIAL_WORKER if contact.state is ContactState.SW_ASSESSMENT else Role.OFFICER
    if not may(roles, needed):
        return not_permitted((role,), doing)
    if contact.assignee_id != actor_id:
        return Refusal(
            RefusalReason.NOT_YOURS,
            f"{contact.reference} is allocated to someone else, so only they can record this. "
            "Nothing was changed.",
        )
    return None


def _entered_by_rereferral(contact: Contact) -> bool:
    return any(event.action == Action.CP_THRESHOLD_MET.value for event in contact.events)


def _may_decide_cp(contact: Contact, roles: Iterable[Role]) -> bool:
    roles = frozenset(roles)
    if may(roles, Permission.THRESHOLD_DECISION):
        return True
    return may(roles, Permission.DECIDE_REREFERRAL) and _entered_by_rereferral(contact)


async def _audit(
    uow: UnitOfWork, now: datetime, actor_id: str, action: str, subject: str, detail: str = ""
) -> None:
    await uow.audit.append(audit_event(now, actor_id, f"contact.{action}", subject, detail))


def _with_letter(
    contact: Contact, outcome: Outcome, actor_id: str, now: datetime, service_name: str
) -> tuple[Contact, str | None]:
    """``contact`` with the outcome letter (or "referrer not told") recorded."""
    letter = outcome_letter(contact, outcome, now, service_name=service_name)
    if letter is None:
        return note(contact, actor_id, now, CaseworkAction.REFERRER_NOT_TOLD), None
    return note(
        contact, actor_id, now, CaseworkAction.OUTCOME_LETTER_PRODUCED, values={"letter": letter}
    ), letter


async def _audit_letter(
    uow: UnitOfWork, now: datetime, actor_id: str, subject: str, letter: str | None
) -> None:
    action = (
        CaseworkAction.OUTCOME_LETTER_PRODUCED if letter is not None else CaseworkAction.REFERRER_NOT_TOLD
    )
    await _audit(uow, now, actor_id, action.value, subject)


# -- casework notes and consent -------------------------------------------------------------------


async def record_work(
    uow: UnitOfWork,
    contact_id: str,
    kind: WorkKind,
    text: str,
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int,
    now: datetime,
) -> CaseworkRecorded | Refusal | AlreadyDecided:
    """Record contact with the referrer, contact with the parents, or (route III) the officer's
    work, with what was done. A parent contact closes a waiting parent letter's clock as met."""
    require_aware(now, "now")
    roles = frozenset(roles)
    if not (may(roles, Permission.WORK_ALLOCATED) or may(roles, Permission.OFFICER_WORK)):
        return not_permitted(_WORKERS, "record work on an allocated contact")
    if not text.strip():
        return _invalid("Notes: say what was done")
    async with uow:
        loaded = await load_contact(uow, contact_id, actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if refused := _assigned_work(loaded, actor_id, roles, "worked on"):
            return refused
        if kind is WorkKind.OFFICER_WORK and loaded.state is not ContactState.OFFICER_WORK:
            return wrong_state(loaded, "given route III officer work")
        subject = loaded.reference or ""
        saved = await save_or_race(
            uow, note(loaded, actor_id, now, kind.value, text), expected_version, actor_id
        )
        if isinstance(saved, AlreadyDecided):
            return saved
        if kind is WorkKind.PARENT_CONTACT:
            await close_clocks(uow, subject, [ClockKind.PARENT_LETTER], now)
        await _audit(uow, now, actor_id, kind.value, subject)
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()
    return CaseworkRecorded(saved, kind.value, deadlines)


async def record_consent(
    uow: UnitOfWork,
    contact_id: str,
    consent: Consent,
    reason: str,
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int,
    now: datetime,
) -> CaseworkRecorded | Refusal | AlreadyDecided:
    """Record the parents' consent to further enquiries on the contact (its ``consent`` field);
    "refused" and "not sought" need the reason, as at intake."""
    require_aware(now, "now")
    roles = frozenset(roles)
    if not (may(roles, Permission.WORK_ALLOCATED) or may(roles, Permission.OFFICER_WORK)):
        return not_permitted(_WORKERS, "record consent")
    if consent is Consent.NOT_SOUGHT and not reason.strip():
        return _invalid("Why consent was not sought: say why seeking consent would place the child at risk")
    if consent is Consent.REFUSED and not reason.strip():
        return _invalid("Why consent was refused: record the reason the parents gave")
    async with uow:
        loaded = await load_contact(uow, contact_id, actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if refused := _assigned_work(loaded, actor_id, roles, "given consent"):
            return refused
        subject = loaded.reference or ""
        changed = replace(loaded, consent=consent, consent_reason=reason.strip())
        changed = note(changed, actor_id, now, CaseworkAction.CONSENT, reason, {"consent": consent.value})
        saved = await save_or_race(uow, changed, expected_version, actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved
        await _audit(uow, now, actor_id, CaseworkAction.CONSENT.value, subject, f"consent={consent.value}")
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()
    return CaseworkRecorded(saved, CaseworkAction.CONSENT.value, deadlines)


# -- the parent letter ----------------------------------------------------------------------------


async def record_parents_unreachable(
    uow: UnitOfWork,
    contact_id: str,
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int,
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
    text: str = "",
) -> ParentLetterSent | Refusal | AlreadyDecided:
    """The parents could not be reached, so a letter was sent. On route IV and re-referrals it asks
    them to make contact within 3 working days and starts the lapse clock; on route III it advises
    them of the contact and signposts (the outcome letter to the professional follows sign-off)."""
    require_aware(now, "now")
    roles = frozenset(roles)
    if not (may(roles, Permission.WORK_ALLOCATED) or may(roles, Permission.OFFICER_WORK)):
        return not_permitted(_WORKERS, "record a letter to parents")
    async with uow:
        loaded = await load_contact(uow, contact_id, actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if refused := _assigned_work(loaded, actor_id, roles, "given a parent letter"):
            return refused
        subject = loaded.reference or ""
        waiting = [d for d in await open_deadlines(uow, subject) if d.clock is ClockKind.PARENT_LETTER]
        if waiting:
            until = waiting[0].due_at.astimezone(LONDON)
            return _invalid(
                f"a letter to the parents is already waiting for a reply until {until:%H:%M on %a %d %b}"
            )
        saved = await save_or_race(
            uow,
            note(loaded, actor_id, now, CaseworkAction.PARENT_LETTER_SENT, text),
            expected_version,
            actor_id,
        )
        if isinstance(saved, AlreadyDecided):
            return saved
        lapses_at = None
        if saved.state is ContactState.SW_ASSESSMENT:
            clock = await start_clock(uow, subject, ClockKind.PARENT_LETTER, now, calendar, policy, actor_id)
            lapses_at = clock.due_at
        await _audit(uow, now, actor_id, CaseworkAction.PARENT_LETTER_SENT.value, subject)
        await uow.commit()
    return ParentLetterSent(saved, lapses_at)


def due_parent_letters(deadlines: Iterable[Deadline], now: datetime) -> tuple[str, ...]:
    """The subjects (references) whose parent letter has lapsed by ``now``: what the scheduler
    passes to ``lapse_parent_letter``."""
    now = require_aware(now, "now")
    return tuple(
        dict.fromkeys(
            d.subject
            for d in deadlines
            if d.clock is ClockKind.PARENT_LETTER and d.state is DeadlineState.OPEN and d.due_at <= now
        )
    )


async def lapse_parent_letter(
    uow: UnitOfWork,
    reference: str,
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
    actor_id: str = PARENT_LETTER_ACTOR,
) -> LetterLapsed | Refusal | AlreadyDecided:
    """The parents did not answer the letter in time: the contact comes back to its worker to
    review and re-apply the threshold, with a fresh 1-working-day clock. Run by the scheduler; a
    second run for the same letter finds nothing waiting and changes nothing."""
    require_aware(now, "now")
    async with uow:
        contact = await uow.contacts.get_by_reference(reference)
        if contact is None:
            return Refusal(RefusalReason.NOT_FOUND, f"No contact {reference}.")
        waiting = [d for d in await open_deadlines(uow, reference) if d.clock is ClockKind.PARENT_LETTER]
        if not waiting or contact.state is not ContactState.SW_ASSESSMENT:
            return Refusal(
                RefusalReason.WRONG_STATE, f"{reference} has no parent letter waiting; nothing was changed."
            )
        if min(d.due_at for d in waiting) > now:
            return Refusal(RefusalReason.NOT_DUE, f"The parent letter on {reference} has not lapsed yet.")
        worker = contact.assignee_id
        lapsed = note(contact, actor_id, now, CaseworkAction.PARENT_LETTER_LAPSED)
        saved = await save_or_race(uow, lapsed, contact.version, actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved
        await close_clocks(uow, reference, [ClockKind.PARENT_LETTER], now)
        review = await start_clock(uow, reference, ClockKind.SCREENING, now, calendar, policy, worker)
        detail = f"worker={worker or '-'}; review_due={review.due_at.isoformat()}"
        await _audit(uow, now, actor_id, CaseworkAction.PARENT_LETTER_LAPSED.value, reference, detail)
        await uow.commit()
    return LetterLapsed(saved, worker, review.due_at)


# -- the child-protection decision, outcomes and recommendations -----------------------------------


async def accept_referral(
    uow: UnitOfWork,
    contact_id: str,
    rationale: str,
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int,
    now: datetime,
) -> CaseworkRecorded | Refusal | AlreadyDecided:
    """The child-protection decision: progress to referral (``cp_decision`` -> ``referral_accepted``),
    closing the 2-hour clock as met. The outcome, with the receiving team, follows."""
    require_aware(now, "now")
    if not rationale.strip():
        return _invalid("Rationale: the decision to progress to referral needs a rationale")
    async with uow:
        loaded = await load_contact(uow, contact_id, actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if not _may_decide_cp(loaded, roles):
            return not_permitted(_DECIDERS, "make the child-protection decision")
        if loaded.state is not ContactState.CP_DECISION:
            return wrong_state(loaded, "progressed to referral")
        subject = loaded.reference or ""
        moved = transition(
            loaded, ContactState.REFERRAL_ACCEPTED, actor_id, now, Action.ACCEPT_REFERRAL, rationale
        )
        saved = await save_or_race(uow, moved, expected_version, actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved
        await close_clocks(uow, subject, [ClockKind.CP_DECISION], now)
        await _audit(uow, now, actor_id, Action.ACCEPT_REFERRAL.value, subject)
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()
    return CaseworkRecorded(saved, Action.ACCEPT_REFERRAL.value, deadlines)


def _outcome_permission(
    contact: Contact, outcome: Outcome, actor_id: str, roles: frozenset[Role]
) -> Refusal | None:
    match contact.state:
        case ContactState.SW_ASSESSMENT:
            return _assigned_work(contact, actor_id, roles, "given a recommendation")
        case ContactState.OFFICER_WORK:
            if may(roles, Permission.THRESHOLD_DECISION):
                return None
            if refused := _assigned_work(contact, actor_id, roles, "given an outcome"):
                return refused
            if outcome.accepted:
                return not_permitted(_DECIDERS, "accept a contact for assessment (a threshold decision)")
            return None
        case ContactState.CP_DECISION | ContactState.REFERRAL_ACCEPTED:
            if not _may_decide_cp(contact, roles):
                return not_permitted(_DECIDERS, "record this outcome")
            if contact.state is ContactState.REFERRAL_ACCEPTED and not outcome.accepted:
                return _invalid("the referral was accepted: record it as accepted, with the receiving team")
            return None
        case _:
            return wrong_state(contact, "given an outcome")


async def record_outcome(
    uow: UnitOfWork,
    contact_id: str,
    outcome: Outcome,
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int,
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
    *,
    only_from: ContactState | None = None,
) -> OutcomeRecorded | Refusal | AlreadyDecided:
    """Record the outcome of a route that ends, and send the contact for sign-off.

    From ``cp_decision`` an accepted outcome is the decision to progress to referral and the outcome
    at once (two events); any other outcome there is the child-protection decision that the
    threshold is not met after all. From ``sw_assessment`` it is the social worker's recommendation.
    ``only_from`` refuses any other state (a card made for one step).
    """
    require_aware(now, "now")
    roles = frozenset(roles)
    if not (
        may(roles, Permission.THRESHOLD_DECISION)
        or may(roles, Permission.DECIDE_REREFERRAL)
        or may(roles, Permission.WORK_ALLOCATED)
        or may(roles, Permission.OFFICER_WORK)
    ):
        return not_permitted((*_DECIDERS, *_WORKERS), "record an outcome")
    if problems := outcome.problems():
        return _invalid(*problems)
    async with uow:
        loaded = await load_contact(uow, contact_id, actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if only_from is not None and loaded.state is not only_from:
            return wrong_state(loaded, "given a recommendation")
        if refused := _outcome_permission(loaded, outcome, actor_id, roles):
            return refused
        # A decider accepting the contact proceeds with enquiries: without consent, they confirm the
        # evidence suggests a risk of harm. (A recommendation is confirmed by whoever signs it off.)
        deciding = (
            only_from is not ContactState.SW_ASSESSMENT and loaded.state is not ContactState.SW_ASSESSMENT
        )
        if (
            outcome.accepted
            and deciding
            and (problem := without_consent_problem(loaded, outcome.risk_of_harm))
        ):
            return _invalid(problem)
        manager = outcome.receiving_manager_id.strip()
        if manager and manager not in {e.aad_object_id for e in await uow.roles.holders(Role.TEAM_MANAGER)}:
            return _invalid("Receiving team manager: choose one of the team managers in the directory")
        subject = loaded.reference or ""
        from_state = loaded.state
        moved = loaded
        accepting = from_state is ContactState.CP_DECISION and outcome.accepted
        if accepting:
            moved = transition(
                moved,
                ContactState.REFERRAL_ACCEPTED,
                actor_id,
                now,
                Action.ACCEPT_REFERRAL,
                outcome.rationale,
            )
        action = Action.RECOMMEND if from_state is ContactState.SW_ASSESSMENT else Action.RECORD_OUTCOME
        moved = transition(moved, ContactState.AWAITING_SIGNOFF, actor_id, now, action, outcome.rationale)
        data: dict[str, DataValue] = outcome_data(outcome)
        recommendation = Recommendation.of(outcome) if action is Action.RECOMMEND else None
        if recommendation is not None:
            data["recommendation"] = recommendation.value
        moved = replace(add_event_data(moved, data), assignee_id=None)
        saved = await save_or_race(uow, moved, expected_version, actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved

        if from_state is ContactState.CP_DECISION:
            await close_clocks(uow, subject, [ClockKind.CP_DECISION], now)
        if from_state is ContactState.SW_ASSESSMENT:
            # The recommendation is what the re-referral clock and a lapsed letter's review clock time.
            await close_clocks(uow, subject, [ClockKind.REREFERRAL_RECOMMENDATION, ClockKind.SCREENING], now)
            await close_clocks(uow, subject, [ClockKind.PARENT_LETTER], now, DeadlineState.CANCELLED)
        await reassign_clocks(uow, subject, [ClockKind.COMPLETION_24H, ClockKind.COMPLETION_48H], None, now)

        if accepting:
            await _audit(uow, now, actor_id, Action.ACCEPT_REFERRAL.value, subject)
        detail = outcome.audit_detail()
        if recommendation is not None:
            detail += f"; recommendation={recommendation.value}"
        if saved.urgent:
            detail += "; urgent=yes"
        await _audit(uow, now, actor_id, action.value, subject, detail)
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()

    return OutcomeRecorded(
        contact=saved,
        outcome=outcome,
        decided_by=actor_id,
        recommendation=recommendation,
        deadlines=deadlines,
    )


async def recommend(
    uow: UnitOfWork,
    contact_id: str,
    outcome: Outcome,
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int,
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
) -> OutcomeRecorded | Refusal | AlreadyDecided:
    """The social worker's recommendation (``sw_assessment`` -> ``awaiting_signoff``): *progress
    to referral for single assessment* is an accepted outcome (with the receiving team), *no further
    involvement* any other outcome."""
    roles = frozenset(roles)
    if not may(roles, Permission.WORK_ALLOCATED):
        return not_permitted((Role.SOCIAL_WORKER,), "make a recommendation")
    return await record_outcome(
        uow,
        contact_id,
        outcome,
        actor_id,
        roles,
        expected_version,
        now,
        calendar,
        policy,
        only_from=ContactState.SW_ASSESSMENT,
    )


# -- sign-off and the outcome letter --------------------------------------------------------------


#: The threshold decisions behind an accepted outcome: whoever made one of them since the contact
#: was last screened decided it, with whoever recorded the outcome (SPEC §3: nobody signs off their
#: own decision or recommendation).
_THRESHOLD_ACTIONS = frozenset(
    action.value for action in (Action.ROUTE_I, Action.CP_THRESHOLD_MET, Action.ACCEPT_REFERRAL)
)


def deciders(contact: Contact) -> frozenset[str]:
    """Who made the decision or recommendation now awaiting sign-off: who recorded the outcome (the
    consultant on route II, the social worker's recommendation, the officer on route III), and for an
    accepted outcome who decided the threshold was met on the way to it."""
    recorded = current_outcome(contact)
    if recorded is None:
        return frozenset()
    found = {recorded.decided_by}
    if recorded.outcome.accepted:
        for event in contact.events:
            if event.to_state is ContactState.AWAITING_SCREENING:
                found = {recorded.decided_by}
            if event.action in _THRESHOLD_ACTIONS:
                found.add(event.actor_id)
    return frozenset(found)


async def sign_off(
    uow: UnitOfWork,
    contact_id: str,
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int,
    now: datetime,
    *,
    highlight: bool = False,
    service_name: str = DEFAULT_SERVICE_NAME,
) -> SignedOff | Refusal | AlreadyDecided:
    """Quality-assure and sign off the outcome: the contact closes, its open deadlines close as
    met, and the outcome letter is produced (or "referrer not told" recorded). Nobody signs off a
    decision or recommendation of their own. An accepted outcome is only now told to the receiving
    team (by the caller), with the immediate-risk highlight when ``highlight`` is ticked; its
    receiving team manager may challenge it until the end of this working day (``challenge_window``)."""
    require_aware(now, "now")
    if not may(roles, Permission.SIGN_OFF):
        return not_permitted(_DECIDERS, "sign off a contact")
    async with uow:
        loaded = await load_contact(uow, contact_id, actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if loaded.state is not ContactState.AWAITING_SIGNOFF:
            return wrong_state(loaded, "signed off")
        recorded = current_outcome(loaded)
        if recorded is None:
            return _invalid("no outcome is recorded on this contact to sign off")
        if actor_id in deciders(loaded):
            return Refusal(
                RefusalReason.OWN_DECISION,
                f"You made the decision or recommendation on {loaded.reference}, so another consultant or "
                "team manager must sign it off. Nothing was changed.",
            )
        subject = loaded.reference or ""
        accepted = recorded.outcome.accepted
        highlight = highlight and accepted
        moved = transition(loaded, ContactState.CLOSED, actor_id, now, Action.SIGN_OFF)
        if accepted:
            moved = add_event_data(moved, {"highlight": highlight})
        moved, letter = _with_letter(moved, recorded.outcome, actor_id, now, service_name)
        saved = await save_or_race(uow, moved, expected_version, actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved
        await close_clocks(uow, subject, [d.clock for d in await open_deadlines(uow, subject)], now)
        detail = recorded.outcome.audit_detail()
        if accepted:
            detail += f"; highlight={'yes' if highlight else 'no'}"
        await _audit(uow, now, actor_id, Action.SIGN_OFF.value, subject, detail)
        await _audit_letter(uow, now, actor_id, subject, letter)
        await uow.commit()
    return SignedOff(saved, recorded.outcome, recorded.decided_by, actor_id, letter, highlight=highlight)


def _last(contact: Contact, action: CaseworkAction) -> ContactEvent | None:
    return next((e for e in reversed(contact.events) if e.action == action.value), None)


async def record_outcome_letter_sent(
    uow: UnitOfWork,
    contact_id: str,
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int,
    now: datetime,
) -> CaseworkRecorded | Refusal | AlreadyDecided:
    """Record that the latest outcome letter was sent to the referrer: by an officer (who sends
    letters), or by the person who recorded the outcome it reports, to whom the letter is shown to
    send (the consultant on route II, the social worker after a recommendation)."""
    require_aware(now, "now")
    roles = frozenset(roles)
    sends_letters = may(roles, Permission.SEND_LETTERS)
    if not (sends_letters or may(roles, Permission.VIEW_CONTACTS)):
        return not_permitted((Role.OFFICER,), "record letters sent")
    async with uow:
        loaded = await load_contact(uow, contact_id, actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        recorded = current_outcome(loaded)
        if not sends_letters and (recorded is None or recorded.decided_by != actor_id):
            return Refusal(
                RefusalReason.NOT_PERMITTED,
                "Sorry, only First Contact officers or the person who recorded the outcome can record "
                "its letter as sent.",
            )
        produced = _last(loaded, CaseworkAction.OUTCOME_LETTER_PRODUCED)
        not_told = _last(loaded, CaseworkAction.REFERRER_NOT_TOLD)
        sent = _last(loaded, CaseworkAction.OUTCOME_LETTER_SENT)
        if produced is None or (not_told is not None and not_told.at > produced.at):
            return _invalid("there is no outcome letter to send for this contact")
        if sent is not None and sent.at >= produced.at:
            return _invalid("this outcome letter is already recorded as sent")
        subject = loaded.reference or ""
        saved = await save_or_race(
            uow, note(loaded, actor_id, now, CaseworkAction.OUTCOME_LETTER_SENT), expected_version, actor_id
        )
        if isinstance(saved, AlreadyDecided):
            return saved
        await _audit(uow, now, actor_id, CaseworkAction.OUTCOME_LETTER_SENT.value, subject)
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()
    return CaseworkRecorded(saved, CaseworkAction.OUTCOME_LETTER_SENT.value, deadlines)


# -- the receiving team's disagreement ------------------------------------------------------------


def _signed_off(contact: Contact) -> ContactEvent | None:
    return next((e for e in reversed(contact.events) if e.action == Action.SIGN_OFF.value), None)


def challenge_window(contact: Contact, calendar: WorkingCalendar, policy: Policy) -> datetime | None:
    """Until when the receiving team manager may challenge the contact's threshold decision: the end
    of the working day it was signed off to them on. None unless it is signed off as accepted."""
    recorded: RecordedOutcome | None = current_outcome(contact)
    signed = _signed_off(contact)
    if recorded is None or not recorded.outcome.accepted or signed is None:
        return None
    return due_at(ClockKind.CHALLENGE, signed.at, calendar, policy)


def challenge_status(contact: Contact) -> ChallengeStatus | None:
    """The latest challenge on ``contact``, or None if it was never challenged."""
    status: ChallengeStatus | None = None
    for event in contact.events:
        if event.action == CaseworkAction.CHALLENGE_RAISED.value:
            status = ChallengeStatus(event.actor_id, event.at, 0)
        elif status is None:
            continue
        elif event.action == CaseworkAction.CHALLENGE_DISCUSSED.value:
            status = replace(status, discussions=status.discussions + 1)
        elif event.action == CaseworkAction.CHALLENGE_ESCALATED.value:
            status = replace(status, escalated_by=event.actor_id, escalated_at=event.at)
        elif event.action == CaseworkAction.CHALLENGE_RESOLVED.value:
            result = read_event_data(event).get("result")
            if isinstance(result, str) and result in ChallengeResult.__members__.values():
                status = replace(status, result=ChallengeResult(result), resolved_by=event.actor_id)
    return status


def answerers(contact: Contact) -> frozenset[str]:
    """Who answers the receiving team's challenge: the consultant or team manager who decided (the
    deciders of the outcome, and whoever signed it off, who decided a recommendation)."""
    signed = _signed_off(contact)
    return deciders(contact) | ({signed.actor_id} if signed is not None else set())


def _may_answer(contact: Contact, actor_id: str, roles: frozenset[Role]) -> bool:
    deciding = may(roles, Permission.THRESHOLD_DECISION) or may(roles, Permission.DECIDE_REREFERRAL)
    return deciding and actor_id in answerers(contact)


def _own_challenge(contact: Contact) -> Refusal:
    return Refusal(
        RefusalReason.OWN_DECISION,
        f"You raised the challenge on {contact.reference}, so you cannot settle it: the decider answers, "
        "or a service manager if you do not agree. Nothing was changed.",
    )


async def raise_challenge(
    uow: UnitOfWork,
    contact_id: str,
    grounds: str,
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int | None,
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
) -> ChallengeRecorded | Refusal | AlreadyDecided:
    """The receiving team manager named on the outcome challenges the threshold, until the end of the
    working day the contact was signed off to them on.

    A challenge does not compete with the front door's own steps, so a card may send
    ``expected_version`` None; with a version, a stale card is answered with ``AlreadyDecided``.
    """
    require_aware(now, "now")
    if not may(roles, Permission.CHALLENGE_THRESHOLD):
        return not_permitted((Role.TEAM_MANAGER,), "challenge a threshold decision")
    if not grounds.strip():
        return _invalid("Grounds: say why the threshold decision is challenged")
    async with uow:
        loaded = await load_contact(uow, contact_id, actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        until = challenge_window(loaded, calendar, policy)
        recorded = current_outcome(loaded)
        if until is None or recorded is None:
            return wrong_state(loaded, "challenged (only a contact signed off as accepted can be)")
        if recorded.outcome.receiving_manager_id != actor_id:
            return Refusal(
                RefusalReason.NOT_YOURS,
                f"Only the receiving team manager named on {loaded.reference}'s outcome may challenge its "
                "threshold. Nothing was changed.",
            )
        if now > until:
            return Refusal(
                RefusalReason.OUTSIDE_WINDOW,
                f"{loaded.reference} could be challenged until {until.astimezone(LONDON):%H:%M on %a %d %b}; "
                "that time has passed, so nothing was recorded.",
            )
        current = challenge_status(loaded)
        if current is not None:
            return _invalid("this contact's threshold has already been challenged")
        return await _challenge_event(
            uow, loaded, actor_id, now, CaseworkAction.CHALLENGE_RAISED, grounds, detail=""
        )


async def _challenge_event(
    uow: UnitOfWork,
    loaded: Contact,
    actor_id: str,
    now: datetime,
    action: CaseworkAction,
    text: str,
    detail: str,
    values: dict[str, DataValue] | None = None,
    service_name: str = DEFAULT_SERVICE_NAME,
    revised: Outcome | None = None,
) -> ChallengeRecorded | AlreadyDecided:
    """Record one step of a challenge (inside the caller's unit of work) and commit."""
    subject = loaded.reference or ""
    changed = note(loaded, actor_id, now, action, text, values)
    letter = None
    if revised is not None and changed.state is ContactState.CLOSED:
        changed, letter = _with_letter(changed, revised, actor_id, now, service_name)
    saved = await save_or_race(uow, changed, loaded.version, actor_id)
    if isinstance(saved, AlreadyDecided):
        return saved
    await _audit(uow, now, actor_id, action.value, subject, detail)
    if revised is not None and saved.state is ContactState.CLOSED:
        await _audit_letter(uow, now, actor_id, subject, letter)
    await uow.commit()
    status = challenge_status(saved)
    assert status is not None
    return ChallengeRecorded(saved, action, status, letter)


async def _open_challenge(
    uow: UnitOfWork, contact_id: str, actor_id: str, expected_version: int | None
) -> tuple[Contact, ChallengeStatus] | Refusal | AlreadyDecided:
    loaded = await load_contact(uow, contact_id, actor_id, expected_version)
    if not isinstance(loaded, Contact):
        return loaded
    status = challenge_status(loaded)
    if status is None or not status.open:
        return wrong_state(loaded, "given a challenge discussion or result (there is no open challenge)")
    return loaded, status


async def record_challenge_discussion(
    uow: UnitOfWork,
    contact_id: str,
    text: str,
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int | None,
    now: datetime,
) -> ChallengeRecorded | Refusal | AlreadyDecided:
    """Record the discussion of an open challenge: by the challenger, the decider who answers, or
    (once it escalated) a service manager."""
    require_aware(now, "now")
    roles = frozenset(roles)
    if not text.strip():
        return _invalid("Discussion: say what was discussed")
    async with uow:
        found = await _open_challenge(uow, contact_id, actor_id, expected_version)
        if not isinstance(found, tuple):
            return found
        loaded, status = found
        settling = status.escalated and may(roles, Permission.SETTLE_ESCALATION)
        if not (actor_id == status.raised_by or _may_answer(loaded, actor_id, roles) or settling):
            return _not_party(loaded)
        result = await _challenge_event(
            uow, loaded, actor_id, now, CaseworkAction.CHALLENGE_DISCUSSED, text, detail=""
        )
    return result


def _not_party(contact: Contact) -> Refusal:
    return Refusal(
        RefusalReason.NOT_PERMITTED,
        f"Sorry, only the receiving team manager who challenged {contact.reference}, the consultant or team "
        "manager who decided it, or (once it escalated) a service manager can do that. Nothing was changed.",
    )


async def escalate_challenge(
    uow: UnitOfWork,
    contact_id: str,
    rationale: str,
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int | None,
    now: datetime,
) -> ChallengeRecorded | Refusal | AlreadyDecided:
    """The decider and the receiving team manager do not agree: the challenge escalates to the
    service manager, who records the final decision. Either of them may say so."""
    require_aware(now, "now")
    roles = frozenset(roles)
    if not rationale.strip():
        return _invalid("Why it is not agreed: say where the disagreement lies")
    async with uow:
        found = await _open_challenge(uow, contact_id, actor_id, expected_version)
        if not isinstance(found, tuple):
            return found
        loaded, status = found
        if not (actor_id == status.raised_by or _may_answer(loaded, actor_id, roles)):
            return _not_party(loaded)
        if status.escalated:
            return _invalid("this challenge has already gone to the service manager")
        result = await _challenge_event(
            uow,
            loaded,
            actor_id,
            now,
            CaseworkAction.CHALLENGE_ESCALATED,
            rationale,
            detail="to=service_manager",
        )
    return result


async def resolve_challenge(
    uow: UnitOfWork,
    contact_id: str,
    result: ChallengeResult,
    rationale: str,
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int | None,
    now: datetime,
    *,
    revised_outcome: OutcomeKind | None = None,
    agency: Agency | None = None,
    service_name: str = DEFAULT_SERVICE_NAME,
) -> ChallengeRecorded | Refusal | AlreadyDecided:
    """Record a challenge's result, agreed either way: by the consultant or team manager who decided,
    or, once it escalated, by a service manager (the final decision). The challenger never settles
    their own challenge. *Overturned* needs the revised outcome (anything but accepted), which
    becomes the contact's outcome, with ``rationale`` as its rationale."""
    require_aware(now, "now")
    roles = frozenset(roles)
    if not rationale.strip():
        return _invalid("Rationale: say why the challenge ended this way")
    revised: Outcome | None = None
    if result is ChallengeResult.OVERTURNED:
        if revised_outcome is None or revised_outcome is OutcomeKind.ACCEPTED:
            return _invalid(
                "Revised outcome: an overturned threshold decision needs the outcome that replaces it"
            )
        revised = Outcome(revised_outcome, rationale, agency=agency)
        if problems := revised.problems():
            return _invalid(*problems)
    elif revised_outcome is not None or agency is not None:
        return _invalid("an upheld decision keeps its outcome: give no revised outcome")
    async with uow:
        found = await _open_challenge(uow, contact_id, actor_id, expected_version)
        if not isinstance(found, tuple):
            return found
        loaded, status = found
        if actor_id == status.raised_by:
            return _own_challenge(loaded)
        if status.escalated and not may(roles, Permission.SETTLE_ESCALATION):
            return not_permitted(
                (Role.SERVICE_MANAGER,), "record the final decision on an escalated challenge"
            )
        if not status.escalated and not _may_answer(loaded, actor_id, roles):
            return _not_party(loaded)
        values: dict[str, DataValue] = {"result": result.value}
        if revised is not None:
            values |= outcome_data(revised)
        detail = f"result={result.value}; final={'yes' if status.escalated else 'no'}"
        if revised is not None:
            detail += f"; {revised.audit_detail()}"
        recorded = await _challenge_event(
            uow,
            loaded,
            actor_id,
            now,
            CaseworkAction.CHALLENGE_RESOLVED,
            rationale,
            detail,
            values,
            service_name,
            revised,
        )
    return recorded


# -- the referrer's challenge ---------------------------------------------------------------------


class ReferrerStage(StrEnum):
    """The steps of a referrer's challenge (SPEC §3), in order."""

    #: a consultant or team manager discusses it with the referrer
    DISCUSSION = "discussion"
    #: a team manager with the agency's lead
    TEAM_MANAGER = "team_manager"
    #: the service manager with the agency's lead: the last step
    SERVICE_MANAGER = "service_manager"


class ReferrerResult(StrEnum):
    RESOLVED = "resolved"
    #: the challenge remains: it goes to the next step
    REMAINS = "remains"


_STAGE_ORDER = tuple(ReferrerStage)


@dataclass(frozen=True, slots=True)
class ReferrerStep:
    stage: ReferrerStage
    result: ReferrerResult
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReferrerChallenge:
    """The latest referrer challenge on a contact, folded from its events."""

    recorded_by: str
    recorded_at: datetime
    steps: tuple[ReferrerStep, ...] = ()

    @property
    def next_stage(self) -> ReferrerStage | None:
        """The step that comes next; None once it is resolved or the last step is recorded."""
        if not self.steps:
            return ReferrerStage.DISCUSSION
        last = self.steps[-1]
        if last.result is ReferrerResult.RESOLVED or last.stage is ReferrerStage.SERVICE_MANAGER:
            return None
        return _STAGE_ORDER[_STAGE_ORDER.index(last.stage) + 1]

    @property
    def open(self) -> bool:
        return self.next_stage is not None


@dataclass(frozen=True, slots=True)
class ReferrerChallengeRecorded:
    contact: Contact
    challenge: ReferrerChallenge


def referrer_challenge(contact: Contact) -> ReferrerChallenge | None:
    """The latest referrer challenge on ``contact``, or None."""
    found: ReferrerChallenge | None = None
    for event in contact.events:
        if event.action == CaseworkAction.REFERRER_CHALLENGE_RAISED.value:
            found = ReferrerChallenge(event.actor_id, event.at)
        elif found is not None and event.action == CaseworkAction.REFERRER_CHALLENGE_STEP.value:
            data = read_event_data(event)
            stage, result = data.get("stage"), data.get("result")
            if stage in ReferrerStage.__members__.values() and result in ReferrerResult.__members__.values():
                step = ReferrerStep(
                    ReferrerStage(str(stage)), ReferrerResult(str(result)), event.actor_id, event.at
                )
                found = replace(found, steps=(*found.steps, step))
    return found


#: Who records each step, and how a refusal names them.
_STAGE_WHO: Mapping[ReferrerStage, tuple[tuple[Role, ...], str]] = {
    ReferrerStage.DISCUSSION: (_DECIDERS, "record the discussion of a referrer's challenge"),
    ReferrerStage.TEAM_MANAGER: (
        (Role.TEAM_MANAGER,),
        "record the team manager's step of a referrer's challenge",
    ),
    ReferrerStage.SERVICE_MANAGER: (
        (Role.SERVICE_MANAGER,),
        "record the service manager's step of a referrer's challenge",
    ),
}


def may_record_stage(stage: ReferrerStage, roles: Iterable[Role]) -> bool:
    roles = frozenset(roles)
    if stage is ReferrerStage.DISCUSSION:
        return may(roles, Permission.THRESHOLD_DECISION)
    if stage is ReferrerStage.TEAM_MANAGER:
        return Role.TEAM_MANAGER in roles
    return may(roles, Permission.SETTLE_ESCALATION)


async def record_referrer_challenge(
    uow: UnitOfWork,
    contact_id: str,
    grounds: str,
    actor_id: str,
    roles: Iterable[Role],
    now: datetime,
) -> ReferrerChallengeRecorded | Refusal | AlreadyDecided:
    """A referrer disagrees with the outcome of a closed contact: staff record it, with what the
    referrer said; a consultant or team manager discusses it next."""
    require_aware(now, "now")
    if not may(roles, Permission.RECORD_REFERRER_CHALLENGE):
        return not_permitted((Role.OFFICER, *_DECIDERS), "record a referrer's challenge")
    if not grounds.strip():
        return _invalid("What the referrer disagrees with: say what they said")
    async with uow:
        loaded = await load_contact(uow, contact_id, actor_id, None)
        if not isinstance(loaded, Contact):
            return loaded
        if loaded.state is not ContactState.CLOSED or current_outcome(loaded) is None:
            return wrong_state(loaded, "challenged by the referrer (only a closed contact's outcome can be)")
        current = referrer_challenge(loaded)
        if current is not None and current.open:
            return _invalid("the referrer's challenge of this contact is still open: record its next step")
        return await _referrer_event(
            uow, loaded, actor_id, now, CaseworkAction.REFERRER_CHALLENGE_RAISED, grounds, {}, detail=""
        )


async def record_referrer_challenge_step(
    uow: UnitOfWork,
    contact_id: str,
    result: ReferrerResult,
    notes: str,
    agency_lead: str,
    actor_id: str,
    roles: Iterable[Role],
    now: datetime,
) -> ReferrerChallengeRecorded | Refusal | AlreadyDecided:
    """The next step of an open referrer challenge, with its result: the discussion (a consultant or
    team manager), then, if it remains, a team manager with the agency's lead, then the service
    manager with the agency's lead. The two later steps name the agency's lead."""
    require_aware(now, "now")
    roles = frozenset(roles)
    if not notes.strip():
        return _invalid("Notes: say what was discussed and decided")
    async with uow:
        loaded = await load_contact(uow, contact_id, actor_id, None)
        if not isinstance(loaded, Contact):
            return loaded
        current = referrer_challenge(loaded)
        stage = current.next_stage if current is not None else None
        if stage is None:
            return wrong_state(
                loaded, "given a referrer challenge step (there is no open referrer challenge)"
            )
        if not may_record_stage(stage, roles):
            who, doing = _STAGE_WHO[stage]
            return not_permitted(who, doing)
        lead = agency_lead.strip()
        if stage is not ReferrerStage.DISCUSSION and not lead:
            return _invalid("The agency's lead: name who took part for the referrer's agency")
        values: dict[str, DataValue] = {"stage": stage.value, "result": result.value}
        if lead:
            values["agency_lead"] = lead
        detail = f"stage={stage.value}; result={result.value}"
        return await _referrer_event(
            uow, loaded, actor_id, now, CaseworkAction.REFERRER_CHALLENGE_STEP, notes, values, detail
        )


async def _referrer_event(
    uow: UnitOfWork,
    loaded: Contact,
    actor_id: str,
    now: datetime,
    action: CaseworkAction,
    text: str,
    values: dict[str, DataValue],
    detail: str,
) -> ReferrerChallengeRecorded | AlreadyDecided:
    saved = await save_or_race(
        uow, note(loaded, actor_id, now, action, text, values), loaded.version, actor_id
    )
    if isinstance(saved, AlreadyDecided):
        return saved
    await _audit(uow, now, actor_id, action.value, saved.reference or "", detail)
    await uow.commit()
    challenge = referrer_challenge(saved)
    assert challenge is not None
    return ReferrerChallengeRecorded(saved, challenge)
