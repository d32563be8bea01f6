"""Referrals by e-mail (SPEC §5a): the front door's mailbox as a queue in Teams.

The mailbox watcher (``bot.mailbox``) reads each new message once and turns it into a ``MailItem``
with ``parse_mail``: sender, subject, received time (the server's INTERNALDATE), attachment names and
a short plain-text preview with HTML stripped and links made non-clickable. The message itself stays
in the mailbox; the store keeps only these. A message is taken into the queue exactly once: the store
refuses a second item with the same Message-ID or the same mailbox UID (``MailRepository.add``).

Officers see the waiting e-mails (``mail``), take one ("I'll take it": the first wins), and start a
contact from it (source e-mail, received-at the e-mail's received time, referrer pre-filled from the
sender) or mark it *not a referral* with a reason. An e-mail left waiting longer than
``mail.untaken_alert_office_hours`` of office time alerts the duty manager. Stored e-mail data of
referrals not accepted is deleted after ``retention.referrals_not_accepted_months``
(``frontdoor.retention.purge_expired_mail``).

Logs carry ids only (the item id, the UID, the Message-ID): never a sender, subject or preview.
"""

from __future__ import annotations

import email
import email.errors
import email.policy
import ipaddress
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, Message
from email.utils import getaddresses
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from frontdoor.acting import Rules, Who
from frontdoor.alert_recipients import Staffing, recipients_for
from frontdoor.alerts import AlertKey, AlertKind, OutboxMessage, Recipient, outbox_key, utc_text
from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.contact import Contact, Referrer, ReferrerType, Source
from frontdoor.mail_records import (
    _CONTACT_REFERENCE,
    PREVIEW_CHARS,
    WATCHER_ACTOR,
    MailItem,
    MailState,
    NotReferralReason,
)
from frontdoor.policy import Policy
from frontdoor.ports import StaleVersionError
from frontdoor.records import AuditEvent, DirectoryEntry
from frontdoor.roles import Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork, UnitOfWorkFactory


class MalformedMailError(ValueError):
    """The message cannot be read as an e-mail (the watcher logs its ids and skips it)."""


@dataclass(frozen=True, slots=True)
class ParsedMail:
    message_id: str
    sender_name: str
    sender_address: str
    subject: str
    attachments: tuple[str, ...]
    preview: str


_FATAL_DEFECTS = (
    email.errors.NoBoundaryInMultipartDefect,
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.MissingHeaderBodySeparatorDefect,
    email.errors.MultipartInvariantViolationDefect,
)


def parse_mail(raw: bytes, preview_chars: int = PREVIEW_CHARS) -> ParsedMail:
    """What the queue keeps of a raw RFC 5322 message. ``MalformedMailError`` when it has no
    readable sender, or its MIME structure is broken (a multipart without its boundary)."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        defects = [d for part in message.walk() for d in part.defects]
        if any(isinstance(defect, _FATAL_DEFECTS) for defect in defects):
            raise MalformedMailError("broken MIME structure")
        senders = [(name, address) for name, address in getaddresses([str(message.get("From", ""))])]
        senders = [(name, address) for name, address in senders if "@" in address]
        if not senders:
            raise MalformedMailError("no readable sender")
        sender_name, sender_address = senders[0]
        subject = _one_line(str(message.get("Subject", "")))
        message_id = str(message.get("Message-ID", "")).strip()
        attachments = tuple(_attachment_names(message))
        body = _body_text(message)
    except MalformedMailError:
        raise
    except Exception as error:  # the stdlib parser's own errors on hostile input
        raise MalformedMailError(type(error).__name__) from None
    return ParsedMail(
        message_id=message_id[:998],
        sender_name=_one_line(sender_name)[:200],
        sender_address=sender_address.strip().lower()[:320],
        subject=subject[:500],
        attachments=attachments,
        preview=preview_text(body, preview_chars),
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _attachment_names(message: Message) -> list[str]:
    names: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename or part.get_content_disposition() == "attachment":
            names.append(_one_line(filename or "(unnamed attachment)")[:200])
    return names[:50]


def _body_text(message: EmailMessage) -> str:
    """The plain text of the body: the plain part, or the HTML part's text when there is no plain
    part or it is blank (forms from web portals)."""
    for kind in ("plain", "html"):
        part = message.get_body(preferencelist=(kind,))
        if part is None:
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError):  # an unknown charset: read it as Latin-1 rather than fail
            payload = part.get_payload(decode=True)
            content = payload.decode("latin-1") if isinstance(payload, bytes) else ""
        if not isinstance(content, str):
            continue
        text = html_to_text(content) if kind == "html" else content
        if text.strip():
            return text
    return ""


class _TextOfHtml(HTMLParser):
    _SKIPPED = frozenset({"script", "style", "head", "title"})
    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The text of an HTML body: tags, scripts and styles dropped (link targets too)."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


_LINK = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]{1,15}://|www\.)[^\s<>\"]+")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def defang(text: str) -> str:
    """Links and e-mail addresses written so no client makes them clickable:
    ``https://example.org`` becomes ``https[:]//example[.]org``, ``a@b.org`` ``a[@]b[.]org``."""

    def link(match: re.Match[str]) -> str:
        return match.group(0).replace("://", "[:]//").replace(".", "[.]")

    def address(match: re.Match[str]) -> str:
        return match.group(0).replace("@", "[@]").replace(".", "[.]")

    return _ADDRESS.sub(address, _LINK.sub(link, text))


