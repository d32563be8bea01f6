"""Bot Framework authentication: botbuilder's configuration and the signing keys it checks tokens with.

With ``MicrosoftAppId`` set, botbuilder validates every request's token: issuer, audience (the app
id), signature, expiry (5 minutes' leeway), the key's channel endorsements and the ``serviceurl``
claim against the activity's ``serviceUrl`` (research C1). Two things are done here on top:

- **Explicit endpoints.** The configuration names every public-cloud endpoint (botbuilder's own
  constants), which selects botbuilder's *parameterized* authentication. The tests point the
  token issuer and OpenID metadata at a loopback issuer with its own key, so the code path they
  exercise is exactly the production one with different URLs. The override is a ``create_app``
  keyword (``TokenSources``), deliberately not an environment variable: a setting that moves where
  signing keys come from would let one misconfiguration accept tokens signed by anyone, and
  Microsoft advises against any way to weaken token validation.
- **Keys held in memory.** botbuilder fetches the OpenID document and keys with synchronous
  ``requests`` (no timeout) on the event loop, inside the first request and again when a key is
  not found. Here the keys are fetched with aiohttp at start-up and refreshed in the background;
  botbuilder's key cache for each metadata URL is replaced by ``SigningKeys``, which only reads
  memory, so no request ever waits on the network. A token with an unknown key id is refused (401)
  and schedules a refresh, which picks up Microsoft's key rotation. Only keys endorsed for
  ``msteams`` are kept, and the Emulator's metadata (also used for skills) gets no keys at all:
  this bot accepts tokens from the Teams channel only.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import AuthenticationConfiguration, AuthenticationConstants
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

from bot.settings import Settings

log = logging.getLogger(__name__)

#: The channel this bot serves; signing keys must be endorsed for it.
TEAMS_CHANNEL: Final = "msteams"
#: How often the keys are fetched again (Microsoft rotates them; botbuilder keeps them a day).
REFRESH_INTERVAL_SECONDS: Final = 6 * 3600
#: After a failed fetch, how soon to try again.
RETRY_INTERVAL_SECONDS: Final = 30.0
#: A token signed with an unknown key triggers at most one refresh in this many seconds.
UNKNOWN_KEY_REFRESH_SECONDS: Final = 300.0
#: How long one fetch of the OpenID document or the key set may take.
FETCH_TIMEOUT_SECONDS: Final = 10.0
#: The largest OpenID document or key set accepted.
MAX_DOCUMENT_BYTES: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class TokenSources:
    """Where inbound tokens come from: their issuer and the OpenID metadata holding the keys."""

    token_issuer: str = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
    openid_metadata_url: str = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    emulator_openid_metadata_url: str = AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL


#: Microsoft's public cloud: what production uses.
PUBLIC_CLOUD: Final = TokenSources()


@dataclass(frozen=True, slots=True)
class AdapterConfiguration:
    """The attribute names botbuilder's ``ConfigurationBotFrameworkAuthentication`` reads."""

    APP_ID: str
    APP_PASSWORD: str = field(repr=False)
    APP_TYPE: str
    APP_TENANTID: str
    # Present only when authentication is on (see ``adapter_configuration``).
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str | None = None
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None = None
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str | None = None
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str | None = None
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str | None = None
    OAUTH_URL: str | None = None
    CALLER_ID: str | None = None
    VALIDATE_AUTHORITY: bool = True


def adapter_configuration(settings: Settings, sources: TokenSources = PUBLIC_CLOUD) -> AdapterConfiguration:
    if not settings.authentication_enabled:
        # Development on loopback: no app id, authentication off. botbuilder's single-tenant
        # factory refuses to start without an app id, so the app type is MultiTenant here.
        return AdapterConfiguration(
            APP_ID="", APP_PASSWORD=settings.app_password, APP_TYPE="MultiTenant", APP_TENANTID=""
        )
    return AdapterConfiguration(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.app_type.value,
        APP_TENANTID=settings.app_tenant_id,
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=sources.token_issuer,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=sources.openid_metadata_url,
        TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=sources.emulator_openid_metadata_url,
        # Outbound (bot to Teams): the public cloud's values, as botbuilder's built-in public
        # cloud authentication uses them. The login URL is the prefix, so the app's own tenant
        # (single-tenant) or botframework.com (multi-tenant) is appended by botbuilder.
        TO_CHANNEL_FROM_BOT_LOGIN_URL=AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX,
        TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
        OAUTH_URL=AuthenticationConstants.OAUTH_URL,
        CALLER_ID=CallerIdConstants.public_azure_channel,
    )


def authentication_configuration() -> AuthenticationConfiguration:
    """Every token must be signed with a key endorsed for Teams."""
    return AuthenticationConfiguration(required_endorsements=[TEAMS_CHANNEL])


class UnknownSigningKeyError(Exception):
    """The token names a key that is not (or no longer) in the issuer's key set."""


