"""Who a deadline alert is for (SPEC §7): the staffing on a day (the rota, the directory and the MASH
partners; everyone holding a role when nobody is on the rota in it) and ``recipients_for``, which
turns an alert's kind, the assignee and the day into the people and channels told, out of hours the
emergency duty team.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from frontdoor.agencies import Agency, agency_of_subject
from frontdoor.alerts import DUTY_CHANNEL, EDT_CHANNEL, AlertKind, Recipient
from frontdoor.records import ClockKind, Deadline, DirectoryEntry, RotaEntry
from frontdoor.roles import Role

__all__ = [
    "PARTNER_CLOCKS",
    "Staffing",
    "recipients_for",
]


#: The clocks of MASH partners' information requests: their alerts go to the partners asked too.
PARTNER_CLOCKS = frozenset({ClockKind.MASH_REQUEST_URGENT, ClockKind.MASH_REQUEST})


#: The alerts about a running clock (as opposed to the handover and reminders).
_CLOCK_ALERTS = frozenset({AlertKind.DUE_SOON, AlertKind.BREACHED, AlertKind.REPEAT, AlertKind.ESCALATION})


@dataclass(frozen=True, slots=True)
class Staffing:
    """Who is on duty on which day (the rota) and who holds which role (the directory), for
    resolving recipients. When nobody is on the rota in a role that day, everyone holding the role
    is used instead: better everyone than nobody."""

    rota: frozenset[RotaEntry] = field(default_factory=frozenset)
    directory: tuple[DirectoryEntry, ...] = ()
    #: (person, agency) of the MASH partners, who are chased about their agency's requests
    partners: tuple[tuple[str, Agency], ...] = ()
    #: an EDT channel is registered: the service uses the bot out of hours (SPEC §10)
    edt_channel: bool = False

    @classmethod
    def of(
        cls,
        rota: Iterable[RotaEntry] = (),
        directory: Iterable[DirectoryEntry] = (),
        partners: Iterable[tuple[str, Agency]] = (),
        *,
        edt_channel: bool = False,
    ) -> Staffing:
        return cls(frozenset(rota), tuple(directory), tuple(partners), edt_channel)

    def partners_asked(self, deadline: Deadline) -> tuple[Recipient, ...]:
        """The partners holding the ``partner`` role whose agency a request's deadline is about."""
        agency = agency_of_subject(deadline.subject) if deadline.clock in PARTNER_CLOCKS else None
        if agency is None:
            return ()
        holders = set(self.holders(Role.PARTNER))
        people = sorted({p for p, theirs in self.partners if theirs is agency and p in holders})
        return tuple(Recipient.person(p) for p in people)

    def on_rota(self, role: Role, day: date) -> tuple[str, ...]:
        return tuple(sorted({e.person_id for e in self.rota if e.role is role and e.day == day}))

    def holders(self, role: Role) -> tuple[str, ...]:
        return tuple(sorted({e.aad_object_id for e in self.directory if role in e.roles}))

    def on_duty(self, role: Role, day: date) -> tuple[str, ...]:
        """Those on the rota in ``role`` on ``day``, or every holder of ``role`` if nobody is."""
        return self.on_rota(role, day) or self.holders(role)


def recipients_for(
    kind: AlertKind,
    assignee_id: str | None,
    day: date,
    staffing: Staffing,
    *,
    clock: ClockKind | None = None,
    out_of_hours: bool = False,
) -> tuple[Recipient, ...]:
    """Who gets an alert of ``kind`` on ``day`` (SPEC §7):

    - due soon and a lapsed parent letter: the assignee, or the consultants on duty when unassigned;
    - breached and repeats: those, and the duty channel;
    - escalations: the team managers on duty, and the duty channel;
    - the handover and MARAC reminders: the duty channel;
    - an e-mail left untaken: the duty managers on duty.

    Out of office hours (SPEC §10) every alert about a child-protection clock (an urgent contact's
    or a route I decision's) goes to the emergency duty team instead: the EDT staff on the rota
    that day (every EDT holder when nobody is) and the EDT channel, never to day staff. That needs a
    registered EDT channel (``staffing.edt_channel``): a service without one does not use the bot out
    of hours, so its alerts go to day staff and the duty channel as in office hours, as its EDT
    handover is not posted either (``frontdoor.edt``), rather than to nobody.

    Never empty: with nobody to tell in person, the duty channel is told.
    """
    if out_of_hours and staffing.edt_channel and clock is ClockKind.CP_DECISION and kind in _CLOCK_ALERTS:
        edt = [Recipient.person(person) for person in staffing.on_duty(Role.EDT, day)]
        return (*edt, EDT_CHANNEL)
    people: tuple[str, ...]
    channel = True
    match kind:
        case AlertKind.DUE_SOON | AlertKind.LETTER_LAPSED:
            people = (assignee_id,) if assignee_id else staffing.on_duty(Role.CONSULTANT, day)
            channel = False
        case AlertKind.BREACHED | AlertKind.REPEAT:
            people = (assignee_id,) if assignee_id else staffing.on_duty(Role.CONSULTANT, day)
        case AlertKind.ESCALATION | AlertKind.HANDOVER_ESCALATION:
            people = staffing.on_duty(Role.TEAM_MANAGER, day)
        case AlertKind.MAIL_UNTAKEN:
            people = staffing.on_duty(Role.DUTY_MANAGER, day)
            channel = False
        case _:
            people = ()
    found = [Recipient.person(person) for person in dict.fromkeys(people)]
    if channel or not found:
        found.append(DUTY_CHANNEL)
    return tuple(found)
