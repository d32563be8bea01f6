"""The scheduler: APScheduler 3 as the trigger for work that lives in our tables.

APScheduler only decides *when* to look; *what* is due is always read from the database, so a job
run that was missed (the bot was down), doubled (two processes) or cancelled half-way (shutdown)
changes nothing that a later run would not put right. Hence:

- the in-memory job store, never the pickling SQLAlchemy one (a job store must not be shared
  between processes, and ours would hold nothing the tables do not);
- ``coalesce=True``: runs missed while the loop was busy collapse into one;
- ``max_instances=1``: a run still going when the next is due is not overlapped;
- ``misfire_grace_time=None``: a late run still runs (APScheduler's default of one second silently
  drops it), and it must go through ``job_defaults``: a bare scheduler keyword is ignored;
- fixed job ids with ``replace_existing=True``, so adding the jobs twice never doubles them;
- each job may also run once at start-up (``catch_up``), for what fell due while the bot was down.

``FrontDoorScheduler`` is started and stopped by the web app (``bot.app``) inside its
``cleanup_ctx``; it never imports ``store`` or ``bot``: the jobs get a unit-of-work factory and a
clock from the composition root.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Final

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from frontdoor.calendar import LONDON

log = logging.getLogger(__name__)

#: The options of issue 6's design (see the module docstring).
JOB_DEFAULTS: Final[dict[str, Any]] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}

#: How long ``stop`` lets a running job finish before cancelling it.
STOP_GRACE_SECONDS: Final = 10.0


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """One job: a fixed id, an APScheduler trigger and the coroutine to run."""

    id: str
    trigger: Any
    run: Callable[[], Awaitable[object]]
    #: also run once as soon as the scheduler starts
    catch_up: bool = False


class FrontDoorScheduler:
    def __init__(self, jobs: Sequence[ScheduledJob], *, timezone: tzinfo = LONDON) -> None:
        ids = [job.id for job in jobs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"job ids must be unique, got {ids}")
        self._jobs = tuple(jobs)
        self._scheduler = AsyncIOScheduler(
            jobstores={"default": MemoryJobStore()}, job_defaults=dict(JOB_DEFAULTS), timezone=timezone
        )
        self._running: set[asyncio.Task[object]] = set()

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self._scheduler.get_jobs())

    def next_run_time(self, job_id: str) -> datetime | None:
        job = self._scheduler.get_job(job_id)
        moment: datetime | None = None if job is None else job.next_run_time
        return moment

    def job_options(self, job_id: str) -> dict[str, Any]:
        """The options a job was added with (what the tests check against ``JOB_DEFAULTS``)."""
        job = self._scheduler.get_job(job_id)
        if job is None:
            raise KeyError(job_id)
        return {name: getattr(job, name) for name in JOB_DEFAULTS}

    async def start(self) -> None:
        """Add the jobs and start; must be called with the event loop running."""
        now = datetime.now(LONDON)
        for job in self._jobs:
            self._scheduler.add_job(
                self._wrap(job),
                trigger=job.trigger,
                id=job.id,
                name=job.id,
                replace_existing=True,
                # A catch-up job's first run is now; later runs follow its trigger.
                **({"next_run_time": now} if job.catch_up else {}),
            )
        self._scheduler.start()
        log.info("scheduler started", extra={"count": len(self._jobs)})

    def _wrap(self, job: ScheduledJob) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            started = time.monotonic()
            try:
                await job.run()
            except Exception as error:  # a failed run is logged; the next run tries again
                log.error(
                    "scheduled job failed",
                    exc_info=(type(error), error, error.__traceback__),
                    extra={"key": job.id, "error_code": type(error).__name__},
                )
            else:
                duration = round((time.monotonic() - started) * 1000)
                log.info("scheduled job ran", extra={"key": job.id, "duration_ms": duration})
            finally:
                if task is not None:
                    self._running.discard(task)

        return run

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop scheduling, let running jobs finish (up to ``grace`` seconds), then shut down."""
        if not self._scheduler.running:
            return
        self._scheduler.pause()
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=grace)
            if late:
                log.warning("scheduled jobs cancelled at shutdown", extra={"count": len(late)})
        self._scheduler.shutdown(wait=False)
        # AsyncIOScheduler shuts down on the loop's next turn; let it, so ``running`` is False and
        # anything still pending is cancelled before the database is closed.
        for _ in range(100):
            if not self._scheduler.running:
                break
            await asyncio.sleep(0)
        if self._running:
            await asyncio.wait(set(self._running), timeout=1.0)
        log.info("scheduler stopped")
