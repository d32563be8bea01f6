"""The personal card about one contact (SPEC §3): what the officer (route III) or the social worker
(route IV, re-referrals) records on it, what the person who recorded an outcome sends, and what the
receiving team manager sees of an accepted contact, with the challenge.

One card serves them all; who sees which part is decided by the caller from the role directory and
the contact (``PersonalView``), and every action is checked again on the server:

- the assignee, while the contact is with them, gets the casework: contact with the referrer and
  with the parents, the officer's further work, consent, "parents not reached: letter sent", and the
  outcome (officer) or recommendation (social worker). Each is an ``Action.ShowCard`` holding its own
  inputs, so a required box of one never blocks another;
- once an outcome is recorded, the outcome letter to the referrer is shown (a draft until sign-off,
  then the letter produced) with "Record the letter as sent", or the line saying an anonymous member
  of the public is not told;
- the challenge part (``ChallengeView``) for the receiving team manager and the deciders.

Every action is an ``Action.Execute`` whose data names the contact's reference and version and the
step; the answer replaces the card in place. This card shows names and what people typed: it is for a
personal chat only, never a channel (channel cards come from ``bot.cards.decision``).

The verbs, steps and input ids are in ``bot.cards.work_inputs``, the outcome form in
``bot.cards.outcome_form`` and the challenge parts in ``bot.cards.challenge``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from microsoft_teams.cards import (
    Action,
    ActionSet,
    AdaptiveCard,
    CardElement,
    ChoiceSetInput,
    Container,
    ContainerStyle,
    ExecuteAction,
    Fact,
    FactSet,
    ShowCardAction,
    TextInput,
)
from microsoft_teams.cards import Choice as CardChoice

from bot.cards.challenge import ChallengeView, ReferrerView, _referrer_parts, challenge_parts
from bot.cards.clocks import CLOCK_TITLES
from bot.cards.common import to_dict
from bot.cards.details import STATE_TITLES, contact_details, plain
from bot.cards.mash import start_action as mash_start_action
from bot.cards.outcome_form import outcome_form
from bot.cards.quality import return_action
from bot.cards.work_inputs import (
    _MAX_TEXT,
    LETTER_SENT_VERB,
    STEP_KEY,
    WORK_VERB,
    Input,
    WorkStep,
    _banner,
    _data,
    _heading,
    _notes,
    _show,
    _text,
    _who,
)
from frontdoor.calendar import LONDON
from frontdoor.contact import Consent, Contact, ContactState
from frontdoor.outcomes import OutcomeKind, RecordedOutcome, without_consent
from frontdoor.records import Deadline, DeadlineState
from frontdoor.timefmt import format_due, format_local
from frontdoor.worklog import (
    CONSENT_WORDS,
    OutcomeLetter,
    ParentLetter,
    ParentLetterStatus,
    history,
    is_rereferral,
)

__all__ = [
    "PersonalView",
    "personal_card",
    "work_card_action",
]


# -- the personal card ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonalView:
    """Everything the personal card shows, worked out by the caller."""

    contact: Contact
    deadlines: Sequence[Deadline]
    now: datetime
    #: directory id -> display name
    names: Mapping[str, str]
    #: team managers as (directory id, name), for the receiving team manager
    managers: Sequence[tuple[str, str]] = ()
    heading: str = ""
    #: a message for the person looking (what was just recorded, or why nothing was), our own words
    notice: str = ""
    #: the notice says something was done (rather than why nothing was)
    notice_ok: bool = False
    #: the person looking is the assignee and the contact is with them: show the casework
    casework: bool = False
    parent_letter: ParentLetter | None = None
    outcome: RecordedOutcome | None = None
    #: before sign-off: the outcome letter as it will be produced (None: the referrer is not told)
    draft_letter: str | None = None
    #: after sign-off: the letter produced, and whether it was sent
    letter: OutcomeLetter | None = None
    #: the person looking may record the letter as sent
    may_send_letter: bool = False
    challenge: ChallengeView | None = None
    referrer: ReferrerView | None = None
    #: the person looking may open a MASH episode on the contact
    may_open_mash: bool = False


def _clock_facts(view: PersonalView) -> list[Fact]:
    facts = []
    for deadline in sorted(
        (d for d in view.deadlines if d.state is DeadlineState.OPEN), key=lambda d: (d.due_at, d.clock.value)
    ):
        facts.append(
            Fact(
                title=CLOCK_TITLES[deadline.clock],
                value=f"{format_local(deadline.due_at)} ({format_due(deadline.due_at, view.now)})",
            )
        )
    return facts


def _letter_lines(letter: ParentLetter, now: datetime) -> tuple[str, ContainerStyle]:
    sent = format_local(letter.sent_at)
    match letter.status:
        case ParentLetterStatus.WAITING:
            assert letter.lapses_at is not None
            return (
                f"Parents not reached: a letter was sent at {sent} asking them to make contact by "
                f"{format_local(letter.lapses_at)} ({format_due(letter.lapses_at, now)}).",
                "warning",
            )
        case ParentLetterStatus.LAPSED:
            assert letter.lapsed_at is not None
            review = (
                f" by {format_local(letter.review_due)} ({format_due(letter.review_due, now)})"
                if letter.review_due is not None
                else ""
            )
            return (
                f"The parents did not make contact after the letter of {sent}; it lapsed at "
                f"{format_local(letter.lapsed_at)}. Review the contact and re-apply the threshold{review}: "
                "make your recommendation.",
                "attention",
            )
        case ParentLetterStatus.ANSWERED:
            return f"The parents made contact after the letter of {sent}.", "good"
        case _:
            return (
                f"Parents not reached: a letter advising them of the contact was sent at {sent}.",
                "emphasis",
            )


def _casework_actions(view: PersonalView, reference: str, version: int) -> list[ActionSet]:
    contact = view.contact
    officer = contact.state is ContactState.OFFICER_WORK

    def execute(title: str, step: WorkStep) -> ExecuteAction:
        return ExecuteAction(
            title=title, verb=WORK_VERB, data=_data(reference, version, **{STEP_KEY: step.value})
        )

    record: list[ShowCardAction] = []
    if officer:
        record.append(
            _show(
                "Further work",
                [_notes(Input.WORK_NOTES, "The further or low-level work, or the early-help recommendation")],
                execute("Record the work", WorkStep.OFFICER_WORK),
            )
        )
    record += [
        _show(
            "Referrer",
            [_notes(Input.REFERRER_NOTES, "Contact with the referrer: what was discussed")],
            execute("Record contact with the referrer", WorkStep.REFERRER),
        ),
        _show(
            "Parents",
            [_notes(Input.PARENT_NOTES, "Contact with the parents: what was discussed")],
            execute("Record contact with the parents", WorkStep.PARENTS),
        ),
        _show(
            "Consent",
            [
                ChoiceSetInput(
                    id=Input.CONSENT.value,
                    label="Consent to further enquiries",
                    choices=[CardChoice(title=CONSENT_WORDS[c].capitalize(), value=c.value) for c in Consent],
                    is_required=True,
                    error_message="Choose the consent",
                ),
                TextInput(
                    id=Input.CONSENT_REASON.value,
                    label="If refused: the reason given; if not sought: why seeking it would place the "
                    "child at risk",
                    is_multiline=True,
                    max_length=_MAX_TEXT,
                ),
            ],
            execute("Record consent", WorkStep.CONSENT),
        ),
        _show(
            "Parents not reached",
            [
                _text(
                    "Advising them of the contact and signposting."
                    if officer
                    else "Asking them to make contact within 3 working days; if they do not, the contact "
                    "comes back to you to review and re-apply the threshold.",
                    is_subtle=True,
                ),
                _notes(Input.LETTER_NOTES, "Notes (optional)", required=False),
            ],
            execute("Record the letter sent to the parents", WorkStep.PARENTS_UNREACHABLE),
        ),
    ]
    kinds = [k for k in OutcomeKind if not (officer and k is OutcomeKind.ACCEPTED)]
    finish = _show(
        "Record the outcome" if officer else "Make the recommendation",
        outcome_form(
            kinds,
            view.managers,
            recommendation=not officer,
            urgent=contact.urgent,
            without_consent=not officer and without_consent(contact),
        ),
        execute(
            "Record the outcome and send for sign-off" if officer else "Recommend and send for sign-off",
            WorkStep.OUTCOME,
        ),
    )
    # Social workers only: an officer's route III work never needs a threshold decision sent back.
    back = [] if officer else [return_action(_data(reference, version))]
    return [ActionSet(actions=list(record)), ActionSet(actions=[finish, *back])]


def _outcome_elements(view: PersonalView) -> list[CardElement]:
    recorded = view.outcome
    contact = view.contact
    if recorded is None:
        return []
    outcome = recorded.outcome
    facts = [
        Fact(title="Outcome", value=outcome.title),
        Fact(
            title="Recorded", value=f"{format_local(recorded.at)} by {_who(view.names, recorded.decided_by)}"
        ),
    ]
    if outcome.service_consent is not None:
        facts.append(
            Fact(title="Consent for a service", value=outcome.service_consent.value.replace("_", " "))
        )
    if outcome.risk_of_harm:
        facts.append(Fact(title="Without consent: risk of harm", value=plain(outcome.risk_of_harm)))
    if outcome.accepted:
        facts.append(Fact(title="Receiving team", value=plain(outcome.receiving_team) or "not named"))
        facts.append(
            Fact(title="Strategy discussion", value="Needed" if outcome.strategy_discussion else "Not needed")
        )
        if outcome.receiving_manager_id:
            facts.append(
                Fact(title="Receiving team manager", value=_who(view.names, outcome.receiving_manager_id))
            )
    elements: list[CardElement] = [
        _heading("Outcome"),
        FactSet(facts=facts),
        _text(plain(outcome.rationale), spacing="None"),
    ]
    if contact.state is ContactState.AWAITING_SIGNOFF:
        elements.append(_text("Waiting for sign-off by a consultant or team manager.", is_subtle=True))
    return elements


def _letter_elements(view: PersonalView, reference: str, version: int) -> list[CardElement]:
    contact = view.contact
    if view.letter is not None:
        letter = view.letter
        if not letter.referrer_told:
            return [
                _heading("Outcome letter"),
                _text(
                    "The referrer is not a professional: members of the public and family members are "
                    "told at the time of the call that they will not hear the outcome, so there is no "
                    "letter.",
                ),
            ]
        elements: list[CardElement] = [
            _heading("Outcome letter to the referrer"),
            _text(
                f"Produced at {format_local(letter.produced_at)}. Send it as it is, quoting {reference}.",
                is_subtle=True,
            ),
            Container(style="emphasis", items=[_text(plain(letter.text or ""), font_type="Monospace")]),
        ]
        if letter.sent_at is not None:
            elements.append(
                _text(
                    f"Recorded as sent at {format_local(letter.sent_at)} by "
                    f"{_who(view.names, letter.sent_by)}.",
                    weight="Bolder",
                )
            )
        elif view.may_send_letter:
            elements.append(
                ActionSet(
                    actions=[
                        ExecuteAction(
                            title="Record the letter as sent",
                            verb=LETTER_SENT_VERB,
                            data=_data(reference, version),
                        )
                    ]
                )
            )
        return elements
    if contact.state is not ContactState.AWAITING_SIGNOFF or view.outcome is None:
        return []
    if view.draft_letter is None:
        return [
            _heading("Outcome letter"),
            _text(
                "The referrer is not a professional: members of the public and family members are told at "
                "the time of the call that they will not hear the outcome, so there will be no letter."
            ),
        ]
    return [
        _heading("Outcome letter to the referrer (draft)"),
        _text(
            "The letter is produced when the outcome is signed off, and then sent to you to send.",
            is_subtle=True,
        ),
        Container(style="emphasis", items=[_text(plain(view.draft_letter), font_type="Monospace")]),
    ]


def _history_elements(view: PersonalView) -> list[CardElement]:
    lines = history(view.contact)
    if not lines:
        return []
    elements: list[CardElement] = [_heading("What has happened")]
    for line in lines:
        elements.append(
            _text(
                f"{format_local(line.at)}: {line.title}, by {_who(view.names, line.actor_id)}.",
                spacing="Small",
            )
        )
        if line.text:
            elements.append(_text(plain(line.text), spacing="None", is_subtle=True))
    return elements


def work_card_action(reference: str, version: int) -> ExecuteAction:
    """ "Open the work card": the contact's personal card (below) in reply, for staff."""
    return ExecuteAction(
        title="Open the work card",
        verb=WORK_VERB,
        data=_data(reference, version, **{STEP_KEY: WorkStep.REFRESH.value}),
    )


