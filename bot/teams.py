"""Reading Teams activities into typed values: who sent it, from where, and the conversation record.

Everything the bot learns about an activity is read here once, defensively: Teams fields may be
missing or of the wrong type in a hostile or malformed activity, and that must never crash a turn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference
from msrest.serialization import Model

from frontdoor.records import ConversationKind, ConversationRecord


@dataclass(frozen=True, slots=True)
class Sender:
    """The person behind an activity: always the activity's ``from``, never anything in a card."""

    aad_object_id: str
    name: str


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def sender_of(activity: Activity) -> Sender | None:
    source = activity.from_property
    aad = _text(_field(source, "aad_object_id")) if source is not None else ""
    if not aad:
        return None
    return Sender(aad_object_id=aad, name=_text(_field(source, "name")))


def tenant_of(activity: Activity) -> str:
    tenant = _field(_field(activity.channel_data, "tenant"), "id")
    if isinstance(tenant, str) and tenant:
        return tenant
    return _text(_field(activity.conversation, "tenant_id"))


def conversation_kind(activity: Activity) -> ConversationKind:
    kind = _text(_field(activity.conversation, "conversation_type"))
    if kind == "channel":
        return ConversationKind.CHANNEL
    if kind == "groupChat" or _field(activity.conversation, "is_group") is True:
        return ConversationKind.GROUP_CHAT
    return ConversationKind.PERSONAL


def root_conversation_id(conversation_id: str) -> str:
    """A channel thread's id carries ``;messageid=…``; the channel itself is the part before it."""
    return conversation_id.split(";messageid=", 1)[0]


def conversation_record(activity: Activity, at: datetime) -> ConversationRecord | None:
    """The record to store so the bot can message this chat or channel later."""
    conversation_id = _text(_field(activity.conversation, "id"))
    service_url = _text(activity.service_url)
    if not conversation_id or not service_url:
        return None
    kind = conversation_kind(activity)
    reference = TurnContext.get_conversation_reference(activity)
    root = root_conversation_id(conversation_id)
    if reference.conversation is not None:
        reference.conversation.id = root
    # A stored reference must not remember which message it came from.
    reference.activity_id = None
    sender = sender_of(activity)
    team = _field(activity.channel_data, "team")
    channel = _field(activity.channel_data, "channel")
    return ConversationRecord(
        conversation_id=root,
        kind=kind,
        tenant_id=tenant_of(activity),
        service_url=service_url,
        reference=json.dumps(reference_json(reference), separators=(",", ":")),
        updated_at=at,
        user_id=sender.aad_object_id if kind is ConversationKind.PERSONAL and sender else None,
        team_id=_text(_field(team, "id")) or None,
        channel_id=_text(_field(channel, "id")) or None,
    )


#: The msrest types a reference's fields have, and the Python type each takes as it is.
_PLAIN_TYPES: dict[str, type] = {"str": str, "bool": bool}


class _NotPlain(Exception):
    """A field that msrest itself must serialize."""


def _plain_model(model: Model) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for attribute, spec in model._attribute_map.items():
        value = getattr(model, attribute, None)
        if value is None:
            continue
        if isinstance(value, Model):
            plain[spec["key"]] = _plain_model(value)
        elif type(value) is _PLAIN_TYPES.get(spec["type"]):
            plain[spec["key"]] = value
        else:
            raise _NotPlain
    return plain


def reference_json(reference: ConversationReference) -> dict[str, Any]:
    """``reference.serialize()``, without msrest's generic serializer on every turn when each
    field is a plain string, boolean or nested model (a Teams reference always is); anything else
    goes through msrest."""
    try:
        return _plain_model(reference)
    except _NotPlain:
        return dict(reference.serialize())


def strip_bot_mention(activity: Activity) -> None:
    """Remove the bot's own @mention (``<at>Bot name</at>``) from the message text.

    botbuilder's ``TurnContext.remove_recipient_mention`` fails on a malformed mention entity (no
    ``mentioned``, a type that is not a string, no text) and uses the mention's name as a regular
    expression; this reads the entities defensively and removes the tag as plain text.
    """
    text = activity.text
    bot_id = _text(_field(activity.recipient, "id"))
    if not isinstance(text, str) or not bot_id or not isinstance(activity.entities, list):
        return
    for entity in activity.entities:
        if _text(_field(entity, "type")).lower() != "mention":
            continue
        properties = _field(entity, "additional_properties")
        mentioned = properties.get("mentioned") if isinstance(properties, dict) else None
        if not isinstance(mentioned, dict) or mentioned.get("id") != bot_id:
            continue
        tag = _text(properties.get("text")) if isinstance(properties, dict) else ""
        name = _text(mentioned.get("name"))
        for candidate in (tag, f"<at>{name}</at>" if name else ""):
            if candidate:
                text = text.replace(candidate, " ")
    activity.text = text.strip()
