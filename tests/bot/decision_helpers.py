"""Helpers for the tests of the decision and re-referral cards in Teams: deciding through the card,
finding what was posted to the channels, and checking a card was minimised."""

from __future__ import annotations

from typing import Any

from bot.cards.decisions import DECIDE_VERB, REFRESH_VERB, REREFERRAL_VERB
from tests.bot.intake_script import (
    CONSULTANT,
    NEVER_IN_A_CHANNEL,
    actions,
    decisions_channel,
    duty_channel,
    texts_of,
)
from tests.harness.teams import TeamsChannel, TurnResponse

RATIONALE = "Needs met by universal services after checks with school"


def _posted(teams_channel: TeamsChannel) -> tuple[str, dict[str, Any]]:
    """The decision card's message id and card as posted."""
    posts = [post for post in teams_channel.sent_to(decisions_channel(teams_channel)) if post.card]
    post = posts[-1]
    assert post.card is not None
    return post.activity_id, post.card


def _executes(card: dict[str, Any], verb: str) -> list[dict[str, Any]]:
    return [node for node in actions(card) if node.get("verb") == verb]


def _route_data(card: dict[str, Any], route: str) -> dict[str, Any]:
    [button] = [node for node in _executes(card, DECIDE_VERB) if node["data"].get("route") == route]
    data: dict[str, Any] = button["data"]
    return data


async def _view(
    teams_channel: TeamsChannel, user: Any, card: dict[str, Any], activity_id: str
) -> dict[str, Any]:
    """What Teams gets for ``user`` when the card's refresh asks for their view."""
    refresh = card["refresh"]["action"]
    response = await teams_channel.execute(
        decisions_channel(teams_channel), user, REFRESH_VERB, refresh["data"], card_activity_id=activity_id
    )
    assert response.card is not None, response.text
    return response.card


async def _decide(
    teams_channel: TeamsChannel,
    user: Any,
    data: dict[str, Any],
    activity_id: str,
    **inputs: object,
) -> TurnResponse:
    if data.get("route") == "ii":  # route II records consent for a service with its outcome
        inputs.setdefault("service_consent", "given")
    return await teams_channel.execute(
        decisions_channel(teams_channel), user, DECIDE_VERB, {**data, **inputs}, card_activity_id=activity_id
    )


def _assert_minimised(*cards: dict[str, Any] | None) -> None:
    for card in cards:
        assert card is not None
        text = texts_of(card)
        for secret in (*NEVER_IN_A_CHANNEL, RATIONALE):
            assert secret not in text, secret


def _duty_post(teams_channel: TeamsChannel) -> tuple[str, dict[str, Any]]:
    posts = [post for post in teams_channel.sent_to(duty_channel(teams_channel)) if post.card]
    assert posts and posts[-1].card is not None
    return posts[-1].activity_id, posts[-1].card


async def _duty_view(
    teams_channel: TeamsChannel, user: Any, card: dict[str, Any], activity_id: str
) -> dict[str, Any]:
    response = await teams_channel.execute(
        duty_channel(teams_channel),
        user,
        REFRESH_VERB,
        card["refresh"]["action"]["data"],
        card_activity_id=activity_id,
    )
    assert response.card is not None, response.text
    return response.card


def _choice_data(card: dict[str, Any], choice: str) -> dict[str, Any]:
    [button] = [node for node in _executes(card, REREFERRAL_VERB) if node["data"].get("choice") == choice]
    data: dict[str, Any] = button["data"]
    return data


async def _route_ii(teams_channel: TeamsChannel, user: Any = CONSULTANT) -> tuple[str, TurnResponse]:
    activity_id, card = _posted(teams_channel)
    view = await _view(teams_channel, user, card, activity_id)
    response = await _decide(
        teams_channel,
        user,
        _route_data(view, "ii"),
        activity_id,
        rationale=RATIONALE,
        outcome="advice_and_guidance",
        service_consent="given",
    )
    return activity_id, response
