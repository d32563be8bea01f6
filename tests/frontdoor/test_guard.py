"""The identifying-data guard: a table of what it must find and what it must leave alone.

Every name here is obviously fictional; the phone numbers are Ofcom's drama ranges and the
postcodes are the well-known examples (Parliament, Royal Mail, the DVLA and friends).
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdoor.guard import (
    Finding,
    FindingKind,
    national_phone_digits,
    nhs_check_digit_ok,
    redact_preview,
    scan,
    summarise,
)

K = FindingKind
TODAY = date(2026, 6, 8)

#: (text, the kinds found in order). Rows that expect nothing are the false positives the guard
#: must not nag about.
TABLE: list[tuple[str, tuple[FindingKind, ...]]] = [
    # postcodes
    ("They live at SW1A 1AA with an aunt.", (K.POSTCODE,)),
    ("moved to M1 1AE last month", (K.POSTCODE,)),
    ("the flat at B33 8TH", (K.POSTCODE,)),
    ("near cr2 6xh, typed in lower case", (K.POSTCODE,)),
    ("post goes to DN55 1PT", (K.POSTCODE,)),
    ("GIR 0AA", (K.POSTCODE,)),
    ("written without a space: SW1A1AA.", (K.POSTCODE,)),
    ("the office at EC1V 9HX", (K.POSTCODE,)),
    # dates that could be dates of birth
    ("DOB 03/03/2015", (K.DATE,)),
    ("first seen 3-3-15 by the nurse", (K.DATE,)),
    ("born 3.3.2015", (K.DATE,)),
    ("she was 3 March 2015 I think", (K.DATE,)),
    ("on the 3rd of March 2015", (K.DATE,)),
    ("on March 3, 2015 at school", (K.DATE,)),
    ("ISO style 2015-03-03 from the form", (K.DATE,)),
    ("US order 03/25/2015 on the letter", (K.DATE,)),
    ("born in 2015", (K.DATE,)),
    ("date of birth: March 2015", (K.DATE,)),
    ("born on 3 March", (K.DATE,)),
    ("mum's D.O.B. 1.2.1988", (K.DATE,)),
    ("EDD 14/11/2026 for the baby", (K.DATE,)),
    # phone numbers
    ("mum's mobile 07700 900123", (K.PHONE,)),
    ("contact +44 7700 900123 any time", (K.PHONE,)),
    ("dad: +44 (0)20 7946 0000", (K.PHONE,)),
    ("home (01632) 960001", (K.PHONE,)),
    ("0113-496-0000 is the house", (K.PHONE,)),
    ("07700900123", (K.PHONE,)),
    ("0044 113 496 0000", (K.PHONE,)),
    # e-mail addresses
    ("email testy.mctestface@example.org please", (K.EMAIL,)),
    ("Zebedee_Example+school@mail.example.co.uk", (K.EMAIL,)),
    # NHS numbers: 943 476 5919 passes the modulus-11 check, 943 476 5918 does not
    ("NHS 943 476 5919", (K.NHS_NUMBER,)),
    ("nhs no 9434765919", (K.NHS_NUMBER,)),
    ("943-476-5919 on the red book", (K.NHS_NUMBER,)),
    ("NHS 943 476 5918 (mistyped)", (K.ID_NUMBER,)),
    # names after cues
    ("Mr Blobby-Testname is the stepdad", (K.NAME,)),
    ("Mrs. Zebedee Example came in", (K.NAME,)),
    ("Dr Testface at the practice", (K.NAME,)),
    ("a boy called Testy", (K.NAME,)),
    ("her daughter Zebedee is in nursery", (K.NAME,)),
    ("his name is Testy McTestface", (K.NAME,)),
    ("a girl named O'Example", (K.NAME,)),
    ("Master Testy again", (K.NAME,)),
    ("Miss Zoë Testperson", (K.NAME,)),
    ("her son April", (K.NAME,)),
    # several at once, in order of position
    ("Testy (DOB 3.3.15) at B33 8TH, 07700 900123", (K.DATE, K.POSTCODE, K.PHONE)),
    ("a child called Zebedee, NHS 943 476 5919, zeb@example.org", (K.NAME, K.NHS_NUMBER, K.EMAIL)),
    # false positives: none of these identifies anyone
    ("a pupil in Year 6", ()),
    ("KS2 SATs results", ()),
    ("within 48 hours", ()),
    ("collected at 16:30 most days", ()),
    ("waited about 2 hours", ()),
    ("she is 6 years old", ()),
    ("see CT-26-000123", ()),
    ("follow-up to PC-26-00012 and pc 26 00013", ()),
    ("they called the police", ()),
    ("mum called 999", ()),
    ("I called Social Care", ()),
    ("the Named Person says", ()),
    ("a man called X visits", ()),
    ("we called CAMHS", ()),
    ("in 2015 the family moved", ()),
    ("Childline 0800 1111", ()),
    ("NSPCC helpline 0808 800 5000", ()),
    ("in Y6 1st term", ()),
    ("scored 10/10 on the test", ()),
    ("back at 9.30 tomorrow", ()),
    ("half (1/2) of the class", ()),
    ("ages 3-5 at the nursery", ()),
    ("an old letter dated 12/03/1990", ()),
    ("the review is on 12/03/2027", ()),
    ("31/02/2020 is not a date", ()),
    ("on 3 March the school phoned", ()),
    ("In March 2015 it got worse", ()),
    ("her son In the morning", ()),
    ("dad Tuesday evenings only", ()),
    ("cost £1,500 in rent arrears", ()),
    ("Ofsted visited in January", ()),
]


@pytest.mark.parametrize(("text", "kinds"), TABLE, ids=[row[0][:40] for row in TABLE])
def test_the_guard_table(text: str, kinds: tuple[FindingKind, ...]) -> None:
    findings = scan(text, today=TODAY)
    assert tuple(f.kind for f in findings) == kinds
    for finding in findings:
        # The hint says what was found without repeating it.
        assert text[finding.start : finding.end] not in finding.hint


def test_the_table_is_big_enough() -> None:
    assert len(TABLE) >= 40
    assert sum(1 for _, kinds in TABLE if not kinds) >= 20


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("They live at SW1A 1AA.", "SW1A 1AA"),
        ("Mr Blobby-Testname is here", "Blobby-Testname"),
        ("his name is Testy McTestface.", "Testy McTestface"),
        ("DOB: 03/03/2015.", "03/03/2015"),
        ("born in 2015.", "2015"),
        ("ring (01632) 960001.", "(01632) 960001"),
        ("write to zeb@example.org.", "zeb@example.org"),
        ("NHS 943 476 5919.", "943 476 5919"),
    ],
)
def test_a_finding_spans_exactly_the_data(text: str, found: str) -> None:
    (finding,) = scan(text, today=TODAY)
    assert text[finding.start : finding.end] == found


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("at SW1A 1AA", "a postcode"),
        ("DOB 03/03/2015", "a date that could be a date of birth"),
        ("born in 2015", "a year of birth"),
        ("on 07700 900123", "a phone number"),
        ("at zeb@example.org", "an e-mail address"),
        ("NHS 943 476 5919", "an NHS number"),
        ("NHS 943 476 5918", "a 10-digit number laid out like an NHS number"),
        ("a boy called Testy", "a name after 'called'"),
        ("his name is Testy", "a name after 'name is'"),
        ("MRS Testface", "a name after 'Mrs'"),
        ("her daughter Zebedee", "a name after 'daughter'"),
    ],
)
def test_hints(text: str, hint: str) -> None:
    (finding,) = scan(text, today=TODAY)
    assert finding.hint == hint


class TestAllowedPhone:
    """The caller's own work number, given as their contact details, is not about the family."""

    SCHOOL = "0113 496 0000"

    @pytest.mark.parametrize(
        "written",
        ["call me back on 0113 496 0000", "office: 01134960000", "on +44 113 496 0000", "(0113) 496 0000"],
    )
    def test_the_callers_own_number_in_any_layout_is_not_flagged(self, written: str) -> None:
        assert scan(written, allowed_phone=self.SCHOOL, today=TODAY) == ()

    def test_a_different_number_still_is(self) -> None:
        text = "school 0113 496 0000, mum 07700 900123"
        findings = scan(text, allowed_phone=self.SCHOOL, today=TODAY)
        assert [(f.kind, text[f.start : f.end]) for f in findings] == [(K.PHONE, "07700 900123")]

    def test_without_an_allowed_phone_the_school_number_is_flagged(self) -> None:
        assert [f.kind for f in scan("school 0113 496 0000", today=TODAY)] == [K.PHONE]

    @pytest.mark.parametrize("allowed", ["", "   ", "n/a"])
    def test_an_empty_or_digitless_allowed_phone_allows_nothing(self, allowed: str) -> None:
        assert [f.kind for f in scan("mum 07700 900123", allowed_phone=allowed, today=TODAY)] == [K.PHONE]

    def test_an_allowed_number_that_passes_the_nhs_check_is_still_allowed(self) -> None:
        assert scan("ring 943 476 5919", allowed_phone="9434765919", today=TODAY) == ()


