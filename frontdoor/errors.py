"""Errors the domain core raises when a rule is broken.

Adapters catch ``DomainError`` to turn a broken rule into a clear reply rather than a crash; the
subclasses say which rule, so a reply can name it.
"""

from __future__ import annotations


class DomainError(Exception):
    """A domain rule was broken. The message is safe to show and to log: no personal data."""


class IllegalTransitionError(DomainError):
    """A contact was asked to move to a state its lifecycle does not allow from where it is."""

    def __init__(self, from_state: str, to_state: str, action: str | None = None) -> None:
        self.from_state = from_state
        self.to_state = to_state
        self.action = action
        message = f"a contact cannot move from {from_state} to {to_state}"
        if action is not None:
            message += f" by {action}"
        super().__init__(message)


class RationaleRequiredError(DomainError):
    """A decision or outcome was recorded without saying why."""

    def __init__(self, action: str) -> None:
        self.action = action
        super().__init__(f"{action} needs a rationale")


class InvalidReferenceError(DomainError, ValueError):
    """Text is not a contact (CT-YY-NNNNNN) or consultation (PC-YY-NNNNN) reference.

    The message never repeats the text: it may be anything a user typed, names included.
    """


class PolicyError(DomainError, ValueError):
    """A policy file is unreadable or invalid; the message starts with the bad key's path.

    ``key`` is empty when no key is to blame (the file cannot be read or is not TOML).
    """

    def __init__(self, key: str, problem: str, source: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.source = source
        message = f"{key}: {problem}" if key else problem
        if source is not None:
            message += f" (in {source})"
        super().__init__(message)