def preview_text(text: str, limit: int = PREVIEW_CHARS) -> str:
    """A short one-paragraph preview: white space collapsed, links defanged, cut at ``limit``."""
    flat = _one_line(text)
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return defang(flat)


def item_from(
    parsed: ParsedMail,
    *,
    mailbox: str,
    uid_validity: int,
    uid: int,
    received_at: datetime,
    size: int,
) -> MailItem:
    message_id = parsed.message_id or f"<uid-{uid_validity}-{uid}@{mailbox}>"
    return MailItem(
        id=str(uuid.uuid4()),
        mailbox=mailbox,
        uid_validity=uid_validity,
        uid=uid,
        message_id=message_id,
        received_at=received_at.astimezone(UTC),
        sender_name=parsed.sender_name,
        sender_address=parsed.sender_address,
        subject=parsed.subject,
        attachments=parsed.attachments,
        preview=parsed.preview,
        size=size,
    )


def unreadable_item(
    *, mailbox: str, uid_validity: int, uid: int, message_id: str, received_at: datetime, size: int
) -> MailItem:
    """The marker that a message was read and could not be parsed, so it is not read again."""
    return MailItem(
        id=str(uuid.uuid4()),
        mailbox=mailbox,
        uid_validity=uid_validity,
        uid=uid,
        message_id=message_id or f"<uid-{uid_validity}-{uid}@{mailbox}>",
        received_at=received_at.astimezone(UTC),
        size=size,
        state=MailState.UNREADABLE,
    )


async def take_in(uow: UnitOfWork, item: MailItem, now: datetime) -> bool:
    """Store a new item and audit it (by id and UID only); False when it was stored already."""
    async with uow:
        added = await uow.mail.add(item)
        if not added:
            return False
        action = "mail.unreadable" if item.state is MailState.UNREADABLE else "mail.received"
        detail = f"uid={item.uid}; uidvalidity={item.uid_validity}"
        await uow.audit.append(AuditEvent(now, WATCHER_ACTOR, action, item.subject_key, detail))
        await uow.commit()
    return True


# -- the queue ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MailRefusal:
    message: str


_NOT_PERMITTED = MailRefusal(
    "Sorry, only First Contact officers, consultants and managers can work on the e-mail queue."
)
_ONLY_STARTERS = MailRefusal(
    "Sorry, only First Contact officers, consultants and team managers can take an e-mail."
)
_GONE = MailRefusal("That e-mail is no longer in the queue.")


@dataclass(frozen=True, slots=True)
class MailQueue:
    waiting: tuple[MailItem, ...]
    #: e-mails the asker took and has not started or closed yet
    mine: tuple[MailItem, ...]


async def mail_queue(
    uow: UnitOfWork, user_id: str, roles: Iterable[Role], now: datetime
) -> MailQueue | MailRefusal:
    """The queue for ``mail``; the reading is audited (senders and previews are personal data)."""
    if not may(roles, Permission.MAIL_QUEUE):
        return _NOT_PERMITTED
    async with uow:
        queue = MailQueue(tuple(await uow.mail.waiting()), tuple(await uow.mail.taken_by(user_id)))
        shown = len(queue.waiting) + len(queue.mine)
        await uow.audit.append(AuditEvent(now, user_id, "mail.queue_viewed", "mail:queue", f"count={shown}"))
        await uow.commit()
    return queue


