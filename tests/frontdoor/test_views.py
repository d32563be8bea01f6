"""Read-only views for cards: minimised channel summaries, referrer labels, and card values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from frontdoor.calendar import WorkingCalendar
from frontdoor.contact import (
    Child,
    Consent,
    Contact,
    ContactState,
    ContactType,
    EmergencyDetails,
    HistoryChecks,
    ImmediateRisk,
    Parent,
    PresentingNeed,
    Referrer,
    ReferrerType,
    Source,
)
from frontdoor.policy import default_policy
from frontdoor.rag import Rag
from frontdoor.records import ClockKind, Deadline, DeadlineState
from frontdoor.script import Section
from frontdoor.validation import apply_section, parse_section
from frontdoor.views import (
    ChildSummary,
    channel_summary,
    child_summary,
    format_phone,
    initials,
    referrer_label,
    section_values,
)

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
TODAY = date(2026, 3, 16)
CALENDAR = WorkingCalendar()
POLICY = default_policy()

ANONYMOUS = Referrer(
    ReferrerType.MEMBER_OF_PUBLIC,
    name="Testy McTestface",
    phone="07700 900123",
    email="testy@example.org",
    anonymity_requested=True,
)

CONTACT = Contact(
    id="c-1",
    created_by="officer-1",
    created_at=NOW,
    state=ContactState.AWAITING_SCREENING,
    reference="CT-26-000001",
    received_at=NOW,
    source=Source.MEMBER_OF_PUBLIC,
    contact_type=ContactType.REFERRAL,
    referrer=ANONYMOUS,
    children=(
        Child(
            "Zebedee Example",
            date(2019, 5, 4),
            gender="male",
            address="1 Test Street\nTE1 1ST",
            school="Example",
        ),
        Child("Unborn", expected_date=date(2026, 8, 20)),
    ),
    parents=(Parent("Xanthe Example", "Mother", "1 Test Street\nTE1 1ST", "07700 900456"),),
    consent=Consent.NOT_SOUGHT,
    consent_reason="Seeking it would alert the adult",
    worries="Bruising seen on the arm",
    working_well="Attends school",
    needs_to_happen="A visit",
    presenting_needs=frozenset({PresentingNeed.PHYSICAL_HARM, PresentingNeed.NEGLECT}),
    immediate_risks=frozenset({ImmediateRisk.INJURY}),
    history=HistoryChecks(systems_checked=("social_care",), chronology="Two earlier contacts"),
)

DEADLINES = (
    Deadline("CT-26-000001", ClockKind.SCREENING, NOW, NOW + timedelta(days=1)),
    Deadline("CT-26-000001", ClockKind.CP_DECISION, NOW, NOW + timedelta(hours=2)),
    Deadline("CT-26-000001", ClockKind.COMPLETION_24H, NOW, NOW + timedelta(hours=1), DeadlineState.MET),
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Zebedee Example", "Z.E."),
        ("testy mctestface", "T.M."),
        ("  Zebedee   Quentin  Example ", "Z.Q.E."),
        ("Unborn", "Unborn"),
        ("unborn", "Unborn"),
        ("", "?"),
        ("'Zeb' Example", "Z.E."),
    ],
)
def test_initials(name: str, expected: str) -> None:
    assert initials(name) == expected


@pytest.mark.parametrize(
    ("child", "age"),
    [
        (Child("A B", date(2019, 5, 4)), "6 years"),
        (Child("A B", date(2019, 3, 16)), "7 years"),  # birthday today
        (Child("A B", date(2025, 3, 17)), "11 months"),
        (Child("A B", date(2025, 2, 16)), "1 year"),
        (Child("A B", date(2026, 2, 16)), "1 month"),
        (Child("A B", date(2026, 3, 1)), "under 1 month"),
        (Child("Unborn", expected_date=date(2026, 8, 20)), "unborn, due Aug 2026"),
        (Child("A B"), "age not known"),
    ],
)
def test_child_ages(child: Child, age: str) -> None:
    assert child_summary(child, TODAY).age_text == age


def test_a_child_summary_holds_no_name_or_date_of_birth() -> None:
    summary = child_summary(CONTACT.children[0], TODAY)
    assert summary == ChildSummary("Z.E.", age_years=6)


def test_an_anonymous_member_of_the_public_is_never_named_outside_the_own_view() -> None:
    label = referrer_label(ANONYMOUS, own_view=False)
    assert label == "Member of the public (anonymous)"
    assert "Testy" not in label
    own = referrer_label(ANONYMOUS, own_view=True)
    assert "Testy McTestface" in own and "do not disclose" in own


@pytest.mark.parametrize(
    ("referrer", "outside", "own"),
    [
        (
            Referrer(ReferrerType.PROFESSIONAL, "Testy McTestface", "Example School", "Teacher"),
            "Professional",
            "Professional: Testy McTestface, Teacher, Example School",
        ),
        (Referrer(ReferrerType.FAMILY_MEMBER), "Family member", "Family member"),
        (None, "Not recorded", "Not recorded"),
    ],
)
def test_referrer_labels(referrer: Referrer | None, outside: str, own: str) -> None:
    assert referrer_label(referrer, own_view=False) == outside
    assert referrer_label(referrer, own_view=True) == own


def test_the_channel_summary_minimises_data() -> None:
    summary = channel_summary(CONTACT, DEADLINES, NOW, CALENDAR, POLICY, repeat=True)
    assert summary.reference == "CT-26-000001"
    assert [(c.initials, c.age_text) for c in summary.children] == [
        ("Z.E.", "6 years"),
        ("Unborn", "unborn, due Aug 2026"),
    ]
    assert summary.need_titles == ("Neglect", "Physical harm")
    assert summary.urgent and summary.repeat
    assert summary.referrer == "Member of the public (anonymous)"
    # The earliest open clock, not the met one.
    assert (summary.due_clock, summary.due_at, summary.rag) == (
        ClockKind.CP_DECISION,
        NOW + timedelta(hours=2),
        Rag.GREEN,
    )
    shown = repr(summary)
    for secret in (
        "Zebedee",
        "Example",
        "Testy",
        "McTestface",
        "7700",
        "testy@example.org",
        "Test Street",
        "TE1",
        "2019-05-04",
        "datetime.date(2019",
        "Bruising",
        "Attends",
        "visit",
        "alert the adult",
        "earlier contacts",
    ):
        assert secret not in shown, secret


def test_the_channel_summary_turns_red_when_the_clock_runs_out() -> None:
    later = NOW + timedelta(hours=2, minutes=1)
    assert channel_summary(CONTACT, DEADLINES, later, CALENDAR, POLICY).rag is Rag.RED


def test_a_summary_without_open_clocks_has_no_due_time() -> None:
    summary = channel_summary(replace(CONTACT, immediate_risks=frozenset()), (), NOW, CALENDAR, POLICY)
    assert (summary.due_at, summary.rag, summary.urgent) == (None, None, False)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("07700 900123", "07700 900123"),
        ("+44 (0)20 7946 0000", "+44 (0)20 7946 0000"),
        ("+447700900123", "07700900123"),
        ("", ""),
        ("12", "12"),
    ],
)
def test_format_phone(stored: str, shown: str) -> None:
    assert format_phone(stored) == shown


# -- card values: what a resumed card shows -------------------------------------------------------

SOURCE_DRAFT = replace(
    CONTACT,
    state=ContactState.DRAFT,
    reference=None,
    received_at=datetime(2026, 3, 16, 8, 5, tzinfo=UTC),
    source=Source.PHONE,
    referrer=Referrer(ReferrerType.PROFESSIONAL, "Testy McTestface", "Example School", phone="0191 498 0000"),
    immediate_risks=frozenset(),
    emergency=EmergencyDetails("Boy, about 8", "Example hospital", "07700 900123"),
    draft_section="summary",
)


@pytest.mark.parametrize("section", list(Section))
def test_card_values_read_back_to_the_same_answers(section: Section) -> None:
    values = section_values(SOURCE_DRAFT, section)
    parsed = parse_section(section, values, TODAY, NOW, POLICY)
    assert not isinstance(parsed, list), parsed
    assert apply_section(SOURCE_DRAFT, parsed) == SOURCE_DRAFT


def test_card_values_are_strings_as_a_card_sends_them() -> None:
    values = section_values(SOURCE_DRAFT, Section.CHILDREN)
    assert values["child_0_dob"] == "2019-05-04"
    assert values["child_0_postcode"] == "TE1 1ST"
    assert values["child_0_address"] == "1 Test Street"
    assert values["child_1_expected"] == "2026-08-20"
    assert section_values(SOURCE_DRAFT, Section.SOURCE)["received_time"] == "08:05"
    assert section_values(SOURCE_DRAFT, Section.WORRIES)["presenting_needs"] == "neglect,physical_harm"


def test_unanswered_risk_questions_are_blank_until_the_screen_is_done() -> None:
    on_risk = replace(SOURCE_DRAFT, draft_section="risk", immediate_risks=frozenset({ImmediateRisk.INJURY}))
    values = section_values(on_risk, Section.RISK)
    assert values["risk_injury"] == "yes"
    assert values["risk_disclosure"] == ""
    past = section_values(replace(on_risk, draft_section="history"), Section.RISK)
    assert past["risk_disclosure"] == "no"
