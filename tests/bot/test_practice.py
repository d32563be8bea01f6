"""The procedure where a child's safety depends on it, end to end in Teams: sign-off as the only way
the receiving team hears, nobody signing off their own decision, the receiving team's disagreement
and the referrer's challenge with their escalations to a service manager, outcome letters for
professionals only, and the retention of referrals not accepted. The loopback Teams channel, the
real app over HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.app import SETTINGS
from bot.cards.decisions import SIGN_OFF_VERB
from frontdoor.contact import ContactState
from frontdoor.decisions import OutcomeKind, current_outcome
from frontdoor.records import ClockKind, DeadlineState
from scheduler.jobs import run_retention
from tests.bot.casework_helpers import (
    channel_message_id,
    channel_view,
    eventually,
    press,
    ready,
    reply_card,
    screen,
)
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    CHILD_NAME,
    CONSULTANT,
    CONSULTANT_2,
    OFFICER,
    REFERRER_NAME,
    WORRY,
    audit,
    contacts,
    decisions_channel,
    script,
    submit,
    texts_of,
)
from tests.harness.teams import TeamsChannel, TeamsUser


async def sign_off(
    teams_channel: TeamsChannel, user: TeamsUser = CONSULTANT_2, **inputs: object
) -> dict[str, Any]:
    """``user`` presses "Sign off and close" on their view of the latest decisions card."""
    view = await channel_view(teams_channel, user)
    response = await press(
        teams_channel,
        decisions_channel(teams_channel),
        user,
        view,
        SIGN_OFF_VERB,
        activity_id=channel_message_id(teams_channel),
        **inputs,
    )
    return reply_card(response)


async def by_reference(bot: RunningBot, reference: str) -> Any:
    [contact] = [c for c in await contacts(bot) if c.reference == reference]
    return contact


async def deadlines_of(bot: RunningBot, reference: str) -> list[tuple[ClockKind, DeadlineState]]:
    async with bot.store.unit_of_work() as uow:
        rows = await uow.deadlines.for_subject(reference)
    return sorted((row.clock, row.state) for row in rows)


# -- retention of referrals not accepted ----------------------------------------------------------


async def test_retention_removes_a_seven_month_old_not_accepted_contacts_personal_data_keeping_its_figures(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, the_clock = await ready(start_bot, teams_channel)
    officer_chat = teams_channel.personal(OFFICER)
    # March: a referral with no further action, signed off.
    await submit(teams_channel, officer_chat, OFFICER)
    await screen(teams_channel, "ii")
    await sign_off(teams_channel)
    # June: another, closed the same way: only four months old in October.
    the_clock.set(datetime(2026, 6, 15, 10, 0, tzinfo=UTC))
    await submit(
        teams_channel, officer_chat, OFFICER, script(children={"child_0_name": "Yorick Recentchild"})
    )
    await screen(teams_channel, "ii")
    await sign_off(teams_channel)
    old, recent = sorted(c.reference or "" for c in await contacts(bot))
    before = await by_reference(bot, old)
    clocks_before = await deadlines_of(bot, old)
    assert before.state is ContactState.CLOSED and clocks_before

    # Seven months after the first closed, the bot starts: retention runs at start-up.
    later = datetime(2026, 10, 16, 10, 0, tzinfo=UTC)
    the_clock.set(later)
    bot = await start_bot(clock=the_clock, scheduler_enabled=True)

    async def removed() -> bool:
        return any(e.action == "contact.personal_data_removed" for e in await audit(bot))

    await eventually(removed, "the removal's audit row")
    rows = [e for e in await audit(bot) if e.action == "contact.personal_data_removed"]
    assert [(e.actor_id, e.subject, e.detail) for e in rows] == [
        ("system:retention", old, "outcome=no_further_action; months=6")
    ]

    after = await by_reference(bot, old)
    # Gone: names, dates of birth, addresses, phones, free text.
    assert [child.name for child in after.children] == [""]
    assert after.children[0].date_of_birth is None and after.children[0].address == ""
    assert after.parents == ()
    assert after.referrer is not None and (after.referrer.name, after.referrer.phone) == ("", "")
    assert after.worries == after.working_well == after.history.chronology == ""
    assert all(event.rationale == "" for event in after.events)
    # Kept: the reference, dates, source and type, the route, the outcome kind and the clock rows.
    assert (after.reference, after.received_at, after.source, after.contact_type) == (
        before.reference,
        before.received_at,
        before.source,
        before.contact_type,
    )
    assert after.referrer.type is before.referrer.type
    assert [e.action for e in after.events][: len(before.events)] == [e.action for e in before.events]
    assert [e.at for e in after.events][: len(before.events)] == [e.at for e in before.events]
    assert "route_ii" in [e.action for e in after.events]
    recorded = current_outcome(after)
    assert recorded is not None and recorded.outcome.kind is OutcomeKind.NO_FURTHER_ACTION
    assert await deadlines_of(bot, old) == clocks_before
    assert after.presenting_needs == before.presenting_needs

    # The four-month-old contact is untouched.
    assert (await by_reference(bot, recent)).children[0].name == "Yorick Recentchild"

    # What staff see of it in Teams has no personal data left.
    reply = await teams_channel.say(teams_channel.personal(CONSULTANT), CONSULTANT, f"find {old}")
    shown = " ".join(texts_of(card) for card in reply.cards)
    assert old in shown
    for secret in (CHILD_NAME, REFERRER_NAME, WORRY, "Example Street", "Parent Testperson", "0191 498"):
        assert secret not in shown, secret

    # A second run removes nothing more.
    assert await run_retention(bot.store.unit_of_work, the_clock, bot.app[SETTINGS].policy) == ()
    assert len([e for e in await audit(bot) if e.action == "contact.personal_data_removed"]) == 1
    assert (await by_reference(bot, old)).version == after.version
