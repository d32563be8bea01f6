"""A generator of realistic contacts for the figures, with on-time shares known in advance.

``seed_month`` records a month of contacts through the store's own repositories: each is received
in office hours on a working day, screened, and (mostly) completed and signed off; its clocks are
started and closed at chosen times, and the store decides met or late (SPEC §3), so the figures read
exactly what the product would have recorded. Which clocks run late follows simple rules of the
contact's number, so a test can work the shares out by hand:

- contact *n* (0-based) is urgent when ``n % 10 == 0``: route I, with a 2-hour child-protection
  clock, late when ``n % 30 == 0``;
- every other contact takes route II, III or IV in turn (``n % 3``: 0 → II, 1 → III, 2 → IV);
- its screening clock is late when ``n % 5 == 4``;
- its completion clock (24 hours for routes I and II, 48 for III and IV) is late when
  ``n % 4 == 3``; and left open (never completed) when ``n % 25 == 24``.

As intake and screening do, the screening and child-protection clocks are started with no one
assigned: the screening decision is made by the deciders in turn (``n % 2`` by default), an
urgent contact's screening half an hour after it arrived and its child-protection decision by the
other decider; the completion clock is assigned to the workers in turn (``n % 3``).

No real person's details: contacts carry no names at all (the figures never read them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from frontdoor.calendar import WorkingCalendar
from frontdoor.clocks import due_at
from frontdoor.contact import (
    Contact,
    ContactEvent,
    ContactState,
    ContactType,
    ImmediateRisk,
    PresentingNeed,
    Source,
)
from frontdoor.lifecycle import Action
from frontdoor.policy import Policy
from frontdoor.records import ClockKind, Deadline
from frontdoor.unit_of_work import Store, UnitOfWork

SOURCES = tuple(Source)
TYPES = tuple(ContactType)
NEEDS = tuple(PresentingNeed)
WORKERS = ("sw-fig-1", "sw-fig-2", "sw-fig-3")
DECIDERS = ("consultant-fig-1", "consultant-fig-2")
#: who signs the contacts off (closing their completion clocks)
SIGNER = "consultant-fig"


@dataclass(frozen=True, slots=True)
class Seeded:
    """One generated contact's plan: its route and which clocks it runs late or leaves open."""

    number: int
    reference: str
    received_at: datetime
    route: str
    urgent: bool
    screening_late: bool
    cp_late: bool
    completion_late: bool
    completion_open: bool
    worker: str
    #: who makes the screening decision, and an urgent contact's child-protection decision
    screener: str
    cp_decider: str

    @property
    def completion(self) -> ClockKind:
        return ClockKind.COMPLETION_24H if self.route in ("i", "ii") else ClockKind.COMPLETION_48H


def plan(
    number: int,
    received_at: datetime,
    workers: Sequence[str] = WORKERS,
    deciders: Sequence[str] = DECIDERS,
) -> Seeded:
    urgent = number % 10 == 0
    return Seeded(
        number=number,
        reference=f"CT-26-{800000 + number:06d}",
        received_at=received_at,
        route="i" if urgent else ("ii", "iii", "iv")[number % 3],
        urgent=urgent,
        screening_late=number % 5 == 4,
        cp_late=urgent and number % 30 == 0,
        completion_late=number % 4 == 3,
        completion_open=number % 25 == 24,
        worker=workers[number % len(workers)],
        screener=deciders[number % len(deciders)],
        cp_decider=deciders[(number + 1) % len(deciders)],
    )


