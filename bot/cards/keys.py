"""The keys of the data a card sends back, shared by the cards that write them and the features
that read them. A card's own inputs and verbs stay beside the card; these are the ones many use."""

from __future__ import annotations

from typing import Final

#: The key of a card submission's (``Action.Submit``) data that names the action.
ACTION_KEY: Final = "fd"
#: The contact's reference (``CT-…``) an action is about.
REFERENCE_KEY: Final = "reference"
#: The version of the record the card was drawn from, so a stale card cannot overwrite a newer one.
VERSION_KEY: Final = "version"
#: The id of the card a form was drawn on (``new_form_id``), so a second press of the same card
#: (a repeat, or a stale copy) is recognised and changes nothing.
FORM_KEY: Final = "form"
