"""The outcome letter: who is told, what it says in plain words, and what it never says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from frontdoor.contact import Child, Contact, ContactState, Parent, Referrer, ReferrerType
from frontdoor.letters import (
    children_phrase,
    letter_date,
    outcome_in_plain_words,
    outcome_letter,
    referrer_is_told,
)
from frontdoor.outcomes import Agency, Outcome, OutcomeKind

RECEIVED = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
ISSUED = datetime(2026, 3, 17, 23, 30, tzinfo=UTC)  # 23:30 on 17 March in London too (GMT)
SUMMER = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 1 July in London (BST)

PROFESSIONAL = Referrer(
    ReferrerType.PROFESSIONAL,
    name="Testy McTestface",
    agency="Example Primary School",
    role="Designated safeguarding lead",
    phone="+441914980000",
    email="testy@example.org",
)
PUBLIC = Referrer(ReferrerType.MEMBER_OF_PUBLIC, name="Pat Neighbour", phone="+447700900123")
ANONYMOUS = replace(PUBLIC, anonymity_requested=True)

CHILDREN = (
    Child("Zebedee Example", date(2019, 5, 4), address="1 Example Street, AB1 2CD", school="Example Academy"),
    Child("Amy Example", date(2021, 1, 2)),
)
ACCEPTED = Outcome(OutcomeKind.ACCEPTED, "Secret rationale", "Safeguarding and Assessment Team North", True)


def contact(referrer: Referrer | None = PROFESSIONAL, children: tuple[Child, ...] = CHILDREN) -> Contact:
    return Contact(
        id="c-1",
        created_by="aad-officer-1",
        created_at=RECEIVED,
        state=ContactState.CLOSED,
        reference="CT-26-000042",
        received_at=RECEIVED,
        referrer=referrer,
        children=children,
        parents=(Parent("Parentname Example", phone="+447700900999"),),
        worries="Worried about bruising seen at Example Street",
        working_well="Grandparent helps",
        needs_to_happen="A visit",
    )


def test_the_professional_letter_in_full() -> None:
    assert outcome_letter(contact(), ACCEPTED, ISSUED) == (
        "Children's Services Front Door\n"
        "Our reference: CT-26-000042\n"
        "17 March 2026\n"
        "\n"
        "Testy McTestface\n"
        "Example Primary School\n"
        "\n"
        "Dear Testy McTestface,\n"
        "\n"
        "Thank you for contacting us on 16 March 2026 about Zebedee and Amy.\n"
        "\n"
        "We have decided that a social work assessment is needed. The referral has been passed to "
        "Safeguarding and Assessment Team North, who may contact you for more information.\n"
        "\n"
        "If you have new worries, please contact us again and quote the reference above. "
        "If a child is in immediate danger, call 999.\n"
        "\n"
        "Yours sincerely,\n"
        "\n"
        "Children's Services Front Door\n"
    )


def test_the_letter_is_dated_in_london_and_signed_by_the_service() -> None:
    letter = outcome_letter(contact(), ACCEPTED, SUMMER, service_name="Example Council MASH")
    assert letter is not None
    assert "\n1 July 2026\n" in letter
    assert letter.startswith("Example Council MASH\n") and letter.endswith("\nExample Council MASH\n")


@pytest.mark.parametrize("outcome", [ACCEPTED, *(Outcome(kind, "Secret rationale") for kind in OutcomeKind)])
@pytest.mark.parametrize("referrer", [PROFESSIONAL, replace(PROFESSIONAL, name="", agency="")])
def test_a_letter_never_carries_what_the_referrer_need_not_know(outcome: Outcome, referrer: Referrer) -> None:
    letter = outcome_letter(contact(referrer), outcome, ISSUED)
    assert letter is not None
    for never in (
        "Example Street",  # address (and the worries text)
        "AB1",
        "Academy",  # school
        "2019",  # date of birth
        "Example,",  # surname
        "Amy Example",
        "Parentname",
        "07700",
        "Secret rationale",
        "bruising",
        "Grandparent",
        "strategy",
    ):
        assert never not in letter, never


@pytest.mark.parametrize(
    ("outcome", "professional", "expected", "absent"),
    [
        (ACCEPTED, True, "passed to Safeguarding and Assessment Team North", ""),
        (ACCEPTED, False, "a social worker needs to look into this further", "Safeguarding"),
        (Outcome(OutcomeKind.ADVICE, "r"), True, "Advice and guidance have been given", ""),
        (
            Outcome(OutcomeKind.NO_FURTHER_ACTION, "r"),
            False,
            "no further action by children's social care",
            "",
        ),
        (
            Outcome(OutcomeKind.OTHER_AGENCY, "r", agency=Agency.DRUG_AND_ALCOHOL),
            True,
            "passed the information to the drug and alcohol service",
            "",
        ),
        (
            Outcome(OutcomeKind.OTHER_AGENCY, "r", agency=Agency.DRUG_AND_ALCOHOL),
            False,
            "another service that can offer support",
            "drug",
        ),
    ],
)
def test_the_outcome_in_plain_words(outcome: Outcome, professional: bool, expected: str, absent: str) -> None:
    words = outcome_in_plain_words(outcome, professional=professional)
    assert expected in words
    if absent:
        assert absent not in words


@pytest.mark.parametrize(
    "referrer",
    [
        PUBLIC,
        ANONYMOUS,
        replace(PUBLIC, type=ReferrerType.FAMILY_MEMBER),
        Referrer(ReferrerType.CHILD, name="Zebedee"),
        None,
    ],
)
def test_only_a_professional_gets_an_outcome_letter(referrer: Referrer | None) -> None:
    # Members of the public and family members are told on the call that they will not hear.
    assert not referrer_is_told(referrer)
    others = (Outcome(kind, "r") for kind in OutcomeKind if kind is not OutcomeKind.ACCEPTED)
    for outcome in (ACCEPTED, *others):
        assert outcome_letter(contact(referrer), outcome, ISSUED) is None
    assert referrer_is_told(PROFESSIONAL)
    assert outcome_letter(contact(PROFESSIONAL), ACCEPTED, ISSUED) is not None


def test_only_a_member_of_the_public_is_anonymous() -> None:
    # Intake refuses the flag on anyone else; if it ever arrived, the professional is still told.
    assert referrer_is_told(replace(PROFESSIONAL, anonymity_requested=True))


def test_a_referrer_without_a_name_is_greeted_politely() -> None:
    letter = outcome_letter(contact(replace(PROFESSIONAL, name="")), ACCEPTED, ISSUED)
    assert letter is not None and "Dear Sir or Madam," in letter


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["Zebedee Example"], "Zebedee"),
        (["Zebedee Example", "Amy Example"], "Zebedee and Amy"),
        (["Zebedee Example", "Amy Example", "unborn"], "Zebedee, Amy and an unborn baby"),
        ([], "a child"),
    ],
)
def test_children_are_named_by_first_name(names: list[str], expected: str) -> None:
    assert children_phrase([Child(name) for name in names]) == expected


@pytest.mark.parametrize(
    ("day", "expected"), [(date(2026, 3, 1), "1 March 2026"), (date(2026, 12, 25), "25 December 2026")]
)
def test_letter_date(day: date, expected: str) -> None:
    assert letter_date(day) == expected
