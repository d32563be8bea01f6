"""Replies the features share: what a person is told when they may not do something."""

from __future__ import annotations

from frontdoor.roles import PERMISSIONS, ROLE_TITLES, Permission, Role

#: Said by ``help`` while the bot runs in demo mode (``bot.demo``).
DEMO_NOTICE = (
    "Demo mode is on: the people, channels and rota are fictional demo data. "
    "To try another role, start the Playground as that person: `make playground ROLE=<role>`."
)


def refusal(permission: Permission, unlisted_id: str | None = None) -> str:
    """A polite refusal naming who may do it. ``unlisted_id``: the Azure AD object id of a person
    who holds no role at all, told to them with the line an administrator runs to grant one."""
    holders: list[Role] = [role for role in Role if permission in PERMISSIONS[role]]
    names = [ROLE_TITLES[role] for role in holders]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    text = f"Sorry, only {listed} can do that. If you think you should be able to, ask an administrator."
    if unlisted_id is not None:
        # a partner is granted with an agency too, so the line names the first role that needs none
        role = next((r for r in holders if r is not Role.PARTNER), holders[0])
        text += " " + who_you_are(unlisted_id, role.value)
    return text


def grant_line(aad_object_id: str, role: str = "<role>") -> str:
    """The command an administrator runs to give this person a role."""
    return f"frontdoor-bot roles grant {aad_object_id} {role}"


def who_you_are(aad_object_id: str, role: str = "<role>") -> str:
    """Tells a person without a role who they are to the bot, and what to give an administrator."""
    return (
        f"You have no role yet. Your Azure AD object id is {aad_object_id}; "
        f"give an administrator this line: `{grant_line(aad_object_id, role)}`"
    )
