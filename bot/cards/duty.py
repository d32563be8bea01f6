"""The ``duty`` card (the rota of a day, and setting it) and the ``status`` card (SPEC §6, §7).

The rota card lists who is on duty as consultant, duty manager and team manager, with a multiple
choice per role of the staff the directory says hold it; "Save the rota" (``Action.Execute``, verb
``ROTA_SAVE_VERB``) sends the day and the choices, and the server checks who is saving and that
each person chosen holds the role. The status card shows counts, references, clock names, staff
names and delivery codes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Final

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    ChoiceSetInput,
    ExecuteAction,
    Fact,
    FactSet,
    TextBlock,
)
from microsoft_teams.cards import Choice as CardChoice

from bot.cards.clocks import CLOCK_TITLES
from bot.cards.common import flag, to_dict
from bot.cards.continuity import URGENT_ONLY_BANNER
from bot.cards.handover import band_line, capped_facts, clock_facts, heading, load_facts
from frontdoor.alerts import AlertKind, OutboxState, Recipient
from frontdoor.channels import PURPOSE_TITLES
from frontdoor.records import ConversationKind
from frontdoor.roles import Role
from frontdoor.rota import ROTA_ROLES, RotaDay
from frontdoor.status import DeadConversation, EmailedAlert, Status, UndeliveredAlert
from frontdoor.timefmt import format_local

__all__ = [
    "ROLES_KEY",
    "ROTA_DAY_KEY",
    "ROTA_INPUTS",
    "ROTA_SAVE_VERB",
    "ROTA_SHOW_VERB",
    "rota_card",
    "status_card",
]

ROTA_SAVE_VERB: Final = "duty.set"
#: Another day's rota (the card's previous and next day buttons).
ROTA_SHOW_VERB: Final = "duty.show"
ROTA_DAY_KEY: Final = "day"
#: The roles whose choices the card shows, comma-separated: a role listed with no input value
#: means "nobody".
ROLES_KEY: Final = "roles"
ROTA_INPUTS: Mapping[Role, str] = {role: f"rota_{role.value}" for role in ROTA_ROLES}

_ROLE_NAMES: Mapping[Role, str] = {
    Role.CONSULTANT: "Consultant",
    Role.DUTY_MANAGER: "Duty manager",
    Role.TEAM_MANAGER: "Team manager",
    Role.EDT: "EDT (out of hours)",
}

_KIND_TITLES: Mapping[AlertKind, str] = {
    AlertKind.DUE_SOON: "Due-soon alert",
    AlertKind.BREACHED: "Breach alert",
    AlertKind.REPEAT: "Repeated breach alert",
    AlertKind.ESCALATION: "Breach escalation",
    AlertKind.HANDOVER: "End-of-day handover",
    AlertKind.HANDOVER_ESCALATION: "Handover escalation",
    AlertKind.MARAC_REMINDER: "MARAC reminder",
    AlertKind.EMAIL: "E-mail copy of an alert",
    AlertKind.CONTINUITY: "Urgent-only mode notice",
    AlertKind.EDT_HANDOVER: "EDT handover",
    AlertKind.OVERNIGHT_SUMMARY: "Overnight summary",
    AlertKind.MAIL_UNTAKEN: "Untaken e-mail alert",
    AlertKind.WEEKLY_FIGURES: "Weekly figures",
}


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def rota_card(rota: RotaDay, *, editable: bool, notice: str = "", saved: str = "") -> dict[str, Any]:
    """The rota of ``rota.day``; with ``editable``, a choice per role and "Save the rota"."""
    body: list[CardElement] = [
        TextBlock(text="Duty rota", is_subtle=True, wrap=True),
        TextBlock(text=_day(rota.day), size="Large", weight="Bolder", wrap=True),
    ]
    if not rota.working_day:
        body.append(flag("Not a working day (a weekend, bank holiday or closure date).", "warning"))
    body.append(
        FactSet(
            facts=[
                Fact(
                    title=_ROLE_NAMES[role],
                    value=", ".join(person.label for person in rota.on_duty[role]) or "nobody on the rota",
                )
                for role in ROTA_ROLES
            ]
        )
    )
    if saved:
        body.append(TextBlock(text=saved, color="Good", weight="Bolder", wrap=True))
    if notice:
        body.append(TextBlock(text=notice, color="Attention", weight="Bolder", wrap=True))
    shown: list[Role] = []
    if editable:
        for role in ROTA_ROLES:
            choices = rota.choices[role]
            if not choices:
                body.append(
                    TextBlock(
                        text=f"Nobody holds the {_ROLE_NAMES[role].lower()} role yet: an administrator "
                        f"grants it with **grant @person {role.value}**.",
                        is_subtle=True,
                        wrap=True,
                    )
                )
                continue
            shown.append(role)
            body.append(
                ChoiceSetInput(
                    id=ROTA_INPUTS[role],
                    label=f"{_ROLE_NAMES[role]} on duty",
                    is_multi_select=True,
                    style="compact",
                    choices=[CardChoice(title=person.label, value=person.person_id) for person in choices],
                    value=",".join(person.person_id for person in rota.on_duty[role]) or None,
                )
            )
        body.append(
            TextBlock(
                text="Choose who is on duty that day; leave a role empty to take everyone off it.",
                is_subtle=True,
                size="Small",
                wrap=True,
            )
        )
    actions: list[Action] = []
    if editable and shown:
        actions.append(
            ExecuteAction(
                title="Save the rota",
                verb=ROTA_SAVE_VERB,
                data={ROTA_DAY_KEY: rota.day.isoformat(), ROLES_KEY: ",".join(role.value for role in shown)},
            )
        )
    actions += [
        ExecuteAction(
            title="Previous day",
            verb=ROTA_SHOW_VERB,
            data={ROTA_DAY_KEY: (rota.day - timedelta(days=1)).isoformat()},
            associated_inputs="none",
        ),
        ExecuteAction(
            title="Next day",
            verb=ROTA_SHOW_VERB,
            data={ROTA_DAY_KEY: (rota.day + timedelta(days=1)).isoformat()},
            associated_inputs="none",
        ),
    ]
    return to_dict(AdaptiveCard(body=body, actions=actions, fallback_text=f"Duty rota for {_day(rota.day)}"))


def _recipient(recipient: Recipient | None, names: Mapping[str, str]) -> str:
    if recipient is None:
        return "unknown recipient"
    if recipient.purpose is not None:
        return f"the {PURPOSE_TITLES[recipient.purpose]}"
    person = recipient.person_id or ""
    return f"{names.get(person) or person} (personal chat)"


def _dead(record: DeadConversation, names: Mapping[str, str]) -> Fact:
    if record.purpose is not None:
        title = f"The {PURPOSE_TITLES[record.purpose]}"
    elif record.kind is ConversationKind.PERSONAL:
        title = f"Personal chat of {names.get(record.person_id or '') or record.person_id or 'someone'}"
    elif record.kind is ConversationKind.CHANNEL:
        title = "A channel that is not registered"
    else:
        title = "A group chat"
    return Fact(
        title=title, value=f"Teams refused it ({record.reason or 'no code'}) at {format_local(record.since)}"
    )


def _undelivered(alert: UndeliveredAlert, names: Mapping[str, str]) -> Fact:
    return Fact(
        title=f"{_KIND_TITLES.get(alert.kind, alert.kind.value)}: {alert.subject}",
        value=f"to {_recipient(alert.recipient, names)}; due {format_local(alert.due_at)}; "
        f"{alert.attempts} attempt{'s' if alert.attempts != 1 else ''}; {alert.error or 'no error recorded'}",
    )


def _urgent_only(status: Status) -> list[CardElement]:
    mode = status.urgent_only
    if mode is None:
        return []
    return [
        TextBlock(text=URGENT_ONLY_BANNER, color="Attention", weight="Bolder", wrap=True),
        TextBlock(text=f"Since {format_local(mode.since)}: {mode.reason}", wrap=True),
    ]


def _emailed(alert: EmailedAlert) -> Fact:
    clock = CLOCK_TITLES[alert.clock] if alert.clock is not None else "Deadline"
    kind = _KIND_TITLES.get(alert.kind, alert.kind.value)
    if alert.state is OutboxState.SENT and alert.sent_at is not None:
        how = f"e-mailed {format_local(alert.sent_at)}"
    else:
        how = f"{alert.state.value}: {alert.error}" if alert.error else alert.state.value
    return Fact(title=alert.subject, value=f"{kind}, {clock}, due {format_local(alert.due_at)}; {how}")


def status_card(status: Status, names: Mapping[str, str]) -> dict[str, Any]:
    body: list[CardElement] = [
        TextBlock(text="Front door status", is_subtle=True, wrap=True),
        TextBlock(text=f"As at {format_local(status.made_at)}", size="Large", weight="Bolder", wrap=True),
        *_urgent_only(status),
        heading("Open contacts"),
        band_line(status.open_contacts),
    ]
    cap = status.loads[0].cap if status.loads else None
    body.append(heading("Social workers' loads" + (f" (cap {cap})" if cap is not None else "")))
    body += capped_facts(load_facts(status.loads, names), "No social workers in the directory.")
    body.append(heading(f"Breached clocks ({len(status.breached)})"))
    body += capped_facts(clock_facts(status.breached, names, status.made_at), "None.")
    body.append(heading(f"At risk, not yet breached ({len(status.at_risk)})"))
    body += capped_facts(clock_facts(status.at_risk, names, status.made_at), "None.")

    body.append(heading("Delivery"))
    body.append(
        FactSet(
            facts=[
                *(
                    Fact(
                        title=PURPOSE_TITLES[purpose][0].upper() + PURPOSE_TITLES[purpose][1:],
                        value="registered"
                        if registered
                        else "NOT registered: an administrator says **register … channel** in it",
                    )
                    for purpose, registered in status.channels.items()
                ),
                Fact(
                    title="Alert outbox",
                    value=", ".join(f"{count} {state.value}" for state, count in status.outbox.items()),
                ),
            ]
        )
    )
    failed = status.outbox.get(OutboxState.FAILED, 0)
    body.append(heading(f"Undelivered alerts ({failed})"))
    body += capped_facts([_undelivered(alert, names) for alert in status.undelivered], "None.")
    body.append(heading(f"Alerts sent by e-mail ({len(status.emailed)})"))
    body += capped_facts([_emailed(alert) for alert in status.emailed], "None.")
    body.append(heading(f"Chats and channels I can no longer post to ({len(status.dead)})"))
    body += capped_facts(
        [_dead(record, names) for record in status.dead],
        "None.",
        " They come back when someone writes to me there.",
    )
    return to_dict(AdaptiveCard(body=body, fallback_text="Front door status"))
