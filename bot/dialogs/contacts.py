"""Reading a submitted contact by reference and auditing card actions on it: what the casework
and quality-assurance card handlers share, and the one audit of full reads (SPEC §8): every answer
that shows a contact's or a consultation's full record writes one ``contact.viewed`` or
``consultation.viewed`` row through ``ContactRecords.viewed``."""

from __future__ import annotations

from bot.routing import Actor
from frontdoor.contact import Contact, ContactState
from frontdoor.ports import Clock
from frontdoor.records import AuditEvent
from frontdoor.unit_of_work import Store


class ContactRecords:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def contact(self, reference: str | None) -> Contact | None:
        """The submitted contact with ``reference``; None for a draft or no such contact."""
        if reference is None:
            return None
        async with self._store.unit_of_work() as uow:
            contact = await uow.contacts.get_by_reference(reference)
        if contact is None or contact.state is ContactState.DRAFT:
            return None
        return contact

    async def viewed(self, actor: Actor, reference: str, via: str, *, consultation: bool = False) -> None:
        """Audit that ``actor`` was shown the full record of ``reference`` (who, which, when, how)."""
        action = "consultation.viewed" if consultation else "contact.viewed"
        await self.audit(actor.aad_object_id, action, reference, via)

    async def refused(self, actor: Actor, contact: Contact, verb: str) -> None:
        await self.audit(
            actor.aad_object_id,
            "contact.action_refused",
            contact.reference or "",
            f"verb={verb}; reason=not_permitted",
        )

    async def audit(self, actor_id: str, action: str, subject: str, detail: str) -> None:
        async with self._store.unit_of_work() as uow:
            await uow.audit.append(
                AuditEvent(
                    at=self._clock.now(), actor_id=actor_id, action=action, subject=subject, detail=detail
                )
            )
            await uow.commit()
