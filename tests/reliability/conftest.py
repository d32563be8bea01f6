"""The reliability tests' clock, and the figures they print in pytest's terminal summary.

Every reliability test lives at a fixed instant, whatever the real date and time: the test, the
loopback Teams channel and each ``frontdoor-bot serve`` process (``FRONTDOOR_CLOCK_START``) share
one clock that starts at ``START`` and runs at real speed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from frontdoor.systemclock import RunningClock
from tests.harness.fixtures import MakeTeamsChannel
from tests.harness.teams import TeamsChannel
from tests.reliability.figures import FIGURES

#: Wednesday 11 March 2026, 11:00 in London (GMT): a working day, hours from the end-of-day
#: handover, not a MARAC day, weeks from a clock change.
START = datetime(2026, 3, 11, 11, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> RunningClock:
    return RunningClock(START)


@pytest.fixture
async def teams_channel(make_teams_channel: MakeTeamsChannel, clock: RunningClock) -> TeamsChannel:
    """The loopback channel, stamping what it receives by the test's clock."""
    return await make_teams_channel(clock=clock.now)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.write_sep("-", "reliability figures")
    for line in FIGURES:
        terminalreporter.write_line(line)
