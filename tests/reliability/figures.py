"""Figures the reliability tests measured, shown at the end of every pytest run that ran them
(``conftest.pytest_terminal_summary``), pass or fail, with or without ``-s``."""

from __future__ import annotations

FIGURES: list[str] = []


def report(test: str, **figures: object) -> str:
    """Record one line of figures for ``test``; returns the line (for assertion messages)."""
    parts = [f"{name.replace('_', ' ')}={_show(value)}" for name, value in figures.items()]
    line = f"{test}: " + ", ".join(parts)
    FIGURES.append(line)
    return line


def _show(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
