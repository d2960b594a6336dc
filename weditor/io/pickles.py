"""Pickled weights (`.bin`): refused unless `--allow-pickle`, and never written to an output.

Unpickling can run arbitrary code hidden in the file, so a base model whose weights exist only
as `pytorch_model.bin` / `diffusion_pytorch_model.bin` is refused by default. With
`--allow-pickle` each such file is read with `torch.load(weights_only=True)` (PyTorch's
restricted unpickler: tensors, dicts and primitive types only; anything else is an error, not
code execution) and re-saved as safetensors, with the names the stock loaders look for:

    diffusion_pytorch_model[-0000k-of-0000n].bin  ->  diffusion_pytorch_model[-0000k-of-0000n].safetensors
    pytorch_model[-0000k-of-0000n].bin            ->  model[-0000k-of-0000n].safetensors
    *.bin.index.json                              ->  *.safetensors.index.json (weight_map renamed)

This is what diffusers itself would do on load: `load_state_dict` in
diffusers/models/model_loading_utils.py reads non-safetensors files with
`torch.load(..., weights_only=True)` (torch >= 1.13), so the tensors are the ones a
`from_pretrained(use_safetensors=False)` would have seen, and converting first means that
everything downstream (loading, editing, the shard-preserving writer, verification) sees an
ordinary safetensors checkpoint.

The conversion happens in a hidden sibling of OUT_DIR (`.OUT.weditor-tmp-...-base`): a mirror
of the base folder made of symlinks to the original files, with the pickled components replaced
by their safetensors conversion. It is deleted at the end of the run; the output gets the
converted files (hard-linked from the mirror, on the same file system) and no pickle at all.

Pickle files next to safetensors weights (old repositories ship both) are never read, and are
not carried into the output either: a patched folder must not hold an unpatched copy of the
weights that a `use_safetensors=False` loader would pick up. Other pickles (training_args.bin,
optimizer states, *.pt, *.ckpt) are dropped for the same reason. The recipe lists both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from weditor.errors import WeditorError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
WEIGHT_RE = re.compile(r"^(?P<stem>diffusion_pytorch_model|pytorch_model|model)(?P<shard>-\d+-of-\d+)?\.bin$")
INDEX_RE = re.compile(r"^(?P<stem>diffusion_pytorch_model|pytorch_model|model)\.bin\.index\.json$")
FLAG = "--allow-pickle"
# Weights saved under another pickle suffix: neither diffusers nor weditor loads these names.
OTHER_WEIGHT_RE = re.compile(r"^(diffusion_pytorch_model|pytorch_model|model)(-\d+-of-\d+)?\.(pt|pth|ckpt|pkl|pickle)$")


def is_pickle_file(name: str) -> bool:
    return name.endswith(PICKLE_SUFFIXES) or name.endswith(".bin.index.json")


def safetensors_name(name: str) -> str:
    """The safetensors file name the stock loaders expect instead of pickle file `name`."""
    m = WEIGHT_RE.match(name)
    if m is None:
        raise ValueError(f"{name}: not a standard weight file name")
    stem = "model" if m.group("stem") == "pytorch_model" else m.group("stem")
    return f"{stem}{m.group('shard') or ''}.safetensors"


def safetensors_index_name(name: str) -> str:
    m = INDEX_RE.match(name)
    stem = "model" if m.group("stem") == "pytorch_model" else m.group("stem")
    return f"{stem}.safetensors.index.json"


@dataclass
class PicklePlan:
    """What the base folder holds in pickles: folders to convert, files to leave out."""

    convert: dict[str, list[str]] = field(default_factory=dict)  # folder (relative) -> weight/index files
    omit: list[str] = field(default_factory=list)  # relative paths never read nor written
    stranded: list[str] = field(default_factory=list)  # weights only as a pickle weditor cannot convert (*.pt, *.ckpt)

    @property
    def empty(self) -> bool:
        return not self.convert and not self.omit


def _walk(folder: Path):
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield Path(root).relative_to(folder), sorted(files)


def scan(folder: Path) -> PicklePlan:
    plan = PicklePlan()
    for rel_root, files in _walk(folder):
        pickles = [f for f in files if is_pickle_file(f)]
        if not pickles:
            continue
        has_safetensors = any(f.endswith(".safetensors") for f in files)
        convertible = [f for f in pickles if WEIGHT_RE.match(f) or INDEX_RE.match(f)]
        if has_safetensors or not any(WEIGHT_RE.match(f) for f in convertible):
            convertible = []
        if convertible:
            plan.convert[rel_root.as_posix()] = convertible
        elif not has_safetensors:
            plan.stranded += [(rel_root / f).as_posix() for f in pickles if OTHER_WEIGHT_RE.match(f)]
        plan.omit += [(rel_root / f).as_posix() for f in pickles if f not in convertible]
    return plan


def refusal(folder: Path, plan: PicklePlan) -> WeditorError:
    rel, files = next(iter(sorted(plan.convert.items())))
    weight = next(f for f in files if WEIGHT_RE.match(f))
    return WeditorError(
        f"{folder / rel}: weights only as a pickle ({weight}); unpickling can run code hidden in the file, so "
        f"weditor refuses it unless you pass {FLAG} (it is then read with torch.load(weights_only=True) and the "
        "output is written as safetensors)"
    )


def load_state_dict(path: Path) -> dict:
    """A flat {name: tensor} from a pickle, with PyTorch's restricted (weights-only) unpickler."""
    import pickle

    import torch

    try:
        mmap = zipfile.is_zipfile(path)  # mmap works for the zip format only (torch >= 1.6 default)
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise WeditorError(
            f"{path}: refused by torch.load(weights_only=True), it holds more than tensors ({first})"
        ) from None
    except Exception as e:  # truncated, corrupt, not a torch file at all
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise WeditorError(f"{path}: not a readable PyTorch checkpoint ({type(e).__name__}: {first})") from None
    if not isinstance(obj, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        raise WeditorError(f"{path}: not a flat state dict of named tensors ({type(obj).__name__})")
    return obj


def _storage_key(t):
    try:
        return t.untyped_storage().data_ptr()
    except Exception:  # noqa: BLE001 - a tensor without storage is never shared
        return None


def save_state_dict(tensors: dict, path: Path):
    """Write as safetensors; tensors that share memory (tied weights) become separate copies."""
    from safetensors.torch import save_file

    seen, out = set(), {}
    for name in sorted(tensors):
        t = tensors[name]
        key = _storage_key(t)
        if t.numel() and key is not None and key in seen:
            t = t.clone()
        elif key is not None and t.numel():
            seen.add(key)
        out[name] = t.detach().contiguous()
    save_file(out, path, metadata={"format": "pt"})


def convert_file(src: Path, dst: Path):
    save_state_dict(load_state_dict(src), dst)


def _convert_index(src: Path, dst: Path):
    try:
        data = json.loads(src.read_text(encoding="utf-8"))
        weight_map = {k: safetensors_name(v) for k, v in data["weight_map"].items()}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as e:
        raise WeditorError(f"{src}: not a usable weight index ({type(e).__name__}: {e})") from None
    data["weight_map"] = weight_map
    dst.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def build_mirror(base: Path, mirror: Path, plan: PicklePlan) -> dict[str, str]:
    """Fill `mirror` with symlinks to `base`, pickles converted or left out; returns {pickle: safetensors}."""
    omit = set(plan.omit)
    converted = {}
    for rel_root, files in _walk(base):
        (mirror / rel_root).mkdir(parents=True, exist_ok=True)
        to_convert = set(plan.convert.get(rel_root.as_posix(), ()))
        for name in files:
            rel = (rel_root / name).as_posix()
            src = base / rel_root / name
            if rel in omit:
                continue
            if name in to_convert:
                if WEIGHT_RE.match(name):
                    new = safetensors_name(name)
                    convert_file(src, mirror / rel_root / new)
                else:
                    new = safetensors_index_name(name)
                    _convert_index(src, mirror / rel_root / new)
                converted[rel] = (rel_root / new).as_posix()
                continue
            os.symlink(os.path.realpath(src), mirror / rel_root / name)
    return converted


class BaseWorkspace:
    """The base folder as `weditor patch` reads it: the original, or a pickle-free mirror of it."""

    def __init__(self, allow_pickle: bool = False):
        self.allow_pickle = allow_pickle
        self.mirror: Path | None = None
        self.note: dict = {}

    def prepare(self, base, out_dir: Path):
        """`base` (a checkpoint.BaseModel) unchanged when it holds no pickle, else one for the mirror."""
        from weditor.io.checkpoint import BaseModel
        from weditor.io.workspace import make_sibling

        plan = scan(base.folder)
        if plan.stranded:  # named here, in the base: the mirror would only say "no weights" in a deleted folder
            raise WeditorError(
                f"{base.folder / plan.stranded[0]}: weights only as a pickle; weditor reads safetensors, and with {FLAG} "
                "the standard pickle names only (diffusion_pytorch_model*.bin, pytorch_model*.bin), which the stock "
                "loaders read too; convert it to safetensors first"
            )
        if plan.empty:
            return base
        if plan.convert and not self.allow_pickle:
            raise refusal(base.folder, plan)
        try:
            self.mirror = make_sibling(out_dir, "tmp", "-base")
        except OSError as e:
            raise WeditorError(
                f"--out {out_dir}: cannot create a working folder next to it ({e.strerror or e})"
            ) from None
        try:
            converted = build_mirror(base.folder, self.mirror, plan)
        except OSError as e:
            raise WeditorError(f"converting the pickled weights of {base.folder} failed ({e.strerror or e})") from None
        self.note = {"pickles": {"converted": converted, "omitted": sorted(plan.omit)}}
        from weditor.io.links import model_tree

        return BaseModel(self.mirror, base.id, base.revision, base.pipeline_class, tree=model_tree(base.folder))

    def cleanup(self):
        if self.mirror is not None:
            shutil.rmtree(self.mirror, ignore_errors=True)
            self.mirror = None


# --------------------------------------------------------------------------- the run's workspace

_ACTIVE: "ContextVar[BaseWorkspace | None]" = ContextVar("weditor_pickle_workspace", default=None)


@contextmanager
def workspace(allow_pickle: bool = False):
    """The scope of one `weditor patch` run: a mirror made inside it is removed when it ends."""
    ws = BaseWorkspace(allow_pickle)
    token = _ACTIVE.set(ws)
    try:
        yield ws
    finally:
        _ACTIVE.reset(token)
        ws.cleanup()


def prepare_base(base, out_dir: Path):
    """The base as the run reads it (see BaseWorkspace.prepare), in the active workspace.

    Outside `workspace()` pickles are refused, and a mirror (for left-out pickles) is removed
    when the process exits.
    """
    ws = _ACTIVE.get()
    if ws is None:
        import atexit

        ws = BaseWorkspace(False)
        atexit.register(ws.cleanup)
    return ws.prepare(base, out_dir)


def recipe_note() -> dict:
    """What the recipe's base_model records about pickles ({} when the base held none)."""
    ws = _ACTIVE.get()
    return dict(ws.note) if ws is not None else {}
