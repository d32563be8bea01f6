"""The officer's contact script in Teams (SPEC §5): ``new contact``, ``resume``, ``cancel`` and the
section cards' buttons, up to Submit.

``new contact`` starts a draft and shows the first section's card; each card's buttons save its
answers through the ``frontdoor.intake`` use cases and show the next card. The draft itself (its
``draft_section`` and answers in the contact tables) is the wizard's state: nothing is kept in
dialog state, so ``resume`` after a restart carries on from the database, and a card pressed twice
or out of order is refused by the draft's version rather than by anything the card says.

Another person's card, an earlier step's card or a card of a submitted contact is refused and
changes nothing. Plain text while a draft waits gets a reminder and the card again. What a
submitted contact posts is ``bot.dialogs.intake.submission``'s; its full record and later history
checks are ``bot.dialogs.intake.records``'. Logs carry ids and references, never answers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from botbuilder.core import TurnContext

from bot.cards.decision import VIEW_VERB
from bot.cards.intake import (
    ADD_CHILD,
    ADD_PARENT,
    BACK,
    CANCEL,
    HISTORY_OPEN,
    HISTORY_SAVE,
    NEXT,
    OPEN,
    SAVE,
    SUBMIT,
    DraftLine,
    SectionForm,
    drafts_card,
    receipt_card,
    section_card,
)
from bot.dialogs.cardmessages import replace_card
from bot.dialogs.context import FeatureContext
from bot.dialogs.find import Finders
from bot.dialogs.intake.forms import (
    NO_DRAFT,
    UNREADABLE,
    CardRef,
    ScriptForms,
    answers_of,
    card_ref,
    contact_id_of,
    set_aside,
)
from bot.dialogs.intake.records import RecordViews
from bot.dialogs.intake.submission import ChannelUpdater, DecisionCardMaker, SubmissionPosts
from bot.replies import refusal
from bot.routing import Actor, CardAction, Router
from frontdoor.calendar import LONDON
from frontdoor.commands import CommandName, ParsedCommand, Scope
from frontdoor.contact import Contact
from frontdoor.intake import (
    DraftCancelled,
    Refusal,
    RefusalReason,
    SubmissionResult,
    cancel_draft,
    go_back,
    revisit_section,
    save_section,
    start_contact,
    submit_contact,
)
from frontdoor.references import ReferenceKind
from frontdoor.roles import Permission
from frontdoor.script import (
    MAX_CHILDREN,
    MAX_PARENTS,
    SECTION_TITLES,
    Choice,
    Section,
    field_section,
    section_of,
)
from frontdoor.validation import FieldError
from frontdoor.views import initials

log = logging.getLogger(__name__)


class IntakeFeature:
    """The ``new contact``, ``resume`` and ``cancel`` commands, the script's cards, "View" on the
    channel cards and ``find CT-…``."""

    def __init__(
        self,
        context: FeatureContext,
        local_systems: Sequence[Choice] | None = None,
        decision_card: DecisionCardMaker | None = None,
        channel_update: ChannelUpdater | None = None,
    ) -> None:
        self._context = context
        store, clock, calendar, policy, notifier = (
            context.store,
            context.clock,
            context.calendar,
            context.policy,
            context.notifier,
        )
        self._store = store
        self._clock = clock
        self._calendar = calendar
        self._policy = policy
        # The service's list from its policy file (``history.local_systems``) unless given.
        self._local_systems = tuple(
            local_systems if local_systems is not None else policy.history.local_systems
        )
        self._forms = ScriptForms(store, clock, policy, self._local_systems)
        self._posts = SubmissionPosts(
            store, clock, calendar, policy, notifier, self._local_systems, decision_card, channel_update
        )
        self._views = RecordViews(context, self._local_systems, self._forms, self._posts)

    def register(self, router: Router, finders: Finders) -> None:
        finders.register(ReferenceKind.CONTACT, self._views.find_contact, Permission.VIEW_CONTACTS)
        router.command(CommandName.NEW_CONTACT, self.on_new_contact)
        router.command(CommandName.RESUME, self.on_resume)
        router.command(CommandName.CANCEL, self.on_cancel)
        router.submission(NEXT, self.on_next)
        router.submission(SAVE, self.on_save)
        router.submission(ADD_CHILD, self.on_add_child)
        router.submission(ADD_PARENT, self.on_add_parent)
        router.submission(BACK, self.on_back)
        router.submission(CANCEL, self.on_cancel_card)
        router.submission(SUBMIT, self.on_submit)
        router.submission(OPEN, self.on_open)
        router.submission(HISTORY_OPEN, self._views.on_history_open)
        router.submission(HISTORY_SAVE, self._views.on_history_save)
        router.execution(VIEW_VERB, self._views.on_view)
        router.text_fallbacks.append(self.on_text)

    # -- commands --------------------------------------------------------------------------------

    async def on_new_contact(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        now = self._clock.now()
        result = await start_contact(self._store.unit_of_work(), who=actor.who, now=now)
        if isinstance(result, Refusal):
            await turn_context.send_activity(result.message)
            return
        log.info("contact started", extra={"contact_id": result.id})
        others = len(await self._forms.drafts(actor.aad_object_id)) - 1
        notice = ""
        if others > 0:
            plural = "draft" if others == 1 else "drafts"
            notice = f"You also have {others} other {plural}: say resume to see them."
        await self._show(turn_context, await self._forms.form(result, notice=notice))

    async def on_resume(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        drafts = await self._forms.drafts(actor.aad_object_id)
        if not drafts:
            await turn_context.send_activity(NO_DRAFT)
        elif len(drafts) == 1:
            [draft] = drafts
            await self._show(
                turn_context, await self._forms.form(draft, notice="Carrying on where you left off.")
            )
        else:
            lines = [
                DraftLine(
                    contact_id=draft.id,
                    started_at=draft.created_at,
                    section=section_of(draft),
                    children=", ".join(initials(child.name) for child in draft.children),
                )
                for draft in drafts
            ]
            await replace_card(turn_context, None, drafts_card(lines))

    async def on_cancel(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        drafts = await self._forms.drafts(actor.aad_object_id)
        if not drafts:
            await turn_context.send_activity("There is nothing to cancel.")
            return
        if len(drafts) > 1:
            await turn_context.send_activity(
                f"You have {len(drafts)} drafts. Say **resume**, open the one to delete and press its "
                "Cancel button."
            )
            return
        result = await cancel_draft(
            self._store.unit_of_work(), drafts[0].id, actor.aad_object_id, self._clock.now()
        )
        await self._cancelled(turn_context, result, None)

    async def on_text(self, turn_context: TurnContext, actor: Actor, _: str) -> bool:
        """Plain text while a draft waits: a reminder and its card again."""
        if actor.scope is not Scope.PERSONAL or not actor.may(Permission.START_CONTACT):
            return False
        drafts = await self._forms.drafts(actor.aad_object_id)
        if not drafts:
            return False
        draft = drafts[-1]
        title = SECTION_TITLES[section_of(draft)]
        notice = (
            f"You are part-way through a new contact (at: {title}). Please answer on the card and "
            "press its buttons; say cancel to delete the draft, or help for the other commands."
        )
        log.info("reminded of a waiting card", extra={"contact_id": draft.id})
        await self._show(turn_context, await self._forms.form(draft, notice=notice))
        return True

    async def show_draft(self, turn_context: TurnContext, contact: Contact, notice: str = "") -> None:
        """Open the script's card for a draft started elsewhere (from an e-mail in the queue)."""
        await self._show(turn_context, await self._forms.form(contact, notice=notice))

    # -- the section cards -----------------------------------------------------------------------

    async def _checked(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> CardRef | None:
        """The card's reference to its draft, if the card can be read and the person may use it."""
        if not actor.may(Permission.START_CONTACT):
            await turn_context.send_activity(refusal(Permission.START_CONTACT))
            return None
        ref = card_ref(action.data)
        if ref is None:
            log.info("unreadable intake card", extra={"action": action.action})
            await turn_context.send_activity(UNREADABLE)
        return ref

    async def on_next(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        await self._save(turn_context, actor, action, advance=True)

    async def on_save(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        await self._save(turn_context, actor, action, advance=False)

    async def on_add_child(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        await self._save(turn_context, actor, action, advance=False, add="child")

    async def on_add_parent(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        await self._save(turn_context, actor, action, advance=False, add="parent")

    async def _save(
        self,
        turn_context: TurnContext,
        actor: Actor,
        action: CardAction,
        *,
        advance: bool,
        add: str = "",
    ) -> None:
        ref = await self._checked(turn_context, actor, action)
        if ref is None:
            return
        if add and ref.section is not (Section.CHILDREN if add == "child" else Section.PARENTS):
            await turn_context.send_activity(UNREADABLE)
            return
        now = self._clock.now()
        answers = answers_of(action.data)
        strangers = await self._forms.not_staff(ref.section, answers)
        if strangers:
            await self._show_invalid(turn_context, actor, ref, answers, strangers, action)
            return
        result = await save_section(
            self._store.unit_of_work(),
            ref.contact_id,
            ref.section,
            answers,
            actor.aad_object_id,
            ref.version,
            advance=advance,
            local_systems=self._local_systems,
            rules=self._context.rules(now),
        )
        if isinstance(result, Refusal):
            if result.reason is RefusalReason.INVALID:
                await self._show_invalid(turn_context, actor, ref, answers, result.errors, action)
            else:
                await self._refused(turn_context, actor, ref, result, action, answers)
            return
        if result.created is not None:
            await self._created(turn_context, actor, action, result.created, now)
            return
        if result.before is not None:
            await self._posts.urgent_saved(result.before, result.contact, actor, now)
        log.info(
            "contact section saved",
            extra={"contact_id": ref.contact_id, "action": action.action, "status": result.section.value},
        )
        children = parents = None
        if add == "child":
            children = min(len(result.contact.children) + 1, MAX_CHILDREN)
            notice = "Another child added: fill in their details below."
        elif add == "parent":
            parents = min(len(result.contact.parents) + 1, MAX_PARENTS)
            notice = "Another parent or carer added: fill in their details below."
        elif advance:
            notice = f"{SECTION_TITLES[ref.section]}: saved."
        else:
            at = f"{now.astimezone(LONDON):%H:%M}"
            notice = f"Draft saved at {at}. Carry on here, or say resume later to come back to it."
        form = await self._forms.form(result.contact, notice=notice, children=children, parents=parents)
        # The script is one card: it turns into the next step where it is.
        await self._show(turn_context, form, action)

    async def _created(
        self,
        turn_context: TurnContext,
        actor: Actor,
        action: CardAction,
        created: SubmissionResult,
        now: datetime,
    ) -> None:
        """The emergency details saved: the urgent contact exists. Tell the consultants first, then
        turn the officer's card into the receipt with the next step of the same contact below it."""
        log.info(
            "urgent contact created",
            extra={"contact_id": created.contact.id, "reference": created.reference, "status": "urgent"},
        )
        outcomes = await self._posts.dispatch(created, actor, now)
        form = await self._forms.form(created.contact)
        receipt = replace(form, created=created, outcomes=tuple(outcomes), created_at=now)
        await self._show(turn_context, receipt, action)

    async def on_back(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        ref = await self._checked(turn_context, actor, action)
        if ref is None:
            return
        result = await go_back(
            self._store.unit_of_work(),
            ref.contact_id,
            ref.section,
            actor.aad_object_id,
            ref.version,
            self._clock.now(),
        )
        if isinstance(result, Refusal):
            await self._refused(turn_context, actor, ref, result, action)
            return
        await self._show(turn_context, await self._forms.form(result.contact), action)

    async def on_cancel_card(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        ref = await self._checked(turn_context, actor, action)
        if ref is None:
            return
        result = await cancel_draft(
            self._store.unit_of_work(),
            ref.contact_id,
            actor.aad_object_id,
            self._clock.now(),
            expected_version=ref.version,
        )
        if isinstance(result, Refusal):
            await self._refused(turn_context, actor, ref, result, action)
            return
        await self._cancelled(turn_context, result, action)

    async def _cancelled(
        self, turn_context: TurnContext, result: DraftCancelled | Refusal, action: CardAction | None
    ) -> None:
        if isinstance(result, Refusal):
            await turn_context.send_activity(result.message)
            return
        if action is not None:
            await set_aside(turn_context, action, "New contact: cancelled", "This draft was deleted.")
        log.info("contact draft cancelled", extra={"action": "cancel"})
        await turn_context.send_activity(
            "The draft was cancelled and deleted. Say **new contact** to start again."
        )

    async def on_open(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        if not actor.may(Permission.START_CONTACT):
            await turn_context.send_activity(refusal(Permission.START_CONTACT))
            return
        contact_id = contact_id_of(action.data)
        draft = await self._forms.own_draft(contact_id, actor) if contact_id else None
        if draft is None:
            await turn_context.send_activity(
                "That draft is not one of yours any more: it may have been submitted or cancelled. "
                "Say **resume** to see your drafts."
            )
            return
        await self._show(
            turn_context, await self._forms.form(draft, notice="Carrying on where you left off.")
        )

    # -- submission ------------------------------------------------------------------------------

    async def on_submit(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        ref = await self._checked(turn_context, actor, action)
        if ref is None:
            return
        now = self._clock.now()
        result = await submit_contact(
            self._store.unit_of_work(),
            ref.contact_id,
            actor.aad_object_id,
            ref.version,
            rules=self._context.rules(now),
        )
        if isinstance(result, Refusal):
            if result.reason is RefusalReason.INVALID:
                await self._back_to_problem(turn_context, actor, action, ref, result)
            else:
                await self._refused(turn_context, actor, ref, result, action)
            return
        log.info(
            "contact submitted",
            extra={"contact_id": ref.contact_id, "reference": result.reference, "status": result.route.value},
        )
        # The script's card turns into the receipt: the chat keeps one card for the contact.
        if result.completed:
            await self._posts.update_channel(result.contact)
            outcomes = ["Its card on the decisions channel shows the completed contact."]
        else:
            outcomes = await self._posts.dispatch(result, actor, now)
        await replace_card(turn_context, action.card_activity_id, receipt_card(result, now, outcomes))

    async def _back_to_problem(
        self, turn_context: TurnContext, actor: Actor, action: CardAction, ref: CardRef, refused: Refusal
    ) -> None:
        """A problem found only at submission: take the draft back to the card that fixes it."""
        sections = [
            section
            for error in refused.errors
            if (section := field_section(error.field_id, self._local_systems)) is not None
        ]
        target = min(sections, key=list(Section).index, default=Section.SUMMARY)
        moved = await revisit_section(
            self._store.unit_of_work(),
            ref.contact_id,
            ref.section,
            target,
            actor.aad_object_id,
            ref.version,
            self._clock.now(),
        )
        if isinstance(moved, Refusal):
            await self._refused(turn_context, actor, ref, moved, action)
            return
        errors = [
            error
            for error in refused.errors
            if field_section(error.field_id, self._local_systems) in (target, None)
        ]
        notice = "The contact was not submitted: something needs changing first."
        await self._show(
            turn_context, await self._forms.form(moved.contact, notice=notice, errors=errors), action
        )

    async def dispatch_submitted(self, result: SubmissionResult, actor: Actor) -> list[str]:
        """Post a contact submitted by another feature (the domestic-abuse triage) as intake posts
        its own; what was done."""
        return await self._posts.dispatch(result, actor, self._clock.now())

    async def _show_invalid(
        self,
        turn_context: TurnContext,
        actor: Actor,
        ref: CardRef,
        answers: Mapping[str, object],
        errors: Sequence[FieldError],
        action: CardAction,
    ) -> None:
        """The same card again, in place, with what was entered and a message beside each field to
        change."""
        log.info("contact section refused", extra={"contact_id": ref.contact_id, "count": len(errors)})
        await self._show(turn_context, await self._forms.invalid_form(ref, answers, errors, actor), action)

    async def _refused(
        self,
        turn_context: TurnContext,
        actor: Actor,
        ref: CardRef,
        refused: Refusal,
        action: CardAction,
        answers: Mapping[str, object] | None = None,
    ) -> None:
        """Say why; a card of an earlier step (or pressed twice) turns into the draft's current step.
        A card that is still the draft's step, refused only because the contact changed under it
        (on an urgent contact, a consultant recorded the history checks), comes back with what was
        typed on it, at the contact's new version: pressing again saves it."""
        log.info("intake card refused", extra={"contact_id": ref.contact_id, "status": refused.reason.value})
        await turn_context.send_activity(refused.message)
        if refused.reason is not RefusalReason.STALE:
            return
        draft = await self._forms.own_draft(ref.contact_id, actor)
        if draft is None:
            return
        if answers is not None and section_of(draft) is ref.section:
            typed = await self._forms.invalid_form(replace(ref, version=draft.version), answers, (), actor)
            await self._show(turn_context, typed, action)
        else:
            await self._show(turn_context, await self._forms.form(draft), action)

    async def _show(
        self, turn_context: TurnContext, form: SectionForm, action: CardAction | None = None
    ) -> None:
        """The section card: in place of the card pressed (``action``), or a new message."""
        await replace_card(turn_context, action.card_activity_id if action else None, section_card(form))
