"""Service policy: timescales, office hours, caps, alert lead times and the other numbers of SPEC §4
and §7, as data a service can override without a code change.

The defaults live in ``policy.toml`` beside this module. A service's own TOML file sets only the
keys it wants to change; they are merged over the defaults table by table. Every value is checked
when loaded, and a bad one raises ``PolicyError`` whose message starts with the key's path
(``timescales.screening_working_days: expected a positive integer, got 0``) so the person editing
the file knows exactly what to fix.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, get_type_hints

from frontdoor.calendar import WorkingCalendar
from frontdoor.errors import PolicyError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "Alerts",
    "Caseload",
    "ClosureDates",
    "Handover",
    "HistoryChecksPolicy",
    "Limits",
    "Mail",
    "Marac",
    "Mash",
    "OfficeHours",
    "OpenContactBand",
    "Policy",
    "PolicyError",
    "RagThresholds",
    "Retention",
    "Timescales",
    "Windows",
    "calendar_from",
    "default_policy",
    "load_policy",
    "parse_policy",
]

DEFAULTS_RESOURCE = "policy.toml"

WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_CLOCK_TIME = re.compile(r"(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)")


# -- value parsers: each takes the raw TOML value and its key path -------------------------------

_Parser = Callable[[object, str], object]


def _positive_int(value: object, key: str) -> int:
    # TOML booleans arrive as Python bools, which are ints; "cap = true" is a slip, not a 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PolicyError(key, f"expected a positive integer, got {value!r}")
    return value


def _non_negative_int(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyError(key, f"expected a whole number, 0 or more, got {value!r}")
    return value


def _fraction(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise PolicyError(key, f"expected a number from 0 to 1, got {value!r}")
    return float(value)


def _clock_time(value: object, key: str) -> time:
    # TOML has its own local-time literal (08:30:00); a quoted "08:30" is what people write.
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str) and (match := _CLOCK_TIME.fullmatch(value.strip())):
        return time(int(match["hour"]), int(match["minute"]))
    raise PolicyError(key, f'expected a 24-hour time such as "08:30", got {value!r}')


def _date_list(value: object, key: str) -> frozenset[date]:
    if not isinstance(value, list):
        raise PolicyError(key, f'expected a list of dates such as ["2026-12-24"], got {value!r}')
    dates: set[date] = set()
    for index, item in enumerate(value):
        item_key = f"{key}[{index}]"
        if isinstance(item, datetime):
            raise PolicyError(item_key, f"expected a date without a time, got {item!r}")
        if isinstance(item, date):
            dates.add(item)
            continue
        if not isinstance(item, str):
            raise PolicyError(item_key, f'expected an ISO date such as "2026-12-24", got {item!r}')
        try:
            dates.add(date.fromisoformat(item.strip()))
        except ValueError:
            raise PolicyError(item_key, f'expected an ISO date such as "2026-12-24", got {item!r}') from None
    return frozenset(dates)


def _weekday_list(value: object, key: str) -> frozenset[int]:
    if not isinstance(value, list):
        raise PolicyError(key, f'expected a list of weekday names such as ["tuesday"], got {value!r}')
    days: set[int] = set()
    for index, item in enumerate(value):
        name = item.strip().lower() if isinstance(item, str) else ""
        matches = [number for number, day in enumerate(WEEKDAYS) if name in (day, day[:3])]
        if not matches:
            raise PolicyError(f"{key}[{index}]", f"expected a weekday name such as 'tuesday', got {item!r}")
        days.add(matches[0])
    return frozenset(days)


#: The field metadata key naming the parser that checks and converts a field's TOML value.
_PARSE = "parse"


# -- the policy sections: one frozen dataclass per TOML table ------------------------------------


#: How the 24- and 48-hour completion clocks count (SPEC §4): as working days (24 hours = 1 working
#: day, the default) or as elapsed hours, day and night.
COMPLETION_CLOCK_CHOICES: tuple[str, ...] = ("working_days", "hours")


def _completion_clock(value: object, key: str) -> str:
    if not isinstance(value, str) or value.strip() not in COMPLETION_CLOCK_CHOICES:
        choices = " or ".join(f'"{choice}"' for choice in COMPLETION_CLOCK_CHOICES)
        raise PolicyError(key, f"expected {choices}, got {value!r}")
    return value.strip()


@dataclass(frozen=True, slots=True)
class Timescales:
    """Clock lengths. The unit is part of the name and fixed by the clock (see ``clocks``), except
    the completion clocks, whose ``completion_clock`` says whether their hours count as working
    days (each 24 hours one working day) or as elapsed hours."""

    screening_working_days: int = field(metadata={_PARSE: _positive_int})
    cp_decision_hours: int = field(metadata={_PARSE: _positive_int})
    completion_24h_hours: int = field(metadata={_PARSE: _positive_int})
    completion_48h_hours: int = field(metadata={_PARSE: _positive_int})
    rereferral_recommendation_hours: int = field(metadata={_PARSE: _positive_int})
    parent_letter_working_days: int = field(metadata={_PARSE: _positive_int})
    completion_clock: str = field(metadata={_PARSE: _completion_clock})

    def __post_init__(self) -> None:
        if self.completion_clock != "working_days":
            return
        for name in ("completion_24h_hours", "completion_48h_hours"):
            hours = getattr(self, name)
            if hours % 24:
                raise PolicyError(
                    f"timescales.{name}",
                    f'counted as working days (timescales.completion_clock = "working_days"), it must '
                    f'be a multiple of 24 hours, got {hours}; or set completion_clock = "hours"',
                )

    @property
    def completion_in_working_days(self) -> bool:
        return self.completion_clock == "working_days"


@dataclass(frozen=True, slots=True)
class OfficeHours:
    opening: time = field(metadata={_PARSE: _clock_time})
    closing: time = field(metadata={_PARSE: _clock_time})

    def __post_init__(self) -> None:
        if self.closing <= self.opening:
            raise PolicyError(
                "office_hours.closing",
                f"must be after office_hours.opening ({self.opening:%H:%M}), got {self.closing:%H:%M}",
            )


@dataclass(frozen=True, slots=True)
class Caseload:
    cap: int = field(metadata={_PARSE: _positive_int})


@dataclass(frozen=True, slots=True)
class Alerts:
    due_soon_fraction: float = field(metadata={_PARSE: _fraction})
    due_soon_min_lead_minutes: int = field(metadata={_PARSE: _non_negative_int})
    tick_seconds: int = field(metadata={_PARSE: _positive_int})
    cp_breach_repeat_minutes: int = field(metadata={_PARSE: _positive_int})
    cp_breach_repeats_before_escalation: int = field(metadata={_PARSE: _non_negative_int})

    @property
    def due_soon_min_lead(self) -> timedelta:
        return timedelta(minutes=self.due_soon_min_lead_minutes)

    @property
    def tick(self) -> timedelta:
        return timedelta(seconds=self.tick_seconds)

    @property
    def cp_breach_repeat(self) -> timedelta:
        return timedelta(minutes=self.cp_breach_repeat_minutes)


@dataclass(frozen=True, slots=True)
class RagThresholds:
    """Shares of a clock's window left below which it shows red or amber."""

    red_fraction: float = field(metadata={_PARSE: _fraction})
    amber_fraction: float = field(metadata={_PARSE: _fraction})

    def __post_init__(self) -> None:
        if self.amber_fraction < self.red_fraction:
            raise PolicyError(
                "rag.amber_fraction",
                f"must not be below rag.red_fraction ({self.red_fraction}), got {self.amber_fraction}",
            )


