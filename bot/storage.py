"""A botbuilder ``Storage`` on our SQL store, with eTag optimistic concurrency.

Bot state (conversation and dialog state) must survive a restart, so it cannot live in
``MemoryStorage``. Documents are JSON: plain values pass through; the few SDK objects that dialog
state holds (``DialogState``, ``DialogInstance`` and msrest models such as ``Activity``) are
tagged with their type and rebuilt on read. Anything else is refused when written, so a value that
could not be read back is never saved.

A write whose eTag no longer matches the stored one raises ``EtagConflictError``: two turns of the
same conversation racing each other cannot silently overwrite each other's state.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from botbuilder.core import Storage
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.dialogs.choices import Choice
from botbuilder.dialogs.prompts import PromptOptions
from botbuilder.schema import Activity, ConversationReference
from msrest.serialization import Model

from frontdoor.ports import Store

_TYPE = "$type"
_MODELS: dict[str, type[Model]] = {"Activity": Activity, "ConversationReference": ConversationReference}
#: Where a store item keeps its eTag, as botbuilder's own storages do.
_ETAG = "e_tag"
#: Plain SDK classes kept in dialog state, rebuilt from their public attributes.
_PLAIN: dict[str, tuple[type[Any], tuple[str, ...]]] = {
    "PromptOptions": (
        PromptOptions,
        ("prompt", "retry_prompt", "choices", "style", "validations", "number_of_attempts"),
    ),
    "Choice": (Choice, ("value", "action", "synonyms")),
}


class StateSerializationError(TypeError):
    """A value in bot state has no JSON form we can read back."""


def encode(value: Any) -> Any:
    """Turn bot state into JSON-ready values, tagging the SDK objects we know how to rebuild."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, DialogState):
        return {_TYPE: "DialogState", "stack": [encode(item) for item in value.dialog_stack]}
    if isinstance(value, DialogInstance):
        return {_TYPE: "DialogInstance", "id": value.id, "state": encode(value.state)}
    if isinstance(value, datetime):
        return {_TYPE: "datetime", "value": value.isoformat()}
    name = type(value).__name__
    if isinstance(value, Model) and name in _MODELS:
        return {_TYPE: name, "value": value.serialize()}
    if name in _PLAIN and type(value) is _PLAIN[name][0]:
        return {_TYPE: name, **{field: encode(getattr(value, field, None)) for field in _PLAIN[name][1]}}
    raise StateSerializationError(f"bot state holds a value of type {type(value).__name__}")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TYPE)
    if tag is None:
        return {key: decode(item) for key, item in value.items()}
    if tag == "DialogState":
        return DialogState([decode(item) for item in value["stack"]])
    if tag == "DialogInstance":
        instance = DialogInstance()
        instance.id = value["id"]
        instance.state = decode(value["state"])
        return instance
    if tag == "datetime":
        return datetime.fromisoformat(value["value"])
    if tag in _MODELS:
        return _MODELS[tag]().deserialize(value["value"])
    if tag in _PLAIN:
        cls, fields = _PLAIN[tag]
        rebuilt = cls()
        for field in fields:
            setattr(rebuilt, field, decode(value.get(field)))
        return rebuilt
    raise StateSerializationError(f"unknown tagged type in stored bot state: {tag}")


class SqlStorage(Storage):
    """botbuilder ``Storage`` over the store's ``StateDocuments`` port."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store

    async def read(self, keys: Sequence[str]) -> dict[str, Any]:
        if not keys:
            return {}
        async with self._store.unit_of_work() as uow:
            documents = await uow.state.read(list(keys))
        items: dict[str, Any] = {}
        for key, document in documents.items():
            item = decode(json.loads(document.data))
            if isinstance(item, dict):
                item[_ETAG] = document.etag
            items[key] = item
        return items

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("changes are required when writing")
        if not changes:
            return
        written: dict[str, str] = {}
        async with self._store.unit_of_work() as uow:
            for key, item in changes.items():
                data = json.dumps(encode(_without_etag(item)), separators=(",", ":"))
                written[key] = (await uow.state.write(key, data, _etag_of(item))).etag
            await uow.commit()
        # Only once committed do the cached items carry their new eTags.
        for key, etag in written.items():
            changes[key][_ETAG] = etag

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        async with self._store.unit_of_work() as uow:
            await uow.state.delete(list(keys))
            await uow.commit()


def _etag_of(item: Any) -> str | None:
    value = item.get(_ETAG) if isinstance(item, dict) else None
    return value if isinstance(value, str) and value else None


def _without_etag(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return {key: value for key, value in item.items() if key != _ETAG}
    raise StateSerializationError(f"bot state item of type {type(item).__name__} is not a document")
