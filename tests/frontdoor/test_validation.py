"""Server-side checks of the contact script: formats, field rules, and parsing raw card values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontdoor.answers import (
    ChildrenAnswers,
    HistoryAnswers,
    ParentsAnswers,
    ParsedSection,
    ReferrerAnswers,
    RiskAnswers,
    SourceAnswers,
    SummaryAnswers,
    WorriesAnswers,
)
from frontdoor.card_values import FieldError
from frontdoor.contact import (
    Child,
    Consent,
    Contact,
    ContactType,
    HistoryChecks,
    ImmediateRisk,
    Parent,
    PresentingNeed,
    Referrer,
    ReferrerType,
    Source,
)
from frontdoor.contact_details import (
    join_address,
    normalise_email,
    normalise_phone,
    normalise_phone_anywhere,
    normalise_postcode,
    split_address,
)
from frontdoor.policy import Policy, default_policy, parse_policy
from frontdoor.script import UNBORN_NAME, Section, child_fields
from frontdoor.validation import apply_section, check_complete, check_received_at, parse_section
from frontdoor.views import format_phone

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 16, 10, 0, tzinfo=LONDON)  # a Monday, GMT
TODAY = date(2026, 3, 16)
POLICY = default_policy()


def parse(
    section: Section, values: dict[str, object], *, partial: bool = False, policy: Policy = POLICY
) -> ParsedSection | list[FieldError]:
    return parse_section(section, values, TODAY, NOW, policy, partial=partial)


def errors_of(result: ParsedSection | list[FieldError]) -> dict[str, str]:
    assert isinstance(result, list), f"expected errors, got {result!r}"
    return {error.field_id: error.message for error in result}


# -- formats -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("07700 900123", "+447700900123"),
        ("07700900123", "+447700900123"),
        ("07700-900-123", "+447700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("0044 7700 900123", "+447700900123"),
        ("+44 (0)20 7946 0000", "+442079460000"),
        ("(020) 7946 0000", "+442079460000"),
        ("0191 498 0000", "+441914980000"),
        ("01632 960000", "+441632960000"),
        ("016977 4321", "+44169774321"),  # one of the few nine-digit 01 areas
        ("0300 123 4567", "+443001234567"),
        ("0808 800 5000", "+448088005000"),  # a freephone helpline
        ("  07700 900123  ", "+447700900123"),
    ],
)
def test_valid_uk_phone_numbers_compare_in_e164(typed: str, stored: str) -> None:
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("0191 498 0000", "0191 498 0000"),
        ("+44 (0)20 7946 0000", "+44 (0)20 7946 0000"),
        ("  07700   900123 ", "07700 900123"),
        ("07700900123", "07700900123"),
    ],
)
def test_a_phone_number_is_kept_as_typed_once_it_is_valid(typed: str, kept: str) -> None:
    parsed = parse(Section.REFERRER, PROFESSIONAL | {"referrer_phone": typed})
    assert isinstance(parsed, ReferrerAnswers) and parsed.referrer.phone == kept
    assert format_phone(kept) == kept
    # and a number stored in E.164 before, shown as dialled in the UK
    assert format_phone("+441914980000") == "01914980000"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "7700 900123",  # no leading 0
        "0770 090012",  # too short for a mobile
        "077009001234",  # too long
        "09098 790000",  # premium rate
        "0870 123 4567",  # not a freephone 08
        "+1 202 555 0100",  # not UK
        "07700 9001x3",
        "07700 900123 ext 4",
        "o77oo 9oo123",
        "０７７００ ９００１２３",  # full-width digits
    ],
)
def test_invalid_phone_numbers_are_refused(typed: str) -> None:
    assert normalise_phone(typed) is None


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("testy@example.org", "testy@example.org"),
        ("Testy.McTestface@Example.ORG", "Testy.McTestface@example.org"),
        ("first+tag@mail.example.co.uk", "first+tag@mail.example.co.uk"),
        ("  zebedee@example.gov.uk ", "zebedee@example.gov.uk"),
    ],
)
def test_valid_email_addresses(typed: str, stored: str) -> None:
    assert normalise_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "testy",
        "testy@example",  # no dot in the domain
        "testy@@example.org",
        "te sty@example.org",
        "testy@exa mple.org",
        "@example.org",
        "testy@.org",
        "testy@example.",
        "testy@example..org",
        ".testy@example.org",
        "te..sty@example.org",
        "a@b@example.org",
        "x" * 250 + "@example.org",
    ],
)
def test_invalid_email_addresses(typed: str) -> None:
    assert normalise_email(typed) is None


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("  m1   1ae ", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("W1A 0AX", "W1A 0AX"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("DH1 5UQ", "DH1 5UQ"),
        ("gir 0aa", "GIR 0AA"),
    ],
)
def test_valid_postcodes_are_upper_case_with_one_space(typed: str, stored: str) -> None:
    assert normalise_postcode(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "SW1A",  # outward code only
        "1AA",
        "SW1A 1A",
        "SW1A 1AAA",
        "QW1 1AA",  # Q never starts a postcode
        "SW1A 1CA",  # C never in the inward letters
        "SW1A-1AA",
        "12345",
        "SW1A 1ÀA",
    ],
)
def test_invalid_postcodes(typed: str) -> None:
    assert normalise_postcode(typed) is None


@pytest.mark.parametrize(
    ("address", "postcode", "stored"),
    [
        ("1 Test Street, Testtown", "TE1 1ST", "1 Test Street, Testtown\nTE1 1ST"),
        ("1 Test Street", "", "1 Test Street"),
        ("", "TE1 1ST", "TE1 1ST"),
    ],
)
def test_address_and_postcode_round_trip(address: str, postcode: str, stored: str) -> None:
    assert join_address(address, postcode) == stored
    assert split_address(stored) == (address, postcode)


def test_an_address_whose_last_line_is_not_a_postcode_keeps_it() -> None:
    assert split_address("Flat 2\nTest House") == ("Flat 2\nTest House", "")


# -- received-at -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "ok"),
    [
        (NOW, True),
        (NOW - timedelta(days=14), True),  # back-dating allowed, up to 14 days
        (NOW - timedelta(days=14, minutes=1), False),
        (NOW + timedelta(minutes=1), False),  # never in the future
        (NOW - timedelta(hours=3), True),
    ],
)
def test_received_at_window(received_at: datetime, ok: bool) -> None:
    errors = check_received_at(received_at, NOW)
    assert (errors == []) is ok
    assert all(error.message.startswith("Date received") for error in errors)


# -- the source section ----------------------------------------------------------------------------


def test_source_section_parses_enum_values() -> None:
    parsed = parse(Section.SOURCE, {"source": "phone", "contact_type": "referral"})
    assert parsed == SourceAnswers(Source.PHONE, ContactType.REFERRAL, None)


def test_source_section_back_dated_receipt_is_read_in_london_time() -> None:
    parsed = parse(
        Section.SOURCE,
        {
            "source": "email",
            "contact_type": "referral",
            "received_date": "2026-03-13",
            "received_time": "16:45",
        },
    )
    assert isinstance(parsed, SourceAnswers)
    assert parsed.received_at == datetime(2026, 3, 13, 16, 45, tzinfo=UTC)


def test_a_received_time_alone_means_today() -> None:
    parsed = parse(Section.SOURCE, {"source": "phone", "contact_type": "advice", "received_time": "09:10"})
    assert isinstance(parsed, SourceAnswers)
    assert parsed.received_at == datetime(2026, 3, 16, 9, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"contact_type": "referral"}, "source", "Source: this is required"),
        ({"source": "carrier_pigeon", "contact_type": "referral"}, "source", "not one of the choices"),
        ({"source": 7, "contact_type": "referral"}, "source", "could not be read"),
        ({"source": ["phone"], "contact_type": "referral"}, "source", "could not be read"),
        ({"source": "phone"}, "contact_type", "Contact type: this is required"),
        (
            {
                "source": "phone",
                "contact_type": "referral",
                "received_date": "2026-03-16",
                "received_time": "11:00",
            },
            "received_date",
            "must not be in the future",
        ),
        (
            {
                "source": "phone",
                "contact_type": "referral",
                "received_date": "2026-02-01",
                "received_time": "11:00",
            },
            "received_date",
            "at most 14 days",
        ),
        (
            {"source": "phone", "contact_type": "referral", "received_date": "2026-03-16"},
            "received_time",
            "time too",
        ),
        (
            {
                "source": "phone",
                "contact_type": "referral",
                "received_date": "16th March",
                "received_time": "09:00",
            },
            "received_date",
            "enter a date",
        ),
        (
            {"source": "phone", "contact_type": "referral", "received_time": "25:00"},
            "received_time",
            "enter a time",
        ),
    ],
)
def test_source_section_errors(values: dict[str, object], field: str, words: str) -> None:
    messages = errors_of(parse(Section.SOURCE, values))
    assert words in messages[field]


def test_keys_that_are_not_fields_are_ignored() -> None:
    values: dict[str, object] = {"source": "phone", "contact_type": "advice", "action": "next", "version": 3}
    assert isinstance(parse(Section.SOURCE, values), SourceAnswers)


def test_values_that_are_not_a_mapping_give_an_error_not_an_exception() -> None:
    result = parse_section(Section.SOURCE, ["source"], TODAY, NOW, POLICY)  # type: ignore[arg-type]
    assert isinstance(result, list) and result


# -- the referrer section ------------------------------------------------------------------------


PROFESSIONAL: dict[str, object] = {
    "referrer_type": "professional",
    "referrer_name": "Testy McTestface",
    "referrer_agency": "Example Primary School",
    "referrer_role": "Designated safeguarding lead",
    "referrer_phone": "0191 498 0000",
    "referrer_email": "testy@example.org",
    "anonymity_requested": "false",
}


def test_a_professional_referrer() -> None:
    parsed = parse(Section.REFERRER, PROFESSIONAL)
    assert parsed == ReferrerAnswers(
        Referrer(
            ReferrerType.PROFESSIONAL,
            "Testy McTestface",
            "Example Primary School",
            "Designated safeguarding lead",
            "0191 498 0000",
            "testy@example.org",
            False,
        )
    )


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"referrer_name": ""}, "referrer_name", "must give their name"),
        ({"referrer_agency": "  "}, "referrer_agency", "must give their agency"),
        ({"anonymity_requested": "true"}, "anonymity_requested", "only a member of the public"),
        ({"referrer_type": "family_member", "anonymity_requested": "true"}, "anonymity_requested", "only"),
        ({"referrer_type": "child", "anonymity_requested": True}, "anonymity_requested", "only"),
        ({"referrer_phone": "12345"}, "referrer_phone", "Referrer phone: enter a UK phone number"),
        ({"referrer_email": "testy at example"}, "referrer_email", "Referrer e-mail: enter an e-mail"),
        ({"anonymity_requested": "maybe"}, "anonymity_requested", "could not be read"),
        ({"referrer_type": ""}, "referrer_type", "Referrer type: this is required"),
        ({"referrer_name": "x" * 201}, "referrer_name", "too long"),
    ],
)
def test_referrer_rules(change: dict[str, object], field: str, words: str) -> None:
    messages = errors_of(parse(Section.REFERRER, PROFESSIONAL | change))
    assert words in messages[field]


@pytest.mark.parametrize("flag", ["true", "True", True])
def test_a_member_of_the_public_may_stay_anonymous(flag: object) -> None:
    parsed = parse(Section.REFERRER, {"referrer_type": "member_of_public", "anonymity_requested": flag})
    assert isinstance(parsed, ReferrerAnswers) and parsed.referrer is not None
    assert parsed.referrer.anonymity_requested
    assert parsed.referrer.name == ""


def test_non_professionals_need_no_name_or_agency() -> None:
    parsed = parse(Section.REFERRER, {"referrer_type": "family_member", "referrer_name": "Zebedee Example"})
    assert isinstance(parsed, ReferrerAnswers)


# -- the children section -----------------------------------------------------------------------


def child(index: int = 0, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {"name": "Zebedee Example", "dob": "2019-05-04"}
    return {f"child_{index}_{key}": value for key, value in (base | fields).items()}


def test_one_child_with_address_and_postcode() -> None:
    parsed = parse(
        Section.CHILDREN,
        child(gender="male", address="1 Test Street", postcode="te1 1st", school="Example Primary"),
    )
    assert parsed == ChildrenAnswers(
        (
            Child(
                "Zebedee Example",
                date(2019, 5, 4),
                None,
                "male",
                "1 Test Street\nTE1 1ST",
                "Example Primary",
            ),
        )
    )


def test_several_children_in_index_order_and_a_blank_added_block_is_ignored() -> None:
    values = child(1, name="Testy McTestface", dob="2021-01-02") | child(0) | child(2, name="", dob="")
    parsed = parse(Section.CHILDREN, values)
    assert isinstance(parsed, ChildrenAnswers)
    assert [c.name for c in parsed.children] == ["Zebedee Example", "Testy McTestface"]


def test_an_unborn_child_needs_only_an_expected_date() -> None:
    parsed = parse(Section.CHILDREN, child(name="", dob="", expected="2026-08-01"))
    assert isinstance(parsed, ChildrenAnswers)
    assert parsed.children[0].name == "Unborn"
    assert parsed.children[0].expected_date == date(2026, 8, 1)


def test_the_child_name_hint_matches_the_validation() -> None:
    """The name is required on the card, so its hint asks for a word rather than a blank, and what
    it asks for is accepted."""
    [name] = [spec for spec in child_fields(0) if spec.id == "child_0_name"]
    assert name.required and "blank" not in name.help.casefold()
    assert f'write "{UNBORN_NAME}"' in name.help
    parsed = parse(Section.CHILDREN, child(name=UNBORN_NAME, dob="", expected="2026-08-01"))
    assert isinstance(parsed, ChildrenAnswers)
    assert (parsed.children[0].name, parsed.children[0].expected_date) == (UNBORN_NAME, date(2026, 8, 1))


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"dob": "2026-03-17"}, "child_0_dob", "Child 1 date of birth: must not be in the future"),
        ({"dob": "1926-03-17"}, "child_0_dob", "more than 25 years ago"),
        ({"dob": "31/02/2020"}, "child_0_dob", "enter a date"),
        ({"dob": ""}, "child_0_dob", "Child 1 date of birth: enter it"),
        ({"name": "", "dob": "2020-01-01"}, "child_0_name", "Child 1 name"),
        ({"name": "Unborn", "dob": ""}, "child_0_expected", "enter it for an unborn baby"),
        # an overdue baby's expected date may be up to 6 weeks past (16 Mar 2026: back to 2 Feb)
        ({"dob": "", "expected": "2026-02-01"}, "child_0_expected", "is more than 6 weeks ago"),
        ({"dob": "", "expected": "2027-03-01"}, "child_0_expected", "more than 10 months"),
        ({"expected": "2026-06-01"}, "child_0_expected", "not both"),
        ({"postcode": "nowhere"}, "child_0_postcode", "Child 1 postcode: enter a full UK postcode"),
        ({"gender": "unicorn"}, "child_0_gender", "not one of the choices"),
        ({"name": {"first": "Z"}}, "child_0_name", "could not be read"),
    ],
)
def test_child_rules(fields: dict[str, object], field: str, words: str) -> None:
    messages = errors_of(parse(Section.CHILDREN, child(0, **fields)))
    assert words in messages[field]


@pytest.mark.parametrize("expected", ["2026-03-15", "2026-02-02"])
def test_an_overdue_pregnancy_can_be_recorded(expected: str) -> None:
    parsed = parse(Section.CHILDREN, child(name="", dob="", expected=expected))
    assert isinstance(parsed, ChildrenAnswers)
    assert parsed.children[0].expected_date == date.fromisoformat(expected)


def test_the_second_child_is_named_in_its_message() -> None:
    messages = errors_of(parse(Section.CHILDREN, child(0) | child(1, dob="2030-01-01")))
    assert messages == {"child_1_dob": "Child 2 date of birth: must not be in the future"}


@pytest.mark.parametrize("values", [{}, child(name="", dob="")])
def test_at_least_one_child(values: dict[str, object]) -> None:
    messages = errors_of(parse(Section.CHILDREN, values))
    assert "at least one child" in messages["child_0_name"]


def test_dates_typed_the_british_way_are_read() -> None:
    parsed = parse(Section.CHILDREN, child(dob="04/05/2019"))
    assert isinstance(parsed, ChildrenAnswers)
    assert parsed.children[0].date_of_birth == date(2019, 5, 4)


def test_too_many_children_is_refused() -> None:
    assert "At most" in errors_of(parse(Section.CHILDREN, child(0) | child(20)))["child_20_name"]


# -- parents and consent -----------------------------------------------------------------------


def test_parents_and_consent() -> None:
    values: dict[str, object] = {
        "parent_0_name": "Testy McTestface",
        "parent_0_relationship": "Mother",
        "parent_0_phone": "07700 900123",
        "parent_0_postcode": "TE1 1ST",
        "consent": "given",
        "consent_reason": "typed before changing the answer",
    }
    assert parse(Section.PARENTS, values) == ParentsAnswers(
        (Parent("Testy McTestface", "Mother", "TE1 1ST", "07700 900123"),), Consent.GIVEN, ""
    )


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"consent": "not_sought"}, "consent_reason", "Why consent was refused or not sought"),
        ({"consent": "not_sought", "consent_reason": "   "}, "consent_reason", "say why"),
        ({"consent": "refused"}, "consent_reason", "record the reason the parents gave for refusing"),
        ({}, "consent", "Consent: this is required"),
        ({"consent": "given", "parent_0_phone": "123"}, "parent_0_phone", "Parent 1 phone"),
        ({"consent": "given", "parent_0_relationship": "Father"}, "parent_0_name", "Parent 1 name"),
    ],
)
def test_consent_rules(values: dict[str, object], field: str, words: str) -> None:
    assert words in errors_of(parse(Section.PARENTS, values))[field]


@pytest.mark.parametrize("consent", ["not_sought", "refused"])
def test_consent_refused_or_not_sought_keeps_its_reason(consent: str) -> None:
    parsed = parse(
        Section.PARENTS, {"consent": consent, "consent_reason": "Seeking it would alert the adult"}
    )
    assert isinstance(parsed, ParentsAnswers)
    assert parsed.consent_reason == "Seeking it would alert the adult"


# -- worries, risk, history ----------------------------------------------------------------------


def test_worries_and_multiselect_needs_as_teams_sends_them() -> None:
    parsed = parse(
        Section.WORRIES,
        {"worries": "Line one\r\nLine two", "presenting_needs": "neglect,domestic_abuse", "working_well": ""},
    )
    assert parsed == WorriesAnswers(
        "Line one\nLine two", "", "", frozenset({PresentingNeed.NEGLECT, PresentingNeed.DOMESTIC_ABUSE})
    )


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"presenting_needs": "neglect"}, "worries", "What are we worried about: this is required"),
        ({"worries": "x"}, "presenting_needs", "Presenting needs: this is required"),
        (
            {"worries": "x", "presenting_needs": "neglect,gremlins"},
            "presenting_needs",
            "not one of the choices",
        ),
        ({"worries": "x", "presenting_needs": 3}, "presenting_needs", "could not be read"),
    ],
)
def test_worries_rules(values: dict[str, object], field: str, words: str) -> None:
    assert words in errors_of(parse(Section.WORRIES, values))[field]


def test_free_text_is_limited_by_the_policy() -> None:
    small = parse_policy("[limits]\nmax_free_text_chars = 10\n")
    values: dict[str, object] = {"worries": "x" * 11, "presenting_needs": "neglect"}
    assert "at most 10 characters" in errors_of(parse(Section.WORRIES, values, policy=small))["worries"]
    assert isinstance(parse(Section.WORRIES, values), WorriesAnswers)


ALL_NO: dict[str, object] = {f"risk_{risk.value}": "no" for risk in ImmediateRisk}


def test_risk_screen_all_no_is_not_urgent() -> None:
    assert parse(Section.RISK, ALL_NO) == RiskAnswers(frozenset())


def test_risk_screen_a_yes() -> None:
    assert parse(Section.RISK, ALL_NO | {"risk_disclosure": "yes"}) == RiskAnswers(
        frozenset({ImmediateRisk.DISCLOSURE})
    )


def test_risk_screen_every_question_must_be_answered() -> None:
    values = dict(ALL_NO)
    del values["risk_injury"]
    assert "Answer yes or no" in errors_of(parse(Section.RISK, values))["risk_injury"]


HISTORY: dict[str, object] = {
    "open_case": "false",
    "systems_checked": "social_care,early_help",
    "chronology": "",
}


def test_history_checks_record_the_closure_date_and_early_help() -> None:
    values = HISTORY | {
        "closed_on": "2026-01-05",
        "open_to_early_help": "true",
        "early_help_worker": "aad-eh-1",
    }
    parsed = parse(Section.HISTORY, values)
    assert isinstance(parsed, HistoryAnswers)
    assert parsed.history.closed_on == date(2026, 1, 5)
    assert parsed.history.open_to_early_help and parsed.history.early_help_worker_id == "aad-eh-1"
    # a worker left on the card belongs to early help only while the child is open to it
    closed = parse(Section.HISTORY, values | {"open_to_early_help": "false"})
    assert isinstance(closed, HistoryAnswers) and closed.history.early_help_worker_id is None


def test_history_checks() -> None:
    parsed = parse(Section.HISTORY, HISTORY | {"open_case": "true", "allocated_worker": "aad-sw-1"})
    assert parsed == HistoryAnswers(
        HistoryChecks(
            open_case=True, allocated_worker_id="aad-sw-1", systems_checked=("social_care", "early_help")
        )
    )


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"open_case": "true"}, "allocated_worker", "choose the allocated worker"),
        ({"open_case": "true", "allocated_worker": "not a person id"}, "allocated_worker", "choose a person"),
        ({"systems_checked": ""}, "systems_checked", "Checks done: this is required"),
        ({"systems_checked": "social_care,ouija"}, "systems_checked", "not one of the choices"),
        ({"closed_on": "2026-03-17"}, "closed_on", "must not be in the future"),
        ({"open_to_early_help": "true"}, "early_help_worker", "choose the early help worker"),
    ],
)
def test_history_rules(change: dict[str, object], field: str, words: str) -> None:
    assert words in errors_of(parse(Section.HISTORY, HISTORY | change))[field]


def test_summary_parses_to_nothing() -> None:
    assert parse(Section.SUMMARY, {"anything": "at all"}) == SummaryAnswers()


# -- save draft (partial) ------------------------------------------------------------------------


def test_a_partial_save_allows_missing_answers_but_not_wrong_ones() -> None:
    assert parse(Section.SOURCE, {"source": "phone"}, partial=True) == SourceAnswers(Source.PHONE, None, None)
    assert parse(Section.CHILDREN, {}, partial=True) == ChildrenAnswers(())
    assert parse(Section.REFERRER, {}, partial=True) == ReferrerAnswers(None)
    assert (
        "must not be in the future"
        in errors_of(parse(Section.CHILDREN, child(dob="2030-01-01"), partial=True))["child_0_dob"]
    )
    assert (
        "only a member of the public"
        in errors_of(
            parse(
                Section.REFERRER,
                {"referrer_type": "professional", "anonymity_requested": "true"},
                partial=True,
            )
        )["anonymity_requested"]
    )


def test_a_partial_referrer_still_needs_its_type_once_anything_is_given() -> None:
    messages = errors_of(parse(Section.REFERRER, {"referrer_name": "Testy McTestface"}, partial=True))
    assert "Referrer type" in messages["referrer_type"]


def test_one_message_per_field() -> None:
    result = parse(Section.REFERRER, PROFESSIONAL | {"referrer_name": ""})
    assert isinstance(result, list)
    ids = [error.field_id for error in result]
    assert len(ids) == len(set(ids))


# -- applying and completeness -----------------------------------------------------------------

BLANK = Contact(id="c-1", created_by="officer-1", created_at=datetime(2026, 3, 16, 9, tzinfo=UTC))


def complete_contact() -> Contact:
    contact = BLANK
    script: list[tuple[Section, dict[str, object]]] = [
        (Section.SOURCE, {"source": "phone", "contact_type": "referral"}),
        (Section.REFERRER, PROFESSIONAL),
        (Section.CHILDREN, child()),
        (Section.PARENTS, {"consent": "given"}),
        (Section.WORRIES, {"worries": "Worried", "presenting_needs": "neglect"}),
        (Section.RISK, ALL_NO),
        (Section.HISTORY, HISTORY),
    ]
    for section, values in script:
        parsed = parse(section, values)
        assert not isinstance(parsed, list), parsed
        contact = apply_section(contact, parsed)
    return contact


def test_apply_section_fills_the_contact() -> None:
    contact = complete_contact()
    assert contact.source is Source.PHONE
    assert contact.referrer is not None and contact.referrer.name == "Testy McTestface"
    assert [c.name for c in contact.children] == ["Zebedee Example"]
    assert contact.consent is Consent.GIVEN
    assert contact.presenting_needs == {PresentingNeed.NEGLECT}
    assert contact.history.systems_checked == ("social_care", "early_help")
    assert check_complete(contact, TODAY) == []


def test_apply_section_replaces_what_the_section_held() -> None:
    contact = complete_contact()
    parsed = parse(Section.RISK, ALL_NO | {"risk_injury": "yes"})
    assert not isinstance(parsed, list)
    assert apply_section(contact, parsed).urgent
    assert not apply_section(apply_section(contact, parsed), RiskAnswers(frozenset())).urgent


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": None}, "source"),
        ({"contact_type": None}, "contact_type"),
        ({"referrer": None}, "referrer_type"),
        ({"referrer": Referrer(ReferrerType.PROFESSIONAL, agency="Example School")}, "referrer_name"),
        ({"referrer": Referrer(ReferrerType.FAMILY_MEMBER, anonymity_requested=True)}, "anonymity_requested"),
        ({"children": ()}, "child_0_name"),
        ({"children": (Child("Zebedee Example"),)}, "child_0_dob"),
        ({"children": (Child("Unborn", expected_date=date(2026, 1, 1)),)}, "child_0_expected"),
        ({"consent": None}, "consent"),
        ({"consent": Consent.NOT_SOUGHT}, "consent_reason"),
        ({"consent": Consent.REFUSED}, "consent_reason"),
        ({"worries": " "}, "worries"),
        ({"presenting_needs": frozenset()}, "presenting_needs"),
        ({"history": HistoryChecks()}, "systems_checked"),
        ({"history": HistoryChecks(open_case=True, systems_checked=("police",))}, "allocated_worker"),
        ({"contact_type": ContactType.OPEN_CASE_INFORMATION}, "open_case"),
    ],
)
def test_check_complete_finds_what_is_missing(change: dict[str, object], field: str) -> None:
    contact = replace(complete_contact(), **change)  # type: ignore[arg-type]
    assert field in {error.field_id for error in check_complete(contact, TODAY)}


def test_an_urgent_contact_needs_no_history_checks() -> None:
    contact = replace(
        complete_contact(), history=HistoryChecks(), immediate_risks=frozenset({ImmediateRisk.INJURY})
    )
    assert check_complete(contact, TODAY) == []


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("+1 (202) 555-0100", "+12025550100"),
        ("+683 4002", "+6834002"),  # the shortest: Niue
        ("07700 900123", "+447700900123"),  # a UK number is still read as one
    ],
)
def test_a_number_anywhere_in_international_form_compares_in_e164(typed: str, stored: str) -> None:
    assert normalise_phone_anywhere(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "+44 12",  # a UK number mistyped, not one abroad
        "+44 7700 9001",
        "+0 123 456 789",  # no country code starts with 0
        "+33 612",  # too short
        "33 6 12 34 56 78",  # no + or 00
        "+1234567890123456",  # longer than E.164 allows
        "+33 6x",
    ],
)
def test_a_number_abroad_must_be_whole_and_not_a_mistyped_uk_one(typed: str) -> None:
    assert normalise_phone_anywhere(typed) is None
