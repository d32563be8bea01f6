"""Roles of SPEC §1 and what each may do.

A user's roles come from the role directory, keyed by the Teams user's Azure AD object id;
a user not in the directory is a ``professional``. Nothing a user types or a card sends back
ever grants a role.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    SOCIAL_WORKER = "social_worker"
    CONSULTANT = "consultant"
    DUTY_MANAGER = "duty_manager"
    TEAM_MANAGER = "team_manager"
    SERVICE_MANAGER = "service_manager"
    EDT = "edt"
    PROFESSIONAL = "professional"
    #: MASH partner-agency staff, tied to their agency (``frontdoor.agencies``)
    PARTNER = "partner"
    ADMIN = "admin"


class Permission(StrEnum):
    START_CONTACT = "start_contact"
    RECORD_HISTORY_CHECKS = "record_history_checks"
    OFFICER_WORK = "officer_work"
    SEND_LETTERS = "send_letters"
    VIEW_CONTACTS = "view_contacts"
    WORK_ALLOCATED = "work_allocated"
    THRESHOLD_DECISION = "threshold_decision"
    ALLOCATE = "allocate"
    SIGN_OFF = "sign_off"
    DECIDE_REREFERRAL = "decide_rereferral"
    HANDOVER = "handover"
    MANAGE_ROTA = "manage_rota"
    SEE_STATUS = "see_status"
    CHALLENGE_THRESHOLD = "challenge_threshold"
    #: the final word on a disagreement or a referrer's challenge that escalated (SPEC §3)
    SETTLE_ESCALATION = "settle_escalation"
    #: record that a referrer disagrees with the outcome (any front-door staff member)
    RECORD_REFERRER_CHALLENGE = "record_referrer_challenge"
    LOG_CONSULTATION = "log_consultation"
    SEE_ANY_CONSULTATION = "see_any_consultation"
    MANAGE_DIRECTORY = "manage_directory"
    REGISTER_CHANNELS = "register_channels"
    #: management information (SPEC §11): the ``figures`` card
    SEE_FIGURES = "see_figures"
    #: switch the front door to urgent-only mode and back (SPEC §10)
    SWITCH_CONTINUITY = "switch_continuity"
    #: take an item of the EDT handover and record what was done overnight (SPEC §10)
    OVERNIGHT_ACTION = "overnight_action"
    #: see the e-mail queue (SPEC §5a); taking an e-mail also needs ``START_CONTACT``
    MAIL_QUEUE = "mail_queue"
    #: open a MASH episode and record its multi-agency decision
    MASH_EPISODE = "mash_episode"
    #: answer the information requests sent to one's own agency
    ANSWER_AGENCY_REQUESTS = "answer_agency_requests"


_FRONT_DOOR_STAFF: frozenset[Permission] = frozenset(
    {
        Permission.VIEW_CONTACTS,
        Permission.LOG_CONSULTATION,
        Permission.SEE_ANY_CONSULTATION,
        Permission.RECORD_REFERRER_CHALLENGE,
    }
)

#: The permission table of SPEC §1. A team manager may do everything a consultant may.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: _FRONT_DOOR_STAFF
    | {
        Permission.START_CONTACT,
        Permission.RECORD_HISTORY_CHECKS,
        Permission.OFFICER_WORK,
        Permission.SEND_LETTERS,
        Permission.MAIL_QUEUE,
    },
    Role.SOCIAL_WORKER: _FRONT_DOOR_STAFF | {Permission.WORK_ALLOCATED},
    Role.CONSULTANT: _FRONT_DOOR_STAFF
    | {
        Permission.MAIL_QUEUE,
        Permission.START_CONTACT,
        Permission.RECORD_HISTORY_CHECKS,
        Permission.THRESHOLD_DECISION,
        Permission.ALLOCATE,
        Permission.SIGN_OFF,
        Permission.SEE_STATUS,
        Permission.MASH_EPISODE,
        Permission.SEE_FIGURES,
    },
    Role.DUTY_MANAGER: _FRONT_DOOR_STAFF
    | {
        Permission.MAIL_QUEUE,
        Permission.DECIDE_REREFERRAL,
        Permission.HANDOVER,
        Permission.MANAGE_ROTA,
        Permission.SEE_STATUS,
        Permission.SEE_FIGURES,
    },
    Role.TEAM_MANAGER: _FRONT_DOOR_STAFF
    | {
        Permission.MAIL_QUEUE,
        Permission.START_CONTACT,
        Permission.RECORD_HISTORY_CHECKS,
        Permission.THRESHOLD_DECISION,
        Permission.ALLOCATE,
        Permission.SIGN_OFF,
        Permission.SEE_STATUS,
        Permission.HANDOVER,
        Permission.CHALLENGE_THRESHOLD,
        Permission.SEE_FIGURES,
        Permission.SWITCH_CONTINUITY,
        Permission.MASH_EPISODE,
    },
    # The final word on disagreements the deciders and the receiving team could not settle, and on
    # referrer challenges that escalate; reads status and the figures (management information).
    Role.SERVICE_MANAGER: _FRONT_DOOR_STAFF
    | {
        Permission.SETTLE_ESCALATION,
        Permission.SEE_STATUS,
        Permission.SEE_FIGURES,
    },
    # The emergency duty team works out of hours: urgent contacts and child-protection breaches.
    Role.EDT: _FRONT_DOOR_STAFF | {Permission.OVERNIGHT_ACTION},
    Role.PROFESSIONAL: frozenset({Permission.LOG_CONSULTATION}),
    # A partner is a professional who also answers their agency's requests; nothing else.
    Role.PARTNER: frozenset({Permission.LOG_CONSULTATION, Permission.ANSWER_AGENCY_REQUESTS}),
    # Admins manage the directory and channels; no case access by virtue of this role.
    Role.ADMIN: frozenset(
        {Permission.MANAGE_DIRECTORY, Permission.REGISTER_CHANNELS, Permission.MANAGE_ROTA}
    ),
}


#: The managers (SPEC §1, §7): they may take any breach alert and act on any clock.
MANAGERS: frozenset[Role] = frozenset({Role.DUTY_MANAGER, Role.TEAM_MANAGER, Role.SERVICE_MANAGER})


#: How each role is named to people, e.g. in "only consultants or team managers can do that".
ROLE_TITLES: dict[Role, str] = {
    Role.OFFICER: "First Contact officers",
    Role.SOCIAL_WORKER: "social workers",
    Role.CONSULTANT: "consultants",
    Role.DUTY_MANAGER: "duty managers",
    Role.TEAM_MANAGER: "team managers",
    Role.SERVICE_MANAGER: "service managers",
    Role.EDT: "the emergency duty team",
    Role.PROFESSIONAL: "partner professionals",
    Role.PARTNER: "MASH partner-agency staff",
    Role.ADMIN: "administrators",
}


def effective_roles(stored: Iterable[Role]) -> frozenset[Role]:
    """The roles a user acts with: those stored, or ``professional`` when none are."""
    roles = frozenset(stored)
    return roles if roles else frozenset({Role.PROFESSIONAL})


def permissions_of(roles: Iterable[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in effective_roles(roles):
        granted |= PERMISSIONS[role]
    return frozenset(granted)


def may(roles: Iterable[Role], permission: Permission) -> bool:
    return permission in permissions_of(roles)


def parse_role(text: str) -> Role:
    """Parse a role key as typed by an administrator; raises ``ValueError`` naming the valid keys."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Role(key)
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {text!r}; valid roles: {valid}") from None
