"""Settings: the only reader of the environment. Fails fast with a message naming the variable."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from frontdoor.mail import MailboxAddress, parse_imap_url
from frontdoor.policy import Policy, PolicyError, load_policy
from frontdoor.ports import Clock
from frontdoor.systemclock import RunningClock, SystemClock

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/frontdoor.db"
LOOPBACK = "127.0.0.1"
#: The environment of local development without credentials (the tests' too): authentication off,
#: on loopback. Anything else without an app id is refused (``Settings.check``).
DEVELOPMENT: Mapping[str, str] = {"FRONTDOOR_AUTH": "off"}


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class AppType(StrEnum):
    SINGLE_TENANT = "SingleTenant"
    MULTI_TENANT = "MultiTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


#: Why demo mode never runs in production (``FRONTDOOR_DEMO=1`` with ``FRONTDOOR_ENV=production``).
_DEMO_IN_PRODUCTION = (
    "FRONTDOOR_DEMO=1 seeds fictional people with roles and is never allowed with "
    "FRONTDOOR_ENV=production; refusing to start"
)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """The service's SMTP server: the second route for alerts Teams cannot deliver (SPEC §10)."""

    host: str
    port: int = 587
    #: upgrade the connection with STARTTLS before logging in (``FRONTDOOR_SMTP_STARTTLS``, on)
    starttls: bool = True
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""
    #: where alerts go when Teams cannot deliver them
    duty_manager: str = ""
    timeout_seconds: float = 10.0


