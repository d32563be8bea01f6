"""The officer's contact script in Teams (SPEC §5), and what submitting a contact posts (SPEC §3, §6).

``new contact`` starts a draft and shows the first section's card; each card's buttons save its
answers through the ``frontdoor.intake`` use cases and show the next card. The draft itself (its
``draft_section`` and answers in the contact tables) is the wizard's state: nothing is kept in
dialog state, so ``resume`` after a restart carries on from the database, and a card pressed twice
or out of order is refused by the draft's version rather than by anything the card says.

A card's data names the draft, its version and the section; the person is always the activity's
sender, so another person's card, an earlier step's card or a card of a submitted contact is refused
and changes nothing. Plain text while a draft waits gets a reminder and the card again.

On submission the contact is posted to the registered channels (``bot.notify``): the decision card
to the decisions channel (with the consultants on duty @mentioned when urgent), an open case to its
allocated worker, a re-referral to the duty channel; the officer's receipt says what was done and
what could not be. Each post is audited with ids only. Logs carry ids and references, never answers.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity

from bot.cards.decision import (
    VIEW_VERB,
    ChannelCardKind,
    channel_card,
    decision_card,
    open_case_card,
    rereferral_card,
)
from bot.cards.intake import (
    ADD_CHILD,
    ADD_PARENT,
    BACK,
    CANCEL,
    CONTACT_KEY,
    HISTORY_OPEN,
    HISTORY_SAVE,
    NEXT,
    OPEN,
    SAVE,
    SECTION_KEY,
    SUBMIT,
    DraftLine,
    SectionForm,
    drafts_card,
    history_checks_card,
    receipt_card,
    record_card,
    section_card,
    set_aside_card,
)
from bot.cards.keys import ACTION_KEY, REFERENCE_KEY, VERSION_KEY
from bot.cards.mash import start_action as mash_start_action
from bot.cards.work import work_card_action
from bot.dialogs.carddata import contact_reference, whole_number
from bot.dialogs.contacts import ContactRecords
from bot.dialogs.context import FeatureContext
from bot.dialogs.find import Finders
from bot.notify import Delivery, Mentioned, PersonAddress
from bot.replies import refusal
from bot.routing import Actor, CardAction, InvokeReply, Router
from frontdoor.calendar import LONDON
from frontdoor.channels import channel_conversation
from frontdoor.commands import CommandName, ParsedCommand, Scope
from frontdoor.consultation import consultations_followed_by, follows_text
from frontdoor.contact import Contact, ContactState, ImmediateRisk
from frontdoor.errors import InvalidReferenceError
from frontdoor.intake import (
    DraftCancelled,
    Refusal,
    RefusalReason,
    Route,
    SubmissionResult,
    cancel_draft,
    go_back,
    is_rereferral,
    record_history_checks,
    revisit_section,
    save_section,
    start_contact,
    submit_contact,
)
from frontdoor.records import AuditEvent, ChannelPurpose, ConversationRecord, Deadline
from frontdoor.references import Reference, ReferenceKind, parse_reference
from frontdoor.roles import Permission, Role, may
from frontdoor.script import (
    MAX_CHILDREN,
    MAX_PARENTS,
    SECTION_TITLES,
    Choice,
    FieldKind,
    Section,
    field_section,
    fields_for,
    section_of,
)
from frontdoor.validation import FieldError
from frontdoor.views import ChannelSummary, channel_summary, initials, section_values

log = logging.getLogger(__name__)

#: Who can be picked as a worker on the history card: staff, and partner professionals (an early
#: help worker is one).
_STAFF = (Role.SOCIAL_WORKER, Role.CONSULTANT, Role.TEAM_MANAGER, Role.DUTY_MANAGER, Role.PROFESSIONAL)
_CONTACT_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_GROUP_KEY = re.compile(r"(?P<group>child|parent)_(?P<index>\d{1,3})_[a-z]+")
_CARD_KEYS = frozenset({ACTION_KEY, CONTACT_KEY, VERSION_KEY, SECTION_KEY})

#: How long "View" waits for the record to be sent before answering Teams anyway.
INVOKE_BUDGET_SECONDS = 3.0

_NO_DRAFT = "You have no draft contact. Say **new contact** to start one."
_UNREADABLE = "That card could not be read, so nothing was changed. Say **resume** to carry on with a draft."


#: Builds the decisions or duty channel's card for a submitted contact: (summary, contact,
#: repeat_of, now).
DecisionCardMaker = Callable[[ChannelSummary, Contact, Sequence[str], datetime], Awaitable[dict[str, Any]]]
#: Redraws a contact's channel card in place for everyone (an urgent contact being completed).
ChannelUpdater = Callable[[Contact], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _CardRef:
    """What a section card's button says about the draft it belongs to."""

    contact_id: str
    version: int
    section: Section


