"""Settings: the only reader of the environment. Fails fast with a message naming the variable."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from frontdoor.mail import MailboxAddress, parse_imap_url
from frontdoor.policy import Policy, PolicyError, load_policy

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/frontdoor.db"
LOOPBACK = "127.0.0.1"


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class AppType(StrEnum):
    SINGLE_TENANT = "SingleTenant"
    MULTI_TENANT = "MultiTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


@dataclass(frozen=True, slots=True)
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
    #: the front door's mailbox (``FRONTDOOR_IMAP_URL``, ``FRONTDOOR_IMAP_PASSWORD``); None: not watched
    mailbox: MailboxAddress | None = None

    @property
    def authentication_enabled(self) -> bool:
        return bool(self.app_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check every setting. Raises ``SettingsError`` naming the bad variable."""
        source = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return source.get(name, default).strip()

        try:
            environment = Environment(get("FRONTDOOR_ENV", "development").lower())
        except ValueError:
            raise SettingsError("FRONTDOOR_ENV must be 'development' or 'production'") from None

        app_id = get("MicrosoftAppId")
        app_password = source.get("MicrosoftAppPassword", "")
        try:
            app_type = AppType(get("MicrosoftAppType", AppType.SINGLE_TENANT.value))
        except ValueError:
            valid = ", ".join(t.value for t in AppType)
            raise SettingsError(f"MicrosoftAppType must be one of {valid}") from None
        app_tenant_id = get("MicrosoftAppTenantId")

        if environment is Environment.PRODUCTION:
            if not app_id:
                raise SettingsError("FRONTDOOR_ENV=production needs MicrosoftAppId; refusing to start")
            if not app_password and app_type is not AppType.USER_ASSIGNED_MSI:
                raise SettingsError("FRONTDOOR_ENV=production needs MicrosoftAppPassword; refusing to start")
        if app_id and app_type is AppType.SINGLE_TENANT and not app_tenant_id:
            raise SettingsError("MicrosoftAppType=SingleTenant needs MicrosoftAppTenantId")

        host = get("FRONTDOOR_HOST", LOOPBACK)
        if not app_id and not _is_loopback(host):
            raise SettingsError(
                f"FRONTDOOR_HOST={host} is not a loopback address; without MicrosoftAppId authentication "
                "is off, so the bot only listens on 127.0.0.1"
            )

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

        return cls(
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
            mailbox=mailbox,
        )


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


def _id_list(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
