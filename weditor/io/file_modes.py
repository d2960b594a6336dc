"""Permissions of the files weditor writes itself under `weditor/` in an output folder.

safetensors' `save_file` creates its file with mode 0600, so `weditor/directions.safetensors`,
`readout.safetensors` and `reins.safetensors` came out readable by their owner only, while every
other file of the folder (written by Python's `open`) gets 0666 minus the umask, usually 0644. A
checkpoint copied to a shared disk or served by another user must be readable as a whole, so
these files get the same mode as any other new file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def default_file_mode() -> int:
    """0666 minus the process's umask: the mode `open(path, "w")` gives a new file."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def share_like_other_files(folder: str | Path) -> None:
    """Give every regular file under `folder` (links untouched) the mode a new file gets."""
    mode = default_file_mode()
    for path in Path(folder).rglob("*"):
        st = path.lstat()
        if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) != mode:
            os.chmod(path, mode)
