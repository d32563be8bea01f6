"""The officer's contact script (SPEC §5) and what submitting a contact does (SPEC §3, §6), in
three parts: the wizard (``wizard``: the commands and the section cards up to Submit, sharing the
card plumbing of ``forms``), the submission (``submission``: what a submitted contact posts, and
where), and the record views (``records``: ``find CT-…``, "View" on a channel card, history checks
recorded later). ``IntakeFeature`` registers them all on the router.
"""

from bot.dialogs.intake.wizard import IntakeFeature

__all__ = ["IntakeFeature"]
