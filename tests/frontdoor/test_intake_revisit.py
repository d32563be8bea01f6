"""``revisit_section``: back from the summary to the card that fixes a problem found at submission."""

from __future__ import annotations

from datetime import UTC, datetime

from frontdoor.acting import Rules, Who
from frontdoor.calendar import WorkingCalendar
from frontdoor.contact import Contact, ImmediateRisk
from frontdoor.intake import (
    Refusal,
    RefusalReason,
    SectionSaved,
    revisit_section,
    save_section,
    start_contact,
)
from frontdoor.policy import default_policy
from frontdoor.roles import Role
from frontdoor.script import Section
from tests.fakes import InMemoryStore

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
OFFICER = "aad-officer-1"


async def _at_referrer(store: InMemoryStore) -> Contact:
    contact = await start_contact(store.unit_of_work(), who=Who(OFFICER, frozenset({Role.OFFICER})), now=NOW)
    assert isinstance(contact, Contact)
    answers: dict[Section, dict[str, object]] = {
        Section.SOURCE: {"source": "phone", "contact_type": "referral"},
        Section.RISK: {f"risk_{risk.value}": "no" for risk in ImmediateRisk},
    }
    for section, values in answers.items():
        saved = await save_section(
            store.unit_of_work(),
            contact.id,
            section,
            values,
            OFFICER,
            contact.version,
            rules=Rules(NOW, WorkingCalendar(), default_policy()),
        )
        assert isinstance(saved, SectionSaved)
        contact = saved.contact
    assert saved.section is Section.REFERRER
    return contact


async def test_the_draft_moves_back_to_the_earlier_card_with_its_answers() -> None:
    store = InMemoryStore()
    contact = await _at_referrer(store)
    moved = await revisit_section(
        store.unit_of_work(), contact.id, Section.REFERRER, Section.SOURCE, OFFICER, contact.version, NOW
    )
    assert isinstance(moved, SectionSaved)
    assert moved.section is Section.SOURCE and moved.contact.draft_section == "source"
    assert moved.contact.version == contact.version + 1
    assert moved.contact.source == contact.source


async def test_a_later_or_same_card_leaves_the_draft_where_it_is() -> None:
    store = InMemoryStore()
    contact = await _at_referrer(store)
    for target in (Section.REFERRER, Section.SUMMARY):
        stayed = await revisit_section(
            store.unit_of_work(), contact.id, Section.REFERRER, target, OFFICER, contact.version, NOW
        )
        assert isinstance(stayed, SectionSaved) and stayed.contact == contact


async def test_someone_else_or_an_old_card_is_refused() -> None:
    store = InMemoryStore()
    contact = await _at_referrer(store)
    other = await revisit_section(
        store.unit_of_work(), contact.id, Section.REFERRER, Section.SOURCE, "aad-other", contact.version, NOW
    )
    assert isinstance(other, Refusal) and other.reason is RefusalReason.NOT_YOURS
    old = await revisit_section(
        store.unit_of_work(), contact.id, Section.REFERRER, Section.SOURCE, OFFICER, contact.version - 1, NOW
    )
    assert isinstance(old, Refusal) and old.reason is RefusalReason.STALE
