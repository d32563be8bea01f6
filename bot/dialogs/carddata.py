"""Reading the data an ``Action.Execute`` sends back. None of it is trusted: each reader gives None
(or "") for anything it cannot read, and the server decides everything else."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeGuard, TypeVar

from bot.cards.keys import FORM_KEY, REFERENCE_KEY, VERSION_KEY
from frontdoor.card_values import without_controls
from frontdoor.errors import InvalidReferenceError
from frontdoor.references import ReferenceKind, parse_reference


def whole_number(data: Mapping[str, Any], key: str, *, least: int, max_digits: int) -> int | None:
    """``data[key]`` as an int of at least ``least`` (a string of at most ``max_digits`` digits is
    read too); None otherwise."""
    value = data.get(key)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= max_digits:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        return None
    return value


def reference_of(data: Mapping[str, Any], key: str, kind: ReferenceKind) -> str | None:
    """``data[key]`` as a reference of ``kind`` in its canonical form; None otherwise."""
    text = data.get(key)
    try:
        reference = parse_reference(text) if isinstance(text, str) else None
    except InvalidReferenceError:
        return None
    return str(reference) if reference is not None and reference.kind is kind else None


def contact_reference(data: Mapping[str, Any], key: str) -> str | None:
    """``data[key]`` as a contact's reference in its canonical form; None otherwise."""
    return reference_of(data, key, ReferenceKind.CONTACT)


_Choice = TypeVar("_Choice", bound=StrEnum)


def choices(data: Mapping[str, Any], key: str, kind: type[_Choice]) -> tuple[_Choice, ...] | None:
    """A multi-select's value (comma-separated) as ``kind`` members in order, without repeats; ()
    when nothing was chosen; None when any value is not one of ``kind``."""
    text = text_input(data, key)
    found: dict[_Choice, None] = {}
    for value in (part.strip() for part in text.split(",") if part.strip()):
        try:
            found[kind(value)] = None
        except ValueError:
            return None
    return tuple(found)


def text_input(data: Mapping[str, Any], key: str) -> str:
    """``data[key]`` stripped and without control characters (``without_controls``), or "" if it
    is not a string."""
    value = data.get(key)
    return without_controls(value).strip() if isinstance(value, str) else ""


def card_reference(data: Mapping[str, Any]) -> str | None:
    """The contact reference a card action is about (``REFERENCE_KEY``); None if unreadable."""
    return contact_reference(data, REFERENCE_KEY)


def card_version(data: Mapping[str, Any]) -> int | None:
    """The record version the card was drawn from (``VERSION_KEY``); None if unreadable."""
    return whole_number(data, VERSION_KEY, least=0, max_digits=9)


def new_form_id() -> str:
    """A fresh id for a card's form (``FORM_KEY``): 32 lower-case hex digits."""
    return uuid.uuid4().hex


def is_form_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` looks like a ``new_form_id``."""
    return isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def form_id_of(data: Mapping[str, Any]) -> str | None:
    """The id of the card's form (``FORM_KEY``); None if it has none or it is not one of ours."""
    value = data.get(FORM_KEY)
    return value if is_form_id(value) else None
