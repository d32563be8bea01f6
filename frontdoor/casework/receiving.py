"""Who is told of an accepted contact when it is signed off (SPEC §3, §8): the receiving team
manager named on the outcome, checked again at sign-off (they were checked when the outcome was
recorded, perhaps days before): someone who has lost the role is sent no part of the contact, and
the signer is told instead."""

from __future__ import annotations

from dataclasses import dataclass

from frontdoor.contact import Contact
from frontdoor.outcomes import current_outcome
from frontdoor.roles import Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork

__all__ = ["Receivers", "receivers"]


@dataclass(frozen=True, slots=True)
class Receivers:
    """Who is told of an accepted contact when it is signed off (``receivers``)."""

    reference: str
    #: the team managers to send the contact to (each still a team manager who may see contacts)
    told: tuple[str, ...]
    #: the receiving team manager named on the outcome ("" on an outcome from before it was required)
    named: str
    #: their name as the directory has it
    named_name: str = ""
    #: why nobody is told (``not_permitted``: the named manager lost the role; ``none_named``: no
    #: manager named and no team manager at all); "" when somebody is
    reason: str = ""

    def not_told(self, *, signed: bool = True) -> str:
        """For the signer: who is not told and why, once ``signed`` (else: who will not be); ""
        when nobody is left out."""
        not_told = "was not told" if signed else "will not be told"
        if self.reason == "not_permitted":
            who = self.named_name or "The receiving team manager named on the outcome"
            return (
                f"{who} {not_told} of {self.reference}: they are no longer a team manager, so they may not "
                "see it. Please tell the receiving team's manager yourself."
            )
        if self.reason:
            return (
                f"Nobody {'was told' if signed else 'will be told'} of {self.reference}: no receiving team "
                "manager is named on the outcome and no team manager is in the role directory. Please tell "
                "the receiving team yourself."
            )
        return ""

    def note(self) -> str:
        """The sign-off card's line saying who signing off tells."""
        if self.reason:
            return self.not_told(signed=False)
        if self.named:
            return (
                f"Signing off tells {self.named_name or 'the receiving team manager'}, the receiving team "
                "manager named on the outcome; they may challenge the threshold until the end of today."
            )
        return "No receiving team manager is named on this outcome, so signing off tells every team manager."


async def receivers(uow: UnitOfWork, contact: Contact) -> Receivers:
    """Who hears of ``contact``'s accepted outcome when it is signed off (SPEC §3): the receiving
    team manager named on it, while they still hold that role (they were checked when the outcome
    was recorded, perhaps days before). Someone who has lost it is never sent any part of the
    contact; the signer is told instead. An outcome from before the manager had to be named goes
    to every team manager rather than to nobody. Reads within ``uow``."""
    recorded = current_outcome(contact)
    named = recorded.outcome.receiving_manager_id.strip() if recorded is not None else ""
    reference = contact.reference or ""
    managers = {e.aad_object_id for e in await uow.roles.holders(Role.TEAM_MANAGER)}
    names = {e.aad_object_id: e.display_name for e in await uow.roles.entries()}
    wanted = [named] if named else sorted(managers)
    allowed = [
        person
        for person in wanted
        if person in managers and may(await uow.roles.roles_of(person), Permission.VIEW_CONTACTS)
    ]
    if not allowed:
        reason = "not_permitted" if named else "none_named"
        return Receivers(reference, (), named, names.get(named, "") if named else "", reason)
    return Receivers(reference, tuple(allowed), named, names.get(named, "") if named else "")
