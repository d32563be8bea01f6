"""``my work`` and ``queue`` end to end: the loopback Teams channel, the real app over HTTP, SQLite
and PostgreSQL. What each lists and in what order, View from a list, who may ask and where, the cut
of a long list; ``find CT-…`` refused without case access; and an anonymous member of the public
never named on any card outside the contact's own view, nor in a letter, through the whole journey
(decision card, re-referral card, sign-off, ``my work`` and ``queue``).

Contacts for the list tests are submitted and decided through the domain use cases on the bot's
own database (the Teams journey is covered once, in the anonymity test, and by the intake and
decision card tests); the lists are then asked for in Teams.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

import pytest

from bot.cards.decision import VIEW_VERB
from bot.cards.decisions import DECIDE_VERB, REFRESH_VERB, REREFERRAL_VERB, SIGN_OFF_VERB
from bot.cards.keys import REFERENCE_KEY
from bot.dialogs.worklists import NOTHING_ASSIGNED, NOTHING_WAITING
from frontdoor.acting import Rules, Who
from frontdoor.calendar import WorkingCalendar
from frontdoor.contact import Child, Contact, ContactState
from frontdoor.decisions import ScreeningDecided, ScreeningDecision, ScreeningRoute, decide_screening
from frontdoor.outcomes import ServiceConsent
from frontdoor.policy import default_policy
from frontdoor.roles import Role
from frontdoor.script import Section
from frontdoor.worklists import WORKLIST_LIMIT
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    ADMIN,
    CONSULTANT,
    CONSULTANT_2,
    DUTY_MANAGER,
    MONDAY_10AM,
    NEVER_IN_A_CHANNEL,
    OFFICER,
    PROFESSIONAL,
    SOCIAL_WORKER,
    actions,
    clock,
    contacts,
    decisions_channel,
    duty_channel,
    grant,
    introduce,
    register_channels,
    script,
    staff,
    submit,
    texts_of,
)
from tests.frontdoor.decision_builders import CHILD, WORRIES, submitted
from tests.harness.teams import Conversation, TeamsChannel, TeamsUser, TurnResponse

POLICY = default_policy()
#: March 2026 has no bank holiday in England and Wales, so the plain calendar times these alike.
CALENDAR = WorkingCalendar()
RATIONALE = "Checks with school and health show needs met by universal services"
#: What a list may never show about the contacts seeded through the domain.
NEVER_ON_A_LIST = (CHILD.name, "Zebedee", "Example Street", "AB1 2CD", "2019-05-04", WORRIES, RATIONALE)


async def _ready(start_bot: StartBot, teams_channel: TeamsChannel) -> RunningBot:
    bot = await start_bot(clock=clock())
    await staff(bot)
    await register_channels(teams_channel)
    return bot


async def _decided(
    bot: RunningBot, contact: Contact, route: ScreeningRoute, assignee: TeamsUser | None = None
) -> Contact:
    service = ServiceConsent.GIVEN if route is ScreeningRoute.II else None
    decision = ScreeningDecision(
        route, RATIONALE, assignee.aad_object_id if assignee else None, service_consent=service
    )
    result = await decide_screening(
        bot.store.unit_of_work(),
        contact.id,
        decision,
        contact.version,
        who=Who(CONSULTANT.aad_object_id, frozenset({Role.CONSULTANT})),
        rules=Rules(MONDAY_10AM, CALENDAR, POLICY),
    )
    assert isinstance(result, ScreeningDecided), result
    return result.contact


def _view_buttons(card: dict[str, Any]) -> list[str]:
    return [a["data"][REFERENCE_KEY] for a in actions(card) if a.get("verb") == VIEW_VERB]


def _assert_minimised(cards: Iterable[dict[str, Any]]) -> None:
    for card in cards:
        text = texts_of(card)
        for secret in NEVER_ON_A_LIST:
            assert secret not in text, secret


async def _only_card(reply: TurnResponse) -> dict[str, Any]:
    assert len(reply.cards) == 1, reply.texts
    return reply.cards[0]


# -- my work --------------------------------------------------------------------------------------


async def test_my_work_lists_my_contacts_urgent_first_and_view_sends_the_record(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    chat = await introduce(teams_channel, SOCIAL_WORKER)
    earlier = await _decided(
        bot,
        await submitted(bot.store, now=MONDAY_10AM - timedelta(hours=25)),
        ScreeningRoute.IV,
        SOCIAL_WORKER,
    )
    urgent = await _decided(bot, await submitted(bot.store, urgent=True), ScreeningRoute.IV, SOCIAL_WORKER)
    officers = await _decided(bot, await submitted(bot.store), ScreeningRoute.III, OFFICER)
    await submitted(bot.store)  # awaiting screening: nobody's yet

    card = await _only_card(await teams_channel.say(chat, SOCIAL_WORKER, "my work"))
    assert _view_buttons(card) == [urgent.reference, earlier.reference]
    text = texts_of(card)
    assert "2 open contacts are assigned to you" in text and "URGENT: immediate risk" in text
    # Received on Sunday at 09:00: two working days from Monday's opening.
    assert "Completion (48 hours) due" in text and "Wed 18 Mar 2026 08:30 (due in 1 day 22 h)" in text
    assert "RAG: Green" in text and "Z.E. (6 years)" in text and "With a social worker" in text
    _assert_minimised([card])

    viewed = await teams_channel.execute(chat, SOCIAL_WORKER, VIEW_VERB, {REFERENCE_KEY: earlier.reference})
    assert viewed.json["value"].startswith(f"I have sent the full record of {earlier.reference}")
    record = teams_channel.last_card(chat)
    assert str(earlier.reference) in texts_of(record) and CHILD.name in texts_of(record)

    officer_card = await _only_card(
        await teams_channel.say(teams_channel.personal(OFFICER), OFFICER, "my work")
    )
    assert _view_buttons(officer_card) == [officers.reference]
    assert "With an officer" in texts_of(officer_card)
    nothing = await teams_channel.say(teams_channel.personal(DUTY_MANAGER), DUTY_MANAGER, "My work.")
    assert nothing.cards == [] and nothing.texts == [NOTHING_ASSIGNED]


async def test_my_work_is_for_staff_and_for_the_personal_chat_only(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    await _decided(bot, await submitted(bot.store), ScreeningRoute.IV, SOCIAL_WORKER)
    for user in (PROFESSIONAL, ADMIN):
        reply = await teams_channel.say(teams_channel.personal(user), user, "my work")
        assert reply.cards == [] and reply.texts[0].startswith("Sorry, only"), reply.texts
    # In a channel it is not a command: everyone there would see whose work it is.
    reply = await teams_channel.say(decisions_channel(teams_channel), SOCIAL_WORKER, "my work")
    assert all(_view_buttons(card) == [] for card in reply.cards)
    assert any("didn't recognise" in texts_of(card) for card in reply.cards)


# -- the queue ------------------------------------------------------------------------------------


async def test_the_queue_is_urgent_then_oldest_in_a_chat_and_in_the_channel(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    chat = teams_channel.personal(CONSULTANT)
    empty = await teams_channel.say(chat, CONSULTANT, "queue")
    assert empty.cards == [] and empty.texts == [NOTHING_WAITING]

    oldest = await submitted(bot.store, now=MONDAY_10AM - timedelta(hours=2))
    newest = await submitted(bot.store, now=MONDAY_10AM - timedelta(minutes=10))
    urgent = await submitted(bot.store, urgent=True, now=MONDAY_10AM - timedelta(minutes=5))
    await _decided(bot, await submitted(bot.store), ScreeningRoute.II)

    card = await _only_card(await teams_channel.say(chat, CONSULTANT, "queue"))
    assert _view_buttons(card) == [urgent.reference, oldest.reference, newest.reference]
    text = texts_of(card)
    assert "3 contacts are awaiting screening" in text
    assert "Screening due" in text and "Child-protection decision due" in text
    # Each is about the same child: the later ones are repeats of the earlier, newest named first.
    assert f"Yes, earlier {oldest.reference}" in text
    assert f"Yes, earlier {newest.reference}, {oldest.reference}" in text
    _assert_minimised([card])

    channel = decisions_channel(teams_channel)
    posted = await teams_channel.say(channel, CONSULTANT_2, "queue")
    channel_card = await _only_card(posted)
    assert _view_buttons(channel_card) == _view_buttons(card)
    _assert_minimised([channel_card])
    refused = await teams_channel.say(channel, ADMIN, "queue")
    assert refused.cards == [] and refused.texts[0].startswith("Sorry, only")
    refused = await teams_channel.say(teams_channel.personal(PROFESSIONAL), PROFESSIONAL, "queue")
    assert refused.cards == [] and refused.texts[0].startswith("Sorry, only")


async def test_a_long_queue_is_cut_with_how_many_more(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    for n in range(WORKLIST_LIMIT + 3):
        child = Child(f"Testchild Number{n}", date(2020, 1, 1 + n))
        await submitted(bot.store, now=MONDAY_10AM - timedelta(minutes=n), children=(child,))
    card = await _only_card(await teams_channel.say(teams_channel.personal(OFFICER), OFFICER, "queue"))
    buttons = _view_buttons(card)
    assert len(buttons) == WORKLIST_LIMIT and len(set(buttons)) == WORKLIST_LIMIT
    assert f"{WORKLIST_LIMIT + 3} contacts are awaiting screening" in texts_of(card)
    assert "And 3 more contacts not shown" in texts_of(card)
    assert len(json.dumps(card).encode()) < 28 * 1024


# -- find ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "roles", [(), (Role.PROFESSIONAL,), (Role.ADMIN,)], ids=["unlisted", "professional", "admin"]
)
async def test_find_a_contact_is_refused_without_case_access(
    start_bot: StartBot, teams_channel: TeamsChannel, roles: tuple[Role, ...]
) -> None:
    bot = await start_bot(clock=clock())
    contact = await submitted(bot.store)
    asker = TeamsUser("aad-asker-0901", "Asa Askerperson")
    await grant(bot, asker, *roles)
    reply = await teams_channel.say(teams_channel.personal(asker), asker, f"find {contact.reference}")
    assert reply.cards == [] and reply.texts[0].startswith("Sorry, only"), reply.texts
    assert all(str(contact.reference) not in text for text in reply.texts)


# -- an anonymous member of the public, through the whole journey ------------------------------------

ANONYMOUS_NAME = "Anonymous Neighbourname"
ANONYMOUS_PHONE = "07700 900123"


def anonymous(**changes: dict[str, object]) -> dict[Section, dict[str, object]]:
    """The routine answers with a member of the public who asked for anonymity as the referrer."""
    return script(
        source={"source": "member_of_public"},
        referrer={
            "referrer_type": "member_of_public",
            "referrer_name": ANONYMOUS_NAME,
            "referrer_agency": "",
            "referrer_phone": ANONYMOUS_PHONE,
            "referrer_email": "",
            "anonymity_requested": "true",
        },
        **changes,
    )


#: The contact's own view (the full record, or the personal card to work on it, each marked "for you
#: only") may name the referrer; nothing else may.
OWN_VIEW = "for you only"


def _own_view(card: dict[str, Any]) -> bool:
    return OWN_VIEW in texts_of(card).lower()


def _is_script_card(card: dict[str, Any]) -> bool:
    """A card of the officer's script: a new contact's, or an urgent contact's being completed."""
    fallback = str(card.get("fallbackText", ""))
    return (
        fallback.startswith("New contact: ")
        or re.match(r"Urgent contact CT-\d{2}-\d{6}: ", fallback) is not None
    )


