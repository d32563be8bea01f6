"""MASH episodes end to end (SPEC §9): the real app over HTTP on SQLite and PostgreSQL, the loopback
Teams channel, an injected clock and the real alert tick.

An episode is opened from the contact's personal card with three partners: the police answer on
their card, health by phone through the consultant, education late after being chased once; the
consultant closes it with the multi-agency decision. A partner is refused every other record.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

from bot.app import ALERTS
from bot.cards.alerts import ACK_VERB, ALERT_KEY
from bot.cards.keys import ACTION_KEY, REFERENCE_KEY, VERSION_KEY
from bot.cards.marac_cases import ANSWER as MARAC_ANSWER
from bot.cards.mash import (
    AGENCIES_INPUT,
    AGENCY_INPUT,
    ANSWER,
    ANSWER_INPUT,
    CLOSE,
    DECISION_INPUT,
    GIVEN_BY_INPUT,
    OPEN,
    PARTICIPANTS_INPUT,
    PHONE,
    QUESTION_INPUT,
    RATIONALE_INPUT,
    REASONS_INPUT,
    START,
    URGENCY_INPUT,
)
from bot.cards.triage import ADD as TRIAGE_ADD
from bot.cards.work_inputs import STEP_KEY, WORK_VERB, WorkStep
from frontdoor.agencies import Agency
from frontdoor.alerts import AlertKind
from frontdoor.records import ClockKind, DeadlineState
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from tests.bot.alert_helpers import deliveries
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    ADMIN,
    CONSULTANT,
    MONDAY_10AM,
    action,
    actions,
    audit,
    introduce,
    register_channels,
    staff,
    texts_of,
)
from tests.frontdoor.decision_builders import CHILD, PROFESSIONAL, WORRIES, submitted
from tests.harness.teams import TeamsChannel, TeamsUser, TurnResponse

POLICE = TeamsUser("00000000-0000-4000-8000-000000000401", "Pip Policeperson")
HEALTH = TeamsUser("00000000-0000-4000-8000-000000000402", "Hal Healthperson")
EDUCATION = TeamsUser("00000000-0000-4000-8000-000000000403", "Eda Educationperson")
PROBATION = TeamsUser("00000000-0000-4000-8000-000000000404", "Pru Probationperson")

QUESTION = "Any incidents, attendances or concerns known for this child in the last year?"
POLICE_ANSWER = "Two attendances at the address for verbal disputes, no arrests"
PHONE_ANSWER = "Missed two health visitor appointments"
LATE_ANSWER = "Attendance 82 percent this term"
NEVER_SHARED = (WORRIES, PROFESSIONAL.name, "1 Example Street", "Example Primary", "AB1 2CD")


async def _ready(start_bot: StartBot, teams: TeamsChannel) -> tuple[RunningBot, SettableClock]:
    clock = SettableClock(MONDAY_10AM)
    bot = await start_bot(clock=clock)
    await staff(bot)
    await register_channels(teams)
    admin_chat = await introduce(teams, ADMIN)
    for partner, agency in (
        (POLICE, "police"),
        (HEALTH, "health"),
        (EDUCATION, "education"),
        (PROBATION, "probation"),
    ):
        await introduce(teams, partner)
        reply = await teams.say(admin_chat, ADMIN, f"grant {partner.aad_object_id} partner {agency}")
        assert "now has the role **partner**" in " ".join(reply.texts), reply.texts
    await introduce(teams, CONSULTANT)
    return bot, clock


def _card(response: TurnResponse) -> dict[str, Any]:
    """The last card the bot replied with."""
    assert response.cards, response.texts
    return response.cards[-1]


def _last_card(teams: TeamsChannel, user: TeamsUser) -> dict[str, Any]:
    posts = [post for post in teams.sent_to(teams.personal(user)) if post.card]
    assert posts, f"nothing was posted to {user.name}"
    card = posts[-1].card
    assert card is not None
    return card


async def _open_episode(bot: RunningBot, teams: TeamsChannel) -> tuple[str, str]:
    """The consultant opens an episode from the contact's card; (contact reference, episode reference)."""
    contact = await submitted(bot.store, now=MONDAY_10AM)
    reference = contact.reference or ""
    chat = teams.personal(CONSULTANT)
    found = _card(await teams.say(chat, CONSULTANT, f"find {reference}"))
    form = _card(await teams.submit(chat, CONSULTANT, action(found, START)["data"]))
    assert "MASH episode on" in texts_of(form)
    opened = await teams.submit(
        chat,
        CONSULTANT,
        {
            **action(form, OPEN)["data"],
            REASONS_INPUT: "risk_of_harm,neglect_unmet_needs",
            AGENCIES_INPUT: "police,health,education",
            URGENCY_INPUT: "standard",
            QUESTION_INPUT: QUESTION,
        },
    )
    text = texts_of(_card(opened))
    assert "Episode opened" in text and "Police: 1 of 1 partners reached" in text, text
    found_reference = re.search(r"MA-\d{2}-\d{5}", text)
    assert found_reference is not None
    episode = found_reference.group()
    return reference, episode


