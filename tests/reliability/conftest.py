"""The reliability tests print what they measured in pytest's terminal summary."""

from __future__ import annotations

import pytest

from tests.reliability.figures import FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.write_sep("-", "reliability figures")
    for line in FIGURES:
        terminalreporter.write_line(line)
