"""The authorization walk (SPEC §8, ``bot.access``): every command, card submission and card verb
the running bot registers — read from its router, so a new one is walked without editing this
test — sent through the endpoint by every role of SPEC §1 (and by someone Teams does not identify),
from a personal chat, the registered decisions and duty channels, another channel, a group chat and
another tenant, naming a contact and a consultation the sender may or may not see.

For every turn:
- no part of the contact (reference aside: names, address, referrer, worry, the children's
  initials) and no part of the consultation reaches a conversation where the sender may not see it;
- the authorization table's verdict is what happened: a refusal at the gate writes one
  ``access.refused`` row and changes nothing else (records, directory, channels, audit trail);
- every answer that shows a full record writes exactly one ``contact.viewed`` or
  ``consultation.viewed`` row, for the sender; none is written without one.

The full walk runs on SQLite; PostgreSQL walks a sample (two roles, three places). The figures
(turns, time) are printed with ``-s``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.access import Place, Surface
from bot.app import ROUTER
from bot.cards.intake import CONTACT_KEY, SECTION_KEY, VERSION_KEY
from bot.cards.keys import ACTION_KEY, FORM_KEY
from bot.routing import Router
from frontdoor.agencies import Agency
from frontdoor.commands import COMMANDS, CommandName
from frontdoor.contact import ContactState
from frontdoor.mash import set_partner_agency
from frontdoor.records import AuditEvent, ChannelPurpose, ChannelRegistration
from frontdoor.roles import Permission, Role, may
from frontdoor.systemclock import SettableClock
from tests.bot.casework_helpers import TEAM_MANAGER, ready
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.consultation_helpers import CLEAN_WORRY, _log_one
from tests.bot.intake_script import (
    ADMIN,
    CHILD_NAME,
    CONSULTANT,
    DECISIONS_CHANNEL,
    DUTY_CHANNEL,
    DUTY_MANAGER,
    OFFICER,
    PROFESSIONAL,
    REFERRER_NAME,
    SOCIAL_WORKER,
    TEAM,
    WORRY,
    decisions_channel,
    duty_channel,
    introduce,
    start,
    submit,
)
from tests.harness.teams import Conversation, ConversationType, SentActivity, TeamsChannel, TeamsUser

CONTACT = "CT-26-000001"
#: a partner professional (not in the directory) who logged the consultation the walk names
AUTHOR = TeamsUser("aad-professional-0398", "Pia Authorperson")
#: MASH partner-agency staff (the police): answers their agency's requests, sees no contact
PARTNER = TeamsUser("aad-partner-0397", "Pat Partnerperson")
#: someone Teams does not identify (no Azure AD object id)
NOBODY = TeamsUser("", "Nemo Unknownperson", id="29:nobody-0399")
OTHER_CHANNEL = "19:general@thread.tacv2"
OTHER_TENANT = "tenant-not-served"

#: Of the contact: what only its full record shows, and what its summary adds to the reference.
FULL_MARKERS = (CHILD_NAME, "1 Example Street", REFERRER_NAME, WORRY, "Parent Testperson", "0191 498 0000")
SUMMARY_MARKERS = ("Z.T.",)
#: Of the consultation (logged by ``AUTHOR``).
CONSULTATION_MARKERS = (CLEAN_WORRY, "Caller Testperson")

#: Every role of SPEC §1, a MASH partner, a partner professional (no role), and nobody at all.
SENDERS: tuple[TeamsUser, ...] = (
    OFFICER,
    SOCIAL_WORKER,
    CONSULTANT,
    DUTY_MANAGER,
    TEAM_MANAGER,
    ADMIN,
    PARTNER,
    PROFESSIONAL,
    NOBODY,
)
#: Who holds which roles (as ``ready`` and this test grant them).
ROLES: dict[str, frozenset[Role]] = {
    OFFICER.aad_object_id: frozenset({Role.OFFICER}),
    SOCIAL_WORKER.aad_object_id: frozenset({Role.SOCIAL_WORKER}),
    CONSULTANT.aad_object_id: frozenset({Role.CONSULTANT}),
    DUTY_MANAGER.aad_object_id: frozenset({Role.DUTY_MANAGER}),
    TEAM_MANAGER.aad_object_id: frozenset({Role.TEAM_MANAGER}),
    ADMIN.aad_object_id: frozenset({Role.ADMIN}),
    PARTNER.aad_object_id: frozenset({Role.PARTNER}),
    PROFESSIONAL.aad_object_id: frozenset(),
}


@dataclass(frozen=True)
class Where:
    place: Place | None  # None: another tenant's chat (never served)
    conversation: Conversation


@dataclass
class Figures:
    turns: int = 0
    refused: int = 0
    full_reads: int = 0


def _words(name: str) -> str:
    return next(command.words for command in COMMANDS if command.name.value == name)


def _inbound(surface: Surface, name: str, reference: str, draft_id: str) -> tuple[str, dict[str, Any]]:
    """What the walk sends for one registered name: a command's text, or a card's data. The data is
    what a real card of that kind carries (a stale version, so nothing allowed is decided twice)."""
    if surface is Surface.COMMAND:
        argument = {
            CommandName.FIND.value: reference,
            CommandName.LINK.value: f"{reference} {CONTACT}",
            CommandName.DUTY.value: "2026-03-16",
        }.get(name, "")
        return f"{_words(name)} {argument}".strip(), {}
    data: dict[str, Any] = {
        "reference": reference,
        "version": 0,
        "step": {"contact.outcome": "accept", "contact.challenge": "raise"}.get(name, "refresh"),
        "day": "2026-03-16",
        "item": 1,
    }
    if surface is Surface.SUBMISSION:
        data |= {
            ACTION_KEY: name,
            CONTACT_KEY: draft_id,
            VERSION_KEY: 0,
            SECTION_KEY: "source",
            FORM_KEY: "f" * 32,
        }
    return "", data


def _content(activity: SentActivity) -> str:
    return json.dumps(activity.body or {})


async def _records(bot: RunningBot) -> tuple[Any, ...]:
    """Everything a refusal must leave as it was (conversation records aside: every turn refreshes
    the one it came from, so the bot can answer there later)."""
    async with bot.store.unit_of_work() as uow:
        contacts = sorted(await uow.contacts.list_by_state(list(ContactState)), key=lambda c: c.id)
        consultations = [await uow.consultations.get_by_reference(f"PC-26-0000{n}") for n in range(1, 4)]
        entries = sorted(await uow.roles.entries(), key=lambda entry: entry.aad_object_id)
        channels = [await uow.channels.get(purpose) for purpose in ChannelPurpose]
    return contacts, consultations, entries, channels


async def _audited_since(bot: RunningBot, since: datetime) -> list[AuditEvent]:
    async with bot.store.unit_of_work() as uow:
        rows = await uow.audit.between(since, datetime(2100, 1, 1, tzinfo=UTC))
    return [row.event for row in rows]


async def _keep_channels(bot: RunningBot, registrations: Sequence[ChannelRegistration | None]) -> None:
    """An administrator registering a channel elsewhere is allowed; put the walk's channels back."""
    async with bot.store.unit_of_work() as uow:
        for registration in registrations:
            if registration is not None and await uow.channels.get(registration.purpose) != registration:
                await uow.channels.register(registration)
        await uow.commit()


