"""A submitted contact's full record (``find CT-…``, "View" on a channel card) and the history
checks recorded later on an urgent contact (SPEC §3, §8). Every answer that shows the full record
is audited (``contact.viewed``); a refused View is audited too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.cards.decisions import decide_action
from bot.cards.intake import SectionForm, history_checks_card
from bot.cards.keys import REFERENCE_KEY, VERSION_KEY
from bot.cards.mash import start_action as mash_start_action
from bot.cards.record import record_card
from bot.cards.work import work_card_action
from bot.dialogs.carddata import contact_reference, whole_number
from bot.dialogs.cardmessages import send_card
from bot.dialogs.contacts import ContactRecords
from bot.dialogs.context import FeatureContext
from bot.dialogs.decision_status import may_decide_now
from bot.dialogs.intake.forms import UNREADABLE, ScriptForms, answers_of, set_aside, shown
from bot.dialogs.intake.submission import SubmissionPosts
from bot.notify import PersonAddress
from bot.replies import refusal
from bot.routing import Actor, CardAction, InvokeReply
from frontdoor.consultation import consultations_followed_by, follows_text
from frontdoor.contact import Contact, ContactState
from frontdoor.errors import InvalidReferenceError
from frontdoor.history_checks import record_history_checks
from frontdoor.intake import Refusal, RefusalReason
from frontdoor.records import Deadline
from frontdoor.references import Reference, ReferenceKind, parse_reference
from frontdoor.roles import Permission
from frontdoor.script import Choice, Section, fields_for
from frontdoor.validation import FieldError
from frontdoor.views import section_values

log = logging.getLogger(__name__)

#: How long "View" waits for the record to be sent before answering Teams anyway.
INVOKE_BUDGET_SECONDS = 3.0


def address_of(activity: Activity) -> PersonAddress | None:
    """How to open a personal chat with the sender of ``activity``, if it says enough."""
    sender = activity.from_property
    recipient = activity.recipient
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant")
    tenant_id = tenant.get("id") if isinstance(tenant, dict) else None
    user_id = getattr(sender, "id", None)
    bot_id = getattr(recipient, "id", None)
    if not (isinstance(user_id, str) and isinstance(bot_id, str) and isinstance(tenant_id, str)):
        return None
    return PersonAddress(
        user_id=user_id,
        tenant_id=tenant_id,
        service_url=str(activity.service_url or ""),
        bot_id=bot_id,
        bot_name=str(getattr(recipient, "name", "") or ""),
    )


class RecordViews:
    """``find CT-…``, "View" on the channel cards, and "Record history checks" on a record."""

    def __init__(
        self,
        context: FeatureContext,
        local_systems: Sequence[Choice],
        forms: ScriptForms,
        posts: SubmissionPosts,
    ) -> None:
        self._context = context
        self._store = store = context.store
        self._clock = clock = context.clock
        self._policy = context.policy
        self._notifier = context.notifier
        self._local_systems = tuple(local_systems)
        self._forms = forms
        self._posts = posts
        self._records = ContactRecords(store, clock)
        #: sends still running after an invoke was answered (kept so they are not collected)
        self._background: set[asyncio.Task[bool]] = set()

    async def on_view(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        """The "View" button of a channel card: the full record in the viewer's personal chat, if they may."""
        text = action.data.get(REFERENCE_KEY)
        try:
            reference = parse_reference(text) if isinstance(text, str) else None
        except InvalidReferenceError:
            reference = None
        if reference is None or reference.kind is not ReferenceKind.CONTACT:
            return InvokeReply(message="This card could not be read.")
        if not actor.may(Permission.VIEW_CONTACTS):
            await self._records.audit(
                actor.aad_object_id, "contact.view_refused", str(reference), "via=channel_card"
            )
            return InvokeReply(message=refusal(Permission.VIEW_CONTACTS))
        card = await self._record_card(str(reference), actor)
        if card is None:
            return InvokeReply(message=f"I could not find {reference}.")
        address = address_of(turn_context.activity)
        # Teams waits only a few seconds for an invoke's answer; opening a chat can take longer, so
        # the send carries on in the background if it has to.
        sending = asyncio.create_task(self._send_record(actor, str(reference), card, address))
        self._background.add(sending)
        sending.add_done_callback(self._background.discard)
        try:
            delivered = await asyncio.wait_for(asyncio.shield(sending), INVOKE_BUDGET_SECONDS)
        except TimeoutError:
            return InvokeReply(message=f"I am sending the full record of {reference} to your personal chat.")
        if not delivered:
            return InvokeReply(
                message="I could not message you in a personal chat. Open a chat with me in Teams, say "
                "hello, then press View again."
            )
        return InvokeReply(
            message=f"I have sent the full record of {reference} to your personal chat with me."
        )

    async def _send_record(
        self, actor: Actor, reference: str, card: dict[str, Any], address: PersonAddress | None
    ) -> bool:
        delivery = await self._notifier.send_card_to_person(actor.aad_object_id, card, address)
        if delivery.ok:
            await self._records.viewed(actor, reference, f"via=personal_chat; from={actor.conversation_id}")
        return delivery.ok

    async def find_contact(self, turn_context: TurnContext, actor: Actor, reference: Reference) -> None:
        """``find CT-…`` (the ``find`` command checks VIEW_CONTACTS first)."""
        card = await self._record_card(str(reference), actor)
        if card is None:
            await turn_context.send_activity(f"No contact has the reference {reference}.")
            return
        await self._records.viewed(actor, str(reference), "via=find")
        await send_card(turn_context, card)

    async def _record_card(self, reference: str, actor: Actor) -> dict[str, Any] | None:
        async with self._store.unit_of_work() as uow:
            contact = await uow.contacts.get_by_reference(reference)
            deadlines: list[Deadline] = await uow.deadlines.for_subject(reference) if contact else []
            names = {entry.aad_object_id: entry.display_name for entry in await uow.roles.entries()}
            followed = await consultations_followed_by(uow.consultations, reference) if contact else ()
            email = await uow.mail.for_contact(contact.id) if contact else None
        if contact is None or contact.state is ContactState.DRAFT:
            return None
        return record_card(
            contact,
            deadlines,
            self._clock.now(),
            names,
            local_systems=self._local_systems,
            follows=follows_text(followed),
            # The contact's personal card (its outcome letter, challenges and casework, bot.cards.work);
            # a consultant may open a MASH episode from the record while the contact is open.
            actions=[
                # the deciders' view, in a decider's personal chat as on the channel card
                *(
                    [decide_action(reference, contact.version)]
                    if may_decide_now(contact, actor, self._clock.now())
                    else []
                ),
                work_card_action(contact.reference or "", contact.version),
                *(
                    [mash_start_action(reference)]
                    if actor.may(Permission.MASH_EPISODE) and contact.state is not ContactState.CLOSED
                    else []
                ),
            ],
            record_history=history_outstanding(contact, actor.aad_object_id)
            and actor.may(Permission.RECORD_HISTORY_CHECKS),
            email=email,
        )

    # -- history checks recorded later on an urgent contact --------------------------------------

    async def on_history_open(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        """ "Record history checks" on an urgent contact's record: its history card in this chat."""
        if not actor.may(Permission.RECORD_HISTORY_CHECKS):
            await turn_context.send_activity(refusal(Permission.RECORD_HISTORY_CHECKS))
            return
        reference = contact_reference(action.data, REFERENCE_KEY)
        async with self._store.unit_of_work() as uow:
            contact = await uow.contacts.get_by_reference(reference) if reference else None
        if contact is None or not history_outstanding(contact, actor.aad_object_id):
            await turn_context.send_activity(
                "There are no outstanding history checks to record on that contact: they may have been "
                "recorded already. Say **find** and its reference to see it."
            )
            return
        await self._show_history(turn_context, contact)

    async def on_history_save(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        if not actor.may(Permission.RECORD_HISTORY_CHECKS):
            await turn_context.send_activity(refusal(Permission.RECORD_HISTORY_CHECKS))
            return
        reference = contact_reference(action.data, REFERENCE_KEY)
        version = whole_number(action.data, VERSION_KEY, least=0, max_digits=9)
        if reference is None or version is None:
            await turn_context.send_activity(UNREADABLE)
            return
        answers = answers_of({k: v for k, v in action.data.items() if k != REFERENCE_KEY})
        now = self._clock.now()
        result = await record_history_checks(
            self._store.unit_of_work(),
            reference,
            answers,
            version,
            self._local_systems,
            who=actor.who,
            rules=self._context.rules(now),
        )
        if isinstance(result, Refusal):
            log.info("history checks refused", extra={"reference": reference, "status": result.reason.value})
            async with self._store.unit_of_work() as uow:
                contact = await uow.contacts.get_by_reference(reference)
            stale = result.reason is RefusalReason.STALE
            if stale and contact is not None and history_outstanding(contact, actor.aad_object_id):
                # the officer saved one of their cards meanwhile: nothing typed here is lost
                await turn_context.send_activity(
                    f"{reference} changed while this card was open (its officer saved a card), so "
                    "nothing was saved yet: what you entered is below again. Press Save to record it."
                )
                await self._show_history(turn_context, contact, answers)
                return
            await turn_context.send_activity(result.message)
            if result.reason is RefusalReason.INVALID and contact is not None:
                await self._show_history(turn_context, contact, answers, result.errors)
            return
        log.info("history checks recorded", extra={"reference": reference})
        await set_aside(
            turn_context, action, f"History checks recorded: {reference}", "What was done is below."
        )
        lines = ["Saved. Its card on the decisions channel shows the history checks as recorded."]
        await self._posts.update_channel(result.contact)
        lines += await self._posts.history_handoffs(result.before, result.contact, actor, now)
        await turn_context.send_activity("\n\n".join(lines))

    async def _show_history(
        self,
        turn_context: TurnContext,
        contact: Contact,
        answers: Mapping[str, object] | None = None,
        errors: Sequence[FieldError] = (),
    ) -> None:
        people, names = await self._forms.people()
        form = SectionForm(
            contact_id=contact.id,
            version=contact.version,
            section=Section.HISTORY,
            fields=fields_for(Section.HISTORY, local_systems=self._local_systems),
            values=shown(answers) if answers is not None else section_values(contact, Section.HISTORY),
            errors=tuple(errors),
            people=people,
            people_names=names,
            local_systems=self._local_systems,
            free_text_limit=self._policy.limits.max_free_text_chars,
        )
        await send_card(turn_context, history_checks_card(form, contact.reference or ""))


def history_outstanding(contact: Contact, actor_id: str) -> bool:
    """An urgent contact whose history checks nobody has recorded yet, for ``actor_id`` to record:
    anyone but the officer still completing it, whose own card they are."""
    open_states = contact.state not in (ContactState.CLOSED, ContactState.PASSED_ON, ContactState.DRAFT)
    own_card = contact.completing and contact.created_by == actor_id
    return contact.urgent and not contact.history.recorded and not own_card and open_states
