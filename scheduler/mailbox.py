"""The mailbox watcher (SPEC §5a): reads new messages of the front door's mailbox over IMAP
(``aioimaplib``) and takes each into the e-mail queue once (``frontdoor.mail.take_in``).

- **Only the leader watches.** Each poll asks the shared ``Leadership``; a process that does not
  lead (or stops leading) closes its connection and leaves the mailbox alone.
- **IDLE where the server offers it, else polling on the scheduler.** The scheduler's job
  (``MAIL_POLL_JOB_ID``, every ``mail.poll_seconds``) syncs; when the server says IDLE, a listener
  task then waits on the open connection and syncs as soon as the server announces a message,
  renewing IDLE every ``mail.poll_seconds``; the job keeps checking leadership and restarts the
  listener if it has stopped.
- **Exactly once.** New messages are those with a UID above the highest read for the mailbox at
  its UID validity (the store's ``MailboxMark``, the items stored, or this process's own count); the
  store refuses a second item with the same Message-ID or UID, so a restart, or two processes racing
  through a change of leader, take nothing twice.
- **Switching on, and a renumbered mailbox, queue no old mail.** The first read of a mailbox (and
  the first after its server changed the UID validity, renumbering every message) finds the
  messages already there. Those received before a cut-off are *passed over*: recorded as read
  (``MailboxMark``), never queued, so they raise no untaken-e-mail alert; one audit event
  (``mail.passed_over``) counts them. The cut-off is, on switching on, the moment of that first read
  less ``mail.first_read_hours`` (0 by default: the mail already in the mailbox is dealt with as it
  was before the bot); after a renumbering, the last read under the old numbering less
  ``RENUMBERED_OVERLAP``, so nothing retention deleted comes back, and what came in since is
  queued; a message read before, still stored, is recognised by its Message-ID. Received times are
  the server's INTERNALDATE, which a renumbering keeps.
- **A message that cannot be read** is logged by UID and Message-ID and stored as unreadable (so it
  is not read again); the watcher carries on with the next.
- Messages are fetched with ``BODY.PEEK[]``: the watcher never marks them read or moves them.

Logs carry UIDs, Message-IDs, item ids, sizes and error class names only: never a sender, subject
or text.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import logging
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final

import aioimaplib
from apscheduler.triggers.interval import IntervalTrigger

from frontdoor.mail import MailboxAddress, MalformedMailError, item_from, parse_mail, take_in, unreadable_item
from frontdoor.mail_records import WATCHER_ACTOR, MailboxMark
from frontdoor.ports import Clock
from frontdoor.records import AuditEvent
from frontdoor.unit_of_work import UnitOfWorkFactory
from scheduler.leadership import Leadership
from scheduler.runner import ScheduledJob

log = logging.getLogger(__name__)
# aioimaplib logs every byte it sends and receives at DEBUG: messages would reach the logs, whoever
# configured logging (the bot's configuration also quiets it).
logging.getLogger("aioimaplib").setLevel(logging.WARNING)

MAIL_POLL_JOB_ID: Final = "mail_poll"
#: Seconds to wait for the server on connecting and on each command (a 20 MB fetch included).
COMMAND_TIMEOUT: Final = 60.0
#: After a renumbering, messages received this long before the last read are looked at again
#: (clocks of the bot and the mail server differ); one read before is matched by its Message-ID.
RENUMBERED_OVERLAP: Final = timedelta(hours=1)
#: UIDs per FETCH of received times on a first read.
_DATES_PER_FETCH: Final = 500
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_FETCH_UID = re.compile(rb"UID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_NEW_MESSAGE = re.compile(rb"^\d+ EXISTS$")


class MailboxError(Exception):
    """The server refused or answered something the watcher cannot use."""


@dataclass(frozen=True, slots=True)
class SyncResult:
    #: items newly taken into the queue
    taken: int = 0
    #: messages stored as unreadable
    unreadable: int = 0
    #: messages another process (or an earlier run) had taken already
    already: int = 0
    #: messages already in the mailbox at a first read, received before its cut-off: not queued
    passed_over: int = 0


class MailboxWatcher:
    def __init__(
        self,
        address: MailboxAddress,
        unit_of_work: UnitOfWorkFactory,
        clock: Clock,
        leadership: Leadership,
        *,
        poll_seconds: float,
        first_read: timedelta,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.address = address
        self._unit_of_work = unit_of_work
        self._clock = clock
        self.leadership = leadership
        self.poll_seconds = poll_seconds
        #: on switching on, mail received this long before the first read is queued; older is not
        self.first_read = first_read
        self._ssl_context = ssl_context
        self._client: aioimaplib.IMAP4 | None = None
        self._uid_validity = 0
        #: the highest UID this process has read, per UID validity: a repeat of a message already
        #: in the queue (same Message-ID) stores nothing, so the store alone would not say so
        self._read_up_to: dict[int, int] = {}
        self._lock = asyncio.Lock()
        self._listener: asyncio.Task[None] | None = None

    # -- the scheduler's side ------------------------------------------------------------------

    def jobs(self) -> list[ScheduledJob]:
        return [ScheduledJob(MAIL_POLL_JOB_ID, IntervalTrigger(seconds=self.poll_seconds), self.poll, True)]

    async def poll(self) -> SyncResult | None:
        """The scheduler's job: sync if this process leads (None when it does not), then listen
        with IDLE if the server offers it. Errors are logged, never raised: the next poll retries."""
        if not await self.leadership.try_acquire():
            await self.stop()
            return None
        if self._listener is not None and not self._listener.done():
            return None  # the IDLE listener syncs as messages arrive
        try:
            result = await self.sync()
        except Exception as error:  # the server went away or refused: try again at the next poll
            log.warning("mailbox not read", extra={"error_code": type(error).__name__})
            await self._disconnect()
            return None
        if self.idle_offered:
            self._listener = asyncio.create_task(self._listen(), name="mailbox-idle")
        return result

    @property
    def idle_offered(self) -> bool:
        return self._client is not None and self._client.has_capability("IDLE")

    async def stop(self) -> None:
        """Stop listening and log out (shutdown, or leadership lost)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
        async with self._lock:
            await self._disconnect()

    async def _listen(self) -> None:
        try:
            while await self.leadership.try_acquire():
                async with self._lock:
                    client = await self._connected()
                    idle = await client.idle_start(timeout=self.poll_seconds)
                    arrived = False
                    while client.has_pending_idle() and not arrived:
                        pushed = await client.wait_server_push(timeout=self.poll_seconds + COMMAND_TIMEOUT)
                        if pushed == aioimaplib.STOP_WAIT_SERVER_PUSH:
                            break
                        arrived = any(_NEW_MESSAGE.match(line) for line in _lines(pushed))
                    client.idle_done()
                    await asyncio.wait_for(idle, COMMAND_TIMEOUT)
                if arrived:
                    await self.sync()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the poll job starts listening again
            log.warning("mailbox listener stopped", extra={"error_code": type(error).__name__})
            async with self._lock:
                await self._disconnect()

    # -- reading -------------------------------------------------------------------------------

    async def sync(self) -> SyncResult:
        """Take every message not yet taken into the queue, oldest UID first; on the first read of
        a numbering, pass over the messages already there received before its cut-off."""
        async with self._lock:
            client = await self._connected()
            started = self._clock.now()
            key, validity = self.address.key, self._uid_validity
            async with self._unit_of_work() as uow:
                mark = await uow.mail.mark(key)
                stored = await uow.mail.last_uid(key, validity)
            first = mark is None or mark.uid_validity != validity
            read = 0 if mark is None or first else mark.read_up_to
            last = max(stored, read, self._read_up_to.get(validity, 0))
            uids = [uid for uid in await self._uids_after(client, last) if uid > last]
            if mark is None or first:
                mark = await self._first_read(mark, stored, last, uids, started)
            passed = await self._received_before(
                client, [uid for uid in uids if uid <= mark.found_up_to], mark.passed_over_before
            )
            taken = unreadable = already = 0
            for uid in uids:
                if uid not in passed:
                    outcome = await self._take(client, uid)
                    taken += outcome == "taken"
                    unreadable += outcome == "unreadable"
                    already += outcome == "already"
                self._read_up_to[validity] = uid
            await self._record(replace(mark, read_up_to=max([last, *uids]), read_at=started), len(passed))
        if taken or unreadable or passed:
            status = f"unreadable={unreadable}; passed_over={len(passed)}"
            log.info("mailbox read", extra={"count": taken, "status": status})
        return SyncResult(taken, unreadable, already, len(passed))

    async def _uids_after(self, client: aioimaplib.IMAP4, last: int) -> list[int]:
        # NOOP first: a server answers a SEARCH from the view of the folder it last reported, and
        # reports what arrived since (on a connection kept open between polls) on a NOOP.
        await client.noop()
        found = await client.uid_search(f"UID {last + 1}:*")
        if found.result != "OK":
            raise MailboxError("UID SEARCH refused")
        return sorted({int(uid) for uid in b" ".join(found.lines[:-1]).split() if uid.isdigit()})

    async def _first_read(
        self, before: MailboxMark | None, stored: int, last: int, uids: Sequence[int], now: datetime
    ) -> MailboxMark:
        """The mark of a numbering read for the first time, stored before anything is taken, so a
        read that fails half-way passes over the same messages when it is tried again. A mailbox
        with items stored at this numbering and no mark was read before marks were kept: what is
        above the items stored is new, and nothing is passed over."""
        # Renumbered: what was received before the last read was read (or passed over) then.
        cutoff = now - self.first_read if before is None else before.read_at - RENUMBERED_OVERLAP
        found_up_to = last if before is None and stored else max([last, *uids])
        mark = MailboxMark(
            self.address.key, self._uid_validity, last, found_up_to, cutoff.astimezone(UTC), now
        )
        async with self._unit_of_work() as uow:
            await uow.mail.set_mark(mark)
            await uow.commit()
        log.info(
            "mailbox numbering first read",
            extra={
                "uid_validity": mark.uid_validity,
                "uid": mark.found_up_to,
                "status": f"renumbered={before is not None}",
            },
        )
        return mark

    async def _received_before(
        self, client: aioimaplib.IMAP4, uids: Sequence[int], cutoff: datetime
    ) -> frozenset[int]:
        """Of ``uids``, those the server says were received before ``cutoff``: a SEARCH by day
        (a day early, whatever the server's time zone), then the exact times of those found."""
        if not uids:
            return frozenset()
        day = (cutoff - timedelta(days=1)).astimezone(UTC)
        since = f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year}"
        found = await client.uid_search(f"UID {min(uids)}:{max(uids)} SINCE {since}")
        if found.result != "OK":
            raise MailboxError("UID SEARCH refused")
        wanted = set(uids)
        candidates = sorted({int(u) for u in b" ".join(found.lines[:-1]).split() if u.isdigit()} & wanted)
        recent: set[int] = set()
        for start in range(0, len(candidates), _DATES_PER_FETCH):
            chunk = ",".join(str(uid) for uid in candidates[start : start + _DATES_PER_FETCH])
            response = await client.uid("fetch", chunk, "(UID INTERNALDATE)")
            if response.result != "OK":
                raise MailboxError("UID FETCH refused")
            for line in response.lines:
                uid_match = _FETCH_UID.search(line) if isinstance(line, bytes) else None
                if uid_match is None:
                    continue
                received = _internaldate(line)
                if received is None or received >= cutoff:  # no date: queued, never lost
                    recent.add(int(uid_match.group(1)))
        return frozenset(wanted - recent)

    async def _record(self, mark: MailboxMark, passed: int) -> None:
        async with self._unit_of_work() as uow:
            await uow.mail.set_mark(mark)
            if passed:
                detail = (
                    f"uidvalidity={mark.uid_validity}; count={passed}; "
                    f"received_before={mark.passed_over_before.isoformat()}"
                )
                subject = f"mailbox:{mark.mailbox}"
                await uow.audit.append(
                    AuditEvent(mark.read_at, WATCHER_ACTOR, "mail.passed_over", subject, detail)
                )
            await uow.commit()

    async def _take(self, client: aioimaplib.IMAP4, uid: int) -> str:
        response = await client.uid("fetch", str(uid), "(UID INTERNALDATE RFC822.SIZE BODY.PEEK[])")
        if response.result != "OK":
            raise MailboxError("UID FETCH refused")
        header = next((line for line in response.lines if isinstance(line, bytes) and b"FETCH" in line), b"")
        raw = next((bytes(line) for line in response.lines if isinstance(line, bytearray)), None)
        if raw is None:
            return "gone"  # expunged between SEARCH and FETCH
        received_at = _internaldate(header) or self._clock.now()
        size_match = _SIZE.search(header)
        size = int(size_match.group(1)) if size_match else len(raw)
        now = self._clock.now()
        mailbox, validity = self.address.key, self._uid_validity
        try:
            item = item_from(
                parse_mail(raw),
                mailbox=mailbox,
                uid_validity=validity,
                uid=uid,
                received_at=received_at,
                size=size,
            )
        except MalformedMailError as error:
            message_id = _message_id(raw)
            log.warning(
                "unreadable e-mail skipped",
                extra={"uid": uid, "message_id": message_id, "error_code": str(error)},
            )
            marker = unreadable_item(
                mailbox=mailbox,
                uid_validity=validity,
                uid=uid,
                message_id=message_id,
                received_at=received_at,
                size=size,
            )
            return "unreadable" if await take_in(self._unit_of_work(), marker, now) else "already"
        if not await take_in(self._unit_of_work(), item, now):
            log.info("e-mail already in the queue", extra={"uid": uid, "message_id": item.message_id})
            return "already"
        log.info("e-mail taken in", extra={"uid": uid, "mail_id": item.id, "size": size})
        return "taken"

    async def _connected(self) -> aioimaplib.IMAP4:
        if self._client is not None and self._client.get_state() == "SELECTED":
            return self._client
        await self._disconnect()
        address = self.address
        client: aioimaplib.IMAP4
        if address.tls:
            context = self._ssl_context or ssl.create_default_context()
            client = aioimaplib.IMAP4_SSL(
                host=address.host, port=address.port, timeout=COMMAND_TIMEOUT, ssl_context=context
            )
        else:
            client = aioimaplib.IMAP4(host=address.host, port=address.port, timeout=COMMAND_TIMEOUT)
        self._client = client
        await client.wait_hello_from_server()
        login = await client.login(address.user, address.password)
        if login.result != "OK":
            raise MailboxError("login refused")
        selected = await client.select(f'"{address.mailbox}"')
        if selected.result != "OK":
            raise MailboxError("folder not selected")
        validity = next((m for line in selected.lines if (m := _UIDVALIDITY.search(line))), None)
        if validity is None:
            raise MailboxError("no UIDVALIDITY")
        self._uid_validity = int(validity.group(1))
        log.info("mailbox opened", extra={"uid_validity": self._uid_validity, "idle": self.idle_offered})
        return client

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):
            if client.has_pending_idle():  # a listener stopped in IDLE: end it, or LOGOUT waits
                client.idle_done()
            await asyncio.wait_for(client.logout(), 5)


def _lines(pushed: object) -> list[bytes]:
    if isinstance(pushed, list):
        return [bytes(line).strip() for line in pushed if isinstance(line, bytes | bytearray)]
    return []


def _internaldate(header: bytes) -> datetime | None:
    found = _INTERNALDATE.search(header)
    if found is None:
        return None
    try:
        moment = datetime.strptime(found.group(1).decode("ascii"), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None
    return moment.astimezone(UTC)


def _message_id(raw: bytes) -> str:
    """The Message-ID of a message that could not be parsed as a whole, if its headers say one."""
    try:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw[:65536])
        return " ".join(str(headers.get("Message-ID", "")).split())[:998]
    except Exception:
        return ""


__all__ = ["MAIL_POLL_JOB_ID", "MailboxError", "MailboxWatcher", "SyncResult"]
