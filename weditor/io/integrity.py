"""Does a folder still hold exactly what its `weditor.json` lists? The one check behind `verify`,
`diff`, `push` and `patch --overwrite`.

The recipe is untrusted input like any file in the folder: it may be `[]`, `null`, or have
`"files"` as a list, and each of those must be one error line, not a traceback. So the fields the
checks rely on are validated first (`check_recipe`). Then every entry of the folder is compared
with the recipe's `"files"`:

- a symbolic link, a FIFO, a socket or a device is a problem wherever it is: weditor writes regular
  files only (copies, or hard links to the base), and a link would make `verify` hash, and `push`
  upload, whatever it points to;
- a file listed but missing, a file not listed, a file whose SHA-256 differs: problems.

Matching hashes prove only that nobody changed the folder *without also rewriting the recipe*;
`weditor verify` adds the comparison with the base model (weditor/checks/against_base.py) for that.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from weditor.errors import WeditorError
from weditor.io.recipe import DIRECTIONS_FILE, FORMAT, READOUT_FILE, RECIPE_NAME, REINS_FILE, hash_files

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
OWN_FILES = {DIRECTIONS_FILE, READOUT_FILE, REINS_FILE}  # and the pair files, and a frame grid:
GRID_RE = re.compile(r"^weditor/[^/]*grid[^/]*\.(png|jpe?g|webp|gif)$", re.IGNORECASE)  # card.GRID_EXTENSIONS
MAX_SHOWN = 5


def _type(value) -> str:
    return (
        "null"
        if value is None
        else {dict: "object", list: "list", str: "string", bool: "boolean"}.get(type(value), type(value).__name__)
    )


def _relative(rel) -> bool:
    """A path the recipe may name: relative, POSIX, inside the folder, no `..`, no empty part."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\x00" in rel:
        return False
    parts = PurePosixPath(rel).parts
    return (
        not PurePosixPath(rel).is_absolute() and all(p not in ("", ".", "..") for p in parts) and rel == "/".join(parts)
    )