def _contact_id(data: Mapping[str, Any]) -> str | None:
    value = data.get(CONTACT_KEY)
    return value if isinstance(value, str) and _CONTACT_ID.fullmatch(value) else None


def _card_ref(data: Mapping[str, Any]) -> _CardRef | None:
    contact_id = _contact_id(data)
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
    return _CardRef(contact_id, version, section)


def _answers(data: Mapping[str, Any]) -> dict[str, object]:
    """The card's inputs: everything in its data but the button's own keys."""
    return {key: value for key, value in data.items() if isinstance(key, str) and key not in _CARD_KEYS}


def _shown(answers: Mapping[str, object]) -> dict[str, str]:
    """Answers as input values, to show them again as they were entered."""
    shown: dict[str, str] = {}
    for key, value in answers.items():
        if isinstance(value, bool):
            shown[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            shown[key] = str(value)
    return shown


def _blocks(answers: Mapping[str, object], group: str, most: int) -> int:
    """How many child (or parent) blocks the card that sent ``answers`` had."""
    found = [
        int(match["index"])
        for key in answers
        if (match := _GROUP_KEY.fullmatch(key)) is not None and match["group"] == group
    ]
    return min(max(found, default=0) + 1, most)


def _address_of(activity: Activity) -> PersonAddress | None:
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
        self._store = context.store
        self._clock = context.clock
        self._calendar = context.calendar
        self._policy = context.policy
        self._notifier = context.notifier
        # The service's list from its policy file (``history.local_systems``) unless given.
        self._local_systems = tuple(
            local_systems if local_systems is not None else context.policy.history.local_systems
        )
        self._records = ContactRecords(context.store, context.clock)
        #: builds the decisions (or duty) channel's card, with the decision's refresh, if set
        self._decision_card = decision_card
        #: redraws a contact's channel card, if set
        self._channel_update = channel_update
        #: sends still running after an invoke was answered (kept so they are not collected)
        self._background: set[asyncio.Task[bool]] = set()

    def register(self, router: Router, finders: Finders) -> None:
        finders.register(ReferenceKind.CONTACT, self.find_contact, Permission.VIEW_CONTACTS)
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
        router.submission(HISTORY_OPEN, self.on_history_open)
        router.submission(HISTORY_SAVE, self.on_history_save)
        router.execution(VIEW_VERB, self.on_view)
        router.text_fallbacks.append(self.on_text)

    # -- commands --------------------------------------------------------------------------------

    async def on_new_contact(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        now = self._clock.now()
        result = await start_contact(self._store.unit_of_work(), who=actor.who, now=now)
        if isinstance(result, Refusal):
            await turn_context.send_activity(result.message)
            return
        log.info("contact started", extra={"contact_id": result.id})
        others = len(await self._drafts(actor.aad_object_id)) - 1
        notice = ""
        if others > 0:
            plural = "draft" if others == 1 else "drafts"
            notice = f"You also have {others} other {plural}: say resume to see them."
        await self._show(turn_context, await self._form(result, notice=notice))

    async def on_resume(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        drafts = await self._drafts(actor.aad_object_id)
        if not drafts:
            await turn_context.send_activity(_NO_DRAFT)
        elif len(drafts) == 1:
            [draft] = drafts
            await self._show(turn_context, await self._form(draft, notice="Carrying on where you left off."))
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
            await _send_card(turn_context, drafts_card(lines))

    async def on_cancel(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        drafts = await self._drafts(actor.aad_object_id)
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
        drafts = await self._drafts(actor.aad_object_id)
        if not drafts:
            return False
        draft = drafts[-1]
        title = SECTION_TITLES[section_of(draft)]
        notice = (
            f"You are part-way through a new contact (at: {title}). Please answer on the card and "
            "press its buttons; say cancel to delete the draft, or help for the other commands."
        )
        log.info("reminded of a waiting card", extra={"contact_id": draft.id})
        await self._show(turn_context, await self._form(draft, notice=notice))
        return True

    async def show_draft(self, turn_context: TurnContext, contact: Contact, notice: str = "") -> None:
        """Open the script's card for a draft started elsewhere (from an e-mail in the queue)."""
        await self._show(turn_context, await self._form(contact, notice=notice))

    # -- the section cards -----------------------------------------------------------------------

    async def _checked(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> _CardRef | None:
        """The card's reference to its draft, if the card can be read and the person may use it."""
        if not actor.may(Permission.START_CONTACT):
            await turn_context.send_activity(refusal(Permission.START_CONTACT))
            return None
        ref = _card_ref(action.data)
        if ref is None:
            log.info("unreadable intake card", extra={"action": action.action})
            await turn_context.send_activity(_UNREADABLE)
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
            await turn_context.send_activity(_UNREADABLE)
            return
        now = self._clock.now()
        answers = _answers(action.data)
        strangers = await self._not_staff(ref.section, answers)
        if strangers:
            await self._show_invalid(turn_context, ref, answers, strangers)
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
                await self._show_invalid(turn_context, ref, answers, result.errors)
            else:
                await self._refused(turn_context, actor, ref, result)
            return
        if result.created is not None:
            await self._created(turn_context, actor, action, result.created, now)
            return
        if result.before is not None:
            await self._urgent_saved(result.before, result.contact, actor, now)
        log.info(
            "contact section saved",
            extra={"contact_id": ref.contact_id, "action": action.action, "status": result.section.value},
        )
        title = SECTION_TITLES[ref.section]
        children = parents = None
        if add == "child":
            children = min(len(result.contact.children) + 1, MAX_CHILDREN)
            notice = "Another child added: fill in their details below."
            note = "Another child was added to a new card below."
        elif add == "parent":
            parents = min(len(result.contact.parents) + 1, MAX_PARENTS)
            notice = "Another parent or carer added: fill in their details below."
            note = "Another parent or carer was added to a new card below."
        elif advance:
            notice, note = "", "Saved. The next step is below."
        else:
            at = f"{now.astimezone(LONDON):%H:%M}"
            notice = f"Draft saved at {at}. Carry on here, or say resume later to come back to it."
            note = f"Draft saved at {at}; the card to carry on with is below."
        await self._set_aside(turn_context, action, f"{title}: saved", note)
        form = await self._form(result.contact, notice=notice, children=children, parents=parents)
        await self._show(turn_context, form)

    async def _created(
        self,
        turn_context: TurnContext,
        actor: Actor,
        action: CardAction,
        created: SubmissionResult,
        now: datetime,
    ) -> None:
        """The emergency details saved: the urgent contact exists. Tell the consultants first, then
        give the officer the receipt and the next card of the same contact."""
        log.info(
            "urgent contact created",
            extra={"contact_id": created.contact.id, "reference": created.reference, "status": "urgent"},
        )
        await self._set_aside(
            turn_context,
            action,
            "Emergency details: saved",
            f"Created as {created.reference}; the receipt is below.",
        )
        outcomes = await self._dispatch(created, actor, now)
        await _send_card(turn_context, receipt_card(created, now, outcomes))
        await self._show(turn_context, await self._form(created.contact))

    async def _urgent_saved(self, before: Contact, after: Contact, actor: Actor, now: datetime) -> None:
        """A card saved on an urgent contact that exists: its channel card shows it, and the history
        checks, once they say so, tell the allocated worker or the duty manager."""
        await self._update_channel(after)
        await self._history_handoffs(before, after, actor, now)

    async def _update_channel(self, contact: Contact) -> None:
        if self._channel_update is not None:
            await self._channel_update(contact)

    async def _history_handoffs(
        self, before: Contact, after: Contact, actor: Actor, now: datetime
    ) -> list[str]:
        """What the history checks of an urgent contact reveal, told at once (SPEC §3): an open
        case to its allocated worker, a re-referral to the duty manager (the consultant on duty has
        it already). Each only when it is new on this save."""
        lines: list[str] = []
        received = after.received_at or now
        async with self._store.unit_of_work() as uow:
            decisions = await channel_conversation(uow, ChannelPurpose.DECISIONS)
            duty = await channel_conversation(uow, ChannelPurpose.DUTY)
            names = {entry.aad_object_id: entry.display_name for entry in await uow.roles.entries()}
            deadlines = await uow.deadlines.for_subject(after.reference or "")
        worker = after.history.allocated_worker_id if after.history.open_case else None
        previous = before.history.allocated_worker_id if before.history.open_case else None
        summary = channel_summary(after, deadlines, now, self._calendar, self._policy)
        if worker and worker != previous:
            async with self._store.unit_of_work() as uow:
                worker_roles = await uow.roles.roles_of(worker)
            heading = (
                "Urgent: an immediate risk about a child whose case is open to you. It is with the "
                "consultant on duty at the front door now."
            )
            lines += await self._pass_to_worker(
                after, summary, deadlines, worker, actor, decisions, names, worker_roles, now, heading
            )
        if is_rereferral(after, received, self._policy) and not is_rereferral(before, received, self._policy):
            lines += await self._show_to_duty(after, summary, actor, duty, now)
        return lines

    async def _show_to_duty(
        self,
        contact: Contact,
        summary: ChannelSummary,
        actor: Actor,
        duty: ConversationRecord | None,
        now: datetime,
    ) -> list[str]:
        """An urgent re-referral stays with the consultant on duty; the duty manager is shown it."""
        reference = contact.reference or ""
        if duty is None:
            await self._audit(actor, "contact.not_shown_to_duty", reference, "reason=no_channel")
            return ["It is a re-referral, but no duty channel is set: tell the duty manager."]
        card = channel_card(
            summary,
            now,
            ChannelCardKind.REREFERRAL,
            note="Urgent re-referral: the consultant on duty is screening it now. Shown here so the duty "
            "manager knows.",
        )
        delivery = await self._notifier.send_card(
            duty.conversation_id, card, text=f"Urgent re-referral {reference}: with the consultant on duty."
        )
        if not delivery.ok:
            await self._post_failed(actor, reference, "duty", delivery)
            return [
                f"I could not show the re-referral on the duty channel ({delivery.error_code}): "
                "tell the duty manager."
            ]
        detail = f"conversation={delivery.conversation_id}; activity={delivery.activity_id}"
        # Not "contact.posted": the contact's own channel card stays the decisions channel's.
        await self._audit(actor, "contact.shown_to_duty", reference, detail)
        return ["It is a re-referral: shown to the duty manager on the duty channel."]

    async def _not_staff(self, section: Section, answers: Mapping[str, object]) -> list[FieldError]:
        """The history card's workers must be staff in the role directory (the card offers only
        them; a forged card could name anyone, and the allocated worker is messaged)."""
        if section is not Section.HISTORY:
            return []
        people, _ = await self._people()
        staff = {person for person, _ in people}
        errors = []
        for spec in fields_for(Section.HISTORY, local_systems=self._local_systems):
            value = answers.get(spec.id)
            named = value.strip() if isinstance(value, str) else ""
            if spec.kind is FieldKind.PERSON and named and named not in staff:
                errors.append(FieldError(spec.id, f"{spec.label}: choose a member of staff from the list"))
        return errors

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
            await self._refused(turn_context, actor, ref, result)
            return
        await self._set_aside(
            turn_context, action, f"{SECTION_TITLES[ref.section]}: left", "Went back; the card is below."
        )
        await self._show(turn_context, await self._form(result.contact))

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
            await self._refused(turn_context, actor, ref, result)
            return
        await self._cancelled(turn_context, result, action)

    async def _cancelled(
        self, turn_context: TurnContext, result: DraftCancelled | Refusal, action: CardAction | None
    ) -> None:
        if isinstance(result, Refusal):
            await turn_context.send_activity(result.message)
            return
        if action is not None:
            await self._set_aside(turn_context, action, "New contact: cancelled", "This draft was deleted.")
        log.info("contact draft cancelled", extra={"action": "cancel"})
        await turn_context.send_activity(
            "The draft was cancelled and deleted. Say **new contact** to start again."
        )

    async def on_open(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        if not actor.may(Permission.START_CONTACT):
            await turn_context.send_activity(refusal(Permission.START_CONTACT))
            return
        contact_id = _contact_id(action.data)
        draft = await self._own_draft(contact_id, actor) if contact_id else None
        if draft is None:
            await turn_context.send_activity(
                "That draft is not one of yours any more: it may have been submitted or cancelled. "
                "Say **resume** to see your drafts."
            )
            return
        await self._show(turn_context, await self._form(draft, notice="Carrying on where you left off."))

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
                await self._back_to_problem(turn_context, actor, ref, result)
            else:
                await self._refused(turn_context, actor, ref, result)
            return
        log.info(
            "contact submitted",
            extra={"contact_id": ref.contact_id, "reference": result.reference, "status": result.route.value},
        )
        if result.completed:
            await self._set_aside(
                turn_context, action, f"Finished {result.reference}", "The receipt is below."
            )
            await self._update_channel(result.contact)
            outcomes = ["Its card on the decisions channel shows the completed contact."]
            await _send_card(turn_context, receipt_card(result, now, outcomes))
            return
        await self._set_aside(
            turn_context, action, f"Submitted as {result.reference}", "The receipt is below."
        )
        outcomes = await self._dispatch(result, actor, now)
        await _send_card(turn_context, receipt_card(result, now, outcomes))

    async def _back_to_problem(
        self, turn_context: TurnContext, actor: Actor, ref: _CardRef, refused: Refusal
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
            await self._refused(turn_context, actor, ref, moved)
            return
        errors = [
            error
            for error in refused.errors
            if field_section(error.field_id, self._local_systems) in (target, None)
        ]
        await self._show(
            turn_context,
            await self._form(
                moved.contact,
                notice="The contact was not submitted: something needs changing first.",
                errors=errors,
            ),
        )

    async def dispatch_submitted(self, result: SubmissionResult, actor: Actor) -> list[str]:
        """Post a contact submitted by another feature (the domestic-abuse triage) as intake posts
        its own; what was done."""
        return await self._dispatch(result, actor, self._clock.now())

    async def _dispatch(self, result: SubmissionResult, actor: Actor, now: datetime) -> list[str]:
        """Post the submitted contact where its route sends it; what was done, for the receipt."""
        async with self._store.unit_of_work() as uow:
            decisions = await channel_conversation(uow, ChannelPurpose.DECISIONS)
            duty = await channel_conversation(uow, ChannelPurpose.DUTY)
            names = {entry.aad_object_id: entry.display_name for entry in await uow.roles.entries()}
            worker = result.worker_to_notify
            worker_roles = await uow.roles.roles_of(worker) if worker else frozenset()
        match result.route:
            case Route.SCREENING:
                return await self._post_decision(result, actor, decisions, now)
            case Route.OPEN_CASE:
                heading = (
                    "Significant information about a child whose case is open to you. It is closed "
                    "at the front door and passed to you."
                )
                return await self._pass_to_worker(
                    result.contact,
                    result.summary,
                    result.deadlines,
                    result.worker_to_notify or "",
                    actor,
                    decisions,
                    names,
                    worker_roles,
                    now,
                    heading,
                )
            case Route.REREFERRAL:
                return await self._post_rereferral(result, actor, duty, now)

    async def _post_decision(
        self, result: SubmissionResult, actor: Actor, decisions: ConversationRecord | None, now: datetime
    ) -> list[str]:
        reference = result.reference
        urgent_call = " It is urgent: phone the consultant on duty now." if result.urgent else ""
        if decisions is None:
            await self._audit(actor, "contact.not_posted", reference, "purpose=decisions; reason=no_channel")
            return [
                "No decisions channel is set, so no decision card was posted: ask an administrator to "
                "say **register decisions channel** in the consultants' channel. The contact is saved "
                "and waiting for screening." + urgent_call
            ]
        mentions = [
            Mentioned(target.person_id, target.display_name or "Consultant on duty")
            for target in result.mention_targets
        ]
        text = f"Urgent contact {reference}: please screen it now." if result.urgent else None
        if self._decision_card is not None:
            card = await self._decision_card(result.summary, result.contact, result.repeat_of, now)
        else:
            card = decision_card(result.summary, now, repeat_of=result.repeat_of)
        delivery = await self._notifier.send_card(decisions.conversation_id, card, mentions, text)
        if not delivery.ok:
            await self._post_failed(actor, reference, "decisions", delivery)
            return [
                f"I could not post to the decisions channel ({delivery.error_code}). The contact is saved "
                "and waiting for screening; tell the consultants." + urgent_call
            ]
        await self._posted(actor, reference, "decisions", delivery, len(mentions))
        lines = ["Posted to the decisions channel."]
        if result.urgent:
            if mentions:
                who = "consultant on duty was" if len(mentions) == 1 else f"{len(mentions)} consultants were"
                lines.append(f"The {who} @mentioned there.")
            else:
                lines.append(
                    "No consultant is in the role directory to @mention: phone the consultant on duty now."
                )
        return lines

    async def _pass_to_worker(
        self,
        contact: Contact,
        summary: ChannelSummary,
        deadlines: Sequence[Deadline],
        worker: str,
        actor: Actor,
        decisions: ConversationRecord | None,
        names: Mapping[str, str],
        worker_roles: frozenset[Role],
        now: datetime,
        heading: str,
    ) -> list[str]:
        reference = contact.reference or ""
        worker = worker
        if not worker_roles & frozenset(_STAFF):
            # Not (or no longer) staff in the directory: nobody is messaged on the card's word.
            await self._audit(
                actor, "contact.passed_to_worker", reference, f"worker={worker}; via=none; reason=not_staff"
            )
            return [
                "The allocated worker named is not a member of staff in the role directory, so I sent it to "
                f"nobody: please pass it on to the worker yourself, quoting {reference}."
            ]
        # The worker gets the full record only if their role lets them see contacts at all.
        if may(worker_roles, Permission.VIEW_CONTACTS):
            card = record_card(
                contact, deadlines, now, names, heading=heading, local_systems=self._local_systems
            )
        else:
            card = channel_card(summary, now, ChannelCardKind.OPEN_CASE)
        delivery = await self._notifier.send_card_to_person(worker, card)
        if delivery.ok:
            await self._audit(
                actor,
                "contact.passed_to_worker",
                reference,
                f"worker={worker}; via=personal_chat; activity={delivery.activity_id}",
            )
            return ["Sent to the allocated worker in their personal chat with me."]
        if decisions is not None:
            mention = Mentioned(worker, names.get(worker) or "Allocated worker")
            posted = await self._notifier.send_card(
                decisions.conversation_id,
                open_case_card(summary, now),
                [mention],
                f"significant information on an open case of yours: {reference}.",
            )
            if posted.ok:
                await self._audit(
                    actor,
                    "contact.passed_to_worker",
                    reference,
                    f"worker={worker}; via=decisions_channel; activity={posted.activity_id}",
                )
                return [
                    "The allocated worker has no chat with me, so it was posted to the decisions channel "
                    "with an @mention for them."
                ]
            await self._post_failed(actor, reference, "decisions", posted)
        await self._audit(actor, "contact.passed_to_worker", reference, f"worker={worker}; via=none")
        return [
            "I could not reach the allocated worker (no chat with me, and no decisions channel I could "
            f"post to): please pass it on to them yourself, quoting {reference}."
        ]

    async def _post_rereferral(
        self, result: SubmissionResult, actor: Actor, duty: ConversationRecord | None, now: datetime
    ) -> list[str]:
        reference = result.reference
        if duty is None:
            await self._audit(actor, "contact.not_posted", reference, "purpose=duty; reason=no_channel")
            return [
                "No duty channel is set, so the re-referral card was not posted: tell the duty manager, and "
                "ask an administrator to say **register duty channel** in the duty managers' channel."
            ]
        if self._decision_card is not None:
            card = await self._decision_card(result.summary, result.contact, result.repeat_of, now)
        else:
            card = rereferral_card(result.summary, now, repeat_of=result.repeat_of)
        delivery = await self._notifier.send_card(duty.conversation_id, card)
        if not delivery.ok:
            await self._post_failed(actor, reference, "duty", delivery)
            return [f"I could not post to the duty channel ({delivery.error_code}): tell the duty manager."]
        await self._posted(actor, reference, "duty", delivery, 0)
        return ["Posted to the duty channel for the duty manager."]

    async def _posted(
        self, actor: Actor, reference: str, purpose: str, delivery: Delivery, mentioned: int
    ) -> None:
        detail = (
            f"purpose={purpose}; conversation={delivery.conversation_id}; "
            f"activity={delivery.activity_id}; mentioned={mentioned}"
        )
        await self._audit(actor, "contact.posted", reference, detail)

    async def _post_failed(self, actor: Actor, reference: str, purpose: str, delivery: Delivery) -> None:
        detail = f"purpose={purpose}; conversation={delivery.conversation_id}; code={delivery.error_code}"
        await self._audit(actor, "contact.post_failed", reference, detail)

    # -- viewing a submitted contact -------------------------------------------------------------

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
            await self._audit(actor, "contact.view_refused", str(reference), "via=channel_card")
            return InvokeReply(message=refusal(Permission.VIEW_CONTACTS))
        card = await self._record_card(str(reference), actor)
        if card is None:
            return InvokeReply(message=f"I could not find {reference}.")
        address = _address_of(turn_context.activity)
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
        await _send_card(turn_context, card)

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
                work_card_action(contact.reference or "", contact.version),
                *(
                    [mash_start_action(reference)]
                    if actor.may(Permission.MASH_EPISODE) and contact.state is not ContactState.CLOSED
                    else []
                ),
            ],
            record_history=_history_outstanding(contact) and actor.may(Permission.RECORD_HISTORY_CHECKS),
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
        if contact is None or not _history_outstanding(contact):
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
            await turn_context.send_activity(_UNREADABLE)
            return
        answers = _answers({k: v for k, v in action.data.items() if k != REFERENCE_KEY})
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
            await turn_context.send_activity(result.message)
            if result.reason is RefusalReason.INVALID:
                async with self._store.unit_of_work() as uow:
                    contact = await uow.contacts.get_by_reference(reference)
                if contact is not None:
                    await self._show_history(turn_context, contact, answers, result.errors)
            return
        log.info("history checks recorded", extra={"reference": reference})
        await self._set_aside(
            turn_context, action, f"History checks recorded: {reference}", "What was done is below."
        )
        lines = ["Saved. Its card on the decisions channel shows the history checks as recorded."]
        await self._update_channel(result.contact)
        lines += await self._history_handoffs(result.before, result.contact, actor, now)
        await turn_context.send_activity("\n\n".join(lines))

    async def _show_history(
        self,
        turn_context: TurnContext,
        contact: Contact,
        answers: Mapping[str, object] | None = None,
        errors: Sequence[FieldError] = (),
    ) -> None:
        people, names = await self._people()
        form = SectionForm(
            contact_id=contact.id,
            version=contact.version,
            section=Section.HISTORY,
            fields=fields_for(Section.HISTORY, local_systems=self._local_systems),
            values=_shown(answers) if answers is not None else section_values(contact, Section.HISTORY),
            errors=tuple(errors),
            people=people,
            people_names=names,
            local_systems=self._local_systems,
            free_text_limit=self._policy.limits.max_free_text_chars,
        )
        await _send_card(turn_context, history_checks_card(form, contact.reference or ""))

    # -- helpers ---------------------------------------------------------------------------------

    async def _drafts(self, user_id: str) -> list[Contact]:
        async with self._store.unit_of_work() as uow:
            return await uow.contacts.drafts_of(user_id)

    async def _own_draft(self, contact_id: str, actor: Actor) -> Contact | None:
        async with self._store.unit_of_work() as uow:
            contact = await uow.contacts.get(contact_id)
        if (
            contact is None
            or contact.created_by != actor.aad_object_id
            or (contact.state is not ContactState.DRAFT and not contact.completing)
        ):
            return None
        return contact

    async def _people(self) -> tuple[tuple[Choice, ...], dict[str, str]]:
        async with self._store.unit_of_work() as uow:
            entries = await uow.roles.entries()
        names = {entry.aad_object_id: entry.display_name for entry in entries}
        staff = sorted(
            (entry for entry in entries if entry.roles & frozenset(_STAFF)),
            key=lambda entry: ((entry.display_name or entry.aad_object_id).casefold(), entry.aad_object_id),
        )
        return tuple(
            (entry.aad_object_id, entry.display_name or entry.aad_object_id) for entry in staff
        ), names

    async def _form(
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
        people, names = await self._people() if section in (Section.HISTORY, Section.SUMMARY) else ((), {})
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
            contact=contact if section is Section.SUMMARY else None,
            people_names=names,
            local_systems=self._local_systems,
            free_text_limit=self._policy.limits.max_free_text_chars,
            today=self._clock.now().astimezone(LONDON).date(),
        )

    async def _show_invalid(
        self,
        turn_context: TurnContext,
        ref: _CardRef,
        answers: Mapping[str, object],
        errors: Sequence[FieldError],
    ) -> None:
        """The same card again, with what was entered and a message beside each field to change."""
        log.info("contact section refused", extra={"contact_id": ref.contact_id, "count": len(errors)})
        people, names = await self._people() if ref.section is Section.HISTORY else ((), {})
        async with self._store.unit_of_work() as uow:
            draft = await uow.contacts.get(ref.contact_id)
        # The risk screen's own answers decide the path while it is being answered.
        urgent = any(answers.get(f"risk_{risk.value}") == "yes" for risk in ImmediateRisk) or bool(
            draft is not None and draft.urgent and ref.section is not Section.RISK
        )
        fields = fields_for(
            ref.section,
            children=_blocks(answers, "child", MAX_CHILDREN),
            parents=_blocks(answers, "parent", MAX_PARENTS),
            local_systems=self._local_systems,
        )
        form = SectionForm(
            contact_id=ref.contact_id,
            version=ref.version,
            section=ref.section,
            fields=fields,
            values=_shown(answers),
            errors=tuple(errors),
            urgent=urgent,
            reference=(draft.reference or "") if draft is not None else "",
            people=people,
            people_names=names,
            local_systems=self._local_systems,
            free_text_limit=self._policy.limits.max_free_text_chars,
        )
        await self._show(turn_context, form)

    async def _refused(
        self, turn_context: TurnContext, actor: Actor, ref: _CardRef, refused: Refusal
    ) -> None:
        log.info("intake card refused", extra={"contact_id": ref.contact_id, "status": refused.reason.value})
        await turn_context.send_activity(refused.message)
        if refused.reason is RefusalReason.STALE:
            draft = await self._own_draft(ref.contact_id, actor)
            if draft is not None:
                await self._show(turn_context, await self._form(draft))

    async def _show(self, turn_context: TurnContext, form: SectionForm) -> None:
        await _send_card(turn_context, section_card(form))

    async def _set_aside(self, turn_context: TurnContext, action: CardAction, title: str, note: str) -> None:
        """Replace an answered card with a line saying so, so it is not pressed again by mistake."""
        if not action.card_activity_id:
            return
        activity = MessageFactory.attachment(CardFactory.adaptive_card(set_aside_card(title, note)))
        activity.id = action.card_activity_id
        try:
            await turn_context.update_activity(activity)
        except Exception as error:  # the card stays as it was; the draft's version still guards it
            log.warning("answered card not updated", extra={"error_code": type(error).__name__})

    async def _audit(self, actor: Actor, action: str, subject: str, detail: str) -> None:
        async with self._store.unit_of_work() as uow:
            await uow.audit.append(
                AuditEvent(
                    at=self._clock.now(),
                    actor_id=actor.aad_object_id,
                    action=action,
                    subject=subject,
                    detail=detail,
                )
            )
            await uow.commit()


def _history_outstanding(contact: Contact) -> bool:
    """An urgent contact, finished by its officer, whose history checks nobody has recorded yet."""
    open_states = contact.state not in (ContactState.CLOSED, ContactState.PASSED_ON, ContactState.DRAFT)
    return contact.urgent and not contact.history.recorded and not contact.completing and open_states


async def _send_card(turn_context: TurnContext, card: dict[str, Any]) -> None:
    await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))
