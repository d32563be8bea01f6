"""The ``my work`` and ``queue`` cards as pure functions: valid under Microsoft's Adaptive Cards SDK,
a View button per line, what each line says, "and N more" past the cut, and a size that stays under
the 28 KB Microsoft gives for a Teams post even when every line is as long as it can be."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.cards.decision import VIEW_VERB
from bot.cards.keys import REFERENCE_KEY
from bot.cards.worklists import MAX_CHILDREN_SHOWN, MAX_REPEATS_SHOWN, my_work_card, queue_card
from frontdoor.contact import ContactState, ContactType, ImmediateRisk, PresentingNeed, Source
from frontdoor.rag import Rag
from frontdoor.records import ClockKind
from frontdoor.views import ChannelSummary, ChildSummary
from frontdoor.worklists import WORKLIST_LIMIT, UrgentDraft, WorkItem, WorkList
from tests.bot.intake_script import actions, text_styles, texts_of
from tests.harness.cards import CardValidator

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
#: Microsoft's size limit for a post in Teams from a webhook or workflow; the bot's own is larger.
TEAMS_POST_LIMIT = 28 * 1024


def _summary(n: int, **changes: Any) -> ChannelSummary:
    values: dict[str, Any] = {
        "contact_id": f"c-{n}",
        "reference": f"CT-26-{n:06d}",
        "state": ContactState.SW_ASSESSMENT,
        "urgent": False,
        "children": (ChildSummary("Z.E.", age_years=6),),
        "presenting_needs": (PresentingNeed.NEGLECT,),
        "immediate_risks": (),
        "source": Source.PHONE,
        "contact_type": ContactType.REFERRAL,
        "referrer": "Member of the public (anonymous)",
        "received_at": NOW - timedelta(hours=n),
        "due_clock": ClockKind.COMPLETION_48H,
        "due_at": NOW + timedelta(hours=48 - n),
        "rag": Rag.GREEN,
    }
    return ChannelSummary(**(values | changes))


def _view_buttons(card: dict[str, Any]) -> list[str]:
    return [a["data"][REFERENCE_KEY] for a in actions(card) if a.get("verb") == VIEW_VERB]


def test_my_work_lists_each_contact_with_its_due_time_rag_and_a_view_button(
    card_validator: CardValidator,
) -> None:
    urgent = _summary(
        1,
        urgent=True,
        immediate_risks=(ImmediateRisk.INJURY,),
        rag=Rag.RED,
        due_at=NOW - timedelta(minutes=20),
        due_clock=ClockKind.CP_DECISION,
        state=ContactState.CP_DECISION,
    )
    routine = _summary(2, rag=Rag.AMBER, children=(ChildSummary("Y.E.", age_years=0, age_months=4),))
    no_clock = _summary(3, due_at=None, due_clock=None, rag=None, contact_type=None, children=())
    card = my_work_card(WorkList((WorkItem(urgent), WorkItem(routine), WorkItem(no_clock)), 3), NOW)
    card_validator.assert_valid(card, "my work")
    text = texts_of(card)
    assert _view_buttons(card) == ["CT-26-000001", "CT-26-000002", "CT-26-000003"]
    assert "3 open contacts are assigned to you" in text
    for expected in (
        "URGENT: immediate risk",
        "RAG: Red",
        "RAG: Amber",
        "Child-protection decision due",
        "Mon 16 Mar 2026 09:40 (overdue by 20 min)",
        "With a social worker",
        "Completion (48 hours) due",
        "Y.E. (4 months)",
        "Referral",
        "no clock running",
        "none recorded",
    ):
        assert expected in text, expected
    assert "not shown:" not in text
    # A rating is its word on Teams' colour for it, the text in the default colour (amber text on
    # white cannot be read); a contact with no clock running has none.
    styles = text_styles(card)
    assert styles["RAG: Red"] == ("attention", "") and styles["RAG: Amber"] == ("warning", "")
    assert "RAG: Green" not in styles
    # The referrer is not on a line at all, not even as a type.
    assert "Member of the public" not in text


def test_the_queue_shows_received_screening_due_and_the_repeat_flag(card_validator: CardValidator) -> None:
    urgent = WorkItem(
        _summary(
            1,
            urgent=True,
            state=ContactState.AWAITING_SCREENING,
            due_clock=ClockKind.CP_DECISION,
            due_at=NOW + timedelta(hours=1),
            rag=Rag.AMBER,
        ),
        screening_due_at=NOW + timedelta(days=1),
    )
    repeat_of = tuple(f"CT-25-{n:06d}" for n in range(1, MAX_REPEATS_SHOWN + 3))
    repeat = WorkItem(
        _summary(2, state=ContactState.AWAITING_SCREENING, due_clock=ClockKind.SCREENING, repeat=True),
        screening_due_at=NOW + timedelta(hours=46),
        repeat_of=repeat_of,
    )
    card = queue_card(WorkList((urgent, repeat), 2), NOW)
    card_validator.assert_valid(card, "queue")
    text = texts_of(card)
    assert _view_buttons(card) == ["CT-26-000001", "CT-26-000002"]
    assert "2 contacts are awaiting screening" in text
    assert "Received" in text and "Mon 16 Mar 2026 09:00" in text
    assert "Screening due" in text and "Tue 17 Mar 2026 10:00 (due in 1 day)" in text
    assert "Child-protection decision due" in text  # the urgent line's 2-hour clock
    assert text.count("Child-protection decision due") == 1
    newest_first = ", ".join(reversed(repeat_of))
    assert newest_first not in text
    assert "Yes, earlier CT-25-000005, CT-25-000004, CT-25-000003, and 2 more" in text
    # The queue shows no children: a line says which contact, not whom about.
    assert "Z.E." not in text


def test_a_cut_list_says_how_many_more(card_validator: CardValidator) -> None:
    items = tuple(WorkItem(_summary(n)) for n in range(1, 4))
    card = my_work_card(WorkList(items, 10), NOW)
    card_validator.assert_valid(card)
    assert "And 7 more contacts not shown: the most pressing come first." in texts_of(card)
    one_more = queue_card(WorkList(items, 4), NOW)
    assert "And 1 more contact not shown" in texts_of(one_more)
    assert "1 open contact is assigned" in texts_of(my_work_card(WorkList(items[:1], 1), NOW))


def test_the_longest_lists_stay_under_the_teams_post_limit(card_validator: CardValidator) -> None:
    children = tuple(ChildSummary("A.B.C.D.", due_month=date(2026, 9, 1)) for _ in range(12))
    longest = _summary(
        999_999,
        urgent=True,
        immediate_risks=tuple(ImmediateRisk),
        presenting_needs=tuple(PresentingNeed),
        contact_type=ContactType.OPEN_CASE_INFORMATION,
        children=children,
        state=ContactState.DUTY_MANAGER_REVIEW,
        due_clock=ClockKind.REREFERRAL_RECOMMENDATION,
        rag=Rag.AMBER,
        repeat=True,
    )
    items = tuple(
        WorkItem(longest, screening_due_at=NOW, repeat_of=tuple(f"CT-25-{n:06d}" for n in range(40)))
        for _ in range(WORKLIST_LIMIT)
    )
    for card in (my_work_card(WorkList(items, 500), NOW), queue_card(WorkList(items, 500), NOW)):
        size = len(json.dumps(card, ensure_ascii=False).encode())
        assert size < TEAMS_POST_LIMIT, size
        card_validator.assert_valid(card)
        assert len(_view_buttons(card)) == WORKLIST_LIMIT
    assert f"and {12 - MAX_CHILDREN_SHOWN} more" in texts_of(my_work_card(WorkList(items, 500), NOW))


def test_urgent_calls_left_in_drafts_name_the_last_days_and_count_the_rest() -> None:
    recent = [UrgentDraft(f"aad-o-{n}", f"Officer Example {n}", NOW - timedelta(hours=n)) for n in range(7)]
    old = [UrgentDraft("aad-o-old", "Officer Example Old", NOW - timedelta(days=3))]
    text = texts_of(queue_card(WorkList((), 0, urgent_drafts=(*recent, *old)), NOW))
    assert "Urgent calls not yet created: 8" in text
    named = [n for n in range(7) if f"Started by Officer Example {n} at" in text]
    assert named == [0, 1, 2, 3, 4]
    assert "Old" not in text
    assert "and 3 more, the oldest started Fri 13 Mar 2026" in text
