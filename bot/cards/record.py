"""The full record of a submitted contact (``record_card``, SPEC §3), for someone whose role lets them
view contacts: its state, its clocks open and closed (met or late), everything recorded about it
(``bot.cards.details.contact_details``), what the emergency duty team recorded overnight, and what the
viewer may do from it. It shows names and details: a personal chat only, never a channel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from microsoft_teams.cards import Action, AdaptiveCard, CardElement, SubmitAction

from bot.cards.clocks import CLOCK_TITLES
from bot.cards.common import to_dict
from bot.cards.details import (
    STATE_TITLES,
    banner,
    contact_details,
    fact_set,
    open_clock_facts,
    part_heading,
    plain,
    text_block,
    text_section,
)
from bot.cards.intake import HISTORY_OPEN
from bot.cards.keys import ACTION_KEY, REFERENCE_KEY, VERSION_KEY
from frontdoor.calendar import LONDON
from frontdoor.contact import Contact
from frontdoor.edt import OVERNIGHT_ACTION
from frontdoor.mail_records import MailItem
from frontdoor.records import Deadline, DeadlineState
from frontdoor.script import DEFAULT_LOCAL_SYSTEMS
from frontdoor.script import Choice as ScriptChoice
from frontdoor.timefmt import format_local

__all__ = [
    "CLOSED_CLOCK_WORDS",
    "record_card",
]


#: How a closed clock reads on the full record (SPEC §3: met by its due time, or late).
CLOSED_CLOCK_WORDS: Mapping[DeadlineState, str] = {DeadlineState.MET: "met", DeadlineState.LATE: "late"}


def _closed_clock_facts(deadlines: Sequence[Deadline]) -> list[tuple[str, str]]:
    """The clocks that closed met or late, oldest first; cancelled ones timed nothing."""
    closed = sorted(
        (d for d in deadlines if d.state in CLOSED_CLOCK_WORDS and d.closed_at is not None),
        key=lambda d: (d.closed_at or d.due_at, d.clock.value),
    )
    return [
        (
            CLOCK_TITLES[d.clock],
            f"{CLOSED_CLOCK_WORDS[d.state]}: closed {format_local(d.closed_at or d.due_at)}, "
            f"due {format_local(d.due_at)}",
        )
        for d in closed
    ]


def record_card(
    contact: Contact,
    deadlines: Sequence[Deadline],
    now: datetime,
    people_names: Mapping[str, str],
    *,
    heading: str = "",
    local_systems: Sequence[ScriptChoice] = DEFAULT_LOCAL_SYSTEMS,
    follows: str = "",
    actions: Sequence[Action] = (),
    record_history: bool = False,
    email: MailItem | None = None,
) -> dict[str, Any]:
    """The full record of a submitted contact, for someone whose role lets them view contacts.
    ``follows`` is the "follows consultation PC-…" line when consultations are linked to it;
    ``actions``: what the viewer may do from it (open a MASH episode, open the contact's personal
    card); ``record_history`` adds "Record history checks" (an urgent contact's outstanding checks,
    for someone who may record them); ``email`` the e-mail it was started from (a link to it:
    subject, received time and id, never its attachments)."""
    reference = contact.reference or "Draft"
    body: list[CardElement] = []
    if heading:
        body.append(banner(heading, "accent"))
    body += [
        text_block(reference, size="Large", weight="Bolder"),
        text_block(
            "The full record: for you only. Do not forward it or paste it into a channel.", is_subtle=True
        ),
    ]
    if contact.urgent:
        body.append(banner("Urgent: immediate risk", "attention"))
    if follows:
        body.append(text_block(follows[:1].upper() + follows[1:]))
    if email is not None:
        body.append(
            fact_set(
                [
                    ("From e-mail", plain(email.subject) or "(no subject)"),
                    ("E-mail received", format_local(email.received_at)),
                    ("E-mail reference", f"mail:{email.id} (in the front door mailbox)"),
                ]
            )
        )
    body.append(fact_set([("State", STATE_TITLES[contact.state]), *open_clock_facts(deadlines, now)]))
    if closed := _closed_clock_facts(deadlines):
        body += [part_heading("Clocks closed"), fact_set(closed)]
    today = now.astimezone(LONDON).date()
    body.extend(contact_details(contact, people_names, today, local_systems, collapse=True))
    body.extend(_overnight(contact, people_names))
    shown: list[Action] = list(actions)
    if record_history:
        data = {ACTION_KEY: HISTORY_OPEN, REFERENCE_KEY: reference, VERSION_KEY: contact.version}
        shown.append(SubmitAction(title="Record history checks", data=data, associated_inputs="none"))
    return to_dict(AdaptiveCard(body=body, actions=shown or None, fallback_text=f"Contact {reference}"))


def _overnight(contact: Contact, people_names: Mapping[str, str]) -> list[CardElement]:
    """What the emergency duty team recorded overnight (SPEC §10), newest last."""
    found: list[CardElement] = []
    for event in contact.events:
        if event.action == OVERNIGHT_ACTION:
            who = plain(people_names.get(event.actor_id) or "the emergency duty team")
            found += text_section(f"Emergency duty team, {format_local(event.at)} ({who})", event.rationale)
    return [part_heading("Overnight action"), *found] if found else []
