"""Policy: packaged defaults, a service's overrides, and errors that name the bad key."""

from __future__ import annotations

from datetime import date, time, timedelta
from importlib.resources import files
from operator import attrgetter
from pathlib import Path

import pytest

from frontdoor.errors import DomainError
from frontdoor.policy import (
    PolicyError,
    calendar_from,
    default_policy,
    load_policy,
    parse_policy,
)
from frontdoor.script import DEFAULT_LOCAL_SYSTEMS


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("timescales.screening_working_days", 1),
        ("timescales.cp_decision_hours", 2),
        ("timescales.completion_24h_hours", 24),
        ("timescales.completion_48h_hours", 48),
        ("timescales.rereferral_recommendation_hours", 48),
        ("timescales.parent_letter_working_days", 3),
        ("office_hours.opening", time(8, 30)),
        ("office_hours.closing", time(17, 0)),
        ("caseload.cap", 10),
        ("alerts.due_soon_fraction", 0.25),
        ("alerts.due_soon_min_lead", timedelta(minutes=15)),
        ("alerts.tick", timedelta(seconds=30)),
        ("alerts.cp_breach_repeat", timedelta(minutes=30)),
        ("alerts.cp_breach_repeats_before_escalation", 2),
        ("rag.red_fraction", 0.10),
        ("rag.amber_fraction", 0.25),
        ("open_contacts.band_low", 50),
        ("open_contacts.band_high", 85),
        ("calendar.closure_dates", frozenset()),
        ("handover.at", time(16, 30)),
        ("marac.days", frozenset({1, 3})),  # Tuesday and Thursday
        ("marac.at", time(13, 0)),
        ("retention.referrals_not_accepted_months", 6),
        ("retention.consultations_months", 6),
        ("windows.rereferral_months", 3),
        ("windows.repeat_contact_months", 12),
        ("limits.max_free_text_chars", 4000),
        ("history.local_systems", DEFAULT_LOCAL_SYSTEMS),
    ],
)
def test_defaults_are_the_spec(key: str, expected: object) -> None:
    assert attrgetter(key)(load_policy(None)) == expected


def test_the_defaults_ship_inside_the_package() -> None:
    assert files("frontdoor").joinpath("policy.toml").is_file()
    assert load_policy() == default_policy()


