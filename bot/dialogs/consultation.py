"""Consultations in Teams: the ``consultation`` form, ``find PC-…`` and ``link PC-… CT-…``.

Thin: each handler parses what arrived into typed values, calls a use case of
``frontdoor.consultation`` and shows the result. The form is a card with ``Action.Submit``
buttons; the card itself carries everything typed, so no dialog state is kept between turns. An
error re-shows the same card in place (the message is updated), with what was typed kept; saving
turns the form into the receipt, so it cannot be pressed again. Pressing *Save* twice before the
card changes (or Teams delivering a press twice) still saves once: the card's id goes with it.

Logs carry references, outcomes and counts only; never what anyone typed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext

from bot.cards.consultation import (
    CANCEL,
    OVERRIDE,
    SAVE,
    ConsultationForm,
    closed_form_card,
    consultation_card,
    consultation_form_card,
    receipt_card,
)
from bot.cards.keys import FORM_KEY
from bot.dialogs.carddata import is_form_id, new_form_id
from bot.dialogs.cardmessages import replace_card as _replace
from bot.dialogs.cardmessages import send_card as _send
from bot.dialogs.contacts import ContactRecords
from bot.dialogs.context import FeatureContext
from bot.dialogs.find import Finders
from bot.replies import refusal
from bot.routing import Actor, CardAction, Router
from frontdoor.commands import CommandName, ParsedCommand, Scope
from frontdoor.consultation import (
    ConsultationDraft,
    ConsultationField,
    FindOutcome,
    LinkOutcome,
    SaveOutcome,
    find_consultation,
    link_consultation,
    save_consultation,
    starting_draft,
)
from frontdoor.errors import InvalidReferenceError
from frontdoor.references import Reference, ReferenceKind, parse_reference
from frontdoor.roles import Permission
from frontdoor.unit_of_work import Store

log = logging.getLogger(__name__)

F = ConsultationField

STALE_FORM = "That consultation form is no longer active. Type **consultation** to start a new one."
PERSONAL_ONLY = "Consultations are logged in a personal chat with me."
LINK_USAGE = (
    "Type **link**, the consultation's reference and the contact's, for example "
    "**link PC-26-00012 CT-26-000123**."
)
OVERRIDE_NEEDS_REASON = "Give the reason for saving it as it is."

#: The text inputs of the form, as their ids.
_TEXT_FIELDS: tuple[ConsultationField, ...] = (
    F.PROFESSIONAL_NAME,
    F.AGENCY,
    F.PROFESSIONAL_ROLE,
    F.CONTACT_PHONE,
    F.WORRY,
    F.ADVICE,
    F.OVERRIDE_REASON,
)


@dataclass(frozen=True, slots=True)
class FormSubmission:
    """A press on the consultation form, parsed."""

    form_id: str
    draft: ConsultationDraft
    override_reason: str


def parse_submission(data: Mapping[str, Any]) -> FormSubmission | None:
    """The form's values, or None when the data is not what our form sends (a forged or foreign
    card). A missing text input is empty (Teams leaves out inputs nobody touched)."""
    form_id = data.get(FORM_KEY)
    if not is_form_id(form_id):
        return None
    texts: dict[ConsultationField, str] = {}
    for name in _TEXT_FIELDS:
        value = data.get(name.value, "")
        if not isinstance(value, str):
            return None
        texts[name] = value
    on_behalf = data.get(F.ON_BEHALF.value, "false")
    if on_behalf not in ("true", "false"):
        return None
    draft = ConsultationDraft(
        professional_name=texts[F.PROFESSIONAL_NAME],
        agency=texts[F.AGENCY],
        professional_role=texts[F.PROFESSIONAL_ROLE],
        worry=texts[F.WORRY],
        advice=texts[F.ADVICE],
        on_behalf=on_behalf == "true",
        contact_phone=texts[F.CONTACT_PHONE],
    )
    return FormSubmission(form_id, draft, texts[F.OVERRIDE_REASON])


async def _names(store: Store, ids: Iterable[str | None]) -> dict[str, str]:
    """Display names of staff, for "advice given by"; people the directory has no name for are
    left out."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    async with store.unit_of_work() as uow:
        entries = await uow.roles.entries()
    return {e.aad_object_id: e.display_name for e in entries if e.aad_object_id in wanted and e.display_name}