async def _until(done: Callable[[], bool], what: str) -> None:
    """Wait for the work a decision does after answering its invoke (the channel card's update, the
    assignee's personal card): a turn's reply would otherwise also collect what those send."""
    for _ in range(200):
        if done():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"waited in vain for {what}")


async def _settled(teams_channel: TeamsChannel) -> None:
    """Wait until the bot has sent nothing new for a while (background sends of a decision)."""
    seen, quiet = -1, 0
    for _ in range(200):
        count = len(teams_channel.activities)
        quiet = quiet + 1 if count == seen else 0
        if quiet >= 4:
            return
        seen = count
        await asyncio.sleep(0.05)


def _last_post(teams_channel: TeamsChannel, where: Conversation) -> tuple[str, dict[str, Any]]:
    posts = [post for post in teams_channel.sent_to(where) if post.card]
    assert posts and posts[-1].card is not None
    return posts[-1].activity_id, posts[-1].card


async def _press(
    teams_channel: TeamsChannel,
    where: Conversation,
    user: TeamsUser,
    verb: str,
    card: dict[str, Any],
    activity_id: str,
    returned: list[dict[str, Any]],
    **inputs: object,
) -> dict[str, Any]:
    """``user`` presses the ``verb`` button of ``card`` (the first one whose data has ``inputs``'
    ``route``/``choice`` when given) after typing ``inputs``; returns the card the bot answered."""
    wanted = {key: inputs.pop(key) for key in ("route", "choice") if key in inputs}
    if verb == REFRESH_VERB:
        data = card["refresh"]["action"]["data"]
    else:
        [button] = [
            a
            for a in actions(card)
            if a.get("verb") == verb and all(a["data"].get(k) == v for k, v in wanted.items())
        ]
        data = button["data"]
    response = await teams_channel.execute(
        where, user, verb, {**data, **inputs}, card_activity_id=activity_id
    )
    assert response.card is not None, response.text
    returned.append(response.card)
    return response.card