@dataclass(frozen=True, slots=True)
class OpenContactBand:
    """The target range for the number of open contacts, shown in status and the handover."""

    band_low: int = field(metadata={_PARSE: _non_negative_int})
    band_high: int = field(metadata={_PARSE: _non_negative_int})

    def __post_init__(self) -> None:
        if self.band_high < self.band_low:
            raise PolicyError(
                "open_contacts.band_high",
                f"must not be below open_contacts.band_low ({self.band_low}), got {self.band_high}",
            )


@dataclass(frozen=True, slots=True)
class ClosureDates:
    """Days the service is closed beyond the bank holidays (which come from the holiday library)."""

    closure_dates: frozenset[date] = field(metadata={_PARSE: _date_list})


@dataclass(frozen=True, slots=True)
class Handover:
    at: time = field(metadata={_PARSE: _clock_time})


@dataclass(frozen=True, slots=True)
class Marac:
    """MARAC meeting days (weekday numbers, Monday = 0) and time, and when on a meeting day the duty
    channel is reminded that information requests are due back before the meeting."""

    days: frozenset[int] = field(metadata={_PARSE: _weekday_list})
    at: time = field(metadata={_PARSE: _clock_time})
    reminder_at: time = field(metadata={_PARSE: _clock_time})

    def __post_init__(self) -> None:
        if self.reminder_at >= self.at:
            raise PolicyError(
                "marac.reminder_at",
                f"must be before marac.at ({self.at:%H:%M}), got {self.reminder_at:%H:%M}",
            )


