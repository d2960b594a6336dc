"""One exception type for everything the user can fix.

It subclasses click's exception so the CLI prints it as a single line and exits non-zero,
while library callers can catch it without knowing about click.
"""

import click


class WeditorError(click.ClickException):
    """A problem with the user's input or files, stated in one line (file, field, value)."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