def check_recipe(recipe, path: str | Path) -> dict:
    """`recipe` itself if the fields verify, diff and push read have the types they need.

    Raises a WeditorError naming the file, the field and what it holds. Unknown fields are left
    alone (a newer weditor may add some); the full schema of a recipe to reproduce is checked by
    `weditor patch --recipe`.
    """
    if not isinstance(recipe, dict):
        raise WeditorError(f"{path}: not a weditor recipe (a JSON {_type(recipe)}, expected an object)")
    if recipe.get("format") != FORMAT:
        raise WeditorError(f"{path}: field 'format' is {recipe.get('format')!r}, expected {FORMAT}")
    files = recipe.get("files")
    if not isinstance(files, dict):
        raise WeditorError(f"{path}: field 'files' is a {_type(files)}, expected an object of path: SHA-256")
    for rel, digest in files.items():
        if not _relative(rel) or rel == RECIPE_NAME:
            raise WeditorError(f"{path}: files: {rel!r} is not a relative path inside the folder")
        if not isinstance(digest, str) or not SHA256_RE.match(digest):
            raise WeditorError(f"{path}: files: {rel}: {digest!r} is not a SHA-256 (64 lowercase hex digits)")
    edits = recipe.get("edits", [])
    if not isinstance(edits, list):
        raise WeditorError(f"{path}: field 'edits' is a {_type(edits)}, expected a list")
    for i, entry in enumerate(edits, 1):
        if not isinstance(entry, dict):
            raise WeditorError(f"{path}: edits[{i}] is a {_type(entry)}, expected an object")
        for key in ("component", "tensor", "sha256_before", "sha256_after"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise WeditorError(f"{path}: edits[{i}].{key} is {entry.get(key)!r}, expected a string")
        for key in ("sha256_before", "sha256_after"):
            if not SHA256_RE.match(entry[key]):
                raise WeditorError(f"{path}: edits[{i}].{key} is {entry[key]!r}, not a SHA-256")
        for key in ("file", "kind"):
            if key in entry and not isinstance(entry[key], str):
                raise WeditorError(f"{path}: edits[{i}].{key} is a {_type(entry[key])}, expected a string")
    for key, kind in (("base_model", dict), ("params", dict), ("pairs", list)):
        if key in recipe and not isinstance(recipe[key], kind):
            raise WeditorError(f"{path}: field '{key}' is a {_type(recipe[key])}, expected {_type(kind())}")
    base = recipe.get("base_model") or {}
    for key in ("id", "revision"):
        if base.get(key) is not None and not isinstance(base[key], str):
            raise WeditorError(f"{path}: base_model.{key} is a {_type(base[key])}, expected a string")
    for i, pair in enumerate(recipe.get("pairs") or [], 1):
        if not isinstance(pair, dict):
            raise WeditorError(f"{path}: pairs[{i}] is a {_type(pair)}, expected an object")
    strength = (recipe.get("params") or {}).get("strength", 1.0)
    if isinstance(strength, bool) or not isinstance(strength, (int, float)):
        raise WeditorError(f"{path}: params.strength is {strength!r}, expected a number")
    return recipe


def load_checked_recipe(folder: str | Path) -> dict:
    """The folder's recipe, read from a regular file (not through a link) and checked by `check_recipe`."""
    path = Path(folder) / RECIPE_NAME
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise WeditorError(f"{path}: not a regular file (weditor writes its recipe as a file, never a link)")
    if not path.is_file():
        raise WeditorError(f"{path}: no weditor recipe here; is this a folder written by `weditor patch`?")
    try:
        recipe = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise WeditorError(f"{path}: cannot read it ({e.strerror or e})") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise WeditorError(f"{path}: not valid JSON ({type(e).__name__}: {str(e)[:120]})") from None
    return check_recipe(recipe, path)


@dataclass
class Entries:
    """What a folder holds, without following any link (relative POSIX paths, sorted)."""

    files: list[str] = field(default_factory=list)  # regular files, the top-level recipe excluded
    links: dict[str, str] = field(default_factory=dict)  # symbolic link -> where it points
    others: list[str] = field(default_factory=list)  # FIFOs, sockets, devices


def folder_entries(folder: str | Path) -> Entries:
    folder, out = Path(folder), Entries()
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            it = os.scandir(current)
        except OSError:  # a folder we may not read: it cannot be vouched for
            out.others.append(current.relative_to(folder).as_posix() + "/")
            continue
        with it:
            for entry in sorted(it, key=lambda e: e.name):
                rel = Path(entry.path).relative_to(folder).as_posix()
                if entry.is_symlink():
                    out.links[rel] = os.readlink(entry.path)
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif stat.S_ISREG(entry.stat(follow_symlinks=False).st_mode):
                    if rel != RECIPE_NAME:
                        out.files.append(rel)
                else:
                    out.others.append(rel)
    out.files.sort()
    out.others.sort()
    return out


def hash_problems(folder: str | Path, recipe: dict | None, reuse: bool = False) -> list[str]:
    """Every way the folder differs from the recipe's "files" (all of them, not just the first).

    `recipe` must have passed `check_recipe`; None means the folder has no recipe. `reuse`: a file
    this process hashed already and that has not changed since is not read again (recipe.hash_files).
    """
    folder = Path(folder)
    if recipe is None:
        return [f"{folder}: no {RECIPE_NAME}; nothing vouches for its files"]
    want: dict = recipe["files"]
    entries = folder_entries(folder)
    problems = [
        f"{rel}: a symbolic link (to {target}); weditor writes regular files only, and a link makes "
        "the folder hold whatever it points to"
        for rel, target in sorted(entries.links.items())
    ]
    problems += [
        f"{rel}: not a regular file (FIFO, socket or device), or a folder that cannot be read" for rel in entries.others
    ]
    odd = set(entries.links) | set(entries.others)
    have = set(entries.files)
    problems += [f"{rel}: listed in {RECIPE_NAME} but missing" for rel in sorted(set(want) - have - odd)]
    problems += [f"{rel}: not listed in {RECIPE_NAME} (added after patching?)" for rel in sorted(have - set(want))]
    try:
        digests = hash_files(folder, reuse=reuse, rels=sorted(have & set(want)))
    except OSError as e:  # a file we may not read: one line, not a traceback from a worker thread
        raise WeditorError(f"{e.filename or folder}: cannot read it ({e.strerror or e})") from None
    problems += [
        f"{rel}: does not match the SHA-256 in {RECIPE_NAME} (modified or corrupted)"
        for rel, digest in sorted(digests.items())
        if digest != want[rel]
    ]
    return problems + own_file_problems(recipe, have, digests)


def own_file_problems(recipe: dict, files, digests: dict) -> list[str]:
    """weditor/ holds only what weditor writes there, and each pair file is the one the recipe records.

    diffusers never loads weditor/, but `push` publishes it: a file slipped in there, listed with its
    hash, would otherwise pass every other check.
    """
    pairs = [p for p in recipe.get("pairs") or [] if isinstance(p, dict)]
    pair_paths = {p.get("path") for p in pairs}
    problems = [
        f"{rel}: not a file weditor writes (weditor/ holds the pair files the recipe lists, the directions, "
        "read-outs, REINS vectors and a frame grid)"
        for rel in sorted(files)
        if rel.startswith("weditor/") and rel not in OWN_FILES and rel not in pair_paths and not GRID_RE.match(rel)
    ]
    for p in pairs:
        rel, digest = p.get("path"), p.get("sha256")
        if isinstance(rel, str) and rel not in files:
            problems.append(f"{rel}: a pair file the recipe lists (pairs[].path) is not in the folder")
        elif isinstance(rel, str) and rel in digests and isinstance(digest, str) and digests[rel] != digest:
            problems.append(f"{rel}: not the pair file the recipe records (its SHA-256 differs from pairs[].sha256)")
    return problems


def summary(folder: Path, problems: list[str]) -> str:
    shown = "; ".join(problems[:MAX_SHOWN]) + (
        f"; and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
    )
    return f"{folder}: {len(problems)} problem(s) against {RECIPE_NAME}: {shown}"


def check_folder(folder: str | Path, reuse: bool = False) -> dict:
    """Recipe valid, every file listed with its hash, nothing else in the folder; WeditorError otherwise.

    Returns {"files": number of files, "recipe": the recipe}. The check `push` and `--overwrite`
    run before anything else; `weditor verify` runs it and much more (weditor/checks/verify.py).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise WeditorError(f"{folder}: no such folder")
    recipe = load_checked_recipe(folder)
    problems = hash_problems(folder, recipe, reuse=reuse)
    if problems:
        raise WeditorError(summary(folder, problems))
    return {"files": len(recipe["files"]), "recipe": recipe}
