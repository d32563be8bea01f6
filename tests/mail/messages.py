"""Real e-mails for the mailbox tests, built with the stdlib ``email`` package. Fictional people."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

SENDER_NAME = "Petra Testington"
SENDER = "petra.testington@school.example"
SUBJECT_PLAIN = "Concern about a pupil (fictional)"
BODY_PLAIN = "Dear front door,\nI am worried about a pupil in Year 4. Please call me on 01234 567890.\n"
SUBJECT_HTML = "Police vulnerable child form"
SUBJECT_ATTACHED = "Referral form attached"
ATTACHMENT = "referral-form.pdf"
SUBJECT_UNICODE = "Référence: enfant à Łódź — urgent ✓"
DATE = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


def _base(subject: str, message_id: str, sender: str = f"{SENDER_NAME} <{SENDER}>") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "frontdoor@council.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(DATE)
    message["Message-ID"] = message_id
    return message


def plain(message_id: str = "<plain-1@school.example>", subject: str = SUBJECT_PLAIN) -> bytes:
    message = _base(subject, message_id)
    message.set_content(BODY_PLAIN)
    return message.as_bytes()


def html(message_id: str = "<html-1@police.example>") -> bytes:
    message = _base(SUBJECT_HTML, message_id, "Constable Example <pc.example@police.example>")
    message.set_content(
        "<html><body><p>Officer <b>attended</b>.</p>"
        '<p>See <a href="https://evil.example/login">our portal</a> or https://portal.example/x?y=1</p>'
        "<script>alert(1)</script></body></html>",
        subtype="html",
    )
    return message.as_bytes()


def attached(message_id: str = "<attached-1@nspcc.example>", size: int = 2048) -> bytes:
    message = _base(SUBJECT_ATTACHED, message_id, "NSPCC Helpline <helpline@nspcc.example>")
    message.set_content("Please find the referral form attached.")
    message.add_attachment(
        b"%PDF-1.4\n" + b"0" * size, maintype="application", subtype="pdf", filename=ATTACHMENT
    )
    message.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="chronology.csv")
    return message.as_bytes()


def unicode_subject(message_id: str = "<unicode-1@example.org>") -> bytes:
    message = _base(SUBJECT_UNICODE, message_id, "Zoë Exampleová <zoe@example.org>")
    message.set_content("Bonjour, ceci est un message d'essai (fictif).")
    return message.as_bytes()


def malformed(message_id: str = "<broken-1@example.org>") -> bytes:
    """A multipart message whose boundary never appears, and no readable sender."""
    return (
        b"From: <<<not an address>>>\r\n"
        b"Subject: broken\r\n"
        b"Message-ID: " + message_id.encode() + b"\r\n"
        b'Content-Type: multipart/mixed; boundary="never-used"\r\n'
        b"\r\n"
        b"this body has no parts at all\r\n"
    )


def no_message_id() -> bytes:
    message = EmailMessage()
    message["From"] = f"{SENDER_NAME} <{SENDER}>"
    message["Subject"] = "No Message-ID header"
    message.set_content("A message some old systems send without a Message-ID.")
    return message.as_bytes()
