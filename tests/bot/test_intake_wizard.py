"""The contact script end to end in a personal chat: one card per section, saved after every card,
with Back, Save draft, Cancel, "Add another child", the server's checks and the text reminder."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.cards.intake import ADD_CHILD, BACK, CANCEL, NEXT, SAVE, SUBMIT
from frontdoor.contact import Consent, ContactState, ReferrerType
from frontdoor.records import ClockKind
from frontdoor.roles import Role
from frontdoor.script import ANONYMITY_WARNING, Section
from tests.bot.conftest import StartBot
from tests.bot.intake_script import (
    CHILD_NAME,
    OFFICER,
    PROFESSIONAL,
    REFERRER_NAME,
    ROUTINE,
    SECOND_CHILD,
    TEAMS_MESSAGE_LIMIT,
    actions,
    audit,
    clock,
    contacts,
    decisions_channel,
    grant,
    inputs,
    message_size,
    only_contact,
    press,
    receipt_reference,
    register_channels,
    section_of_card,
    staff,
    start,
    step_of,
    submit,
    texts_of,
    walk,
)
from tests.harness.recordings import cards_in
from tests.harness.teams import TeamsChannel, TeamsUser


async def test_a_routine_contact_from_new_contact_to_receipt(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    await register_channels(teams_channel)
    chat = teams_channel.personal(OFFICER)

    reply = await submit(teams_channel, chat, OFFICER)

    assert receipt_reference(reply) == "CT-26-000001"
    [receipt] = reply.sent_to(chat.id)[-1:]
    receipt_text = texts_of(receipt.card or {})
    assert "Screening decision" in receipt_text and "Tue 17 Mar 2026 10:00" in receipt_text
    assert "Posted to the decisions channel." in receipt_text
    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SCREENING
    assert contact.reference == "CT-26-000001"
    assert contact.referrer is not None and contact.referrer.phone == "0191 498 0000"
    assert contact.children[0].address.endswith("SW1A 1AA")
    async with bot.store.unit_of_work() as uow:
        [deadline] = await uow.deadlines.for_subject("CT-26-000001")
    assert deadline.clock is ClockKind.SCREENING
    assert deadline.due_at - deadline.started_at == timedelta(days=1)
    # the decision card went to the decisions channel, with View and the deciders' own view
    [post] = teams_channel.sent_to(decisions_channel(teams_channel))[-1:]
    assert post.card is not None and "CT-26-000001" in texts_of(post.card)
    assert [a["verb"] for a in post.card["actions"]] == ["contact.view", "refresh"]
    assert post.card["refresh"]["action"]["verb"] == "refresh"
    # the script is ONE card in the chat, updated in place at every step and ending as the receipt
    [script_card] = [posted for posted in teams_channel.sent_to(chat) if posted.cards]
    updates = teams_channel.updates_to(chat)
    assert {update.activity_id for update in updates} == {script_card.activity_id}
    assert len(updates) == len(Section) - 1  # Next on 6 cards (no emergency details here), then Submit
    steps = [section for section in Section if section not in (Section.SOURCE, Section.EMERGENCY)]
    assert [section_of_card(update.card or {}) for update in updates[:-1]] == steps
    shown = teams_channel.message(script_card.activity_id)
    assert shown is not None and receipt_text == texts_of(cards_in(shown)[0])
    assert "Next" not in receipt_text and "Submit" not in receipt_text
    # every state fits a Teams message (the harness checks each against Microsoft's SDK)
    assert max(message_size(state.body) for state in [script_card, *updates]) < TEAMS_MESSAGE_LIMIT
    actions_audited = [event.action for event in await audit(bot)]
    assert actions_audited.count("contact.section_saved") == len(Section) - 2
    assert {"contact.started", "contact.submitted", "contact.posted"} <= set(actions_audited)


async def test_every_card_has_back_save_draft_and_cancel_and_marks_what_is_required(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    card = (await start(teams_channel, chat, OFFICER)).cards[-1]
    seen: list[Section] = []
    while True:
        section = section_of_card(card)
        seen.append(section)
        titles = [a["title"] for a in actions(card)]
        assert {"Save draft", "Cancel"} <= set(titles)
        assert ("Back" in titles) is (section is not Section.SOURCE)
        for a in actions(card):
            if a["title"] in ("Back", "Cancel"):
                assert a["associatedInputs"] == "none"  # they work whatever is filled in
        for node in inputs(card).values():
            if node.get("isRequired"):
                assert node.get("errorMessage") and node.get("label")
        if section is Section.SUMMARY:
            assert "Submit" in titles
            break
        reply = await press(teams_channel, chat, OFFICER, NEXT, ROUTINE[section])
        card = reply.cards[-1]
    assert seen == [section for section in Section if section is not Section.EMERGENCY]


async def test_answers_are_saved_to_the_contact_after_every_card(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    await walk(teams_channel, chat, OFFICER, until=Section.CHILDREN)
    saved = await only_contact(bot)
    assert saved.draft_section == "children"
    assert saved.referrer is not None and saved.referrer.name == REFERRER_NAME
    assert saved.children == ()
    await walk(teams_channel, chat, OFFICER, until=Section.WORRIES)
    saved = await only_contact(bot)
    assert saved.draft_section == "worries"
    assert [child.name for child in saved.children] == [CHILD_NAME]
    assert saved.consent is Consent.GIVEN


# -- the server's checks -------------------------------------------------------------------------

_PROFESSIONAL = {"referrer_type": "professional", "referrer_name": "A Person", "referrer_agency": "An Agency"}

VALIDATION_CASES = [
    pytest.param(Section.SOURCE, {"source": ""}, "source", "Source: this is required", id="required-missing"),
    pytest.param(
        Section.SOURCE,
        {"received_date": "2026-03-17", "received_time": "09:00"},
        "received_date",
        "Date received: must not be in the future",
        id="received-in-the-future",
    ),
    pytest.param(
        Section.REFERRER,
        {"referrer_type": "professional", "referrer_name": "", "referrer_agency": "An Agency"},
        "referrer_name",
        "Referrer name: a professional must give their name",
        id="professional-name",
    ),
    pytest.param(
        Section.REFERRER,
        {"referrer_type": "professional", "referrer_name": "A Person", "referrer_agency": ""},
        "referrer_agency",
        "Referrer agency: a professional must give their agency",
        id="professional-agency",
    ),
    pytest.param(
        Section.REFERRER,
        {**_PROFESSIONAL, "anonymity_requested": "true"},
        "anonymity_requested",
        "only a member of the public may stay anonymous",
        id="anonymity-only-for-the-public",
    ),
    pytest.param(
        Section.REFERRER,
        {**_PROFESSIONAL, "referrer_phone": "12345"},
        "referrer_phone",
        "Referrer phone: enter a UK phone number",
        id="phone",
    ),
    pytest.param(
        Section.REFERRER,
        {**_PROFESSIONAL, "referrer_email": "not-an-address"},
        "referrer_email",
        "Referrer e-mail: enter an e-mail address",
        id="email",
    ),
    pytest.param(
        Section.CHILDREN,
        {"child_0_name": CHILD_NAME, "child_0_dob": "2026-03-17"},
        "child_0_dob",
        "Child 1 date of birth: must not be in the future",
        id="dob-in-the-future",
    ),
    pytest.param(
        Section.CHILDREN,
        # Monday 16 March 2026: six weeks before is 2 February; an overdue baby may be up to that
        {"child_0_name": "Unborn", "child_0_expected": "2026-02-01"},
        "child_0_expected",
        "Child 1 expected date: is more than 6 weeks ago",
        id="expected-date-more-than-6-weeks-ago",
    ),
    pytest.param(
        Section.CHILDREN,
        {"child_0_name": CHILD_NAME, "child_0_dob": "2019-05-04", "child_0_postcode": "NOT A CODE"},
        "child_0_postcode",
        "Child 1 postcode: enter a full UK postcode",
        id="postcode",
    ),
    pytest.param(
        Section.PARENTS,
        {"consent": "not_sought", "consent_reason": ""},
        "consent_reason",
        "Why consent was refused or not sought: say why",
        id="consent-not-sought-needs-a-reason",
    ),
]


@pytest.mark.parametrize(("section", "typed", "field_id", "message"), VALIDATION_CASES)
async def test_a_bad_answer_shows_the_same_card_again_with_the_answers_kept_and_the_field_named(
    start_bot: StartBot,
    teams_channel: TeamsChannel,
    section: Section,
    typed: dict[str, object],
    field_id: str,
    message: str,
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    card = await walk(teams_channel, chat, OFFICER, until=section)
    before = await only_contact(bot)

    reply = await press(teams_channel, chat, OFFICER, NEXT, {**ROUTINE[section], **typed}, card=card)

    [again] = reply.cards
    assert section_of_card(again) is section
    text = texts_of(again)
    assert "Please check" in text and message in text
    shown = inputs(again)
    for key, value in typed.items():
        if value and key in shown and shown[key]["type"] != "Input.Toggle":
            assert shown[key].get("value") == value, key  # what was typed is kept
    assert field_id in shown
    assert await only_contact(bot) == before  # nothing was saved


async def test_an_anonymous_member_of_the_public_is_accepted_and_warned_about(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    card = await walk(teams_channel, chat, OFFICER, until=Section.REFERRER)
    assert ANONYMITY_WARNING in texts_of(card)
    anonymous = {
        "referrer_type": "member_of_public",
        "referrer_name": "A Neighbour",
        "anonymity_requested": "true",
    }
    reply = await press(teams_channel, chat, OFFICER, NEXT, anonymous)
    assert section_of_card(reply.cards[-1]) is Section.CHILDREN
    referrer = (await only_contact(bot)).referrer
    assert referrer is not None and referrer.type is ReferrerType.MEMBER_OF_PUBLIC
    assert referrer.anonymity_requested


async def test_add_another_child_keeps_the_first_and_both_are_submitted(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    await register_channels(teams_channel, duty=False)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    await walk(teams_channel, chat, OFFICER, until=Section.CHILDREN)

    reply = await press(teams_channel, chat, OFFICER, ADD_CHILD, ROUTINE[Section.CHILDREN])
    card = reply.cards[-1]
    shown = inputs(card)
    assert shown["child_0_name"]["value"] == CHILD_NAME
    assert "child_1_name" in shown and "value" not in shown["child_1_name"]
    assert not shown["child_1_name"].get("isRequired")  # an unused block is no child
    reply = await press(
        teams_channel, chat, OFFICER, NEXT, {"child_1_name": SECOND_CHILD, "child_1_dob": "2025-10-01"}
    )
    assert section_of_card(reply.cards[-1]) is Section.PARENTS
    assert [child.name for child in (await only_contact(bot)).children] == [CHILD_NAME, SECOND_CHILD]

    await walk(teams_channel, chat, OFFICER)
    summary = teams_channel.last_card(chat)
    assert CHILD_NAME in texts_of(summary) and SECOND_CHILD in texts_of(summary)
    reply = await press(teams_channel, chat, OFFICER, SUBMIT)
    post = teams_channel.sent_to(decisions_channel(teams_channel))[-1]
    assert "Z.T. (6 years); Y.T. (5 months)" in texts_of(post.card or {})


async def test_back_shows_the_card_before_with_its_saved_answers(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    await walk(teams_channel, chat, OFFICER, until=Section.PARENTS)
    reply = await press(teams_channel, chat, OFFICER, BACK, {"consent": "refused"})
    card = reply.cards[-1]
    assert section_of_card(card) is Section.CHILDREN
    assert inputs(card)["child_0_name"]["value"] == CHILD_NAME
    assert inputs(card)["child_0_postcode"]["value"] == "SW1A 1AA"
    saved = await only_contact(bot)
    assert saved.draft_section == "children"
    assert saved.consent is None  # Back does not save the card it leaves
    reply = await press(teams_channel, chat, OFFICER, NEXT)
    assert section_of_card(reply.cards[-1]) is Section.PARENTS


async def test_save_draft_keeps_a_partly_answered_card(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    await walk(teams_channel, chat, OFFICER, until=Section.WORRIES)
    reply = await press(teams_channel, chat, OFFICER, SAVE, {"worries": "Only the worry so far"})
    card = reply.cards[-1]
    assert section_of_card(card) is Section.WORRIES
    assert "Draft saved at 10:00" in texts_of(card)
    assert inputs(card)["worries"]["value"] == "Only the worry so far"
    saved = await only_contact(bot)
    assert saved.worries == "Only the worry so far" and saved.draft_section == "worries"
    assert saved.presenting_needs == frozenset()
    assert (await audit(bot))[-1].action == "contact.draft_saved"


async def test_cancel_on_the_card_deletes_the_draft(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    await walk(teams_channel, chat, OFFICER, until=Section.CHILDREN)
    reply = await press(teams_channel, chat, OFFICER, CANCEL)
    assert any("cancelled and deleted" in text for text in reply.texts)
    assert await contacts(bot) == []
    assert (await audit(bot))[-1].action == "contact.draft_cancelled"


async def test_typing_cancel_deletes_the_draft_and_says_so_when_there_is_none(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    reply = await teams_channel.say(chat, OFFICER, "cancel")
    assert any("cancelled and deleted" in text for text in reply.texts)
    assert await contacts(bot) == []
    reply = await teams_channel.say(chat, OFFICER, "cancel")
    assert reply.texts == ["There is nothing to cancel."]


async def test_typing_while_a_card_waits_gets_a_reminder_and_the_card_again(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    await walk(teams_channel, chat, OFFICER, until=Section.PARENTS)
    before = await only_contact(bot)
    reply = await teams_channel.say(chat, OFFICER, "the mother is called Parent Testperson")
    card = reply.cards[-1]
    assert section_of_card(card) is Section.PARENTS
    assert "part-way through a new contact (at: Parents and consent)" in texts_of(card)
    assert await only_contact(bot) == before
    # the card shown again works
    reply = await press(teams_channel, chat, OFFICER, NEXT, ROUTINE[Section.PARENTS])
    assert section_of_card(reply.cards[-1]) is Section.WORRIES
    assert step_of(reply.cards[-1]).startswith("Step 6 of 8")


@pytest.mark.parametrize("role", [Role.OFFICER, Role.CONSULTANT, Role.TEAM_MANAGER])
async def test_officers_consultants_and_team_managers_may_start_a_contact(
    start_bot: StartBot, teams_channel: TeamsChannel, role: Role
) -> None:
    bot = await start_bot(clock=clock())
    person = TeamsUser("aad-starter-0399", "Sky Starterperson")
    await grant(bot, person, role)
    await start(teams_channel, teams_channel.personal(person), person)
    assert len(await contacts(bot)) == 1


@pytest.mark.parametrize("roles", [(), (Role.SOCIAL_WORKER,), (Role.DUTY_MANAGER,), (Role.ADMIN,)])
async def test_anyone_else_is_told_politely_who_can_start_a_contact(
    start_bot: StartBot, teams_channel: TeamsChannel, roles: tuple[Role, ...]
) -> None:
    bot = await start_bot(clock=clock())
    await grant(bot, PROFESSIONAL, *roles)
    reply = await teams_channel.say(teams_channel.personal(PROFESSIONAL), PROFESSIONAL, "new contact")
    [text] = reply.texts
    assert text.startswith("Sorry, only First Contact officers, consultants or team managers can do that")
    assert reply.cards == []
    assert await contacts(bot) == []


async def test_the_script_is_offered_in_help_to_officers_only(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    officer_help = (await teams_channel.say(teams_channel.personal(OFFICER), OFFICER, "help")).cards[-1]
    assert "new contact" in texts_of(officer_help) and "resume" in texts_of(officer_help)
    other_help = (await teams_channel.say(teams_channel.personal(PROFESSIONAL), PROFESSIONAL, "help")).cards[
        -1
    ]
    assert "new contact" not in texts_of(other_help)


async def test_a_problem_found_only_at_submission_takes_the_officer_back_to_the_card_that_fixes_it(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    # "significant information on an open case", but the history checks say the case is not open
    answers = {**ROUTINE, Section.SOURCE: {"source": "phone", "contact_type": "open_case_information"}}
    await start(teams_channel, chat, OFFICER)
    await walk(teams_channel, chat, OFFICER, answers)

    reply = await press(teams_channel, chat, OFFICER, SUBMIT)

    card = reply.cards[-1]
    assert section_of_card(card) is Section.HISTORY
    assert "The contact was not submitted" in texts_of(card)
    assert "Open case: the contact type is significant information on an open case" in texts_of(card)
    contact = await only_contact(bot)
    assert contact.state is ContactState.DRAFT and contact.reference is None
    assert contact.draft_section == "history"
    assert (await audit(bot))[-1].action == "contact.section_back"
