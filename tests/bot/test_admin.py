"""Administration in Teams, end to end: ``roles``, ``grant @person role``, ``revoke @person role``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from frontdoor.agencies import Agency
from frontdoor.mash import AGENCY_SET
from frontdoor.records import AuditEvent, StoredAuditEvent
from frontdoor.roles import Role
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import typed_commands
from tests.harness.teams import Operation, TeamsChannel, TeamsUser

ADMIN = TeamsUser("aad-admin-0701", "Ada Adminperson")
ALEX = TeamsUser("aad-staff-0702", "Alex Examplename")
OFFICER = TeamsUser("aad-officer-0703", "Olu Officerperson")
STRANGER = TeamsUser("aad-stranger-0704", "Sam Strangername")
#: A Teams-style Azure AD object id, as an administrator may type it.
TYPED_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


async def _roles(bot: RunningBot, person: str) -> frozenset[Role]:
    async with bot.store.unit_of_work() as uow:
        return await uow.roles.roles_of(person)


async def _audit(bot: RunningBot, person: str) -> list[StoredAuditEvent]:
    async with bot.store.unit_of_work() as uow:
        return await uow.audit.for_subject(f"person:{person}")


async def _start(start_bot: StartBot) -> RunningBot:
    return await start_bot(admins=frozenset({ADMIN.aad_object_id}))


def _facts(card: dict[str, Any]) -> dict[str, str]:
    return {
        fact["title"]: fact["value"]
        for item in card["body"]
        if item["type"] == "FactSet"
        for fact in item["facts"]
    }


async def test_an_admin_grants_and_revokes_by_mention_in_a_channel_and_each_change_is_audited(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _start(start_bot)
    channel = teams_channel.channel(
        "team-07", "19:decisions07@thread.tacv2", "Decisions", members=[ADMIN, ALEX]
    )

    granted = await teams_channel.say(
        channel, ADMIN, "grant <at>Alex Examplename</at> consultant", mentioning=[ALEX]
    )
    assert granted.texts == ["Done: Alex Examplename now has the role **consultant**."]
    assert await _roles(bot, ALEX.aad_object_id) == {Role.CONSULTANT}
    # Teams gave no object id in the mention: the bot asked the team's roster.
    assert any(call.operation is Operation.GET_MEMBER for call in teams_channel.calls)

    again = await teams_channel.say(
        channel, ADMIN, "grant <at>Alex Examplename</at> Consultant", mentioning=[ALEX]
    )
    assert again.texts == ["No change: Alex Examplename already has the role **consultant**."]

    revoked = await teams_channel.say(
        channel, ADMIN, "revoke <at>Alex Examplename</at> consultant", mentioning=[ALEX]
    )
    assert revoked.texts == ["Done: Alex Examplename no longer has the role **consultant**."]
    assert await _roles(bot, ALEX.aad_object_id) == frozenset()

    events = await _audit(bot, ALEX.aad_object_id)
    assert [(e.event.action, e.event.actor_id, e.event.detail) for e in events] == [
        ("role.grant", ADMIN.aad_object_id, "consultant"),
        ("role.revoke", ADMIN.aad_object_id, "consultant"),
    ]


async def test_a_mention_carrying_the_object_id_is_used_without_asking_the_roster(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _start(start_bot)
    group = teams_channel.group_chat(ADMIN, name="Admins")
    body = teams_channel.activity(
        group,
        ADMIN,
        "message",
        text="<at>Front Door</at> grant <at>Alex Examplename</at> social worker",
        entities=[
            {"type": "mention", "mentioned": teams_channel.bot, "text": "<at>Front Door</at>"},
            {
                "type": "mention",
                "mentioned": {"id": ALEX.id, "name": ALEX.name, "aadObjectId": ALEX.aad_object_id},
                "text": "<at>Alex Examplename</at>",
            },
        ],
    )
    reply = await teams_channel.send_activity(body)
    assert reply.texts == ["Done: Alex Examplename now has the role **social_worker**."]
    assert await _roles(bot, ALEX.aad_object_id) == {Role.SOCIAL_WORKER}
    assert not any(call.operation is Operation.GET_MEMBER for call in teams_channel.calls)


async def test_a_mentioned_person_the_bot_cannot_identify_gets_a_clear_message_and_no_change(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _start(start_bot)
    # A personal chat's roster is the admin alone: the mentioned person is not in it.
    chat = teams_channel.personal(ADMIN)
    reply = await teams_channel.say(
        chat, ADMIN, "grant <at>Sam Strangername</at> officer", mentioning=[STRANGER]
    )
    [text] = reply.texts
    assert "couldn't find the Azure AD object id of Sam Strangername" in text
    assert "type their object id" in text
    assert await _roles(bot, STRANGER.aad_object_id) == frozenset()
    assert await _audit(bot, STRANGER.aad_object_id) == []


async def test_an_admin_may_type_the_object_id_in_a_personal_chat(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _start(start_bot)
    chat = teams_channel.personal(ADMIN)
    reply = await teams_channel.say(chat, ADMIN, f"grant {TYPED_ID.upper()} duty manager")
    assert reply.texts == [f"Done: {TYPED_ID} now has the role **duty_manager**."]
    assert await _roles(bot, TYPED_ID) == {Role.DUTY_MANAGER}


async def test_unclear_commands_are_explained_and_change_nothing(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _start(start_bot)
    channel = teams_channel.channel(
        "team-07", "19:general07@thread.tacv2", "General", members=[ADMIN, ALEX, OFFICER]
    )
    no_role = await teams_channel.say(channel, ADMIN, "grant <at>Alex Examplename</at>", mentioning=[ALEX])
    assert no_role.texts[0].startswith("Which role?")
    bad_role = await teams_channel.say(
        channel, ADMIN, "grant <at>Alex Examplename</at> wizard", mentioning=[ALEX]
    )
    assert bad_role.texts[0].startswith("I don't know that role.")
    assert "social_worker" in bad_role.texts[0]
    nobody = await teams_channel.say(channel, ADMIN, "revoke consultant")
    assert "mentioning one person" in nobody.texts[0]
    two = await teams_channel.say(
        channel,
        ADMIN,
        "grant <at>Alex Examplename</at> <at>Olu Officerperson</at> officer",
        mentioning=[ALEX, OFFICER],
    )
    assert two.texts == ["Please grant a role for one person at a time."]
    for person in (ALEX, OFFICER):
        assert await _roles(bot, person.aad_object_id) == frozenset()
        assert await _audit(bot, person.aad_object_id) == []


async def test_people_who_are_not_admins_are_refused_politely_and_nothing_changes(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _start(start_bot)
    async with bot.store.unit_of_work() as uow:
        await uow.roles.grant(OFFICER.aad_object_id, Role.OFFICER)
        await uow.commit()
    channel = teams_channel.channel(
        "team-07", "19:general07@thread.tacv2", "General", members=[OFFICER, ALEX]
    )
    for text in (
        "grant <at>Olu Officerperson</at> admin",
        "grant <at>Alex Examplename</at> team manager",
        "revoke <at>Alex Examplename</at> officer",
    ):
        reply = await teams_channel.say(channel, OFFICER, text, mentioning=[OFFICER, ALEX])
        assert reply.texts == [
            "Sorry, only administrators can do that. "
            "If you think you should be able to, ask an administrator."
        ]
    chat = teams_channel.personal(ALEX)
    listing = await teams_channel.say(chat, ALEX, "roles")
    assert listing.cards == []
    assert "only administrators" in listing.texts[0]
    assert await _roles(bot, OFFICER.aad_object_id) == {Role.OFFICER}
    assert await _roles(bot, ALEX.aad_object_id) == frozenset()
    assert await _audit(bot, ALEX.aad_object_id) == []
    assert [e.event.action for e in await _audit(bot, OFFICER.aad_object_id)] == []


async def test_roles_lists_the_directory_for_admins_in_a_personal_chat(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _start(start_bot)
    async with bot.store.unit_of_work() as uow:
        await uow.roles.grant(OFFICER.aad_object_id, Role.OFFICER)
        await uow.roles.grant(OFFICER.aad_object_id, Role.SOCIAL_WORKER)
        await uow.roles.grant(TYPED_ID, Role.CONSULTANT)
        await uow.commit()
    await teams_channel.say(teams_channel.personal(OFFICER), OFFICER, "help")  # the bot learns the name
    reply = await teams_channel.say(teams_channel.personal(ADMIN), ADMIN, "roles")
    [card] = reply.cards
    assert _facts(card) == {
        "Ada Adminperson": "admin",
        "Olu Officerperson": "officer, social_worker",
        TYPED_ID: "consultant",
    }
    # In a shared channel the directory is not listed.
    channel = teams_channel.channel("team-07", "19:general07@thread.tacv2", "General", members=[ADMIN])
    shared = await teams_channel.say(channel, ADMIN, "roles")
    [help_card] = shared.cards
    assert "didn't recognise" in help_card["body"][0]["text"]


async def test_the_last_administrator_cannot_revoke_their_own_admin_role(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _start(start_bot)
    group = teams_channel.group_chat(ADMIN, ALEX)
    refused = await teams_channel.say(
        group, ADMIN, "revoke <at>Ada Adminperson</at> admin", mentioning=[ADMIN]
    )
    assert refused.texts == ["That is the only administrator. Make someone else an administrator first."]
    assert await _roles(bot, ADMIN.aad_object_id) == {Role.ADMIN}
    granted = await teams_channel.say(
        group, ADMIN, "grant <at>Alex Examplename</at> admin", mentioning=[ALEX]
    )
    assert granted.texts[0].startswith("Done")
    # With a second administrator, the first may step down.
    revoked = await teams_channel.say(
        group, ADMIN, "revoke <at>Ada Adminperson</at> admin", mentioning=[ADMIN]
    )
    assert revoked.texts[0].startswith("Done")
    assert await _roles(bot, ADMIN.aad_object_id) == frozenset()


async def test_help_shows_the_admin_commands_to_admins_only(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await _start(start_bot)
    admin_help = await teams_channel.say(teams_channel.personal(ADMIN), ADMIN, "help")
    assert {"roles", "grant @person role", "revoke @person role"} <= set(typed_commands(admin_help.cards[0]))
    officer_help = await teams_channel.say(teams_channel.personal(OFFICER), OFFICER, "help")
    assert not {"roles", "grant @person role", "revoke @person role"} & set(
        typed_commands(officer_help.cards[0])
    )


async def test_an_admin_records_the_team_a_person_works_in(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _start(start_bot)
    channel = teams_channel.channel(
        "team-07", "19:decisions07@thread.tacv2", "Decisions", members=[ADMIN, ALEX, OFFICER]
    )
    unknown = await teams_channel.say(
        channel, ADMIN, "team <at>Alex Examplename</at> North", mentioning=[ALEX]
    )
    assert unknown.texts == ["That person is not in the role directory: grant them a role first."]
    await teams_channel.say(
        channel, ADMIN, "grant <at>Alex Examplename</at> social worker", mentioning=[ALEX]
    )

    recorded = await teams_channel.say(
        channel, ADMIN, "team <at>Alex Examplename</at>  Assessment   North ", mentioning=[ALEX]
    )
    assert recorded.texts == ["Done: Alex Examplename is in the team **Assessment North**."]
    too_long = await teams_channel.say(
        channel, ADMIN, "team <at>Alex Examplename</at> " + "x" * 81, mentioning=[ALEX]
    )
    assert too_long.texts == ["A team's name is at most 80 characters, on one line."]
    two = await teams_channel.say(
        channel,
        ADMIN,
        "team <at>Alex Examplename</at> <at>Olu Officerperson</at> North",
        mentioning=[ALEX, OFFICER],
    )
    assert two.texts == ["Please record a team for one person at a time."]
    refused = await teams_channel.say(
        channel, ALEX, "team <at>Alex Examplename</at> South", mentioning=[ALEX]
    )
    assert refused.texts and refused.texts[0].startswith("Sorry, only")
    async with bot.store.unit_of_work() as uow:
        [entry] = [e for e in await uow.roles.entries() if e.aad_object_id == ALEX.aad_object_id]
    assert entry.team == "Assessment North"

    cleared = await teams_channel.say(channel, ADMIN, "team <at>Alex Examplename</at>", mentioning=[ALEX])
    assert cleared.texts == ["Done: Alex Examplename is in no team now."]
    events = [e.event for e in await _audit(bot, ALEX.aad_object_id) if e.event.action == "role.team"]
    assert [(e.actor_id, e.detail) for e in events] == [
        (ADMIN.aad_object_id, "Assessment North"),
        (ADMIN.aad_object_id, "-"),
    ]


async def test_revoking_a_partner_waits_for_their_agency_held_by_another_change_before_it_audits(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    """Another administrator's change of the same partner, which changed no role, has rewritten
    their agency and not committed yet. The revoke writes the agency before the role's audit row, so
    it waits holding nothing; auditing first held the audit chain (PostgreSQL) while waiting for the
    agency's row, and the other change, appending before it commits, waited for it: a deadlock."""
    bot = await _start(start_bot)
    async with bot.store.unit_of_work() as uow:
        assert await uow.roles.grant(TYPED_ID, Role.PARTNER)
        await uow.mash.set_agency(TYPED_ID, Agency.POLICE)
        await uow.commit()
    chat = teams_channel.personal(ADMIN)
    subject = f"person:{TYPED_ID}"
    async with bot.store.unit_of_work() as holder:  # the other administrator's change, in flight
        await holder.mash.set_agency(TYPED_ID, Agency.HEALTH)
        revoking = asyncio.create_task(teams_channel.say(chat, ADMIN, f"revoke {TYPED_ID} partner"))
        await asyncio.sleep(1)  # the revoke runs until it waits for the agency's row
        at = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
        await holder.audit.append(AuditEvent(at, "aad-admin-other", AGENCY_SET, subject, Agency.HEALTH.value))
        await holder.commit()
    reply = await asyncio.wait_for(revoking, 30)
    assert reply.texts == [f"Done: {TYPED_ID} no longer has the role **partner**."]
    assert await _roles(bot, TYPED_ID) == frozenset()
    async with bot.store.unit_of_work() as uow:
        assert await uow.mash.agency_of(TYPED_ID) is None
    assert [(e.event.action, e.event.detail) for e in await _audit(bot, TYPED_ID)] == [
        (AGENCY_SET, Agency.HEALTH.value),
        ("role.revoke", Role.PARTNER.value),
        (AGENCY_SET, "none"),
    ]