#: The bot's own background work after answering (``bot.dialogs.background.Later`` and the
#: record sent to an allocated worker): a turn is over only when these have finished.
_AFTER_ANSWER = ("Later.__call__.<locals>.guarded", "RecordViews._send_record")


async def _settled(teams_channel: TeamsChannel) -> None:
    """Let work the bot does after answering (channel updates, letters) arrive, however slowly the
    machine runs, so that nothing a turn caused is counted against the next one."""
    seen = -1
    while seen != len(teams_channel.activities):
        pending = [
            task
            for task in asyncio.all_tasks()
            if task is not asyncio.current_task() and task.get_coro().__qualname__.endswith(_AFTER_ANSWER)
        ]
        if pending:
            await asyncio.wait(pending, timeout=10)
        seen = len(teams_channel.activities)
        await asyncio.sleep(0.01)


async def _setup(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> tuple[RunningBot, SettableClock, str, str, list[Where]]:
    # No scheduler: its ticks run every 30 s of real time on the walk's advancing clock, and what
    # they post proactively (alerts to the channels) would land in whichever turn is running and
    # be counted against it, more often the slower the machine. The walk checks the turns' answers.
    bot, clock = await ready(
        start_bot, teams_channel, tenants=frozenset({teams_channel.tenant_id}), scheduler_enabled=False
    )
    for user in (ADMIN, PARTNER, PROFESSIONAL, AUTHOR, NOBODY):
        await introduce(teams_channel, user)
    async with bot.store.unit_of_work() as uow:  # a police partner, as an administrator grants one
        await uow.roles.grant(PARTNER.aad_object_id, Role.PARTNER)
        await set_partner_agency(
            uow, PARTNER.aad_object_id, Agency.POLICE, actor_id=ADMIN.aad_object_id, now=clock.now()
        )
        await uow.commit()
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    consultation = await _log_one(teams_channel, AUTHOR)
    await start(teams_channel, teams_channel.personal(OFFICER), OFFICER)  # a draft for the wizard's cards
    async with bot.store.unit_of_work() as uow:
        [draft] = await uow.contacts.drafts_of(OFFICER.aad_object_id)
    other = teams_channel.channel(TEAM, OTHER_CHANNEL, "General")
    group = teams_channel.group_chat(*SENDERS[:-1], name="Front door chat")
    foreign = Conversation(
        id="a:1foreign-tenant-chat", type=ConversationType.PERSONAL, tenant_id=OTHER_TENANT
    )
    places = [
        Where(Place.DECISIONS_CHANNEL, decisions_channel(teams_channel)),
        Where(Place.DUTY_CHANNEL, duty_channel(teams_channel)),
        Where(Place.OTHER_CHANNEL, other),
        Where(Place.GROUP_CHAT, group),
        Where(None, foreign),
    ]
    return bot, clock, consultation, draft.id, places


def _allowed(router: Router, surface: Surface, name: str, user: TeamsUser, where: Where) -> bool:
    if not user.aad_object_id or where.place is None:
        return False
    return router.rule(surface, name).check(ROLES[user.aad_object_id], where.place) is None


def _check_no_leak(
    user: TeamsUser,
    where: Where,
    own_chat: str,
    sent: Sequence[tuple[str, str]],
    consultation_ok: bool,
    what: str,
) -> tuple[bool, bool]:
    """Assert nothing of the contact or the consultation went where ``user`` may not see it;
    returns whether a full contact and a full consultation were shown."""
    roles = ROLES.get(user.aad_object_id)
    staff = roles is not None and may(roles, Permission.VIEW_CONTACTS) and where.place is not None
    full_contact = full_consultation = False
    for destination, content in sent:
        summary_ok = staff and destination in (own_chat, DECISIONS_CHANNEL, DUTY_CHANNEL)
        full_ok = staff and destination == own_chat
        for marker in FULL_MARKERS:
            if marker in content:
                assert full_ok, f"{what}: the contact's {marker!r} reached {destination}"
                full_contact = True
        for marker in SUMMARY_MARKERS:
            assert marker not in content or summary_ok, f"{what}: the summary reached {destination}"
        for marker in CONSULTATION_MARKERS:
            if marker in content:
                assert consultation_ok and destination == own_chat, (
                    f"{what}: the consultation reached {destination}"
                )
                full_consultation = True
    return full_contact, full_consultation


@dataclass(frozen=True)
class Turn:
    surface: Surface
    name: str
    user: TeamsUser
    where: Where
    reference: str
    draft_id: str

    @property
    def what(self) -> str:
        who = self.user.name
        return f"{self.surface.value} {self.name!r} by {who} in {self.where.place} naming {self.reference}"


async def _walk(
    bot: RunningBot,
    clock: SettableClock,
    teams_channel: TeamsChannel,
    senders: Sequence[TeamsUser],
    places: Sequence[Where],
    consultation: str,
    draft_id: str,
) -> Figures:
    router = bot.app[ROUTER]
    figures = Figures()
    registered = router.registered()
    assert len(registered) == len(set(registered)) >= 40
    state = await _records(bot)
    for surface, name in registered:
        # the consultation's reference where a reference of any kind is read: ``find``
        references = [CONTACT, consultation] if (surface, name) == (Surface.COMMAND, "find") else [CONTACT]
        for user in senders:
            personal = Where(Place.PERSONAL, teams_channel.personal(user))
            for where in [personal, *places]:
                for reference in references:
                    turn = Turn(surface, name, user, where, reference, draft_id)
                    state = await _turn(bot, clock, teams_channel, router, figures, turn, state)
    return figures


async def _turn(
    bot: RunningBot,
    clock: SettableClock,
    teams_channel: TeamsChannel,
    router: Router,
    figures: Figures,
    turn: Turn,
    before: tuple[Any, ...],
) -> tuple[Any, ...]:
    """Send one turn and check it; returns the state after it."""
    user, where, what = turn.user, turn.where, turn.what
    clock.advance(timedelta(seconds=1))  # each turn's audit rows carry a time of their own
    since = clock.now()
    seen = len(teams_channel.activities)
    text, data = _inbound(turn.surface, turn.name, turn.reference, turn.draft_id)
    if turn.surface is Surface.COMMAND:
        response = await teams_channel.say(where.conversation, user, text)
    elif turn.surface is Surface.SUBMISSION:
        response = await teams_channel.submit(where.conversation, user, data)
    else:
        response = await teams_channel.execute(where.conversation, user, turn.name, data)
    allowed = _allowed(router, turn.surface, turn.name, user, where)
    if allowed:
        await _settled(teams_channel)
    after = await _records(bot)
    added = await _audited_since(bot, since)
    figures.turns += 1
    sent = [(a.root_conversation_id, _content(a)) for a in teams_channel.activities[seen:]]
    invoke = response.inbound is not None and response.inbound.get("type") == "invoke"
    if invoke:
        sent.append((_root(where.conversation.id), response.text))
    roles = ROLES.get(user.aad_object_id)
    consultation_ok = roles is not None and (
        may(roles, Permission.SEE_ANY_CONSULTATION) or user.aad_object_id == AUTHOR.aad_object_id
    )
    own_chat = teams_channel.personal(user).id
    full_contact, full_consultation = _check_no_leak(
        user, where, own_chat, sent, consultation_ok and where.place is not None, what
    )
    if where.place is None:  # another tenant: dropped before anything is read or written
        assert response.status == (403 if invoke else 201), what
        assert teams_channel.activities[seen:] == (), what
        assert after == before and added == [], what
        figures.refused += 1
        return after
    gate = [event for event in added if event.action == "access.refused"]
    if not allowed:
        figures.refused += 1
        # refused (at the gate; a command outside its scope gets the help card; nobody gets nothing):
        # only the refusal itself is recorded
        assert after == before, f"{what}: a refusal changed a record"
        assert [event.action for event in added] in ([], ["access.refused"]), f"{what}: {added}"
        assert all(event.actor_id == user.aad_object_id for event in added), what
        assert not full_contact and not full_consultation, what
    else:
        assert gate == [], f"{what}: refused by the gate though the table allows it"
        if after[3] != before[3]:  # an administrator registered a channel elsewhere: put it back
            await _keep_channels(bot, before[3])
            after = await _records(bot)
    viewed = [e for e in added if e.action == "contact.viewed"]
    assert len(viewed) == (1 if full_contact else 0), f"{what}: {len(viewed)} contact.viewed rows"
    assert all(e.actor_id == user.aad_object_id and e.subject == CONTACT for e in viewed), what
    read = [e for e in added if e.action == "consultation.viewed"]
    assert len(read) == (1 if full_consultation else 0), f"{what}: {len(read)} consultation.viewed rows"
    figures.full_reads += int(full_contact) + int(full_consultation)
    return after


def _root(conversation_id: str) -> str:
    return conversation_id.split(";", 1)[0]


async def test_every_verb_as_every_role_from_everywhere_leaks_nothing_and_audits_every_read(
    start_bot: StartBot, teams_channel: TeamsChannel, database_url: str
) -> None:
    bot, clock, consultation, draft_id, places = await _setup(start_bot, teams_channel)
    began_at = clock.now()
    senders: Sequence[TeamsUser] = SENDERS
    if database_url.startswith("postgresql"):  # a sample: the same code paths on the other database
        senders = (CONSULTANT, PROFESSIONAL)
        places = [
            where for where in places if where.place in (Place.DECISIONS_CHANNEL, Place.OTHER_CHANNEL, None)
        ]
    began = time.perf_counter()
    figures = await _walk(bot, clock, teams_channel, senders, places, consultation, draft_id)
    seconds = time.perf_counter() - began
    verbs = len(bot.app[ROUTER].registered())
    print(
        f"\nauthorization walk ({database_url.split(':', 1)[0]}): {verbs} commands, submissions and verbs; "
        f"{figures.turns} turns ({figures.refused} refused, {figures.full_reads} full reads audited) "
        f"in {seconds:.1f} s"
    )
    assert figures.refused > 0 and figures.full_reads > 0
    if not database_url.startswith("postgresql"):
        # every role saw the contact's full record somewhere it may, and nobody else did
        readers = {e.actor_id for e in await _audited_since(bot, began_at) if e.action == "contact.viewed"}
        assert readers == {
            OFFICER.aad_object_id,
            SOCIAL_WORKER.aad_object_id,
            CONSULTANT.aad_object_id,
            DUTY_MANAGER.aad_object_id,
            TEAM_MANAGER.aad_object_id,
        }
