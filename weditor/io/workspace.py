"""Temporary sibling folders of OUT_DIR, and what happens to those a killed run leaves behind.

`weditor patch` writes everything into a hidden sibling of OUT_DIR and renames it into place at
the end (see checkpoint.py), so a run that dies leaves OUT_DIR absent (or the old one intact)
plus, possibly, a hidden folder:

    .OUT.weditor-tmp-<host>-<pid>-<random>          the unfinished output
    .OUT.weditor-tmp-<host>-<pid>-<random>-base     a pickle-converted copy of the base (--allow-pickle)
    .OUT.weditor-old-<host>-<pid>-<random>          the previous OUT being replaced (--overwrite)

`<host>` is a short hash of the host name and `<pid>` the id of the process that made it. The
next run that writes the same OUT_DIR removes such folders when they were made on this host by a
process that no longer exists: nobody can be writing them, and nothing in them is ever used
(an `-old-` folder is a previous output that was being replaced; the run that replaced it had
already written its successor). Folders of a live process, of another host (a shared file
system) or of an unknown format are left alone; `stale_siblings` lists them for the message.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import sys
import uuid
from pathlib import Path

KINDS = ("tmp", "old")
_NAME_RE = re.compile(
    r"^\.(?P<out>.+)\.weditor-(?P<kind>tmp|old)-(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-(?P<rand>[0-9a-f]{8})(?P<suffix>-[a-z]+)?$"
)


def host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def sibling_name(out_dir: Path, kind: str = "tmp", suffix: str = "") -> Path:
    """A fresh hidden sibling path of `out_dir` that records who made it (not created)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    return out_dir.parent / f".{out_dir.name}.weditor-{kind}-{host_tag()}-{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}"


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return True  # never ours to judge
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else (or we cannot tell: keep it)
    return True


def siblings(out_dir: Path) -> list[tuple[Path, re.Match | None]]:
    """Hidden weditor folders next to `out_dir` that belong to it (parsed name or None if legacy)."""
    parent = out_dir.parent
    prefix = f".{out_dir.name}.weditor-"
    try:
        entries = sorted(parent.iterdir())
    except OSError:
        return []
    out = []
    for p in entries:
        if not p.name.startswith(prefix) or not p.is_dir() or p.is_symlink():
            continue
        m = _NAME_RE.match(p.name)
        out.append((p, m if m and m.group("out") == out_dir.name else None))
    return out


def is_stale(match: re.Match | None) -> bool:
    """Made on this host by a process that is gone (never true for a name we cannot parse)."""
    if match is None or match.group("host") != host_tag():
        return False
    pid = int(match.group("pid"))
    return pid != os.getpid() and not pid_alive(pid)


def stale_siblings(out_dir: Path) -> list[Path]:
    return [p for p, m in siblings(out_dir) if is_stale(m)]


def clean_stale(out_dir: Path, echo=None) -> list[Path]:
    """Tidy the leftovers of dead weditor runs for `out_dir`; returns the folders removed.

    If OUT_DIR is absent and a dead run had moved the previous OUT_DIR aside (`-old-`, killed
    in the middle of an `--overwrite` on a system without an atomic exchange), that previous
    output is put back first: the replacement never happened, so the old state stands.
    """
    stale = stale_siblings(out_dir)
    olds = sorted((p for p in stale if _NAME_RE.match(p.name).group("kind") == "old"), key=lambda p: p.stat().st_mtime)
    if olds and not out_dir.exists() and not out_dir.is_symlink():
        try:
            os.rename(olds[-1], out_dir)
            stale.remove(olds[-1])
            if echo is not None:
                echo(
                    f"weditor: restored {out_dir} from {olds[-1].name} (an interrupted --overwrite had moved it aside)"
                )
        except OSError:
            pass
    removed = []
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            removed.append(path)
            if echo is not None:
                pid = _NAME_RE.match(path.name).group("pid")
                echo(f"weditor: removed {path.name}, left behind by an interrupted run (process {pid} is gone)")
    return removed


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux renameat2 RENAME_EXCHANGE).

    Returns False where the system or file system does not offer it; raises OSError otherwise.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import errno

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def stderr(message: str):
    print(message, file=sys.stderr)


def make_sibling(out_dir: Path, kind: str = "tmp", suffix: str = "") -> Path:
    """Clean stale leftovers, then create and return a fresh hidden sibling of `out_dir`."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out_dir, echo=stderr)
    path = sibling_name(out_dir, kind, suffix)
    path.mkdir()
    return path


def output_name(filename, out_dir) -> str:
    """A file of OUT_DIR's hidden staging folder named as the output file it was to become (error messages)."""
    path, out_dir = Path(str(filename)), Path(out_dir)
    for i, part in enumerate(path.parts):
        if part.startswith(f".{out_dir.name}.weditor-tmp-") and not part.endswith("-base"):
            return str(out_dir.joinpath(*path.parts[i + 1 :]))
    return str(filename)
