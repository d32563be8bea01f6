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

``CloudAdapter`` builds a ``UserTokenClient`` for every turn and every proactive send, though only
OAuth sign-in uses it (the bot has none): its ``TokenApiClient`` opens a ``requests`` session with
its own connection pool and parses its configuration, about 0.2 ms a turn and 1.3 ms a proactive
send. The client is now built the first time one of its methods is called.

``CloudAdapter``'s connector factory builds a new ``ConnectorClient`` for every turn and every
proactive send, with a new ``requests`` session: so no connection to the channel's service URL is
ever reused, and each client's configuration is parsed again (about 0.3 ms). A connector factory now
keeps the client it built for a service URL and audience, and hands it out again: msrest's async
client sends each request through its session's thread-safe connection pool, and its credentials
fetch and refresh their own tokens. A factory is built per request from the same credentials
factory, so the clients are kept per credentials factory (as long as it lives).
"""

from __future__ import annotations

import contextlib
import copy
import weakref
from typing import Any

from botbuilder.core import turn_context
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    _built_in_bot_framework_authentication,
    _parameterized_bot_framework_authentication,
)
from botframework.connector.auth._connector_factory_impl import _ConnectorFactoryImpl
from botframework.connector.auth._user_token_client_impl import _UserTokenClientImpl
from botframework.connector.auth.user_token_client import UserTokenClient
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


class LazyUserTokenClient(UserTokenClient):
    """botbuilder's ``_UserTokenClientImpl``, built on the first call of one of its methods."""

    def __init__(self, app_id: str, credentials: Any, oauth_endpoint: str) -> None:
        super().__init__()
        self._arguments = (app_id, credentials, oauth_endpoint)
        self._built: UserTokenClient | None = None

    @property
    def built(self) -> bool:
        return self._built is not None

    def _client(self) -> UserTokenClient:
        if self._built is None:
            self._built = _UserTokenClientImpl(*self._arguments)
        return self._built

    async def get_user_token(self, *args: Any, **kwargs: Any) -> Any:
        return await self._client().get_user_token(*args, **kwargs)

    async def get_sign_in_resource(self, *args: Any, **kwargs: Any) -> Any:
        return await self._client().get_sign_in_resource(*args, **kwargs)

    async def sign_out_user(self, *args: Any, **kwargs: Any) -> Any:
        return await self._client().sign_out_user(*args, **kwargs)

    async def get_token_status(self, *args: Any, **kwargs: Any) -> Any:
        return await self._client().get_token_status(*args, **kwargs)

    async def get_aad_tokens(self, *args: Any, **kwargs: Any) -> Any:
        return await self._client().get_aad_tokens(*args, **kwargs)

    async def exchange_token(self, *args: Any, **kwargs: Any) -> Any:
        return await self._client().exchange_token(*args, **kwargs)


#: The connector clients each credentials factory's connector factories built, by service URL,
#: audience and client configuration.
_CONNECTORS: weakref.WeakKeyDictionary[Any, dict[tuple[object, ...], ConnectorClient]] = (
    weakref.WeakKeyDictionary()
)
_create_connector = _ConnectorFactoryImpl.create


async def _kept_connector(self: _ConnectorFactoryImpl, service_url: str, audience: str | None = None) -> Any:
    key = (
        self._app_id,
        audience or self._to_channel_from_bot_oauth_scope,
        self._login_endpoint,
        self._validate_authority,
        service_url,
        id(self._connector_client_configuration),
    )
    kept = _CONNECTORS.setdefault(self._credential_factory, {})
    client = kept.get(key)
    if client is None:
        client = kept[key] = await _create_connector(self, service_url, audience)
    return client


def apply_patches() -> None:
    """Apply every start-up fix. Safe to call more than once."""
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]
    Serializer.serialize_object = _fast_serialize_object  # type: ignore[method-assign]
    turn_context.deepcopy = _deepcopy_activity
    # both of botbuilder's authentications build their user token client by this module-level name
    _built_in_bot_framework_authentication._UserTokenClientImpl = LazyUserTokenClient
    _parameterized_bot_framework_authentication._UserTokenClientImpl = LazyUserTokenClient
    _ConnectorFactoryImpl.create = _kept_connector


def patches_applied() -> bool:
    return (
        isinstance(ClientRetryPolicy.safe_codes, frozenset)
        and Serializer.serialize_object is _fast_serialize_object
        and turn_context.deepcopy is _deepcopy_activity
        and _built_in_bot_framework_authentication._UserTokenClientImpl is LazyUserTokenClient
        and _parameterized_bot_framework_authentication._UserTokenClientImpl is LazyUserTokenClient
        and _ConnectorFactoryImpl.create is _kept_connector
    )
