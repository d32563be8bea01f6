"""A real SMTP server on the loopback interface (``aiosmtpd``) for the e-mail route's tests: it
records what it receives, and can be told to refuse (for now or for good) or be stopped and started
again on the same port to play a server that is down."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        return f"{self.subject}\n{body.get_content() if body is not None else ''}"


class _Handler:
    def __init__(self, server: LocalSmtp) -> None:
        self._server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self._server.answer != "250 OK":
            self._server.refused += 1
            return self._server.answer
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self._server.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), parsed))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


class LocalSmtp:
    """``answer`` is what the server says to each message: ``250 OK`` (kept), or e.g.
    ``451 4.3.0 Try again later`` / ``550 5.7.1 Refused`` (not kept, counted in ``refused``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.refused = 0
        self.answer = "250 OK"
        self._controller: Controller | None = None

    def start(self) -> LocalSmtp:
        controller = Controller(_Handler(self), hostname=HOST, port=self.port)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