@dataclass(frozen=True, slots=True, repr=False)
class Settings:
    environment: Environment = Environment.DEVELOPMENT
    host: str = LOOPBACK
    port: int = 3978
    database_url: str = DEFAULT_DATABASE_URL
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: AppType = AppType.SINGLE_TENANT
    app_tenant_id: str = ""
    tenants: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()
    policy_path: Path | None = None
    policy: Policy = field(default_factory=lambda: load_policy(None))
    log_level: str = "INFO"
    scheduler_enabled: bool = True
    #: seconds between deadline ticks and dispatcher runs (``FRONTDOOR_TICK_SECONDS``; by default
    #: the policy's ``alerts.tick_seconds``, 30)
    tick_seconds: float = 30.0
    #: None: no e-mail route (``FRONTDOOR_SMTP_HOST`` unset)
    smtp: SmtpSettings | None = None
    #: ``FRONTDOOR_AUTH=off``: run without authentication (local development on loopback only)
    auth_off: bool = False
    #: ``FRONTDOOR_CLOCK_START``: the instant the process's clock reads when it starts (then it runs
    #: at real speed); None for the real clock. For tests and rehearsals; refused in production.
    clock_start: datetime | None = None
    #: the front door's mailbox (``FRONTDOOR_IMAP_URL``, ``FRONTDOOR_IMAP_PASSWORD``); None: not watched
    mailbox: MailboxAddress | None = None
    #: demo mode (``bot.demo``): the Playground's users, channels and today's rota are seeded
    demo: bool = False
    #: the Playground configuration file demo mode reads
    demo_config: Path = Path(".m365agentsplayground.yml")
    #: where the Playground's mock connector listens (the seeded channels' service URL)
    demo_service_url: str = "http://127.0.0.1:56150/_connector"

    @property
    def authentication_enabled(self) -> bool:
        return bool(self.app_id)

    def __repr__(self) -> str:
        """Every setting but the secrets: the app password is left out and the database URL's
        password is masked."""
        shown = []
        for item in fields(self):
            if item.name == "app_password":
                continue
            value = getattr(self, item.name)
            if item.name == "database_url":
                value = masked_url(value)
            shown.append(f"{item.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    def check(self, *, serving: bool = True) -> None:
        """Refuse to start when the bot would fail open (SPEC §8); raises ``SettingsError``.

        Production needs the app id, its credentials and ``FRONTDOOR_TENANTS``. Without an app id
        authentication is off, which needs the explicit ``FRONTDOOR_AUTH=off``, never in production,
        and only on a loopback address."""
        if self.environment is Environment.PRODUCTION:
            if self.demo:
                raise SettingsError(_DEMO_IN_PRODUCTION)
            if not self.app_id:
                raise SettingsError("FRONTDOOR_ENV=production needs MicrosoftAppId; refusing to start")
            if not self.app_password and self.app_type is not AppType.USER_ASSIGNED_MSI:
                raise SettingsError("FRONTDOOR_ENV=production needs MicrosoftAppPassword; refusing to start")
            if not self.tenants:
                raise SettingsError(
                    "FRONTDOOR_ENV=production needs FRONTDOOR_TENANTS (the tenants served); refusing to start"
                )
        if self.authentication_enabled:
            return
        if not _is_loopback(self.host):
            raise SettingsError(
                f"FRONTDOOR_HOST={self.host} is not a loopback address and there is no MicrosoftAppId: "
                "without credentials the bot only listens on 127.0.0.1; refusing to start"
            )
        if serving and not self.auth_off:
            raise SettingsError(
                "MicrosoftAppId is not set: set it (with MicrosoftAppPassword), or set FRONTDOOR_AUTH=off to "
                "run without authentication for local development on loopback; refusing to start"
            )

    def clock(self) -> Clock:
        """The real clock, or one starting at ``FRONTDOOR_CLOCK_START`` (never in production)."""
        return SystemClock() if self.clock_start is None else RunningClock(self.clock_start)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, serving: bool = True) -> Settings:
        """Read and check every setting. Raises ``SettingsError`` naming the bad variable. The
        command line's other commands (database, roles, audit) do not serve Teams: with ``serving``
        False they need no ``FRONTDOOR_AUTH=off`` in development."""
        source = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return source.get(name, default).strip()

        try:
            environment = Environment(get("FRONTDOOR_ENV", "development").lower())
        except ValueError:
            raise SettingsError("FRONTDOOR_ENV must be 'development' or 'production'") from None

        demo_text = get("FRONTDOOR_DEMO", "0")
        if demo_text not in ("0", "1"):
            raise SettingsError("FRONTDOOR_DEMO must be '0' or '1'")
        if demo_text == "1" and environment is Environment.PRODUCTION:
            raise SettingsError(_DEMO_IN_PRODUCTION)  # before anything demo mode also sets

        app_id = get("MicrosoftAppId")
        app_password = source.get("MicrosoftAppPassword", "")
        try:
            app_type = AppType(get("MicrosoftAppType", AppType.SINGLE_TENANT.value))
        except ValueError:
            valid = ", ".join(t.value for t in AppType)
            raise SettingsError(f"MicrosoftAppType must be one of {valid}") from None
        app_tenant_id = get("MicrosoftAppTenantId")

        if app_id and app_type is AppType.SINGLE_TENANT and not app_tenant_id:
            raise SettingsError("MicrosoftAppType=SingleTenant needs MicrosoftAppTenantId")
        auth_text = get("FRONTDOOR_AUTH").lower() or "on"
        if auth_text not in {"on", "off"}:
            raise SettingsError("FRONTDOOR_AUTH must be 'on' or 'off'")
        if auth_text == "off" and environment is Environment.PRODUCTION:
            raise SettingsError("FRONTDOOR_AUTH=off is never allowed with FRONTDOOR_ENV=production")
        if auth_text == "off" and app_id:
            raise SettingsError("FRONTDOOR_AUTH=off contradicts MicrosoftAppId: unset one of them")

        host = get("FRONTDOOR_HOST", LOOPBACK)

        port_text = get("FRONTDOOR_PORT", "3978")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SettingsError(f"FRONTDOOR_PORT must be a port number, got {port_text!r}")

        database_url = get("DATABASE_URL", DEFAULT_DATABASE_URL)
        if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://", "postgresql://")):
            raise SettingsError("DATABASE_URL must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL")
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+asyncpg://" + database_url.removeprefix("postgresql://")

        policy_text = get("FRONTDOOR_POLICY")
        policy_path = Path(policy_text) if policy_text else None
        try:
            policy = load_policy(policy_path)
        except PolicyError as error:
            raise SettingsError(f"FRONTDOOR_POLICY: {error}") from None

        log_level = get("FRONTDOOR_LOG_LEVEL", "INFO").upper()
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise SettingsError("FRONTDOOR_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")

        scheduler_text = get("FRONTDOOR_SCHEDULER", "on").lower()
        if scheduler_text not in {"on", "off"}:
            raise SettingsError("FRONTDOOR_SCHEDULER must be 'on' or 'off'")

        tick_seconds = _tick_seconds(get("FRONTDOOR_TICK_SECONDS"), policy)
        smtp = _smtp(get, source.get("FRONTDOOR_SMTP_PASSWORD", ""))
        clock_start = _clock_start(get("FRONTDOOR_CLOCK_START"))
        if clock_start is not None and environment is Environment.PRODUCTION:
            raise SettingsError(
                "FRONTDOOR_CLOCK_START is for tests and rehearsals; FRONTDOOR_ENV=production refuses to "
                "start with it"
            )

        mailbox = None
        imap_url = get("FRONTDOOR_IMAP_URL")
        if imap_url:
            try:
                mailbox = parse_imap_url(
                    imap_url,
                    source.get("FRONTDOOR_IMAP_PASSWORD", ""),
                    loopback_only_plain=environment is Environment.PRODUCTION,
                )
            except ValueError as error:
                raise SettingsError(f"FRONTDOOR_IMAP_URL {error}") from None

        settings = cls(
            environment=environment,
            host=host,
            port=int(port_text),
            database_url=database_url,
            app_id=app_id,
            app_password=app_password,
            app_type=app_type,
            app_tenant_id=app_tenant_id,
            tenants=_id_list(get("FRONTDOOR_TENANTS")),
            admins=_id_list(get("FRONTDOOR_ADMINS")),
            policy_path=policy_path,
            policy=policy,
            log_level=log_level,
            scheduler_enabled=scheduler_text == "on",
            tick_seconds=tick_seconds,
            smtp=smtp,
            auth_off=auth_text == "off",
            clock_start=clock_start,
            mailbox=mailbox,
            demo=demo_text == "1",
            demo_config=Path(get("FRONTDOOR_DEMO_CONFIG", ".m365agentsplayground.yml")),
            demo_service_url=get("FRONTDOOR_DEMO_SERVICE_URL", "http://127.0.0.1:56150/_connector"),
        )
        settings.check(serving=serving)
        return settings


