"""The daily domestic-abuse triage cards (SPEC §9): today's list with what is undecided and a form
to add an incident, and the outcome form of one incident.

The list shows police references, dates and the short descriptions, which name nobody; a child is
named only on the outcome form of (b) or (c), in the personal chat of the person recording it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
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
from frontdoor.agencies import TRIAGE_OUTCOME_TITLES, TriageIncident
from frontdoor.script import CONSENT_TITLES, RISK_QUESTIONS
from frontdoor.script import Choice as ScriptChoice
from frontdoor.timefmt import format_local
from frontdoor.triage import MAX_DETAIL_CHARS, MAX_SUMMARY_CHARS

ADD: Final = "triage.add"
PICK: Final = "triage.pick"
DECIDE: Final = "triage.decide"
#: The key of an incident's id in the buttons' data.
INCIDENT_KEY: Final = "incident"

POLICE_REFERENCE_INPUT: Final = "police_reference"
OCCURRED_INPUT: Final = "occurred_on"
SUMMARY_INPUT: Final = "summary"
OUTCOME_INPUT: Final = "outcome"
CHILD_NAME_INPUT: Final = "child_name"
CHILD_DOB_INPUT: Final = "child_dob"
CONSENT_INPUT: Final = "consent"
CONSENT_REASON_INPUT: Final = "consent_reason"
SYSTEMS_INPUT: Final = "systems_checked"
RISKS_INPUT: Final = "risks"
AUTHORITY_INPUT: Final = "other_authority"
TOLD_INPUT: Final = "told"


def _text(text: str, **options: Any) -> TextBlock:
    return TextBlock(text=text, wrap=True, **options)


def _submit(title: str, action: str, **data: str) -> SubmitAction:
    return SubmitAction(title=title, data={"fd": action, **data})


def _outcome_line(incident: TriageIncident, names: Mapping[str, str]) -> str:
    decision = incident.decision
    if decision is None:
        return "**Undecided**"
    detail = decision.contact_reference or plain(decision.other_authority) or plain(decision.told)
    who = names.get(decision.by) or "a member of staff"
    title = TRIAGE_OUTCOME_TITLES[decision.outcome] + (f": {detail}" if detail else "")
    return f"{title} ({who}, {format_local(decision.at)})"


def triage_card(
    day: date,
    incidents: Sequence[TriageIncident],
    names: Mapping[str, str],
    *,
    notice: str = "",
    error: str = "",
) -> dict[str, Any]:
    undecided = sum(1 for i in incidents if i.decision is None)
    body: list[CardElement] = [
        _text(f"Domestic-abuse triage, {day:%A %d %B %Y}", size="Large", weight="Bolder"),
        _text(f"{len(incidents)} incidents, {undecided} undecided."),
    ]
    if notice:
        body.append(_text(notice, color="Good", weight="Bolder"))
    if error:
        body.append(_text(error, color="Attention", weight="Bolder"))
    for incident in incidents:
        items: list[CardElement] = [
            _text(f"**{incident.police_reference}**, {incident.occurred_on:%d/%m/%Y}"),
            _text(plain(incident.summary)),
            _text(_outcome_line(incident, names)),
        ]
        if incident.decision is None:
            items.append(ActionSet(actions=[_submit("Decide", PICK, **{INCIDENT_KEY: incident.id})]))
        body.append(Container(items=items, separator=True))
    body += [
        _text("Add an incident", weight="Bolder", separator=True),
        TextInput(id=POLICE_REFERENCE_INPUT, label="Police reference", max_length=32),
        DateInput(id=OCCURRED_INPUT, label="Date of the incident"),
        TextInput(
            id=SUMMARY_INPUT,
            label="What happened (no names, addresses or dates of birth)",
            is_multiline=True,
            max_length=MAX_SUMMARY_CHARS,
        ),
        ActionSet(actions=[_submit("Add to today's list", ADD)]),
    ]
    return to_dict(AdaptiveCard(body=body, fallback_text=f"Domestic-abuse triage {day.isoformat()}"))


def outcome_card(
    incident: TriageIncident, local_systems: Sequence[ScriptChoice], *, error: str = ""
) -> dict[str, Any]:
    body: list[CardElement] = [
        _text(f"Outcome for {incident.police_reference}", size="Large", weight="Bolder"),
        _text(plain(incident.summary)),
    ]
    if error:
        body.append(_text(error, color="Attention", weight="Bolder"))
    body += [
        ChoiceSetInput(
            id=OUTCOME_INPUT,
            label="Outcome (one)",
            style="expanded",
            is_required=True,
            error_message="Choose the outcome",
            choices=[Choice(title=t, value=o.value) for o, t in TRIAGE_OUTCOME_TITLES.items()],
        ),
        _text("(b) and (c): the child, to make the contact", weight="Bolder"),
        TextInput(id=CHILD_NAME_INPUT, label="Child's name", max_length=200),
        DateInput(id=CHILD_DOB_INPUT, label="Date of birth"),
        ChoiceSetInput(
            id=CONSENT_INPUT,
            label="Consent",
            choices=[Choice(title=t, value=c.value) for c, t in CONSENT_TITLES.items()],
        ),
        TextInput(id=CONSENT_REASON_INPUT, label="Why consent was not sought", max_length=MAX_DETAIL_CHARS),
        ChoiceSetInput(
            id=SYSTEMS_INPUT,
            label="(b) Checks done",
            is_multi_select=True,
            style="expanded",
            choices=[Choice(title=title, value=value) for value, title in local_systems],
        ),
        ChoiceSetInput(
            id=RISKS_INPUT,
            label="(c) Immediate risks found",
            is_multi_select=True,
            style="expanded",
            choices=[Choice(title=q, value=r.value) for r, q in RISK_QUESTIONS.items()],
        ),
        TextInput(id=AUTHORITY_INPUT, label="(d) The other authority", max_length=MAX_DETAIL_CHARS),
        TextInput(
            id=TOLD_INPUT,
            label="(e), (f) Who was told (name and role or service)",
            max_length=MAX_DETAIL_CHARS,
        ),
    ]
    actions: list[Action] = [_submit("Record the outcome", DECIDE, **{INCIDENT_KEY: incident.id})]
    return to_dict(
        AdaptiveCard(body=body, actions=actions, fallback_text=f"Outcome for {incident.police_reference}")
    )
