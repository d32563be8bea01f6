"""MARAC and MAPPA cards (SPEC §9): a MARAC meeting with its cases, linked children, the state of
each request and the actions agreed, with the forms to add a case and link a child (before it
starts) or to record an action (once it has); the request as the allocated
worker sees it; and the MAPPA log with its form. Personal chats only: they name children."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from microsoft_teams.cards import (
    Action,
    ActionSet,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    Container,
    DateInput,
    SubmitAction,
    TextBlock,
    TextInput,
)

from bot.cards.common import to_dict
from bot.cards.consultation import plain
from bot.cards.keys import ACTION_KEY, FORM_KEY
from frontdoor.agencies import MappaInvitation, MaracAction, MaracCase, MaracRequest
from frontdoor.marac_cases import MAX_FIELD_CHARS
from frontdoor.timefmt import format_due, format_local

ADD_CASE: Final = "marac.add_case"
LINK_CHILD: Final = "marac.link_child"
RECORD_ACTION: Final = "marac.action"
ANSWER: Final = "marac.answer"
LOG_MAPPA: Final = "mappa.log"
REQUEST_KEY: Final = "request"

CASE_REFERENCE_INPUT: Final = "case_reference"
CASE_INPUT: Final = "case"
CHILD_NAME_INPUT: Final = "child_name"
CHILD_DOB_INPUT: Final = "child_dob"
TEAM_INPUT: Final = "team"
WORKER_INPUT: Final = "worker"
ANSWER_INPUT: Final = "answer"
MAPPA_REFERENCE_INPUT: Final = "mappa_reference"
MEETING_INPUT: Final = "meeting_day"
WHAT_INPUT: Final = "what"
OWNER_INPUT: Final = "owner"
DUE_ON_INPUT: Final = "due_on"


def _text(text: str, **options: Any) -> TextBlock:
    return TextBlock(text=text, wrap=True, **options)


def _status(request: MaracRequest, now: datetime, names: Mapping[str, str]) -> str:
    who = names.get(request.worker_id) or "the allocated worker"
    if request.answer is None:
        return f"{plain(request.team)}, {who}: **waiting** ({format_due(request.due_at, now)})"
    late = " (late)" if request.answer.at > request.due_at else ""
    return f"{plain(request.team)}, {who}: answered {format_local(request.answer.at)}{late}"


def _action_line(action: MaracAction) -> str:
    return f"Action: {plain(action.what)} ({plain(action.owner)}, by {action.due_on:%d/%m/%Y})"


def meeting_card(
    day: date,
    meeting_at: datetime,
    cases: Sequence[MaracCase],
    workers: Sequence[tuple[str, str]],
    names: Mapping[str, str],
    now: datetime,
    *,
    form_id: str,
    max_chars: int,
    notice: str = "",
    error: str = "",
) -> dict[str, Any]:
    """The meeting with its cases, their linked children and actions. Before it starts: the forms
    to add a case and link a child; once it has: the form to record an action it agreed.
    ``form_id`` names this card's forms, so a second press of one (or of a stale copy) records and
    sends nothing."""
    started = meeting_at <= now
    waiting = sum(1 for c in cases for r in c.requests if r.answer is None)
    title = f"MARAC meeting {format_local(meeting_at)}{' (started)' if started else ''}"
    body: list[CardElement] = [
        _text(title, size="Large", weight="Bolder"),
        _text(
            f"{len(cases)} cases, {waiting} requests outstanding. For you only: it names children.",
            is_subtle=True,
        ),
    ]
    if notice:
        body.append(_text(notice, color="Good", weight="Bolder"))
    if error:
        body.append(_text(error, color="Attention", weight="Bolder"))
    for case in cases:
        items: list[CardElement] = [_text(f"**{plain(case.case_reference)}**")]
        for request in case.requests:
            born = f", born {request.child_date_of_birth:%d/%m/%Y}" if request.child_date_of_birth else ""
            items += [_text(f"{plain(request.child_name)}{born}"), _text(_status(request, now, names))]
            if request.answer is not None:
                items.append(_text(plain(request.answer.text), is_subtle=True))
        if not case.requests:
            items.append(_text("No linked children recorded yet.", is_subtle=True))
        items += [_text(_action_line(action)) for action in case.actions]
        body.append(Container(items=items, separator=True))
    if started:
        if cases:
            body += _action_form(cases, form_id, max_chars)
        return to_dict(AdaptiveCard(body=body, fallback_text=f"MARAC meeting {day.isoformat()}"))
    body += [
        _text("Add a case", weight="Bolder", separator=True),
        TextInput(id=CASE_REFERENCE_INPUT, label="MARAC case reference", max_length=32),
        ActionSet(actions=[SubmitAction(title="Add the case", data={ACTION_KEY: ADD_CASE})]),
    ]
    if cases:
        body += [
            _text("Link a child found in the checks: their team is asked", weight="Bolder", separator=True),
            ChoiceSetInput(
                id=CASE_INPUT,
                label="Case",
                value=cases[-1].id,
                choices=[Choice(title=c.case_reference, value=c.id) for c in cases],
            ),
            TextInput(id=CHILD_NAME_INPUT, label="Child's name", max_length=MAX_FIELD_CHARS),
            DateInput(id=CHILD_DOB_INPUT, label="Date of birth"),
            TextInput(id=TEAM_INPUT, label="The team the child is open to", max_length=MAX_FIELD_CHARS),
            ChoiceSetInput(
                id=WORKER_INPUT,
                label="Allocated worker (asked and chased)",
                choices=[Choice(title=name, value=person) for person, name in workers],
            ),
            ActionSet(
                actions=[
                    SubmitAction(
                        title="Link and ask the team", data={ACTION_KEY: LINK_CHILD, FORM_KEY: form_id}
                    )
                ]
            ),
        ]
    return to_dict(AdaptiveCard(body=body, fallback_text=f"MARAC meeting {day.isoformat()}"))


def _action_form(cases: Sequence[MaracCase], form_id: str, max_chars: int) -> list[CardElement]:
    return [
        _text("Record an action the meeting agreed", weight="Bolder", separator=True),
        ChoiceSetInput(
            id=CASE_INPUT,
            label="Case",
            value=cases[0].id,
            choices=[Choice(title=c.case_reference, value=c.id) for c in cases],
        ),
        TextInput(id=WHAT_INPUT, label="What was agreed", is_multiline=True, max_length=max_chars),
        TextInput(id=OWNER_INPUT, label="Who does it (an agency or team)", max_length=MAX_FIELD_CHARS),
        DateInput(id=DUE_ON_INPUT, label="By when"),
        ActionSet(
            actions=[
                SubmitAction(title="Record the action", data={ACTION_KEY: RECORD_ACTION, FORM_KEY: form_id})
            ]
        ),
    ]


def request_card(
    case: MaracCase, request: MaracRequest, now: datetime, *, notice: str = "", error: str = ""
) -> dict[str, Any]:
    body: list[CardElement] = [
        _text("MARAC information request", is_subtle=True),
        _text(plain(case.case_reference), size="Large", weight="Bolder"),
        _text("For you only. Do not forward it.", is_subtle=True),
    ]
    if notice:
        body.append(_text(notice, color="Good", weight="Bolder"))
    if error:
        body.append(_text(error, color="Attention", weight="Bolder"))
    born = f", born {request.child_date_of_birth:%d/%m/%Y}" if request.child_date_of_birth else ""
    body += [
        _text(f"{plain(request.child_name)}{born}, open to {plain(request.team)}"),
        _text(
            f"Due back before the meeting: {format_local(request.due_at)} ({format_due(request.due_at, now)})"
        ),
        _text("What does your team know that the MARAC should hear about this child and household?"),
    ]
    actions: list[Action] = []
    if request.answer is None:
        body.append(
            TextInput(id=ANSWER_INPUT, label="Your team's answer", is_multiline=True, max_length=4000)
        )
        actions.append(
            SubmitAction(title="Send the answer", data={ACTION_KEY: ANSWER, REQUEST_KEY: request.id})
        )
    else:
        late = " (late)" if request.answer.at > request.due_at else ""
        body += [
            _text(f"Answered {format_local(request.answer.at)}{late}", weight="Bolder"),
            _text(plain(request.answer.text)),
        ]
    return to_dict(
        AdaptiveCard(body=body, actions=actions, fallback_text=f"MARAC request {case.case_reference}")
    )


def mappa_card(
    invitations: Sequence[MappaInvitation],
    workers: Sequence[tuple[str, str]],
    names: Mapping[str, str],
    *,
    notice: str = "",
    error: str = "",
) -> dict[str, Any]:
    body: list[CardElement] = [_text("MAPPA invitations (last 30 days)", size="Large", weight="Bolder")]
    if notice:
        body.append(_text(notice, color="Good", weight="Bolder"))
    if error:
        body.append(_text(error, color="Attention", weight="Bolder"))
    for invitation in invitations:
        where = (
            "the front door (no child identified)"
            if invitation.to_front_door
            else f"{plain(invitation.team)}, {names.get(invitation.worker_id or '') or 'a worker'}"
        )
        body.append(
            _text(
                f"**{plain(invitation.mappa_reference)}**, meeting {invitation.meeting_day:%d/%m/%Y}: "
                f"forwarded to {where}"
            )
        )
    body += [
        _text("Log an invitation", weight="Bolder", separator=True),
        TextInput(id=MAPPA_REFERENCE_INPUT, label="MAPPA reference", max_length=32),
        DateInput(id=MEETING_INPUT, label="Meeting date"),
        TextInput(
            id=TEAM_INPUT,
            label="Team forwarded to (empty: no child identified, the front door)",
            max_length=MAX_FIELD_CHARS,
        ),
        ChoiceSetInput(
            id=WORKER_INPUT,
            label="Worker in that team",
            choices=[Choice(title=name, value=person) for person, name in workers],
        ),
        ActionSet(actions=[SubmitAction(title="Log and forward", data={ACTION_KEY: LOG_MAPPA})]),
    ]
    return to_dict(AdaptiveCard(body=body, fallback_text="MAPPA invitations"))