@dataclass(frozen=True, slots=True)
class Retention:
    referrals_not_accepted_months: int = field(metadata={_PARSE: _positive_int})
    consultations_months: int = field(metadata={_PARSE: _positive_int})
    mash_episodes_months: int = field(metadata={_PARSE: _positive_int})
    triage_incidents_months: int = field(metadata={_PARSE: _positive_int})
    information_requests_months: int = field(metadata={_PARSE: _positive_int})
    marac_mappa_months: int = field(metadata={_PARSE: _positive_int})


@dataclass(frozen=True, slots=True)
class Mash:
    """When a MASH partner's information request is due back, by the episode's urgency."""

    request_hours_urgent: int = field(metadata={_PARSE: _positive_int})
    request_working_days: int = field(metadata={_PARSE: _positive_int})


@dataclass(frozen=True, slots=True)
class Windows:
    rereferral_months: int = field(metadata={_PARSE: _positive_int})
    repeat_contact_months: int = field(metadata={_PARSE: _positive_int})


_SYSTEM_KEY = re.compile(r"[a-z0-9_]{1,64}")


def _local_systems(value: object, key: str) -> tuple[tuple[str, str], ...]:
    problem = 'expected a list of [key, title] pairs such as [["police", "Police"]]'
    if not isinstance(value, list) or not value:
        raise PolicyError(key, f"{problem}, got {value!r}")
    systems: list[tuple[str, str]] = []
    for index, item in enumerate(value):
        item_key = f"{key}[{index}]"
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(part, str) for part in item)):
            raise PolicyError(item_key, f"{problem}, got {item!r}")
        system, title = item[0].strip(), " ".join(item[1].split())
        if not _SYSTEM_KEY.fullmatch(system) or not title:
            raise PolicyError(item_key, f"expected a key of a-z, 0-9 and _ and a title, got {item!r}")
        if any(system == seen for seen, _ in systems):
            raise PolicyError(item_key, f"the key {system!r} is listed twice")
        systems.append((system, title))
    return tuple(systems)


@dataclass(frozen=True, slots=True)
class HistoryChecksPolicy:
    """The history checks card: the local systems an officer checks (SPEC §2, §5)."""

    local_systems: tuple[tuple[str, str], ...] = field(metadata={_PARSE: _local_systems})


@dataclass(frozen=True, slots=True)
class Mail:
    """The e-mail queue (SPEC §5a): when an untaken e-mail alerts the duty manager, how often
    the mailbox is polled when the server does not offer IDLE (and IDLE is renewed when it does),
    and how many hours of the mail already in the mailbox the watcher's first read queues."""

    untaken_alert_office_hours: int = field(metadata={_PARSE: _positive_int})
    poll_seconds: int = field(metadata={_PARSE: _positive_int})
    first_read_hours: int = field(metadata={_PARSE: _non_negative_int})

    @property
    def first_read(self) -> timedelta:
        return timedelta(hours=self.first_read_hours)


