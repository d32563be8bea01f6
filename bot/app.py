"""The composition root: ``create_app(settings)`` builds the whole bot. Only this module (and the
command line) knows every package.

``POST /api/messages`` is the Bot Framework endpoint. Its body is checked here before botbuilder
sees it: a malformed, oversized or incomplete activity gets a 4xx with a short reason, never a
500. The request's token is authenticated separately from the turn, so an authentication failure
is always a 401 and a fault in the turn is never mistaken for one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from botbuilder.core import ConversationState
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity

from bot.handler import FrontDoorBot, on_turn_error
from bot.patches import apply_patches
from bot.routing import Router
from bot.settings import Settings
from bot.storage import SqlStorage
from frontdoor.calendar import WorkingCalendar
from frontdoor.policy import calendar_from
from frontdoor.ports import Clock, Store
from frontdoor.records import AuditEvent
from frontdoor.roles import Role
from frontdoor.systemclock import SystemClock
from scheduler.bank_holidays import england_and_wales_holidays, holiday_years
from store.sql import SqlStore

log = logging.getLogger("frontdoor.app")

#: Teams activities are at most ~100 KB; anything far larger is not from Teams.
MAX_BODY_BYTES = 256 * 1024

STORE = web.AppKey("store", Store)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", FrontDoorBot)
SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
CALENDAR = web.AppKey("calendar", WorkingCalendar)


@dataclass(frozen=True, slots=True)
class _AdapterConfiguration:
    """The attribute names botbuilder's configuration-based authentication reads."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


def create_app(
    settings: Settings, *, store: Store | None = None, clock: Clock | None = None
) -> web.Application:
    apply_patches()
    store = store if store is not None else SqlStore(settings.database_url)
    clock = clock if clock is not None else SystemClock()
    configuration = _AdapterConfiguration(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        # Without an app id botbuilder's single-tenant factory refuses to start; authentication is
        # off in that case anyway (development, loopback only).
        APP_TYPE=settings.app_type.value if settings.app_id else "MultiTenant",
        APP_TENANTID=settings.app_tenant_id,
    )
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(configuration))
    adapter.on_turn_error = on_turn_error
    router = Router()
    bot = FrontDoorBot(
        store=store,
        conversation_state=ConversationState(SqlStorage(store)),
        clock=clock,
        router=router,
        tenants=settings.tenants,
    )

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STORE] = store
    app[ADAPTER] = adapter
    app[BOT] = bot
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[CALENDAR] = working_calendar(settings, clock)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.cleanup_ctx.append(_lifecycle)
    return app


def working_calendar(settings: Settings, clock: Clock) -> WorkingCalendar:
    """Office hours and closures from the policy; bank holidays of England and Wales from the
    maintained ``holidays`` library, from last year to two years ahead."""
    return calendar_from(settings.policy, england_and_wales_holidays(holiday_years(clock.now().date())))


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = app[STORE]
    await _seed_admins(store, settings.admins, app[CLOCK])
    if not settings.authentication_enabled:
        log.warning("authentication is off: no MicrosoftAppId; listening on loopback only")
    yield
    await store.close()


async def _seed_admins(store: Store, admins: frozenset[str], clock: Clock) -> None:
    if not admins:
        return
    async with store.unit_of_work() as uow:
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
    if not body["serviceUrl"].startswith(("https://", "http://")):
        return "serviceUrl must be an http(s) URL"
    for name in ("text", "id", "name", "replyToId", "locale"):
        if name in body and body[name] is not None and not isinstance(body[name], str):
            return f"{name} must be a string"
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
    auth_header = request.headers.get("Authorization", "")
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
