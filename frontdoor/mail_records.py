"""The e-mail queue's records and their repository port (SPEC §5a): what is kept of each message
in the front door's mailbox. The use cases over them are in ``frontdoor.mail``; this module does not
import the unit of work, so the unit of work can gather the port."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from frontdoor.calendar import require_aware

#: Characters of plain text kept as the preview.
PREVIEW_CHARS = 400
#: The prefix of an e-mail's subject in the audit log, deadlines and alert keys.
SUBJECT_PREFIX = "mail:"
#: The actor recorded for what the mailbox watcher does.
WATCHER_ACTOR = "system:mailbox"


class MailState(StrEnum):
    #: in the queue, nobody has taken it
    WAITING = "waiting"
    #: an officer said "I'll take it"
    TAKEN = "taken"
    #: a contact was started from it
    STARTED = "started"
    #: marked not a referral, with a reason
    NOT_REFERRAL = "not_referral"
    #: the message could not be read; it stays in the mailbox, and is never taken again
    UNREADABLE = "unreadable"


class NotReferralReason(StrEnum):
    ADVICE = "advice"
    ENQUIRY = "enquiry"
    DUPLICATE = "duplicate"
    WRONG_SERVICE = "wrong_service"


REASON_TITLES: Mapping[NotReferralReason, str] = {
    NotReferralReason.ADVICE: "Advice given",
    NotReferralReason.ENQUIRY: "Enquiry",
    NotReferralReason.DUPLICATE: "Duplicate of a contact (CT-…)",
    NotReferralReason.WRONG_SERVICE: "Wrong service",
}

#: A contact reference, e.g. CT-26-000123 (a duplicate names the contact it repeats): a whole one,
#: not the start of a longer one (CT-26-0001234 is a mistyped reference, not CT-26-000123).
_CONTACT_REFERENCE = re.compile(r"(?<![\w-])CT-\d{2}-\d{6}(?![\w-])")


@dataclass(frozen=True, slots=True)
class MailItem:
    """One e-mail in the queue. ``message_id`` is the message's Message-ID, or, when it has none,
    one made from the mailbox and UID; with ``(mailbox, uid_validity, uid)`` it keys the item."""

    id: str
    mailbox: str
    uid_validity: int
    uid: int
    message_id: str
    received_at: datetime
    sender_name: str = ""
    sender_address: str = ""
    subject: str = ""
    attachments: tuple[str, ...] = ()
    preview: str = ""
    size: int = 0
    state: MailState = MailState.WAITING
    version: int = 0
    taken_by: str | None = None
    taken_at: datetime | None = None
    contact_id: str | None = None
    reason: NotReferralReason | None = None
    #: a duplicate's contact reference, or a short note
    reason_detail: str = ""
    closed_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware(self.received_at, "received_at")

    @property
    def subject_key(self) -> str:
        return f"{SUBJECT_PREFIX}{self.id}"


@dataclass(frozen=True, slots=True)
class MailboxMark:
    """How far the watcher has read a mailbox, at one UID validity (one numbering of its messages).

    When the watcher first reads a numbering (the mailbox switched on, or renumbered by the
    server), the messages already there, up to ``found_up_to``, that were received before
    ``passed_over_before`` are passed over: recorded as seen, never queued."""

    mailbox: str
    uid_validity: int
    #: the highest UID read or passed over
    read_up_to: int
    #: the highest UID in the mailbox when this numbering was first read
    found_up_to: int
    passed_over_before: datetime
    #: when the mailbox was last read (a later renumbering passes over what was received before it)
    read_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.passed_over_before, "passed_over_before")
        require_aware(self.read_at, "read_at")


class MailRepository(Protocol):
    async def add(self, item: MailItem) -> bool:
        """Store ``item``; False (and nothing stored) when an item with its Message-ID, or its
        mailbox, UID validity and UID, is stored already, even by another process at once."""
        ...

    async def get(self, item_id: str) -> MailItem | None: ...

    async def waiting(self) -> list[MailItem]:
        """The items nobody has taken, oldest received first."""
        ...

    async def taken_by(self, user_id: str) -> list[MailItem]:
        """Items ``user_id`` has taken and not yet started or closed, oldest first."""
        ...

    async def last_uid(self, mailbox: str, uid_validity: int) -> int:
        """The highest UID stored for the mailbox at this UID validity, 0 when none."""
        ...

    async def save(self, item: MailItem, expected_version: int) -> MailItem:
        """Save if the stored version is ``expected_version``; the item with its version
        incremented. ``StaleVersionError`` otherwise."""
        ...

    async def for_contact(self, contact_id: str) -> MailItem | None: ...

    async def received_before(self, cutoff: datetime) -> list[MailItem]:
        """Items received before ``cutoff`` (for retention), oldest first."""
        ...

    async def delete(self, item_id: str) -> None: ...

    async def mark(self, mailbox: str) -> MailboxMark | None:
        """How far the watcher has read ``mailbox``; None before its first read."""
        ...

    async def set_mark(self, mark: MailboxMark) -> None:
        """Store ``mark`` as the mailbox's (replacing the one stored)."""
        ...


# -- reading a message ---------------------------------------------------------------------------