async def waiting_count(uow: UnitOfWork) -> int:
    async with uow:
        return len(await uow.mail.waiting())


def _audit(at: datetime, actor_id: str, action: str, item: MailItem, detail: str = "") -> AuditEvent:
    return AuditEvent(at=at, actor_id=actor_id, action=action, subject=item.subject_key, detail=detail)


@dataclass(frozen=True, slots=True)
class TakenBySomeoneElse:
    """The e-mail was taken first by ``taken_by``."""

    item: MailItem
    taken_by: str


async def take(
    uow: UnitOfWork, item_id: str, *, who: Who, now: datetime
) -> MailItem | TakenBySomeoneElse | MailRefusal:
    """ "I'll take it": the first to press it gets the e-mail; the rest are told who did."""
    if not may(who.roles, Permission.START_CONTACT):
        return _ONLY_STARTERS
    async with uow:
        item = await uow.mail.get(item_id)
        if item is None or item.state is MailState.UNREADABLE:
            return _GONE
        if item.state is not MailState.WAITING:
            if item.taken_by == who.actor_id and item.state is MailState.TAKEN:
                return item
            return TakenBySomeoneElse(item, item.taken_by or "")
        taken = replace(item, state=MailState.TAKEN, taken_by=who.actor_id, taken_at=now.astimezone(UTC))
        try:
            saved = await uow.mail.save(taken, item.version)
        except StaleVersionError:
            await uow.rollback()
            current = await uow.mail.get(item_id)
            return TakenBySomeoneElse(current or item, (current.taken_by if current else None) or "")
        await uow.audit.append(_audit(now, who.actor_id, "mail.taken", item))
        await uow.commit()
    return saved


def _own_taken(item: MailItem | None, actor_id: str) -> MailItem | MailRefusal:
    if item is None or item.state is MailState.UNREADABLE:
        return _GONE
    if item.state is MailState.WAITING:
        return MailRefusal("Take the e-mail first (I'll take it), so nobody else works on it at once.")
    if item.taken_by != actor_id:
        return MailRefusal("Someone else took that e-mail, so nothing was changed.")
    if item.state is not MailState.TAKEN:
        return MailRefusal("That e-mail has already been dealt with, so nothing was changed.")
    return item


#: The front door's own staff: an e-mail from one of them is a colleague passing on (forwarding)
#: someone else's referral, so its sender is not the referrer. Partner-agency staff, professionals
#: and the out-of-hours team do refer, so they are not in it.
FRONT_DOOR_STAFF = frozenset(
    {
        Role.OFFICER,
        Role.CONSULTANT,
        Role.DUTY_MANAGER,
        Role.TEAM_MANAGER,
        Role.SOCIAL_WORKER,
        Role.SERVICE_MANAGER,
        Role.ADMIN,
    }
)


def _folded_name(name: str) -> str:
    return " ".join(name.casefold().split())


def staff_names(entries: Iterable[DirectoryEntry]) -> frozenset[str]:
    """The display names (folded) of the front door's staff in the role directory. The directory
    holds no e-mail addresses; a sender in the same Microsoft 365 tenant is shown by Outlook under
    the same display name Teams gives the bot, so the name is what matches."""
    return frozenset(
        _folded_name(entry.display_name)
        for entry in entries
        if entry.display_name.strip() and entry.roles & FRONT_DOOR_STAFF
    )


def referrer_from(item: MailItem, staff: frozenset[str] = frozenset()) -> Referrer | None:
    """The referrer a contact from this e-mail starts with (SPEC §5a: "the sender as referrer
    where it matches"): the sender's name and address, for the officer to check the type, agency
    and role on the referrer card; None when the sender is one of ``staff`` (``staff_names``): a
    colleague's forward, whose referrer the officer takes from the e-mail itself."""
    if _folded_name(item.sender_name) in staff:
        return None
    return Referrer(type=ReferrerType.PROFESSIONAL, name=item.sender_name, email=item.sender_address)


