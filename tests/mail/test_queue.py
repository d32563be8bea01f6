"""The e-mail queue's rules on every store (memory, SQLite, PostgreSQL): the mailbox settings; the
preview; first wins when two take at once; an e-mail untaken for ``mail.untaken_alert_office_hours``
of office time alerts the duty managers on the rota once; the poll runs every ``mail.poll_seconds``;
the stored data of e-mails that did not become accepted referrals is deleted after
``retention.referrals_not_accepted_months``, audited."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.settings import DEVELOPMENT, Settings, SettingsError
from frontdoor.acting import Rules, Who
from frontdoor.alerts import AlertKind, Recipient
from frontdoor.calendar import WorkingCalendar
from frontdoor.contact import Contact, ContactEvent, ContactState
from frontdoor.intake import Refusal, cancel_draft
from frontdoor.mail import (
    FRONT_DOOR_STAFF,
    MailboxAddress,
    MailRefusal,
    TakenBySomeoneElse,
    alert_untaken,
    check_reason,
    defang,
    item_from,
    parse_mail,
    preview_text,
    referrer_from,
    staff_names,
    start_from_mail,
    take,
    take_in,
    untaken_from_payload,
)
from frontdoor.mail_records import MailItem, MailState, NotReferralReason
from frontdoor.policy import parse_policy
from frontdoor.records import AuditEvent, DirectoryEntry, RotaEntry
from frontdoor.retention import purge_expired_mail
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from frontdoor.unit_of_work import Store
from scheduler.leadership import SoleLeadership
from scheduler.mailbox import MAIL_POLL_JOB_ID, MailboxWatcher
from tests.mail import messages
from tests.store.samples import closed_contact

#: Monday 16 March 2026 (GMT), office hours 08:30-17:00.
MONDAY = date(2026, 3, 16)
CALENDAR = WorkingCalendar()
POLICY = parse_policy("")
DUTY_MANAGER = "aad-duty-mail-1"
OFFICERS = ("aad-officer-mail-a", "aad-officer-mail-b")


def at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


async def _add(store: Store, uid: int, received_at: datetime, raw: bytes | None = None) -> MailItem:
    raw = raw or messages.plain(f"<q-{uid}@school.example>")
    item = item_from(
        parse_mail(raw), mailbox="fd@council.example/INBOX", uid_validity=1, uid=uid,
        received_at=received_at, size=len(raw),
    )  # fmt: skip
    assert await take_in(store.unit_of_work(), item, received_at)
    return item


# -- settings ---------------------------------------------------------------------------------------


def test_the_mailbox_comes_from_the_environment() -> None:
    settings = Settings.from_env(
        {**DEVELOPMENT, "FRONTDOOR_IMAP_URL": "imaps://front.door%40council.example@mail.example:993/Referrals",
         "FRONTDOOR_IMAP_PASSWORD": "not-a-real-secret"}
    )  # fmt: skip
    assert settings.mailbox == MailboxAddress(
        "mail.example", 993, True, "front.door@council.example", "Referrals", "not-a-real-secret"
    )
    assert "not-a-real-secret" not in repr(settings.mailbox)
    assert Settings.from_env(DEVELOPMENT).mailbox is None


PRODUCTION = {
    "FRONTDOOR_ENV": "production",
    "MicrosoftAppId": "00000000-0000-0000-0000-000000000001",
    "MicrosoftAppPassword": "not-a-real-secret",
    "MicrosoftAppTenantId": "00000000-0000-0000-0000-0000000000aa",
    "FRONTDOOR_IMAP_PASSWORD": "not-a-real-secret",
    "FRONTDOOR_TENANTS": "00000000-0000-0000-0000-0000000000aa",
}


def test_production_refuses_plain_imap_to_another_host_but_not_to_loopback() -> None:
    with pytest.raises(
        SettingsError, match=r"FRONTDOOR_IMAP_URL plain imap:// to mail.example .* use imaps://"
    ):
        Settings.from_env({**PRODUCTION, "FRONTDOOR_IMAP_URL": "imap://fd@mail.example/INBOX"})
    local = Settings.from_env({**PRODUCTION, "FRONTDOOR_IMAP_URL": "imap://fd@127.0.0.1:1143/INBOX"})
    assert local.mailbox is not None and (local.mailbox.tls, local.mailbox.port) == (False, 1143)
    # Development may use a plain test server anywhere.
    assert Settings.from_env(
        {**DEVELOPMENT, "FRONTDOOR_IMAP_URL": "imap://fd@mail.example/INBOX", "FRONTDOOR_IMAP_PASSWORD": "x"}
    ).mailbox is not None  # fmt: skip


@pytest.mark.parametrize(
    ("url", "password", "problem"),
    [
        ("https://fd@mail.example/INBOX", "x", "must start with imaps://"),
        ("imaps://mail.example/INBOX", "x", "names no user"),
        ("imaps://fd:secret@mail.example/INBOX", "x", "must not hold the password"),
        ("imaps://fd@mail.example/INBOX", "", "needs FRONTDOOR_IMAP_PASSWORD"),
        ("imaps://fd@mail.example:99999/INBOX", "x", "invalid port"),
        ("imaps://fd@/INBOX", "x", "names no host"),
    ],
)
def test_a_bad_mailbox_url_stops_start_up_with_a_reason(url: str, password: str, problem: str) -> None:
    with pytest.raises(SettingsError, match="FRONTDOOR_IMAP_URL") as raised:
        Settings.from_env({"FRONTDOOR_IMAP_URL": url, "FRONTDOOR_IMAP_PASSWORD": password})
    assert problem in str(raised.value) and "secret" not in str(raised.value)


# -- the preview -------------------------------------------------------------------------------------


def test_the_preview_is_short_plain_text_with_no_clickable_link() -> None:
    assert defang("see https://a.example/p and www.b.example or mail c@d.example") == (
        "see https[:]//a[.]example/p and www[.]b[.]example or mail c[@]d[.]example"
    )
    long = preview_text("word " * 200, 40)
    assert len(long) == 40 and long.endswith("…")
    assert preview_text("a\n\n  b\tc") == "a b c"


# -- first wins --------------------------------------------------------------------------------------


async def test_two_officers_take_at_once_and_the_first_wins(store: Store) -> None:
    item = await _add(store, 1, at(9))
    results = await asyncio.gather(
        *(
            take(store.unit_of_work(), item.id, who=Who(officer, frozenset({Role.OFFICER})), now=at(10))
            for officer in OFFICERS
        )
    )
    winners = [r for r in results if isinstance(r, MailItem)]
    losers = [r for r in results if isinstance(r, TakenBySomeoneElse)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].taken_by == winners[0].taken_by
    async with store.unit_of_work() as uow:
        stored = await uow.mail.get(item.id)
        events = await uow.audit.for_subject(item.subject_key)
    assert stored is not None and stored.taken_by == winners[0].taken_by and stored.version == 1
    assert [e.event.action for e in events] == ["mail.received", "mail.taken"]


# -- clocks ------------------------------------------------------------------------------------------


async def test_an_e_mail_untaken_for_an_office_hour_alerts_the_duty_manager_once(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.rota.set(RotaEntry(MONDAY, Role.DUTY_MANAGER, DUTY_MANAGER))
        await uow.commit()
    # Received at 08:00, before opening: its office hour runs 08:30-09:30.
    early = await _add(store, 1, at(8))
    taken = await _add(store, 2, at(8, 5))
    assert isinstance(
        await take(
            store.unit_of_work(),
            taken.id,
            who=Who(OFFICERS[0], frozenset({Role.OFFICER})),
            now=at(8, 10),
        ),
        MailItem,
    )

    assert await alert_untaken(store.unit_of_work, rules=Rules(at(9, 29), CALENDAR, POLICY)) == 0
    assert await alert_untaken(store.unit_of_work, rules=Rules(at(9, 30), CALENDAR, POLICY)) == 1
    assert await alert_untaken(store.unit_of_work, rules=Rules(at(9, 45), CALENDAR, POLICY)) == 0  # once

    async with store.unit_of_work() as uow:
        [sent] = [
            row
            for row in await uow.alerts.claim(at(9, 46), timedelta(minutes=1))
            if row.subject.startswith("mail:")
        ]
    assert sent.kind is AlertKind.MAIL_UNTAKEN and sent.subject == early.subject_key
    assert sent.recipient == Recipient.person(DUTY_MANAGER)
    assert untaken_from_payload(sent.payload) == (early.id, at(8))
    # The payload carries ids and times only.
    assert messages.SENDER not in sent.payload and "pupil" not in json.dumps(json.loads(sent.payload))


async def test_the_untaken_limit_is_the_policy_s_and_counts_office_time_only(store: Store) -> None:
    policy = parse_policy("[mail]\nuntaken_alert_office_hours = 3")
    # Friday 16:30: half an office hour that day, the rest on Monday from 08:30.
    await _add(store, 1, at(16, 30, date(2026, 3, 13)))
    assert await alert_untaken(store.unit_of_work, rules=Rules(at(10, 59), CALENDAR, policy)) == 0
    # Nobody on the rota: the duty channel is told instead.
    assert await alert_untaken(store.unit_of_work, rules=Rules(at(11, 0), CALENDAR, policy)) == 1


def test_the_mailbox_is_polled_as_often_as_the_policy_says() -> None:
    policy = parse_policy("[mail]\npoll_seconds = 45")
    watcher = MailboxWatcher(
        MailboxAddress("127.0.0.1", 1143, False, "fd"), lambda: None,  # type: ignore[arg-type,return-value]
        SettableClock(at(9)), SoleLeadership(), poll_seconds=policy.mail.poll_seconds,
        first_read=policy.mail.first_read,
    )  # fmt: skip
    [job] = watcher.jobs()
    assert job.id == MAIL_POLL_JOB_ID and job.trigger.interval == timedelta(seconds=45)


# -- retention ---------------------------------------------------------------------------------------


async def test_e_mail_data_of_referrals_not_accepted_is_deleted_after_retention(store: Store) -> None:
    old = at(9, 0, date(2025, 8, 1))
    long_ago = at(12, 0, date(2025, 8, 20))
    not_referral = await _add(store, 1, old)
    open_referral = await _add(store, 2, old)
    not_accepted = await _add(store, 3, old)
    waiting = await _add(store, 4, old)
    recent = await _add(store, 5, at(9, 0, date(2026, 1, 10)))
    accepted = await _add(store, 6, old)
    passed_on = await _add(store, 7, old)
    closed_lately = await _add(store, 8, old)
    contacts: dict[str, Contact] = {
        # still being worked on as a referral
        open_referral.id: Contact("c-000002", OFFICERS[0], old, state=ContactState.REFERRAL_ACCEPTED),
        # closed with no further action long ago: not accepted
        not_accepted.id: closed_contact("c-000003", "no_further_action", long_ago),
        # accepted for assessment, signed off and closed: every signed-off contact ends closed
        accepted.id: closed_contact("c-000006", "accepted_for_assessment", long_ago),
        # significant information for a child with an open case, passed to the allocated worker
        passed_on.id: Contact(
            "c-000007", OFFICERS[0], old, state=ContactState.PASSED_ON, reference="CT-26-000007",
            events=(ContactEvent(old, OFFICERS[0], "open_case", ContactState.DRAFT, ContactState.PASSED_ON),),
        ),
        # received long ago, closed without being accepted five weeks ago: kept until six months after
        closed_lately.id: closed_contact("c-000008", "advice_and_guidance", at(12, 0, date(2026, 2, 10))),
    }  # fmt: skip
    async with store.unit_of_work() as uow:
        await uow.mail.save(replace(not_referral, state=MailState.NOT_REFERRAL, taken_by=OFFICERS[0]), 0)
        await uow.mail.save(replace(recent, state=MailState.NOT_REFERRAL, taken_by=OFFICERS[0]), 0)
        for item_id, contact in contacts.items():
            await uow.contacts.add(contact)
            item = await uow.mail.get(item_id)
            assert item is not None
            started = replace(item, state=MailState.STARTED, taken_by=OFFICERS[0], contact_id=contact.id)
            await uow.mail.save(started, 0)
        await uow.commit()

    # Six months before Monday 16 March 2026 is 16 September 2025.
    deleted = await purge_expired_mail(store.unit_of_work(), rules=Rules(at(3), CALENDAR, POLICY))

    assert sorted(deleted) == sorted([not_referral.id, not_accepted.id])
    async with store.unit_of_work() as uow:
        kept = {item.id for item in await uow.mail.received_before(at(12))}
        events = await uow.audit.for_subject(not_referral.subject_key)
    assert kept == {open_referral.id, waiting.id, recent.id, accepted.id, passed_on.id, closed_lately.id}
    assert ("mail.deleted", "system:retention", "retention") in [
        (e.event.action, e.event.actor_id, e.event.detail) for e in events
    ]
    # A shorter retention reaches the recent one too, and the one closed five weeks ago (a month
    # after its closing, as the contact's own personal data goes).
    shorter = parse_policy("[retention]\nreferrals_not_accepted_months = 1")
    assert sorted(
        await purge_expired_mail(store.unit_of_work(), rules=Rules(at(3), CALENDAR, shorter))
    ) == sorted([recent.id, closed_lately.id])
    # Still kept, however short the retention: the accepted, the passed-on and the open referral's.
    async with store.unit_of_work() as uow:
        kept = {item.id for item in await uow.mail.received_before(at(12))}
    assert kept == {open_referral.id, waiting.id, accepted.id, passed_on.id}


async def test_a_cancelled_draft_gives_its_e_mail_back_to_the_taker(store: Store) -> None:
    item = await _add(store, 1, at(9))
    assert isinstance(
        await take(
            store.unit_of_work(),
            item.id,
            who=Who(OFFICERS[0], frozenset({Role.OFFICER})),
            now=at(10),
        ),
        MailItem,
    )
    started = await start_from_mail(
        store.unit_of_work(),
        item.id,
        "source",
        who=Who(OFFICERS[0], frozenset({Role.OFFICER})),
        now=at(10),
    )
    assert isinstance(started, tuple)
    _, contact = started
    cancelled = await cancel_draft(store.unit_of_work(), contact.id, OFFICERS[0], at(10, 5))
    assert not isinstance(cancelled, Refusal)
    async with store.unit_of_work() as uow:
        back = await uow.mail.taken_by(OFFICERS[0])
        events = [e.event.action for e in await uow.audit.for_subject(item.subject_key)]
    assert [(i.id, i.state, i.contact_id) for i in back] == [(item.id, MailState.TAKEN, None)]
    assert events[-1] == "mail.returned"


async def test_a_cancel_waits_for_its_draft_held_by_another_save_before_it_takes_any_other_lock(
    store: Store,
) -> None:
    """The draft is deleted first. Had the cancel given the e-mail back first, it would hold the audit
    chain (PostgreSQL's advisory lock, to commit) while waiting for the draft, and the save holding
    the draft, appending to the chain before it commits, would wait for it: a deadlock."""
    officer = Who(OFFICERS[0], frozenset({Role.OFFICER}))
    item = await _add(store, 1, at(9))
    assert isinstance(await take(store.unit_of_work(), item.id, who=officer, now=at(10)), MailItem)
    started = await start_from_mail(store.unit_of_work(), item.id, "source", who=officer, now=at(10))
    assert isinstance(started, tuple)
    _, contact = started
    async with store.unit_of_work() as holder:  # the officer's save of a card, in flight
        await holder.contacts.save(replace(contact, draft_section="risk"), contact.version)
        cancelling = asyncio.create_task(
            cancel_draft(store.unit_of_work(), contact.id, OFFICERS[0], at(10, 5))
        )
        await asyncio.sleep(1)  # the cancel runs until it waits for the draft
        await holder.audit.append(
            AuditEvent(at(10, 5), OFFICERS[0], "contact.section_saved", contact.id, "source")
        )
        await holder.commit()
    cancelled = await asyncio.wait_for(cancelling, 30)
    assert not isinstance(cancelled, Refusal), cancelled
    async with store.unit_of_work() as uow:
        assert await uow.contacts.get(contact.id) is None
        back = await uow.mail.taken_by(OFFICERS[0])
        events = [e.event.action for e in await uow.audit.for_subject(item.subject_key)]
        draft_events = [e.event.action for e in await uow.audit.for_subject(contact.id)]
    assert [(i.id, i.state, i.contact_id) for i in back] == [(item.id, MailState.TAKEN, None)]
    assert events[-1] == "mail.returned"
    assert draft_events[-2:] == ["contact.section_saved", "contact.draft_cancelled"]


def test_the_sender_is_the_referrer_unless_they_are_front_door_staff() -> None:
    item = item_from(
        parse_mail(messages.plain()), mailbox="frontdoor@council.example/INBOX", uid_validity=1, uid=1,
        received_at=at(9), size=1,
    )  # fmt: skip
    directory = [
        DirectoryEntry("aad-1", frozenset({Role.PARTNER}), messages.SENDER_NAME),
        DirectoryEntry("aad-2", frozenset({Role.PROFESSIONAL, Role.EDT}), messages.SENDER_NAME),
    ]
    # partner agencies, professionals and the out-of-hours team refer: the sender stays the referrer
    referrer = referrer_from(item, staff_names(directory))
    assert referrer is not None and referrer.email == messages.SENDER
    # one of the front door's own (name matched however it is spaced or cased): a colleague's forward
    for role in FRONT_DOOR_STAFF:
        colleague = DirectoryEntry("aad-3", frozenset({role}), f"  {messages.SENDER_NAME.upper()} ")
        assert referrer_from(item, staff_names([*directory, colleague])) is None, role
    assert staff_names([DirectoryEntry("aad-4", frozenset({Role.OFFICER}), "")]) == frozenset()


def test_a_duplicate_names_a_whole_contact_reference() -> None:
    duplicate = NotReferralReason.DUPLICATE.value
    assert check_reason(duplicate, "same call as ct-26-000123, again") == (
        NotReferralReason.DUPLICATE,
        "CT-26-000123",
    )
    for mistyped in ("CT-26-0001234", "XCT-26-000123", "CT-26-000123-2"):
        assert isinstance(check_reason(duplicate, mistyped), MailRefusal), mistyped
