"""The managers' export of the consultations of SPEC §2 as CSV, for a spreadsheet.

``export_consultations`` lists the consultations created in a period for a team or duty manager
and audits the export: how many, the period, and whether the free text was included. Without the
free text a row holds no names of the professionals and nothing anyone typed about a worry; with
it, each consultation's full record is in the file, so each is also audited as viewed, by
reference. Every cell that a spreadsheet program would run as a formula is defused
(CSV injection).

The consultations themselves, and the unit of work this reads them through, are in
``frontdoor.consultation``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from frontdoor.acting import Who
from frontdoor.calendar import LONDON, require_aware
from frontdoor.consultation import Consultation, ConsultationUnitOfWork
from frontdoor.records import AuditEvent
from frontdoor.roles import Role

__all__ = [
    "CSV_COLUMNS",
    "MANAGER_ROLES",
    "TEXT_COLUMNS",
    "ExportOutcome",
    "ExportResult",
    "consultations_csv",
    "export_consultations",
]

#: Who may export consultations. The role table has no export permission yet; when ``roles`` gains
#: one, this set should give way to it.
MANAGER_ROLES: frozenset[Role] = frozenset({Role.TEAM_MANAGER, Role.DUTY_MANAGER})

# Audit actions; the detail never carries free text.
ACTION_EXPORT = "consultation.export"
#: A consultation's full record shown to someone (the same row ``find PC-…`` writes).
ACTION_VIEWED = "consultation.viewed"


class ExportOutcome(StrEnum):
    EXPORTED = "exported"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class ExportResult:
    outcome: ExportOutcome
    csv_text: str = ""
    count: int = 0
    message: str = ""


#: The columns every export has: no free text and no names of the professionals.
CSV_COLUMNS: tuple[str, ...] = (
    "reference",
    "created (Europe/London)",
    "agency",
    "role",
    "logged on behalf",
    "logged by",
    "advised by",
    "linked contact",
    "saved despite warnings",
)
#: Added by ``with_text``: what people typed, including the professional's name and number.
TEXT_COLUMNS: tuple[str, ...] = (
    "professional name",
    "phone",
    "worry",
    "advice",
    "override reason",
)

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def consultations_csv(
    consultations: Iterable[Consultation],
    *,
    with_text: bool = False,
    names: Mapping[str, str] | None = None,
) -> str:
    """The consultations as CSV text for a manager's spreadsheet, one row each. ``names`` maps the
    ids of staff to their names for "logged by" and "advised by"; an id without a name is shown as
    it is. Free text (and the professional's name and number) only ``with_text``."""
    known = names or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS + (TEXT_COLUMNS if with_text else ()))
    for c in consultations:
        local = c.created_at.astimezone(LONDON)
        values = [
            c.reference,
            f"{local:%Y-%m-%d %H:%M}",
            c.agency,
            c.professional_role,
            "yes" if c.on_behalf else "no",
            known.get(c.author_id, c.author_id),
            known.get(c.advised_by, c.advised_by) if c.advised_by else "",
            c.linked_contact_reference or "",
            "yes" if c.override_reason else "no",
        ]
        if with_text:
            values += [c.professional_name, c.contact_phone, c.worry, c.advice, c.override_reason]
        writer.writerow(_cell(value) for value in values)
    return buffer.getvalue()


async def export_consultations(
    uow: ConsultationUnitOfWork,
    start: datetime,
    end: datetime,
    *,
    who: Who,
    now: datetime,
    with_text: bool = False,
    names: Mapping[str, str] | None = None,
) -> ExportResult:
    """Consultations created in ``[start, end)`` as CSV, for managers; the export is audited
    (how many, the period, and whether free text was included). With the free text it holds each
    consultation's full record, so each is also audited as viewed, by reference (SPEC §8), and the
    audit still says whose were read after retention has deleted them."""
    if not frozenset(who.roles) & MANAGER_ROLES:
        return ExportResult(ExportOutcome.REFUSED, message="Exporting consultations is for managers.")
    rows = await uow.consultations.list_between(require_aware(start, "start"), require_aware(end, "end"))
    detail = f"{len(rows)} from {start.astimezone(UTC).isoformat()} to {end.astimezone(UTC).isoformat()}"
    at = require_aware(now, "now").astimezone(UTC)
    detail += " with text" if with_text else ""
    await uow.audit.append(AuditEvent(at, who.actor_id, ACTION_EXPORT, "consultations", detail))
    if with_text:
        for row in rows:
            await uow.audit.append(AuditEvent(at, who.actor_id, ACTION_VIEWED, row.reference, "via=export"))
    await uow.commit()
    text = consultations_csv(rows, with_text=with_text, names=names)
    return ExportResult(ExportOutcome.EXPORTED, csv_text=text, count=len(rows))
