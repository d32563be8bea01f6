"""The second route for alerts (SPEC §10): e-mail through the service's SMTP server.

``SmtpAlertMailer`` implements ``frontdoor.dispatch.AlertMailer`` with ``aiosmtplib``. It sends two
kinds of outbox row addressed to an e-mail recipient:

- ``email``: a clock alert Teams could not deliver, to the duty manager's address
  (``FRONTDOOR_DUTY_MANAGER_EMAIL``). It says the reference, the clock, the kind of alert, the due
  time and why Teams could not take it: never a child's details (the row holds none to give);
- ``continuity``: urgent-only mode was switched on, to the addresses in ``continuity.notify``.

A server that cannot be reached, times out or refuses for now (4xx) is reported as a failure with
no status or 503, which the dispatcher retries with backoff; a permanent refusal (5xx) as 400, which
it gives up on and shows in ``status``. The message id is recorded as the row's activity id.
"""

from __future__ import annotations

import json
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from bot.cards.alerts import ALERT_KIND_TITLES
from bot.cards.clocks import CLOCK_TITLES
from bot.settings import SmtpSettings
from frontdoor.alerts import DUTY_MANAGER_EMAIL, AlertKind, OutboxItem
from frontdoor.continuity import ContinuityNotice
from frontdoor.delivery import SendFailure
from frontdoor.dispatch import SendReport
from frontdoor.timefmt import format_local

#: What the service is called in the subject line.
SUBJECT_PREFIX = "[Front door]"


def alert_email(item: OutboxItem, sender: str, to: str, now: datetime) -> EmailMessage:
    """The e-mail for ``item``; ``ValueError`` if it is not a row that goes by e-mail."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or None)
    if item.kind is AlertKind.CONTINUITY:
        notice = ContinuityNotice.from_payload(item.payload)
        message["Subject"] = f"{SUBJECT_PREFIX} Urgent-only mode switched on"
        message.set_content(
            "The front door has been switched to urgent-only mode: only urgent contacts and "
            "child-protection clocks alert until a team manager switches it off.\n\n"
            f"Since: {format_local(notice.mode.since)}\n"
            f"Reason: {notice.mode.reason}\n"
        )
        return message
    if item.kind is not AlertKind.EMAIL:
        raise ValueError(f"rows of kind {item.kind.value} do not go by e-mail")
    key = item.alert_key
    clock = CLOCK_TITLES[key.clock] if key.clock is not None else "Deadline"
    kind = ALERT_KIND_TITLES.get(key.kind, key.kind.value)
    reason = _reason(item.payload)
    message["Subject"] = f"{SUBJECT_PREFIX} {kind}: {clock} {key.subject}"
    message.set_content(
        "Teams could not deliver this alert, so it comes to you by e-mail.\n\n"
        f"Reference: {key.subject}\n"
        f"Clock: {clock}\n"
        f"Alert: {kind}\n"
        f"Due: {format_local(key.due_at)}\n"
        f"Why by e-mail: {reason}\n\n"
        f'Type "find {key.subject}" to the bot in Teams, or look it up in the case system, to act on it.\n'
    )
    return message


def _reason(payload: str) -> str:
    data = json.loads(payload)
    reason = data.get("reason") if isinstance(data, dict) else None
    # A status and code (e.g. "HTTP 404 ConversationNotFound"), never content.
    return reason.split(":", 1)[0][:120] if isinstance(reason, str) and reason else "Teams did not answer"


class SmtpAlertMailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    def _address(self, item: OutboxItem) -> str:
        recipient = item.recipient
        return self._settings.duty_manager if recipient == DUTY_MANAGER_EMAIL else recipient.address

    async def send(self, item: OutboxItem, now: datetime) -> SendReport:
        smtp = self._settings
        try:
            message = alert_email(item, smtp.sender, self._address(item), now)
        except (ValueError, KeyError) as error:
            return SendReport(failure=SendFailure(400, f"BadEmail {type(error).__name__}"))
        try:
            await aiosmtplib.send(
                message,
                hostname=smtp.host,
                port=smtp.port,
                start_tls=smtp.starttls,
                username=smtp.username or None,
                password=smtp.password or None,
                timeout=smtp.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refused.code for refused in error.recipients]
            return SendReport(failure=_refused(min(codes) if codes else 550))
        except aiosmtplib.SMTPResponseException as error:
            return SendReport(failure=_refused(error.code))
        except (aiosmtplib.SMTPException, OSError) as error:
            # Not reachable, timed out, or hung up: no answer, so it is tried again later.
            return SendReport(failure=SendFailure(None, f"SMTP {type(error).__name__}"))
        return SendReport(activity_id=str(message["Message-ID"]))


def _refused(code: int) -> SendFailure:
    """A 4xx reply is temporary (retried, like a 503); anything else is permanent (like a 400)."""
    return SendFailure(503 if 400 <= code < 500 else 400, f"SMTP {code}")
