"""Replies the features share: what a person is told when they may not do something."""

from __future__ import annotations

from frontdoor.roles import PERMISSIONS, ROLE_TITLES, Permission, Role


def refusal(permission: Permission) -> str:
    """A polite refusal naming who may do it."""
    holders: list[Role] = [role for role in Role if permission in PERMISSIONS[role]]
    names = [ROLE_TITLES[role] for role in holders]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"Sorry, only {listed} can do that. If you think you should be able to, ask an administrator."
