"""Adaptive Card validation with Microsoft's Adaptive Cards SDK (npm ``adaptivecards``), run by Node,
and of Teams' chart elements, which the SDK does not know, against their schema (``charts``).

One long-lived ``node validate_card.js`` process answers one JSON line per card, so validating a card
costs a pipe round trip rather than a Node start-up. It is started on first use. When Node or the
package is missing, validation raises :class:`CardValidatorUnavailable`: the card checks are part of
the test suite and must never be skipped silently.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.harness.charts import without_charts

SCRIPT = Path(__file__).with_name("validate_card.js")
PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: How long one answer may take before the worker is considered hung.
DEFAULT_TIMEOUT_SECONDS = 20.0


class CardValidatorUnavailable(RuntimeError):
    """Node.js or Microsoft's Adaptive Cards SDK is not installed, or the worker died."""


class InvalidCardError(AssertionError):
    """A card that Microsoft's SDK or the house checks reject."""

    def __init__(self, problems: list[str], context: str = "") -> None:
        self.problems = problems
        self.context = context
        where = f" ({context})" if context else ""
        super().__init__(f"invalid Adaptive Card{where}:\n  " + "\n  ".join(problems))


class NodeWorker:
    """A long-lived ``node <script>`` answering one JSON line per request line. Thread-safe.

    The worker is started on first use; it first writes ``{"ready": true, ...}`` (kept in ``hello``).
    Any failure to start or answer raises ``unavailable``, so a missing tool is never skipped silently.
    """

    unavailable: type[RuntimeError] = RuntimeError
    #: What the worker is, for messages.
    what = "the Node worker"

    def __init__(self, *, node: str | None, script: Path, cwd: Path, timeout: float) -> None:
        self._node = node
        self._script = script
        self._cwd = cwd
        self._timeout = timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._next_id = 0
        self._lock = threading.Lock()
        self.hello: dict[str, Any] = {}
        #: answers by the card's canonical JSON (``canonical``)
        self._cache: dict[str, list[str]] = {}

    @staticmethod
    def canonical(card: Mapping[str, Any]) -> str:
        """``card`` as JSON that is the same for equal cards: the key answers are cached by."""
        return json.dumps(card, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker now (it is otherwise started by the first request)."""
        with self._lock:
            self._ensure_started()

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
            self._buffer = b""
            if process is None:
                return
            if process.stdin is not None:
                process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._process = None
        node = self._node or shutil.which("node")
        if node is None:
            raise self.unavailable(
                f"Node.js (`node`) is not on PATH: it is required to run {self.what}. "
                "Install Node.js 20 and run `npm ci` in the project root."
            )
        if not self._script.is_file():
            raise self.unavailable(f"the script of {self.what} is missing: {self._script}")
        try:
            process = subprocess.Popen(
                [node, str(self._script)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self._cwd,
            )
        except OSError as error:
            raise self.unavailable(f"cannot run Node.js ({node}): {error}") from error
        self._process = process
        self._buffer = b""
        try:
            hello = json.loads(self._read_line(process))
        except self.unavailable:
            self._process = None
            raise
        if not isinstance(hello, dict) or hello.get("ready") is not True:
            self._process = None
            process.kill()
            raise self.unavailable(f"{self.what} did not start properly: {hello!r}")
        self.hello = hello
        return process

    def _read_line(self, process: subprocess.Popen[bytes]) -> bytes:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        deadline = time.monotonic() + self._timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                process.kill()
                raise self.unavailable(f"{self.what} gave no answer within {self._timeout}s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                process.wait(timeout=5)
                stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise self.unavailable(
                    f"{self.what} (node {self._script.name}) exited with status {process.returncode}: "
                    f"{stderr.strip() or 'no message'}"
                )
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _request(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Send ``payload`` with a fresh ``id`` and return the answer (the caller holds the lock)."""
        process = self._ensure_started()
        self._next_id += 1
        request_id = self._next_id
        assert process.stdin is not None
        line = json.dumps({"id": request_id, **payload}, ensure_ascii=False).encode() + b"\n"
        try:
            process.stdin.write(line)
            process.stdin.flush()
        except BrokenPipeError as error:
            self._process = None
            raise self.unavailable(f"{self.what} process has died") from error
        answer = json.loads(self._read_line(process))
        if not isinstance(answer, dict) or answer.get("id") != request_id:
            raise self.unavailable(f"{self.what} answered out of turn: {answer!r}")
        return answer


class CardValidator(NodeWorker):
    """A client for the validator worker. Thread-safe; caches answers by the card's canonical JSON."""

    unavailable = CardValidatorUnavailable
    what = "the card validator"

    def __init__(
        self,
        *,
        node: str | None = None,
        script: Path = SCRIPT,
        cwd: Path = PROJECT_ROOT,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(node=node, script=script, cwd=cwd, timeout=timeout)
        self.validated = 0

    @property
    def sdk_version(self) -> str:
        return str(self.hello.get("sdk", ""))

    # -- validation ----------------------------------------------------------------------------

    def validate(self, card: Mapping[str, Any]) -> list[str]:
        """Every problem Microsoft's SDK (at version 1.5) and the house checks find; [] when valid."""
        key = self.canonical(card)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                return list(cached)
            # The SDK does not know Teams' chart elements: they are checked against their schema
            # here (tests/harness/charts.py) and the rest of the card goes to the SDK.
            sdk_card, chart_problems = without_charts(card)
            answer = self._request({"card": sdk_card})
            problems = chart_problems + [str(problem) for problem in answer.get("problems", [])]
            self._cache[key] = problems
            self.validated += 1
            return list(problems)

    def assert_valid(self, card: Mapping[str, Any], context: str = "") -> None:
        problems = self.validate(card)
        if problems:
            raise InvalidCardError(problems, context)


@functools.cache
def shared_validator() -> CardValidator:
    """The one validator of this test process (the ``card_validator`` fixture hands out the same)."""
    validator = CardValidator()
    atexit.register(validator.close)
    return validator


def validate_card(card: Mapping[str, Any]) -> list[str]:
    """Problems with ``card`` under Microsoft's Adaptive Cards SDK and the house checks; [] if valid."""
    return shared_validator().validate(card)


def assert_valid_card(card: Mapping[str, Any], context: str = "") -> None:
    """Fail with every problem listed unless ``card`` is a valid Adaptive Card 1.5 for Teams."""
    shared_validator().assert_valid(card, context)
