"""The e-mail queue's cards (SPEC §5a), shown in a personal chat only.

- The queue (``mail``): the untaken e-mails, oldest first, each with its sender, subject, received
  time, attachment names and a short preview (plain text; links defanged by ``frontdoor.mail``, and
  Markdown escaped here so nothing on the card is a link), and an "I'll take it" button; then the
  e-mails the asker has taken and not dealt with yet.
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
from bot.cards.intake import plain
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
#: E-mails listed on one card before "and N more".
MAIL_LIST_LIMIT: Final = 20


def _text(text: str, **options: Any) -> TextBlock:
    return TextBlock(text=text, wrap=True, **options)


def _details(item: MailItem) -> list[CardElement]:
    sender = f"{item.sender_name} ({item.sender_address})" if item.sender_name else item.sender_address
    facts = [
        Fact(title="From", value=plain(sender)),
        Fact(title="Received", value=format_local(item.received_at)),
        Fact(title="Attachments", value=plain(", ".join(item.attachments)) if item.attachments else "none"),
    ]
    return [
        _text(plain(item.subject) or "(no subject)", weight="Bolder"),
        FactSet(facts=facts),
        _text(plain(item.preview) or "(no text)", is_subtle=True, max_lines=4),
    ]


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
        for item in mine:
            body.append(Container(separator=True, items=[*_details(item), *_taken_actions(item)]))
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
