"""The identifying-data guard of SPEC §2: spot what could identify a child or family in free text.

A consultation must not hold names of children or family members, dates of birth, postcodes, phone
numbers, e-mail addresses or NHS numbers. ``scan`` finds text that looks like these so the card can
ask the author to remove it before saving. It is a prompt to a careful person, not a guarantee: it
aims to catch the common shapes without nagging about "Year 6" or "48 hours", and it cannot catch a
name that has no cue in front of it.

A ``Finding`` gives the position and a hint that never repeats the matched text, so a finding can be
logged or shown in a summary without copying the data it found. ``redact_preview`` shows the text
with each finding replaced by a placeholder, so the card can show *where* without echoing the data.

Decisions worth knowing:

- A 10-digit number laid out like an NHS number (``943 476 5918``) that fails the modulus-11 check
  is still flagged, as ``ID_NUMBER``: a mistyped NHS number is one digit away from identifying the
  child, and the reader cannot tell the difference. Only the hint changes.
- A 10-digit number that passes the check is an NHS number even when it could also be dialled.
- The caller's own phone number (``allowed_phone``), given as their contact details, is not about
  the family and is not flagged wherever it appears.
- Dates count only when they could be a child's date of birth: a real calendar date within the
  last ~25 years. After a birth cue ("born", "DOB", "date of birth", "EDD") any date, month and
  year, day and month, or bare year counts.
- Front-door reference numbers (``CT-26-000123``, ``PC-26-00012``) are never findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

__all__ = [
    "Finding",
    "FindingKind",
    "national_phone_digits",
    "nhs_check_digit_ok",
    "redact_preview",
    "scan",
    "summarise",
]


class FindingKind(StrEnum):
    POSTCODE = "postcode"
    DATE = "date"
    PHONE = "phone"
    EMAIL = "email"
    NHS_NUMBER = "nhs_number"
    ID_NUMBER = "id_number"
    NAME = "name"

    @property
    def placeholder(self) -> str:
        """What ``redact_preview`` shows in place of the finding."""
        return _PLACEHOLDERS[self]


_PLACEHOLDERS: dict[FindingKind, str] = {
    FindingKind.POSTCODE: "[postcode]",
    FindingKind.DATE: "[date]",
    FindingKind.PHONE: "[phone]",
    FindingKind.EMAIL: "[e-mail]",
    FindingKind.NHS_NUMBER: "[NHS number]",
    FindingKind.ID_NUMBER: "[number]",
    FindingKind.NAME: "[name]",
}

# When two findings start at the same place and are as long as each other, the more specific wins.
_PRIORITY: dict[FindingKind, int] = {
    FindingKind.EMAIL: 0,
    FindingKind.NHS_NUMBER: 1,
    FindingKind.PHONE: 2,
    FindingKind.POSTCODE: 3,
    FindingKind.DATE: 4,
    FindingKind.ID_NUMBER: 5,
    FindingKind.NAME: 6,
}

HINT_POSTCODE = "a postcode"
HINT_DATE = "a date that could be a date of birth"
HINT_BIRTH_YEAR = "a year of birth"
HINT_PHONE = "a phone number"
HINT_EMAIL = "an e-mail address"
HINT_NHS = "an NHS number"
HINT_ID_NUMBER = "a 10-digit number laid out like an NHS number"


@dataclass(frozen=True, slots=True)
class Finding:
    """Text at ``start:end`` looks like identifying data; ``hint`` says what, without repeating it."""

    kind: FindingKind
    start: int
    end: int
    hint: str

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"a finding spans at least one character, got {self.start}:{self.end}")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# -- postcodes -----------------------------------------------------------------------------------

# The real postcode areas (plus the Crown dependencies and BFPO, written the same way). Checking
# the area rather than "one or two letters" is what keeps "KS2 1st" or "Y6 2nd" from looking like
# postcodes: neither KS nor Y is an area.
_POSTCODE_AREAS = _words(
    """
    AB AL B BA BB BD BF BH BL BN BR BS BT BX CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT
    DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE
    LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM
    SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE
    """
)

# Outward code: area, district digit(s), optional sub-district letter (SW1A, EC1V, W1D); inward
# code: a digit and two letters that are never C, I, K, M, O or V. A sub-district letter only ever
# follows a single district digit, which the pattern enforces.
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])"
    r"(?:(?P<area>[A-Z]{1,2})(?P<district>[0-9][0-9A-Z]?)\s?(?P<inward>[0-9][ABD-HJLNP-UW-Z]{2})"
    r"|(?P<gir>GIR\s?0AA))"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def _postcodes(text: str) -> Iterator[Finding]:
    for match in _POSTCODE.finditer(text):
        if match["gir"] is None and match["area"].upper() not in _POSTCODE_AREAS:
            continue
        yield Finding(FindingKind.POSTCODE, match.start(), match.end(), HINT_POSTCODE)


# -- e-mail addresses ----------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+"
)


def _emails(text: str) -> Iterator[Finding]:
    for match in _EMAIL.finditer(text):
        yield Finding(FindingKind.EMAIL, match.start(), match.end(), HINT_EMAIL)


# -- NHS numbers and phone numbers ---------------------------------------------------------------

_NHS_SHAPE = re.compile(r"(?<![\d+\-])(?:\d{3}([ \-]?)\d{3}\1\d{4})(?![\d\-])")

# An international prefix (+44 or 0044, perhaps with the "(0)" people add) or a trunk 0, then
# groups of at least three digits. Requiring groups of three keeps dd-mm-yy dates out.
_PHONE = re.compile(
    r"(?<![\w+])"
    r"(?:(?:\+|00)44[ \-]?(?:\(0\)[ \-]?)?\(?\d{2,5}\)?|\(?0\d{2,5}\)?)"
    r"(?:[ \-]?\d{3,8}){1,3}"
    r"(?!\w)"
)

_DIGITS = frozenset("0123456789")


def nhs_check_digit_ok(digits: str) -> bool:
    """Whether 10 digits pass the NHS modulus-11 check (weights 10 down to 2; 11 reads as 0 and a
    check digit of 10 means the number was never issued)."""
    if len(digits) != 10 or not set(digits) <= _DIGITS:
        return False
    total = sum(int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def national_phone_digits(text: str) -> str:
    """The digits of a phone number in UK national form: ``+44 (0)20 7946 0000`` and
    ``0044 20 7946 0000`` both give ``02079460000``; anything else gives its digits."""
    digits = "".join(ch for ch in text if ch in _DIGITS)
    stripped = text.strip()
    if stripped.startswith("+44") or (stripped.startswith("0044") and digits.startswith("0044")):
        rest = digits[2:] if stripped.startswith("+") else digits[4:]
        # "+44 (0)20…": the bracketed trunk zero is not dialled from abroad and not part of the number.
        return "0" + rest.removeprefix("0")
    return digits


def _is_uk_phone(national: str) -> bool:
    # Geographic (01, 02), non-geographic landline (03) and mobile (07). A digit short still counts:
    # a mistyped number is still someone's number to the person reading it. Helplines (08xx) are
    # not about the family.
    return len(national) in (10, 11) and national[0] == "0" and national[1] in "1237"


def _overlaps(finding: Finding, spans: Iterable[tuple[int, int]]) -> bool:
    return any(finding.start < end and start < finding.end for start, end in spans)


def _numbers(text: str, allowed: str | None) -> Iterator[Finding]:
    allowed_spans: list[tuple[int, int]] = []
    nhs: list[Finding] = []
    nhs_like: list[Finding] = []
    for match in _NHS_SHAPE.finditer(text):
        digits = "".join(ch for ch in match[0] if ch in _DIGITS)
        if allowed is not None and national_phone_digits(match[0]) == allowed:
            allowed_spans.append(match.span())
        elif nhs_check_digit_ok(digits):
            nhs.append(Finding(FindingKind.NHS_NUMBER, match.start(), match.end(), HINT_NHS))
        else:
            nhs_like.append(Finding(FindingKind.ID_NUMBER, match.start(), match.end(), HINT_ID_NUMBER))
    phones: list[Finding] = []
    for match in _PHONE.finditer(text):
        national = national_phone_digits(match[0])
        if not _is_uk_phone(national):
            continue
        if allowed is not None and national == allowed:
            allowed_spans.append(match.span())
            continue
        phone = Finding(FindingKind.PHONE, match.start(), match.end(), HINT_PHONE)
        # A number that passes the NHS check is an NHS number, even if it could also be dialled.
        if not _overlaps(phone, [(f.start, f.end) for f in nhs]):
            phones.append(phone)
    phone_spans = [(f.start, f.end) for f in phones]
    for finding in nhs:
        if not _overlaps(finding, allowed_spans):
            yield finding
    for finding in phones:
        if not _overlaps(finding, allowed_spans):
            yield finding
    for finding in nhs_like:
        if not _overlaps(finding, allowed_spans) and not _overlaps(finding, phone_spans):
            yield finding


# -- dates ---------------------------------------------------------------------------------------

_MONTHS: dict[str, int] = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORDINAL = r"(?:st|nd|rd|th)?"

# Each date shape names its parts d, m (digits) or mon (a month name), and y.
_NUMERIC_DATE = re.compile(
    r"(?<![\w/.\-:])(?P<d>\d{1,2})(?P<sep>[/.\-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
    r"(?![\w/\-]|[.:]\d)"
)
_ISO_DATE = re.compile(
    r"(?<![\w/.\-])(?P<y>\d{4})(?P<sep>[/\-])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?![\w/\-])"
)
_DAY_MONTH_YEAR = re.compile(
    rf"\b(?P<d>\d{{1,2}}){_ORDINAL}(?:\s+of)?\s+(?P<mon>{_MONTH})\.?,?\s+(?P<y>\d{{4}})\b", re.IGNORECASE
)
_MONTH_DAY_YEAR = re.compile(
    rf"\b(?P<mon>{_MONTH})\.?\s+(?P<d>\d{{1,2}}){_ORDINAL},?\s+(?P<y>\d{{4}})\b", re.IGNORECASE
)
_FULL_DATES = (_NUMERIC_DATE, _ISO_DATE, _DAY_MONTH_YEAR, _MONTH_DAY_YEAR)

# After a birth cue, less than a full date is enough to identify a child.
_MONTH_YEAR = re.compile(
    rf"(?P<mon>{_MONTH})\.?,?\s+(?P<y>\d{{4}})\b|(?P<m>\d{{1,2}})/(?P<y2>\d{{4}})\b", re.IGNORECASE
)
_DAY_MONTH = re.compile(
    rf"(?:(?P<d>\d{{1,2}}){_ORDINAL}(?:\s+of)?\s+(?P<mon>{_MONTH})"
    rf"|(?P<mon2>{_MONTH})\.?\s+(?P<d2>\d{{1,2}}){_ORDINAL})\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?P<y>(?:19|20)\d{2})\b")
_BIRTH_CUE = re.compile(
    r"\b(?:born|birth|date\s+of\s+birth|birthday|d\.?o\.?b\b\.?|due\s+date|e\.?d\.?d\b\.?)"
    r"[\s:,\-]*(?:(?:on|in|is|was|of|around|about|approx\.?|approximately|the)\s+){0,3}",
    re.IGNORECASE,
)

#: How far back a date without a cue could be a child's date of birth.
CHILDHOOD_YEARS = 25


def _full_date(match: re.Match[str], today: date) -> date | None:
    """The calendar date a full-date match names, or None if it names none."""
    groups = match.groupdict()
    year_text = groups["y"]
    year = int(year_text)
    if len(year_text) == 2:
        # dd-mm-yy: the most recent year with those digits that is not in the future.
        year += 2000 if 2000 + year <= today.year else 1900
    if groups.get("mon"):
        month_day = [(_MONTHS[groups["mon"][:3].lower()], int(groups["d"]))]
    else:
        first, second = int(groups["d"]), int(groups["m"])
        # UK order first; the US order only when the UK reading is not a date (03/25/2015).
        month_day = [(second, first), (first, second)]
    for month, day in month_day:
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _cued_date(text: str, pos: int, today: date) -> tuple[int, int, str] | None:
    """The date-ish text right after a birth cue ending at ``pos``: (start, end, hint)."""
    for pattern in _FULL_DATES:
        match = pattern.match(text, pos)
        found = _full_date(match, today) if match is not None else None
        # The cue makes any plausible date count, a parent's or an expected date of delivery included.
        if (
            match is not None
            and found is not None
            and date(1900, 1, 1) <= found <= date(today.year + 1, 12, 31)
        ):
            return match.start(), match.end(), HINT_DATE
    for pattern in (_MONTH_YEAR, _DAY_MONTH):
        match = pattern.match(text, pos)
        if match is not None:
            return match.start(), match.end(), HINT_DATE
    match = _YEAR.match(text, pos)
    if match is not None and 1900 <= int(match["y"]) <= today.year + 1:
        return match.start(), match.end(), HINT_BIRTH_YEAR
    return None


def _dates(text: str, today: date) -> Iterator[Finding]:
    earliest = _years_before(today, CHILDHOOD_YEARS)
    for pattern in _FULL_DATES:
        for match in pattern.finditer(text):
            found = _full_date(match, today)
            if found is not None and earliest <= found <= today:
                yield Finding(FindingKind.DATE, match.start(), match.end(), HINT_DATE)
    for cue in _BIRTH_CUE.finditer(text):
        cued = _cued_date(text, cue.end(), today)
        if cued is not None:
            yield Finding(FindingKind.DATE, *cued)


# -- names after cues ----------------------------------------------------------------------------

_TITLE_CUE = re.compile(r"(?<!\w)(?P<cue>Mrs|Mr|Ms|Miss|Mx|Dr|Master|MRS|MR|MS|MISS|MX|DR)\b\.?[ \t]+")
_WORD_CUE = re.compile(
    r"\b(?P<cue>called|named|name\s+is|name['’]s|known\s+as|goes\s+by|son|daughter|stepson|stepdaughter"
    r"|brother|sister|mum|mother|dad|father|stepdad|stepmum|grandson|granddaughter|nephew|niece"
    r"|partner|boyfriend|girlfriend|baby)[ \t]+",
    re.IGNORECASE,
)
# A word of letters with internal apostrophes or hyphens (O'Example, Blobby-Testname, Zoë).
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_GAP = re.compile(r"[ \t]+")

# Capitalised words that follow the cues without being anyone's name: agencies, roles, pronouns,
# days and months (not April, May, June or August: those are names too), and what a sentence
# starts with when the full stop was missed.
NOT_NAMES: frozenset[str] = _words(
    """
    a an the this that these those it its i he she they we you his her their our my your him them us
    and or but so then when while because if as after before since until though also just not no yes
    ok okay hi hello thanks please on in at to from for with by of about again back today yesterday
    tomorrow tonight morning afternoon evening night later earlier now there here who what why how
    which where social care services service children children's child family families police
    ambulance fire school college nursery academy primary secondary reception year class teacher
    teachers headteacher head deputy senco dsl office team front door hub council authority local
    health visitor visitors nurse midwife doctor gp hospital clinic surgery practice camhs nhs
    person people someone somebody anyone anybody nobody everyone mum mom mummy dad daddy mother
    father parent parents carer carers baby brother sister son daughter partner boyfriend girlfriend
    grandparent grandma grandad nan gran uncle aunt auntie cousin friend friends neighbour
    neighbours worker workers manager officer officers consultant safeguarding lead early help
    support duty emergency services line helpline childline nspcc cafcass ofsted mash
    monday tuesday wednesday thursday friday saturday sunday january february march july september
    october november december christmas easter half term
    mr mrs ms miss mx dr master sir madam
    """
)


def _is_name_word(word: str) -> bool:
    # A name is Capitalised: lower-case words are ordinary words, ALL-CAPS ones acronyms (CAMHS),
    # and a lone capital is how people anonymise ("a man called X").
    return (
        len(word) >= 2
        and word[0].isupper()
        and any(ch.islower() for ch in word)
        and word.lower().replace("’", "'") not in NOT_NAMES
    )


def _name_after(text: str, pos: int) -> tuple[int, int] | None:
    """The span of the name (one or two Capitalised words) starting at ``pos``, if there is one."""
    first = _WORD.match(text, pos)
    if first is None or not _is_name_word(first[0]):
        return None
    end = first.end()
    gap = _GAP.match(text, end)
    if gap is not None:
        second = _WORD.match(text, gap.end())
        if second is not None and _is_name_word(second[0]):
            end = second.end()
    return first.start(), end


def _names(text: str) -> Iterator[Finding]:
    for cue in _TITLE_CUE.finditer(text):
        span = _name_after(text, cue.end())
        if span is not None:
            title = cue["cue"].capitalize()
            yield Finding(FindingKind.NAME, *span, f"a name after '{title}'")
    for cue in _WORD_CUE.finditer(text):
        span = _name_after(text, cue.end())
        if span is not None:
            said = " ".join(cue["cue"].lower().split())
            yield Finding(FindingKind.NAME, *span, f"a name after '{said}'")


# -- putting it together -------------------------------------------------------------------------

_REFERENCE = re.compile(r"(?<![A-Za-z0-9])(?:CT|PC)[-\s]?\d{2}[-\s]?\d{5,6}(?![A-Za-z0-9])", re.IGNORECASE)


def _merge(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    ordered = sorted(findings, key=lambda f: (f.start, -(f.end - f.start), _PRIORITY[f.kind]))
    merged: list[Finding] = []
    for finding in ordered:
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            if finding.end > last.end:
                # One span, told as the finding that starts it, so the author sees one thing to fix.
                merged[-1] = Finding(last.kind, last.start, finding.end, last.hint)
            continue
        merged.append(finding)
    return tuple(merged)


def scan(text: str, *, today: date, allowed_phone: str | None = None) -> tuple[Finding, ...]:
    """What in ``text`` could identify a child or family, sorted by position, overlaps merged.

    ``allowed_phone`` is the author's own contact number: it is never a finding. ``today`` (the
    service's local date, from the injected clock) bounds which dates could be dates of birth.
    """
    allowed = national_phone_digits(allowed_phone) if allowed_phone and allowed_phone.strip() else None
    references = [match.span() for match in _REFERENCE.finditer(text)]
    found = [
        *_emails(text),
        *_numbers(text, allowed or None),
        *_postcodes(text),
        *_dates(text, today),
        *_names(text),
    ]
    return _merge(f for f in found if not _overlaps(f, references))


def redact_preview(text: str, findings: Iterable[Finding]) -> str:
    """``text`` with each finding replaced by its placeholder (``[postcode]``, ``[date]`` …)."""
    parts: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda f: (f.start, f.end)):
        if finding.start < position or finding.start >= len(text):
            continue  # overlapping or out of range: the earlier placeholder already covers it
        parts.append(text[position : finding.start])
        parts.append(finding.kind.placeholder)
        position = min(finding.end, len(text))
    parts.append(text[position:])
    return "".join(parts)


def summarise(findings: Iterable[Finding]) -> str:
    """The distinct hints as a phrase: ``a postcode, a phone number and a name after 'called'``."""
    hints = list(dict.fromkeys(finding.hint for finding in findings))
    if len(hints) <= 1:
        return "".join(hints)
    return f"{', '.join(hints[:-1])} and {hints[-1]}"
