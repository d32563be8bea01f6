"""MASH episode cards (SPEC §9): the form a consultant opens an episode with, the episode as staff
see it (every agency's answer, a phone answer to record, the multi-agency decision to close it with),
and the information request as a partner sees it.

A partner's card is built from ``frontdoor.mash.PartnerView`` only: the episode's reference, the
question, each child's name and date of birth, the due time and their own agency's answer. It has
nothing else to show. Buttons are ``Action.Submit`` carrying the episode's reference; who presses,
and which agency they answer for, come from the directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from microsoft_teams.cards import (
    Action,
    ActionSet,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    Fact,
    FactSet,
    SubmitAction,
    TextBlock,
    TextInput,
)

from bot.cards.common import to_dict
from bot.cards.consultation import plain
from bot.cards.keys import ACTION_KEY, FORM_KEY, REFERENCE_KEY
from frontdoor.agencies import (
    MASH_DECISION_TITLES,
    MASH_REASON_TITLES,
    PARTNER_TITLES,
    AnswerChannel,
    InformationRequest,
    MashDecision,
    MashEpisode,
    SharedChild,
    Urgency,
)
from frontdoor.mash import PartnerView
from frontdoor.timefmt import format_due, format_local

#: ``fd`` values of the buttons.
START: Final = "mash.start"
OPEN: Final = "mash.open"
ANSWER: Final = "mash.answer"
PHONE: Final = "mash.phone"
CLOSE: Final = "mash.close"

#: Input ids.
REASONS_INPUT: Final = "reasons"
AGENCIES_INPUT: Final = "agencies"
URGENCY_INPUT: Final = "urgency"
QUESTION_INPUT: Final = "question"
ANSWER_INPUT: Final = "answer"
AGENCY_INPUT: Final = "agency"
GIVEN_BY_INPUT: Final = "given_by"
DECISION_INPUT: Final = "decision"
RATIONALE_INPUT: Final = "rationale"
PARTICIPANTS_INPUT: Final = "participants"

#: What every partner is told the request shares, on the form and on their card.
SHARED_LINE = (
    "Each agency asked sees only the episode's reference, the question, and each child's name and "
    "date of birth: enough to search its own records. Nothing else of the contact is shared."
)

_URGENCY_TITLES: Mapping[Urgency, str] = {Urgency.URGENT: "Urgent", Urgency.STANDARD: "Standard"}


def _text(text: str, **options: Any) -> TextBlock:
    return TextBlock(text=text, wrap=True, **options)


def _submit(title: str, action: str, reference: str) -> SubmitAction:
    return SubmitAction(title=title, data={ACTION_KEY: action, REFERENCE_KEY: reference})


def _error(message: str) -> list[CardElement]:
    return [_text(message, color="Attention", weight="Bolder")] if message else []


def start_action(contact_reference: str) -> SubmitAction:
    """The button on a contact's personal card that opens the episode form."""
    return _submit("Open a MASH episode", START, contact_reference)


def open_form_card(contact_reference: str, max_chars: int, form_id: str, error: str = "") -> dict[str, Any]:
    """The form that opens an episode; ``form_id`` names this card, so a second press of it (or of
    a stale copy) opens nothing."""
    body: list[CardElement] = [
        _text(f"MASH episode on {contact_reference}", size="Large", weight="Bolder"),
        *_error(error),
        ChoiceSetInput(
            id=REASONS_INPUT,
            label="Why the MASH is required (tick every reason that applies)",
            is_multi_select=True,
            style="expanded",
            is_required=True,
            error_message="Tick at least one reason",
            choices=[Choice(title=title, value=reason.value) for reason, title in MASH_REASON_TITLES.items()],
        ),
        ChoiceSetInput(
            id=AGENCIES_INPUT,
            label="Partner agencies to ask",
            is_multi_select=True,
            style="expanded",
            is_required=True,
            error_message="Choose at least one agency",
            choices=[Choice(title=title, value=agency.value) for agency, title in PARTNER_TITLES.items()],
        ),
        ChoiceSetInput(
            id=URGENCY_INPUT,
            label="Urgency (sets when answers are due)",
            value=Urgency.STANDARD.value,
            choices=[Choice(title=title, value=urgency.value) for urgency, title in _URGENCY_TITLES.items()],
        ),
        TextInput(
            id=QUESTION_INPUT,
            label="The question for the partners",
            is_multiline=True,
            is_required=True,
            error_message="Write the question",
            max_length=max_chars,
        ),
        _text(SHARED_LINE, is_subtle=True, size="Small"),
    ]
    card = AdaptiveCard(
        body=body,
        actions=[
            SubmitAction(
                title="Open the episode",
                data={ACTION_KEY: OPEN, REFERENCE_KEY: contact_reference, FORM_KEY: form_id},
            )
        ],
        fallback_text=f"MASH episode on {contact_reference}",
    )
    return to_dict(card)


def _child_line(child: SharedChild) -> str:
    born = child.date_of_birth.strftime("%d/%m/%Y") if child.date_of_birth else "date of birth not known"
    return f"{plain(child.name)}, born {born}"


def _request_status(request: InformationRequest, now: datetime) -> str:
    answer = request.answer
    if answer is None:
        overdue = "overdue, " if now >= request.due_at else ""
        return f"Waiting: {overdue}due {format_local(request.due_at)} ({format_due(request.due_at, now)})"
    late = " (late)" if answer.at > request.due_at else ""
    via = "by phone" if answer.channel is AnswerChannel.PHONE else "on the card"
    return f"Answered {via} at {format_local(answer.at)}{late}"


