"""Who hears of an accepted contact at its sign-off (SPEC §3, §8): the receiving team manager named
on the outcome while they may still see contacts; nobody who has lost the role; and, for an outcome
from before the manager had to be named, every team manager."""

from __future__ import annotations

from dataclasses import replace

from frontdoor.casework import OutcomeRecorded
from frontdoor.casework.receiving import receivers
from frontdoor.contact import Contact, ContactEvent
from frontdoor.outcomes import Outcome, event_data, read_event_data
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from tests.frontdoor.casework_builders import ACCEPTED, ok, outcome_of
from tests.frontdoor.decision_builders import ROUTE_I, STAFF, TEAM_MANAGER, screened, seat, submitted


async def _accepted(store: Store, outcome: Outcome = ACCEPTED) -> Contact:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_I)
    return ok(await outcome_of(store, contact, outcome), OutcomeRecorded).contact


async def _receivers_of(store: Store, contact: Contact) -> tuple[tuple[str, ...], str, str]:
    async with store.unit_of_work() as uow:
        found = await receivers(uow, contact)
    return found.told, found.reason, found.not_told()


async def test_the_named_manager_is_told_while_they_may_see_contacts(store: Store) -> None:
    contact = await _accepted(store)
    assert await _receivers_of(store, contact) == ((TEAM_MANAGER,), "", "")


async def test_a_named_manager_who_lost_the_role_is_told_nothing_and_the_signer_is_told_why(
    store: Store,
) -> None:
    contact = await _accepted(store)
    async with store.unit_of_work() as uow:
        await uow.roles.revoke(TEAM_MANAGER, Role.TEAM_MANAGER)
        await uow.commit()
    told, reason, not_told = await _receivers_of(store, contact)
    assert (told, reason) == ((), "not_permitted")
    # (with no role left they are out of the directory's entries, so the card cannot name them)
    assert not_told.startswith(
        f"The receiving team manager named on the outcome was not told of {contact.reference}: they are "
        "no longer a team manager"
    )


async def test_an_outcome_from_before_the_manager_was_required_goes_to_every_team_manager(
    store: Store,
) -> None:
    contact = await _accepted(store)
    # an outcome recorded by an earlier version, with no manager named
    unnamed = replace(contact, events=tuple(_unnamed(event) for event in contact.events))
    told, reason, _ = await _receivers_of(store, unnamed)
    assert (told, reason) == (tuple(sorted(p for p, (r, _) in STAFF.items() if r is Role.TEAM_MANAGER)), "")
    async with store.unit_of_work() as uow:
        for person in told:
            await uow.roles.revoke(person, Role.TEAM_MANAGER)
        await uow.commit()
    assert (await _receivers_of(store, unnamed))[:2] == ((), "none_named")


def _unnamed(event: ContactEvent) -> ContactEvent:
    data = {key: value for key, value in read_event_data(event).items() if key != "receiving_manager"}
    return replace(event, data=event_data(data))
