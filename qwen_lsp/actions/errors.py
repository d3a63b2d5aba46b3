"""The one error type actions raise for failures a person can act on."""

from __future__ import annotations


class ActionError(Exception):
    """A failure the user can act on; the message says what and what to do."""