def received_times(first: date, last: date, count: int, calendar: WorkingCalendar) -> Iterator[datetime]:
    """``count`` times in office hours (09:00–15:59 local) on the working days from ``first`` to
    ``last``, spread evenly, in order."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    days = [day for day in days if calendar.is_working_day(day)]
    for n in range(count):
        day = days[n * len(days) // count]
        minutes = 9 * 60 + (n * 37) % 420
        yield datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=calendar.tz).astimezone(UTC)


async def seed_month(
    store: Store,
    first: date,
    last: date,
    count: int,
    calendar: WorkingCalendar,
    policy: Policy,
    workers: Sequence[str] = WORKERS,
    deciders: Sequence[str] = DECIDERS,
) -> list[Seeded]:
    """Record ``count`` contacts received from ``first`` to ``last``, their completion clocks
    assigned to ``workers`` in turn and their decisions made by ``deciders``; returns their plans."""
    times = received_times(first, last, count, calendar)
    seeded = [plan(n, at, workers, deciders) for n, at in enumerate(times)]
    async with store.unit_of_work() as uow:
        for item in seeded:
            await _record(uow, item, calendar, policy)
        await uow.commit()
    return seeded


def _closing(due: datetime, started: datetime, late: bool, kind: ClockKind) -> datetime:
    """A closing time: after the due time when late, else part of the way from start to due. The
    screening decision comes a third of the way (half an hour late), the completion halfway (an
    hour late), so no contact is screened and signed off at the same moment."""
    if kind is ClockKind.SCREENING:
        return due + timedelta(minutes=30) if late else started + (due - started) / 3
    return due + timedelta(hours=1) if late else started + (due - started) / 2


async def _record(work: UnitOfWork, item: Seeded, calendar: WorkingCalendar, policy: Policy) -> None:
    received, subject = item.received_at, item.reference
    events = [
        ContactEvent(
            received, "officer-fig", Action.SUBMIT.value, ContactState.DRAFT, ContactState.AWAITING_SCREENING
        )
    ]

    async def clock(
        kind: ClockKind,
        start: datetime,
        late: bool,
        by: str,
        open_: bool = False,
        assignee: str | None = None,
        closed: datetime | None = None,
    ) -> datetime:
        due = due_at(kind, start, calendar, policy)
        await work.deadlines.add(Deadline(subject, kind, start, due, assignee_id=assignee))
        closed = closed or _closing(due, start, late, kind)
        if not open_:
            await work.deadlines.close(subject, kind.value, "met", closed, closed_by=by)
        return closed

    # An urgent contact is screened at once (on time: no urgent contact's screening runs late).
    quickly = received + timedelta(minutes=30) if item.urgent else None
    screened = await clock(ClockKind.SCREENING, received, item.screening_late, item.screener, closed=quickly)
    route_state = {
        "i": ContactState.CP_DECISION,
        "ii": ContactState.AWAITING_SIGNOFF,
        "iii": ContactState.OFFICER_WORK,
        "iv": ContactState.SW_ASSESSMENT,
    }[item.route]
    events.append(
        ContactEvent(
            screened,
            item.screener,
            f"route_{item.route}",
            ContactState.AWAITING_SCREENING,
            route_state,
            "seeded",
        )
    )
    if item.urgent:
        decided = await clock(ClockKind.CP_DECISION, received, item.cp_late, item.cp_decider)
        events.append(
            ContactEvent(
                decided,
                item.cp_decider,
                Action.ACCEPT_REFERRAL.value,
                ContactState.CP_DECISION,
                ContactState.REFERRAL_ACCEPTED,
                "seeded",
            )
        )
    completed = await clock(
        item.completion, received, item.completion_late, SIGNER, item.completion_open, item.worker
    )
    state = route_state
    if not item.completion_open:
        events.append(
            ContactEvent(
                completed,
                SIGNER,
                Action.SIGN_OFF.value,
                ContactState.AWAITING_SIGNOFF,
                ContactState.CLOSED,
            )
        )
        state = ContactState.CLOSED
    n = item.number
    await work.contacts.add(
        Contact(
            id=f"fig-{n}",
            created_by="officer-fig",
            created_at=received,
            state=state,
            reference=subject,
            received_at=received,
            source=SOURCES[n % len(SOURCES)],
            contact_type=TYPES[n % len(TYPES)],
            presenting_needs=frozenset({NEEDS[n % len(NEEDS)], NEEDS[(n // 2) % len(NEEDS)]}),
            immediate_risks=frozenset({ImmediateRisk.INJURY}) if item.urgent else frozenset(),
            assignee_id=None if state is ContactState.CLOSED else item.worker,
            events=tuple(events),
        )
    )
