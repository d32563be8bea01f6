"""The personal card about a contact (``bot.cards.work``) for one person, as the role directory and
the contact say they should see it: the casework while the contact is theirs, the outcome letter
(a draft before sign-off, the letter produced after it), and the receiving team's challenge.

Used by the decisions feature (the assignee's card after routes III and IV and a re-referral's
reassignment; the letter to the person who recorded the outcome after sign-off) and by the casework
feature (every answer to an action on the card). The viewer's roles always come from the directory
(the turn's ``Actor`` or ``roles_of``), never from a card.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.cards.challenge import ChallengeView, ReferrerView
from bot.cards.work import PersonalView, personal_card
from bot.dialogs.contacts import ContactRecords
from bot.routing import Actor
from frontdoor.calendar import WorkingCalendar
from frontdoor.casework import (
    answerers,
    challenge_status,
    challenge_window,
    may_record_stage,
    referrer_challenge,
)
from frontdoor.contact import Contact, ContactState
from frontdoor.letters import outcome_letter
from frontdoor.outcomes import current_outcome
from frontdoor.policy import Policy
from frontdoor.ports import Clock
from frontdoor.roles import Permission, Role, may
from frontdoor.unit_of_work import Store
from frontdoor.usecase import open_deadlines
from frontdoor.worklog import outcome_letter_status, parent_letter

__all__ = ["PersonalCards"]

_WORKED_STATES = (ContactState.OFFICER_WORK, ContactState.SW_ASSESSMENT)
#: A MASH episode is opened while the threshold decision is being made or the contact is worked.
_MASH_STATES = frozenset(ContactState) - {ContactState.DRAFT, ContactState.CLOSED}


def _may_work(contact: Contact, roles: frozenset[Role]) -> bool:
    needed = (
        Permission.OFFICER_WORK if contact.state is ContactState.OFFICER_WORK else Permission.WORK_ALLOCATED
    )
    return may(roles, needed)


class PersonalCards:
    def __init__(self, store: Store, clock: Clock, calendar: WorkingCalendar, policy: Policy) -> None:
        self._store = store
        self._clock = clock
        self._calendar = calendar
        self._policy = policy
        self._records = ContactRecords(store, clock)

    async def shown_to(
        self, contact: Contact, actor: Actor, *, notice: str = "", notice_ok: bool = False
    ) -> dict[str, Any]:
        """The personal card as the answer to ``actor``'s own press: the full record, so the read
        is audited (``contact.viewed``)."""
        card = await self.card_for(
            contact, actor.aad_object_id, actor.roles, notice=notice, notice_ok=notice_ok
        )
        await self._records.viewed(
            actor, contact.reference or "", f"via=personal_card; from={actor.conversation_id}"
        )
        return card

    async def roles_of(self, person_id: str) -> frozenset[Role]:
        async with self._store.unit_of_work() as uow:
            return await uow.roles.roles_of(person_id)

    def challenge_view(self, contact: Contact, viewer_id: str, roles: Iterable[Role]) -> ChallengeView | None:
        """The receiving team's challenge part for ``viewer_id`` with ``roles``, or None when there
        is nothing for them: the contact is not signed off as accepted, or they take no part."""
        roles = frozenset(roles)
        if contact.state is not ContactState.CLOSED:
            return None
        until = challenge_window(contact, self._calendar, self._policy)
        recorded = current_outcome(contact)
        if until is None or recorded is None:
            return None
        status = challenge_status(contact)
        challenger = status is not None and status.raised_by == viewer_id
        answering = viewer_id in answerers(contact) and (
            may(roles, Permission.THRESHOLD_DECISION) or may(roles, Permission.DECIDE_REREFERRAL)
        )
        escalated = status is not None and status.escalated
        settling = escalated and may(roles, Permission.SETTLE_ESCALATION) and not challenger
        view = ChallengeView(
            reference=contact.reference or "",
            version=contact.version,
            now=self._clock.now(),
            until=until,
            status=status,
            may_raise=may(roles, Permission.CHALLENGE_THRESHOLD)
            and recorded.outcome.receiving_manager_id == viewer_id,
            may_discuss=challenger or answering or settling,
            may_escalate=challenger or answering,
            may_resolve=settling if escalated else answering and not challenger,
        )
        seen = view.may_raise or view.may_discuss or may(roles, Permission.THRESHOLD_DECISION)
        return view if seen else None

    def referrer_view(self, contact: Contact, roles: Iterable[Role]) -> ReferrerView | None:
        """The referrer's challenge part, for front-door staff, once the contact is closed."""
        roles = frozenset(roles)
        if contact.state is not ContactState.CLOSED or not may(roles, Permission.RECORD_REFERRER_CHALLENGE):
            return None
        challenge = referrer_challenge(contact)
        stage = challenge.next_stage if challenge is not None else None
        return ReferrerView(
            reference=contact.reference or "",
            version=contact.version,
            challenge=challenge,
            may_record=True,
            may_step=stage is not None and may_record_stage(stage, roles),
        )

    async def card_for(
        self,
        contact: Contact,
        viewer_id: str,
        roles: Iterable[Role],
        *,
        heading: str = "",
        notice: str = "",
        notice_ok: bool = False,
    ) -> dict[str, Any]:
        """The personal card ``viewer_id`` (with ``roles``) should see for ``contact`` now. The caller
        has checked that the viewer may see contacts at all."""
        roles = frozenset(roles)
        now = self._clock.now()
        reference = contact.reference or ""
        async with self._store.unit_of_work() as uow:
            deadlines = await open_deadlines(uow, reference)
            entries = await uow.roles.entries()
            managers = await uow.roles.holders(Role.TEAM_MANAGER)
        names = {entry.aad_object_id: entry.display_name for entry in entries}
        recorded = current_outcome(contact)
        letter = outcome_letter_status(contact)
        draft = None
        if recorded is not None and letter is None and contact.state is ContactState.AWAITING_SIGNOFF:
            draft = outcome_letter(contact, recorded.outcome, now)
        may_send = (
            letter is not None
            and letter.referrer_told
            and letter.sent_at is None
            and (
                may(roles, Permission.SEND_LETTERS)
                or (recorded is not None and recorded.decided_by == viewer_id)
            )
        )
        view = PersonalView(
            contact=contact,
            deadlines=deadlines,
            now=now,
            names=names,
            managers=sorted(
                ((m.aad_object_id, m.display_name or m.aad_object_id) for m in managers),
                key=lambda pair: (pair[1].casefold(), pair[0]),
            ),
            heading=heading,
            notice=notice,
            notice_ok=notice_ok,
            casework=contact.state in _WORKED_STATES
            and contact.assignee_id == viewer_id
            and _may_work(contact, roles),
            parent_letter=parent_letter(contact, deadlines),
            outcome=recorded,
            draft_letter=draft,
            letter=letter,
            may_send_letter=may_send,
            challenge=self.challenge_view(contact, viewer_id, roles),
            referrer=self.referrer_view(contact, roles),
            may_open_mash=may(roles, Permission.MASH_EPISODE) and contact.state in _MASH_STATES,
        )
        return personal_card(view)