#: The shortest and longest tick: a tenth of a second (tests) to an hour.
MIN_TICK_SECONDS, MAX_TICK_SECONDS = 0.1, 3600.0


def _tick_seconds(text: str, policy: Policy) -> float:
    if not text:
        return float(policy.alerts.tick_seconds)
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not MIN_TICK_SECONDS <= seconds <= MAX_TICK_SECONDS:  # also refuses nan and inf
        raise SettingsError(
            f"FRONTDOOR_TICK_SECONDS must be a number of seconds from {MIN_TICK_SECONDS:g} to "
            f"{MAX_TICK_SECONDS:g} (e.g. 30 or 0.5), got {text!r}"
        )
    return seconds


def _smtp(get: Callable[[str, str], str], password: str) -> SmtpSettings | None:
    host = get("FRONTDOOR_SMTP_HOST", "")
    if not host:
        return None
    port_text = get("FRONTDOOR_SMTP_PORT", "587")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SettingsError(f"FRONTDOOR_SMTP_PORT must be a port number, got {port_text!r}")
    starttls = get("FRONTDOOR_SMTP_STARTTLS", "on").lower()
    if starttls not in {"on", "off"}:
        raise SettingsError("FRONTDOOR_SMTP_STARTTLS must be 'on' or 'off'")
    username = get("FRONTDOOR_SMTP_USERNAME", "")
    if bool(username) != bool(password):
        raise SettingsError(
            "FRONTDOOR_SMTP_USERNAME and FRONTDOOR_SMTP_PASSWORD are set together or not at all"
        )
    sender, duty_manager = get("FRONTDOOR_SMTP_SENDER", ""), get("FRONTDOOR_DUTY_MANAGER_EMAIL", "")
    for name, value in (("FRONTDOOR_SMTP_SENDER", sender), ("FRONTDOOR_DUTY_MANAGER_EMAIL", duty_manager)):
        local, at, domain = value.partition("@")
        if not (local and at and "." in domain) or any(c.isspace() or c in ",;<>" for c in value):
            raise SettingsError(f"{name} must be an e-mail address when FRONTDOOR_SMTP_HOST is set")
    return SmtpSettings(
        host=host,
        port=int(port_text),
        starttls=starttls == "on",
        username=username,
        password=password,
        sender=sender,
        duty_manager=duty_manager,
    )


def masked_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        port = ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def _clock_start(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise SettingsError(
            "FRONTDOOR_CLOCK_START must be an ISO 8601 instant with its offset "
            f"(e.g. 2026-12-07T08:35:00+00:00), got {text!r}"
        )
    return moment


def _id_list(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
