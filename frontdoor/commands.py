"""The text commands people type to the bot, as data.

The help card, the command router and the Teams app manifest's command lists all read this
table, so a command is listed if and only if the bot answers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from frontdoor.roles import Permission


class Scope(StrEnum):
    PERSONAL = "personal"
    TEAM = "team"
    GROUP_CHAT = "groupChat"


class CommandName(StrEnum):
    HELP = "help"
    NEW_CONTACT = "new_contact"
    RESUME = "resume"
    CANCEL = "cancel"
    REGISTER_DECISIONS_CHANNEL = "register_decisions_channel"
    REGISTER_DUTY_CHANNEL = "register_duty_channel"
    REGISTER_EDT_CHANNEL = "register_edt_channel"
    CONTINUITY = "continuity"
    OVERNIGHT = "overnight"
    CONSULTATION = "consultation"
    FIND = "find"
    LINK = "link"
    ROLES = "roles"
    GRANT = "grant"
    REVOKE = "revoke"
    TEAM = "team"
    MY_WORK = "my_work"
    QUEUE = "queue"
    HANDOVER = "handover"
    DUTY = "duty"
    STATUS = "status"
    FIGURES = "figures"
    MAIL = "mail"
    TRIAGE = "triage"
    INFORMATION_REQUEST = "information_request"
    MARAC = "marac"
    MAPPA = "mappa"


@dataclass(frozen=True, slots=True)
class Command:
    name: CommandName
    #: how it is typed; the first word(s) of a message
    words: str
    description: str
    scopes: frozenset[Scope]
    #: None: anyone may use it
    permission: Permission | None = None
    #: shown as ``usage`` in help when the command takes an argument
    usage: str = ""
    #: more examples of the argument, each shown on its own line in help
    more_usage: tuple[str, ...] = ()


ALL_SCOPES = frozenset(Scope)

COMMANDS: tuple[Command, ...] = (
    Command(CommandName.HELP, "help", "What I can do for you", ALL_SCOPES),
    # The contact script: a wizard of cards in the officer's personal chat (SPEC §5).
    Command(
        CommandName.NEW_CONTACT,
        "new contact",
        "Record a new contact, one card per section",
        frozenset({Scope.PERSONAL}),
        Permission.START_CONTACT,
    ),
    Command(
        CommandName.RESUME,
        "resume",
        "Carry on with a draft contact",
        frozenset({Scope.PERSONAL}),
        Permission.START_CONTACT,
    ),
    Command(
        CommandName.CANCEL,
        "cancel",
        "Delete the draft contact you are working on",
        frozenset({Scope.PERSONAL}),
        Permission.START_CONTACT,
    ),
    # Said in the team channel that is to receive the cards.
    Command(
        CommandName.REGISTER_DECISIONS_CHANNEL,
        "register decisions channel",
        "Make this channel the decisions channel (administrators)",
        frozenset({Scope.TEAM}),
        Permission.REGISTER_CHANNELS,
    ),
    Command(
        CommandName.REGISTER_DUTY_CHANNEL,
        "register duty channel",
        "Make this channel the duty manager channel (administrators)",
        frozenset({Scope.TEAM}),
        Permission.REGISTER_CHANNELS,
    ),
    Command(
        CommandName.REGISTER_EDT_CHANNEL,
        "register edt channel",
        "Make this channel the emergency duty team's channel (administrators)",
        frozenset({Scope.TEAM}),
        Permission.REGISTER_CHANNELS,
    ),
    # Consultations hold what a professional said about a worry: personal chat only.
    Command(
        CommandName.CONSULTATION,
        "consultation",
        "Log an anonymous consultation and get a PC- reference",
        frozenset({Scope.PERSONAL}),
        Permission.LOG_CONSULTATION,
    ),
    # Each kind of reference checks its own permission when found (see bot/dialogs/find.py).
    Command(
        CommandName.FIND,
        "find",
        "Look up a record by its reference",
        frozenset({Scope.PERSONAL}),
        Permission.LOG_CONSULTATION,
        usage="PC-26-00012",
        more_usage=("CT-26-000123",),
    ),
    # Work lists (SPEC §6): what is mine, what waits for screening.
    Command(
        CommandName.MY_WORK,
        "my work",
        "Contacts assigned to you, urgent first, with due times",
        frozenset({Scope.PERSONAL}),
        Permission.VIEW_CONTACTS,
    ),
    Command(
        CommandName.QUEUE,
        "queue",
        "Contacts awaiting screening, urgent then oldest",
        frozenset({Scope.PERSONAL, Scope.TEAM}),
        Permission.VIEW_CONTACTS,
    ),
    # The duty manager's surfaces (SPEC §7).
    Command(
        CommandName.HANDOVER,
        "handover",
        "The end-of-day handover as it stands now",
        frozenset({Scope.PERSONAL, Scope.TEAM}),
        Permission.HANDOVER,
    ),
    Command(
        CommandName.STATUS,
        "status",
        "Open contacts against the band, workers' loads, breached clocks, undelivered alerts",
        frozenset({Scope.PERSONAL, Scope.TEAM}),
        Permission.SEE_STATUS,
    ),
    # Management information (SPEC §11): in a personal chat or the duty channel.
    Command(
        CommandName.FIGURES,
        "figures",
        "Timeliness and volumes as charts, for a period",
        frozenset({Scope.PERSONAL, Scope.TEAM}),
        Permission.SEE_FIGURES,
        usage="last week",
    ),
    # The e-mail queue (SPEC §5a): senders and previews, so a personal chat only. Typed (and in
    # help): the personal menu holds SPEC §6's list, and Teams shows ten at most.
    Command(
        CommandName.MAIL,
        "mail",
        "E-mails waiting in the front door's mailbox, oldest first: take one",
        frozenset({Scope.PERSONAL}),
        Permission.MAIL_QUEUE,
    ),
    Command(
        CommandName.DUTY,
        "duty",
        "See or set the duty rota for a date",
        frozenset({Scope.PERSONAL, Scope.TEAM}),
        Permission.MANAGE_ROTA,
        usage="2026-03-17",
    ),
    # The daily domestic-abuse triage (SPEC §9): the list names nobody, but (b) and (c) name a child.
    Command(
        CommandName.TRIAGE,
        "triage",
        "Today's domestic-abuse triage list: add incidents, record each one's outcome",
        frozenset({Scope.PERSONAL}),
        Permission.START_CONTACT,
    ),
    Command(
        CommandName.INFORMATION_REQUEST,
        "information request",
        "Log a CAFCASS safeguarding request or an Ofsted check, with its due date",
        frozenset({Scope.PERSONAL}),
        Permission.START_CONTACT,
    ),
    Command(
        CommandName.MARAC,
        "marac",
        "The next MARAC meeting: its cases, linked children and the requests to their teams",
        frozenset({Scope.PERSONAL}),
        Permission.START_CONTACT,
    ),
    Command(
        CommandName.MAPPA,
        "mappa",
        "Log MAPPA invitations and where they were forwarded",
        frozenset({Scope.PERSONAL}),
        Permission.START_CONTACT,
    ),
    Command(
        CommandName.LINK,
        "link",
        "Link a consultation to the contact it became",
        frozenset({Scope.PERSONAL}),
        Permission.SEE_ANY_CONSULTATION,
        usage="PC-26-00012 CT-26-000123",
    ),
    # Administration. The directory lists staff by name, so it is shown in a personal chat only;
    # grant and revoke name their person by @mention, which works in chats and channels.
    Command(
        CommandName.ROLES,
        "roles",
        "Who holds which role (administrators)",
        frozenset({Scope.PERSONAL}),
        Permission.MANAGE_DIRECTORY,
    ),
    Command(
        CommandName.GRANT,
        "grant",
        "Give a person a role (administrators)",
        ALL_SCOPES,
        Permission.MANAGE_DIRECTORY,
        usage="@person role",
    ),
    Command(
        CommandName.REVOKE,
        "revoke",
        "Take a role away from a person (administrators)",
        ALL_SCOPES,
        Permission.MANAGE_DIRECTORY,
        usage="@person role",
    ),
    Command(
        CommandName.TEAM,
        "team",
        "Record the team a person works in, for the figures (administrators)",
        ALL_SCOPES,
        Permission.MANAGE_DIRECTORY,
        usage="@person team name",
    ),
    # Business continuity (SPEC §10): urgent-only mode, switched by a team manager. Rarely used, so
    # last: it is typed, and listed in the help card, rather than in the Teams menu.
    Command(
        CommandName.CONTINUITY,
        "continuity",
        "Switch the front door to urgent only, or back (team managers)",
        frozenset({Scope.PERSONAL, Scope.TEAM}),
        Permission.SWITCH_CONTINUITY,
        usage="on <reason> | off",
    ),
    # The emergency duty team records what it did overnight on a contact (SPEC §10). Free text
    # about a child: personal chat only.
    Command(
        CommandName.OVERNIGHT,
        "overnight",
        "Record on a contact what the emergency duty team did overnight",
        frozenset({Scope.PERSONAL}),
        Permission.OVERNIGHT_ACTION,
        usage="CT-26-000123 what was done",
    ),
)


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    command: Command
    argument: str


_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-case, collapse white space and drop a trailing full stop or question mark."""
    return _SPACE.sub(" ", text).strip().rstrip(".?!").strip().lower()


def parse_command(text: str) -> ParsedCommand | None:
    """Match a message to a command by its leading words; None when nothing matches."""
    cleaned = normalise(text)
    # Longest first, so "register duty channel" is not taken for a shorter command.
    for command in sorted(COMMANDS, key=lambda c: len(c.words), reverse=True):
        if cleaned == command.words or cleaned.startswith(command.words + " "):
            argument = _SPACE.sub(" ", text).strip()[len(command.words) :].strip()
            return ParsedCommand(command, argument)
    return None
