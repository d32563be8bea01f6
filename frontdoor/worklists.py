"""The work lists of SPEC §6: ``my work`` (what is assigned to me, with due times) and ``queue``
(contacts awaiting screening, urgent then oldest).

Both are read-only use cases for anyone whose role lets them view contacts. Each contact is shown
through its ``ChannelSummary`` (``frontdoor.views``): reference, state, urgency, contact type, the
children's initials and ages, and its earliest open clock with that clock's RAG. That is the
minimised view of SPEC §8, so a list never names a child, a family or a referrer (an anonymous
member of the public included), whether it is read in a personal chat or a channel; "View" on a
line gives the full record to someone allowed to see it.

- *My work* is the open contacts assigned to the person, and those holding an open clock assigned
  to them (the two normally agree; a clock handed on without its contact still shows up). Urgent
  first, then by next due time; a contact with no open clock comes last.
- *The queue* is every contact awaiting screening: urgent first, then the oldest received first,
  with the screening clock's due time and the repeat flag (the earlier contacts about the same child
  that intake found and recorded at submission, as the decision card shows them). Above them, any
  *urgent call not yet created*: a draft with a yes on its immediate-risk screen whose emergency
  details were not saved (the officer was called away), with who started it and when, so a
  consultant can ask them; it names nothing about the child.

A list is cut to ``limit`` lines (a Teams card has a size limit); ``WorkList.more`` says how many
were left off, and they are always the least pressing ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from frontdoor.acting import Rules, Who
from frontdoor.calendar import require_aware
from frontdoor.contact import ContactState
from frontdoor.handover import OPEN_STATES
from frontdoor.records import ClockKind, Deadline, DeadlineState
from frontdoor.repeats import recorded_repeat_of
from frontdoor.roles import Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import Refusal, not_permitted
from frontdoor.views import ChannelSummary, channel_summary

__all__ = [
    "URGENT_DRAFTS_NAMED",
    "URGENT_DRAFTS_NAMED_FOR",
    "WORKLIST_LIMIT",
    "UrgentDraft",
    "WorkItem",
    "WorkList",
    "my_work",
    "screening_queue",
]

#: The most lines a work list shows; with each line's View button the card stays well under the
#: 28 KB Microsoft gives as the size of a Teams post (the bot's own limit is larger).
WORKLIST_LIMIT = 20
#: How long an urgent call left in a draft is named on the queue card; older ones are counted, with
#: when the oldest was started, so a dropped call never cancelled neither floods the card nor goes.
URGENT_DRAFTS_NAMED_FOR = timedelta(hours=24)
#: The most of them the queue card names; the rest are counted.
URGENT_DRAFTS_NAMED = 5

#: Who may see the lists: everyone who may view contacts (SPEC §1).
_VIEWERS = (Role.OFFICER, Role.SOCIAL_WORKER, Role.CONSULTANT, Role.DUTY_MANAGER, Role.TEAM_MANAGER)


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One line of a work list."""

    summary: ChannelSummary
    #: the screening clock's due time, when it is open (the queue shows it)
    screening_due_at: datetime | None = None
    #: references of earlier contacts about the same child in the repeat window (the queue)
    repeat_of: tuple[str, ...] = ()

    @property
    def reference(self) -> str:
        return self.summary.reference


@dataclass(frozen=True, slots=True)
class UrgentDraft:
    """A draft with a yes on its immediate-risk screen whose emergency details are not saved yet,
    so no urgent contact exists and no consultant has been told: who started it, and when. Nothing
    about the child (the queue may be shown in a channel)."""

    officer_id: str
    officer_name: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class WorkList:
    """The lines shown, most pressing first, and how many there are in all."""

    items: tuple[WorkItem, ...]
    total: int
    #: the queue only: urgent calls still in a draft, newest first (never cut: each is a child at
    #: immediate risk that no consultant has been told of; the card names the recent ones)
    urgent_drafts: tuple[UrgentDraft, ...] = ()

    @property
    def more(self) -> int:
        """How many lines were left off the end."""
        return self.total - len(self.items)

    @property
    def empty(self) -> bool:
        return self.total == 0 and not self.urgent_drafts


def _refused(roles: Iterable[Role]) -> Refusal | None:
    if may(roles, Permission.VIEW_CONTACTS):
        return None
    return not_permitted(_VIEWERS, "see the work lists")