class TestDatesDependOnToday:
    def test_a_date_in_the_future_is_not_a_date_of_birth(self) -> None:
        assert scan("meeting on 01/07/2026", today=TODAY) == ()
        assert [f.kind for f in scan("meeting on 01/07/2026", today=date(2026, 7, 2))] == [K.DATE]

    def test_a_date_more_than_25_years_ago_needs_a_birth_cue(self) -> None:
        assert scan("letter of 07/06/2001", today=TODAY) == ()
        assert [f.kind for f in scan("letter of 08/06/2001", today=TODAY)] == [K.DATE]
        assert [f.kind for f in scan("dob 07/06/2001", today=TODAY)] == [K.DATE]

    def test_two_digit_years_are_the_latest_that_is_not_in_the_future(self) -> None:
        assert [f.kind for f in scan("3-3-15", today=TODAY)] == [K.DATE]  # 2015
        assert scan("3-3-30", today=TODAY) == ()  # 1930

    def test_29_february_today_does_not_break_the_window(self) -> None:
        assert [f.kind for f in scan("since 01/03/2003", today=date(2028, 2, 29))] == [K.DATE]


class TestMerging:
    def test_overlapping_findings_become_one(self) -> None:
        text = "write to sw1a1aa@example.org"
        (finding,) = scan(text, today=TODAY)
        assert finding.kind is K.EMAIL
        assert text[finding.start : finding.end] == "sw1a1aa@example.org"

    def test_a_name_inside_an_email_address_is_told_as_the_address(self) -> None:
        (finding,) = scan("a boy called Testy@example.org", today=TODAY)
        assert finding.kind is K.EMAIL

    def test_findings_are_sorted_by_position(self) -> None:
        findings = scan("zeb@example.org, SW1A 1AA, 07700 900123, called Testy", today=TODAY)
        assert [f.start for f in findings] == sorted(f.start for f in findings)
        assert [f.kind for f in findings] == [K.EMAIL, K.POSTCODE, K.PHONE, K.NAME]


