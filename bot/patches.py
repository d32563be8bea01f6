"""Start-up fixes for measured defects in the Bot Framework Python SDK (4.17.1, archived).

``msrest``'s ``ClientRetryPolicy.__init__`` builds ``[i for i in range(999) if i not in
self.safe_codes]`` where ``safe_codes`` is a 501-element list: about 5 ms of CPU, twice on every
turn and once on every proactive send. ``safe_codes`` is only ever used for membership tests, so a
frozenset gives the same answers about twelve times faster.

``msrest``'s ``Serializer.serialize_object`` walks an untyped value (an attachment's content: a
card) one node at a time, turning each string, number and boolean through ``eval`` of its type's
name: about 0.9 ms for the 5 KB help card, on every card sent or updated. For a ``dict`` or
``list`` made only of ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None`` (what a
card is) the walk returns an equal copy, so ``serialize_object`` makes that copy directly and
leaves every other value (models, dates, enums, tuples, XML) to msrest.

``TurnContext.send_activities`` deep-copies every activity it sends: ``copy.deepcopy`` of a card
visits each node through its generic machinery, about 0.9 ms for the help card. The copy is kept,
but a plain-JSON attachment content is copied by the same walk as above (handed to ``deepcopy`` in
its memo), which gives an equal, independent copy.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from botbuilder.core import turn_context
from msrest.serialization import Serializer
from msrest.universal_http.requests import ClientRetryPolicy

_SCALARS = frozenset({str, int, float, bool, type(None)})


class _NotPlain(Exception):
    """A value msrest itself must serialize."""


def _plain_copy(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        copied = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            copied[key] = _plain_copy(item)
        return copied
    if kind is list:
        return [_plain_copy(item) for item in value]
    raise _NotPlain


_serialize_object = Serializer.serialize_object


def _fast_serialize_object(self: Serializer, attr: Any, **kwargs: Any) -> Any:
    if type(attr) in (dict, list) and not kwargs.get("is_xml") and not kwargs.get("basic_types_serializers"):
        try:
            return _plain_copy(attr)
        except _NotPlain:
            pass
    return _serialize_object(self, attr, **kwargs)


def _deepcopy_activity(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """``copy.deepcopy``, with each plain-JSON attachment content copied by ``_plain_copy``."""
    memo = {} if memo is None else memo
    for attachment in getattr(value, "attachments", None) or ():
        content = getattr(attachment, "content", None)
        if type(content) in (dict, list):
            with contextlib.suppress(_NotPlain):
                memo[id(content)] = _plain_copy(content)
    return copy.deepcopy(value, memo)


def apply_patches() -> None:
    """Apply every start-up fix. Safe to call more than once."""
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]
    Serializer.serialize_object = _fast_serialize_object  # type: ignore[method-assign]
    turn_context.deepcopy = _deepcopy_activity


def patches_applied() -> bool:
    return (
        isinstance(ClientRetryPolicy.safe_codes, frozenset)
        and Serializer.serialize_object is _fast_serialize_object
        and turn_context.deepcopy is _deepcopy_activity
    )