async def start_from_mail(
    uow: UnitOfWork, item_id: str, first_section: str, *, who: Who, now: datetime
) -> tuple[MailItem, Contact] | MailRefusal:
    """A draft contact from a taken e-mail: source e-mail, received-at the e-mail's received time,
    referrer the sender unless they are front-door staff (``referrer_from``); the e-mail is linked
    to the draft."""
    if not may(who.roles, Permission.START_CONTACT):
        return _ONLY_STARTERS
    async with uow:
        checked = _own_taken(await uow.mail.get(item_id), who.actor_id)
        if isinstance(checked, MailRefusal):
            return checked
        referrer = referrer_from(checked, staff_names(await uow.roles.entries()))
        contact = Contact(
            id=str(uuid.uuid4()),
            created_by=who.actor_id,
            created_at=now.astimezone(UTC),
            received_at=checked.received_at,
            source=Source.EMAIL,
            referrer=referrer,
            draft_section=first_section,
        )
        started = replace(checked, state=MailState.STARTED, contact_id=contact.id)
        try:
            saved = await uow.mail.save(started, checked.version)
        except StaleVersionError:
            return MailRefusal("That e-mail was changed at the same moment elsewhere; please look again.")
        await uow.contacts.add(contact)
        await uow.audit.append(
            AuditEvent(
                now,
                who.actor_id,
                "contact.started",
                contact.id,
                f"mail={item_id}" + ("" if referrer else "; referrer=none (sender is front-door staff)"),
            )
        )
        await uow.audit.append(_audit(now, who.actor_id, "mail.started", checked, f"contact={contact.id}"))
        await uow.commit()
    return saved, contact


async def return_mail_of_draft(uow: UnitOfWork, contact_id: str, actor_id: str, now: datetime) -> None:
    """Within ``uow``: the draft ``contact_id`` is being cancelled; if it was started from an e-mail,
    the e-mail goes back to the person who took it (taken, not started), so it is never lost."""
    item = await uow.mail.for_contact(contact_id)
    if item is None or item.state is not MailState.STARTED:
        return
    await uow.mail.save(replace(item, state=MailState.TAKEN, contact_id=None), item.version)
    await uow.audit.append(_audit(now, actor_id, "mail.returned", item, f"contact={contact_id}"))


def check_reason(reason_text: str, detail: str) -> tuple[NotReferralReason, str] | MailRefusal:
    """The reason and detail a "Not a referral" card sent, or what is wrong with them."""
    try:
        reason = NotReferralReason(reason_text)
    except ValueError:
        return MailRefusal("Please choose why this e-mail is not a referral.")
    detail = _one_line(detail)[:200]
    if reason is NotReferralReason.DUPLICATE:
        found = _CONTACT_REFERENCE.search(detail.upper())
        if found is None:
            return MailRefusal("A duplicate needs the reference of the contact it repeats (CT-26-000123).")
        detail = found.group(0)
    return reason, detail


async def mark_not_referral(
    uow: UnitOfWork, item_id: str, reason: NotReferralReason, detail: str, *, who: Who, now: datetime
) -> MailItem | MailRefusal:
    """Take the e-mail out of the queue as not a referral, with ``reason`` and ``detail`` (checked by
    ``check_reason``). A duplicate's reference must name a contact that exists; it is only looked up,
    never shown."""
    if not may(who.roles, Permission.START_CONTACT):
        return _ONLY_STARTERS
    async with uow:
        checked = _own_taken(await uow.mail.get(item_id), who.actor_id)
        if isinstance(checked, MailRefusal):
            return checked
        if reason is NotReferralReason.DUPLICATE and await uow.contacts.get_by_reference(detail) is None:
            return MailRefusal(
                f"There is no contact {detail}: check the reference of the contact this e-mail repeats."
            )
        closed = replace(
            checked,
            state=MailState.NOT_REFERRAL,
            reason=reason,
            reason_detail=detail,
            closed_at=now.astimezone(UTC),
        )
        try:
            saved = await uow.mail.save(closed, checked.version)
        except StaleVersionError:
            return MailRefusal("That e-mail was changed at the same moment elsewhere; please look again.")
        await uow.audit.append(
            _audit(now, who.actor_id, "mail.not_referral", checked, f"reason={reason.value}")
        )
        await uow.commit()
    return saved


# -- clocks: e-mails left untaken -----------------------------------------------------------------


def untaken_too_long(
    items: Iterable[MailItem], now: datetime, calendar: WorkingCalendar, policy: Policy
) -> list[MailItem]:
    """Waiting items that have waited at least ``mail.untaken_alert_office_hours`` of office time."""
    limit = timedelta(hours=policy.mail.untaken_alert_office_hours)
    return [
        item
        for item in items
        if item.state is MailState.WAITING and calendar.office_time_between(item.received_at, now) >= limit
    ]


