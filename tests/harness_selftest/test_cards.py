"""The Adaptive Card validator: Microsoft's SDK at version 1.5, plus the checks it does not make."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.harness.cards import (
    SCRIPT,
    CardValidator,
    CardValidatorUnavailable,
    InvalidCardError,
    assert_valid_card,
    validate_card,
)


def card(*body: dict[str, Any], actions: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": list(body),
        "actions": actions or [],
        **extra,
    }


GOOD = card(
    {"type": "TextBlock", "text": "<at>Bob Consultant</at> CT-000001 needs a decision", "wrap": True},
    {"type": "Image", "url": "https://example.invalid/logo.png", "altText": "logo"},
    {"type": "FactSet", "facts": [{"title": "Due", "value": "16:30"}]},
    {
        "type": "Table",
        "columns": [{"width": 1}],
        "rows": [
            {
                "type": "TableRow",
                "cells": [{"type": "TableCell", "items": [{"type": "TextBlock", "text": "x"}]}],
            }
        ],
    },
    {
        "type": "Input.Text",
        "id": "reason",
        "label": "Reason",
        "isRequired": True,
        "errorMessage": "Give a reason",
    },
    {
        "type": "Input.ChoiceSet",
        "id": "outcome",
        "label": "Outcome",
        "choices": [{"title": "Accept", "value": "accept"}],
    },
    actions=[
        {"type": "Action.Execute", "title": "Accept", "verb": "accept", "data": {"contact": "CT-000001"}},
        {"type": "Action.Submit", "title": "Save draft", "data": {"action": "save"}},
        {
            "type": "Action.ShowCard",
            "title": "More",
            "card": {"type": "AdaptiveCard", "body": [{"type": "Input.Text", "id": "more", "label": "More"}]},
        },
    ],
    msteams={
        "width": "Full",
        "entities": [
            {
                "type": "mention",
                "text": "<at>Bob Consultant</at>",
                "mentioned": {"id": "29:bob", "name": "Bob Consultant"},
            }
        ],
    },
    refresh={"action": {"type": "Action.Execute", "verb": "refresh"}, "userIds": ["29:bob"]},
)


def test_a_good_teams_card_passes(card_validator: CardValidator) -> None:
    assert card_validator.validate(GOOD) == []
    assert_valid_card(GOOD)
    assert validate_card(GOOD) == []


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        pytest.param(
            card({"type": "Sparkline", "values": [1]}),
            "UnknownElementType: Unknown element type",
            id="unknown-element",
        ),
        pytest.param(
            card(actions=[{"type": "Action.Popover", "title": "x"}]), "UnknownActionType", id="unknown-action"
        ),
        pytest.param(
            card(
                {"type": "Input.Text", "id": "a", "label": "A"},
                {"type": "Input.Date", "id": "a", "label": "B"},
            ),
            'DuplicateId: Duplicate Id "a"',
            id="duplicate-input-id",
        ),
        pytest.param(
            card({"type": "Input.Text", "id": "a", "label": "A", "labelPosition": "inline"}),
            'Property "labelPosition" is supported in version 1.6',
            id="1.6-property",
        ),
        pytest.param(
            card(
                {"type": "TextBlock", "text": "x"},
                actions=[{"type": "Action.Submit", "data": {}, "role": "Link"}],
            ),
            'Property "role" is supported in version 1.6',
            id="1.6-action-role",
        ),
        pytest.param(
            card({"type": "Carousel", "pages": []}), 'Unknown element type "Carousel"', id="1.6-element"
        ),
        pytest.param(card({"type": "TextBlock"}), "a TextBlock must have text", id="textblock-without-text"),
        pytest.param(
            card({"type": "TextBlock", "text": "  "}), "a TextBlock must have text", id="blank-textblock"
        ),
        pytest.param(card({"type": "Image"}), "an Image must have a url", id="image-without-url"),
        pytest.param(
            card({"type": "TextBlock", "text": "RAG: Amber", "color": "Warning"}),
            "warning-coloured text is hard to read",
            id="amber-text",
        ),
        pytest.param(
            card(
                {
                    "type": "RichTextBlock",
                    "inlines": [{"type": "TextRun", "text": "late", "color": "warning"}],
                }
            ),
            "warning-coloured text is hard to read",
            id="amber-text-run",
        ),
        pytest.param({**card(), "version": "1.6"}, 'version must be "1.5"', id="version-1.6"),
        pytest.param(
            card({"type": "TextBlock", "text": "x", "size": "huge"}),
            "InvalidPropertyValue",
            id="bad-enum-value",
        ),
        pytest.param(
            card({"type": "Input.Text", "label": "No id"}), "an input must have an id", id="input-without-id"
        ),
        pytest.param(
            card({"type": "Input.ChoiceSet", "id": "c", "label": "C"}),
            "at least one choice",
            id="empty-choice-set",
        ),
        pytest.param(
            card({"type": "Input.Text", "id": "r", "isRequired": True, "errorMessage": "!"}),
            "RequiredInputsShouldHaveLabel",
            id="required-input-without-label",
        ),
        pytest.param(
            card(actions=[{"type": "Action.Execute", "title": "Go", "data": {}}]),
            "an Action.Execute must have a verb",
            id="execute-without-verb",
        ),
        pytest.param(
            card(actions=[{"type": "Action.Submit", "title": "Go"}]),
            "an Action.Submit must carry data",
            id="submit-without-data",
        ),
        pytest.param(
            card(
                {"type": "TextBlock", "text": "hello"},
                msteams={
                    "entities": [
                        {"type": "mention", "text": "<at>X</at>", "mentioned": {"id": "29:x", "name": "X"}}
                    ]
                },
            ),
            "appears in no text of the card",
            id="mention-not-in-text",
        ),
        pytest.param(
            card(
                {"type": "TextBlock", "text": "x"},
                actions=[
                    {
                        "type": "Action.ShowCard",
                        "title": "s",
                        "card": {"type": "AdaptiveCard", "body": [{"type": "Bar"}]},
                    }
                ],
            ),
            'Unknown element type "Bar"',
            id="nested-show-card",
        ),
    ],
)
def test_a_bad_card_is_rejected(card_validator: CardValidator, bad: dict[str, Any], expected: str) -> None:
    problems = card_validator.validate(bad)

    assert any(expected in problem for problem in problems), problems
    with pytest.raises(InvalidCardError, match="invalid Adaptive Card"):
        card_validator.assert_valid(bad)


def test_one_worker_answers_many_cards_quickly(card_validator: CardValidator) -> None:
    cards = [card({"type": "TextBlock", "text": f"card {n}"}) for n in range(200)]
    started = time.perf_counter()

    results = [card_validator.validate(each) for each in cards]

    assert results == [[]] * 200
    assert card_validator.running
    # Generous: a Node start per card would take ~10 s; one worker takes well under a second.
    assert time.perf_counter() - started < 5


def test_missing_node_fails_loudly(tmp_path: Path) -> None:
    validator = CardValidator(node=str(tmp_path / "no-node"))

    with pytest.raises(CardValidatorUnavailable, match=r"cannot run Node\.js"):
        validator.validate(GOOD)


def test_missing_sdk_package_fails_loudly(tmp_path: Path) -> None:
    # A copy of the script outside the project cannot find node_modules/adaptivecards.
    script = tmp_path / SCRIPT.name
    shutil.copy(SCRIPT, script)
    validator = CardValidator(script=script, cwd=tmp_path)

    with pytest.raises(CardValidatorUnavailable, match="cannot load Microsoft's Adaptive Cards SDK"):
        validator.validate(GOOD)
    validator.close()