class SigningKeysUnavailableError(Exception):
    """The keys could not be fetched or are not a valid key set."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """What botbuilder's token extractor reads from its key cache."""

    public_key: Any
    endorsements: list[str]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_key_url(url: str) -> str:
    """Keys come over HTTPS; plain HTTP only from this machine (the tests' loopback issuer)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return url
    raise SigningKeysUnavailableError("signing keys must come from an https:// URL")


def parse_key_set(document: Any, endorsement: str) -> dict[str, SigningKey]:
    """The RSA keys of a JWKS document that are endorsed for ``endorsement``, by key id."""
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise SigningKeysUnavailableError("the key set has no keys list")
    found: dict[str, SigningKey] = {}
    for key in keys:
        if not isinstance(key, dict) or key.get("kty") != "RSA" or not isinstance(key.get("kid"), str):
            continue
        endorsements = key.get("endorsements")
        if not isinstance(endorsements, list) or endorsement not in endorsements:
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(key))
        except (ValueError, TypeError, KeyError):
            continue
        found[key["kid"]] = SigningKey(public_key, [str(item) for item in endorsements])
    return found


class SigningKeys:
    """The signing keys of one OpenID metadata URL, held in memory and refreshed in the background.

    Installed as botbuilder's key cache entry for that URL: botbuilder calls ``get(kid)`` for every
    token and gets an answer from memory, or ``UnknownSigningKeyError``.
    """

    def __init__(
        self,
        metadata_url: str,
        *,
        endorsement: str = TEAMS_CHANNEL,
        fetch_keys: bool = True,
        refresh_interval: float = REFRESH_INTERVAL_SECONDS,
        retry_interval: float = RETRY_INTERVAL_SECONDS,
        unknown_key_interval: float = UNKNOWN_KEY_REFRESH_SECONDS,
    ) -> None:
        self.url = metadata_url
        self._endorsement = endorsement
        self._fetch_keys = fetch_keys
        self._refresh_interval = refresh_interval
        self._retry_interval = retry_interval
        self._unknown_key_interval = unknown_key_interval
        self._keys: dict[str, SigningKey] = {}
        self._loaded = False
        self._last_forced = -float("inf")
        self._refreshing: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.fetches = 0

    @property
    def loaded(self) -> bool:
        return self._loaded

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    async def get(self, key_id: str | None) -> SigningKey:
        """botbuilder's key lookup (``_OpenIdMetadata.get``): memory only, never the network."""
        key = self._keys.get(key_id) if isinstance(key_id, str) else None
        if key is None:
            now = time.monotonic()
            if self._fetch_keys and now - self._last_forced >= self._unknown_key_interval:
                # Perhaps a key Microsoft has just rotated in: the refresher fetches the key set
                # again (at most once per interval, whatever a sender tries); this request does
                # not wait for it.
                self._last_forced = now
                self._wake.set()
            raise UnknownSigningKeyError("the token's signing key is not known")
        return key

    async def refresh(self, session: aiohttp.ClientSession) -> None:
        """Fetch the OpenID document, then its key set, and replace the keys held."""
        self.fetches += 1
        metadata = await _get_json(session, check_key_url(self.url))
        jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
        if not isinstance(jwks_uri, str):
            raise SigningKeysUnavailableError("the OpenID document has no jwks_uri")
        keys = parse_key_set(await _get_json(session, check_key_url(jwks_uri)), self._endorsement)
        if not keys:
            raise SigningKeysUnavailableError(f"the key set has no key endorsed for {self._endorsement}")
        self._keys = keys
        self._loaded = True
        log.info("signing keys loaded", extra={"count": len(keys)})

    async def run(self, session: aiohttp.ClientSession) -> None:
        """Keep the keys fresh: on the interval, after a failure, and when an unknown key was seen."""
        while True:
            delay = self._refresh_interval if self._loaded else self._retry_interval
            self._wake.clear()
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass
            await self.try_refresh(session)

    async def try_refresh(self, session: aiohttp.ClientSession) -> bool:
        """Refresh, logging (not raising) a failure; whether it worked."""
        try:
            await self.refresh(session)
        except (aiohttp.ClientError, TimeoutError, ValueError, SigningKeysUnavailableError) as error:
            log.error("signing keys could not be fetched", extra={"error_code": type(error).__name__})
            return False
        return True


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url, allow_redirects=False) as response:
        if response.status != 200:
            raise SigningKeysUnavailableError(f"HTTP {response.status}")
        body = await response.content.read(MAX_DOCUMENT_BYTES + 1)
        if len(body) > MAX_DOCUMENT_BYTES:
            raise SigningKeysUnavailableError("the document is too large")
        return json.loads(body)


class KeyManager:
    """Installs ``SigningKeys`` as botbuilder's key cache for the configured metadata URLs, loads
    them at start-up and refreshes them until ``stop``."""

    def __init__(self, sources: TokenSources, **options: Any) -> None:
        self.channel = SigningKeys(sources.openid_metadata_url, **options)
        # Emulator and skill tokens are never accepted: an empty key set that is never fetched.
        self.emulator = SigningKeys(sources.emulator_openid_metadata_url, fetch_keys=False)
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._installed: dict[str, SigningKeys] = {}

    def install(self) -> None:
        """Put the key sets in botbuilder's cache, before any request can create its own."""
        cache: dict[str, Any] = JwtTokenExtractor.metadataCache
        for keys in (self.channel, self.emulator):
            cache[keys.url] = keys
            self._installed[keys.url] = keys

    async def start(self, *, attempts: int = 3, pause: float = 2.0) -> None:
        """Load the keys now (a few attempts), then keep them fresh in the background. If they
        cannot be loaded, requests are refused (401) until the background retry succeeds."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS))
        for attempt in range(attempts):
            if await self.channel.try_refresh(self._session):
                break
            if attempt + 1 < attempts:
                await asyncio.sleep(pause)
        self._tasks.append(asyncio.create_task(self.channel.run(self._session), name="signing-keys"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        cache: dict[str, Any] = JwtTokenExtractor.metadataCache
        for url, keys in self._installed.items():
            if cache.get(url) is keys:
                del cache[url]
        self._installed.clear()