def untaken_alert_key(item: MailItem) -> AlertKey:
    return AlertKey(item.subject_key, None, AlertKind.MAIL_UNTAKEN, 0, item.received_at)


def untaken_alerts(
    items: Sequence[MailItem], now: datetime, recipients: Sequence[Recipient]
) -> tuple[OutboxMessage, ...]:
    """One message per recipient per e-mail; the payload holds the item id and received time only."""
    messages: list[OutboxMessage] = []
    for item in items:
        key = untaken_alert_key(item)
        body: dict[str, object] = {
            "alert": key.text,
            "subject": key.subject,
            "kind": key.kind.value,
            "at": utc_text(now),
            "mail": {"id": item.id, "received_at": utc_text(item.received_at)},
        }
        messages.extend(
            OutboxMessage.create(outbox_key(key, recipient), key, recipient, now, body)
            for recipient in recipients
        )
    return tuple(messages)


def untaken_from_payload(payload: str) -> tuple[str, datetime]:
    """The e-mail id and received time an untaken-e-mail alert's payload holds; ``ValueError`` if
    it holds none."""
    data = json.loads(payload)
    mail = data.get("mail") if isinstance(data, dict) else None
    if not isinstance(mail, dict):
        raise ValueError("not an untaken e-mail payload")
    item_id, received = mail.get("id"), mail.get("received_at")
    if not isinstance(item_id, str) or not isinstance(received, str):
        raise ValueError("not an untaken e-mail payload")
    return item_id, require_aware(datetime.fromisoformat(received)).astimezone(UTC)


async def alert_untaken(unit_of_work: UnitOfWorkFactory, *, rules: Rules) -> int:
    """Enqueue the untaken-e-mail alerts now due and not enqueued yet; how many rows were added."""
    require_aware(rules.now, "now")
    async with unit_of_work() as uow:
        overdue = untaken_too_long(await uow.mail.waiting(), rules.now, rules.calendar, rules.policy)
        if not overdue:
            return 0
        planned = await uow.alerts.planned([item.subject_key for item in overdue])
        fresh = [item for item in overdue if untaken_alert_key(item) not in planned]
        if not fresh:
            return 0
        day = rules.now.astimezone(rules.calendar.tz).date()
        staffing = Staffing.of(await uow.rota.on(day), await uow.roles.entries())
        recipients = recipients_for(AlertKind.MAIL_UNTAKEN, None, day, staffing)
        added = await uow.alerts.enqueue(untaken_alerts(fresh, rules.now, recipients), rules.now)
        await uow.commit()
    return added


# -- the mailbox's address ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MailboxAddress:
    """Where the watcher reads (``FRONTDOOR_IMAP_URL`` and ``FRONTDOOR_IMAP_PASSWORD``)."""

    host: str
    port: int
    tls: bool
    user: str
    mailbox: str = "INBOX"
    password: str = field(default="", repr=False)

    @property
    def key(self) -> str:
        """How the store names this mailbox: user, host and folder (no password, no port)."""
        return f"{self.user}@{self.host}/{self.mailbox}"


def parse_imap_url(url: str, password: str, *, loopback_only_plain: bool) -> MailboxAddress:
    """``imaps://user@host:993/INBOX`` (or ``imap://…``) as a ``MailboxAddress``. ``ValueError``
    with a clear reason otherwise. With ``loopback_only_plain`` (production), plain ``imap://`` is
    refused unless the host is a loopback address, so the password never crosses a network in clear."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ValueError("must start with imaps:// (or imap:// for a loopback test server)")
    if not parts.hostname:
        raise ValueError("names no host")
    user = unquote(parts.username or "")
    if not user:
        raise ValueError("names no user (imaps://user@host/INBOX)")
    if parts.password:
        raise ValueError("must not hold the password: set FRONTDOOR_IMAP_PASSWORD")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    tls = parts.scheme == "imaps"
    if not tls and loopback_only_plain and not _loopback(parts.hostname):
        raise ValueError(
            f"plain imap:// to {parts.hostname} would send the password unencrypted: use imaps://"
        )
    try:
        port = parts.port or (993 if tls else 143)
    except ValueError:
        raise ValueError("has an invalid port") from None
    if not password:
        raise ValueError("needs FRONTDOOR_IMAP_PASSWORD")
    mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
    if any(ch in mailbox for ch in '"\\\r\n'):
        raise ValueError("has a folder name with quotes, backslashes or line breaks")
    return MailboxAddress(parts.hostname, port, tls, user, mailbox, password)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
