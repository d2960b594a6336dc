"""Reading a small input file the user names (a pair file, a recipe): what it is, and at most how much.

`Path.is_file()` is False for a missing path, a folder, a named pipe and a device alike; "does not
exist" for a FIFO sends the user looking in the wrong place, and reading one would block until
some other process writes to it. A file of prompts or a recipe is kilobytes: reading a
multi-gigabyte file (or `/dev/zero`) into memory to find that out is refused up front.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from weditor.errors import WeditorError

KINDS = (
    (stat.S_ISDIR, "is a folder"),
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a regular file"),
    (stat.S_ISCHR, "is a character device, not a regular file"),
    (stat.S_ISBLK, "is a block device, not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
)


def not_a_file(path: str | Path) -> str | None:
    """None for a regular file (symbolic links followed), else what `path` is, as a phrase."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "is a broken symbolic link" if os.path.islink(path) else "does not exist"
    except NotADirectoryError:
        return "does not exist (a parent is a file)"
    except OSError as e:
        return f"cannot be read ({e.strerror or type(e).__name__})"
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in KINDS if test(mode)), "is not a regular file")


def read_small_file(path: str | Path, what: str, max_bytes: int) -> bytes:
    """The bytes of `path`, which must be a regular file of at most `max_bytes`; one WeditorError otherwise.

    `what` names the file in the message ("pair file", "recipe").
    """
    problem = not_a_file(path)
    if problem is not None:
        raise WeditorError(f"{path}: {what} {problem}")
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise WeditorError(f"{path}: cannot read the {what} ({e.strerror or type(e).__name__})") from None
    if len(data) > max_bytes:
        raise WeditorError(f"{path}: {what} is larger than {max_bytes // (1 << 20)} MiB; this is not a {what}")
    return data
