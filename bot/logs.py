"""Structured logging that carries ids and references only.

Log records are JSON lines. Only the message template and a fixed set of id-like fields are
written: free text from Teams (names, addresses, what someone is worried about) has no field to
go in. Exceptions are written as their type and stack of code locations, never their message,
because an exception message can quote the input that caused it.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

#: The only ``extra`` fields a log line may carry: ids, references, codes and counts.
ALLOWED_FIELDS: frozenset[str] = frozenset(
    {
        "activity_id",
        "activity_type",
        "action",
        "aad_object_id",
        "attempt",
        "clock",
        "command",
        "contact_id",
        "conversation_id",
        "conversation_kind",
        "count",
        "duration_ms",
        "error_code",
        "host",
        "key",
        "mail_id",
        "message_id",
        "size",
        "uid",
        "uid_validity",
        "idle",
        "port",
        "purpose",
        "reference",
        "role",
        "status",
        "subject",
        "tenant_id",
        "verb",
    }
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": _template(record),
        }
        for name in ALLOWED_FIELDS:
            value = record.__dict__.get(name)
            if isinstance(value, str | int | float | bool):
                line[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _, tb = record.exc_info
            line["exception"] = exc_type.__qualname__
            line["stack"] = [f"{frame.filename}:{frame.lineno}" for frame in traceback.extract_tb(tb)][-8:]
        return json.dumps(line, ensure_ascii=True)


#: Libraries whose log arguments are never anything typed in Teams: Alembic's are schema and
#: revision names; APScheduler's are our job ids (``scheduler.runner`` names each job by its id; a
#: job's arguments are not in its text), job store names, times and durations.
_TRUSTED_ARGUMENTS = ("alembic.", "apscheduler.")


def _template(record: logging.LogRecord) -> str:
    # Our own loggers log fixed templates with ``extra`` fields; other libraries may interpolate
    # arguments (a URL, a header, a message), which is why their arguments are dropped.
    if not record.args:
        return str(record.msg)
    if record.name.startswith(_TRUSTED_ARGUMENTS):
        return record.getMessage()
    return f"{record.msg} [arguments withheld]"


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp's access log carries client addresses and paths only, but it adds nothing we need.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # APScheduler's executor logs two lines per job run ("Running job", "executed successfully"),
    # most of a quiet day's log; its warnings (a missed run) and errors are kept.
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    # The IMAP client and the SQLite driver log the bytes they move at DEBUG: e-mails and records.
    for chatty in ("aioimaplib", "aiosqlite"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
