"""Demo mode (``FRONTDOOR_DEMO=1``, never in production): the people of the Microsoft 365 Agents
Playground's configuration file get one role each, its team's Decisions, Duty and EDT channels
become the registered channels, and today's rota is filled, so a newcomer can start the
Playground as any of them (``make playground ROLE=<role>``) and try every role. Seeding is
idempotent and audited; the data is fictional."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from frontdoor.acting import Who
from frontdoor.agencies import Agency
from frontdoor.calendar import LONDON
from frontdoor.channels import register_channel
from frontdoor.mash import set_partner_agency
from frontdoor.ports import Clock
from frontdoor.records import AuditEvent, ChannelPurpose, ConversationKind, ConversationRecord, RotaEntry
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store

log = logging.getLogger(__name__)

#: who the audit trail says did the seeding
DEMO_ACTOR = "demo-mode"
#: a Playground user whose id is ``demo-<role>`` is granted that role
_USER_PREFIX = "demo-"
#: the team channel, by name, that becomes each registered channel (General, the team's own
#: conversation, is the duty channel unless one is named Duty)
CHANNEL_NAMES = {
    "Decisions": ChannelPurpose.DECISIONS,
    "Duty": ChannelPurpose.DUTY,
    "EDT": ChannelPurpose.EDT,
}
#: the roles put on today's rota
ROTA_ROLES = (Role.CONSULTANT, Role.DUTY_MANAGER, Role.TEAM_MANAGER, Role.EDT)
#: the demo's partner comes from the police
PARTNER_AGENCY = Agency.POLICE


class DemoConfigError(ValueError):
    """The Playground configuration file cannot drive demo mode; the message names what is wrong."""


@dataclass(frozen=True, slots=True)
class DemoUser:
    aad_object_id: str
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class DemoSetup:
    tenant_id: str
    bot_id: str
    team_id: str
    users: tuple[DemoUser, ...]
    #: each purpose's channel conversation id
    channels: dict[ChannelPurpose, str]


def load_setup(path: Path) -> DemoSetup:
    """Read the Playground's ``.m365agentsplayground.yml``; raises ``DemoConfigError``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        users = [raw["currentUser"], *raw["users"]]
        team = raw["team"]
        people = tuple(
            DemoUser(str(user["aadObjectId"]), str(user["name"]), _role(str(user["id"]))) for user in users
        )
        channels = {
            CHANNEL_NAMES[str(channel["name"])]: str(channel["id"])
            for channel in team["channels"]
            if str(channel["name"]) in CHANNEL_NAMES
        }
        # the Playground allows one channel besides General, whose conversation id is the team id
        channels.setdefault(ChannelPurpose.DUTY, str(team["id"]))
        setup = DemoSetup(str(raw["tenantId"]), str(raw["bot"]["id"]), str(team["id"]), people, channels)
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        raise DemoConfigError(
            f"{path}: not a usable Playground configuration ({type(error).__name__})"
        ) from None
    required = (ChannelPurpose.DECISIONS, ChannelPurpose.DUTY)
    missing = sorted(purpose.value for purpose in required if purpose not in setup.channels)
    if missing:
        raise DemoConfigError(f"{path}: the team has no channel for {', '.join(missing)}")
    return setup


def _role(user_id: str) -> Role:
    try:
        return Role(user_id.removeprefix(_USER_PREFIX).replace("-", "_"))
    except ValueError:
        raise DemoConfigError(f"user id {user_id!r} is not demo-<role>") from None


