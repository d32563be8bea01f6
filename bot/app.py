"""The composition root: ``create_app(settings)`` builds the whole bot. Only this module (and the
command line) knows every package.

``POST /api/messages`` is the Bot Framework endpoint. Its body is checked here before botbuilder
sees it: a malformed, oversized or incomplete activity gets a 4xx with a short reason, never a
500. The request's token is authenticated separately from the turn, so an authentication failure
is always a 401 and a fault in the turn is never mistaken for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity

from bot import demo
from bot.alerting import TeamsAlertSender
from bot.auth import (
    PUBLIC_CLOUD,
    KeyManager,
    TokenSources,
    adapter_configuration,
    authentication_configuration,
)
from bot.dedup import Deduplicator
from bot.dialogs.admin import register as register_admin
from bot.dialogs.alerts import AlertsFeature
from bot.dialogs.body_requests import BodyRequestsFeature
from bot.dialogs.casework import CaseworkFeature
from bot.dialogs.channels import ChannelsFeature
from bot.dialogs.consultation import ConsultationFeature
from bot.dialogs.context import FeatureContext
from bot.dialogs.continuity import ContinuityFeature
from bot.dialogs.decisions import DecisionsFeature
from bot.dialogs.duty import DutyFeature
from bot.dialogs.edt import EdtFeature
from bot.dialogs.figures import FiguresFeature
from bot.dialogs.find import register_find
from bot.dialogs.intake import IntakeFeature
from bot.dialogs.mail import MailFeature
from bot.dialogs.marac_cases import MaracFeature
from bot.dialogs.mash import MashFeature
from bot.dialogs.quality import QualityFeature
from bot.dialogs.triage import TriageFeature
from bot.dialogs.worklists import WorklistsFeature
from bot.handler import FrontDoorBot, on_turn_error
from bot.mail import SmtpAlertMailer
from bot.notify import Notifier
from bot.patches import apply_patches
from bot.routing import Router
from bot.settings import Settings
from frontdoor.calendar import WorkingCalendar
from frontdoor.installation import installed_at
from frontdoor.policy import calendar_from
from frontdoor.ports import Clock
from frontdoor.records import AuditEvent
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from scheduler.alert_jobs import DeadlineAlerts
from scheduler.bank_holidays import england_and_wales_holidays, holiday_years
from scheduler.jobs import create_scheduler
from scheduler.leadership import Leadership, scheduler_allowed
from scheduler.mailbox import MailboxWatcher
from scheduler.runner import FrontDoorScheduler
from store.leader import leadership_for
from store.sql import SqlStore

log = logging.getLogger(__name__)

#: Teams activities are at most ~100 KB; anything far larger is not from Teams.
MAX_BODY_BYTES = 256 * 1024
#: The longest id (activity, conversation, sender) accepted; Teams ids are far shorter.
MAX_ID_LENGTH = 1024
#: What a Bot Framework or Teams activity id looks like (e.g. ``1732000000001``, ``f:9d2…``).
_PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9:;=@._|\-]{1,1024}")

STORE = web.AppKey("store", Store)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", FrontDoorBot)
#: every command, card submission and verb the bot answers (the authorization walk reads it)
ROUTER = web.AppKey("router", Router)
SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
CALENDAR = web.AppKey("calendar", WorkingCalendar)
KEYS = web.AppKey("keys", KeyManager)
DEDUP = web.AppKey("dedup", Deduplicator)
SCHEDULER = web.AppKey("scheduler", FrontDoorScheduler)
NOTIFIER = web.AppKey("notifier", Notifier)
LEADERSHIP = web.AppKey("leadership", Leadership)
#: the deadline tick and dispatcher of this process (tests drive them directly)
ALERTS = web.AppKey("alerts", DeadlineAlerts)
#: the mailbox watcher, when a mailbox is configured
MAILBOX = web.AppKey("mailbox", MailboxWatcher)


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    token_sources: TokenSources = PUBLIC_CLOUD,
) -> web.Application:
    """The bot. ``token_sources`` exists for the tests' loopback token issuer: it is deliberately a
    keyword, never a setting, so nothing in the environment can move where signing keys come from
    (see ``bot.auth``)."""
    settings.check()  # production and wide binds fail closed, whoever built the settings
    apply_patches()
    store = store if store is not None else SqlStore(settings.database_url)
    clock = clock if clock is not None else settings.clock()
    adapter = CloudAdapter(
        ConfigurationBotFrameworkAuthentication(
            adapter_configuration(settings, token_sources),
            auth_configuration=authentication_configuration(),
        )
    )
    adapter.on_turn_error = on_turn_error
    router = Router()
    register_admin(router, store, clock)
    # ``find`` dispatches by reference kind; each feature registers the finder for its own kind.
    finders = register_find(router)
    context = FeatureContext(
        store=store,
        clock=clock,
        calendar=working_calendar(settings, clock),
        policy=settings.policy,
        notifier=Notifier(adapter, store, settings.app_id),
    )
    ConsultationFeature(context).register(router, finders)
    decisions = DecisionsFeature(context)
    decisions.register(router)
    CaseworkFeature(context, decisions).register(router)
    QualityFeature(context, decisions).register(router)
    intake = IntakeFeature(
        context, decision_card=decisions.channel.posted_card, channel_update=decisions.channel.redraw_now
    )
    intake.register(router, finders)
    MailFeature(context, intake).register(router)
    ChannelsFeature(context).register(router)
    ContinuityFeature(context).register(router)
    EdtFeature(context).register(router)
    AlertsFeature(context).register(router)
    DutyFeature(context).register(router)
    FiguresFeature(context).register(router)
    WorklistsFeature(context).register(router)
    MashFeature(context).register(router, finders)
    TriageFeature(context, intake.dispatch_submitted).register(router)
    BodyRequestsFeature(context).register(router, finders)
    MaracFeature(context).register(router)
    router.verify()  # every rule of the authorization table has its handler (bot.access)
    dedup = Deduplicator(store, clock)
    bot = FrontDoorBot(
        store=store,
        clock=clock,
        router=router,
        tenants=settings.tenants,
        dedup=dedup,
        authenticated=settings.authentication_enabled,
        max_text_chars=settings.policy.limits.max_free_text_chars,
        demo=settings.demo,
    )

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STORE] = store
    app[ADAPTER] = adapter
    app[BOT] = bot
    app[ROUTER] = router
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[CALENDAR] = context.calendar
    app[NOTIFIER] = context.notifier
    app[DEDUP] = dedup
    if settings.authentication_enabled:
        keys = KeyManager(token_sources)
        keys.install()  # before any request: botbuilder must never fetch keys itself
        app[KEYS] = keys
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.cleanup_ctx.append(_lifecycle)
    if settings.scheduler_enabled:
        # PostgreSQL: every process schedules, the advisory-lock holder plans; SQLite: one process.
        leadership = leadership_for(settings.database_url)
        alerts = DeadlineAlerts(
            store.unit_of_work,
            clock,
            settings.policy,
            context.calendar,
            sender=TeamsAlertSender(context.notifier, store),
            mailer=SmtpAlertMailer(settings.smtp) if settings.smtp is not None else None,
            leadership=leadership,
            tick_seconds=settings.tick_seconds,
        )
        app[LEADERSHIP] = leadership
        app[ALERTS] = alerts
        mailbox = None
        if settings.mailbox is not None:
            # Only the leader reads the mailbox (the same leadership as the deadline tick).
            mailbox = MailboxWatcher(
                settings.mailbox,
                store.unit_of_work,
                clock,
                leadership,
                poll_seconds=settings.policy.mail.poll_seconds,
                first_read=settings.policy.mail.first_read,
            )
            app[MAILBOX] = mailbox
        app[SCHEDULER] = create_scheduler(
            store.unit_of_work, clock, settings.policy, context.calendar, alerts=alerts, mailbox=mailbox
        )
        # Appended after ``_lifecycle``, so it stops before the store is closed.
        app.cleanup_ctx.append(_scheduling)
    return app


def working_calendar(settings: Settings, clock: Clock) -> WorkingCalendar:
    """Office hours and closures from the policy; bank holidays of England and Wales from the
    maintained ``holidays`` library, from last year to two years ahead."""
    return calendar_from(settings.policy, england_and_wales_holidays(holiday_years(clock.now().date())))


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = app[STORE]
    # Recorded before the scheduler's first catch-up, which never reaches back past it.
    await installed_at(store.unit_of_work, app[CLOCK].now())
    await _seed_admins(store, settings.admins, app[CLOCK])
    if settings.demo:
        await demo.seed(store, app[CLOCK], demo.load_setup(settings.demo_config), settings.demo_service_url)
    keys = app.get(KEYS)
    if keys is not None:
        await keys.start()  # the signing keys are in memory before the first request
    else:
        log.warning("authentication is off (FRONTDOOR_AUTH=off): local development on loopback only")
    pruning = asyncio.create_task(app[DEDUP].prune_periodically(), name="prune-processed-activities")
    yield
    pruning.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pruning
    if keys is not None:
        await keys.stop()
    await store.close()


async def _scheduling(app: web.Application) -> AsyncIterator[None]:
    scheduler, leadership = app[SCHEDULER], app[LEADERSHIP]
    if not await scheduler_allowed(leadership):  # a second process on one SQLite database
        yield
        await leadership.release()
        return
    await scheduler.start()
    yield
    await scheduler.stop()
    mailbox = app.get(MAILBOX)
    if mailbox is not None:
        await mailbox.stop()
    await leadership.release()


async def _seed_admins(store: Store, admins: frozenset[str], clock: Clock) -> None:
    """``FRONTDOOR_ADMINS`` bootstraps the directory: it grants only while the directory has no
    administrator, so revoking one of them (with an administrator left) sticks across restarts."""
    if not admins:
        return
    async with store.unit_of_work() as uow:
        if await uow.roles.holders(Role.ADMIN):
            return
        for aad_object_id in sorted(admins):
            if await uow.roles.grant(aad_object_id, Role.ADMIN):
                await uow.audit.append(
                    AuditEvent(
                        at=clock.now(),
                        actor_id="config:FRONTDOOR_ADMINS",
                        action="role.grant",
                        subject=f"person:{aad_object_id}",
                        detail=Role.ADMIN.value,
                    )
                )
        await uow.commit()


def _bad_request(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


#: Fields every activity we act on must carry, as (path, description).
_REQUIRED: tuple[tuple[tuple[str, ...], str], ...] = (
    (("type",), "type"),
    (("channelId",), "channelId"),
    (("serviceUrl",), "serviceUrl"),
    (("conversation", "id"), "conversation.id"),
    (("from", "id"), "from.id"),
)


def check_activity(body: Any) -> str | None:
    """What is wrong with an inbound body, or None when it has the shape of an activity."""
    if not isinstance(body, dict):
        return "the body must be a JSON object (an activity)"
    for path, name in _REQUIRED:
        value: Any = body
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, str) or not value.strip():
            return f"the activity has no {name}"
        if len(value) > MAX_ID_LENGTH:
            return f"the activity's {name} is too long"
    if not body["serviceUrl"].startswith(("https://", "http://")):
        return "serviceUrl must be an http(s) URL"
    for name in ("text", "id", "name", "replyToId", "locale"):
        if name in body and body[name] is not None and not isinstance(body[name], str):
            return f"{name} must be a string"
    for name in ("id", "replyToId"):
        # Ids go into the connector's URLs when the bot replies; Teams' own are short.
        if isinstance(body.get(name), str) and len(body[name]) > MAX_ID_LENGTH:
            return f"{name} is too long"
    # A reply is addressed to the activity's id in the connector's URL path: an id with a slash or
    # a brace would make every reply to it fail.
    if isinstance(body.get("id"), str) and not _PLAUSIBLE_ID.fullmatch(body["id"]):
        return "id is not an activity id"
    for name in ("channelData", "recipient"):
        if name in body and body[name] is not None and not isinstance(body[name], dict):
            return f"{name} must be an object"
    for name in ("entities", "attachments", "membersAdded", "membersRemoved"):
        if name in body and body[name] is not None and not isinstance(body[name], list):
            return f"{name} must be a list"
    return None


async def messages(request: web.Request) -> web.StreamResponse:
    if "application/json" not in request.headers.get("Content-Type", ""):
        return web.json_response({"error": "Content-Type must be application/json"}, status=415)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return web.json_response({"error": f"the body is larger than {MAX_BODY_BYTES} bytes"}, status=413)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return _bad_request("the body is not JSON")
    problem = check_activity(body)
    if problem is not None:
        return _bad_request(problem)
    try:
        activity = Activity().deserialize(body)
    except Exception:
        return _bad_request("the body is not a valid activity")

    adapter = request.app[ADAPTER]
    # None when absent: botbuilder then refuses with "no token" (or, with authentication off in
    # development, lets the request through as anonymous).
    auth_header = request.headers.get("Authorization")
    try:
        authentication = await adapter.bot_framework_authentication.authenticate_request(
            activity, auth_header
        )
    except Exception as error:  # every authentication failure is a 401, never a 500
        log.warning(
            "request refused: authentication failed",
            extra={"activity_id": activity.id or "", "error_code": type(error).__name__},
        )
        return web.json_response({"error": "unauthorized"}, status=401)

    invoke_response = await adapter.process_activity(authentication, activity, request.app[BOT].on_turn)
    if invoke_response is None:
        return web.Response(status=201)
    response_body = invoke_response.body
    if hasattr(response_body, "serialize"):
        response_body = response_body.serialize()
    # botbuilder's own CloudAdapter.process serialises this body a second time, which makes every
    # invoke that returns a body a 500 in 4.17.1; the body is plain JSON data here already.
    if response_body is None:
        return web.Response(status=invoke_response.status)
    return web.json_response(response_body, status=invoke_response.status)


async def healthz(request: web.Request) -> web.Response:
    database_ok = await request.app[STORE].ping()
    return web.json_response(
        {
            "status": "ok" if database_ok else "unavailable",
            "database": "ok" if database_ok else "unreachable",
        },
        status=200 if database_ok else 503,
    )