def personal_card(view: PersonalView) -> dict[str, Any]:
    contact = view.contact
    reference = contact.reference or ""
    version = contact.version
    body: list[CardElement] = []
    if view.heading:
        body.append(_banner(view.heading, "accent"))
    if view.notice:
        body.append(_text(view.notice, color="Good" if view.notice_ok else "Attention", weight="Bolder"))
    body += [
        _text(reference, size="Large", weight="Bolder"),
        _text("For you only. Do not forward it or paste it into a channel.", is_subtle=True),
    ]
    if contact.urgent:
        body.append(_banner("Urgent: immediate risk", "attention"))
    if contact.state is ContactState.SW_ASSESSMENT and is_rereferral(contact):
        body.append(
            _text(
                "Re-referral: recommend no further involvement or progress to referral for single assessment "
                "within 48 hours of the reassignment."
            )
        )
    facts = [
        Fact(title="State", value=STATE_TITLES[contact.state]),
        Fact(title="With", value=_who(view.names, contact.assignee_id)) if contact.assignee_id else None,
        *_clock_facts(view),
    ]
    body.append(FactSet(facts=[fact for fact in facts if fact is not None]))
    if view.parent_letter is not None:
        line, style = _letter_lines(view.parent_letter, view.now)
        body.append(_banner(line, style))
    if view.casework:
        body += _casework_actions(view, reference, version)
    body += _outcome_elements(view)
    body += _letter_elements(view, reference, version)
    if view.challenge is not None:
        elements, actions = challenge_parts(view.challenge, view.names)
        if elements or actions:
            body.append(_heading("Challenge by the receiving team"))
            body += elements
            if actions:
                body.append(ActionSet(actions=list(actions)))
    if view.referrer is not None:
        body += _referrer_parts(view.referrer, view.names)
    body += _history_elements(view)
    today: date = view.now.astimezone(LONDON).date()
    body += contact_details(contact, view.names, today)
    refresh = ExecuteAction(
        title="Refresh", verb=WORK_VERB, data=_data(reference, version, **{STEP_KEY: WorkStep.REFRESH.value})
    )
    card_actions: list[Action] = [refresh]
    if view.may_open_mash:
        card_actions.append(mash_start_action(reference))
    return to_dict(AdaptiveCard(body=body, actions=card_actions, fallback_text=f"Contact {reference}"))
