"""The contact script as data (SPEC §5): section order, fields, Back, and the urgent path's
emergency details card."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum

import pytest

from frontdoor.contact import (
    Child,
    Consent,
    Contact,
    ContactType,
    ImmediateRisk,
    PresentingNeed,
    ReferrerType,
    Source,
)
from frontdoor.policy import default_policy
from frontdoor.script import (
    DEFAULT_LOCAL_SYSTEMS,
    MAX_CHILDREN,
    SECTION_TITLES,
    FieldKind,
    Section,
    child_fields,
    field_section,
    fields_for,
    is_after,
    next_section,
    previous_section,
    section_fields,
    section_of,
)

S = Section
DRAFT = Contact(id="c-1", created_by="officer-1", created_at=datetime(2026, 3, 16, 10, tzinfo=UTC))
URGENT = replace(DRAFT, immediate_risks=frozenset({ImmediateRisk.INJURY}))
#: the urgent contact once created: it has its reference and the officer is still completing it
CREATED = replace(URGENT, reference="CT-26-000001", draft_section="referrer")

#: SPEC §5, written out by hand: immediate risk is the second card.
SPEC_ORDER = [
    "source",
    "risk",
    "referrer",
    "children",
    "parents",
    "worries",
    "history",
    "summary",
]
URGENT_ORDER = ["source", "risk", "emergency", *SPEC_ORDER[2:]]


def test_sections_are_in_the_order_of_the_spec() -> None:
    assert [s.value for s in Section] == URGENT_ORDER
    assert set(SECTION_TITLES) == set(Section)


def walk(contact: Contact) -> list[Section]:
    seen = [Section.SOURCE]
    while (following := next_section(seen[-1], contact)) is not None:
        seen.append(following)
    return seen


def test_a_routine_draft_visits_every_section_forwards_and_backwards() -> None:
    forwards = walk(DRAFT)
    assert [s.value for s in forwards] == SPEC_ORDER
    back = [Section.SUMMARY]
    while (earlier := previous_section(back[-1], DRAFT)) is not None:
        back.append(earlier)
    assert back == list(reversed(forwards))


def test_an_urgent_yes_goes_from_the_risk_screen_to_the_emergency_details_then_every_other_card() -> None:
    assert next_section(S.RISK, URGENT) is S.EMERGENCY
    assert next_section(S.RISK, DRAFT) is S.REFERRER
    assert [s.value for s in walk(URGENT)] == URGENT_ORDER  # the history checks are still asked
    assert previous_section(S.REFERRER, URGENT) is S.EMERGENCY
    assert previous_section(S.REFERRER, DRAFT) is S.RISK


def test_once_the_urgent_contact_exists_back_stops_at_the_first_card_after_its_own() -> None:
    assert previous_section(S.REFERRER, CREATED) is None
    assert previous_section(S.CHILDREN, CREATED) is S.REFERRER
    assert next_section(S.EMERGENCY, CREATED) is S.REFERRER


@pytest.mark.parametrize(
    ("section", "following"),
    [(S.SOURCE, S.RISK), (S.WORRIES, S.HISTORY), (S.HISTORY, S.SUMMARY), (S.SUMMARY, None)],
)
def test_urgency_changes_nothing_but_the_risk_step(section: Section, following: Section | None) -> None:
    assert next_section(section, URGENT) is following
    assert next_section(section, DRAFT) is following


def test_the_risk_screen_asks_the_procedures_questions() -> None:
    questions = {spec.id: spec.label for spec in fields_for(S.RISK)}
    assert "temporary emergency situation" in questions["risk_temporary_emergency"]
    wide = questions["risk_person_posing_risk"]
    for words in ("registered sex offender", "child sexual offences", "removed", "child protection plan"):
        assert words in wide


def test_the_emergency_details_ask_only_what_an_emergency_needs() -> None:
    specs = fields_for(S.EMERGENCY)
    assert [spec.id for spec in specs] == [
        "emergency_child",
        "emergency_whereabouts",
        "emergency_whereabouts_unknown",
        "emergency_phone",
        "emergency_phone_withheld",
    ]
    # the child is required on the card; where the child is and the caller's number are answered by
    # text or by their tick, which only the server can require (one of two)
    assert [spec.id for spec in specs if spec.required] == ["emergency_child"]


def test_the_first_card_has_no_back() -> None:
    assert previous_section(S.SOURCE, DRAFT) is None


@pytest.mark.parametrize(
    ("draft_section", "expected"), [("", S.SOURCE), ("nonsense", S.SOURCE), ("risk", S.RISK)]
)
def test_section_of_a_draft(draft_section: str, expected: Section) -> None:
    assert section_of(replace(DRAFT, draft_section=draft_section)) is expected


def test_is_after() -> None:
    assert is_after(S.REFERRER, S.RISK)
    assert not is_after(S.RISK, S.RISK)
    assert not is_after(S.SOURCE, S.SUMMARY)


@pytest.mark.parametrize(
    ("field_id", "enum"),
    [
        ("source", Source),
        ("contact_type", ContactType),
        ("referrer_type", ReferrerType),
        ("consent", Consent),
        ("presenting_needs", PresentingNeed),
    ],
)
def test_choice_values_are_the_enum_values(field_id: str, enum: type[StrEnum]) -> None:
    specs = {spec.id: spec for section in Section for spec in fields_for(section)}
    assert specs[field_id].choice_values == {member.value for member in enum}


def test_risk_screen_asks_each_immediate_risk_as_a_required_yes_no() -> None:
    specs = fields_for(S.RISK)
    assert [spec.id for spec in specs] == [f"risk_{risk.value}" for risk in ImmediateRisk]
    assert all(spec.required and spec.choice_values == {"yes", "no"} for spec in specs)


def test_field_ids_are_unique_across_the_script() -> None:
    ids = [spec.id for section in Section for spec in fields_for(section, children=3, parents=2)]
    assert len(ids) == len(set(ids))


def test_children_are_indexed_and_another_child_adds_the_next_index() -> None:
    one = fields_for(S.CHILDREN)
    two = fields_for(S.CHILDREN, children=2)
    assert {spec.id for spec in one} == {spec.id for spec in child_fields(0)}
    added = [spec for spec in two if spec not in one]
    assert added == list(child_fields(1))
    assert added[0].id == "child_1_name"
    assert added[0].label == "Child 2 name"


def test_child_and_parent_blocks_are_capped_and_never_zero() -> None:
    assert len(fields_for(S.CHILDREN, children=0)) == len(child_fields(0))
    assert len(fields_for(S.CHILDREN, children=1000)) == MAX_CHILDREN * len(child_fields(0))
    assert any(spec.id == "consent" for spec in fields_for(S.PARENTS, parents=0))


def test_section_fields_follow_the_contact() -> None:
    three = replace(DRAFT, children=(Child("A"), Child("B"), Child("C")))
    ids = [spec.id for spec in section_fields(S.CHILDREN, three)]
    assert "child_2_name" in ids and "child_3_name" not in ids


def test_multiline_fields_take_the_policy_limit() -> None:
    policy = default_policy()
    worries = next(spec for spec in fields_for(S.WORRIES) if spec.id == "worries")
    assert worries.kind is FieldKind.MULTILINE
    assert worries.limit(policy) == policy.limits.max_free_text_chars
    name = child_fields(0)[0]
    assert name.limit(policy) == name.max_length


def test_history_checks_offer_the_local_systems_given() -> None:
    systems = (("impulse", "Impulse"), ("carefirst", "CareFirst"))
    spec = next(s for s in fields_for(S.HISTORY, local_systems=systems) if s.id == "systems_checked")
    assert spec.choices == systems
    default = next(s for s in fields_for(S.HISTORY) if s.id == "systems_checked")
    assert default.choices == DEFAULT_LOCAL_SYSTEMS


def test_summary_asks_nothing() -> None:
    assert fields_for(S.SUMMARY) == ()


@pytest.mark.parametrize(
    ("field_id", "section"),
    [
        ("source", S.SOURCE),
        ("referrer_phone", S.REFERRER),
        ("child_3_dob", S.CHILDREN),
        ("parent_1_phone", S.PARENTS),
        ("consent_reason", S.PARENTS),
        ("presenting_needs", S.WORRIES),
        ("risk_injury", S.RISK),
        ("allocated_worker", S.HISTORY),
        ("nonsense", None),
    ],
)
def test_field_section(field_id: str, section: Section | None) -> None:
    assert field_section(field_id) is section


def test_anonymity_toggle_carries_the_warning() -> None:
    spec = next(s for s in fields_for(S.REFERRER) if s.id == "anonymity_requested")
    assert spec.kind is FieldKind.TOGGLE
    assert "identity will be protected" in spec.help
    assert "not be told the outcome" in spec.help
