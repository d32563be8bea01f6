"""Phone numbers, e-mail addresses, postcodes and addresses as the contact form takes them: each
normalised to one form or refused (None), so the checks in ``frontdoor.validation`` and the views
read them one way."""

from __future__ import annotations

import re

__all__ = [
    "join_address",
    "normalise_email",
    "normalise_phone",
    "normalise_phone_anywhere",
    "normalise_postcode",
    "split_address",
]

_PHONE_PUNCTUATION = re.compile(r"[\s\-.()/]")
# National significant numbers (after the leading 0): 01 and 02 geographic, 03 non-geographic and
# 07 mobile take ten digits; a few 01 areas take nine; 0800/0808 freephone take nine or ten.
_UK_NATIONAL = re.compile(r"(?:[1-3]\d{9}|1\d{8}|7\d{9}|80[08]\d{6,7})")


def normalise_phone(text: str) -> str | None:
    """A UK phone number in E.164 (``+441914980000``), or None when ``text`` is not one."""
    raw = text.strip()
    # "+44 (0)20 ..." is how numbers are printed on letterheads; the (0) is not dialled from abroad.
    raw = raw.replace("(0)", "") if raw.startswith(("+44", "0044")) else raw
    digits = _PHONE_PUNCTUATION.sub("", raw)
    if digits.startswith("+44"):
        national = digits[3:]
    elif digits.startswith("0044"):
        national = digits[4:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        return None
    if not national.isascii() or not national.isdigit() or not _UK_NATIONAL.fullmatch(national):
        return None
    return f"+44{national}"


# A number abroad in E.164 after its + (or 00): a country code that does not start with 0, and at
# most 15 digits in all; 7 is the fewest any country dials (Niue, +683 4002).
_INTERNATIONAL = re.compile(r"[1-9]\d{6,14}")


def normalise_phone_anywhere(text: str) -> str | None:
    """A UK number as ``normalise_phone`` reads it, or a number abroad written in international form
    (``+33 6 12 34 56 78``, ``0033 ...``), in E.164; None otherwise. A +44 number is judged as a
    UK one, so a mistyped UK number is not let through as "abroad"."""
    uk = normalise_phone(text)
    if uk is not None:
        return uk
    digits = _PHONE_PUNCTUATION.sub("", text.strip())
    if digits.startswith("+"):
        rest = digits[1:]
    elif digits.startswith("00"):
        rest = digits[2:]
    else:
        return None
    if rest.startswith("44") or not rest.isascii() or not _INTERNATIONAL.fullmatch(rest):
        return None
    return f"+{rest}"


# Pragmatic, not RFC 5322: one @, no spaces, a dot inside the domain with something either side.
_EMAIL = re.compile(r"[^@\s]+@(?P<domain>[^@\s.]+(?:\.[^@\s.]+)+)")


def normalise_email(text: str) -> str | None:
    """``text`` as an e-mail address with a lower-case domain, or None when it does not look like one."""
    candidate = text.strip()
    if len(candidate) > 254 or not _EMAIL.fullmatch(candidate):
        return None
    local, _, domain = candidate.rpartition("@")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    return f"{local}@{domain.lower()}"


# Outward code: A9, A99, A9A, AA9, AA99, AA9A; inward code: 9AA without C, I, K, M, O or V.
_POSTCODE = re.compile(
    r"(?P<outward>[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRVWXY]?))"
    r"(?P<inward>[0-9][ABD-HJLNP-UW-Z]{2})"
)


def normalise_postcode(text: str) -> str | None:
    """A full UK postcode, upper case with one space (``SW1A 1AA``), or None when ``text`` is not one."""
    compact = re.sub(r"\s+", "", text).upper()
    if compact == "GIR0AA":  # the one postcode outside the pattern (Girobank)
        return "GIR 0AA"
    match = _POSTCODE.fullmatch(compact)
    return f"{match['outward']} {match['inward']}" if match else None


def join_address(address: str, postcode: str) -> str:
    """The record's address text: the address, then the normalised postcode on its own last line."""
    address = address.strip()
    if not postcode:
        return address
    return f"{address}\n{postcode}" if address else postcode


def split_address(text: str) -> tuple[str, str]:
    """``join_address`` reversed: (address, postcode); the postcode is empty when the last line is
    not a postcode."""
    head, _, last = text.strip().rpartition("\n")
    postcode = normalise_postcode(last) if last else None
    if postcode is not None and last.strip().upper() == postcode:
        return head.strip(), postcode
    return text.strip(), ""
