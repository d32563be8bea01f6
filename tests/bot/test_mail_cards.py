"""The e-mail queue's card at its largest: valid Adaptive Cards 1.5 under Microsoft's SDK and under
the ~28 KB Teams takes in one message, however many e-mails wait or an officer holds, and however
long their senders, subjects and attachment lists."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.cards.mail import (
    ATTACHMENTS_SHOWN,
    MAIL_LIST_LIMIT,
    NOT_REFERRAL,
    START,
    TAKE,
    TAKEN_IN_FULL,
    TAKEN_LISTED,
    mail_queue_card,
)
from frontdoor.mail_records import PREVIEW_CHARS, MailItem, MailState
from tests.bot.intake_script import actions, texts_of
from tests.harness.cards import validate_card

AT = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
#: Teams refuses messages over about 28 KB.
TEAMS_LIMIT = 28 * 1024


def largest(number: int, state: MailState = MailState.WAITING) -> MailItem:
    """An e-mail with everything at its longest (a subject is kept to 500 characters on arrival)."""
    return MailItem(
        id=f"mail-{number:06d}",
        mailbox="INBOX",
        uid_validity=1,
        uid=number,
        message_id=f"<{number}@mail.example.org>",
        received_at=AT - timedelta(minutes=number),
        sender_name="Example Sender " * 20,
        sender_address=f"sender.{number}@agency.example.org",
        subject="Vulnerable child form " * 23,
        attachments=tuple(f"{'attachment-' * 20}{n}.pdf" for n in range(30)),
        preview="p" * PREVIEW_CHARS,
        state=state,
        taken_by="aad-officer" if state is MailState.TAKEN else None,
    )


def test_the_busiest_queue_is_a_valid_card_teams_accepts() -> None:
    waiting = [largest(n) for n in range(50)]
    mine = [largest(100 + n, MailState.TAKEN) for n in range(50)]
    card = mail_queue_card(waiting, mine)
    assert validate_card(card) == []
    assert len(json.dumps(card).encode()) < TEAMS_LIMIT
    verbs = [action["data"]["fd"] for action in actions(card)]
    assert verbs.count(START) == verbs.count(NOT_REFERRAL) == TAKEN_IN_FULL
    # the waiting ones to take, then the taken ones beyond the first few to open
    assert verbs.count(TAKE) == MAIL_LIST_LIMIT + TAKEN_LISTED
    text = texts_of(card)
    assert f"and {50 - MAIL_LIST_LIMIT} more; take the oldest first." in text
    assert f"and {50 - TAKEN_IN_FULL - TAKEN_LISTED} more taken by you" in text
    assert f"and {30 - ATTACHMENTS_SHOWN} more" in text


def test_a_few_taken_e_mails_are_all_shown_with_their_buttons() -> None:
    mine = [largest(n, MailState.TAKEN) for n in range(TAKEN_IN_FULL)]
    card = mail_queue_card([], mine)
    verbs = [action["data"]["fd"] for action in actions(card)]
    assert verbs == [START, NOT_REFERRAL] * TAKEN_IN_FULL
    assert "more taken by you" not in texts_of(card)
