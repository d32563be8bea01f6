"""Teams' model of the people and conversations a loopback channel serves: a ``TeamsUser``, a
``Conversation`` (personal chat, group chat, or team channel whose posts start threads)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

JsonObject = dict[str, Any]

THREAD_MARKER = ";messageid="


def root_conversation_id(conversation_id: str) -> str:
    """A channel thread's id is ``<channel id>;messageid=<root post id>``; this is the channel."""
    return conversation_id.split(THREAD_MARKER, 1)[0]


class ConversationType(StrEnum):
    PERSONAL = "personal"
    GROUP_CHAT = "groupChat"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class TeamsUser:
    """A person in Teams. ``id`` is the Bot Framework id (``29:…``); it defaults from the AAD id."""

    aad_object_id: str
    name: str
    id: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", f"29:{self.aad_object_id}")

    def account(self) -> JsonObject:
        """The ``from`` of an activity this person sends."""
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}

    def member(self, tenant_id: str) -> JsonObject:
        """A ``TeamsChannelAccount`` as the roster routes return it."""
        given, _, surname = self.name.partition(" ")
        email = self.email or f"{self.aad_object_id}@example.invalid"
        return {
            "id": self.id,
            "name": self.name,
            "aadObjectId": self.aad_object_id,
            "givenName": given,
            "surname": surname,
            "email": email,
            "userPrincipalName": email,
            "tenantId": tenant_id,
            "userRole": "user",
        }


@dataclass(frozen=True, slots=True)
class Conversation:
    """A chat or channel. For a channel ``id`` is the channel id; posts in it get threads."""

    id: str
    type: ConversationType
    tenant_id: str
    name: str | None = None
    team_id: str | None = None
    team_name: str | None = None

    @property
    def is_group(self) -> bool:
        return self.type is not ConversationType.PERSONAL

    def thread(self, root_activity_id: str) -> str:
        """The conversation id of a channel thread whose root post is ``root_activity_id``."""
        return f"{self.id}{THREAD_MARKER}{root_activity_id}"
