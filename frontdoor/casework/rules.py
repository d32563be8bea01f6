"""Rules the casework sections share: who may work an allocated contact, who may take the
child-protection decision, and the audit rows and the outcome letter every section writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from frontdoor.casework.values import CaseworkAction
from frontdoor.contact import Contact, ContactState
from frontdoor.letters import outcome_letter
from frontdoor.lifecycle import Action
from frontdoor.outcomes import Outcome, note
from frontdoor.roles import Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import Refusal, RefusalReason, audit_event, not_permitted, wrong_state

_ASSIGNED_STATES = (ContactState.SW_ASSESSMENT, ContactState.OFFICER_WORK)
WORKERS = (Role.SOCIAL_WORKER, Role.OFFICER)
DECIDERS = (Role.CONSULTANT, Role.TEAM_MANAGER)


def invalid(*problems: str) -> Refusal:
    return Refusal(RefusalReason.INVALID, "Please check: " + "; ".join(problems))


def assigned_work(contact: Contact, actor_id: str, roles: Iterable[Role], doing: str) -> Refusal | None:
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


def may_decide_cp(contact: Contact, roles: Iterable[Role]) -> bool:
    roles = frozenset(roles)
    if may(roles, Permission.THRESHOLD_DECISION):
        return True
    return may(roles, Permission.DECIDE_REREFERRAL) and _entered_by_rereferral(contact)


async def audit_contact(
    uow: UnitOfWork, now: datetime, actor_id: str, action: str, subject: str, detail: str = ""
) -> None:
    await uow.audit.append(audit_event(now, actor_id, f"contact.{action}", subject, detail))


def with_letter(
    contact: Contact, outcome: Outcome, actor_id: str, now: datetime, service_name: str
) -> tuple[Contact, str | None]:
    """``contact`` with the outcome letter (or "referrer not told") recorded."""
    letter = outcome_letter(contact, outcome, now, service_name=service_name)
    if letter is None:
        return note(contact, actor_id, now, CaseworkAction.REFERRER_NOT_TOLD), None
    return note(
        contact, actor_id, now, CaseworkAction.OUTCOME_LETTER_PRODUCED, values={"letter": letter}
    ), letter


async def audit_letter(
    uow: UnitOfWork, now: datetime, actor_id: str, subject: str, letter: str | None
) -> None:
    action = (
        CaseworkAction.OUTCOME_LETTER_PRODUCED if letter is not None else CaseworkAction.REFERRER_NOT_TOLD
    )
    await audit_contact(uow, now, actor_id, action.value, subject)