def test_a_service_file_overrides_only_the_keys_it_sets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [timescales]
        screening_working_days = 2

        [caseload]
        cap = 12

        [office_hours]
        opening = "09:00"
        """,
    )
    policy = load_policy(path)
    defaults = default_policy()
    assert policy.timescales.screening_working_days == 2
    assert policy.caseload.cap == 12
    assert policy.office_hours.opening == time(9, 0)
    assert policy.office_hours.closing == time(17, 0)
    assert policy.timescales.cp_decision_hours == defaults.timescales.cp_decision_hours
    assert policy.alerts == defaults.alerts


def test_toml_native_dates_and_times_and_weekday_abbreviations() -> None:
    policy = parse_policy(
        """
        calendar.closure_dates = [2026-12-24, "2026-12-31"]
        handover.at = 16:00:00
        marac.days = ["Mon", "WEDNESDAY", "fri"]
        """
    )
    assert policy.calendar.closure_dates == {date(2026, 12, 24), date(2026, 12, 31)}
    assert policy.handover.at == time(16, 0)
    assert policy.marac.days == {0, 2, 4}


def test_a_service_names_its_own_local_systems() -> None:
    policy = parse_policy('[history]\nlocal_systems = [["lcs", "Liquid Logic  (LCS)"], ["ehm", "EHM"]]')
    assert policy.history.local_systems == (("lcs", "Liquid Logic (LCS)"), ("ehm", "EHM"))


def test_calendar_from_adds_closures_to_the_holidays_given() -> None:
    policy = parse_policy(
        """
        [calendar]
        closure_dates = ["2026-12-24"]
        [office_hours]
        opening = "09:00"
        closing = "17:30"
        """
    )
    calendar = calendar_from(policy, [date(2026, 12, 25), date(2026, 12, 28)])
    assert calendar.non_working_dates == {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 28)}
    assert (calendar.opening, calendar.closing) == (time(9, 0), time(17, 30))
    assert not calendar.is_working_day(date(2026, 12, 24))
    assert calendar.is_working_day(date(2026, 12, 23))


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("[timescales]\nscreening_working_days = 0", "timescales.screening_working_days", "positive integer"),
        ("timescales.screening_working_days = -1", "timescales.screening_working_days", "positive integer"),
        ('[timescales]\ncp_decision_hours = "two"', "timescales.cp_decision_hours", "positive integer"),
        ("[timescales]\ncp_decision_hours = 1.5", "timescales.cp_decision_hours", "positive integer"),
        ("[caseload]\ncap = true", "caseload.cap", "positive integer"),
        ("[caseload]\ncap = -3", "caseload.cap", "positive integer"),
        ("[timescales]\nscreening_days = 1", "timescales.screening_days", "unknown key"),
        ("[timezones]\nlocal = 'Europe/Paris'", "timezones", "unknown policy table"),
        ("timescales = 3", "timescales", "expected a table"),
        ('[office_hours]\nopening = "8.30"', "office_hours.opening", "24-hour time"),
        ('[office_hours]\nclosing = "25:00"', "office_hours.closing", "24-hour time"),
        ("[office_hours]\nclosing = 1700", "office_hours.closing", "24-hour time"),
        ('[office_hours]\nopening = "18:00"', "office_hours.closing", "must be after office_hours.opening"),
        ("[rag]\namber_fraction = 0.05", "rag.amber_fraction", "must not be below rag.red_fraction"),
        ("[history]\nlocal_systems = []", "history.local_systems", "[key, title] pairs"),
        ('[history]\nlocal_systems = ["police"]', "history.local_systems[0]", "[key, title] pairs"),
        ('[history]\nlocal_systems = [["Police!", "Police"]]', "history.local_systems[0]", "a key of a-z"),
        (
            '[history]\nlocal_systems = [["lcs", "LCS"], ["lcs", "Again"]]',
            "history.local_systems[1]",
            "listed twice",
        ),
        ("[rag]\nred_fraction = 1.5", "rag.red_fraction", "from 0 to 1"),
        ('[rag]\nred_fraction = "10%"', "rag.red_fraction", "from 0 to 1"),
        ("[alerts]\ndue_soon_min_lead_minutes = -15", "alerts.due_soon_min_lead_minutes", "0 or more"),
        ("[alerts]\ndue_soon_fraction = -0.25", "alerts.due_soon_fraction", "from 0 to 1"),
        ("[alerts]\ntick_seconds = 0", "alerts.tick_seconds", "positive integer"),
        ("[open_contacts]\nband_low = 90", "open_contacts.band_high", "must not be below"),
        ('[calendar]\nclosure_dates = "2026-12-24"', "calendar.closure_dates", "list of dates"),
        ('[calendar]\nclosure_dates = ["2026-12-24", "2026-13-01"]', "calendar.closure_dates[1]", "ISO date"),
        ("[calendar]\nclosure_dates = [2026-12-24T09:00:00]", "calendar.closure_dates[0]", "without a time"),
        ('[marac]\ndays = ["tuesday", "funday"]', "marac.days[1]", "weekday name"),
        ('[marac]\ndays = "tuesday"', "marac.days", "list of weekday names"),
        ("[handover]\nat = 16", "handover.at", "24-hour time"),
        ("[retention]\nconsultations_months = 0", "retention.consultations_months", "positive integer"),
        ("[windows]\nrereferral_months = -3", "windows.rereferral_months", "positive integer"),
        ("[limits]\nmax_free_text_chars = 4000.5", "limits.max_free_text_chars", "positive integer"),
    ],
)
def test_a_bad_file_names_the_key(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")
    assert problem in str(caught.value)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    "text",
    ["[timescales\nscreening_working_days = 1", "caseload.cap = ", "cap = 10\ncap = 11"],
)
def test_a_file_that_is_not_toml_is_refused(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError, match="not valid TOML") as caught:
        load_policy(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(PolicyError, match="cannot read the policy file") as caught:
        load_policy(path)
    assert str(path) in str(caught.value)


def test_the_example_message_of_the_brief() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy("timescales.screening_working_days = 0", source=None)
    assert str(caught.value) == "timescales.screening_working_days: expected a positive integer, got 0"


def test_policy_error_is_a_domain_value_error() -> None:
    assert issubclass(PolicyError, DomainError)
    assert issubclass(PolicyError, ValueError)
