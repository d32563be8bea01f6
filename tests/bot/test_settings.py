"""Settings.from_env: defaults, fail-fast errors naming the variable, and the authentication rules."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.settings import DEFAULT_DATABASE_URL, DEVELOPMENT, AppType, Environment, Settings, SettingsError
from frontdoor.systemclock import RunningClock, SystemClock
from tests.bot.settings_values import PRODUCTION


def test_defaults_are_the_embedded_development_setup() -> None:
    settings = Settings.from_env(DEVELOPMENT)
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.host == "127.0.0.1"
    assert settings.port == 3978
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert not settings.authentication_enabled
    assert settings.app_type is AppType.SINGLE_TENANT
    assert settings.tenants == frozenset()
    assert settings.policy.caseload.cap == 10


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"FRONTDOOR_ENV": "production"}, "MicrosoftAppId"),
        (
            {"FRONTDOOR_ENV": "production", "MicrosoftAppId": "app", "MicrosoftAppTenantId": "t"},
            "MicrosoftAppPassword",
        ),
        ({"FRONTDOOR_ENV": "staging"}, "FRONTDOOR_ENV"),
        ({"FRONTDOOR_HOST": "0.0.0.0"}, "FRONTDOOR_HOST"),
        ({**DEVELOPMENT, "FRONTDOOR_HOST": "0.0.0.0"}, "FRONTDOOR_HOST"),
        ({**DEVELOPMENT, "FRONTDOOR_HOST": "10.1.2.3"}, "FRONTDOOR_HOST"),
        ({}, "FRONTDOOR_AUTH=off"),
        ({"FRONTDOOR_AUTH": "maybe"}, "FRONTDOOR_AUTH"),
        ({**PRODUCTION, "FRONTDOOR_TENANTS": ""}, "FRONTDOOR_TENANTS"),
        ({**PRODUCTION, "FRONTDOOR_AUTH": "off"}, "FRONTDOOR_AUTH"),
        ({**PRODUCTION, "FRONTDOOR_ENV": "development", "FRONTDOOR_AUTH": "off"}, "FRONTDOOR_AUTH"),
        ({"FRONTDOOR_PORT": "http"}, "FRONTDOOR_PORT"),
        ({"FRONTDOOR_PORT": "70000"}, "FRONTDOOR_PORT"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"MicrosoftAppType": "Other"}, "MicrosoftAppType"),
        ({"MicrosoftAppId": "app", "MicrosoftAppPassword": "s"}, "MicrosoftAppTenantId"),
        ({"FRONTDOOR_LOG_LEVEL": "LOUD"}, "FRONTDOOR_LOG_LEVEL"),
        ({"FRONTDOOR_SCHEDULER": "maybe"}, "FRONTDOOR_SCHEDULER"),
        ({"FRONTDOOR_TICK_SECONDS": "often"}, "FRONTDOOR_TICK_SECONDS"),
        ({"FRONTDOOR_TICK_SECONDS": "0"}, "FRONTDOOR_TICK_SECONDS"),
        ({"FRONTDOOR_TICK_SECONDS": "-5"}, "FRONTDOOR_TICK_SECONDS"),
        ({"FRONTDOOR_TICK_SECONDS": "nan"}, "FRONTDOOR_TICK_SECONDS"),
        ({"FRONTDOOR_TICK_SECONDS": "inf"}, "FRONTDOOR_TICK_SECONDS"),
        ({"FRONTDOOR_TICK_SECONDS": "86400"}, "FRONTDOOR_TICK_SECONDS"),
        ({"FRONTDOOR_CLOCK_START": "monday"}, "FRONTDOOR_CLOCK_START"),
        ({"FRONTDOOR_CLOCK_START": "2026-12-07T08:35:00"}, "FRONTDOOR_CLOCK_START"),
        (
            {
                "FRONTDOOR_ENV": "production",
                "MicrosoftAppId": "app",
                "MicrosoftAppPassword": "s",
                "MicrosoftAppTenantId": "t",
                "FRONTDOOR_CLOCK_START": "2026-12-07T08:35:00+00:00",
            },
            "FRONTDOOR_CLOCK_START",
        ),
    ],
)
def test_bad_settings_stop_start_up_naming_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env)


@pytest.mark.parametrize(("text", "seconds"), [(None, 30.0), ("30", 30.0), ("0.2", 0.2), (" 5 ", 5.0)])
def test_the_tick_defaults_to_the_policy_and_takes_fractions_of_a_second(
    text: str | None, seconds: float
) -> None:
    env = dict(DEVELOPMENT) if text is None else {**DEVELOPMENT, "FRONTDOOR_TICK_SECONDS": text}
    assert Settings.from_env(env).tick_seconds == seconds


def test_the_clock_setting_starts_a_running_clock_at_that_instant() -> None:
    assert Settings.from_env(DEVELOPMENT).clock_start is None
    settings = Settings.from_env({**DEVELOPMENT, "FRONTDOOR_CLOCK_START": "2026-12-07T08:35:00+00:00"})
    assert settings.clock_start == datetime(2026, 12, 7, 8, 35, tzinfo=UTC)
    assert isinstance(Settings.from_env(DEVELOPMENT).clock(), SystemClock)
    ticks = iter([100.0, 100.0, 161.5])
    clock = RunningClock(settings.clock_start, elapsed=lambda: next(ticks))
    assert clock.now() == datetime(2026, 12, 7, 8, 35, tzinfo=UTC)
    assert clock.now() == datetime(2026, 12, 7, 8, 36, 1, 500000, tzinfo=UTC)
    assert isinstance(settings.clock(), RunningClock)


def test_without_an_app_id_only_loopback_addresses_are_accepted() -> None:
    assert Settings.from_env({**DEVELOPMENT, "FRONTDOOR_HOST": "localhost"}).host == "localhost"
    assert Settings.from_env({**DEVELOPMENT, "FRONTDOOR_HOST": "::1"}).host == "::1"


def test_with_credentials_production_starts_and_may_listen_widely() -> None:
    settings = Settings.from_env(
        {
            "FRONTDOOR_ENV": "production",
            "MicrosoftAppId": "00000000-0000-0000-0000-000000000001",
            "MicrosoftAppPassword": "not-a-real-secret",
            "MicrosoftAppTenantId": "00000000-0000-0000-0000-0000000000aa",
            "FRONTDOOR_HOST": "0.0.0.0",
            "FRONTDOOR_TENANTS": " tenant-a, tenant-b ,",
            "FRONTDOOR_ADMINS": "admin-1",
            "DATABASE_URL": "postgresql://u:p@db/frontdoor",
        }
    )
    assert settings.authentication_enabled
    assert settings.tenants == frozenset({"tenant-a", "tenant-b"})
    assert settings.admins == frozenset({"admin-1"})
    assert settings.database_url == "postgresql+asyncpg://u:p@db/frontdoor"
    assert "not-a-real-secret" not in repr(settings)


def test_a_bad_policy_file_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[caseload]\ncap = -3\n")
    with pytest.raises(SettingsError, match="FRONTDOOR_POLICY") as error:
        Settings.from_env({**DEVELOPMENT, "FRONTDOOR_POLICY": str(policy)})
    assert "cap" in str(error.value)


def test_the_repr_shows_no_secret() -> None:
    settings = Settings.from_env(
        {**PRODUCTION, "DATABASE_URL": "postgresql://frontdoor:db-Secret-9@db.example:5432/frontdoor"}
    )
    shown = repr(settings)
    assert "db-Secret-9" not in shown and "not-a-real-secret" not in shown
    assert "postgresql+asyncpg://frontdoor:***@db.example:5432/frontdoor" in shown
    assert "tenant-a" in shown  # the rest is still there to debug with
    # the URL itself is intact for the store
    assert settings.database_url.endswith("frontdoor:db-Secret-9@db.example:5432/frontdoor")


def test_without_an_app_id_authentication_is_off_only_when_asked_for_and_on_loopback() -> None:
    settings = Settings.from_env({**DEVELOPMENT, "FRONTDOOR_HOST": "127.0.0.1"})
    assert settings.auth_off and not settings.authentication_enabled
    # a missing app id alone never turns authentication off
    with pytest.raises(SettingsError, match="FRONTDOOR_AUTH=off"):
        Settings.from_env({"FRONTDOOR_HOST": "127.0.0.1"})
    # whatever FRONTDOOR_ENV says, a wide bind without credentials is refused
    for env in ({}, DEVELOPMENT, {"FRONTDOOR_ENV": "development", "FRONTDOOR_AUTH": "off"}):
        with pytest.raises(SettingsError, match="not a loopback address"):
            Settings.from_env({**env, "FRONTDOOR_HOST": "0.0.0.0"})


def test_the_command_lines_other_commands_need_no_credentials() -> None:
    settings = Settings.from_env({"DATABASE_URL": "sqlite+aiosqlite:///var/x.db"}, serving=False)
    assert settings.database_url == "sqlite+aiosqlite:///var/x.db"
    with pytest.raises(SettingsError, match="FRONTDOOR_AUTH=off"):
        settings.check()
