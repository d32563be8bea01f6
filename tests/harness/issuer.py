"""A loopback Bot Framework token issuer: its own RSA keys, a key set (JWKS) and an OpenID document
on 127.0.0.1, and tokens signed like the Bot Connector's.

The bot is pointed at it with ``create_app(..., token_sources=issuer.sources)``, so botbuilder's
real token validation runs against keys it fetches over HTTP. It runs on its own thread (the
standard library's threading HTTP server), so a synchronous fetch could never deadlock the test's
event loop. It counts the requests it answers and can be slowed down or have its keys rotated.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from jwt.algorithms import RSAAlgorithm

from bot.auth import TokenSources

METADATA_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"
EMULATOR_METADATA_PATH = "/emulator/.well-known/openid-configuration"

_ids = itertools.count(1)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: RSAPrivateKey = field(repr=False)
    endorsements: tuple[str, ...] = ("msteams",)

    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        public.update({"kid": self.kid, "use": "sig", "endorsements": list(self.endorsements)})
        return public


def new_key(endorsements: Sequence[str] = ("msteams",), kid: str | None = None) -> SigningKey:
    return SigningKey(
        kid=kid or f"loopback-key-{next(_ids)}",
        private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        endorsements=tuple(endorsements),
    )


class LoopbackIssuer:
    def __init__(self, keys: Sequence[SigningKey] | None = None) -> None:
        self._lock = threading.Lock()
        self._keys: list[SigningKey] = list(keys) if keys is not None else [new_key()]
        self.requests: Counter[str] = Counter()
        #: seconds each key-set answer waits (to show that no request waits on a fetch)
        self.delay = 0.0
        #: answer every request with this status instead (an unavailable issuer)
        self.failing_status: int | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="loopback-issuer", daemon=True
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LoopbackIssuer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def issuer(self) -> str:
        """The ``iss`` of its tokens (the real one is ``https://api.botframework.com``)."""
        return self.base_url + "/"

    @property
    def sources(self) -> TokenSources:
        return TokenSources(
            token_issuer=self.issuer,
            openid_metadata_url=self.base_url + METADATA_PATH,
            emulator_openid_metadata_url=self.base_url + EMULATOR_METADATA_PATH,
        )

    # -- keys --------------------------------------------------------------------------------

    @property
    def keys(self) -> list[SigningKey]:
        with self._lock:
            return list(self._keys)

    def publish(self, *keys: SigningKey) -> None:
        """Replace the published key set (Microsoft's key rotation)."""
        with self._lock:
            self._keys = list(keys)

    def key_fetches(self) -> int:
        with self._lock:
            return self.requests[KEYS_PATH]

    # -- tokens ------------------------------------------------------------------------------

    def token(
        self,
        *,
        audience: str,
        service_url: str | None,
        key: SigningKey | None = None,
        issuer: str | None = None,
        expires_in: float = 3600,
        not_before: float = -60,
        extra_claims: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        """A token as the Bot Connector sends it: ``iss``, ``aud`` (the bot's app id),
        ``serviceurl``, ``nbf`` and ``exp``, RS256-signed with a published key."""
        signer = key or self.keys[0]
        now = time.time()
        claims: dict[str, Any] = {
            "iss": issuer if issuer is not None else self.issuer,
            "aud": audience,
            "nbf": int(now + not_before),
            "exp": int(now + expires_in),
        }
        if service_url is not None:
            claims["serviceurl"] = service_url
        claims.update(extra_claims or {})
        return jwt.encode(
            claims, signer.private_key, algorithm="RS256", headers={"kid": signer.kid, **(headers or {})}
        )

    # -- HTTP --------------------------------------------------------------------------------

    def _answer(self, path: str) -> tuple[int, Any]:
        with self._lock:
            self.requests[path] += 1
            failing = self.failing_status
            keys = list(self._keys)
        if failing is not None:
            return failing, {"error": "unavailable"}
        if path == METADATA_PATH:
            return 200, {
                "issuer": self.issuer,
                "authorization_endpoint": self.base_url + "/authorize",
                "jwks_uri": self.base_url + KEYS_PATH,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        if path == KEYS_PATH:
            if self.delay:
                time.sleep(self.delay)
            return 200, {"keys": [key.jwk() for key in keys]}
        return 404, {"error": "not found"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = issuer._answer(self.path)
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
