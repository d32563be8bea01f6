"""The test IMAP server (a pytest plugin, listed in ``tests/conftest.py``).

A real Dovecot (Debian's ``dovecot-imapd``, installed by ``make dovecot-binaries``) runs for the test
session in a temporary directory, on a free loopback port, plain IMAP with password login, IDLE
offered, maildir storage; stopped and removed at the end. Each test gets its own mail user (so its
own empty INBOX) from the ``imap_mailbox`` fixture, and delivers real messages with ``APPEND`` (the
stdlib ``imaplib``), giving each its INTERNALDATE, the received time the watcher reads.

Fixtures:

- ``dovecot`` (session): the running ``DovecotServer``.
- ``imap_mailbox`` (function): a ``TestMailbox``: a new user's ``MailboxAddress`` and ``deliver``.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from frontdoor.mail import MailboxAddress

_DOVECOT = "/usr/sbin/dovecot"
_MISSING = "Dovecot (/usr/sbin/dovecot) not found: run `make dovecot-binaries` (Debian's dovecot-imapd)"
PASSWORD = "not-a-real-secret"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class DovecotServer:
    host: str
    port: int
    root: Path
    #: seconds from writing the configuration to accepting connections
    started_in: float

    def add_user(self) -> str:
        """A mail user nobody has used yet (Dovecot reads its users once at start: a file changed
        within the same second is not always read again, so they are all made beforehand)."""
        return _USERS.pop()


#: The mail users of the session, one per test that asks (more than the suite needs).
_USERS: list[str] = [f"fd{number:03d}-{uuid.uuid4().hex[:8]}@test.invalid" for number in range(200)]


def _config(root: Path, port: int) -> str:
    if os.geteuid() == 0:
        # Dovecot refuses to keep mail as root: the mail belongs to ``nobody``.
        internal, login = "dovecot", "dovenull"
        mail_uid = mail_gid = 65534
    else:
        internal = login = pwd.getpwuid(os.geteuid()).pw_name
        mail_uid, mail_gid = os.geteuid(), os.getegid()
    os.chown(root / "mail", mail_uid, mail_gid)
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = frontdoor-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = 1
mail_max_userip_connections = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _accepting(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
        return sock.recv(4).startswith(b"* OK")
    return False


@contextlib.contextmanager
def running_dovecot() -> Iterator[DovecotServer]:
    if not Path(_DOVECOT).exists():
        pytest.fail(_MISSING, pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="frontdoor-imap-"))
    root.chmod(0o755)
    (root / "mail").mkdir()
    (root / "passwd").write_text("".join(f"{user}:{{PLAIN}}{PASSWORD}\n" for user in _USERS), "ascii")
    began = time.monotonic()
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(_config(root, port), encoding="ascii")
    output = (root / "master.out").open("wb")
    # In the foreground, a child of the test session: stopped with it, even if the session dies.
    master = subprocess.Popen(
        [_DOVECOT, "-F", "-c", str(config)], stdin=subprocess.DEVNULL, stdout=output, stderr=output
    )
    try:
        deadline = time.monotonic() + 30
        while not _accepting(port):
            if master.poll() is not None or time.monotonic() > deadline:
                log = root / "dovecot.log"
                raise RuntimeError(
                    "dovecot did not start: "
                    + (root / "master.out").read_text(errors="replace")
                    + (log.read_text(errors="replace") if log.exists() else "")
                )
            time.sleep(0.05)
        yield DovecotServer("127.0.0.1", port, root, time.monotonic() - began)
    finally:
        master.terminate()
        try:
            master.wait(timeout=15)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()
        output.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    with running_dovecot() as server:
        yield server


@dataclass(frozen=True)
class TestMailbox:
    __test__ = False  # not a test class

    server: DovecotServer
    address: MailboxAddress

    def deliver(self, raw: bytes, received_at: datetime, folder: str = "INBOX") -> None:
        """Put a message in ``folder`` as the mail server would, received at ``received_at``."""
        with imaplib.IMAP4(self.server.host, self.server.port) as client:
            client.login(self.address.user, PASSWORD)
            status, _ = client.append(folder, "", imaplib.Time2Internaldate(received_at), raw)
            assert status == "OK"

    def create(self, folder: str) -> None:
        with imaplib.IMAP4(self.server.host, self.server.port) as client:
            client.login(self.address.user, PASSWORD)
            assert client.create(folder)[0] == "OK"

    def uid_validity(self, folder: str) -> int:
        with imaplib.IMAP4(self.server.host, self.server.port) as client:
            client.login(self.address.user, PASSWORD)
            assert client.select(folder, readonly=True)[0] == "OK"
            return int(client.response("UIDVALIDITY")[1][0] or 0)

    def renumber(self, folder: str) -> None:
        """Give ``folder`` a new UID validity with the same messages (received times kept), as a
        mailbox migration or a folder rebuilt on the server does: every message gets a new UID from 1.
        (Dovecot cannot rename INBOX, so the tests renumber another folder.)"""
        with imaplib.IMAP4(self.server.host, self.server.port) as client:
            client.login(self.address.user, PASSWORD)
            assert client.rename(folder, f"{folder}-renumbering")[0] == "OK"
            assert client.create(folder)[0] == "OK"
            assert client.select(f"{folder}-renumbering")[0] == "OK"
            assert client.uid("COPY", "1:*", folder)[0] == "OK"
            client.close()
            assert client.delete(f"{folder}-renumbering")[0] == "OK"

    def count(self) -> int:
        with imaplib.IMAP4(self.server.host, self.server.port) as client:
            client.login(self.address.user, PASSWORD)
            status, data = client.select("INBOX", readonly=True)
            assert status == "OK"
            return int(data[0] or 0)


@pytest.fixture
def imap_mailbox(dovecot: DovecotServer) -> TestMailbox:
    user = dovecot.add_user()
    return TestMailbox(dovecot, MailboxAddress(dovecot.host, dovecot.port, False, user, "INBOX", PASSWORD))