async def test_an_anonymous_member_of_the_public_is_never_named_outside_the_own_view(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    for user in (OFFICER, CONSULTANT, CONSULTANT_2, SOCIAL_WORKER, DUTY_MANAGER):
        await introduce(teams_channel, user)
    officer, worker = teams_channel.personal(OFFICER), teams_channel.personal(SOCIAL_WORKER)
    decisions, duty = decisions_channel(teams_channel), duty_channel(teams_channel)
    returned: list[dict[str, Any]] = []  # every card the bot answered an invoke with

    # Route IV to the social worker, from the decisions card.
    await submit(teams_channel, officer, OFFICER, anonymous())
    activity_id, card = _last_post(teams_channel, decisions)
    view = await _press(teams_channel, decisions, CONSULTANT, REFRESH_VERB, card, activity_id, returned)
    await _press(
        teams_channel,
        decisions,
        CONSULTANT,
        DECIDE_VERB,
        view,
        activity_id,
        returned,
        route="iv",
        rationale=RATIONALE,
        worker=SOCIAL_WORKER.aad_object_id,
    )
    await _until(
        lambda: len(teams_channel.updates_to(decisions)) >= 1 and len(teams_channel.sent_to(worker)) >= 2,
        "the decision card's update and the worker's card",
    )
    await _settled(teams_channel)
    # Route II and sign-off: the outcome letter is where a referrer would be named.
    await submit(teams_channel, officer, OFFICER, anonymous())
    activity_id, card = _last_post(teams_channel, decisions)
    view = await _press(teams_channel, decisions, CONSULTANT, REFRESH_VERB, card, activity_id, returned)
    decided = await _press(
        teams_channel,
        decisions,
        CONSULTANT,
        DECIDE_VERB,
        view,
        activity_id,
        returned,
        route="ii",
        rationale=RATIONALE,
        outcome="advice_and_guidance",
        service_consent="given",
    )
    signing = await _press(
        teams_channel, decisions, CONSULTANT_2, REFRESH_VERB, decided, activity_id, returned
    )
    await _press(teams_channel, decisions, CONSULTANT_2, SIGN_OFF_VERB, signing, activity_id, returned)
    await _until(lambda: len(teams_channel.updates_to(decisions)) >= 3, "the signed-off card's update")
    await _settled(teams_channel)
    # A re-referral, reassigned by the duty manager on the duty card.
    history: dict[str, object] = {
        "closed_on": "2026-02-02",
        "last_worker": SOCIAL_WORKER.aad_object_id,
    }
    await submit(teams_channel, officer, OFFICER, anonymous(history=history))
    activity_id, card = _last_post(teams_channel, duty)
    view = await _press(teams_channel, duty, DUTY_MANAGER, REFRESH_VERB, card, activity_id, returned)
    await _press(
        teams_channel,
        duty,
        DUTY_MANAGER,
        REREFERRAL_VERB,
        view,
        activity_id,
        returned,
        choice="reassign",
        rationale=RATIONALE,
        worker=SOCIAL_WORKER.aad_object_id,
    )
    await _until(
        lambda: len(teams_channel.updates_to(duty)) >= 1 and len(teams_channel.sent_to(worker)) >= 3,
        "the duty card's update and the worker's card",
    )
    await _settled(teams_channel)
    # One left awaiting screening, urgent, for the queue.
    await submit(teams_channel, officer, OFFICER, anonymous(risk={"risk_injury": "yes"}))
    # The lists, in chats and in the channel.
    lists = [
        await teams_channel.say(teams_channel.personal(SOCIAL_WORKER), SOCIAL_WORKER, "my work"),
        await teams_channel.say(teams_channel.personal(CONSULTANT), CONSULTANT, "queue"),
        await teams_channel.say(decisions, CONSULTANT, "queue"),
    ]
    assert [len(_view_buttons(reply.cards[0])) for reply in lists] == [2, 1, 1]
    await _settled(teams_channel)

    # The officer's own script cards hold what they typed; the full record is one person's view.
    everything = [*teams_channel.cards(), *returned]
    script_cards = [card for card in teams_channel.cards(officer) if _is_script_card(card)]
    own_view = [card for card in everything if _own_view(card)]
    others = [card for card in everything if not _own_view(card) and card not in script_cards]
    assert any(ANONYMOUS_NAME in texts_of(card) for card in script_cards)
    # The name was recorded (the allocated worker's own view has it), so its absence means something.
    assert own_view and any(ANONYMOUS_NAME in texts_of(card) for card in own_view)
    assert len(others) > 10
    for card in others:
        text = texts_of(card)
        for secret in (ANONYMOUS_NAME, "Neighbourname", ANONYMOUS_PHONE, "900123", *NEVER_IN_A_CHANNEL):
            assert secret not in text, (secret, text[:200])
    for activity in teams_channel.activities:
        assert "Neighbourname" not in (activity.text or "")

    # Letters: an anonymous member of the public is not told the outcome, so none is produced.
    stored = await contacts(bot)
    assert len(stored) == 4
    signed = next(c for c in stored if c.state is ContactState.CLOSED)
    actions_taken = [event.action for event in signed.events]
    assert "referrer_not_told" in actions_taken and "outcome_letter_produced" not in actions_taken
    for contact in stored:
        for event in contact.events:
            assert "Neighbourname" not in event.data and ANONYMOUS_PHONE not in event.data
