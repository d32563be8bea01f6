"""Reference numbers of SPEC §2: contacts ``CT-YY-NNNNNN`` and consultations ``PC-YY-NNNNN``.

``YY`` is the two-digit year of receipt; the sequence restarts each year and is allocated by the
``ReferenceSequence`` port. Parsing is forgiving about what people type (case, spaces, the dashes
Teams turns hyphens into) and strict about the shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from frontdoor.errors import InvalidReferenceError


class ReferenceKind(StrEnum):
    CONTACT = "CT"
    CONSULTATION = "PC"
    #: a MASH episode (SPEC §9)
    MASH_EPISODE = "MA"
    #: a CAFCASS or Ofsted information request (SPEC §9)
    BODY_REQUEST = "IR"

    @property
    def digits(self) -> int:
        """How many digits the sequence number has."""
        return 6 if self is ReferenceKind.CONTACT else 5

    @property
    def max_number(self) -> int:
        return 999_999 if self is ReferenceKind.CONTACT else 99_999


_PATTERN = re.compile(r"(?P<prefix>CT|PC|MA|IR)-?(?P<year>\d{2})-?(?P<number>\d{5,6})")
# Hyphen look-alikes that Office autocorrect and phone keyboards produce.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-"))


@dataclass(frozen=True, slots=True)
class Reference:
    kind: ReferenceKind
    year: int
    number: int

    def __post_init__(self) -> None:
        if not 0 <= self.year <= 99:
            raise ValueError(f"a reference year has two digits, got {self.year}")
        if not 1 <= self.number <= self.kind.max_number:
            raise ValueError(
                f"a {self.kind} reference number runs from 1 to {self.kind.max_number}, got {self.number}"
            )

    def __str__(self) -> str:
        return f"{self.kind.value}-{self.year:02d}-{self.number:0{self.kind.digits}d}"

    @property
    def text(self) -> str:
        return str(self)


def two_digit_year(year: int) -> int:
    """``2026`` or ``26`` as ``26``; the sequence port is given either, references show two."""
    if 0 <= year <= 99:
        return year
    if 2000 <= year <= 2099:
        return year - 2000
    raise ValueError(f"expected a year such as 2026 or 26, got {year}")


def format_reference(prefix: ReferenceKind | str, year: int, number: int) -> str:
    """The reference text, e.g. ``format_reference("CT", 2026, 42) == "CT-26-000042"``.

    Raises ``ValueError`` for an unknown prefix, a year outside 2000-2099, or a number below 1 or
    too wide for the format (a full year's sequence must fail loudly, not wrap or grow a digit).
    """
    try:
        kind = ReferenceKind(prefix.upper())
    except ValueError:
        raise ValueError(f"unknown reference prefix {prefix!r}; expected CT, PC, MA or IR") from None
    return str(Reference(kind, two_digit_year(year), number))


def parse_reference(text: str) -> Reference:
    """Parse ``CT-26-000042`` or ``PC-26-00042`` (any case, spaces and dashes tolerated).

    Raises ``InvalidReferenceError`` when the text is not a reference of either kind.
    """
    compact = "".join(text.translate(_DASHES).split()).upper()
    match = _PATTERN.fullmatch(compact)
    if match is not None:
        kind = ReferenceKind(match["prefix"])
        number = int(match["number"])
        if len(match["number"]) == kind.digits and number >= 1:
            return Reference(kind, int(match["year"]), number)
    raise InvalidReferenceError(
        "not a reference; expected CT-YY-NNNNNN (contact) or PC-YY-NNNNN (consultation)"
    )


def looks_like_reference(text: str) -> bool:
    """Whether ``text`` parses as a reference."""
    try:
        parse_reference(text)
    except InvalidReferenceError:
        return False
    return True
