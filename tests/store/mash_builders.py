"""Building MASH episodes for the store tests: partners tied to their agencies, and an episode
opened on a submitted contact through the use case."""

from __future__ import annotations

from frontdoor.acting import Rules, Who
from frontdoor.agencies import Agency, MashEpisode, MashReason, Urgency
from frontdoor.mash import EpisodeForm, open_episode, set_partner_agency
from frontdoor.policy import Policy
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal
from tests.frontdoor.decision_builders import CALENDAR, CONSULTANT, NOW, POLICY, seat, submitted

POLICE = "aad-partner-police"
HEALTH = "aad-partner-health"
CONSULTANT_ROLES = frozenset({Role.CONSULTANT})
PARTNER_ROLES = frozenset({Role.PARTNER})


def _form(reference: str, urgency: Urgency = Urgency.STANDARD) -> EpisodeForm:
    return EpisodeForm(
        reference, urgency, (MashReason.RISK_OF_HARM,), (Agency.POLICE, Agency.HEALTH), "Anything known?"
    )


async def _partners(store: Store) -> None:
    async with store.unit_of_work() as uow:
        for person, agency in ((POLICE, Agency.POLICE), (HEALTH, Agency.HEALTH)):
            await uow.roles.grant(person, Role.PARTNER)
            await set_partner_agency(uow, person, agency, actor_id="admin", now=NOW)
        await uow.commit()


async def opened(store: Store, urgency: Urgency = Urgency.STANDARD, policy: Policy = POLICY) -> MashEpisode:
    await seat(store)
    await _partners(store)
    contact = await submitted(store)
    episode = await open_episode(
        store.unit_of_work(),
        _form(contact.reference or "", urgency),
        who=Who(CONSULTANT, CONSULTANT_ROLES),
        rules=Rules(NOW, CALENDAR, policy),
    )
    assert not isinstance(episode, Refusal), episode
    return episode
