"""Reading a contact-form card's raw values (SPEC §3): ``CardValues`` reads one card field by field
into typed values, collecting a ``FieldError`` for each problem instead of raising, so a card shows
every problem at once. ``frontdoor.validation`` checks the answers it reads, section by section."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import TypeVar

from frontdoor.contact_details import (
    normalise_email,
    normalise_phone,
    normalise_phone_anywhere,
    normalise_postcode,
)
from frontdoor.policy import Policy
from frontdoor.script import (
    FieldKind,
    FieldSpec,
)

__all__ = [
    "CardValues",
    "FieldError",
    "all_blank",
    "fields_by_id",
    "group_indices",
    "parse_date",
    "parse_time",
    "without_controls",
]


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one field. ``message`` starts with the field's label as the card shows it and
    never repeats what was typed, so it is safe to show and to log."""

    field_id: str
    message: str


_UK_DATE = re.compile(r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})")
_CLOCK = re.compile(r"(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)(?::[0-5]\d)?")


def without_controls(text: str) -> str:
    """``text`` NFC-normalised, with Windows line ends made plain and control characters (NUL and
    the like: nobody types them, and PostgreSQL refuses NUL in text) removed; tabs and line breaks
    are kept."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text.replace("\r\n", "\n")))


def parse_date(text: str) -> date | None:
    # Input.Date sends ISO dates; people typing into a text box write 14/03/2026.
    try:
        if match := _UK_DATE.fullmatch(text):
            return date(int(match["year"]), int(match["month"]), int(match["day"]))
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def parse_time(text: str) -> time | None:
    match = _CLOCK.fullmatch(text)
    return time(int(match["hour"]), int(match["minute"])) if match else None


_E = TypeVar("_E", bound=StrEnum)
_Parsed = TypeVar("_Parsed", date, time)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Teams user ids ("29:1abc…") and Azure AD object ids (GUIDs): no spaces, nothing exotic.
_PERSON_ID = re.compile(r"[A-Za-z0-9:._@\-]{1,255}")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0", ""})


class CardValues:
    """Reads one card's values field by field, collecting errors instead of raising."""

    def __init__(self, values: Mapping[str, object], policy: Policy, partial: bool) -> None:
        self.values = values
        self.policy = policy
        self.partial = partial
        self.errors: list[FieldError] = []

    def error(self, spec: FieldSpec, problem: str) -> None:
        self.errors.append(FieldError(spec.id, f"{spec.label}: {problem}"))

    def _unreadable(self, spec: FieldSpec) -> None:
        self.error(spec, "this answer could not be read; please enter it again")

    def _missing(self, spec: FieldSpec) -> None:
        if spec.required and not self.partial:
            self.error(spec, "this is required" + (f" ({spec.error_message})" if spec.error_message else ""))

    def raw(self, spec: FieldSpec) -> str | None:
        """The value as a stripped string; None (and an error) when it is not text."""
        value = self.values.get(spec.id)
        if value is None:
            return ""
        if isinstance(value, bool) and spec.kind is FieldKind.TOGGLE:
            return str(value).lower()
        if not isinstance(value, str):
            self._unreadable(spec)
            return None
        return value.strip()

    def text(self, spec: FieldSpec) -> str:
        raw = self.raw(spec)
        if raw is None:
            return ""
        text = without_controls(raw)
        if spec.kind is not FieldKind.MULTILINE:
            text = " ".join(text.split())
        limit = spec.limit(self.policy)
        if limit is not None and len(text) > limit:
            self.error(spec, f"is too long: at most {limit} characters, this has {len(text)}")
            return ""
        if not text:
            self._missing(spec)
        return text

    def choice(self, spec: FieldSpec, enum: type[_E]) -> _E | None:
        raw = self.raw(spec)
        if raw is None:
            return None
        if not raw:
            self._missing(spec)
            return None
        if raw not in spec.choice_values:
            self.error(spec, "that is not one of the choices; please choose again")
            return None
        return enum(raw)

    def plain_choice(self, spec: FieldSpec) -> str:
        raw = self.raw(spec)
        if raw is None:
            return ""
        if not raw:
            self._missing(spec)
            return ""
        if raw not in spec.choice_values:
            self.error(spec, "that is not one of the choices; please choose again")
            return ""
        return raw

    def multichoice_values(self, spec: FieldSpec) -> tuple[str, ...]:
        value = self.values.get(spec.id)
        items: list[str]
        if value is None:
            items = []
        elif isinstance(value, str):
            items = [item.strip() for item in value.split(",")]
        elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            items = [item.strip() for item in value]
        else:
            self._unreadable(spec)
            return ()
        chosen = tuple(dict.fromkeys(item for item in items if item))
        if any(item not in spec.choice_values for item in chosen):
            self.error(spec, "one of these is not one of the choices; please choose again")
            return ()
        if not chosen:
            self._missing(spec)
        return chosen

    def multichoice(self, spec: FieldSpec, enum: type[_E]) -> frozenset[_E]:
        return frozenset(enum(item) for item in self.multichoice_values(spec))

    def toggle(self, spec: FieldSpec) -> bool:
        raw = self.raw(spec)
        if raw is None:
            return False
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered not in _FALSE:
            self._unreadable(spec)
        return False

    def date(self, spec: FieldSpec) -> date | None:
        value = self.values.get(spec.id)
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        return self._parsed(spec, parse_date, "enter a date such as 2026-03-14")

    def time(self, spec: FieldSpec) -> time | None:
        return self._parsed(spec, parse_time, "enter a time such as 09:30")

    def _parsed(
        self, spec: FieldSpec, parse: Callable[[str], _Parsed | None], problem: str
    ) -> _Parsed | None:
        """A typed date or time: None when the card did not carry the field (or it is blank: then
        missing, when required), or when it does not parse (then ``problem``)."""
        raw = self.raw(spec)
        if raw is None:
            return None
        if not raw:
            self._missing(spec)
            return None
        parsed = parse(raw)
        if parsed is None:
            self.error(spec, problem)
        return parsed

    def normalised(self, spec: FieldSpec, normalise: Callable[[str], str | None], problem: str) -> str:
        raw = self.text(spec)
        if not raw:
            return ""
        normal = normalise(raw)
        if normal is None:
            self.error(spec, problem)
            return ""
        return normal

    def phone(self, spec: FieldSpec, *, abroad: bool = False) -> str:
        """The number as typed (its spaces help whoever reads it back), once ``normalise_phone``
        accepts it as a UK number (or, with ``abroad``, ``normalise_phone_anywhere`` as a UK number
        or one abroad in international form); the E.164 form is for comparing numbers only."""
        typed = " ".join(self.text(spec).split())
        normalise = normalise_phone_anywhere if abroad else normalise_phone
        if typed and normalise(typed) is None:
            where = ", or a number abroad with + and its country code" if abroad else " or 0191 498 0000"
            self.error(spec, f"enter a UK phone number, such as 07700 900123{where}")
            return ""
        return typed

    def email(self, spec: FieldSpec) -> str:
        return self.normalised(spec, normalise_email, "enter an e-mail address such as name@example.org")

    def postcode(self, spec: FieldSpec) -> str:
        return self.normalised(spec, normalise_postcode, "enter a full UK postcode, such as SW1A 1AA")

    def person(self, spec: FieldSpec) -> str | None:
        raw = self.raw(spec)
        if raw is None:
            return None
        if not raw:
            self._missing(spec)
            return None
        if not _PERSON_ID.fullmatch(raw):
            self.error(spec, "choose a person from the list")
            return None
        return raw


def fields_by_id(specs: Iterable[FieldSpec]) -> dict[str, FieldSpec]:
    return {spec.id: spec for spec in specs}


_GROUP_KEY = re.compile(r"(?P<group>child|parent)_(?P<index>\d{1,3})_[a-z]+")


def group_indices(values: Mapping[str, object], group: str) -> list[int]:
    found = {
        int(match["index"])
        for key in values
        if isinstance(key, str) and (match := _GROUP_KEY.fullmatch(key)) and match["group"] == group
    }
    return sorted(found)


def all_blank(values: Mapping[str, object], specs: Iterable[FieldSpec]) -> bool:
    return all(values.get(spec.id) in (None, "", [], ()) for spec in specs)