class ConsultationFeature:
    def __init__(self, context: FeatureContext) -> None:
        self._context = context
        self._records = ContactRecords(context.store, context.clock)

    def register(self, router: Router, finders: Finders) -> None:
        router.command(CommandName.CONSULTATION, self.on_consultation)
        router.command(CommandName.LINK, self.on_link)
        router.submission(SAVE, self.on_save)
        router.submission(OVERRIDE, self.on_save)
        router.submission(CANCEL, self.on_cancel)
        finders.register(ReferenceKind.CONSULTATION, self.on_find, Permission.LOG_CONSULTATION)

    def _form(self, actor: Actor, form_id: str, draft: ConsultationDraft, **shown: Any) -> dict[str, Any]:
        return consultation_form_card(
            ConsultationForm(
                form_id=form_id,
                draft=draft,
                staff=actor.may(Permission.SEE_ANY_CONSULTATION),
                max_text_chars=self._context.policy.limits.max_free_text_chars,
                **shown,
            )
        )

    # -- the form ---------------------------------------------------------------------------------

    async def on_consultation(self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand) -> None:
        async with self._context.store.unit_of_work() as uow:
            draft = await starting_draft(uow, actor.name, who=actor.who)
        await _send(turn_context, self._form(actor, new_form_id(), draft))

    async def _usable(self, turn_context: TurnContext, actor: Actor) -> bool:
        # Card presses reach us without the command table's checks: repeat them here.
        if not actor.may(Permission.LOG_CONSULTATION):
            await turn_context.send_activity(refusal(Permission.LOG_CONSULTATION))
            return False
        if actor.scope is not Scope.PERSONAL:
            await turn_context.send_activity(PERSONAL_ONLY)
            return False
        return True

    async def on_save(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        if not await self._usable(turn_context, actor):
            return
        submission = parse_submission(action.data)
        if submission is None:
            log.info("consultation form not ours", extra={"action": action.action})
            await turn_context.send_activity(STALE_FORM)
            return
        overriding = action.action == OVERRIDE
        reason = submission.override_reason if overriding else None
        async with self._context.store.unit_of_work() as uow:
            result = await save_consultation(
                uow,
                submission.draft,
                override_reason=reason,
                form_id=submission.form_id,
                who=actor.who,
                rules=self._context.rules(),
            )
        if result.outcome is SaveOutcome.SAVED and result.consultation is not None:
            saved = result.consultation
            log.info(
                "consultation saved",
                extra={"reference": saved.reference, "status": "repeated" if result.repeated else "saved"},
            )
            names = await _names(self._context.store, (saved.author_id, saved.advised_by))
            card = receipt_card(
                saved,
                names,
                retention_months=self._context.policy.retention.consultations_months,
                staff=actor.may(Permission.SEE_ANY_CONSULTATION),
                repeated=result.repeated,
            )
            await _replace(turn_context, action.card_activity_id, card)
            return
        if result.outcome is SaveOutcome.REFUSED:
            await turn_context.send_activity(result.message)
            return
        errors = {error.field: error.message for error in result.errors}
        if overriding and result.can_override and not submission.override_reason.strip():
            errors.setdefault(F.OVERRIDE_REASON.value, OVERRIDE_NEEDS_REASON)
        log.info(
            "consultation not saved",
            extra={"status": result.outcome.value, "count": len(result.errors) + len(result.findings)},
        )
        card = self._form(
            actor,
            submission.form_id,
            submission.draft,
            message=result.message,
            errors=errors,
            findings=result.findings,
            can_override=result.can_override,
            override_reason=submission.override_reason,
        )
        await _replace(turn_context, action.card_activity_id, card)

    async def on_cancel(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        # Personal chat only: the card replaced in place is then one in this person's own chat.
        if actor.scope is not Scope.PERSONAL:
            await turn_context.send_activity(PERSONAL_ONLY)
            return
        form_id = action.data.get(FORM_KEY)
        if not is_form_id(form_id):
            await turn_context.send_activity(STALE_FORM)
            return
        async with self._context.store.unit_of_work() as uow:
            saved = await uow.consultations.from_form(actor.aad_object_id, form_id)
        if saved is not None:
            text = f"This form was already saved as {saved.reference}; nothing was cancelled."
        else:
            text = "Cancelled: nothing was saved. Type **consultation** to start again."
        await _replace(turn_context, action.card_activity_id, closed_form_card(text))

    # -- find and link ----------------------------------------------------------------------------

    async def on_find(self, turn_context: TurnContext, actor: Actor, reference: Reference) -> None:
        async with self._context.store.unit_of_work() as uow:
            result = await find_consultation(uow, str(reference), who=actor.who)
        log.info("consultation find", extra={"reference": str(reference), "status": result.outcome.value})
        if result.outcome is FindOutcome.FOUND and result.consultation is not None:
            found = result.consultation
            names = await _names(self._context.store, (found.author_id, found.advised_by))
            await self._records.viewed(actor, str(found.reference), "via=find", consultation=True)
            await _send(turn_context, consultation_card(found, names))
            return
        await turn_context.send_activity(result.message)

    async def on_link(self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand) -> None:
        references = _two_references(parsed.argument)
        if references is None:
            await turn_context.send_activity(LINK_USAGE)
            return
        consultation_ref, contact_ref = references
        async with self._context.store.unit_of_work() as uow:
            result = await link_consultation(
                uow,
                consultation_ref,
                contact_ref,
                who=actor.who,
                now=self._context.clock.now(),
            )
        log.info("consultation link", extra={"reference": consultation_ref, "status": result.outcome.value})
        if result.outcome is LinkOutcome.LINKED:
            text = (
                f"{consultation_ref} is now linked to contact {contact_ref}. The contact shows "
                f"“follows consultation {consultation_ref}”."
            )
        elif result.outcome is LinkOutcome.ALREADY_LINKED:
            text = f"{consultation_ref} was already linked to contact {contact_ref}."
        else:
            text = result.message
        await turn_context.send_activity(text)


def _two_references(argument: str) -> tuple[str, str] | None:
    """``PC-… CT-…`` in either order, as (consultation, contact); None unless it is exactly that."""
    words = argument.split()
    if len(words) != 2:
        return None
    try:
        first, second = (parse_reference(word) for word in words)
    except InvalidReferenceError:
        return None
    kinds = {first.kind: first, second.kind: second}
    consultation = kinds.get(ReferenceKind.CONSULTATION)
    contact = kinds.get(ReferenceKind.CONTACT)
    if consultation is None or contact is None:
        return None
    return str(consultation), str(contact)
