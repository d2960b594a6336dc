"""One exception type for everything the user can fix.

It subclasses click's exception so the CLI prints it as a single line and exits non-zero,
while library callers can catch it without knowing about click.
"""

import click


class WeditorError(click.ClickException):
    """A problem with the user's input or files, stated in one line (file, field, value)."""

    exit_code = 2

    def __init__(self, message: str):
        # One line, and nothing that a terminal would act on or hide: messages quote the user's inputs
        # (file names, values), so a non-printable character (control, bidi, zero-width) is shown as \uXXXX.
        text = " ".join(str(message).split())
        super().__init__("".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text))
