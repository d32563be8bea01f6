"""The daily domestic-abuse triage end to end (SPEC §9): the real app over HTTP on SQLite and
PostgreSQL, the loopback Teams channel and an injected clock. A day's meeting records six police
incidents, gives each one outcome (a)-(f), and (b) and (c) become a contact and an urgent contact
on intake's path, posted to the decisions channel like any other."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.cards.keys import ACTION_KEY
from bot.cards.triage import (
    ADD,
    AUTHORITY_INPUT,
    CHILD_DOB_INPUT,
    CHILD_NAME_INPUT,
    CONSENT_INPUT,
    CONSENT_REASON_INPUT,
    DECIDE,
    INCIDENT_KEY,
    OCCURRED_INPUT,
    OUTCOME_INPUT,
    PICK,
    POLICE_REFERENCE_INPUT,
    RISKS_INPUT,
    SUMMARY_INPUT,
    SYSTEMS_INPUT,
    TOLD_INPUT,
)
from frontdoor.contact import ContactState, PresentingNeed, Source
from frontdoor.records import ClockKind
from frontdoor.systemclock import SettableClock
from tests.bot.conftest import StartBot
from tests.bot.intake_script import (
    CONSULTANT,
    MONDAY_10AM,
    OFFICER,
    PROFESSIONAL,
    action,
    actions,
    audit,
    contacts,
    decisions_channel,
    introduce,
    register_channels,
    staff,
    texts_of,
)
from tests.harness.teams import TeamsChannel, TurnResponse

SUMMARY = "Verbal argument between two adults, two children present upstairs"
OUTCOMES: dict[str, dict[str, str]] = {
    "a": {},
    "b": {
        CHILD_NAME_INPUT: "Zara Triagechild",
        CHILD_DOB_INPUT: "2018-02-01",
        CONSENT_INPUT: "given",
        SYSTEMS_INPUT: "social_care,police",
    },
    "c": {
        CHILD_NAME_INPUT: "Yuri Triagechild",
        CHILD_DOB_INPUT: "2020-06-01",
        CONSENT_INPUT: "not_sought",
        CONSENT_REASON_INPUT: "Asking the alleged perpetrator would place the child at risk",
        RISKS_INPUT: "injury",
    },
    "d": {AUTHORITY_INPUT: "Example County Council children's services"},
    "e": {TOLD_INPUT: "Example health visiting team, duty health visitor"},
    "f": {TOLD_INPUT: "Example domestic abuse service, triage worker"},
}


def _card(response: TurnResponse) -> dict[str, Any]:
    assert response.cards, response.texts
    return response.cards[-1]


async def test_a_triage_day_with_one_incident_of_each_outcome(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    teams = teams_channel
    bot = await start_bot(clock=SettableClock(MONDAY_10AM))
    await staff(bot)
    await register_channels(teams)
    await introduce(teams, CONSULTANT)
    chat = await introduce(teams, OFFICER)

    empty = _card(await teams.say(chat, OFFICER, "triage"))
    assert "0 incidents, 0 undecided" in texts_of(empty)

    # The description must name nobody: a name and a postcode are refused, nothing is added.
    named = await teams.submit(
        chat,
        OFFICER,
        {
            ACTION_KEY: ADD,
            POLICE_REFERENCE_INPUT: "DA-9",
            OCCURRED_INPUT: "2026-03-15",
            SUMMARY_INPUT: "Argument involving Mr Smith at DH1 3HP",
        },
    )
    assert "must not identify anyone" in texts_of(_card(named))
    assert "0 incidents" in texts_of(_card(named))

    for letter in OUTCOMES:
        added = await teams.submit(
            chat,
            OFFICER,
            {
                ACTION_KEY: ADD,
                POLICE_REFERENCE_INPUT: f"DA-0316-{letter}",
                OCCURRED_INPUT: "2026-03-15",
                SUMMARY_INPUT: SUMMARY,
            },
        )
    listed = _card(added)
    assert "6 incidents, 6 undecided" in texts_of(listed)

    for letter, inputs in OUTCOMES.items():
        listed = _card(await teams.say(chat, OFFICER, "triage"))
        picks = [
            a for a in actions(listed) if isinstance(a.get("data"), dict) and a["data"].get("fd") == PICK
        ]
        [pick] = [p for p in picks if f"DA-0316-{letter.upper()}" in _incident_reference(listed, p)]
        form = _card(await teams.submit(chat, OFFICER, pick["data"]))
        decided = await teams.submit(
            chat, OFFICER, {**action(form, DECIDE)["data"], OUTCOME_INPUT: letter, **inputs}
        )
        text = texts_of(_card(decided))
        assert "outcome recorded" in text, text
        if letter in "bc":
            assert "Contact CT-26-00000" in text, text

    final = texts_of(_card(await teams.say(chat, OFFICER, "triage")))
    assert "6 incidents, 0 undecided" in final
    for expected in ("(a) Kept on police systems only", "Example County Council", "duty health visitor"):
        assert expected in final

    made = {c.children[0].name: c for c in await contacts(bot) if c.state is not ContactState.DRAFT}
    assert set(made) == {"Zara Triagechild", "Yuri Triagechild"}
    further, urgent = made["Zara Triagechild"], made["Yuri Triagechild"]
    assert not further.urgent and urgent.urgent
    for contact, letter in ((further, "B"), (urgent, "C")):
        assert contact.source is Source.POLICE_FORM
        assert f"Police reference DA-0316-{letter}" in contact.worries
        assert contact.presenting_needs == frozenset({PresentingNeed.DOMESTIC_ABUSE})
    async with bot.store.unit_of_work() as uow:
        cp = [d.clock for d in await uow.deadlines.for_subject(urgent.reference or "")]
    assert ClockKind.CP_DECISION in cp
    posted = " ".join(texts_of(p.card) for p in teams.sent_to(decisions_channel(teams)) if p.card)
    assert further.reference in posted and urgent.reference in posted
    assert "Zara Triagechild" not in posted  # the channel card is minimised as for any contact

    events = [e for e in await audit(bot) if e.action == "triage.decided"]
    assert sorted(e.detail.split(";")[0] for e in events) == [f"outcome={o}" for o in "abcdef"]
    assert {e.actor_id for e in events} == {OFFICER.aad_object_id}

    # One outcome each: a second decision on an incident is refused; a professional cannot triage.
    [first] = [e for e in events if e.detail.startswith("outcome=a")]
    async with bot.store.unit_of_work() as uow:
        [incident] = [
            i for i in await uow.triage.on(MONDAY_10AM.date()) if i.police_reference == first.subject
        ]
    again = await teams.submit(
        chat,
        OFFICER,
        {ACTION_KEY: DECIDE, INCIDENT_KEY: incident.id, OUTCOME_INPUT: "d", AUTHORITY_INPUT: "x"},
    )
    assert "has its outcome already" in texts_of(_card(again))
    refused = await teams.say(await introduce(teams, PROFESSIONAL), PROFESSIONAL, "triage")
    assert refused.texts and refused.texts[0].startswith("Sorry, only"), refused.texts


async def test_two_outcomes_pressed_at_once_make_one_contact_posted_once(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    teams = teams_channel
    bot = await start_bot(clock=SettableClock(MONDAY_10AM))
    await staff(bot)
    await register_channels(teams)
    await introduce(teams, CONSULTANT)
    chat = await introduce(teams, OFFICER)
    listed = _card(
        await teams.submit(
            chat,
            OFFICER,
            {
                ACTION_KEY: ADD,
                POLICE_REFERENCE_INPUT: "DA-0316-X",
                OCCURRED_INPUT: "2026-03-15",
                SUMMARY_INPUT: SUMMARY,
            },
        )
    )
    [pick] = [a for a in actions(listed) if isinstance(a.get("data"), dict) and a["data"].get("fd") == PICK]
    form = _card(await teams.submit(chat, OFFICER, pick["data"]))
    press = {**action(form, DECIDE)["data"], OUTCOME_INPUT: "b", **OUTCOMES["b"]}

    answered_before = len(teams.sent_to(chat))
    replies = await asyncio.gather(*(teams.submit(chat, OFFICER, dict(press)) for _ in range(2)))

    assert all(reply.status in (200, 201) for reply in replies)
    [contact] = [c for c in await contacts(bot) if c.reference]
    assert [c for c in await contacts(bot) if c.state is ContactState.DRAFT] == []
    posts = [p for p in teams.sent_to(decisions_channel(teams)) if p.card]
    assert len(posts) == 1 and contact.reference in texts_of(posts[0].card)
    # What the chat was sent for the two presses, each card once (a reply's own record is whatever
    # the channel got while it was in flight, so two concurrent replies each hold both answers).
    said = " ".join(texts_of(p.card) for p in teams.sent_to(chat)[answered_before:] if p.card)
    assert said.count(f"Contact {contact.reference} created") == 1
    assert f"DA-0316-X has its outcome already: (b), contact {contact.reference}" in said
    assert [e.action for e in await audit(bot)].count("contact.submitted") == 1


def _incident_reference(card: dict[str, Any], pick: dict[str, Any]) -> str:
    """The text of the container holding ``pick`` (the incident it decides)."""
    for container in _containers(card):
        if pick in actions(container):
            return texts_of(container)
    return ""


def _containers(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, list):
        for item in node:
            found += _containers(item)
    elif isinstance(node, dict):
        if node.get("type") == "Container":
            found.append(node)
        for value in node.values():
            found += _containers(value)
    return found
