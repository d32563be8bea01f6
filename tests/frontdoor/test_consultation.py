"""Consultations: validation, the guard on save, references, who may find what, links, retention.

The use cases run against a tiny in-test unit of work made of dicts and lists, so each test can see
exactly what was written, allocated, audited and committed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.calendar import WorkingCalendar
from frontdoor.consultation import (
    Consultation,
    ConsultationDraft,
    ConsultationField,
    ConsultationLinkUnitOfWork,
    FieldError,
    FindOutcome,
    LinkOutcome,
    SaveOutcome,
    consultations_followed_by,
    find_consultation,
    follows_text,
    link_consultation,
    not_found_message,
    save_consultation,
    starting_draft,
    validate_draft,
)
from frontdoor.consultation_export import (
    MANAGER_ROLES,
    ExportOutcome,
    consultations_csv,
    export_consultations,
)
from frontdoor.consultation_retention import due_for_deletion, purge_expired_consultations
from frontdoor.contact import Contact
from frontdoor.guard import FindingKind
from frontdoor.policy import Policy, default_policy, parse_policy
from frontdoor.records import RETENTION_ACTOR, AuditEvent, StoredAuditEvent
from frontdoor.roles import Role

LONDON = ZoneInfo("Europe/London")
POLICY = default_policy()
NOW = datetime(2026, 6, 8, 9, 30, tzinfo=UTC)

PROFESSIONAL = frozenset({Role.PROFESSIONAL})
NO_ROLES: frozenset[Role] = frozenset()  # not in the directory: a professional
OFFICER = frozenset({Role.OFFICER})
SOCIAL_WORKER = frozenset({Role.SOCIAL_WORKER})
TEAM_MANAGER = frozenset({Role.TEAM_MANAGER})
ADMIN = frozenset({Role.ADMIN})

CLEAN_WORRY = "A Year 6 pupil has been arriving hungry and says there is no food at home."


def draft(**changes: object) -> ConsultationDraft:
    base = ConsultationDraft(
        professional_name="Testy McTestface",
        agency="Example Primary School",
        professional_role="Designated safeguarding lead",
        worry=CLEAN_WORRY,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# -- the fake unit of work -----------------------------------------------------------------------


class FakeConsultations:
    def __init__(self) -> None:
        self.rows: dict[str, Consultation] = {}

    async def add(self, consultation: Consultation) -> None:
        assert consultation.reference not in self.rows, "a reference was reused"
        self.rows[consultation.reference] = consultation

    async def get_by_reference(self, reference: str) -> Consultation | None:
        return self.rows.get(reference)

    async def list_between(self, start: datetime, end: datetime) -> list[Consultation]:
        return sorted(
            (c for c in self.rows.values() if start <= c.created_at < end), key=lambda c: c.created_at
        )

    async def delete_older_than(self, cutoff: datetime) -> list[str]:
        old = sorted(ref for ref, c in self.rows.items() if c.created_at < cutoff)
        for ref in old:
            del self.rows[ref]
        return old

    async def link(self, reference: str, contact_reference: str) -> None:
        self.rows[reference] = replace(self.rows[reference], linked_contact_reference=contact_reference)

    async def linked_to(self, contact_reference: str) -> list[Consultation]:
        return sorted(
            (c for c in self.rows.values() if c.linked_contact_reference == contact_reference),
            key=lambda c: c.created_at,
        )

    async def from_form(self, author_id: str, form_id: str) -> Consultation | None:
        return next(
            (c for c in self.rows.values() if c.author_id == author_id and c.form_id == form_id), None
        )

    async def latest_own(self, author_id: str) -> Consultation | None:
        own = [c for c in self.rows.values() if c.author_id == author_id and not c.on_behalf]
        return max(own, key=lambda c: c.created_at, default=None)


class FakeReferences:
    def __init__(self) -> None:
        self.counters: dict[tuple[str, int], int] = {}
        self.calls: list[tuple[str, int]] = []

    async def allocate(self, prefix: str, year: int) -> int:
        self.calls.append((prefix, year))
        self.counters[(prefix, year)] = self.counters.get((prefix, year), 0) + 1
        return self.counters[(prefix, year)]


class FakeAudit:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def append(self, event: AuditEvent) -> StoredAuditEvent:
        self.events.append(event)
        return StoredAuditEvent(len(self.events), event, "", "")

    async def between(self, start: datetime, end: datetime) -> list[StoredAuditEvent]:
        raise NotImplementedError

    async def for_subject(self, subject: str) -> list[StoredAuditEvent]:
        raise NotImplementedError


class FakeContacts:
    def __init__(self, *references: str) -> None:
        self.references = set(references)

    async def get_by_reference(self, reference: str) -> Contact | None:
        if reference not in self.references:
            return None
        return Contact(id=reference, created_by="officer-1", created_at=NOW, reference=reference)


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.consultations = FakeConsultations()
        self.references = FakeReferences()
        self.audit = FakeAudit()
        self.contacts = FakeContacts("CT-26-000001", "CT-26-000002")
        self.commits = 0

    async def commit(self) -> None:
        self.commits += 1

    @property
    def actions(self) -> list[str]:
        return [event.action for event in self.audit.events]


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


def test_the_fake_satisfies_the_port() -> None:
    port: ConsultationLinkUnitOfWork = FakeUnitOfWork()  # checked by mypy, exercised below
    assert port is not None


# -- validation ----------------------------------------------------------------------------------

F = ConsultationField


@pytest.mark.parametrize(
    ("changes", "is_staff", "errors"),
    [
        ({}, False, []),
        ({"worry": ""}, False, [(F.WORRY, "Describe the worry.")]),
        ({"worry": " \n\t "}, False, [(F.WORRY, "Describe the worry.")]),
        ({"worry": "x" * 4213}, False, [(F.WORRY, "The worry is 4,213 characters; the limit is 4,000.")]),
        ({"worry": "x" * 4000}, False, []),
        ({"worry": "  " + "x" * 4000 + "\n"}, False, []),  # surrounding space is not counted
        (
            {"advice": "Ring the front door."},
            False,
            [(F.ADVICE, "Only front-door staff record the advice given.")],
        ),
        ({"advice": "Ring the front door."}, True, []),
        ({"advice": "y" * 4001}, True, [(F.ADVICE, "The advice is 4,001 characters; the limit is 4,000.")]),
        (
            {"on_behalf": True},
            False,
            [(F.ON_BEHALF, "Only front-door staff log a consultation on behalf of someone else.")],
        ),
        ({"on_behalf": True}, True, []),
        (
            {"professional_name": "  "},
            False,
            [(F.PROFESSIONAL_NAME, "Give the professional's name: consultations are never anonymous.")],
        ),
        (
            {"professional_name": "", "on_behalf": True},
            True,
            [(F.PROFESSIONAL_NAME, "Give the caller's name: consultations are never anonymous.")],
        ),
        ({"agency": ""}, False, [(F.AGENCY, "Give the professional's agency.")]),
        ({"agency": ""}, True, [(F.AGENCY, "Give the professional's agency.")]),
        ({"professional_role": ""}, False, []),  # the role is welcome, not required
        (
            {"professional_name": "Z" * 201},
            False,
            [(F.PROFESSIONAL_NAME, "The name is 201 characters; the limit is 200.")],
        ),
        ({"agency": "A" * 250}, False, [(F.AGENCY, "The agency is 250 characters; the limit is 200.")]),
        (
            {"professional_role": "R" * 201},
            False,
            [(F.PROFESSIONAL_ROLE, "The role is 201 characters; the limit is 200.")],
        ),
        ({"contact_phone": "0113 496 0000"}, False, []),
        (
            {"contact_phone": "ask the office"},
            False,
            [(F.CONTACT_PHONE, "Give a phone number such as 0113 496 0000, or leave it empty.")],
        ),
        (
            {"worry": "", "agency": "", "advice": "Ring back."},
            False,
            [
                (F.AGENCY, "Give the professional's agency."),
                (F.WORRY, "Describe the worry."),
                (F.ADVICE, "Only front-door staff record the advice given."),
            ],
        ),
    ],
)
def test_validate_draft(changes: dict[str, object], is_staff: bool, errors: list[tuple[str, str]]) -> None:
    assert validate_draft(draft(**changes), POLICY, is_staff=is_staff) == [
        FieldError(f, m) for f, m in errors
    ]


def test_the_limit_comes_from_policy() -> None:
    policy = parse_policy("[limits]\nmax_free_text_chars = 100\n")
    assert validate_draft(draft(worry="w" * 101), policy, is_staff=False) == [
        FieldError(F.WORRY, "The worry is 101 characters; the limit is 100.")
    ]


# -- saving --------------------------------------------------------------------------------------


async def test_a_professional_saves_a_clean_consultation(uow: FakeUnitOfWork) -> None:
    result = await save_consultation(
        uow,
        draft(),
        who=Who("prof-1", PROFESSIONAL),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert result.outcome is SaveOutcome.SAVED
    saved = result.consultation
    assert saved is not None
    assert saved.reference == "PC-26-00001"
    assert uow.consultations.rows == {"PC-26-00001": saved}
    assert (saved.author_id, saved.on_behalf, saved.advice, saved.advised_by) == ("prof-1", False, "", None)
    assert (saved.professional_name, saved.agency) == ("Testy McTestface", "Example Primary School")
    assert saved.worry == CLEAN_WORRY
    assert saved.created_at == NOW and saved.created_at.tzinfo is UTC
    assert saved.override_reason == "" and saved.linked_contact_reference is None
    assert uow.audit.events == [AuditEvent(NOW, "prof-1", "consultation.create", "PC-26-00001", "")]
    assert uow.commits == 1


async def test_someone_not_in_the_directory_is_a_professional(uow: FakeUnitOfWork) -> None:
    result = await save_consultation(
        uow,
        draft(),
        who=Who("prof-9", NO_ROLES),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert result.outcome is SaveOutcome.SAVED


async def test_text_is_stored_trimmed(uow: FakeUnitOfWork) -> None:
    result = await save_consultation(
        uow,
        draft(worry=f"  {CLEAN_WORRY}\n", agency=" Example FC "),
        who=Who("prof-1", PROFESSIONAL),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert result.consultation is not None
    assert (result.consultation.worry, result.consultation.agency) == (CLEAN_WORRY, "Example FC")


async def test_references_are_gap_free_and_blocked_attempts_use_none(uow: FakeUnitOfWork) -> None:
    saved = []
    for worry in [CLEAN_WORRY, "She lives at B33 8TH.", CLEAN_WORRY, "", CLEAN_WORRY]:
        result = await save_consultation(
            uow,
            draft(worry=worry),
            who=Who("prof-1", PROFESSIONAL),
            rules=Rules(NOW, WorkingCalendar(), POLICY),
        )
        if result.consultation is not None:
            saved.append(result.consultation.reference)
    assert saved == ["PC-26-00001", "PC-26-00002", "PC-26-00003"]
    assert uow.references.calls == [("PC", 26)] * 3


async def test_a_professional_is_blocked_by_findings_and_cannot_override(uow: FakeUnitOfWork) -> None:
    worry = "Testy (DOB 3.3.15) lives at B33 8TH; mum is on 07700 900123."
    for reason in (None, "I really need to"):
        result = await save_consultation(
            uow,
            draft(worry=worry),
            override_reason=reason,
            who=Who("prof-1", PROFESSIONAL),
            rules=Rules(NOW, WorkingCalendar(), POLICY),
        )
        assert result.outcome is SaveOutcome.NEEDS_CHANGES
        assert result.can_override is False
        assert result.consultation is None
        (field,) = result.findings
        assert field.field is F.WORRY
        assert field.kinds == (FindingKind.DATE, FindingKind.POSTCODE, FindingKind.PHONE)
        assert field.preview == "Testy (DOB [date]) lives at [postcode]; mum is on [phone]."
        assert "give a reason" not in result.message
    assert uow.consultations.rows == {}
    assert uow.references.calls == [] and uow.audit.events == [] and uow.commits == 0


async def test_the_callers_own_number_does_not_block(uow: FakeUnitOfWork) -> None:
    worry = f"{CLEAN_WORRY} Ring me back at school on 0113 496 0000."
    result = await save_consultation(
        uow,
        draft(worry=worry, contact_phone="0113 496 0000"),
        who=Who("prof-1", PROFESSIONAL),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert result.outcome is SaveOutcome.SAVED
    assert result.consultation is not None and result.consultation.contact_phone == "0113 496 0000"
    other = await save_consultation(
        uow,
        draft(worry=f"{worry} Dad is on 07700 900123."),
        who=Who("prof-1", PROFESSIONAL),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert other.outcome is SaveOutcome.NEEDS_CHANGES


async def test_staff_are_offered_the_override_but_need_a_reason(uow: FakeUnitOfWork) -> None:
    for reason in (None, "", "   "):
        result = await save_consultation(
            uow,
            draft(worry="Lives at B33 8TH."),
            override_reason=reason,
            who=Who("officer-1", OFFICER),
            rules=Rules(NOW, WorkingCalendar(), POLICY),
        )
        assert result.outcome is SaveOutcome.NEEDS_CHANGES
        assert result.can_override is True
        assert "give a reason" in result.message
    assert uow.consultations.rows == {} and uow.commits == 0


async def test_a_staff_override_is_saved_and_audited_without_free_text(uow: FakeUnitOfWork) -> None:
    worry = "Lives at B33 8TH, mum on 07700 900123, a boy called Zebedee."
    advice = "Refer to the front door today."
    reason = "Caller insisted the address is the school's, not the family's"
    result = await save_consultation(
        uow,
        draft(worry=worry, advice=advice, on_behalf=True),
        override_reason=f"  {reason} ",
        who=Who("officer-1", OFFICER),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert result.outcome is SaveOutcome.SAVED
    saved = result.consultation
    assert saved is not None
    assert saved.override_reason == reason
    assert (saved.on_behalf, saved.advice, saved.advised_by) == (True, advice, "officer-1")
    assert uow.audit.events == [
        AuditEvent(NOW, "officer-1", "consultation.create", "PC-26-00001", "on_behalf"),
        AuditEvent(NOW, "officer-1", "consultation.override", "PC-26-00001", "name,phone,postcode"),
    ]
    logged = " ".join(f"{e.subject} {e.detail}" for e in uow.audit.events)
    for secret in ("B33", "8TH", "07700", "Zebedee", "insisted", "Refer", "Lives"):
        assert secret not in logged
    assert uow.commits == 1


async def test_an_override_reason_without_findings_is_not_recorded(uow: FakeUnitOfWork) -> None:
    result = await save_consultation(
        uow,
        draft(),
        override_reason="just in case",
        who=Who("officer-1", OFFICER),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert result.consultation is not None and result.consultation.override_reason == ""
    assert uow.actions == ["consultation.create"]


async def test_the_advice_is_guarded_too(uow: FakeUnitOfWork) -> None:
    result = await save_consultation(
        uow,
        draft(advice="Ask Mrs Testface to ring us."),
        who=Who("officer-1", OFFICER),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert result.outcome is SaveOutcome.NEEDS_CHANGES
    assert [f.field for f in result.findings] == [F.ADVICE]


async def test_an_over_long_override_reason_is_refused(uow: FakeUnitOfWork) -> None:
    result = await save_consultation(
        uow,
        draft(worry="at B33 8TH"),
        override_reason="r" * 501,
        who=Who("officer-1", OFFICER),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert result.outcome is SaveOutcome.INVALID
    assert result.errors == (
        FieldError(F.OVERRIDE_REASON, "The reason is 501 characters; the limit is 500."),
    )
    assert uow.consultations.rows == {}


async def test_invalid_drafts_are_not_saved_and_report_findings_too(uow: FakeUnitOfWork) -> None:
    result = await save_consultation(
        uow,
        draft(agency="", worry="near B33 8TH"),
        who=Who("prof-1", PROFESSIONAL),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert result.outcome is SaveOutcome.INVALID
    assert result.errors == (FieldError(F.AGENCY, "Give the professional's agency."),)
    assert [f.field for f in result.findings] == [F.WORRY]
    assert uow.references.calls == [] and uow.commits == 0


async def test_a_professional_cannot_log_on_behalf_or_give_advice(uow: FakeUnitOfWork) -> None:
    result = await save_consultation(
        uow,
        draft(on_behalf=True, advice="Do this."),
        who=Who("prof-1", PROFESSIONAL),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert result.outcome is SaveOutcome.INVALID
    assert [e.field for e in result.errors] == [F.ADVICE, F.ON_BEHALF]


async def test_an_admin_cannot_log_consultations(uow: FakeUnitOfWork) -> None:
    result = await save_consultation(
        uow,
        draft(),
        who=Who("admin-1", ADMIN),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert result.outcome is SaveOutcome.REFUSED
    assert uow.references.calls == [] and uow.commits == 0


async def test_now_must_be_timezone_aware(uow: FakeUnitOfWork) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await save_consultation(
            uow,
            draft(),
            who=Who("prof-1", PROFESSIONAL),
            rules=Rules(datetime(2026, 6, 8, 9, 30), WorkingCalendar(), POLICY),
        )


@pytest.mark.parametrize(
    ("now", "reference"),
    [
        # New Year's Eve: London is on GMT, so 23:30 UTC is 23:30 in London, still the old year.
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "PC-26-00001"),
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), "PC-27-00001"),
        # The same instants given in another zone land in the same London year.
        (datetime(2026, 12, 31, 18, 30, tzinfo=ZoneInfo("America/New_York")), "PC-26-00001"),
        (datetime(2026, 12, 31, 19, 30, tzinfo=ZoneInfo("America/New_York")), "PC-27-00001"),
        (datetime(2027, 1, 1, 8, 30, tzinfo=ZoneInfo("Asia/Tokyo")), "PC-26-00001"),
        # Summer time never touches New Year; at midsummer midnight the year is the same either way.
        (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), "PC-26-00001"),
    ],
)
async def test_the_reference_year_is_londons(uow: FakeUnitOfWork, now: datetime, reference: str) -> None:
    result = await save_consultation(
        uow,
        draft(),
        who=Who("prof-1", PROFESSIONAL),
        rules=Rules(now, WorkingCalendar(), POLICY),
    )
    assert result.consultation is not None
    assert result.consultation.reference == reference
    assert result.consultation.created_at == now and result.consultation.created_at.tzinfo is UTC


async def test_each_year_restarts_the_sequence(uow: FakeUnitOfWork) -> None:
    eve, day = datetime(2026, 12, 31, 23, 59, tzinfo=UTC), datetime(2027, 1, 1, 0, 1, tzinfo=UTC)
    refs = []
    for now in (eve, eve, day, day):
        result = await save_consultation(
            uow,
            draft(),
            who=Who("prof-1", PROFESSIONAL),
            rules=Rules(now, WorkingCalendar(), POLICY),
        )
        assert result.consultation is not None
        refs.append(result.consultation.reference)
    assert refs == ["PC-26-00001", "PC-26-00002", "PC-27-00001", "PC-27-00002"]


# -- finding -------------------------------------------------------------------------------------


async def saved_by(uow: FakeUnitOfWork, actor_id: str, roles: frozenset[Role] = PROFESSIONAL) -> Consultation:
    result = await save_consultation(
        uow,
        draft(),
        who=Who(actor_id, roles),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert result.consultation is not None
    return result.consultation


async def test_a_professional_finds_their_own(uow: FakeUnitOfWork) -> None:
    mine = await saved_by(uow, "prof-1")
    commits = uow.commits
    for typed in ("PC-26-00001", "pc 26 00001", "PC–26–00001"):
        result = await find_consultation(uow, typed, who=Who("prof-1", PROFESSIONAL))
        assert result.outcome is FindOutcome.FOUND
        assert result.consultation == mine
    assert uow.commits == commits  # finding writes nothing


async def test_someone_elses_and_a_missing_reference_look_the_same() -> None:
    with_one = FakeUnitOfWork()
    await saved_by(with_one, "prof-1")
    empty = FakeUnitOfWork()
    others = await find_consultation(with_one, "PC-26-00001", who=Who("prof-2", PROFESSIONAL))
    missing = await find_consultation(empty, "PC-26-00001", who=Who("prof-2", PROFESSIONAL))
    assert others == missing
    assert others.outcome is FindOutcome.NOT_FOUND
    assert others.consultation is None
    assert others.message == not_found_message("PC-26-00001") == "No consultation PC-26-00001 was found."


async def test_staff_find_any(uow: FakeUnitOfWork) -> None:
    theirs = await saved_by(uow, "prof-1")
    for roles in (OFFICER, SOCIAL_WORKER, TEAM_MANAGER):
        result = await find_consultation(uow, "PC-26-00001", who=Who("staff-1", roles))
        assert (result.outcome, result.consultation) == (FindOutcome.FOUND, theirs)


async def test_staff_get_not_found_for_a_missing_reference(uow: FakeUnitOfWork) -> None:
    result = await find_consultation(uow, "PC-26-00042", who=Who("officer-1", OFFICER))
    assert (result.outcome, result.message) == (FindOutcome.NOT_FOUND, not_found_message("PC-26-00042"))


async def test_everyone_else_is_refused_without_a_look(uow: FakeUnitOfWork) -> None:
    await saved_by(uow, "prof-1")
    existing = await find_consultation(uow, "PC-26-00001", who=Who("admin-1", ADMIN))
    missing = await find_consultation(uow, "PC-26-00099", who=Who("admin-1", ADMIN))
    assert existing.outcome is missing.outcome is FindOutcome.REFUSED
    assert existing == missing


@pytest.mark.parametrize("typed", ["CT-26-000001", "PC-26-1", "hello", ""])
async def test_text_that_is_not_a_consultation_reference(uow: FakeUnitOfWork, typed: str) -> None:
    result = await find_consultation(uow, typed, who=Who("prof-1", PROFESSIONAL))
    assert result.outcome is FindOutcome.INVALID_REFERENCE
    assert "PC-26-00012" in result.message


# -- linking -------------------------------------------------------------------------------------


async def test_an_officer_links_a_consultation_to_a_contact(uow: FakeUnitOfWork) -> None:
    await saved_by(uow, "prof-1")
    result = await link_consultation(
        uow, "PC-26-00001", "ct-26-000002", who=Who("officer-1", OFFICER), now=NOW
    )
    assert result.outcome is LinkOutcome.LINKED
    assert result.consultation is not None
    assert result.consultation.linked_contact_reference == "CT-26-000002"
    assert uow.consultations.rows["PC-26-00001"].linked_contact_reference == "CT-26-000002"
    assert uow.audit.events[-1] == AuditEvent(
        NOW, "officer-1", "consultation.link", "PC-26-00001", "CT-26-000002"
    )
    assert uow.commits == 2


async def test_linking_twice_to_the_same_contact_changes_nothing(uow: FakeUnitOfWork) -> None:
    await saved_by(uow, "prof-1")
    await link_consultation(uow, "PC-26-00001", "CT-26-000002", who=Who("officer-1", OFFICER), now=NOW)
    events, commits = len(uow.audit.events), uow.commits
    again = await link_consultation(
        uow, "PC-26-00001", "CT-26-000002", who=Who("officer-1", OFFICER), now=NOW
    )
    assert again.outcome is LinkOutcome.ALREADY_LINKED
    assert (len(uow.audit.events), uow.commits) == (events, commits)


async def test_a_link_is_not_silently_moved(uow: FakeUnitOfWork) -> None:
    await saved_by(uow, "prof-1")
    await link_consultation(uow, "PC-26-00001", "CT-26-000002", who=Who("officer-1", OFFICER), now=NOW)
    moved = await link_consultation(
        uow, "PC-26-00001", "CT-26-000001", who=Who("officer-1", OFFICER), now=NOW
    )
    assert moved.outcome is LinkOutcome.LINKED_ELSEWHERE
    assert "CT-26-000002" in moved.message
    assert uow.consultations.rows["PC-26-00001"].linked_contact_reference == "CT-26-000002"


@pytest.mark.parametrize(
    ("consultation", "contact", "roles", "outcome"),
    [
        ("PC-26-00001", "CT-26-000999", OFFICER, LinkOutcome.CONTACT_NOT_FOUND),
        ("PC-26-00077", "CT-26-000001", OFFICER, LinkOutcome.NOT_FOUND),
        ("CT-26-000001", "CT-26-000001", OFFICER, LinkOutcome.INVALID_REFERENCE),
        ("PC-26-00001", "PC-26-00001", OFFICER, LinkOutcome.INVALID_REFERENCE),
        ("PC-26-00001", "not a ref", OFFICER, LinkOutcome.INVALID_REFERENCE),
        ("PC-26-00001", "CT-26-000001", PROFESSIONAL, LinkOutcome.REFUSED),
        ("PC-26-00001", "CT-26-000001", ADMIN, LinkOutcome.REFUSED),
    ],
)
async def test_links_that_do_not_happen(
    uow: FakeUnitOfWork, consultation: str, contact: str, roles: frozenset[Role], outcome: LinkOutcome
) -> None:
    await saved_by(uow, "prof-1")
    result = await link_consultation(uow, consultation, contact, who=Who("someone-1", roles), now=NOW)
    assert result.outcome is outcome
    assert uow.consultations.rows["PC-26-00001"].linked_contact_reference is None
    assert uow.actions == ["consultation.create"] and uow.commits == 1


async def test_linking_inside_a_larger_use_case_leaves_the_commit_to_it(uow: FakeUnitOfWork) -> None:
    await saved_by(uow, "prof-1")
    result = await link_consultation(
        uow,
        "PC-26-00001",
        "CT-26-000001",
        commit=False,
        who=Who("officer-1", OFFICER),
        now=NOW,
    )
    assert result.outcome is LinkOutcome.LINKED
    assert uow.commits == 1  # only the save's


# -- retention -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "cutoff"),
    [
        # Calendar months on the London wall clock; 31 August has no 31 February.
        (datetime(2026, 8, 31, 14, 0, tzinfo=LONDON), datetime(2026, 2, 28, 14, 0, tzinfo=LONDON)),
        (datetime(2028, 8, 31, 14, 0, tzinfo=LONDON), datetime(2028, 2, 29, 14, 0, tzinfo=LONDON)),
        # Across a clock change the local time is kept, so the UTC hour moves.
        (datetime(2026, 10, 15, 12, 0, tzinfo=UTC), datetime(2026, 4, 15, 12, 0, tzinfo=UTC)),
        (datetime(2026, 12, 15, 12, 0, tzinfo=UTC), datetime(2026, 6, 15, 11, 0, tzinfo=UTC)),
        (datetime(2026, 1, 15, 9, 0, tzinfo=UTC), datetime(2025, 7, 15, 8, 0, tzinfo=UTC)),
        (datetime(2026, 3, 31, 10, 0, tzinfo=UTC), datetime(2025, 9, 30, 10, 0, tzinfo=UTC)),
    ],
)
def test_due_for_deletion(now: datetime, cutoff: datetime) -> None:
    result = due_for_deletion(now, POLICY)
    assert result == cutoff
    assert result.tzinfo is UTC


def test_the_retention_period_comes_from_policy() -> None:
    policy: Policy = parse_policy("[retention]\nconsultations_months = 12\n")
    assert due_for_deletion(datetime(2026, 6, 8, 9, 0, tzinfo=UTC), policy) == datetime(
        2025, 6, 8, 9, 0, tzinfo=UTC
    )


async def test_purge_deletes_what_is_past_retention_and_audits_each(uow: FakeUnitOfWork) -> None:
    cutoff = due_for_deletion(NOW, POLICY)
    for at in (cutoff - timedelta(days=30), cutoff - timedelta(seconds=1), cutoff, NOW):
        result = await save_consultation(
            uow,
            draft(),
            who=Who("prof-1", PROFESSIONAL),
            rules=Rules(at, WorkingCalendar(), POLICY),
        )
        assert result.consultation is not None
    deleted = await purge_expired_consultations(uow, rules=Rules(NOW, WorkingCalendar(), POLICY))
    assert deleted == ("PC-25-00001", "PC-25-00002")  # the cutoff, 8 December 2025, is last year
    assert sorted(uow.consultations.rows) == ["PC-25-00003", "PC-26-00001"]
    assert [e for e in uow.audit.events if e.action == "consultation.delete"] == [
        AuditEvent(NOW, RETENTION_ACTOR, "consultation.delete", ref, "retention") for ref in deleted
    ]


# -- export --------------------------------------------------------------------------------------


async def test_managers_export_csv_without_free_text_by_default(uow: FakeUnitOfWork) -> None:
    await saved_by(uow, "prof-1")
    await save_consultation(
        uow,
        draft(worry="A worry", advice="Ring back.", on_behalf=True, agency="=cmd|' /C calc'!A0"),
        who=Who("officer-1", OFFICER),
        rules=Rules(NOW + timedelta(hours=1), WorkingCalendar(), POLICY),
    )
    start, end = NOW - timedelta(days=1), NOW + timedelta(days=1)
    assert Role.TEAM_MANAGER in MANAGER_ROLES
    result = await export_consultations(
        uow,
        start,
        end,
        names={"officer-1": "Ollie Officer"},
        who=Who("tm-1", TEAM_MANAGER),
        now=NOW,
    )
    assert (result.outcome, result.count) == (ExportOutcome.EXPORTED, 2)
    rows = list(csv.reader(io.StringIO(result.csv_text)))
    assert rows == [
        [
            "reference",
            "created (Europe/London)",
            "agency",
            "role",
            "logged on behalf",
            "logged by",
            "advised by",
            "linked contact",
            "saved despite warnings",
        ],
        [
            "PC-26-00001",
            "2026-06-08 10:30",
            "Example Primary School",
            "Designated safeguarding lead",
            "no",
            "prof-1",
            "",
            "",
            "no",
        ],
        [
            "PC-26-00002",
            "2026-06-08 11:30",
            "'=cmd|' /C calc'!A0",  # a formula is defused
            "Designated safeguarding lead",
            "yes",
            "Ollie Officer",
            "Ollie Officer",
            "",
            "no",
        ],
    ]
    assert "Testy" not in result.csv_text and "Ring back" not in result.csv_text
    assert uow.audit.events[-1].action == "consultation.export"  # no record viewed without the text
    assert uow.audit.events[-1].detail.endswith("2026-06-09T09:30:00+00:00")


async def test_the_text_columns_only_when_asked(uow: FakeUnitOfWork) -> None:
    await save_consultation(
        uow,
        draft(worry='=HYPERLINK("http://example.invalid") worry', contact_phone="0113 496 0000"),
        who=Who("prof-1", PROFESSIONAL),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    start, end = NOW - timedelta(days=1), NOW + timedelta(days=1)
    result = await export_consultations(
        uow, start, end, with_text=True, who=Who("tm-1", TEAM_MANAGER), now=NOW
    )
    header, row = list(csv.reader(io.StringIO(result.csv_text)))
    assert header[9:] == ["professional name", "phone", "worry", "advice", "override reason"]
    assert row[9:] == [
        "Testy McTestface",
        "0113 496 0000",
        '\'=HYPERLINK("http://example.invalid") worry',
        "",
        "",
    ]
    export, viewed = uow.audit.events[-2:]
    assert (export.action, export.subject) == ("consultation.export", "consultations")
    assert export.detail.endswith(" with text")
    # the full record of each, by reference, as ``find PC-…`` audits it
    assert viewed == AuditEvent(NOW, "tm-1", "consultation.viewed", "PC-26-00001", "via=export")


@pytest.mark.parametrize("roles", [OFFICER, SOCIAL_WORKER, PROFESSIONAL, ADMIN])
async def test_others_may_not_export(uow: FakeUnitOfWork, roles: frozenset[Role]) -> None:
    await saved_by(uow, "prof-1")
    result = await export_consultations(uow, NOW - timedelta(days=1), NOW, who=Who("x-1", roles), now=NOW)
    assert (result.outcome, result.csv_text) == (ExportOutcome.REFUSED, "")
    assert uow.actions == ["consultation.create"]


def test_csv_of_nothing_is_the_header() -> None:
    assert consultations_csv([]).splitlines() == [
        "reference,created (Europe/London),agency,role,logged on behalf,logged by,advised by,"
        "linked contact,saved despite warnings"
    ]


# -- saving from a card twice --------------------------------------------------------------------

FORM = "0123456789abcdef0123456789abcdef"


async def test_a_second_save_from_the_same_card_returns_the_first(uow: FakeUnitOfWork) -> None:
    first = await save_consultation(
        uow,
        draft(),
        form_id=FORM,
        who=Who("prof-1", PROFESSIONAL),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    again = await save_consultation(
        uow,
        draft(worry="Something else"),
        form_id=FORM,
        who=Who("prof-1", PROFESSIONAL),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert first.consultation is not None and first.consultation.form_id == FORM
    assert (again.outcome, again.repeated, again.consultation) == (
        SaveOutcome.SAVED,
        True,
        first.consultation,
    )
    assert sorted(uow.consultations.rows) == ["PC-26-00001"]
    assert uow.actions == ["consultation.create"] and uow.commits == 1


async def test_the_same_card_id_from_someone_else_is_a_new_consultation(uow: FakeUnitOfWork) -> None:
    await save_consultation(
        uow,
        draft(),
        form_id=FORM,
        who=Who("prof-1", PROFESSIONAL),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    other = await save_consultation(
        uow,
        draft(),
        form_id=FORM,
        who=Who("prof-2", PROFESSIONAL),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert other.consultation is not None and not other.repeated
    assert other.consultation.reference == "PC-26-00002"


async def test_a_save_that_loses_the_race_writes_nothing(uow: FakeUnitOfWork) -> None:
    """The other delivery of the press saved between this one's first look and its allocation."""
    earlier = await saved_by(uow, "prof-1")
    sneaky = replace(earlier, form_id=FORM)

    class Racing(FakeConsultations):
        looks = 0

        async def from_form(self, author_id: str, form_id: str) -> Consultation | None:
            self.looks += 1
            return None if self.looks == 1 else sneaky

    racing = Racing()
    uow.consultations = racing
    commits = uow.commits
    result = await save_consultation(
        uow,
        draft(),
        form_id=FORM,
        who=Who("prof-1", PROFESSIONAL),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert (result.repeated, result.consultation) == (True, sneaky)
    assert racing.rows == {} and uow.commits == commits  # not committed: the number rolls back


@pytest.mark.parametrize("form_id", ["", "not-hex", FORM.upper(), FORM + "0", "../" * 12])
async def test_a_malformed_card_id_is_ignored(uow: FakeUnitOfWork, form_id: str) -> None:
    result = await save_consultation(
        uow,
        draft(),
        form_id=form_id,
        who=Who("prof-1", PROFESSIONAL),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert result.consultation is not None and result.consultation.form_id is None


# -- what the card starts with --------------------------------------------------------------------


async def test_a_professionals_card_starts_with_their_name_and_last_agency(uow: FakeUnitOfWork) -> None:
    first = await starting_draft(uow, " Testy McTestface ", who=Who("prof-1", PROFESSIONAL))
    assert first == ConsultationDraft(professional_name="Testy McTestface", agency="")
    await save_consultation(
        uow,
        draft(agency="Example Academy", contact_phone="0113 496 0000"),
        who=Who("prof-1", NO_ROLES),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    await save_consultation(
        uow,
        draft(agency="Older School"),
        who=Who("prof-1", NO_ROLES),
        rules=Rules(NOW - timedelta(days=3), WorkingCalendar(), POLICY),
    )
    later = await starting_draft(uow, "", who=Who("prof-1", NO_ROLES))
    assert later == ConsultationDraft(
        professional_name="Testy McTestface",
        agency="Example Academy",
        professional_role="Designated safeguarding lead",
        contact_phone="0113 496 0000",
    )
    assert (await starting_draft(uow, "Someone Else", who=Who("prof-2", PROFESSIONAL))).agency == ""


async def test_a_staff_card_starts_empty_on_behalf_of_a_caller(uow: FakeUnitOfWork) -> None:
    await save_consultation(
        uow,
        draft(on_behalf=True),
        who=Who("officer-1", OFFICER),
        rules=Rules(NOW, WorkingCalendar(), POLICY),
    )
    assert await starting_draft(uow, "Ollie Officer", who=Who("officer-1", OFFICER)) == ConsultationDraft(
        professional_name="", agency="", on_behalf=True
    )


# -- the contact's side of a link ------------------------------------------------------------------


async def test_a_contact_lists_the_consultations_it_follows(uow: FakeUnitOfWork) -> None:
    for _ in range(3):
        await saved_by(uow, "prof-1")
    for reference in ("PC-26-00003", "PC-26-00001"):
        await link_consultation(uow, reference, "CT-26-000001", who=Who("officer-1", OFFICER), now=NOW)
    followed = await consultations_followed_by(uow.consultations, "CT-26-000001")
    assert followed == ("PC-26-00001", "PC-26-00003")
    assert await consultations_followed_by(uow.consultations, "CT-26-000002") == ()


@pytest.mark.parametrize(
    ("references", "text"),
    [
        ((), ""),
        (("PC-26-00001",), "follows consultation PC-26-00001"),
        (("PC-26-00001", "PC-26-00007"), "follows consultations PC-26-00001, PC-26-00007"),
    ],
)
def test_follows_text(references: tuple[str, ...], text: str) -> None:
    assert follows_text(references) == text
