"""The one error type the project raises for anything a user can fix."""
from __future__ import annotations


class MtmError(Exception):
    """Bad input, bad settings or an unusable file, with a message a musician understands.

    The CLI prints the message on one line and exits with status 2; anything else that
    escapes is an internal error (status 1).
    """


class Cancelled(MtmError):
    """Long work was stopped on the user's request."""
