"""Production authentication for real: botbuilder validates Bot Framework tokens against the keys of a
loopback issuer (its own RSA keys, JWKS and OpenID document on 127.0.0.1), through the same code
path and configuration production uses with Microsoft's URLs.

Valid tokens are accepted; missing, expired, not-yet-valid, wrong-audience, wrong-issuer, badly
signed, unknown-key, unendorsed-key and wrong-serviceUrl tokens get 401, never 500, and change
nothing. The keys are fetched once at start-up; no request ever waits on a fetch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp.test_utils import TestServer
from botframework.connector.auth import AuthenticationConstants
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from bot.app import create_app
from bot.auth import PUBLIC_CLOUD, SigningKeys, adapter_configuration
from bot.settings import DEVELOPMENT, AppType, Settings
from store.sql import SqlStore
from store.tables import ProcessedActivityRow
from tests.harness.fixtures import MakeTeamsChannel
from tests.harness.issuer import EMULATOR_METADATA_PATH, METADATA_PATH, LoopbackIssuer, new_key
from tests.harness.teams import TeamsChannel, TeamsUser

APP_ID = "5b7f0a52-7a1d-4c55-9d0e-0000000a0701"
TENANT_ID = "7c0d1a2b-0000-4000-8000-000000000701"
SECRET = "fictional-client-secret-0701-do-not-log"
USER = TeamsUser("aad-auth-0701", "Avery Authtester")


@dataclass
class SecuredBot:
    issuer: LoopbackIssuer
    channel: TeamsChannel
    store: SqlStore
    server: TestServer

    def activity(self, kind: str = "conversationUpdate", **fields: Any) -> dict[str, Any]:
        chat = self.channel.personal(USER)
        if kind == "conversationUpdate":
            fields.setdefault("membersAdded", [{"id": self.channel.bot_id}])
        if kind == "invoke":
            fields.setdefault("name", "adaptiveCard/action")
            fields.setdefault(
                "value", {"action": {"type": "Action.Execute", "verb": "no.such.verb", "data": {}}}
            )
        return self.channel.activity(chat, USER, kind, **fields)

    def token(self, **options: Any) -> str:
        options.setdefault("audience", APP_ID)
        options.setdefault("service_url", self.channel.service_url)
        return self.issuer.token(**options)

    async def post(self, body: dict[str, Any], authorization: str | None) -> tuple[int, float, Any]:
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        started = time.perf_counter()
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.server.make_url("/api/messages"), json=body, headers=headers) as response,
        ):
            raw = await response.read()
        return response.status, time.perf_counter() - started, json.loads(raw) if raw else None

    async def conversations(self) -> int:
        async with self.store.unit_of_work() as uow:
            record = await uow.conversations.get(self.channel.personal(USER).id)
        return 0 if record is None else 1


@pytest.fixture
def issuer() -> Iterator[LoopbackIssuer]:
    started = LoopbackIssuer().start()
    yield started
    started.stop()


def _settings(sqlite_url: str) -> Settings:
    return dataclasses.replace(
        Settings.from_env({**DEVELOPMENT, "DATABASE_URL": sqlite_url}),
        app_id=APP_ID,
        app_password=SECRET,
        app_type=AppType.SINGLE_TENANT,
        app_tenant_id=TENANT_ID,
    )


@pytest.fixture
async def secured(
    sqlite_url: str, issuer: LoopbackIssuer, make_teams_channel: MakeTeamsChannel
) -> AsyncIterator[SecuredBot]:
    store = SqlStore(sqlite_url)
    server = TestServer(
        create_app(_settings(sqlite_url), store=store, token_sources=issuer.sources), host="127.0.0.1"
    )
    await server.start_server()
    channel = await make_teams_channel()
    channel.attach(str(server.make_url("/api/messages")))
    yield SecuredBot(issuer, channel, store, server)
    await server.close()


async def test_a_valid_token_is_accepted(secured: SecuredBot) -> None:
    status, _, _ = await secured.post(secured.activity(), f"Bearer {secured.token()}")
    assert status in (200, 201)
    assert await secured.conversations() == 1  # the turn ran
    status, _, body = await secured.post(secured.activity("invoke"), f"Bearer {secured.token()}")
    assert status == 200
    assert body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "This action is not available.",
    }


async def test_the_loopback_channel_can_send_tokens_itself(
    secured: SecuredBot, make_teams_channel: MakeTeamsChannel
) -> None:
    async def token() -> str:
        return secured.token(service_url=channel.service_url)

    channel = await make_teams_channel(token_factory=token)
    channel.attach(str(secured.server.make_url("/api/messages")))
    reply = await channel.conversation_update(channel.personal(USER), USER, bot_added=True)
    assert reply.status in (200, 201)


def _forged(secured: SecuredBot) -> dict[str, Callable[[], str | None]]:
    """Each way a request can fail authentication: a name and its Authorization header."""
    published = secured.issuer.keys[0]
    stranger = new_key(kid=published.kid)  # same key id, a key the issuer never published
    public_pem = published.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def tampered() -> str:
        genuine = secured.token()
        header, _, signature = genuine.split(".")
        claims = jwt.decode(genuine, options={"verify_signature": False})
        claims["aud"] = "someone-else"
        forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
        return f"{header}.{forged}.{signature}"

    return {
        "missing": lambda: None,
        "empty": lambda: "",
        "basic scheme": lambda: "Basic dXNlcjpwYXNz",
        "bearer without token": lambda: "Bearer ",
        "not a jwt": lambda: "Bearer not.a.token",
        "expired": lambda: f"Bearer {secured.token(expires_in=-600, not_before=-3600)}",
        "not yet valid": lambda: f"Bearer {secured.token(not_before=900)}",
        "wrong audience": lambda: f"Bearer {secured.token(audience='00000000-0000-0000-0000-000000000bad')}",
        "no audience": lambda: f"Bearer {secured.token(audience='')}",
        "wrong issuer": lambda: f"Bearer {secured.token(issuer='https://issuer.example.invalid/')}",
        "the real issuer, not the configured one": lambda: (
            f"Bearer {secured.token(issuer=AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER)}"
        ),
        "badly signed": lambda: f"Bearer {secured.token(key=stranger)}",
        "tampered claims": lambda: f"Bearer {tampered()}",
        "unknown key id": lambda: f"Bearer {secured.token(key=new_key())}",
        "serviceurl of another channel": lambda: (
            f"Bearer {secured.token(service_url='https://smba.trafficmanager.net/emea/')}"
        ),
        "no serviceurl claim": lambda: f"Bearer {secured.token(service_url=None)}",
        "unsigned (alg none)": lambda: (
            "Bearer "
            + jwt.encode(
                {"iss": secured.issuer.issuer, "aud": APP_ID, "serviceurl": secured.channel.service_url},
                None,
                algorithm="none",
                headers={"kid": published.kid},
            )
        ),
        "HS256 keyed with the public key": lambda: (
            "Bearer "
            + _hs256(
                {
                    "iss": secured.issuer.issuer,
                    "aud": APP_ID,
                    "serviceurl": secured.channel.service_url,
                    "exp": int(time.time()) + 600,
                },
                public_pem,
                published.kid,
            )
        ),
        "an emulator token": lambda: (
            "Bearer "
            + secured.token(
                issuer="https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
                extra_claims={"ver": "1.0", "appid": APP_ID},
            )
        ),
        "a skill token": lambda: "Bearer " + secured.token(extra_claims={"ver": "2.0", "azp": "another-bot"}),
    }


def _hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """A token MACed with the RSA public key as an HMAC secret (PyJWT refuses to do this itself)."""
    import hashlib
    import hmac

    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode())
    signature = hmac.new(secret, header + b"." + payload, hashlib.sha256).digest()
    return (header + b"." + payload + b"." + jwt.utils.base64url_encode(signature)).decode()


async def test_every_bad_token_is_a_401_and_changes_nothing(
    secured: SecuredBot, captured_logs: io.StringIO
) -> None:
    # A key published for another channel only: botbuilder checks the key's endorsements.
    webchat_only = new_key(endorsements=["webchat"])
    secured.issuer.publish(*secured.issuer.keys, webchat_only)
    cases = _forged(secured)
    cases["key not endorsed for msteams"] = lambda: f"Bearer {secured.token(key=webchat_only)}"
    statuses: dict[str, int] = {}
    for name, header in cases.items():
        for kind in ("message", "invoke", "conversationUpdate"):
            fields = {"text": "help"} if kind == "message" else {}
            status, _, _ = await secured.post(secured.activity(kind, **fields), header())
            statuses[f"{name} ({kind})"] = status
    assert {name: status for name, status in statuses.items() if status != 401} == {}
    assert await secured.conversations() == 0
    assert secured.channel.activities == ()
    async with secured.store.engine.connect() as connection:
        claimed = await connection.scalar(select(func.count()).select_from(ProcessedActivityRow))
    assert claimed == 0
    # Emulator and skill tokens never make the bot fetch anything.
    assert secured.issuer.requests[EMULATOR_METADATA_PATH] == 0
    logs = captured_logs.getvalue()
    assert "request refused: authentication failed" in logs
    assert SECRET not in logs
    assert secured.token().split(".")[2] not in logs


async def test_the_keys_are_loaded_at_start_up_and_no_request_waits_for_a_fetch(secured: SecuredBot) -> None:
    # Loaded before the first request...
    assert secured.issuer.requests[METADATA_PATH] == 1
    assert secured.issuer.key_fetches() == 1
    for _ in range(10):
        status, _, _ = await secured.post(secured.activity(), f"Bearer {secured.token()}")
        assert status in (200, 201)
    # ...and not fetched again by any request.
    assert secured.issuer.key_fetches() == 1

    # A slow issuer: an unknown key starts a background refresh that no request waits for.
    secured.issuer.delay = 1.5
    for _ in range(5):
        status, took, _ = await secured.post(secured.activity(), f"Bearer {secured.token(key=new_key())}")
        assert status == 401
        assert took < 1.0, f"a request waited {took:.2f} s"
    status, took, _ = await secured.post(secured.activity(), f"Bearer {secured.token()}")
    assert status in (200, 201)
    assert took < 1.0
    await _wait_for(lambda: secured.issuer.key_fetches() >= 2)
    await asyncio.sleep(0.3)
    # Five unknown keys, one refresh: a sender cannot make the bot hammer the issuer.
    assert secured.issuer.key_fetches() == 2


async def test_a_rotated_key_is_picked_up_without_a_restart(secured: SecuredBot) -> None:
    old = secured.issuer.keys[0]
    rotated = new_key()
    secured.issuer.publish(rotated)
    first, _, _ = await secured.post(secured.activity(), f"Bearer {secured.token(key=rotated)}")
    assert first == 401  # unknown until the background refresh has run
    await _wait_for(lambda: secured.issuer.key_fetches() >= 2)
    accepted = 0
    for _ in range(50):
        status, _, _ = await secured.post(secured.activity(), f"Bearer {secured.token(key=rotated)}")
        if status != 401:
            accepted = status
            break
        await asyncio.sleep(0.05)
    assert accepted in (200, 201)
    retired, _, _ = await secured.post(secured.activity(), f"Bearer {secured.token(key=old)}")
    assert retired == 401


async def test_an_unreachable_issuer_at_start_up_refuses_requests_without_blocking(
    sqlite_url: str, issuer: LoopbackIssuer
) -> None:
    issuer.failing_status = 503
    store = SqlStore(sqlite_url)
    app = create_app(_settings(sqlite_url), store=store, token_sources=issuer.sources)
    server = TestServer(app, host="127.0.0.1")
    started = time.perf_counter()
    await server.start_server()
    try:
        assert time.perf_counter() - started < 15
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                server.make_url("/api/messages"),
                json={
                    "type": "message",
                    "channelId": "msteams",
                    "serviceUrl": "http://127.0.0.1:9/",
                    "conversation": {"id": "a:1"},
                    "from": {"id": "29:1"},
                    "text": "help",
                },
                headers={
                    "Authorization": f"Bearer {issuer.token(audience=APP_ID, service_url='http://127.0.0.1:9/')}"
                },
            ) as response,
        ):
            assert response.status == 401
    finally:
        await server.close()


async def test_botbuilder_never_gets_a_key_cache_of_its_own(secured: SecuredBot) -> None:
    await secured.post(secured.activity(), f"Bearer {secured.token()}")
    for url in (
        secured.issuer.sources.openid_metadata_url,
        secured.issuer.sources.emulator_openid_metadata_url,
    ):
        assert isinstance(JwtTokenExtractor.metadataCache[url], SigningKeys)


async def test_stopping_the_app_removes_its_key_caches(sqlite_url: str, issuer: LoopbackIssuer) -> None:
    server = TestServer(
        create_app(_settings(sqlite_url), store=SqlStore(sqlite_url), token_sources=issuer.sources),
        host="127.0.0.1",
    )
    await server.start_server()
    assert issuer.sources.openid_metadata_url in JwtTokenExtractor.metadataCache
    await server.close()
    assert issuer.sources.openid_metadata_url not in JwtTokenExtractor.metadataCache


def test_production_uses_microsofts_public_cloud_endpoints() -> None:
    settings = dataclasses.replace(
        Settings.from_env(DEVELOPMENT), app_id=APP_ID, app_password=SECRET, app_tenant_id=TENANT_ID
    )
    configuration = adapter_configuration(settings)
    assert PUBLIC_CLOUD.token_issuer == "https://api.botframework.com"
    assert configuration.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER == "https://api.botframework.com"
    assert (
        configuration.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
        == "https://login.botframework.com/v1/.well-known/openidconfiguration"
    )
    assert configuration.TO_CHANNEL_FROM_BOT_LOGIN_URL == "https://login.microsoftonline.com/"
    assert configuration.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE == "https://api.botframework.com"
    assert configuration.APP_TYPE == "SingleTenant"
    assert configuration.APP_TENANTID == TENANT_ID
    assert SECRET not in repr(configuration)
    assert SECRET not in repr(settings)
    # Nothing in the environment can move where keys come from.
    environment_names = {field.name for field in dataclasses.fields(Settings)}
    assert not {"token_issuer", "openid_metadata_url", "token_sources"} & environment_names


def test_development_without_an_app_id_configures_no_endpoints() -> None:
    configuration = adapter_configuration(Settings.from_env(DEVELOPMENT))
    assert configuration.APP_ID == ""
    assert configuration.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL is None


async def _wait_for(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition was not met in time")
        await asyncio.sleep(0.02)
