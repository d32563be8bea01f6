"""``bot.patches``: msrest serializes a card's plain JSON without walking it node by node, with
the same result, and leaves anything that is not plain JSON to msrest."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

import pytest
from botbuilder.core import CardFactory, MessageFactory, turn_context
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector import models
from botframework.connector.auth import ClaimsIdentity, PasswordServiceClientCredentialFactory
from botframework.connector.auth._connector_factory_impl import _ConnectorFactoryImpl
from msrest.serialization import Serializer

from bot import patches
from bot.cards.help import help_card
from frontdoor.commands import Scope
from frontdoor.roles import Role

_MODELS = {name: kind for name, kind in vars(models).items() if isinstance(kind, type)}


class _Colour(StrEnum):
    RED = "red"


@contextmanager
def _msrest_alone() -> Iterator[None]:
    """msrest's own ``serialize_object``, all the way down, for the duration."""
    Serializer.serialize_object = patches._serialize_object  # type: ignore[method-assign]
    try:
        yield
    finally:
        patches.apply_patches()


def _unpatched(attr: Any) -> Any:
    with _msrest_alone():
        return Serializer(_MODELS).serialize_object(attr)


def _card_activity() -> Any:
    card = help_card(frozenset(Role), Scope.PERSONAL, False, "aad-patch-1", False)
    return MessageFactory.attachment(CardFactory.adaptive_card(card))


def test_a_card_activity_serializes_as_msrest_serialized_it() -> None:
    patches.apply_patches()
    activity = _card_activity()
    fast = Serializer(_MODELS).body(activity, "Activity")
    with _msrest_alone():
        slow = Serializer(_MODELS).body(activity, "Activity")
    assert fast == slow
    assert fast["attachments"][0]["content"] == activity.attachments[0].content
    assert fast["attachments"][0]["content"] is not activity.attachments[0].content  # a copy, as before


def test_values_that_are_not_plain_json_are_left_to_msrest() -> None:
    patches.apply_patches()
    serializer = Serializer(_MODELS)
    odd: list[Any] = [
        {"when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)},
        {"colour": _Colour.RED, "pair": (1, 2)},
        [{"nested": [datetime.date(2026, 1, 2)]}],
        {1: "a number as a key"},
        {"plain": [1, 2.5, True, None, "x", {"deep": []}]},
    ]
    for value in odd:
        assert serializer.serialize_object(value) == _unpatched(value)
    assert serializer.serialize_object({"colour": _Colour.RED})["colour"] == "red"
    assert serializer.serialize_object({"pair": (1, 2)}) == {"pair": "(1, 2)"}


def test_serializing_a_card_no_longer_walks_it_through_msrest(monkeypatch: Any) -> None:
    patches.apply_patches()
    assert patches.patches_applied()
    calls: list[str] = []
    basic = Serializer.serialize_basic.__func__  # type: ignore[attr-defined]

    def counted(cls: type[Serializer], data: Any, data_type: str, **kwargs: Any) -> Any:
        calls.append(data_type)
        return basic(cls, data, data_type, **kwargs)

    monkeypatch.setattr(Serializer, "serialize_basic", classmethod(counted))
    content = _card_activity().attachments[0].content
    Serializer(_MODELS).serialize_object(content)
    assert calls == []  # the card's strings, numbers and booleans were not each sent through eval
    _unpatched(content)
    assert len(calls) > 100  # what msrest alone does with the same card


def test_a_sent_activity_is_still_a_deep_copy() -> None:
    patches.apply_patches()
    activity = _card_activity()
    activity.attachments[0].content["extra"] = {"pair": (1, 2), "when": datetime.date(2026, 1, 2)}
    copied = turn_context.deepcopy(activity)  # what ``TurnContext.send_activities`` calls
    assert copied is not activity
    assert copied.attachments[0] is not activity.attachments[0]
    original, duplicate = activity.attachments[0].content, copied.attachments[0].content
    assert duplicate == original  # not plain JSON: copied by copy.deepcopy alone, still equal
    assert duplicate is not original and duplicate["extra"] is not original["extra"]
    plain = _card_activity()
    duplicate = turn_context.deepcopy(plain).attachments[0].content
    assert duplicate == plain.attachments[0].content == copy.deepcopy(plain.attachments[0].content)
    assert duplicate is not plain.attachments[0].content
    assert duplicate["body"] is not plain.attachments[0].content["body"]
    duplicate["body"].clear()  # changing the copy leaves what the dialog built alone
    assert plain.attachments[0].content["body"]


async def test_the_user_token_client_is_built_only_when_used() -> None:
    patches.apply_patches()
    authentication = ConfigurationBotFrameworkAuthentication(SimpleNamespace(APP_ID="", APP_PASSWORD=""))
    client = await authentication.create_user_token_client(ClaimsIdentity({}, True))
    assert isinstance(client, patches.LazyUserTokenClient)
    assert not client.built  # a turn that never signs in builds nothing
    with pytest.raises(TypeError, match="user_id"):  # botbuilder's own client's check, so it was built
        await client.get_user_token(None, "connection", "msteams", "")  # type: ignore[arg-type]
    assert client.built


async def test_a_connector_factory_keeps_its_client_per_service_url_and_audience() -> None:
    patches.apply_patches()

    def factory(credentials: PasswordServiceClientCredentialFactory) -> _ConnectorFactoryImpl:
        return _ConnectorFactoryImpl("", "https://api.botframework.com", "", True, credentials)

    credentials = PasswordServiceClientCredentialFactory("", "")
    first = await factory(credentials).create("https://smba.example.invalid/uk/")
    # botbuilder builds a factory per request: the next request's factory hands out the same client
    assert await factory(credentials).create("https://smba.example.invalid/uk/") is first
    assert first.config.base_url == "https://smba.example.invalid/uk/"
    others = [
        await factory(credentials).create("https://smba.example.invalid/emea/"),
        await factory(credentials).create(
            "https://smba.example.invalid/uk/", "https://other.example.invalid"
        ),
        await factory(PasswordServiceClientCredentialFactory("", "")).create(
            "https://smba.example.invalid/uk/"
        ),
    ]
    assert len({id(client) for client in [first, *others]}) == 4
