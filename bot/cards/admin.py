"""The role directory card an administrator gets for ``roles``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from microsoft_teams.cards import AdaptiveCard, Fact, FactSet, TextBlock

from bot.cards.common import to_dict
from frontdoor.records import DirectoryEntry
from frontdoor.roles import ROLE_TITLES, Role

#: Role keys in the order of SPEC §1, as administrators type them.
_ORDER = {role: index for index, role in enumerate(Role)}


def _roles(roles: frozenset[Role]) -> str:
    return ", ".join(role.value for role in sorted(roles, key=_ORDER.__getitem__))


def directory_card(entries: Sequence[DirectoryEntry]) -> dict[str, Any]:
    body: list[Any] = [TextBlock(text="Role directory", size="Large", weight="Bolder", wrap=True)]
    if not entries:
        body.append(
            TextBlock(
                text="Nobody is in the directory yet: everyone is treated as a "
                f"{ROLE_TITLES[Role.PROFESSIONAL].removesuffix('s')}.",
                wrap=True,
            )
        )
    else:
        body.append(
            TextBlock(
                text=f"{len(entries)} {'person' if len(entries) == 1 else 'people'}. Anyone not listed is a "
                f"{ROLE_TITLES[Role.PROFESSIONAL].removesuffix('s')}.",
                is_subtle=True,
                wrap=True,
            )
        )
        body.append(
            FactSet(
                facts=[
                    Fact(title=entry.display_name or entry.aad_object_id, value=_roles(entry.roles))
                    for entry in entries
                ]
            )
        )
    body.append(
        TextBlock(
            text="Change a role with **grant @person role** or **revoke @person role**.",
            is_subtle=True,
            wrap=True,
        )
    )
    return to_dict(AdaptiveCard(body=body, fallback_text="The role directory."))
