"""Reference numbers: CT-YY-NNNNNN for contacts, PC-YY-NNNNN for consultations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdoor.errors import DomainError, InvalidReferenceError
from frontdoor.references import (
    Reference,
    ReferenceKind,
    format_reference,
    looks_like_reference,
    parse_reference,
    two_digit_year,
)

CT = ReferenceKind.CONTACT
PC = ReferenceKind.CONSULTATION


@pytest.mark.parametrize(
    ("prefix", "year", "number", "expected"),
    [
        ("CT", 2026, 1, "CT-26-000001"),
        ("CT", 26, 42, "CT-26-000042"),
        ("CT", 2026, 999_999, "CT-26-999999"),
        ("ct", 2030, 123_456, "CT-30-123456"),
        (CT, 2009, 7, "CT-09-000007"),
        ("PC", 2026, 1, "PC-26-00001"),
        ("pc", 27, 99_999, "PC-27-99999"),
        (PC, 2026, 42, "PC-26-00042"),
    ],
)
def test_format_reference(prefix: str, year: int, number: int, expected: str) -> None:
    assert format_reference(prefix, year, number) == expected


@pytest.mark.parametrize(
    ("prefix", "year", "number", "message"),
    [
        ("CT", 2026, 0, "from 1 to 999999"),
        ("CT", 2026, -1, "from 1 to 999999"),
        ("CT", 2026, 1_000_000, "from 1 to 999999"),  # a full year's sequence must fail loudly
        ("PC", 2026, 100_000, "from 1 to 99999"),
        ("PC", 2026, 0, "from 1 to 99999"),
        ("XX", 2026, 1, "unknown reference prefix"),
        ("", 2026, 1, "unknown reference prefix"),
        ("CT", 1999, 1, "expected a year"),
        ("CT", 2100, 1, "expected a year"),
        ("CT", -1, 1, "expected a year"),
    ],
)
def test_format_reference_refuses(prefix: str, year: int, number: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        format_reference(prefix, year, number)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CT-26-000001", Reference(CT, 26, 1)),
        ("ct-26-000042", Reference(CT, 26, 42)),
        ("  CT-26-000042\n", Reference(CT, 26, 42)),
        ("CT 26 000042", Reference(CT, 26, 42)),
        ("CT - 26 - 000042", Reference(CT, 26, 42)),
        ("CT26000042", Reference(CT, 26, 42)),
        ("CT\u201326\u2013000042", Reference(CT, 26, 42)),  # en dashes from autocorrect
        ("CT-26-999999", Reference(CT, 26, 999_999)),
        ("PC-26-00001", Reference(PC, 26, 1)),
        ("pc-27-12345", Reference(PC, 27, 12_345)),
        ("Pc 09 00005", Reference(PC, 9, 5)),
    ],
)
def test_parse_reference(text: str, expected: Reference) -> None:
    assert parse_reference(text) == expected
    assert looks_like_reference(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "CT",
        "CT-26-00001",  # a contact has six digits
        "PC-26-000001",  # a consultation has five
        "CT-26-0000012",
        "CT-26-000000",  # sequences start at 1
        "PC-26-00000",
        "XX-26-000001",
        "CT-2026-000001",
        "CT-6-000001",
        "CT-26-00000a",
        "CT_26_000001",
        "find CT-26-000001",
        "CT-26-000001 please",
        "Jane Smith",
    ],
)
def test_parse_reference_rejects(text: str) -> None:
    with pytest.raises(InvalidReferenceError):
        parse_reference(text)
    assert not looks_like_reference(text)


def test_the_error_does_not_echo_what_was_typed() -> None:
    # Someone may type a child's name where a reference belongs; errors end up in logs.
    with pytest.raises(InvalidReferenceError) as caught:
        parse_reference("find Jane Smith")
    assert "Jane" not in str(caught.value)


def test_invalid_reference_error_is_a_domain_value_error() -> None:
    assert issubclass(InvalidReferenceError, DomainError)
    assert issubclass(InvalidReferenceError, ValueError)


def test_reference_values_check_themselves() -> None:
    with pytest.raises(ValueError):
        Reference(CT, 100, 1)
    with pytest.raises(ValueError):
        Reference(PC, 26, 100_000)
    assert Reference(PC, 26, 7).text == "PC-26-00007"


@pytest.mark.parametrize(("year", "expected"), [(2026, 26), (26, 26), (2000, 0), (0, 0), (2099, 99)])
def test_two_digit_year(year: int, expected: int) -> None:
    assert two_digit_year(year) == expected


@st.composite
def references(draw: st.DrawFn) -> Reference:
    kind = draw(st.sampled_from(list(ReferenceKind)))
    return Reference(
        kind, draw(st.integers(min_value=0, max_value=99)), draw(st.integers(1, kind.max_number))
    )


@given(ref=references(), lower=st.booleans())
def test_format_and_parse_round_trip(ref: Reference, lower: bool) -> None:
    text = format_reference(ref.kind, ref.year, ref.number)
    assert text == str(ref)
    assert (
        len(text)
        == {CT: 12, PC: 11, ReferenceKind.MASH_EPISODE: 11, ReferenceKind.BODY_REQUEST: 11}[ref.kind]
    )
    assert parse_reference(text.lower() if lower else text) == ref
