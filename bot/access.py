"""The authorization table (SPEC §8): who may use each text command, card submission
(``Action.Submit``) and card verb (``Action.Execute``), in which kind of conversation, and whether
it shows a full record.

The activity handler looks every turn up here and refuses it before any feature's handler runs: a
sender whose roles (from the role directory) hold none of the rule's permissions, or a turn from a
conversation the rule does not list, changes nothing and gets a refusal. Handlers still make the
finer checks that depend on the record ("is this my card", "am I the incoming duty manager").

The ``Router`` refuses to register a command, submission or verb that has no rule here, and
``create_app`` refuses a rule with nothing registered for it, so a new verb can never skip the
check. Commands take their rule from ``frontdoor.commands`` (their scopes and permission), so the
help card, the manifest and this table cannot disagree. ``docs/authz.md`` shows the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.cards import body_requests, marac_cases, mash, triage
from bot.cards.alerts import ACK_VERB as ALERT_ACK_VERB
from bot.cards.alerts import REASON_VERB as ALERT_REASON_VERB
from bot.cards.consultation import CANCEL as CONSULTATION_CANCEL
from bot.cards.consultation import OVERRIDE as CONSULTATION_OVERRIDE
from bot.cards.consultation import SAVE as CONSULTATION_SAVE
from bot.cards.decision import VIEW_VERB
from bot.cards.decisions import DECIDE_VERB, REFRESH_VERB, REREFERRAL_VERB, SIGN_OFF_VERB
from bot.cards.duty import ROTA_SAVE_VERB, ROTA_SHOW_VERB
from bot.cards.edt import TAKE_VERB as EDT_TAKE_VERB
from bot.cards.figures import FIGURES_ELSEWHERE, FIGURES_VERB
from bot.cards.handover import ACK_VERB as HANDOVER_ACK_VERB
from bot.cards.intake import (
    ADD_CHILD,
    ADD_PARENT,
    BACK,
    CANCEL,
    HISTORY_OPEN,
    HISTORY_SAVE,
    NEXT,
    OPEN,
    SAVE,
    SUBMIT,
)
from bot.cards.mail import NOT_REFERRAL as MAIL_NOT_REFERRAL
from bot.cards.mail import PERSONAL_ONLY as MAIL_PERSONAL_ONLY
from bot.cards.mail import START as MAIL_START
from bot.cards.mail import TAKE as MAIL_TAKE
from bot.cards.quality import REFUSE_SIGN_OFF_VERB, RETURN_VERB
from bot.cards.work_inputs import (
    CHALLENGE_VERB,
    LETTER_SENT_VERB,
    OUTCOME_VERB,
    REFERRER_CHALLENGE_VERB,
    WORK_VERB,
)
from frontdoor.commands import COMMANDS, CommandName, Scope
from frontdoor.roles import Permission, Role, may


class Place(StrEnum):
    """The kinds of conversation a turn can come from."""

    PERSONAL = "personal chat"
    DECISIONS_CHANNEL = "decisions channel"
    DUTY_CHANNEL = "duty channel"
    EDT_CHANNEL = "EDT channel"
    OTHER_CHANNEL = "other channel"
    GROUP_CHAT = "group chat"


class Surface(StrEnum):
    COMMAND = "command"
    SUBMISSION = "submission"
    EXECUTION = "verb"


class Reads(StrEnum):
    """What of a contact (or consultation) the answer can show."""

    NOTHING = "no contact data"
    SUMMARY = "summary (reference, initials, ages, needs)"
    #: the whole record: every answer that shows it writes one ``contact.viewed`` or
    #: ``consultation.viewed`` audit row (``bot.dialogs.contacts.ContactRecords.viewed``)
    FULL_RECORD = "full record (audited)"


class Refused(StrEnum):
    WRONG_PLACE = "wrong_place"
    NOT_PERMITTED = "not_permitted"


@dataclass(frozen=True, slots=True)
class Rule:
    #: where the turn may come from
    places: frozenset[Place]
    #: any one of these; empty: anyone, including people not in the directory
    permissions: tuple[Permission, ...]
    reads: Reads = Reads.NOTHING
    #: the finer check the handler makes, in words (for the documentation)
    relation: str = ""
    #: what someone using it in the wrong kind of conversation is told (default: where it works)
    elsewhere: str = ""

    def check(self, roles: Iterable[Role], place: Place) -> Refused | None:
        if place not in self.places:
            return Refused.WRONG_PLACE
        held = frozenset(roles)
        if self.permissions and not any(may(held, permission) for permission in self.permissions):
            return Refused.NOT_PERMITTED
        return None


PERSONAL = frozenset({Place.PERSONAL})
CHANNELS = frozenset({Place.DECISIONS_CHANNEL, Place.DUTY_CHANNEL, Place.EDT_CHANNEL, Place.OTHER_CHANNEL})
#: where a contact's channel card is (the decisions channel; the duty channel for a re-referral)
CARD_CHANNELS = frozenset({Place.DECISIONS_CHANNEL, Place.DUTY_CHANNEL})
#: deciding: on the channel card, or in the decider's personal chat (SPEC §8)
DECIDING = CARD_CHANNELS | PERSONAL

_SCOPE_PLACES: Mapping[Scope, frozenset[Place]] = {
    Scope.PERSONAL: PERSONAL,
    Scope.TEAM: CHANNELS,
    Scope.GROUP_CHAT: frozenset({Place.GROUP_CHAT}),
}

_COMMAND_READS: Mapping[CommandName, tuple[Reads, str]] = {
    CommandName.FIND: (
        Reads.FULL_RECORD,
        "CT- and IR-: anyone who may view contacts; PC-: front-door staff, or the professional who "
        "logged it; MASH-: front-door staff, or a partner of an agency asked (their request only)",
    ),
    CommandName.MY_WORK: (Reads.SUMMARY, "the sender's own assignments"),
    CommandName.QUEUE: (Reads.SUMMARY, ""),
    CommandName.RESUME: (Reads.NOTHING, "the sender's own drafts"),
    CommandName.CANCEL: (Reads.NOTHING, "the sender's own draft"),
    CommandName.CONSULTATION: (Reads.NOTHING, "a new form of the sender's own"),
    CommandName.LINK: (Reads.NOTHING, ""),
}


#: Commands that show contact summaries work in a channel only where those may be shown (the
#: summary reaches only the channels that receive contacts' cards, SPEC §8).
_COMMAND_CHANNELS: Mapping[CommandName, frozenset[Place]] = {
    CommandName.QUEUE: PERSONAL | CARD_CHANNELS,
    # Management information: in a personal chat or the duty channel (SPEC §11).
    CommandName.FIGURES: PERSONAL | frozenset({Place.DUTY_CHANNEL}),
}


#: What someone typing a command in the wrong kind of conversation is told, where "this works
#: only in …" would not say why.
_COMMAND_ELSEWHERE: Mapping[CommandName, str] = {
    CommandName.MAIL: MAIL_PERSONAL_ONLY,
    CommandName.FIGURES: FIGURES_ELSEWHERE,
}


def _command_rules() -> dict[tuple[Surface, str], Rule]:
    rules: dict[tuple[Surface, str], Rule] = {}
    for command in COMMANDS:
        places = frozenset(place for scope in command.scopes for place in _SCOPE_PLACES[scope])
        places &= _COMMAND_CHANNELS.get(command.name, places)
        reads, relation = _COMMAND_READS.get(command.name, (Reads.NOTHING, ""))
        permissions = (command.permission,) if command.permission is not None else ()
        elsewhere = _COMMAND_ELSEWHERE.get(command.name, "")
        rules[(Surface.COMMAND, command.name.value)] = Rule(places, permissions, reads, relation, elsewhere)
    return rules


_OWN_DRAFT = "the sender's own draft only"
_DRAFTING = Rule(PERSONAL, (Permission.START_CONTACT,), Reads.NOTHING, _OWN_DRAFT)
_CONSULTING = Rule(
    PERSONAL,
    (Permission.LOG_CONSULTATION,),
    Reads.NOTHING,
    "the sender's own form",
    elsewhere="Consultations are logged in a personal chat with me.",
)
_ROTA = Rule(
    PERSONAL | CHANNELS, (Permission.MANAGE_ROTA,), Reads.NOTHING, "the day must be within the rota's range"
)

#: Multi-agency work (SPEC §9) is done in a personal chat: its cards name children.
_MASH_ELSEWHERE = "MASH episodes are worked in a personal chat with me: they name children."
_MASH_STAFF = Rule(
    PERSONAL,
    (Permission.MASH_EPISODE,),
    Reads.SUMMARY,
    "the episode card (its children, the partners' answers); the contact must be open",
    elsewhere=_MASH_ELSEWHERE,
)
_FRONT_DOOR_LOG = Rule(
    PERSONAL,
    (Permission.START_CONTACT,),
    Reads.NOTHING,
    "",
    elsewhere="This is recorded in a personal chat with me, so nothing was changed.",
)

#: The table. Keys: (surface, command name / submission action / verb).
ACCESS: Mapping[tuple[Surface, str], Rule] = {
    **_command_rules(),
    # The contact script: the officer's personal chat only (SPEC §5, §8).
    **{
        (Surface.SUBMISSION, action): _DRAFTING
        for action in (NEXT, SAVE, ADD_CHILD, ADD_PARENT, BACK, CANCEL)
    },
    (Surface.SUBMISSION, SUBMIT): _DRAFTING,
    (Surface.SUBMISSION, OPEN): _DRAFTING,
    # An urgent contact's outstanding history checks, recorded later (SPEC §3).
    **{
        (Surface.SUBMISSION, action): Rule(
            PERSONAL,
            (Permission.RECORD_HISTORY_CHECKS,),
            Reads.NOTHING,
            "a submitted contact; its history checks card only",
        )
        for action in (HISTORY_OPEN, HISTORY_SAVE)
    },
    # The e-mail queue (SPEC §5a): taking an e-mail starts a contact, so it is the officer's work.
    **{
        (Surface.SUBMISSION, action): Rule(
            PERSONAL,
            (Permission.START_CONTACT,),
            Reads.NOTHING,
            "an e-mail the sender took (first wins)",
            elsewhere=MAIL_PERSONAL_ONLY,
        )
        for action in (MAIL_TAKE, MAIL_START, MAIL_NOT_REFERRAL)
    },
    # Consultations are logged in a personal chat.
    (Surface.SUBMISSION, CONSULTATION_SAVE): _CONSULTING,
    (Surface.SUBMISSION, CONSULTATION_OVERRIDE): _CONSULTING,
    (Surface.SUBMISSION, CONSULTATION_CANCEL): _CONSULTING,
    # The contact's channel card.
    (Surface.EXECUTION, REFRESH_VERB): Rule(
        DECIDING,
        (Permission.VIEW_CONTACTS,),
        Reads.SUMMARY,
        "the deciding view only for those whose role can act on the contact now; in a personal chat "
        'from the full record\'s "Decide or sign off"',
    ),
    (Surface.EXECUTION, DECIDE_VERB): Rule(DECIDING, (Permission.THRESHOLD_DECISION,), Reads.SUMMARY),
    (Surface.EXECUTION, SIGN_OFF_VERB): Rule(
        DECIDING,
        (Permission.SIGN_OFF,),
        Reads.SUMMARY,
        "the contact must be awaiting sign-off; never by whoever recorded the outcome or decided "
        "the threshold on the way to it",
    ),
    (Surface.EXECUTION, REREFERRAL_VERB): Rule(DECIDING, (Permission.DECIDE_REREFERRAL,), Reads.SUMMARY),
    (Surface.EXECUTION, REFUSE_SIGN_OFF_VERB): Rule(DECIDING, (Permission.SIGN_OFF,), Reads.SUMMARY),
    (Surface.EXECUTION, VIEW_VERB): Rule(
        PERSONAL | CHANNELS,
        (Permission.VIEW_CONTACTS,),
        Reads.FULL_RECORD,
        "the record goes to the viewer's personal chat only",
    ),
    (Surface.EXECUTION, OUTCOME_VERB): Rule(
        DECIDING,
        (Permission.THRESHOLD_DECISION, Permission.DECIDE_REREFERRAL),
        Reads.FULL_RECORD,
        "a duty manager only on a re-referral they sent for a child-protection decision; "
        "the full record only in a personal chat",
    ),
    (Surface.EXECUTION, CHALLENGE_VERB): Rule(
        DECIDING,
        (
            Permission.CHALLENGE_THRESHOLD,
            Permission.THRESHOLD_DECISION,
            Permission.DECIDE_REREFERRAL,
            Permission.SETTLE_ESCALATION,
        ),
        Reads.FULL_RECORD,
        "raise: the receiving team manager named on the outcome, until the window ends; discuss and "
        "escalate: the challenger and the deciders; resolve: the deciders, or once escalated a service "
        "manager, never the challenger; the full record only in a personal chat",
    ),
    # The personal card about a contact: the full record, in a personal chat only.
    (Surface.EXECUTION, WORK_VERB): Rule(
        PERSONAL,
        (Permission.VIEW_CONTACTS,),
        Reads.FULL_RECORD,
        "casework only by the assignee, holding officer_work or work_allocated",
    ),
    (Surface.EXECUTION, REFERRER_CHALLENGE_VERB): Rule(
        PERSONAL,
        (Permission.RECORD_REFERRER_CHALLENGE,),
        Reads.FULL_RECORD,
        "a closed contact; raise: any front-door staff; each step: consultants or team managers "
        "(discussion), then team managers, then service managers",
    ),
    (Surface.EXECUTION, LETTER_SENT_VERB): Rule(
        PERSONAL,
        (Permission.VIEW_CONTACTS,),
        Reads.FULL_RECORD,
        "officers, or whoever recorded the outcome",
    ),
    (Surface.EXECUTION, RETURN_VERB): Rule(
        PERSONAL, (Permission.WORK_ALLOCATED,), Reads.FULL_RECORD, "the allocated social worker only"
    ),
    # The scheduler's cards.
    (Surface.EXECUTION, ALERT_ACK_VERB): Rule(
        PERSONAL | CARD_CHANNELS,
        (Permission.VIEW_CONTACTS,),
        Reads.NOTHING,
        "breach alerts only (due-soon alerts inform): the alert's recipients, managers, and people "
        "whose role can act on its clock",
    ),
    (Surface.EXECUTION, ALERT_REASON_VERB): Rule(
        PERSONAL | CARD_CHANNELS,
        (Permission.VIEW_CONTACTS,),
        Reads.NOTHING,
        "breach alerts only: why the clock ran late, a code from the list; the person the work is with, "
        "consultants, duty managers and team managers",
    ),
    (Surface.EXECUTION, HANDOVER_ACK_VERB): Rule(
        PERSONAL | frozenset({Place.DUTY_CHANNEL}),
        (Permission.HANDOVER,),
        Reads.NOTHING,
        "the incoming duty manager on the rota, or a team manager",
    ),
    (Surface.EXECUTION, EDT_TAKE_VERB): Rule(
        PERSONAL | frozenset({Place.EDT_CHANNEL}),
        (Permission.OVERNIGHT_ACTION,),
        Reads.NOTHING,
        "an item of that day's EDT handover",
    ),
    # The figures card's buttons narrow it in place: counts only, no contact data (SPEC §11).
    (Surface.EXECUTION, FIGURES_VERB): Rule(
        PERSONAL | frozenset({Place.DUTY_CHANNEL}),
        (Permission.SEE_FIGURES,),
        Reads.NOTHING,
        elsewhere=FIGURES_ELSEWHERE,
    ),
    (Surface.EXECUTION, ROTA_SAVE_VERB): _ROTA,
    (Surface.EXECUTION, ROTA_SHOW_VERB): _ROTA,
    # MASH episodes (SPEC §9): opened and closed by consultants and team managers, answered by
    # partners on their own agency's request, or by phone to any front-door staff.
    (Surface.SUBMISSION, mash.START): Rule(
        PERSONAL,
        (Permission.MASH_EPISODE,),
        Reads.NOTHING,
        "the form to open an episode on the contact",
        elsewhere=_MASH_ELSEWHERE,
    ),
    (Surface.SUBMISSION, mash.OPEN): _MASH_STAFF,
    (Surface.SUBMISSION, mash.CLOSE): _MASH_STAFF,
    (Surface.SUBMISSION, mash.PHONE): Rule(
        PERSONAL,
        (Permission.VIEW_CONTACTS,),
        Reads.SUMMARY,
        "the episode card (its children, the partners' answers); an agency asked and not yet answered",
        elsewhere=_MASH_ELSEWHERE,
    ),
    (Surface.SUBMISSION, mash.ANSWER): Rule(
        PERSONAL,
        (Permission.ANSWER_AGENCY_REQUESTS,),
        Reads.NOTHING,
        "a partner answers only their own agency's request (the request card: what was shared with them)",
        elsewhere=_MASH_ELSEWHERE,
    ),
    # The daily domestic-abuse triage (its (b) and (c) outcomes submit a contact).
    **{(Surface.SUBMISSION, action): _FRONT_DOOR_LOG for action in (triage.ADD, triage.PICK, triage.DECIDE)},
    # CAFCASS and Ofsted information requests.
    (Surface.SUBMISSION, body_requests.LOG): _FRONT_DOOR_LOG,
    (Surface.SUBMISSION, body_requests.RESPOND): _FRONT_DOOR_LOG,
    # MARAC and MAPPA.
    **{
        (Surface.SUBMISSION, action): _FRONT_DOOR_LOG
        for action in (
            marac_cases.ADD_CASE,
            marac_cases.LINK_CHILD,
            marac_cases.RECORD_ACTION,
            marac_cases.LOG_MAPPA,
        )
    },
    (Surface.SUBMISSION, marac_cases.ANSWER): Rule(
        PERSONAL,
        (Permission.START_CONTACT, Permission.WORK_ALLOCATED),
        Reads.NOTHING,
        "the worker the request was sent to, or anyone who may start a contact",
        elsewhere="MARAC and MAPPA are worked in a personal chat with me: they name children.",
    ),
}


class UnlistedError(ValueError):
    """A command, submission or verb registered without a rule in ``ACCESS`` (or the reverse)."""


def rule_for(surface: Surface, name: str, table: Mapping[tuple[Surface, str], Rule] = ACCESS) -> Rule:
    rule = table.get((surface, name))
    if rule is None:
        raise UnlistedError(
            f"the {surface.value} {name!r} has no entry in the authorization table (bot/access.py); "
            "add one saying who may use it and where"
        )
    return rule


def unregistered(
    registered: Iterable[tuple[Surface, str]], table: Mapping[tuple[Surface, str], Rule] = ACCESS
) -> list[str]:
    """Rules with nothing registered for them (a renamed verb leaves one behind)."""
    present = set(registered)
    return sorted(f"{surface.value} {name}" for surface, name in table if (surface, name) not in present)


WRONG_PLACE_TEXT: Mapping[frozenset[Place], str] = {
    PERSONAL: "This works only in your personal chat with me, so nothing was changed.",
    CARD_CHANNELS: "This card works only in the decisions or duty channel, so nothing was changed.",
}


def wrong_place_text(rule: Rule) -> str:
    known = rule.elsewhere or WRONG_PLACE_TEXT.get(rule.places)
    if known is not None:
        return known
    where = [_PHRASES[place] for place in Place if place in rule.places]
    listed = where[0] if len(where) == 1 else ", ".join(where[:-1]) + " or " + where[-1]
    return f"This works only in {listed}, so nothing was changed."


_PHRASES: Mapping[Place, str] = {
    Place.PERSONAL: "your personal chat with me",
    Place.DECISIONS_CHANNEL: "the decisions channel",
    Place.DUTY_CHANNEL: "the duty channel",
    Place.EDT_CHANNEL: "the EDT channel",
    Place.OTHER_CHANNEL: "another team channel",
    Place.GROUP_CHAT: "a group chat",
}


def markdown_table(table: Mapping[tuple[Surface, str], Rule] = ACCESS) -> str:
    """The table for people (``docs/authz.md`` holds it; a test keeps the two the same)."""
    order = list(Place)
    lines = [
        "| kind | name | who (any of) | "
        + " | ".join(place.value for place in order)
        + " | shows | finer check |",
        "|---|---|---|" + "---|" * len(order) + "---|---|",
    ]
    for (surface, name), rule in table.items():
        holders = ", ".join(
            sorted(
                {
                    role.value
                    for role in Role
                    for p in rule.permissions
                    if may({role}, p) and role is not Role.PROFESSIONAL
                }
            )
        )
        who = "anyone" if not rule.permissions else (holders or "nobody")
        if rule.permissions and any(may(set(), p) for p in rule.permissions):
            who = f"{who}, partner professionals" if holders else "partner professionals"
        cells = " | ".join("yes" if place in rule.places else "—" for place in order)
        lines.append(
            f"| {surface.value} | `{name}` | {who} | {cells} | {rule.reads.value} | {rule.relation} |"
        )
    return "\n".join(lines) + "\n"