def _by_subject(deadlines: Iterable[Deadline]) -> dict[str, list[Deadline]]:
    grouped: defaultdict[str, list[Deadline]] = defaultdict(list)
    for deadline in deadlines:
        if deadline.state is DeadlineState.OPEN:
            grouped[deadline.subject].append(deadline)
    return grouped


def _cut(items: Sequence[WorkItem], limit: int) -> WorkList:
    if limit < 1:
        raise ValueError(f"a work list shows at least one line, not {limit}")
    return WorkList(tuple(items[:limit]), len(items))


# -- my work --------------------------------------------------------------------------------------


async def my_work(
    uow: UnitOfWork, *, who: Who, rules: Rules, limit: int = WORKLIST_LIMIT
) -> WorkList | Refusal:
    """The open contacts assigned to ``person_id``: urgent first, then by next due time."""
    require_aware(rules.now, "now")
    if (refused := _refused(who.roles)) is not None:
        return refused
    async with uow:
        found = {c.id: c for c in await uow.contacts.assigned_to(who.actor_id, sorted(OPEN_STATES))}
        held = {c.reference for c in found.values()}
        for subject in sorted(
            {d.subject for d in await uow.deadlines.open_for_assignee(who.actor_id)} - held
        ):
            contact = await uow.contacts.get_by_reference(subject)
            if contact is not None and contact.state in OPEN_STATES:
                found[contact.id] = contact
        contacts = [c for c in found.values() if c.reference is not None]
        deadlines = _by_subject(await uow.deadlines.open_for_subjects([c.reference or "" for c in contacts]))

    items = [
        WorkItem(
            channel_summary(c, deadlines.get(c.reference or "", ()), rules.now, rules.calendar, rules.policy)
        )
        for c in contacts
    ]

    def order(item: WorkItem) -> tuple[bool, bool, datetime, datetime, str]:
        summary = item.summary
        due = summary.due_at or rules.now
        received = summary.received_at or rules.now
        return (not summary.urgent, summary.due_at is None, due, received, summary.reference)

    items.sort(key=order)
    return _cut(items, limit)


# -- the screening queue --------------------------------------------------------------------------


async def screening_queue(
    uow: UnitOfWork, roles: Iterable[Role], *, rules: Rules, limit: int = WORKLIST_LIMIT
) -> WorkList | Refusal:
    """The contacts awaiting screening: urgent first, then the oldest received first."""
    require_aware(rules.now, "now")
    if (refused := _refused(roles)) is not None:
        return refused
    async with uow:
        waiting = [
            c
            for c in await uow.contacts.list_by_state([ContactState.AWAITING_SCREENING])
            if c.reference is not None and c.received_at is not None
        ]
        deadlines = _by_subject(await uow.deadlines.open_for_subjects([c.reference or "" for c in waiting]))
        urgent_drafts = await _urgent_drafts(uow)

    items: list[WorkItem] = []
    for contact in waiting:
        held = deadlines.get(contact.reference or "", [])
        repeat_of = recorded_repeat_of(contact)
        screening = next((d.due_at for d in held if d.clock is ClockKind.SCREENING), None)
        summary = channel_summary(
            contact, held, rules.now, rules.calendar, rules.policy, repeat=bool(repeat_of)
        )
        items.append(WorkItem(summary, screening_due_at=screening, repeat_of=repeat_of))

    def order(item: WorkItem) -> tuple[bool, datetime, str]:
        return (not item.summary.urgent, item.summary.received_at or rules.now, item.summary.reference)

    items.sort(key=order)
    return replace(_cut(items, limit), urgent_drafts=urgent_drafts)


async def _urgent_drafts(uow: UnitOfWork) -> tuple[UrgentDraft, ...]:
    """Drafts with a yes on the risk screen and no contact created yet (SPEC §3: any yes goes to a
    consultant at once): an officer called away before the emergency details card was saved.
    Newest first; every one of them, however old (the card names the recent ones and counts the
    rest)."""
    drafts = [c for c in await uow.contacts.list_by_state([ContactState.DRAFT]) if c.urgent]
    if not drafts:
        return ()
    names = {entry.aad_object_id: entry.display_name for entry in await uow.roles.entries()}
    drafts.sort(key=lambda c: c.created_at, reverse=True)
    return tuple(
        UrgentDraft(c.created_by, names.get(c.created_by) or c.created_by, c.created_at) for c in drafts
    )
