"""CAFCASS and Ofsted requests on the fake, SQLite and PostgreSQL: the due time is the end of the
due day's office hours, a response is recorded once, and answered requests are deleted after
``retention.information_requests_months``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.agencies import BodyRequest, RequestingBody
from frontdoor.body_requests import BodyRequestForm, log_request, purge_expired_requests, respond
from frontdoor.policy import parse_policy
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal
from tests.frontdoor.decision_builders import CALENDAR, NOW, OFFICER, POLICY

ROLES = frozenset({Role.OFFICER})


async def _logged(store: Store, due_on: date = date(2026, 3, 21)) -> BodyRequest:
    form = BodyRequestForm(RequestingBody.OFSTED_CHILDMINDER, "OF-1", "Una Example", None, "", due_on)
    request = await log_request(
        store.unit_of_work(), form, calendar=CALENDAR, who=Who(OFFICER, ROLES), now=NOW
    )
    assert isinstance(request, BodyRequest), request
    return request


async def test_a_request_due_on_a_saturday_is_due_at_mondays_close(store: Store) -> None:
    request = await _logged(store)
    assert request.due_at == datetime(2026, 3, 23, 17, 0, tzinfo=UTC)
    async with store.unit_of_work() as uow:
        assert await uow.body_requests.get(request.reference) == request


@pytest.mark.parametrize(("months", "kept"), [(12, True), (1, False)])
async def test_answered_requests_are_deleted_after_the_policys_months(
    store: Store, months: int, kept: bool
) -> None:
    answered = await _logged(store)
    result = await respond(
        store.unit_of_work(),
        answered.reference,
        "Nothing held",
        who=Who(OFFICER, ROLES),
        rules=Rules(NOW + timedelta(hours=1), CALENDAR, POLICY),
    )
    assert not isinstance(result, Refusal)
    waiting = await _logged(store)
    later = datetime(2026, 6, 16, 10, 0, tzinfo=UTC)
    policy = parse_policy(f"[retention]\ninformation_requests_months = {months}\n")
    deleted = await purge_expired_requests(store.unit_of_work(), rules=Rules(later, CALENDAR, policy))
    assert deleted == (() if kept else (answered.reference,))
    async with store.unit_of_work() as uow:
        assert await uow.body_requests.get(waiting.reference) is not None
