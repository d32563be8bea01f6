"""What the script's handlers share: reading a card's reference to its draft and its answers, the
officer's drafts, and the ``SectionForm`` a section card is drawn from (SPEC §5).

A card's data names the draft, its version and the section; the person is always the activity's
sender, never anything the card says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext

from bot.cards.intake import CONTACT_KEY, SECTION_KEY, SectionForm, set_aside_card
from bot.cards.keys import ACTION_KEY, VERSION_KEY
from bot.dialogs.cardmessages import update_card
from bot.routing import Actor, CardAction
from frontdoor.calendar import LONDON
from frontdoor.contact import Contact, ContactState, ImmediateRisk
from frontdoor.intake import received_from_mail
from frontdoor.policy import Policy
from frontdoor.ports import Clock
from frontdoor.roles import Role
from frontdoor.script import (
    MAX_CHILDREN,
    MAX_PARENTS,
    Choice,
    FieldKind,
    Section,
    fields_for,
    section_of,
)
from frontdoor.unit_of_work import Store
from frontdoor.validation import FieldError
from frontdoor.views import section_values

#: Who can be picked as a worker on the history card: staff, and partner professionals (an early
#: help worker is one).
STAFF = (Role.SOCIAL_WORKER, Role.CONSULTANT, Role.TEAM_MANAGER, Role.DUTY_MANAGER, Role.PROFESSIONAL)
_CONTACT_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_GROUP_KEY = re.compile(r"(?P<group>child|parent)_(?P<index>\d{1,3})_[a-z]+")
_CARD_KEYS = frozenset({ACTION_KEY, CONTACT_KEY, VERSION_KEY, SECTION_KEY})

NO_DRAFT = "You have no draft contact. Say **new contact** to start one."
UNREADABLE = "That card could not be read, so nothing was changed. Say **resume** to carry on with a draft."


@dataclass(frozen=True, slots=True)
class CardRef:
    """What a section card's button says about the draft it belongs to."""

    contact_id: str
    version: int
    section: Section


def contact_id_of(data: Mapping[str, Any]) -> str | None:
    value = data.get(CONTACT_KEY)
    return value if isinstance(value, str) and _CONTACT_ID.fullmatch(value) else None


def card_ref(data: Mapping[str, Any]) -> CardRef | None:
    contact_id = contact_id_of(data)
    version = data.get(VERSION_KEY)
    if isinstance(version, str) and version.isascii() and version.isdigit() and len(version) < 10:
        version = int(version)
    if contact_id is None or isinstance(version, bool) or not isinstance(version, int) or version < 0:
        return None
    text = data.get(SECTION_KEY)
    try:
        section = Section(text) if isinstance(text, str) else None
    except ValueError:
        section = None
    if section is None:
        return None
    return CardRef(contact_id, version, section)


def answers_of(data: Mapping[str, Any]) -> dict[str, object]:
    """The card's inputs: everything in its data but the button's own keys."""
    return {key: value for key, value in data.items() if isinstance(key, str) and key not in _CARD_KEYS}


def shown(answers: Mapping[str, object]) -> dict[str, str]:
    """Answers as input values, to show them again as they were entered."""
    values: dict[str, str] = {}
    for key, value in answers.items():
        if isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            values[key] = str(value)
    return values


def blocks(answers: Mapping[str, object], group: str, most: int) -> int:
    """How many child (or parent) blocks the card that sent ``answers`` had."""
    found = [
        int(match["index"])
        for key in answers
        if (match := _GROUP_KEY.fullmatch(key)) is not None and match["group"] == group
    ]
    return min(max(found, default=0) + 1, most)


async def set_aside(turn_context: TurnContext, action: CardAction, title: str, note: str) -> None:
    """Replace an answered card with a line saying so, so it is not pressed again by mistake (the
    card stays as it was if that fails; the draft's version still guards it)."""
    await update_card(turn_context, action.card_activity_id, set_aside_card(title, note))