@dataclass(frozen=True, slots=True)
class Limits:
    max_free_text_chars: int = field(metadata={_PARSE: _positive_int})


def _address_list(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise PolicyError(key, f"expected a list of e-mail addresses, got {value!r}")
    addresses = tuple(item.strip() for item in value)
    for address in addresses:
        local, at, domain = address.partition("@")
        if not at or not local or "." not in domain or any(c.isspace() or c in ",;<>" for c in address):
            raise PolicyError(key, f"not an e-mail address: {address!r}")
    return addresses


@dataclass(frozen=True, slots=True)
class Continuity:
    """Business continuity (SPEC §10): who is e-mailed when urgent-only mode is switched on (the
    communication co-ordinator), and how long Teams may go unanswered before an alert also goes
    by e-mail."""

    notify: tuple[str, ...] = field(metadata={_PARSE: _address_list})
    email_after_minutes: int = field(metadata={_PARSE: _positive_int})

    @property
    def email_after(self) -> timedelta:
        return timedelta(minutes=self.email_after_minutes)


@dataclass(frozen=True, slots=True)
class Policy:
    """The whole policy; each attribute is the TOML table of the same name."""

    timescales: Timescales
    office_hours: OfficeHours
    caseload: Caseload
    alerts: Alerts
    rag: RagThresholds
    open_contacts: OpenContactBand
    calendar: ClosureDates
    handover: Handover
    marac: Marac
    retention: Retention
    mash: Mash
    windows: Windows
    history: HistoryChecksPolicy
    limits: Limits
    continuity: Continuity
    mail: Mail


# -- loading -------------------------------------------------------------------------------------

_T = TypeVar("_T", bound="DataclassInstance")


def default_policy() -> Policy:
    """The packaged defaults."""
    return parse_policy("", source=None)


def load_policy(path: Path | None = None) -> Policy:
    """The packaged defaults, with the keys set in the TOML file at ``path`` (if any) merged over."""
    if path is None:
        return default_policy()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError("", f"cannot read the policy file: {error}", str(path)) from None
    return parse_policy(text, source=str(path))


def parse_policy(text: str, source: str | None = "<text>") -> Policy:
    """The packaged defaults with the TOML document ``text`` merged over them."""
    defaults = tomllib.loads(files("frontdoor").joinpath(DEFAULTS_RESOURCE).read_text(encoding="utf-8"))
    try:
        override = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError("", f"not valid TOML: {error}", source) from None
    try:
        return _build(Policy, _merge(defaults, override), prefix="")
    except PolicyError as error:
        raise PolicyError(error.key, error.problem, source) from None


def calendar_from(policy: Policy, holidays: Iterable[date]) -> WorkingCalendar:
    """The service's working calendar: its office hours, the bank holidays given and its closures."""
    return WorkingCalendar(
        opening=policy.office_hours.opening,
        closing=policy.office_hours.closing,
        non_working_dates=frozenset(holidays) | policy.calendar.closure_dates,
    )


def _merge(defaults: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = {name: dict(table) for name, table in defaults.items()}
    for name, table in override.items():
        if name not in merged:
            raise PolicyError(name, f"unknown policy table; known tables: {', '.join(merged)}")
        if not isinstance(table, dict):
            raise PolicyError(name, f"expected a table of settings, got {table!r}")
        merged[name].update(table)
    return merged


def _build(cls: type[_T], raw: object, prefix: str) -> _T:
    if not isinstance(raw, dict):
        raise PolicyError(prefix, f"expected a table of settings, got {raw!r}")
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    for name in raw:
        if name not in known:
            raise PolicyError(_join(prefix, name), f"unknown key; known keys: {', '.join(sorted(known))}")
    values: dict[str, object] = {}
    for f in fields(cls):
        key = _join(prefix, f.name)
        if f.name not in raw:
            raise PolicyError(key, "missing")
        parse: _Parser | None = f.metadata.get(_PARSE)
        values[f.name] = parse(raw[f.name], key) if parse else _build(hints[f.name], raw[f.name], key)
    return cls(**values)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
