"""Demo mode (``FRONTDOOR_DEMO=1``, never in production): the people of the Microsoft 365 Agents
Playground's configuration file get one role each, its team's Decisions, Duty and EDT channels
become the registered channels, and today's rota is filled, so a newcomer can switch user in the
Playground and try every role. Seeding is idempotent and audited; the data is fictional."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import yaml
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

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
            if await uow.conversations.get(conversation_id) is None:
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
                DEMO_ACTOR,
                {Role.ADMIN},
                now,
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
