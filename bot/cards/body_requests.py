"""The short card of a CAFCASS safeguarding request or an Ofsted check (SPEC §9): the form it is
logged with, and the request with its due time and the response (or the form to record it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    DateInput,
    Fact,
    FactSet,
    SubmitAction,
    TextBlock,
    TextInput,
)

from bot.cards.common import to_dict
from bot.cards.consultation import plain
from bot.cards.keys import ACTION_KEY, FORM_KEY, REFERENCE_KEY
from frontdoor.agencies import REQUESTING_BODY_TITLES, BodyRequest, RequestingBody
from frontdoor.body_requests import MAX_FIELD_CHARS
from frontdoor.timefmt import format_due, format_local

LOG: Final = "body_request.log"
RESPOND: Final = "body_request.respond"

BODY_INPUT: Final = "body"
BODY_REFERENCE_INPUT: Final = "body_reference"
NAME_INPUT: Final = "subject_name"
DOB_INPUT: Final = "subject_dob"
ADDRESS_INPUT: Final = "subject_address"
DUE_INPUT: Final = "due_on"
RESPONSE_INPUT: Final = "response"


def _text(text: str, **options: Any) -> TextBlock:
    return TextBlock(text=text, wrap=True, **options)


def log_form_card(form_id: str, error: str = "") -> dict[str, Any]:
    """The form that logs a request; ``form_id`` names this card, so a second press of it (or of a
    stale copy) logs nothing."""
    body: list[CardElement] = [_text("Information request", size="Large", weight="Bolder")]
    if error:
        body.append(_text(error, color="Attention", weight="Bolder"))
    body += [
        ChoiceSetInput(
            id=BODY_INPUT,
            label="Requested by",
            value=RequestingBody.CAFCASS.value,
            choices=[Choice(title=t, value=b.value) for b, t in REQUESTING_BODY_TITLES.items()],
        ),
        TextInput(id=BODY_REFERENCE_INPUT, label="Their reference", max_length=MAX_FIELD_CHARS),
        TextInput(id=NAME_INPUT, label="Subject's name", max_length=MAX_FIELD_CHARS),
        DateInput(id=DOB_INPUT, label="Subject's date of birth"),
        TextInput(id=ADDRESS_INPUT, label="Subject's address", max_length=MAX_FIELD_CHARS),
        DateInput(id=DUE_INPUT, label="Response due by"),
    ]
    actions: list[Action] = [SubmitAction(title="Log the request", data={ACTION_KEY: LOG, FORM_KEY: form_id})]
    return to_dict(AdaptiveCard(body=body, actions=actions, fallback_text="Information request"))


def request_card(
    request: BodyRequest, names: Mapping[str, str], now: datetime, *, notice: str = "", error: str = ""
) -> dict[str, Any]:
    body: list[CardElement] = [
        _text(REQUESTING_BODY_TITLES[request.body], is_subtle=True),
        _text(request.reference, size="Large", weight="Bolder"),
        _text("For you only. Do not forward it or paste it into a channel.", is_subtle=True),
    ]
    if notice:
        body.append(_text(notice, color="Good", weight="Bolder"))
    if error:
        body.append(_text(error, color="Attention", weight="Bolder"))
    born = (
        request.subject_date_of_birth.strftime("%d/%m/%Y") if request.subject_date_of_birth else "not given"
    )
    facts = [
        Fact(title="Their reference", value=plain(request.body_reference)),
        Fact(title="Subject", value=plain(request.subject_name)),
        Fact(title="Date of birth", value=born),
        Fact(title="Address", value=plain(request.subject_address) or "not given"),
        Fact(title="Due", value=f"{format_local(request.due_at)} ({format_due(request.due_at, now)})"),
        Fact(
            title="Logged",
            value=f"{format_local(request.logged_at)} by {names.get(request.logged_by) or 'staff'}",
        ),
    ]
    body.append(FactSet(facts=facts))
    actions: list[Action] = []
    response = request.response
    if response is not None:
        late = " (late)" if response.at > request.due_at else " (by the due date)"
        who = names.get(response.by) or "a member of staff"
        body += [
            _text(f"Response recorded {format_local(response.at)}{late} by {who}", weight="Bolder"),
            _text(plain(response.text)),
        ]
    else:
        body.append(
            TextInput(id=RESPONSE_INPUT, label="The response sent", is_multiline=True, max_length=4000)
        )
        actions.append(
            SubmitAction(
                title="Record the response", data={ACTION_KEY: RESPOND, REFERENCE_KEY: request.reference}
            )
        )
    return to_dict(
        AdaptiveCard(body=body, actions=actions, fallback_text=f"Information request {request.reference}")
    )
