"""Builders for the tests of the work after screening: outcomes, letters, challenges and sign-off,
walked through the use cases of frontdoor.casework."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from frontdoor.acting import Rules, Who
from frontdoor.calendar import WorkingCalendar
from frontdoor.casework import (
    CaseworkRecorded,
    ChallengeRecorded,
    ChallengeResult,
    OutcomeRecorded,
    ParentLetterSent,
    Recommendation,
    SignedOff,
    WorkKind,
    accept_referral,
    raise_challenge,
    recommend,
    record_consent,
    record_outcome,
    record_outcome_letter_sent,
    record_parents_unreachable,
    record_work,
    resolve_challenge,
    sign_off,
)
from frontdoor.contact import Consent, Contact, ContactState
from frontdoor.decisions import RereferralDecided, decide_rereferral
from frontdoor.outcomes import Agency, Outcome, OutcomeKind
from frontdoor.policy import default_policy
from frontdoor.records import ClockKind
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from frontdoor.unit_of_work import Store
from frontdoor.usecase import AlreadyDecided, Refusal
from tests.frontdoor.decision_builders import (
    CONSULTANT,
    CONSULTANT_2,
    CP_MET,
    DUTY_MANAGER,
    NOW,
    OFFICER,
    REASSIGN,
    ROLES,
    ROUTE_I,
    ROUTE_II,
    ROUTE_III,
    ROUTE_IV,
    SW,
    TEAM_MANAGER,
    open_clocks,
    screened,
    submitted,
)

CALENDAR = WorkingCalendar()
POLICY = default_policy()

ACCEPTED = Outcome(
    OutcomeKind.ACCEPTED,
    "Threshold met for a single assessment",
    "Safeguarding and Assessment Team North",
    True,
    receiving_manager_id=TEAM_MANAGER,
)
NFA = Outcome(OutcomeKind.NO_FURTHER_ACTION, "No role for children's social care")
ADVICE = Outcome(OutcomeKind.ADVICE, "Advice given to the school")
EARLY_HELP = Outcome(OutcomeKind.OTHER_AGENCY, "Family want support", agency=Agency.EARLY_HELP)


async def work(
    store: Store, contact: Contact, kind: WorkKind, actor: str = SW, *, now: datetime = NOW
) -> CaseworkRecorded | Refusal | AlreadyDecided:
    return await record_work(
        store.unit_of_work(),
        contact.id,
        kind,
        f"Notes: {kind.value}",
        contact.version,
        who=Who(actor, ROLES[actor]),
        now=now,
    )


async def outcome_of(
    store: Store, contact: Contact, outcome: Outcome, actor: str = CONSULTANT, *, now: datetime = NOW
) -> OutcomeRecorded | Refusal | AlreadyDecided:
    return await record_outcome(
        store.unit_of_work(),
        contact.id,
        outcome,
        contact.version,
        who=Who(actor, ROLES[actor]),
        rules=Rules(now, CALENDAR, POLICY),
    )


async def recommended(
    store: Store, contact: Contact, outcome: Outcome, actor: str = SW, *, now: datetime = NOW
) -> OutcomeRecorded | Refusal | AlreadyDecided:
    return await recommend(
        store.unit_of_work(),
        contact.id,
        outcome,
        contact.version,
        who=Who(actor, ROLES[actor]),
        rules=Rules(now, CALENDAR, POLICY),
    )


async def signed(
    store: Store, contact: Contact, actor: str = CONSULTANT_2, *, now: datetime = NOW
) -> SignedOff | Refusal | AlreadyDecided:
    return await sign_off(
        store.unit_of_work(),
        contact.id,
        contact.version,
        who=Who(actor, ROLES[actor]),
        now=now,
    )


async def letter_out(
    store: Store, contact: Contact, actor: str = OFFICER, *, now: datetime = NOW
) -> ParentLetterSent | Refusal | AlreadyDecided:
    return await record_parents_unreachable(
        store.unit_of_work(),
        contact.id,
        contact.version,
        who=Who(actor, ROLES[actor]),
        rules=Rules(now, CALENDAR, POLICY),
    )


T = TypeVar("T")


def ok(result: T | Refusal | AlreadyDecided, kind: type[T]) -> T:
    assert isinstance(result, kind), result
    return result


async def route_i_accepted_at_once(store: Store) -> Contact:
    contact = await screened(store, await submitted(store), ROUTE_I)
    recorded = ok(await outcome_of(store, contact, ACCEPTED), OutcomeRecorded)
    assert [e.action for e in recorded.contact.events[-2:]] == ["accept_referral", "record_outcome"]
    return ok(await signed(store, recorded.contact), SignedOff).contact


async def route_i_accepted_in_two_steps(store: Store) -> Contact:
    contact = await screened(store, await submitted(store, urgent=True), ROUTE_I)
    accepted = ok(
        await accept_referral(
            store.unit_of_work(),
            contact.id,
            "Progress to referral",
            contact.version,
            who=Who(CONSULTANT, ROLES[CONSULTANT]),
            now=NOW,
        ),
        CaseworkRecorded,
    )
    assert accepted.contact.state is ContactState.REFERRAL_ACCEPTED
    assert ClockKind.CP_DECISION not in await open_clocks(store, contact.reference)
    recorded = ok(await outcome_of(store, accepted.contact, ACCEPTED), OutcomeRecorded)
    return ok(await signed(store, recorded.contact), SignedOff).contact


async def route_i_threshold_not_met(store: Store) -> Contact:
    contact = await screened(store, await submitted(store), ROUTE_I)
    recorded = ok(await outcome_of(store, contact, NFA), OutcomeRecorded)
    return ok(await signed(store, recorded.contact), SignedOff).contact


async def route_ii(store: Store) -> Contact:
    contact = await screened(store, await submitted(store), ROUTE_II)
    return ok(await signed(store, contact), SignedOff).contact


async def route_iii(store: Store) -> Contact:
    contact = await screened(store, await submitted(store), ROUTE_III)
    contact = ok(await work(store, contact, WorkKind.OFFICER_WORK, OFFICER), CaseworkRecorded).contact
    contact = ok(await work(store, contact, WorkKind.REFERRER_CONTACT, OFFICER), CaseworkRecorded).contact
    sent = ok(await letter_out(store, contact, OFFICER), ParentLetterSent)
    assert sent.lapses_at is None  # route III's letter advises and signposts; nothing lapses
    contact = ok(await outcome_of(store, sent.contact, EARLY_HELP, OFFICER), OutcomeRecorded).contact
    closed = ok(await signed(store, contact), SignedOff)
    assert closed.letter is not None
    done = await record_outcome_letter_sent(
        store.unit_of_work(),
        contact.id,
        closed.contact.version,
        who=Who(OFFICER, ROLES[OFFICER]),
        now=NOW,
    )
    return ok(done, CaseworkRecorded).contact


async def route_iv(store: Store) -> Contact:
    contact = await screened(store, await submitted(store), ROUTE_IV)
    contact = ok(await work(store, contact, WorkKind.REFERRER_CONTACT), CaseworkRecorded).contact
    contact = ok(await work(store, contact, WorkKind.PARENT_CONTACT), CaseworkRecorded).contact
    contact = ok(
        await record_consent(
            store.unit_of_work(),
            contact.id,
            Consent.GIVEN,
            "",
            contact.version,
            who=Who(SW, ROLES[SW]),
            now=NOW,
        ),
        CaseworkRecorded,
    ).contact
    contact = ok(await recommended(store, contact, ADVICE), OutcomeRecorded).contact
    return ok(await signed(store, contact), SignedOff).contact


async def rereferral_cp(store: Store) -> Contact:
    contact = await submitted(store, rereferral=True)
    decided = await decide_rereferral(
        store.unit_of_work(),
        contact.id,
        CP_MET,
        contact.version,
        who=Who(DUTY_MANAGER, ROLES[DUTY_MANAGER]),
        rules=Rules(NOW, CALENDAR, POLICY),
    )
    # The duty manager who sent it to a child-protection decision may make that decision too.
    recorded = ok(
        await outcome_of(store, ok(decided, RereferralDecided).contact, ACCEPTED, DUTY_MANAGER),
        OutcomeRecorded,
    )
    return ok(await signed(store, recorded.contact), SignedOff).contact


async def reassigned_to_worker(store: Store) -> Contact:
    """A re-referral the duty manager reassigned to its last worker (``SW``), now with them."""
    contact = await submitted(store, rereferral=True, last_worker=SW)
    decided = await decide_rereferral(
        store.unit_of_work(),
        contact.id,
        REASSIGN,
        contact.version,
        who=Who(DUTY_MANAGER, ROLES[DUTY_MANAGER]),
        rules=Rules(NOW, CALENDAR, POLICY),
    )
    return ok(decided, RereferralDecided).contact


async def rereferral_reassigned(store: Store) -> Contact:
    recorded = ok(await recommended(store, await reassigned_to_worker(store), ACCEPTED), OutcomeRecorded)
    assert recorded.recommendation is Recommendation.PROGRESS_TO_REFERRAL
    return ok(await signed(store, recorded.contact), SignedOff).contact


WALKS: list[Callable[[Store], Awaitable[Contact]]] = [
    route_i_accepted_at_once,
    route_i_accepted_in_two_steps,
    route_i_threshold_not_met,
    route_ii,
    route_iii,
    route_iv,
    rereferral_cp,
    rereferral_reassigned,
]

THURSDAY = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)  # Thursday 2 April 2026, 10:00 in London (BST)
EASTER = WorkingCalendar(
    non_working_dates=frozenset({date(2026, 4, 3), date(2026, 4, 6)})
)  # Good Friday, Easter Monday


async def letter_waiting(store: Store, clock: SettableClock) -> Contact:
    contact = await screened(store, await submitted(store, now=clock.now()), ROUTE_IV)
    sent = await record_parents_unreachable(
        store.unit_of_work(),
        contact.id,
        contact.version,
        who=Who(SW, ROLES[SW]),
        rules=Rules(clock.now(), EASTER, POLICY),
    )
    return ok(sent, ParentLetterSent).contact


async def challenge(
    store: Store, contact: Contact, now: datetime, actor: str = TEAM_MANAGER
) -> ChallengeRecorded | Refusal | AlreadyDecided:
    return await raise_challenge(
        store.unit_of_work(),
        contact.id,
        "Threshold not met in our view",
        contact.version,
        who=Who(actor, ROLES[actor]),
        rules=Rules(now, CALENDAR, POLICY),
    )


async def resolve(
    store: Store,
    contact: Contact,
    actor: str,
    roles: frozenset[Role],
    result: ChallengeResult = ChallengeResult.UPHELD,
    **revised: Any,
) -> ChallengeRecorded | Refusal | AlreadyDecided:
    return await resolve_challenge(
        store.unit_of_work(),
        contact.id,
        result,
        "Because",
        None,
        who=Who(actor, roles),
        now=NOW,
        **revised,
    )
