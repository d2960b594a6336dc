"""Every tensor of a pipeline folder, read on demand by (component, name): what `weditor verify`, `weditor diff` and the comparison with the base read a folder through (safetensors, or standard pickles with --allow-pickle)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from weditor.errors import WeditorError
from weditor.io.pickles import WEIGHT_RE, load_state_dict
from weditor.io.recipe import is_own_file

# --------------------------------------------------------------------------- reading weights


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


class FolderWeights:
    """Every tensor of a pipeline folder, by (component folder, tensor name), read on demand.

    Component folders are the folders that hold safetensors files, or, with `allow_pickle`,
    standard pickle weight files (read with torch.load(weights_only=True)); weditor's own files
    are not weights of the model and are skipped.
    """

    def __init__(self, folder: Path, allow_pickle: bool = False):
        from safetensors import safe_open

        from weditor.io.checkpoint import safetensors_header

        self.folder = Path(folder)
        self.allow_pickle = allow_pickle
        self.tensors: dict[str, dict[str, str]] = {}  # component -> name -> relative file
        self.problems: list[str] = []  # unreadable components, duplicate names
        self.unreadable: set[str] = set()  # components whose weights could not be listed
        self._pickles: dict[str, dict] = {}
        for root, dirs, files in os.walk(self.folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            rel_root = Path(root).relative_to(self.folder)
            comp = rel_root.as_posix()
            if is_own_file(f"{comp}/x") or _hidden(rel_root):
                continue
            st = sorted(f for f in files if f.endswith(".safetensors"))
            pk = sorted(f for f in files if WEIGHT_RE.match(f))
            names: dict[str, str] = {}
            if st:
                for f in st:
                    rel = (rel_root / f).as_posix()
                    try:
                        safetensors_header(self.folder / rel)  # a hostile header length is a finding, not a MemoryError
                        with safe_open(self.folder / rel, "pt") as handle:
                            keys = list(handle.keys())
                    except WeditorError as e:
                        self.problems.append(e.message)
                        self.unreadable.add(comp)
                        continue
                    except Exception as e:  # noqa: BLE001 - a truncated or corrupt file is a finding, not a crash
                        self.problems.append(
                            f"{rel}: not a readable safetensors file ({str(e).splitlines()[0] if str(e) else type(e).__name__})"
                        )
                        continue
                    for k in keys:
                        if k in names:
                            self.problems.append(f"{comp}: tensor {k} is in both {names[k]} and {rel}")
                        names[k] = rel
            elif pk:
                if not allow_pickle:
                    self.problems.append(
                        f"{(self.folder / comp)}: weights only as pickles ({pk[0]}); pass --allow-pickle to read them"
                    )
                    self.unreadable.add(comp)
                    continue
                for f in pk:
                    rel = (rel_root / f).as_posix()
                    try:
                        state = self._load_pickle(rel)
                    except WeditorError as e:
                        self.problems.append(e.message)
                        continue
                    for k in state:
                        names[k] = rel
            else:
                continue
            self.tensors[comp] = names

    def _load_pickle(self, rel: str) -> dict:
        if rel not in self._pickles:
            self._pickles[rel] = load_state_dict(self.folder / rel)
        return self._pickles[rel]

    def file_of(self, comp: str, name: str) -> str | None:
        return self.tensors.get(comp, {}).get(name)

    def get(self, comp: str, name: str) -> torch.Tensor:
        rel = self.tensors[comp][name]
        if rel.endswith(".safetensors"):
            from safetensors import safe_open

            with safe_open(self.folder / rel, "pt") as handle:
                return handle.get_tensor(name)
        return self._load_pickle(rel)[name]


def same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
