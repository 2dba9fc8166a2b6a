"""The one error type the project raises for anything a user can fix."""
from __future__ import annotations


class MtmError(Exception):
    """Bad input, bad settings or an unusable file, with a message a musician understands.

    The CLI prints the message on one line and exits with status 2; anything else that
    escapes is an internal error (status 1).
    """


class Cancelled(MtmError):
    """Long work was stopped on the user's request."""


def one_line(message: str) -> str:
    """A message as one line: line breaks (a file name can hold them) shown as \\n."""
    return message.replace("\r", "\\r").replace("\n", "\\n")