async def seed(store: Store, clock: Clock, setup: DemoSetup, service_url: str) -> int:
    """Seed the demo; returns how many changes were made (0 when it was seeded already)."""
    now = clock.now()
    changes = 0
    async with store.unit_of_work() as uow:
        for user in setup.users:
            if await uow.roles.grant(user.aad_object_id, user.role):
                changes += 1
                await uow.audit.append(
                    AuditEvent(now, DEMO_ACTOR, "role.grant", f"person:{user.aad_object_id}", user.role.value)
                )
                if user.role is Role.PARTNER:
                    await set_partner_agency(
                        uow, user.aad_object_id, PARTNER_AGENCY, actor_id=DEMO_ACTOR, now=now
                    )
            await uow.roles.set_display_name(user.aad_object_id, user.name)
        for conversation_id in setup.channels.values():
            # the Playground's address may have moved since: its channels are reached where it is now
            known = await uow.conversations.get(conversation_id)
            if known is None or known.service_url != service_url:
                await uow.conversations.upsert(_channel_record(setup, conversation_id, service_url, clock))
        today = now.astimezone(LONDON).date()
        on_duty = await uow.rota.on(today)
        for role in ROTA_ROLES:
            person = next(user.aad_object_id for user in setup.users if user.role is role)
            entry = RotaEntry(day=today, role=role, person_id=person)
            if entry not in on_duty:
                changes += 1
                await uow.rota.set(entry)
                await uow.audit.append(
                    AuditEvent(
                        now, DEMO_ACTOR, "rota.set", f"rota:{today.isoformat()}", f"{role.value}:{person}"
                    )
                )
        await uow.commit()
    for purpose, conversation_id in setup.channels.items():
        async with store.unit_of_work() as uow:
            registered = await uow.channels.get(purpose)
        if registered is None or registered.conversation_id != conversation_id:
            changes += 1
            await register_channel(
                store.unit_of_work(),
                purpose,
                conversation_id,
                ConversationKind.CHANNEL,
                who=Who(DEMO_ACTOR, frozenset({Role.ADMIN})),
                now=now,
            )
    if changes:
        async with store.unit_of_work() as uow:
            await uow.audit.append(AuditEvent(now, DEMO_ACTOR, "demo.seeded", "demo", f"changes={changes}"))
            await uow.commit()
    log.info("demo mode on", extra={"changes": changes})
    return changes


def _channel_record(
    setup: DemoSetup, conversation_id: str, service_url: str, clock: Clock
) -> ConversationRecord:
    """What the bot would record when first spoken to in the channel, so it can post there before."""
    reference = ConversationReference(
        channel_id="msteams",
        service_url=service_url,
        bot=ChannelAccount(id=setup.bot_id),
        conversation=ConversationAccount(
            id=conversation_id, conversation_type="channel", tenant_id=setup.tenant_id, is_group=True
        ),
    )
    return ConversationRecord(
        conversation_id=conversation_id,
        kind=ConversationKind.CHANNEL,
        tenant_id=setup.tenant_id,
        service_url=service_url,
        reference=json.dumps(reference.serialize(), separators=(",", ":")),
        updated_at=clock.now(),
        team_id=setup.team_id,
        channel_id=conversation_id,
    )


#: Someone with no role (a partner professional who logs a consultation): the Playground's current
#: user when it is started as ``professional``. Not seeded: a professional holds no role.
PROFESSIONAL = {
    "id": "demo-professional",
    "name": "Pat Professional (Demo professional)",
    "userPrincipleName": "demo-professional@frontdoor-demo.invalid",
    "aadObjectId": "0de30000-0000-4000-8000-000000000009",
    "givenName": "Pat",
    "surname": "Professional",
    "email": "demo-professional@frontdoor-demo.invalid",
}
#: the Playground takes the current user and at most this many others
_OTHER_USERS = 5


def playground_config_as(text: str, role: str) -> str:
    """The Playground configuration ``text`` with the person whose id is ``demo-<role>`` as its
    current user (the Playground 0.2.28 page cannot switch user: it is restarted as another
    person). ``professional`` is someone with no role. Raises ``DemoConfigError``."""
    try:
        raw = yaml.safe_load(text)
        people = [dict(raw["currentUser"]), *(dict(user) for user in raw["users"])]
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as error:
        raise DemoConfigError(f"not a usable Playground configuration ({type(error).__name__})") from None
    wanted = _USER_PREFIX + role.replace("_", "-")
    if wanted == PROFESSIONAL["id"]:
        chosen = dict(PROFESSIONAL)
    else:
        found = [person for person in people if person.get("id") == wanted]
        if not found:
            known = ", ".join(str(p.get("id")).removeprefix(_USER_PREFIX) for p in people)
            raise DemoConfigError(f"no Playground user {wanted!r}: one of {known} or professional")
        chosen = found[0]
    raw["currentUser"] = chosen
    # each person's own personal chat, as in Teams, so two Playgrounds can run side by side
    chat = f"demo-personal-chat-{wanted.removeprefix(_USER_PREFIX)}"
    raw["personalChat"] = {**dict(raw.get("personalChat") or {}), "id": chat}
    raw["users"] = [person for person in people if person.get("id") != wanted][:_OTHER_USERS]
    return str(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))


def _main(argv: list[str]) -> int:
    """``python -m bot.demo as <role> <config>``: print the configuration as that person."""
    if len(argv) != 3 or argv[0] != "as":
        sys.stderr.write("usage: python -m bot.demo as <role> <playground config>\n")
        return 2
    try:
        sys.stdout.write(playground_config_as(Path(argv[2]).read_text(encoding="utf-8"), argv[1]))
    except (OSError, DemoConfigError) as error:
        sys.stderr.write(f"{error}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
