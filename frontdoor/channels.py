"""The decisions, duty and EDT channels (SPEC §6): which team channel gets which cards.

A channel becomes the decisions or the duty channel when an administrator says so in it. The
registration points at the conversation record the bot keeps for every chat and channel it hears
from, so the channel can be messaged later; registering another channel for the same purpose moves
it there. Each registration is audited with ids only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from frontdoor.acting import Who
from frontdoor.calendar import require_aware
from frontdoor.records import (
    AuditEvent,
    ChannelPurpose,
    ChannelRegistration,
    ConversationKind,
    ConversationRecord,
)
from frontdoor.roles import Permission, may
from frontdoor.unit_of_work import UnitOfWork

__all__ = [
    "PURPOSE_TITLES",
    "ChannelRefusal",
    "ChannelRegistered",
    "channel_conversation",
    "register_channel",
]

#: How each purpose is named to people.
PURPOSE_TITLES: Mapping[ChannelPurpose, str] = MappingProxyType(
    {
        ChannelPurpose.DECISIONS: "decisions channel",
        ChannelPurpose.DUTY: "duty channel",
        ChannelPurpose.EDT: "EDT channel",
    }
)


@dataclass(frozen=True, slots=True)
class ChannelRegistered:
    registration: ChannelRegistration
    #: the registration this one replaced, if any
    previous: ChannelRegistration | None

    @property
    def moved_from(self) -> str | None:
        """The conversation the purpose moved away from; None when it is new or unchanged."""
        previous = self.previous
        if previous is None or previous.conversation_id == self.registration.conversation_id:
            return None
        return previous.conversation_id


@dataclass(frozen=True, slots=True)
class ChannelRefusal:
    """Why a channel was not registered; nothing was changed. ``message`` is safe to show and log."""

    message: str


async def register_channel(
    uow: UnitOfWork,
    purpose: ChannelPurpose,
    conversation_id: str,
    kind: ConversationKind,
    *,
    who: Who,
    now: datetime,
) -> ChannelRegistered | ChannelRefusal:
    """Make the team channel ``conversation_id`` the channel for ``purpose``, if ``roles`` may."""
    require_aware(now, "now")
    title = PURPOSE_TITLES[purpose]
    if not may(who.roles, Permission.REGISTER_CHANNELS):
        return ChannelRefusal(f"Sorry, only administrators can choose the {title}.")
    if kind is not ConversationKind.CHANNEL:
        return ChannelRefusal(
            f"Say this in the team channel you want to be the {title}: a chat cannot be one."
        )
    async with uow:
        record = await uow.conversations.get(conversation_id)
        if record is None or record.kind is not ConversationKind.CHANNEL:
            return ChannelRefusal(
                "I have no record of this channel yet, so I could not message it later. Please say it again."
            )
        registration = ChannelRegistration(
            purpose=purpose,
            conversation_id=conversation_id,
            registered_by=who.actor_id,
            registered_at=now.astimezone(UTC),
        )
        previous = await uow.channels.register(registration)
        replaced = previous.conversation_id if previous is not None else "none"
        await uow.audit.append(
            AuditEvent(
                at=now,
                actor_id=who.actor_id,
                action="channel.registered",
                subject=f"channel:{purpose.value}",
                detail=f"conversation={conversation_id}; previous={replaced}",
            )
        )
        await uow.commit()
    return ChannelRegistered(registration, previous)


async def channel_conversation(uow: UnitOfWork, purpose: ChannelPurpose) -> ConversationRecord | None:
    """The registered channel for ``purpose`` as a conversation the bot can message; None when no
    channel is registered, its record is gone, or Teams said the bot can no longer post there."""
    registration = await uow.channels.get(purpose)
    if registration is None:
        return None
    record = await uow.conversations.get(registration.conversation_id)
    if record is None or record.dead:
        return None
    return record
