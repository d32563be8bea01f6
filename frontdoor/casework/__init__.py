"""The work after a screening decision (SPEC §3): the social worker's and the officer's casework,
the parent letter and its lapse, outcomes and recommendations, sign-off with the outcome letter,
and the receiving team's challenge.

The use cases follow ``frontdoor.decisions``: a fresh unit of work, roles from the directory, the
card's version checked (``AlreadyDecided`` when someone acted first or the card was sent twice), one
commit for the contact, its deadlines and its audit rows, and a ``Refusal`` that changes nothing.

Who may do what:

- casework on a contact in ``sw_assessment`` (referrer contact, parent contact, consent, parent
  letter, recommendation) is the allocated social worker's, and in ``officer_work`` (route III)
  the assigned officer's: nobody else's allocation can be worked on;
- the child-protection decision and the outcome after it (``cp_decision``, ``referral_accepted``)
  are a consultant's or team manager's, or the duty manager's when they sent the re-referral there;
- an officer records a route III outcome but never "accepted for assessment", which is a threshold
  decision (SPEC §1); a consultant or team manager may record any outcome on route III;
- sign-off is a consultant's or team manager's, never of their own decision or recommendation
  (``deciders``); only the saved sign-off tells the receiving team, with the immediate-risk highlight
  when the signer ticks it;
- an accepted outcome names the receiving team manager (``Outcome.receiving_manager_id``; required),
  who must be a team manager in the directory: the one told at sign-off (checked again then: one
  who is no longer a team manager is told nothing, and the signer is told so), and the only one who
  may challenge the threshold;
- the outcome letter is recorded as sent by an officer (who sends letters) or by the person who
  recorded the outcome it reports, to whom the Teams card shows it to send.

The parent letter (route IV and re-referrals): recording that the parents could not be reached
records the letter and starts the 3-working-day ``parent_letter`` clock. Parents getting in touch
(a parent contact recorded) closes it as met. When it lapses, ``lapse_parent_letter`` (run by the
scheduler) closes it as late (the parents did not make contact in time), records the lapse, and
gives the worker a 1-working-day ``letter_review`` clock to review and re-apply the threshold (the
worker's own clock, not a screening decision). The contact does not
change state: it is still open to the same worker in ``sw_assessment``, as the contact protocol
says (3.7-3.8), and the lifecycle has no state of its own for "review after a lapse"; what the
worker decides next (a recommendation) is the threshold re-applied. The route I-IV completion
clocks keep running through a letter: a letter does not stop a timescale from being missed.

Moving to ``awaiting_signoff`` unassigns the contact (sign-off is the consultants' queue, so the
cap counts work in hand) and hands its completion clock to the consultants on duty.

The receiving team's disagreement (SPEC §3): the receiving team manager named on the outcome may
challenge the threshold until the end of the working day the contact was signed off to them
(``challenge_window``; the ``challenge`` clock of SPEC §4, worked out from the sign-off's time; no
deadline row is written, because a window nobody uses is not a breach). The consultant or team
manager who decided answers (``answerers``); either side records the discussion; agreed, the decider
records the result, *upheld* or *overturned* (replaced by the revised outcome, with a fresh outcome
letter); not agreed, either side escalates it to the service manager, who records the final
decision. The challenger never settles their own challenge.

The referrer's challenge: staff record that the referrer disagrees with a closed contact's outcome;
a consultant or team manager discusses it and records the result; if it remains, a team manager
with the agency's lead, then the service manager with the agency's lead, each step with who, when
and the result (``ReferrerChallenge``).
"""

from __future__ import annotations

from frontdoor.casework.challenge import (
    answerers,
    challenge_status,
    challenge_window,
    escalate_challenge,
    raise_challenge,
    record_challenge_discussion,
    resolve_challenge,
)
from frontdoor.casework.notes import record_consent, record_work
from frontdoor.casework.outcome_recording import accept_referral, recommend, record_outcome
from frontdoor.casework.parent_letter import (
    due_parent_letters,
    lapse_parent_letter,
    record_parents_unreachable,
)
from frontdoor.casework.referrer_challenge import (
    ReferrerChallenge,
    ReferrerChallengeRecorded,
    ReferrerResult,
    ReferrerStage,
    ReferrerStep,
    may_record_stage,
    record_referrer_challenge,
    record_referrer_challenge_step,
    referrer_challenge,
)
from frontdoor.casework.sign_off import deciders, record_outcome_letter_sent, sign_off
from frontdoor.casework.values import (
    PARENT_LETTER_ACTOR,
    CaseworkAction,
    CaseworkRecorded,
    ChallengeRecorded,
    ChallengeResult,
    ChallengeStatus,
    LetterLapsed,
    OutcomeRecorded,
    ParentLetterSent,
    Recommendation,
    SignedOff,
    WorkKind,
)

__all__ = [
    "PARENT_LETTER_ACTOR",
    "CaseworkAction",
    "CaseworkRecorded",
    "ChallengeRecorded",
    "ChallengeResult",
    "ChallengeStatus",
    "LetterLapsed",
    "OutcomeRecorded",
    "ParentLetterSent",
    "Recommendation",
    "ReferrerChallenge",
    "ReferrerChallengeRecorded",
    "ReferrerResult",
    "ReferrerStage",
    "ReferrerStep",
    "SignedOff",
    "WorkKind",
    "accept_referral",
    "answerers",
    "challenge_status",
    "challenge_window",
    "deciders",
    "due_parent_letters",
    "escalate_challenge",
    "lapse_parent_letter",
    "may_record_stage",
    "raise_challenge",
    "recommend",
    "record_challenge_discussion",
    "record_consent",
    "record_outcome",
    "record_outcome_letter_sent",
    "record_parents_unreachable",
    "record_referrer_challenge",
    "record_referrer_challenge_step",
    "record_work",
    "referrer_challenge",
    "resolve_challenge",
    "sign_off",
]
