"""The referrer's challenge to a closed contact's outcome, stage by stage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from frontdoor.acting import Who
from frontdoor.calendar import require_aware
from frontdoor.casework.rules import DECIDERS, audit_contact, invalid
from frontdoor.casework.values import CaseworkAction
from frontdoor.contact import Contact, ContactState
from frontdoor.outcomes import DataValue, current_outcome, note, read_event_data
from frontdoor.roles import Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import AlreadyDecided, Refusal, load_contact, not_permitted, save_or_race, wrong_state


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
    ReferrerStage.DISCUSSION: (DECIDERS, "record the discussion of a referrer's challenge"),
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
    uow: UnitOfWork, contact_id: str, grounds: str, *, who: Who, now: datetime
) -> ReferrerChallengeRecorded | Refusal | AlreadyDecided:
    """A referrer disagrees with the outcome of a closed contact: staff record it, with what the
    referrer said; a consultant or team manager discusses it next."""
    require_aware(now, "now")
    if not may(who.roles, Permission.RECORD_REFERRER_CHALLENGE):
        return not_permitted((Role.OFFICER, *DECIDERS), "record a referrer's challenge")
    if not grounds.strip():
        return invalid("What the referrer disagrees with: say what they said")
    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, None)
        if not isinstance(loaded, Contact):
            return loaded
        if loaded.state is not ContactState.CLOSED or current_outcome(loaded) is None:
            return wrong_state(loaded, "challenged by the referrer (only a closed contact's outcome can be)")
        current = referrer_challenge(loaded)
        if current is not None and current.open:
            return invalid("the referrer's challenge of this contact is still open: record its next step")
        return await _referrer_event(
            uow, loaded, who.actor_id, now, CaseworkAction.REFERRER_CHALLENGE_RAISED, grounds, {}, detail=""
        )


async def record_referrer_challenge_step(
    uow: UnitOfWork,
    contact_id: str,
    result: ReferrerResult,
    notes: str,
    agency_lead: str,
    *,
    who: Who,
    now: datetime,
) -> ReferrerChallengeRecorded | Refusal | AlreadyDecided:
    """The next step of an open referrer challenge, with its result: the discussion (a consultant or
    team manager), then, if it remains, a team manager with the agency's lead, then the service
    manager with the agency's lead. The two later steps name the agency's lead."""
    require_aware(now, "now")
    if not notes.strip():
        return invalid("Notes: say what was discussed and decided")
    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, None)
        if not isinstance(loaded, Contact):
            return loaded
        current = referrer_challenge(loaded)
        stage = current.next_stage if current is not None else None
        if stage is None:
            return wrong_state(
                loaded, "given a referrer challenge step (there is no open referrer challenge)"
            )
        if not may_record_stage(stage, who.roles):
            stage_roles, doing = _STAGE_WHO[stage]
            return not_permitted(stage_roles, doing)
        lead = agency_lead.strip()
        if stage is not ReferrerStage.DISCUSSION and not lead:
            return invalid("The agency's lead: name who took part for the referrer's agency")
        values: dict[str, DataValue] = {"stage": stage.value, "result": result.value}
        if lead:
            values["agency_lead"] = lead
        detail = f"stage={stage.value}; result={result.value}"
        return await _referrer_event(
            uow, loaded, who.actor_id, now, CaseworkAction.REFERRER_CHALLENGE_STEP, notes, values, detail
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
    await audit_contact(uow, now, actor_id, action.value, saved.reference or "", detail)
    await uow.commit()
    challenge = referrer_challenge(saved)
    assert challenge is not None
    return ReferrerChallengeRecorded(saved, challenge)
