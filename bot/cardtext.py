"""The free text people type on cards that send an ``Action.Execute`` (rationales, notes, challenge
grounds, send-back reasons): which inputs hold it, what they are called, and how long each may be.

The activity handler checks every verb's data against this before the verb's handler runs, so an
over-long text is refused with a message naming the box and nothing is saved; the card stays as it
was in Teams, with what was typed. The limit is the policy's ``limits.max_free_text_chars`` unless
a box has a shorter one of its own. Long notes would otherwise push later cards past Teams' ~28 KB.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.cards.decisions import RATIONALE_INPUT
from bot.cards.quality import RETURN_INPUT, SEND_BACK_INPUT
from bot.cards.work_inputs import Input

#: input id → how the card names it
FREE_TEXT: Mapping[str, str] = {
    RATIONALE_INPUT: "The rationale",
    Input.REFERRER_NOTES.value: "The notes of the contact with the referrer",
    Input.PARENT_NOTES.value: "The notes of the contact with the parents",
    Input.WORK_NOTES.value: "The notes of the further work",
    Input.LETTER_NOTES.value: "The notes about the letter",
    Input.CONSENT_REASON.value: "The reason about consent",
    Input.OUTCOME_RATIONALE.value: "The rationale for the outcome",
    Input.RECEIVING_TEAM.value: "The receiving team",
    Input.CP_RATIONALE.value: "The rationale for the child-protection decision",
    Input.GROUNDS.value: "The grounds of the challenge",
    Input.DISCUSSION.value: "The discussion",
    Input.RESULT_RATIONALE.value: "The rationale for the result",
    SEND_BACK_INPUT: "The reason for sending it back",
    RETURN_INPUT: "The reason for returning it",
}

#: boxes with a shorter limit than the policy's (the receiving team is a team's name)
SHORTER: Mapping[str, int] = {Input.RECEIVING_TEAM.value: 200}


def overlong(data: Mapping[str, Any], limit: int) -> str | None:
    """What to tell someone whose card carries a text longer than its box allows; None if none."""
    for key, label in FREE_TEXT.items():
        value = data.get(key)
        most = min(limit, SHORTER.get(key, limit))
        if isinstance(value, str) and len(value.strip()) > most:
            return (
                f"{label} is {len(value.strip())} characters long; at most {most} fit. Please shorten it "
                "and press the button again. Nothing was changed."
            )
    return None
