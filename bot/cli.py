"""The ``frontdoor-bot`` command line: serve, migrate, and manage the role directory and duty rota.

Changes made here are audited like changes made in Teams, with the actor ``cli:<login name>``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from pathlib import Path

from aiohttp import web
from dotenv import load_dotenv

from bot import cli_audit, cli_consultations, cli_figures
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError
from frontdoor.agencies import Agency, parse_agency
from frontdoor.directory import DirectoryError, set_team
from frontdoor.mash import audit_partner_agency
from frontdoor.policy import calendar_from
from frontdoor.ports import Clock
from frontdoor.records import AuditEvent, RotaEntry
from frontdoor.roles import Role, parse_role
from frontdoor.unit_of_work import Store
from scheduler.bank_holidays import england_and_wales_holidays, holiday_years
from store.migrate import upgrade
from store.sql import SqlStore

log = logging.getLogger(__name__)


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _role(text: str) -> Role:
    try:
        return parse_role(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _agency(text: str) -> Agency:
    try:
        return parse_agency(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frontdoor-bot", description="Children's services front door bot")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("serve", help="run the bot (POST /api/messages, GET /healthz)")

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply every migration")

    roles = commands.add_parser("roles", help="the role directory")
    role_commands = roles.add_subparsers(dest="roles_command", required=True)
    for name in ("grant", "revoke"):
        sub = role_commands.add_parser(name, help=f"{name} a role")
        sub.add_argument("aad_object_id", help="the person's Azure AD object id")
        sub.add_argument("role", type=_role, help=", ".join(r.value for r in Role))
        if name == "grant":
            sub.add_argument(
                "--agency", type=_agency, help="a partner's agency: " + ", ".join(a.value for a in Agency)
            )
    role_commands.add_parser("list", help="everyone in the directory, their roles and team")
    team = role_commands.add_parser(
        "team", help="record the team a person works in (the figures narrow by it)"
    )
    team.add_argument("aad_object_id", help="the person's Azure AD object id")
    team.add_argument("team", nargs="?", default="", help="the team's name; leave out to clear it")

    duty = commands.add_parser("duty", help="the duty rota")
    duty_commands = duty.add_subparsers(dest="duty_command", required=True)
    duty_set = duty_commands.add_parser("set", help="put a person on duty in a role for a day")
    duty_set.add_argument("day", type=_day, help="YYYY-MM-DD")
    duty_set.add_argument("role", type=_role)
    duty_set.add_argument("aad_object_id")
    duty_show = duty_commands.add_parser("show", help="who is on duty on a day")
    duty_show.add_argument("day", type=_day, help="YYYY-MM-DD")

    cli_consultations.add_commands(commands)
    cli_figures.add_commands(commands)
    cli_audit.add_commands(commands)
    return parser


async def _with_store(settings: Settings, work: Callable[[Store], Awaitable[int]]) -> int:
    store = SqlStore(settings.database_url)
    try:
        return await work(store)
    finally:
        await store.close()


async def _roles_change(
    store: Store, clock: Clock, grant: bool, aad_object_id: str, role: Role, agency: Agency | None = None
) -> int:
    async with store.unit_of_work() as uow:
        if role is Role.PARTNER:
            # The agency's row before the role's audit row (see ``audit_partner_agency``).
            await uow.mash.set_agency(aad_object_id, agency)
        changed = await (uow.roles.grant if grant else uow.roles.revoke)(aad_object_id, role)
        if changed:
            await uow.audit.append(
                AuditEvent(
                    at=clock.now(),
                    actor_id=_actor(),
                    action="role.grant" if grant else "role.revoke",
                    subject=f"person:{aad_object_id}",
                    detail=role.value,
                )
            )
        if role is Role.PARTNER:
            await audit_partner_agency(uow, aad_object_id, agency, actor_id=_actor(), now=clock.now())
        await uow.commit()
    verb = "granted" if grant else "revoked"
    _out(
        f"{role.value} {verb}"
        if changed
        else f"no change: {role.value} was {'already' if grant else 'not'} held"
    )
    return 0


async def _roles_list(store: Store) -> int:
    async with store.unit_of_work() as uow:
        entries = await uow.roles.entries()
    for entry in sorted(entries, key=lambda e: e.aad_object_id):
        team = f"\tteam: {entry.team}" if entry.team else ""
        _out(f"{entry.aad_object_id}\t{','.join(sorted(r.value for r in entry.roles))}{team}")
    if not entries:
        _out("the role directory is empty")
    return 0


async def _roles_team(store: Store, clock: Clock, aad_object_id: str, text: str) -> int:
    try:
        async with store.unit_of_work() as uow:
            team = await set_team(uow, actor_id=_actor(), person_id=aad_object_id, text=text, at=clock.now())
            await uow.commit()
    except DirectoryError as refused:
        sys.stderr.write(f"frontdoor-bot: {refused}\n")
        return 2
    _out(f"{aad_object_id} is in team {team}" if team else f"{aad_object_id} is in no team")
    return 0


async def _duty_set(store: Store, clock: Clock, day: date, role: Role, aad_object_id: str) -> int:
    async with store.unit_of_work() as uow:
        await uow.rota.set(RotaEntry(day=day, role=role, person_id=aad_object_id))
        await uow.audit.append(
            AuditEvent(
                at=clock.now(),
                actor_id=_actor(),
                action="rota.set",
                subject=f"rota:{day.isoformat()}",
                detail=f"{role.value}:{aad_object_id}",
            )
        )
        await uow.commit()
    _out(f"{aad_object_id} is on duty as {role.value} on {day.isoformat()}")
    return 0


async def _duty_show(store: Store, day: date) -> int:
    async with store.unit_of_work() as uow:
        entries = await uow.rota.on(day)
    for entry in sorted(entries, key=lambda e: (e.role.value, e.person_id)):
        _out(f"{entry.role.value}\t{entry.person_id}")
    if not entries:
        _out(f"nobody is on the rota for {day.isoformat()}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # ``.env`` in the working directory, when present, fills in what the environment does not set
    dotenv = Path(".env")
    if dotenv.is_file():
        load_dotenv(dotenv, override=False)
    try:
        settings = Settings.from_env(serving=args.command == "serve")
    except SettingsError as error:
        sys.stderr.write(f"frontdoor-bot: {error}\n")
        return 2
    configure_logging(settings.log_level)
    clock = settings.clock()

    if args.command == "serve":
        from bot.app import create_app  # the web stack is only needed to serve
        from bot.heap import freeze_after_start

        log.info("starting", extra={"host": settings.host, "port": settings.port})
        app = create_app(settings)
        freeze_after_start(app)
        web.run_app(app, host=settings.host, port=settings.port, print=None)
        return 0
    if args.command == "db":
        upgrade(settings.database_url)
        _out("database is up to date")
        return 0
    if args.command == "roles":
        if args.roles_command == "list":
            return asyncio.run(_with_store(settings, _roles_list))
        if args.roles_command == "team":
            return asyncio.run(
                _with_store(settings, lambda store: _roles_team(store, clock, args.aad_object_id, args.team))
            )
        grant = args.roles_command == "grant"
        agency = getattr(args, "agency", None)
        if grant and (args.role is Role.PARTNER) != (agency is not None):
            sys.stderr.write("frontdoor-bot: a partner is granted with --agency, and only a partner\n")
            return 2
        return asyncio.run(
            _with_store(
                settings,
                lambda store: _roles_change(store, clock, grant, args.aad_object_id, args.role, agency),
            )
        )
    if args.command == "audit":
        return asyncio.run(cli_audit.run(settings.database_url, args, _actor()))
    if args.command == "consultations":
        return asyncio.run(
            _with_store(settings, lambda store: cli_consultations.export(store, args, clock, _actor(), _out))
        )
    if args.command == "figures":
        calendar = calendar_from(
            settings.policy, england_and_wales_holidays(holiday_years(clock.now().date()))
        )
        band = (settings.policy.open_contacts.band_low, settings.policy.open_contacts.band_high)
        return asyncio.run(
            _with_store(
                settings,
                lambda store: cli_figures.export(store, args, clock, calendar, _actor(), _out, band),
            )
        )
    if args.duty_command == "set":
        return asyncio.run(
            _with_store(
                settings, lambda store: _duty_set(store, clock, args.day, args.role, args.aad_object_id)
            )
        )
    return asyncio.run(_with_store(settings, lambda store: _duty_show(store, args.day)))


if __name__ == "__main__":
    sys.exit(main())
