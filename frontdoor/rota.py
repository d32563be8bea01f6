"""The duty rota (SPEC §6): who is on duty on a day in each of the roles the rota names
(``ROTA_ROLES``) and who could be, the date ``duty`` was asked about, and setting a day's rota from the
``duty`` card, each change audited as the command line audits it (``rota.set`` / ``rota.remove``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from frontdoor.acting import Who
from frontdoor.calendar import WorkingCalendar
from frontdoor.duty import _utc
from frontdoor.records import AuditEvent, RotaEntry
from frontdoor.roles import ROLE_TITLES, Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import Refusal, RefusalReason

__all__ = [
    "ROTA_REMOVE",
    "ROTA_ROLES",
    "ROTA_SET",
    "RotaChange",
    "RotaDay",
    "RotaPerson",
    "RotaSaved",
    "parse_rota_day",
    "rota_day",
    "set_rota",
]

#: The rota changes, audited as the command line audits them (subject ``rota:<day>``).
ROTA_SET = "rota.set"
ROTA_REMOVE = "rota.remove"

#: The roles the rota names people for, in the order the ``duty`` card shows them. An EDT entry for a
#: day covers that day's out-of-hours time: before opening and after closing, all day when it is not a
#: working day.
ROTA_ROLES: tuple[Role, ...] = (Role.CONSULTANT, Role.DUTY_MANAGER, Role.TEAM_MANAGER, Role.EDT)

#: ``duty <date>`` accepts dates this far from today (the bank holidays known to the bot).
_ROTA_PAST = timedelta(days=366)
_ROTA_FUTURE = timedelta(days=2 * 366)


@dataclass(frozen=True, slots=True)
class RotaPerson:
    person_id: str
    #: the Teams display name the directory holds ("" until the person has written to the bot)
    name: str

    @property
    def label(self) -> str:
        return self.name or self.person_id


@dataclass(frozen=True, slots=True)
class RotaDay:
    """Who is on duty on ``day`` in each of ``ROTA_ROLES``, and who could be (the directory)."""

    day: date
    working_day: bool
    on_duty: Mapping[Role, tuple[RotaPerson, ...]]
    choices: Mapping[Role, tuple[RotaPerson, ...]]


def _people(ids: Collection[str], names: Mapping[str, str]) -> tuple[RotaPerson, ...]:
    people = [RotaPerson(person, names.get(person, "")) for person in set(ids)]
    return tuple(sorted(people, key=lambda p: (p.label.casefold(), p.person_id)))


async def rota_day(uow: UnitOfWork, day: date, calendar: WorkingCalendar) -> RotaDay:
    async with uow:
        entries = await uow.rota.on(day)
        directory = await uow.roles.entries()
    names = {entry.aad_object_id: entry.display_name for entry in directory}
    return RotaDay(
        day=day,
        working_day=calendar.is_working_day(day),
        on_duty={
            role: _people({e.person_id for e in entries if e.role is role}, names) for role in ROTA_ROLES
        },
        choices={
            role: _people({e.aad_object_id for e in directory if role in e.roles}, names)
            for role in ROTA_ROLES
        },
    )


def parse_rota_day(text: str, today: date) -> date | str:
    """The date ``duty`` was asked about: nothing or ``today`` for today, ``tomorrow``, or an ISO
    date (2026-03-17) within a year back and two years ahead. Otherwise the message to show."""
    cleaned = text.strip().lower()
    if cleaned in ("", "today"):
        return today
    if cleaned == "tomorrow":
        return today + timedelta(days=1)
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        shown = cleaned if len(cleaned) <= 20 and cleaned.isprintable() else "that"
        return (
            f"“{shown}” is not a date I can read. Type **duty** with a date as YYYY-MM-DD, "
            "e.g. **duty 2026-03-17**."
        )
    if not today - _ROTA_PAST <= day <= today + _ROTA_FUTURE:
        return (
            "The rota can be seen and set from a year back to two years ahead; choose a date in that range."
        )
    return day


@dataclass(frozen=True, slots=True)
class RotaChange:
    role: Role
    person_id: str
    #: True: put on duty; False: taken off
    added: bool


@dataclass(frozen=True, slots=True)
class RotaSaved:
    day: date
    changes: tuple[RotaChange, ...]


async def set_rota(
    uow: UnitOfWork, day: date, wanted: Mapping[Role, Collection[str]], *, who: Who, now: datetime
) -> RotaSaved | Refusal:
    """Make the rota of ``day`` name exactly ``wanted[role]`` for each role given (roles not given
    are left alone). Everyone put on duty must hold the role in the directory. Each change is
    audited like the command line's (``rota.set`` / ``rota.remove``, subject ``rota:<day>``)."""
    now = _utc(now)
    if not may(who.roles, Permission.MANAGE_ROTA):
        return Refusal(RefusalReason.NOT_PERMITTED, "Only duty managers or administrators can set the rota.")
    unknown = [role for role in wanted if role not in ROTA_ROLES]
    if unknown:
        return Refusal(RefusalReason.INVALID, f"The rota has no place for {unknown[0].value}.")
    changes: list[RotaChange] = []
    async with uow:
        current = await uow.rota.on(day)
        for role in ROTA_ROLES:
            if role not in wanted:
                continue
            want = set(wanted[role])
            have = {entry.person_id for entry in current if entry.role is role}
            holders = {entry.aad_object_id for entry in await uow.roles.holders(role)}
            if want - have - holders:
                singular = ROLE_TITLES[role].removesuffix("s")
                return Refusal(
                    RefusalReason.INVALID,
                    f"Someone chosen as {singular} is not listed as one of the {ROLE_TITLES[role]}: "
                    "nothing was changed.",
                )
            changes += [RotaChange(role, person, False) for person in sorted(have - want)]
            changes += [RotaChange(role, person, True) for person in sorted(want - have)]
        subject = f"rota:{day.isoformat()}"
        # Every change before the first audit row: someone saving the same day's rota at the same
        # time may hold one of its rows, and waiting for it after appending to the audit chain
        # would hold the chain's lock (PostgreSQL) while they, appending, waited for it: a deadlock.
        for change in changes:
            entry = RotaEntry(day, change.role, change.person_id)
            if change.added:
                await uow.rota.set(entry)
            else:
                await uow.rota.remove(entry)
        for change in changes:
            action = ROTA_SET if change.added else ROTA_REMOVE
            detail = f"{change.role.value}:{change.person_id}"
            await uow.audit.append(AuditEvent(now, who.actor_id, action, subject, detail))
        await uow.commit()
    return RotaSaved(day, tuple(changes))
