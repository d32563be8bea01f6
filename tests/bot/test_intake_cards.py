"""The intake and channel cards as pure functions: every variant valid under Microsoft's Adaptive
Cards SDK, required answers marked as the server requires them, and channel cards minimised."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from microsoft_teams.cards import ExecuteAction, RefreshDefinition

from bot.cards.decision import (
    ChannelCardKind,
    channel_card,
    decision_card,
    open_case_card,
    rereferral_card,
)
from bot.cards.intake import DraftLine, SectionForm, drafts_card, section_card, set_aside_card
from bot.cards.record import record_card
from frontdoor.calendar import WorkingCalendar
from frontdoor.card_values import FieldError
from frontdoor.contact import (
    Child,
    Consent,
    Contact,
    ContactState,
    ContactType,
    HistoryChecks,
    ImmediateRisk,
    Parent,
    PresentingNeed,
    Referrer,
    ReferrerType,
    Source,
)
from frontdoor.policy import default_policy
from frontdoor.records import ClockKind, Deadline
from frontdoor.script import MAX_CHILDREN, Section, fields_for
from frontdoor.views import channel_summary, section_values
from tests.harness.cards import CardValidator

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)

#: A contact with everything filled in, including text that must never reach a channel.
FULL = Contact(
    id="c0ffee00-0000-4000-8000-000000000001",
    created_by="aad-officer-1",
    created_at=NOW,
    state=ContactState.AWAITING_SCREENING,
    version=9,
    reference="CT-26-000042",
    received_at=NOW,
    source=Source.MEMBER_OF_PUBLIC,
    contact_type=ContactType.REFERRAL,
    referrer=Referrer(
        ReferrerType.MEMBER_OF_PUBLIC, "Secret Neighbourname", phone="+447700900123", anonymity_requested=True
    ),
    children=(
        Child("Zebedee Testchild", date(2019, 5, 4), gender="male", address="1 Example Street\nSW1A 1AA"),
        Child("Unborn", expected_date=date(2026, 6, 1)),
    ),
    parents=(Parent("Parent Testperson", "mother", "1 Example Street", "+441914980000"),),
    consent=Consent.NOT_SOUGHT,
    consent_reason="Father is violent [see *notes*]",
    worries="Bruising seen_by_school",
    working_well="Grandparent",
    needs_to_happen="Visit",
    presenting_needs=frozenset({PresentingNeed.PHYSICAL_HARM, PresentingNeed.NEGLECT}),
    immediate_risks=frozenset({ImmediateRisk.INJURY}),
    history=HistoryChecks(
        open_case=True,
        allocated_worker_id="aad-worker-1",
        last_worker_id="aad-worker-2",
        systems_checked=("social_care", "police"),
        chronology="Known",
        closed_on=date(2026, 1, 5),
        open_to_early_help=True,
        early_help_worker_id="aad-worker-3",
    ),
)
NEVER_IN_A_CHANNEL = (
    "Zebedee",
    "Testchild",
    "Neighbourname",
    "Example Street",
    "SW1A",
    "2019",
    "Bruising",
    "Grandparent",
    "Parent Testperson",
    "violent",
    "07700",
    "aad-worker",
)


def _valid(validator: CardValidator, card: dict[str, Any]) -> None:
    assert validator.validate(card) == []


def _form(section: Section, contact: Contact = FULL, **changes: Any) -> SectionForm:
    form = SectionForm(
        contact_id=contact.id,
        version=contact.version,
        section=section,
        fields=fields_for(section, children=len(contact.children), parents=len(contact.parents)),
        values=section_values(contact, section),
        contact=contact,
        people=(("aad-worker-1", "Wren Workerperson"),),
        today=date(2026, 3, 16),
    )
    return replace(form, **changes)


@pytest.mark.parametrize("section", list(Section))
def test_every_section_card_is_valid_with_and_without_errors(
    card_validator: CardValidator, section: Section
) -> None:
    _valid(card_validator, section_card(_form(section)))
    errors = tuple(FieldError(spec.id, f"{spec.label}: wrong") for spec in _form(section).fields)
    _valid(card_validator, section_card(_form(section, errors=errors, notice="Saved.", urgent=True)))
    blank = Contact(id="x", created_by="o", created_at=NOW)
    _valid(card_validator, section_card(_form(section, blank, people=())))


def test_inputs_are_required_on_the_card_as_on_the_server() -> None:
    card = section_card(_form(Section.CHILDREN))
    required = {n["id"] for n in card["body"] if n.get("isRequired")}
    assert required == {"child_0_name"}  # the second child's block may be left empty
    for section in (Section.SOURCE, Section.WORRIES, Section.RISK, Section.HISTORY):
        card = section_card(_form(section))
        marked = {n["id"] for n in card["body"] if n.get("isRequired")}
        assert marked == {spec.id for spec in _form(section).fields if spec.required}, section


def test_errors_are_shown_beside_their_fields_and_typed_text_is_escaped() -> None:
    card = section_card(
        _form(Section.PARENTS, errors=(FieldError("consent_reason", "Why consent: say why"),))
    )
    ids = [n.get("id") or n.get("text") for n in card["body"]]
    assert ids[ids.index("consent_reason") + 2] == "Why consent: say why"  # after its help line
    summary = json.dumps(section_card(_form(Section.SUMMARY)))
    assert r"Father is violent \\[see \\*notes\\*\\]" in summary
    assert "anonymity requested: do not disclose" in summary


def test_the_last_child_block_offers_no_more() -> None:
    many = replace(FULL, children=tuple(Child(f"Child {n}", date(2020, 1, 1)) for n in range(MAX_CHILDREN)))
    card = json.dumps(section_card(_form(Section.CHILDREN, many)))
    assert "Add another child" not in card
    assert "Add another child" in json.dumps(section_card(_form(Section.CHILDREN)))


def test_a_person_field_without_anyone_to_pick_is_a_text_input() -> None:
    card = section_card(_form(Section.HISTORY, people=()))
    [worker] = [n for n in card["body"] if n.get("id") == "allocated_worker"]
    assert worker["type"] == "Input.ChoiceSet"  # the saved worker is offered even if not listed
    blank = replace(FULL, history=HistoryChecks())
    card = section_card(_form(Section.HISTORY, blank, people=()))
    [worker] = [n for n in card["body"] if n.get("id") == "allocated_worker"]
    assert worker["type"] == "Input.Text"


def _summary(contact: Contact, *, minutes_later: int = 0) -> Any:
    deadline = Deadline(contact.reference or "", ClockKind.CP_DECISION, NOW, NOW + timedelta(hours=2))
    later = NOW + timedelta(minutes=minutes_later)
    return channel_summary(contact, [deadline], later, WorkingCalendar(), default_policy(), repeat=True)


@pytest.mark.parametrize("minutes_later", [0, 100, 115, 180])
def test_channel_cards_are_valid_and_minimised(card_validator: CardValidator, minutes_later: int) -> None:
    summary = _summary(FULL, minutes_later=minutes_later)
    later = NOW + timedelta(minutes=minutes_later)
    cards = [
        decision_card(summary, later, repeat_of=("CT-26-000001",)),
        rereferral_card(summary, later),
        open_case_card(summary, later),
        channel_card(summary, later, ChannelCardKind.DECISION),
    ]
    for card in cards:
        _valid(card_validator, card)
        text = json.dumps(card)
        for secret in NEVER_IN_A_CHANNEL:
            assert secret not in text, secret
        assert "Z.T. (6 years); Unborn (unborn, due Jun 2026)" in text
        assert "Member of the public" not in text  # no referrer at all


def test_the_decision_card_takes_more_execute_actions_and_a_refresh(card_validator: CardValidator) -> None:
    route = ExecuteAction(title="Route I", verb="contact.route_i", data={"reference": "CT-26-000042"})
    refresh = RefreshDefinition(
        action=ExecuteAction(verb="contact.refresh", data={"reference": "CT-26-000042"}), user_ids=["29:a"]
    )
    card = decision_card(_summary(FULL), NOW, actions=[route], refresh=refresh)
    _valid(card_validator, card)
    assert [a["verb"] for a in card["actions"]] == ["contact.view", "contact.route_i"]
    assert card["refresh"]["userIds"] == ["29:a"]


def test_record_drafts_and_set_aside_cards_are_valid(card_validator: CardValidator) -> None:
    deadline = Deadline("CT-26-000042", ClockKind.SCREENING, NOW, NOW + timedelta(days=1))
    record = record_card(FULL, [deadline], NOW, {"aad-worker-1": "Wren Workerperson"}, heading="For you")
    _valid(card_validator, record)
    text = json.dumps(record)
    assert "Zebedee Testchild" in text and "Wren Workerperson" in text and "07700900123" in text
    line = DraftLine("x", NOW, Section.PARENTS, "Z.T.")
    _valid(card_validator, drafts_card([line, replace(line, contact_id="y", children="")]))
    _valid(card_validator, set_aside_card("New contact: cancelled", "This draft was deleted."))


# -- long parts folded away (Action.ToggleVisibility) ---------------------------------------------


def _nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [found for item in node for found in _nodes(item)]
    if not isinstance(node, dict):
        return []
    return [node, *(found for key, value in node.items() if key != "data" for found in _nodes(value))]


def _folded(card: dict[str, Any]) -> tuple[list[list[str]], list[dict[str, Any]]]:
    """The targets of each show/hide toggle, and the parts hidden at first; every target is an
    element of the card and every id is used once."""
    nodes = _nodes(card)
    ids = [node["id"] for node in nodes if "id" in node and node.get("type") != "Action.ToggleVisibility"]
    assert len(ids) == len(set(ids)), ids
    toggles = [node["targetElements"] for node in nodes if node.get("type") == "Action.ToggleVisibility"]
    for targets in toggles:
        assert set(targets) <= set(ids), targets
    hidden = [node for node in nodes if node.get("type") == "Container" and node.get("isVisible") is False]
    return toggles, hidden


def test_the_full_record_and_the_summary_fold_their_long_parts(card_validator: CardValidator) -> None:
    deadline = Deadline("CT-26-000042", ClockKind.SCREENING, NOW, NOW + timedelta(days=1))
    record = record_card(FULL, [deadline], NOW, {"aad-worker-1": "Wren Workerperson"})
    summary = section_card(_form(Section.SUMMARY, people_names={"aad-worker-1": "Wren Workerperson"}))
    for card in (record, summary):
        _valid(card_validator, card)
        toggles, hidden = _folded(card)
        # referrer, children, parents, worries and history: one "Show" line each
        assert len(toggles) == len(hidden) == 5
        folded = json.dumps(hidden)
        assert "Zebedee Testchild" in folded and "Wren Workerperson" in folded
        shown = json.dumps([node for node in card["body"] if node not in hidden])
        assert "Zebedee Testchild" not in shown and "Immediate risk" in shown
        assert len(json.dumps(card).encode()) < 28 * 1024
    assert "Screening decision" in json.dumps(record["body"][:4])  # the state and clocks stay in view


def test_each_step_summarises_the_steps_answered_before_it_folded_away(card_validator: CardValidator) -> None:
    assert _folded(section_card(_form(Section.SOURCE))) == ([], [])  # nothing answered yet
    card = section_card(_form(Section.WORRIES))
    _valid(card_validator, card)
    toggles, [answered] = _folded(card)
    assert len(toggles) == 1
    facts = {fact["title"]: fact["value"] for node in _nodes(answered) for fact in node.get("facts", [])}
    assert list(facts) == [
        "Source and contact type",
        "Immediate risk",
        "Referrer",
        "Children and household",
        "Parents and consent",
    ]
    assert "Zebedee Testchild" in facts["Children and household"]
    assert all(len(value) <= 100 for value in facts.values())  # a line each, cut when long
