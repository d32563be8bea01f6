"""Plain records that cross the ports: audit events, conversations, channels, rota, deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from frontdoor.roles import Role


class ConversationKind(StrEnum):
    PERSONAL = "personal"
    GROUP_CHAT = "groupChat"
    CHANNEL = "channel"


class ChannelPurpose(StrEnum):
    DECISIONS = "decisions"
    DUTY = "duty"
    #: the emergency duty team's channel: out-of-hours alerts and the EDT handover (SPEC §10)
    EDT = "edt"


class ClockKind(StrEnum):
    """The clocks of SPEC §4."""

    SCREENING = "screening"
    CP_DECISION = "cp_decision"
    COMPLETION_24H = "completion_24h"
    COMPLETION_48H = "completion_48h"
    REREFERRAL_RECOMMENDATION = "rereferral_recommendation"
    PARENT_LETTER = "parent_letter"
    #: the worker's review of a contact whose parent letter lapsed: theirs, not a screening decision
    LETTER_REVIEW = "letter_review"
    CHALLENGE = "challenge"
    #: a MASH partner's information request (SPEC §9), urgent or not
    MASH_REQUEST_URGENT = "mash_request_urgent"
    MASH_REQUEST = "mash_request"
    #: a CAFCASS or Ofsted information request, due at the end of the working day it is due on
    BODY_REQUEST = "body_request"
    #: an information request to a linked child's team, due back before the MARAC meeting
    MARAC_REQUEST = "marac_request"


class DeadlineState(StrEnum):
    """Where a clock stands. SPEC §3: a clock closed by its due time is met, one closed after it
    is late (never met); a clock that stopped mattering by its due time (the contact went another
    way) is cancelled, one that stopped mattering after it is late. A parent letter that lapsed
    (its window ran out without the parents making contact) is late."""

    OPEN = "open"
    MET = "met"
    LATE = "late"
    CANCELLED = "cancelled"


class LateReason(StrEnum):
    """Why a clock ran late (SPEC §11 "breaches with reasons"): a fixed list, never free text,
    recorded on the breach alert card (``frontdoor.late_reasons``)."""

    AGENCY_INFORMATION = "agency_information"
    CONSENT = "consent"
    VOLUME = "volume"
    OUT_OF_HOURS = "out_of_hours"
    SYSTEM = "system"
    OTHER = "other"


#: The actor the retention job's deletions and removals of personal data are audited as.
RETENTION_ACTOR: Final = "system:retention"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """Who did what to which record, when. Never carries free text about a child."""

    at: datetime
    actor_id: str
    action: str
    subject: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class StoredAuditEvent:
    seq: int
    event: AuditEvent
    prev_hash: str
    row_hash: str


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """A chat or channel the bot can message later.

    ``reference`` is the channel adapter's serialized conversation reference (JSON text),
    opaque to the domain.
    """

    conversation_id: str
    kind: ConversationKind
    tenant_id: str
    service_url: str
    reference: str
    updated_at: datetime
    user_id: str | None = None
    team_id: str | None = None
    channel_id: str | None = None
    dead: bool = False
    dead_reason: str = ""


@dataclass(frozen=True, slots=True)
class ChannelRegistration:
    purpose: ChannelPurpose
    conversation_id: str
    registered_by: str
    registered_at: datetime


#: The longest team name the role directory keeps (``DirectoryEntry.team``).
TEAM_NAME_MOST = 80


def team_name(text: str) -> str | None:
    """``text`` as a team's name, spaces tidied ("" for none); None when it is too long or holds
    a control character."""
    name = " ".join(text.split())
    if len(name) > TEAM_NAME_MOST or any(not ch.isprintable() for ch in name):
        return None
    return name


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    aad_object_id: str
    roles: frozenset[Role]
    display_name: str = ""
    #: the team they work in ("" for none recorded): the figures narrow and group by it
    team: str = ""


@dataclass(frozen=True, slots=True)
class RotaEntry:
    day: date
    role: Role
    person_id: str


@dataclass(frozen=True, slots=True)
class Deadline:
    subject: str
    clock: ClockKind
    started_at: datetime
    due_at: datetime
    state: DeadlineState = DeadlineState.OPEN
    assignee_id: str | None = None
    id: int | None = None
    #: when the clock closed (met, late or cancelled); None while it is open
    closed_at: datetime | None = None
    #: why it ran late, as recorded on the breach alert card; None: no reason recorded
    late_reason: LateReason | None = None
    #: who closed it (the person whose action closed it, or a ``system:`` actor for the scheduler);
    #: None while it is open, or closed before this was recorded with no event to tell
    closed_by: str | None = None