class ScriptForms:
    """The officer's drafts and the forms their section cards show."""

    def __init__(self, store: Store, clock: Clock, policy: Policy, local_systems: Sequence[Choice]) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        self._local_systems = tuple(local_systems)

    async def drafts(self, user_id: str) -> list[Contact]:
        async with self._store.unit_of_work() as uow:
            return await uow.contacts.drafts_of(user_id)

    async def own_draft(self, contact_id: str, actor: Actor) -> Contact | None:
        async with self._store.unit_of_work() as uow:
            contact = await uow.contacts.get(contact_id)
        if (
            contact is None
            or contact.created_by != actor.aad_object_id
            or (contact.state is not ContactState.DRAFT and not contact.completing)
        ):
            return None
        return contact

    async def people(self) -> tuple[tuple[Choice, ...], dict[str, str]]:
        async with self._store.unit_of_work() as uow:
            entries = await uow.roles.entries()
        names = {entry.aad_object_id: entry.display_name for entry in entries}
        staff = sorted(
            (entry for entry in entries if entry.roles & frozenset(STAFF)),
            key=lambda entry: ((entry.display_name or entry.aad_object_id).casefold(), entry.aad_object_id),
        )
        return tuple(
            (entry.aad_object_id, entry.display_name or entry.aad_object_id) for entry in staff
        ), names

    async def form(
        self,
        contact: Contact,
        *,
        notice: str = "",
        errors: Sequence[FieldError] = (),
        children: int | None = None,
        parents: int | None = None,
    ) -> SectionForm:
        """The card of the section ``contact`` is on, showing its saved answers."""
        section = section_of(contact)
        people, names = await self.people() if section in (Section.HISTORY, Section.SUMMARY) else ((), {})
        from_mail = await self.received_from_mail(contact.id, section)
        fields = fields_for(
            section,
            children=children or len(contact.children),
            parents=parents or len(contact.parents),
            local_systems=self._local_systems,
        )
        return SectionForm(
            contact_id=contact.id,
            version=contact.version,
            section=section,
            fields=fields,
            values=section_values(contact, section),
            errors=tuple(errors),
            notice=notice,
            urgent=contact.urgent,
            reference=contact.reference or "",
            people=people,
            contact=contact,
            people_names=names,
            local_systems=self._local_systems,
            free_text_limit=self._policy.limits.max_free_text_chars,
            today=self._clock.now().astimezone(LONDON).date(),
            received_from_mail=from_mail,
        )

    async def received_from_mail(self, contact_id: str, section: Section) -> datetime | None:
        """On the source card, the received time of the e-mail the draft was started from: shown,
        not asked (SPEC §5a); None on other cards and for drafts not from an e-mail."""
        if section is not Section.SOURCE:
            return None
        async with self._store.unit_of_work() as uow:
            return await received_from_mail(uow, contact_id)

    async def invalid_form(
        self, ref: CardRef, answers: Mapping[str, object], errors: Sequence[FieldError], actor: Actor
    ) -> SectionForm:
        """The same card again, with what was entered and a message beside each field to change
        (and the answers so far, if the draft is ``actor``'s own: a forged card shows no one's)."""
        people, names = await self.people() if ref.section is Section.HISTORY else ((), {})
        async with self._store.unit_of_work() as uow:
            draft = await uow.contacts.get(ref.contact_id)
        # The risk screen's own answers decide the path while it is being answered.
        urgent = any(answers.get(f"risk_{risk.value}") == "yes" for risk in ImmediateRisk) or bool(
            draft is not None and draft.urgent and ref.section is not Section.RISK
        )
        fields = fields_for(
            ref.section,
            children=blocks(answers, "child", MAX_CHILDREN),
            parents=blocks(answers, "parent", MAX_PARENTS),
            local_systems=self._local_systems,
        )
        return SectionForm(
            contact_id=ref.contact_id,
            version=ref.version,
            section=ref.section,
            fields=fields,
            values=shown(answers),
            errors=tuple(errors),
            urgent=urgent,
            reference=(draft.reference or "") if draft is not None else "",
            people=people,
            contact=draft if draft is not None and draft.created_by == actor.aad_object_id else None,
            people_names=names,
            local_systems=self._local_systems,
            free_text_limit=self._policy.limits.max_free_text_chars,
            received_from_mail=await self.received_from_mail(ref.contact_id, ref.section),
        )

    async def not_staff(self, section: Section, answers: Mapping[str, object]) -> list[FieldError]:
        """The history card's workers must be staff in the role directory (the card offers only
        them; a forged card could name anyone, and the allocated worker is messaged)."""
        if section is not Section.HISTORY:
            return []
        people, _ = await self.people()
        staff = {person for person, _ in people}
        errors = []
        for spec in fields_for(Section.HISTORY, local_systems=self._local_systems):
            value = answers.get(spec.id)
            named = value.strip() if isinstance(value, str) else ""
            if spec.kind is FieldKind.PERSON and named and named not in staff:
                errors.append(FieldError(spec.id, f"{spec.label}: choose a member of staff from the list"))
        return errors
