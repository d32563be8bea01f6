"""The e-mail queue's cards (SPEC §5a), shown in a personal chat only.

- The queue (``mail``): the untaken e-mails, oldest first, each with its sender, subject, received
  time, attachment names and a short preview (plain text; links defanged by ``frontdoor.mail``, and
  Markdown escaped here so nothing on the card is a link), and an "I'll take it" button; then the
  e-mails the asker has taken and not dealt with yet (the first few with their buttons, the rest
  with "Open"; the card stays under Teams' message size however many are held).
- A taken e-mail: the same details with "Start contact" and "Not a referral" (a reason and, for a
  duplicate, the CT- reference).

Attachments are named, never attached: the message stays in the mailbox.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    CardElement,
    ChoiceSetInput,
    Container,
    Fact,
    FactSet,
    SubmitAction,
    TextBlock,
    TextInput,
)
from microsoft_teams.cards import (
    Choice as CardChoice,
)

from bot.cards.common import flag, to_dict
from bot.cards.details import plain
from bot.cards.rendered import Rendered
from frontdoor.alerts import OutboxItem
from frontdoor.mail import untaken_from_payload
from frontdoor.mail_records import REASON_TITLES, MailItem
from frontdoor.timefmt import format_duration, format_local

#: ``fd`` values of the buttons (see ``bot.routing.ACTION_KEY``).
#: Said when the queue or its buttons are used outside a personal chat.
PERSONAL_ONLY: Final = (
    "The e-mail queue shows senders and message text, so it is only shown in a personal chat."
)
TAKE: Final = "mail.take"
START: Final = "mail.start"
NOT_REFERRAL: Final = "mail.not_referral"
#: The key of the e-mail's id in the buttons' data, and the inputs of "Not a referral".
MAIL_KEY: Final = "mail"
REASON_INPUT: Final = "mail_reason"
DETAIL_INPUT: Final = "mail_detail"
#: The limits below keep the queue card under the ~28 KB Teams takes in one message, however many
#: e-mails wait or an officer holds and however long their subjects and attachment lists
#: (tests/bot/test_mail_cards.py builds the largest).
#: Waiting e-mails listed before "and N more".
MAIL_LIST_LIMIT: Final = 10
#: Taken e-mails shown with their "Start contact" and "Not a referral" inputs; then up to
#: ``TAKEN_LISTED`` more with an "Open" button (their own card), then a count.
TAKEN_IN_FULL: Final = 3
TAKEN_LISTED: Final = 5
#: What of a sender, a subject and the attachments' names the cards show (the mailbox has them all).
SENDER_CHARS: Final = 120
SUBJECT_CHARS: Final = 150
ATTACHMENTS_SHOWN: Final = 5
ATTACHMENT_NAME_CHARS: Final = 80


def _text(text: str, **options: Any) -> TextBlock:
    return TextBlock(text=text, wrap=True, **options)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _attachments(names: Sequence[str]) -> str:
    if not names:
        return "none"
    shown = ", ".join(_cut(name, ATTACHMENT_NAME_CHARS) for name in names[:ATTACHMENTS_SHOWN])
    more = len(names) - ATTACHMENTS_SHOWN
    return plain(shown) + (f" and {more} more" if more > 0 else "")


def _subject(item: MailItem) -> TextBlock:
    return _text(plain(_cut(item.subject, SUBJECT_CHARS)) or "(no subject)", weight="Bolder")


def _details(item: MailItem) -> list[CardElement]:
    sender = f"{item.sender_name} ({item.sender_address})" if item.sender_name else item.sender_address
    facts = [
        Fact(title="From", value=plain(_cut(sender, SENDER_CHARS))),
        Fact(title="Received", value=format_local(item.received_at)),
        Fact(title="Attachments", value=_attachments(item.attachments)),
    ]
    return [
        _subject(item),
        FactSet(facts=facts),
        _text(plain(item.preview) or "(no text)", is_subtle=True, max_lines=4),
    ]


def _listed(item: MailItem) -> Container:
    """A taken e-mail beyond ``TAKEN_IN_FULL``: its subject and time, and a button to its own card."""
    open_it = SubmitAction(title="Open", data={"fd": TAKE, MAIL_KEY: item.id})
    received = _text(f"Received {format_local(item.received_at)}", is_subtle=True, spacing="None")
    return Container(separator=True, items=[_subject(item), received, ActionSet(actions=[open_it])])


def mail_queue_card(waiting: Sequence[MailItem], mine: Sequence[MailItem]) -> dict[str, Any]:
    body: list[CardElement] = [
        _text(f"E-mail queue: {len(waiting)} waiting", weight="Bolder", size="Medium"),
        _text("Oldest first. Take one to start a contact from it or mark it not a referral.", is_subtle=True),
    ]
    for item in waiting[:MAIL_LIST_LIMIT]:
        take = SubmitAction(title="I'll take it", data={"fd": TAKE, MAIL_KEY: item.id})
        body.append(Container(separator=True, items=[*_details(item), ActionSet(actions=[take])]))
    hidden = len(waiting) - MAIL_LIST_LIMIT
    if hidden > 0:
        body.append(_text(f"and {hidden} more; take the oldest first.", is_subtle=True))
    if mine:
        body.append(_text(f"Taken by you: {len(mine)}", weight="Bolder", separator=True))
        for item in mine[:TAKEN_IN_FULL]:
            body.append(Container(separator=True, items=[*_details(item), *_taken_actions(item)]))
        listed = mine[TAKEN_IN_FULL : TAKEN_IN_FULL + TAKEN_LISTED]
        body.extend(_listed(item) for item in listed)
        unlisted = len(mine) - TAKEN_IN_FULL - len(listed)
        if unlisted > 0:
            body.append(_text(f"and {unlisted} more taken by you; deal with these first.", is_subtle=True))
    return to_dict(AdaptiveCard(body=body, fallback_text=f"E-mail queue: {len(waiting)} waiting"))


def _taken_actions(item: MailItem) -> list[CardElement]:
    start = SubmitAction(
        title="Start contact", data={"fd": START, MAIL_KEY: item.id}, associated_inputs="none"
    )
    not_referral = SubmitAction(title="Not a referral", data={"fd": NOT_REFERRAL, MAIL_KEY: item.id})
    return [
        ActionSet(actions=[start]),
        ChoiceSetInput(
            id=f"{REASON_INPUT}_{item.id}",
            label="Not a referral: why",
            choices=[CardChoice(title=title, value=reason.value) for reason, title in REASON_TITLES.items()],
        ),
        TextInput(
            id=f"{DETAIL_INPUT}_{item.id}",
            label="For a duplicate, the contact's reference (CT-…); otherwise a short note",
            max_length=200,
        ),
        ActionSet(actions=[not_referral]),
    ]


def taken_card(item: MailItem, note: str = "") -> dict[str, Any]:
    """A taken e-mail with what to do with it."""
    body: list[CardElement] = []
    if note:
        body.append(_text(note, weight="Bolder"))
    body += [*_details(item), *_taken_actions(item)]
    return to_dict(AdaptiveCard(body=body, fallback_text="You took an e-mail"))


def render_mail_untaken(item: OutboxItem, now: datetime, names: Mapping[str, str]) -> Rendered:
    """The duty manager's alert: an e-mail has waited untaken too long (ids and times only)."""
    _, received_at = untaken_from_payload(item.payload)
    waited = format_duration(now - received_at)
    body: list[CardElement] = [
        flag("E-mail waiting untaken", "warning"),
        _text(
            f"An e-mail received {format_local(received_at)} has waited {waited} and nobody has taken "
            "it. Say **mail** in a personal chat with the bot to see the e-mail queue."
        ),
    ]
    card = to_dict(AdaptiveCard(body=body, fallback_text="E-mail waiting untaken"))
    return Rendered(card=card, text="An e-mail in the front door's mailbox is waiting untaken.")