async def test_an_episode_with_three_partners_one_on_the_card_one_by_phone_one_chased(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    teams = teams_channel
    bot, clock = await _ready(start_bot, teams)
    contact, episode = await _open_episode(bot, teams)
    assert episode == "MA-26-00001"

    # Each partner asked gets a request card with only what it shares; probation was not asked.
    for partner in (POLICE, HEALTH, EDUCATION):
        card = _last_card(teams, partner)
        text = texts_of(card)
        assert episode in text and QUESTION in text and CHILD.name in text and "04/05/2019" in text
        assert contact not in text
        for secret in NEVER_SHARED:
            assert secret not in text, secret
    probation = [texts_of(post.card) for post in teams.sent_to(teams.personal(PROBATION)) if post.card]
    assert not [text for text in probation if "Information request" in text]

    # The police answer on their card; the consultant is told.
    clock.set(MONDAY_10AM + timedelta(hours=1))
    police_card = _last_card(teams, POLICE)
    answered = await teams.submit(
        teams.personal(POLICE), POLICE, {**action(police_card, ANSWER)["data"], ANSWER_INPUT: POLICE_ANSWER}
    )
    assert "your answer is sent" in texts_of(_card(answered))
    assert any(
        f"Police answered on {episode}" in (p.text or "") for p in teams.sent_to(teams.personal(CONSULTANT))
    )

    # Health answer by phone; the consultant records it.
    clock.set(MONDAY_10AM + timedelta(hours=2))
    chat = teams.personal(CONSULTANT)
    staff_view = _card(await teams.say(chat, CONSULTANT, f"find {episode}"))
    assert POLICE_ANSWER in texts_of(staff_view)
    phoned = await teams.submit(
        chat,
        CONSULTANT,
        {
            **action(staff_view, PHONE)["data"],
            AGENCY_INPUT: "health",
            GIVEN_BY_INPUT: "Nurse Example, health visiting",
            ANSWER_INPUT: PHONE_ANSWER,
        },
    )
    assert "Phone answer recorded" in texts_of(_card(phoned)) and PHONE_ANSWER in texts_of(_card(phoned))

    # Education does not answer by Tuesday 10:00 (one working day): chased once, to the partner and
    # the consultant; nobody else's request alerts.
    for minutes in (1, 30, 90):
        clock.set(MONDAY_10AM + timedelta(days=1, minutes=minutes))
        await bot.app[ALERTS].tick()
    for user, expected in ((EDUCATION, 1), (CONSULTANT, 1), (POLICE, 0), (HEALTH, 0)):
        chased = [
            key for key, _ in deliveries(teams, teams.personal(user)) if key.subject.startswith(episode)
        ]
        assert [(key.subject, key.kind) for key in chased] == [
            (f"{episode}:education", AlertKind.BREACHED)
        ] * expected

    [(_, chase)] = [
        d for d in deliveries(teams, teams.personal(EDUCATION)) if d[0].kind is AlertKind.BREACHED
    ]
    assert chase.card is not None and f"find {episode}" in texts_of(chase.card)
    assert "View sends the full record" not in texts_of(chase.card)
    # A partner is not offered the alert to take (nor a late reason to record): their copy chases
    # their answer; the consultant's copy has the buttons.
    assert [a.get("verb") for a in actions(chase.card) if a.get("verb")] == []
    assert "chase your agency's answer" in texts_of(chase.card)
    [(_, staff_copy)] = [
        d for d in deliveries(teams, teams.personal(CONSULTANT)) if d[0].subject.startswith(episode)
    ]
    assert staff_copy.card is not None and ACK_VERB in [a.get("verb") for a in actions(staff_copy.card)]
    # A forged press is refused, changes nothing, and is audited.
    [(key, _)] = [d for d in deliveries(teams, teams.personal(EDUCATION)) if d[0].kind is AlertKind.BREACHED]
    taken = await teams.execute(teams.personal(EDUCATION), EDUCATION, ACK_VERB, {ALERT_KEY: key.text})
    assert taken.json["value"].startswith("Sorry, only"), taken.text
    refusals = [
        e for e in await audit(bot) if e.actor_id == EDUCATION.aad_object_id and "refused" in e.action
    ]
    assert [(e.action, e.subject) for e in refusals][-1] == ("access.refused", f"verb:{ACK_VERB}")
    assert not [e for e in await audit(bot) if e.action == "alert.acknowledged" and e.subject == key.subject]

    # Education answers late.
    late = await teams.submit(
        teams.personal(EDUCATION),
        EDUCATION,
        {ACTION_KEY: ANSWER, REFERENCE_KEY: episode, ANSWER_INPUT: LATE_ANSWER},
    )
    assert "(late)" in texts_of(_card(late))

    # The consultant closes the episode with the decision and who took part.
    latest = _card(await teams.say(chat, CONSULTANT, f"find {episode}"))
    closed = await teams.submit(
        chat,
        CONSULTANT,
        {
            **action(latest, CLOSE)["data"],
            DECISION_INPUT: "statutory_assessment",
            PARTICIPANTS_INPUT: "police,health,education",
            RATIONALE_INPUT: "Partners' information together shows a pattern of neglect",
        },
    )
    text = texts_of(_card(closed))
    assert "Multi-agency decision" in text and "Children's services, Police, Health, Education" in text

    events = [e for e in await audit(bot) if e.subject == episode]
    assert [e.action for e in events if e.action.startswith("mash.") and e.action != "mash.viewed"] == [
        "mash.opened",
        "mash.request_sent",
        "mash.request_sent",
        "mash.request_sent",
        "mash.answered",
        "mash.answered",
        "mash.answered",
        "mash.closed",
    ]
    answers = [e.detail for e in events if e.action == "mash.answered"]
    assert answers == [
        "agency=police; via=card; in_time",
        "agency=health; via=phone; in_time",
        "agency=education; via=card; late",
    ]
    for event in events:
        for secret in (QUESTION, POLICE_ANSWER, PHONE_ANSWER, LATE_ANSWER, CHILD.name):
            assert secret not in event.detail
    async with bot.store.unit_of_work() as uow:
        states = {
            d.subject: d.state
            for agency in Agency
            for d in await uow.deadlines.for_subject(f"{episode}:{agency.value}")
        }
    # Clocks close honestly: the two answered in time are met, the chased one is late.
    assert states == {
        f"{episode}:police": DeadlineState.MET,
        f"{episode}:health": DeadlineState.MET,
        f"{episode}:education": DeadlineState.LATE,
    }


async def test_a_partner_sees_only_their_own_request(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    teams = teams_channel
    bot, _clock = await _ready(start_bot, teams)
    contact, episode = await _open_episode(bot, teams)
    police_chat, probation_chat = teams.personal(POLICE), teams.personal(PROBATION)
    await teams.submit(
        police_chat, POLICE, {ACTION_KEY: ANSWER, REFERENCE_KEY: episode, ANSWER_INPUT: POLICE_ANSWER}
    )

    # Their own request: the health partner does not see the police answer.
    own = _card(await teams.say(teams.personal(HEALTH), HEALTH, f"find {episode}"))
    assert QUESTION in texts_of(own) and POLICE_ANSWER not in texts_of(own)

    refusals: list[str] = []
    # The contact, by find; an episode their agency was not asked about; a record that is not there.
    refusals += (await teams.say(police_chat, POLICE, f"find {contact}")).texts
    refusals += (await teams.say(probation_chat, PROBATION, f"find {episode}")).texts
    refusals += (await teams.say(police_chat, POLICE, "find MA-26-00077")).texts
    # Forged card actions: answering for another episode, recording a phone answer, closing,
    # opening an episode, and the contact's own card verbs.
    for data in (
        {ACTION_KEY: ANSWER, REFERENCE_KEY: episode, ANSWER_INPUT: "forged"},  # probation: not asked
    ):
        refusals += (await teams.submit(probation_chat, PROBATION, data)).texts
    for data in (
        {
            ACTION_KEY: PHONE,
            REFERENCE_KEY: episode,
            AGENCY_INPUT: "health",
            GIVEN_BY_INPUT: "x",
            ANSWER_INPUT: "forged",
        },
        {
            ACTION_KEY: CLOSE,
            REFERENCE_KEY: episode,
            DECISION_INPUT: "no_further_action",
            PARTICIPANTS_INPUT: "police",
            RATIONALE_INPUT: "forged",
        },
        {ACTION_KEY: START, REFERENCE_KEY: contact},
        {
            ACTION_KEY: OPEN,
            REFERENCE_KEY: contact,
            REASONS_INPUT: "risk_of_harm",
            AGENCIES_INPUT: "police",
            QUESTION_INPUT: "forged",
        },
    ):
        refusals += (await teams.submit(police_chat, POLICE, data)).texts
    async with bot.store.unit_of_work() as uow:
        record = await uow.contacts.get_by_reference(contact)
    assert record is not None
    work_data = {REFERENCE_KEY: contact, VERSION_KEY: record.version, STEP_KEY: WorkStep.REFRESH.value}
    work = await teams.execute(police_chat, POLICE, WORK_VERB, work_data)
    refusals.append(work.json["value"])
    # The other multi-agency records: CAFCASS/Ofsted requests, the triage, MARAC and MAPPA.
    for command in ("find IR-26-00001", "triage", "marac", "mappa", "information request"):
        refusals += (await teams.say(police_chat, POLICE, command)).texts
    for data in (
        {ACTION_KEY: TRIAGE_ADD, "police_reference": "DA-1", "occurred_on": "2026-03-15", "summary": "x"},
        {ACTION_KEY: MARAC_ANSWER, "request": "00000000-0000-0000-0000-000000000000", "answer": "x"},
    ):
        refusals += (await teams.submit(police_chat, POLICE, data)).texts
    assert len(refusals) == 16, refusals
    for text in refusals:
        assert text.startswith("Sorry"), text
        for secret in (*NEVER_SHARED, CHILD.name, PHONE_ANSWER):
            assert secret not in text

    # Nothing changed: health is still waiting, the episode is open, and the refusals are audited.
    async with bot.store.unit_of_work() as uow:
        stored = await uow.mash.get(episode)
        health = await uow.deadlines.for_subject(f"{episode}:health")
    assert stored is not None and stored.closure is None
    assert stored.request_for(Agency.HEALTH) is not None and not stored.request_for(Agency.HEALTH).answered  # type: ignore[union-attr]
    assert [d.state for d in health] == [DeadlineState.OPEN] and health[0].clock is ClockKind.MASH_REQUEST
    refused = [e for e in await audit(bot) if e.action == "mash.refused"]
    assert {(e.actor_id, e.detail.split(";")[0]) for e in refused} >= {
        (PROBATION.aad_object_id, "action=read"),
        (POLICE.aad_object_id, "action=read"),
        (PROBATION.aad_object_id, "action=answer"),
    }
    # The staff's card actions are refused to a partner by the authorization table, before any handler.
    gate = [
        e for e in await audit(bot) if e.action == "access.refused" and e.actor_id == POLICE.aad_object_id
    ]
    assert {e.detail.split(";")[0] for e in gate} >= {
        f"submission={verb}" for verb in (PHONE, CLOSE, START, OPEN, TRIAGE_ADD, MARAC_ANSWER)
    }


async def test_an_administrator_ties_a_partner_to_one_agency(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    teams = teams_channel
    bot = await start_bot(clock=SettableClock(MONDAY_10AM))
    await staff(bot)
    chat = await introduce(teams, ADMIN)
    person = POLICE.aad_object_id
    for text in (f"grant {person} partner", f"grant {person} partner fire brigade"):
        reply = await teams.say(chat, ADMIN, text)
        assert "Which agency?" in " ".join(reply.texts), reply.texts
    await teams.say(chat, ADMIN, f"grant {person} partner domestic abuse service")
    async with bot.store.unit_of_work() as uow:
        assert await uow.mash.agency_of(person) is Agency.DOMESTIC_ABUSE_SERVICE
        assert await uow.roles.roles_of(person) == frozenset({Role.PARTNER})
    await teams.say(chat, ADMIN, f"revoke {person} partner")
    async with bot.store.unit_of_work() as uow:
        assert await uow.mash.agency_of(person) is None
        actions = [e.event.action for e in await uow.audit.for_subject(f"person:{person}")]
    assert actions == ["role.grant", "partner.agency", "role.revoke", "partner.agency"]


async def test_the_open_form_pressed_again_or_twice_at_once_asks_the_partners_once(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    teams = teams_channel
    bot, _ = await _ready(start_bot, teams)
    contact = await submitted(bot.store, now=MONDAY_10AM)
    reference = contact.reference or ""
    chat = teams.personal(CONSULTANT)
    found = _card(await teams.say(chat, CONSULTANT, f"find {reference}"))
    form = _card(await teams.submit(chat, CONSULTANT, action(found, START)["data"]))
    press = {
        **action(form, OPEN)["data"],
        REASONS_INPUT: "risk_of_harm",
        AGENCIES_INPUT: "police,health",
        URGENCY_INPUT: "urgent",
        QUESTION_INPUT: QUESTION,
    }

    at_once = await asyncio.gather(*(teams.submit(chat, CONSULTANT, dict(press)) for _ in range(2)))
    later = await teams.submit(chat, CONSULTANT, dict(press))  # the same card, pressed again later
    # A fresh form from the contact's card, while the episode is open.
    fresh = _card(await teams.submit(chat, CONSULTANT, action(found, START)["data"]))
    again = await teams.submit(chat, CONSULTANT, {**press, **action(fresh, OPEN)["data"]})
    assert f"{reference} has MASH episode" in " ".join(again.texts)

    async with bot.store.unit_of_work() as uow:
        [episode] = await uow.mash.of_contact(reference)
    assert all(reply.status in (200, 201) for reply in (*at_once, later, again))
    # (overlapping turns share their ``sent``; the chat's own record tells them apart)
    said = " ".join(teams.texts(chat))
    assert said.count(f"This card opened {episode.reference} already") == 2, said
    assert f"{reference} has MASH episode {episode.reference} open already" in said
    for partner in (POLICE, HEALTH):
        cards = [
            p for p in teams.sent_to(teams.personal(partner)) if p.card and CHILD.name in texts_of(p.card)
        ]
        assert len(cards) == 1, partner.name  # the children's details went once
    events = [e.action for e in await audit(bot)]
    assert events.count("mash.opened") == 1 and events.count("mash.request_sent") == 2
    assert events.count("mash.refused") == 3

    # A press without the card's id (an old or forged card) is not read, and opens nothing.
    forged = {k: v for k, v in {**press, **action(fresh, OPEN)["data"]}.items() if k != "form"}
    assert "no longer active" in " ".join((await teams.submit(chat, CONSULTANT, forged)).texts)