class TestRedactPreview:
    def test_each_finding_becomes_its_placeholder(self) -> None:
        text = "Testy (DOB 3.3.15) at B33 8TH; mum 07700 900123; her son Zebedee; zeb@example.org"
        preview = redact_preview(text, scan(text, today=TODAY))
        assert preview == "Testy (DOB [date]) at [postcode]; mum [phone]; her son [name]; [e-mail]"

    def test_nhs_and_look_alike_numbers(self) -> None:
        text = "NHS 943 476 5919 or 943 476 5918"
        assert redact_preview(text, scan(text, today=TODAY)) == "NHS [NHS number] or [number]"

    def test_no_findings_leaves_the_text_alone(self) -> None:
        assert redact_preview("a pupil in Year 6", ()) == "a pupil in Year 6"

    def test_overlapping_or_out_of_range_findings_are_skipped(self) -> None:
        findings = [
            Finding(K.NAME, 0, 5, "a name after 'called'"),
            Finding(K.DATE, 3, 8, "a date that could be a date of birth"),
            Finding(K.PHONE, 40, 50, "a phone number"),
        ]
        assert redact_preview("Testy Example", findings) == "[name] Example"


def test_summarise_lists_distinct_hints() -> None:
    text = "SW1A 1AA and M1 1AE, 07700 900123, a girl called Zebedee"
    assert summarise(scan(text, today=TODAY)) == "a postcode, a phone number and a name after 'called'"
    assert summarise(scan("at SW1A 1AA", today=TODAY)) == "a postcode"
    assert summarise(()) == ""


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("9434765919", True),
        ("9434765918", False),
        ("4010232137", True),
        ("4010232138", False),
        ("0000000000", True),  # remainder 0 reads as check digit 0
        ("1000000010", False),  # the check digit would be 10: never issued
        ("943476591", False),
        ("94347659190", False),
        ("943476591x", False),
    ],
)
def test_nhs_check_digit(digits: str, valid: bool) -> None:
    assert nhs_check_digit_ok(digits) is valid


@pytest.mark.parametrize(
    ("written", "national"),
    [
        ("0113 496 0000", "01134960000"),
        ("+44 113 496 0000", "01134960000"),
        ("+44 (0)113 496 0000", "01134960000"),
        ("0044 113 496 0000", "01134960000"),
        ("(0113) 496-0000", "01134960000"),
        ("943 476 5919", "9434765919"),
    ],
)
def test_national_phone_digits(written: str, national: str) -> None:
    assert national_phone_digits(written) == national


def test_a_finding_spans_at_least_one_character() -> None:
    with pytest.raises(ValueError, match="at least one character"):
        Finding(K.DATE, 4, 4, "a date that could be a date of birth")


@given(st.text(alphabet=st.sampled_from("0123456789 -/.:+()@abcMSWAEXYT\n"), max_size=80))
def test_findings_are_in_bounds_sorted_and_disjoint(text: str) -> None:
    findings = scan(text, today=TODAY)
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
    for before, after in pairwise(findings):
        assert before.end <= after.start
    # Every finding shows as a placeholder in the preview.
    preview = redact_preview(text, findings)
    assert preview.count("[") >= len(findings)