def episode_card(
    episode: MashEpisode,
    names: Mapping[str, str],
    now: datetime,
    *,
    may_close: bool,
    max_chars: int,
    notice: str = "",
    error: str = "",
) -> dict[str, Any]:
    """The whole episode, for front-door staff (personal chat only)."""
    body: list[CardElement] = [
        _text(episode.reference, size="Large", weight="Bolder"),
        _text("For you only. Do not forward it or paste it into a channel.", is_subtle=True),
    ]
    if notice:
        body.append(_text(notice, color="Good", weight="Bolder"))
    body += _error(error)
    body.append(
        FactSet(
            facts=[
                Fact(title="Contact", value=episode.contact_reference),
                Fact(title="Urgency", value=_URGENCY_TITLES[episode.urgency]),
                Fact(
                    title="Opened",
                    value=f"{format_local(episode.opened_at)} by {_name(names, episode.opened_by)}",
                ),
            ]
        )
    )
    body.append(_text("Why the MASH is required", weight="Bolder"))
    body += [_text(f"- {MASH_REASON_TITLES[reason]}") for reason in episode.reasons]
    body += [_text("Question", weight="Bolder"), _text(plain(episode.question))]
    body.append(_text("Shared with the partners: " + "; ".join(_child_line(c) for c in episode.children)))
    for request in episode.requests:
        body.append(_text(PARTNER_TITLES[request.agency], weight="Bolder"))
        body.append(_text(_request_status(request, now), is_subtle=request.answer is None))
        if request.answer is not None:
            who = _name(names, request.answer.by)
            if request.answer.channel is AnswerChannel.PHONE:
                who = f"{plain(request.answer.given_by)}, by phone to {who}"
            body += [_text(plain(request.answer.text)), _text(f"From {who}", is_subtle=True, size="Small")]
    closure = episode.closure
    if closure is not None:
        taken = ", ".join(PARTNER_TITLES[a] for a in closure.participants)
        body += [
            _text("Multi-agency decision", weight="Bolder"),
            FactSet(
                facts=[
                    Fact(title="Decision", value=MASH_DECISION_TITLES[closure.decision]),
                    Fact(title="Took part", value=f"Children's services, {taken}"),
                    Fact(title="Recorded", value=f"{format_local(closure.at)} by {_name(names, closure.by)}"),
                ]
            ),
            _text(plain(closure.rationale)),
        ]
        return to_dict(AdaptiveCard(body=body, fallback_text=f"MASH episode {episode.reference}"))
    waiting = [r.agency for r in episode.requests if r.answer is None]
    if waiting:
        body += [
            _text("Record an answer given by phone", weight="Bolder"),
            ChoiceSetInput(
                id=AGENCY_INPUT,
                label="Agency",
                value=waiting[0].value,
                choices=[Choice(title=PARTNER_TITLES[a], value=a.value) for a in waiting],
            ),
            TextInput(id=GIVEN_BY_INPUT, label="Who gave it (name and role)", max_length=200),
            TextInput(id=ANSWER_INPUT, label="Their answer", is_multiline=True, max_length=max_chars),
            ActionSet(actions=[_submit("Record the phone answer", PHONE, episode.reference)]),
        ]
    if may_close:
        body += [
            _text("Close with the multi-agency decision", weight="Bolder"),
            ChoiceSetInput(
                id=DECISION_INPUT,
                label="Decision",
                value=MashDecision.STATUTORY_ASSESSMENT.value,
                choices=[Choice(title=t, value=d.value) for d, t in MASH_DECISION_TITLES.items()],
            ),
            ChoiceSetInput(
                id=PARTICIPANTS_INPUT,
                label="Partner agencies that took part",
                is_multi_select=True,
                style="expanded",
                choices=[
                    Choice(title=PARTNER_TITLES[r.agency], value=r.agency.value) for r in episode.requests
                ],
            ),
            TextInput(id=RATIONALE_INPUT, label="Reasons", is_multiline=True, max_length=max_chars),
            ActionSet(actions=[_submit("Close the episode", CLOSE, episode.reference)]),
        ]
    return to_dict(AdaptiveCard(body=body, fallback_text=f"MASH episode {episode.reference}"))


def request_card(view: PartnerView, now: datetime, *, notice: str = "", error: str = "") -> dict[str, Any]:
    """A partner's information request: what it shares and their own agency's answer, nothing else."""
    request = view.request
    body: list[CardElement] = [
        _text(f"Information request {view.reference}", size="Large", weight="Bolder"),
        _text(f"For {PARTNER_TITLES[view.agency]}. Do not forward it.", is_subtle=True),
    ]
    if notice:
        body.append(_text(notice, color="Good", weight="Bolder"))
    body += _error(error)
    body.append(
        FactSet(
            facts=[
                Fact(title="Urgency", value=_URGENCY_TITLES[view.urgency]),
                Fact(
                    title="Due back",
                    value=f"{format_local(request.due_at)} ({format_due(request.due_at, now)})",
                ),
            ]
        )
    )
    body += [_text("Children", weight="Bolder"), *(_text(_child_line(c)) for c in view.children)]
    body += [_text("Question", weight="Bolder"), _text(plain(view.question))]
    actions: list[Action] = []
    if request.answer is not None:
        body += [_text(_request_status(request, now), weight="Bolder"), _text(plain(request.answer.text))]
    elif view.closed:
        body.append(_text("The episode has closed: no answer is needed now."))
    else:
        body.append(
            TextInput(id=ANSWER_INPUT, label="Your agency's answer", is_multiline=True, max_length=4000)
        )
        actions.append(_submit("Send the answer", ANSWER, view.reference))
    return to_dict(
        AdaptiveCard(body=body, actions=actions, fallback_text=f"Information request {view.reference}")
    )


def _name(names: Mapping[str, str], person_id: str) -> str:
    return names.get(person_id) or "a member of staff"
