"""The mailbox watcher (SPEC §5a): reads new messages of the front door's mailbox over IMAP
(``aioimaplib``) and takes each into the e-mail queue once (``frontdoor.mail.take_in``).

- **Only the leader watches.** Each poll asks the shared ``Leadership``; a process that does not
  lead (or stops leading) closes its connection and leaves the mailbox alone.
- **IDLE where the server offers it, else polling on the scheduler.** The scheduler's job
  (``MAIL_POLL_JOB_ID``, every ``mail.poll_seconds``) syncs; when the server says IDLE, a listener
  task then waits on the open connection and syncs as soon as the server announces a message,
  renewing IDLE every ``mail.poll_seconds``; the job keeps checking leadership and restarts the
  listener if it has stopped.
- **Exactly once.** New messages are those with a UID above the highest stored for the mailbox
  at its UID validity (or read by this process); the store refuses a second item with the same
  Message-ID or UID, so a restart, or two processes racing through a change of leader, take
  nothing twice.
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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import aioimaplib
from apscheduler.triggers.interval import IntervalTrigger

from frontdoor.mail import MailboxAddress, MalformedMailError, item_from, parse_mail, take_in, unreadable_item
from frontdoor.ports import Clock
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


class MailboxWatcher:
    def __init__(
        self,
        address: MailboxAddress,
        unit_of_work: UnitOfWorkFactory,
        clock: Clock,
        leadership: Leadership,
        *,
        poll_seconds: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.address = address
        self._unit_of_work = unit_of_work
        self._clock = clock
        self.leadership = leadership
        self.poll_seconds = poll_seconds
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
        """Take every message not yet taken into the queue, oldest UID first."""
        async with self._lock:
            client = await self._connected()
            async with self._unit_of_work() as uow:
                stored = await uow.mail.last_uid(self.address.key, self._uid_validity)
            last = max(stored, self._read_up_to.get(self._uid_validity, 0))
            found = await client.uid_search(f"UID {last + 1}:*")
            if found.result != "OK":
                raise MailboxError("UID SEARCH refused")
            uids = sorted({int(uid) for uid in b" ".join(found.lines[:-1]).split() if uid.isdigit()})
            taken = unreadable = already = 0
            for uid in (uid for uid in uids if uid > last):
                outcome = await self._take(client, uid)
                taken += outcome == "taken"
                unreadable += outcome == "unreadable"
                already += outcome == "already"
                self._read_up_to[self._uid_validity] = uid
        if taken or unreadable:
            log.info("mailbox read", extra={"count": taken, "status": f"unreadable={unreadable}"})
        return SyncResult(taken, unreadable, already)

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
