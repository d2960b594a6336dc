"""Proof that what was written is what was meant.

Before `weditor patch` reports success, the staged folder is reloaded with the *stock*
diffusers pipeline class and compared with the edit held in memory: edited tensors equal,
every other tensor byte-identical to the base, and the denoiser's output on fixed inputs the
same as the in-memory edited model's. `check_folder` (weditor/io/integrity.py) re-checks a finished
folder offline against the hashes in its recipe (tampering, corruption, partial copies).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from weditor.errors import WeditorError
from weditor.io.recipe import is_own_file
from weditor.io.tensors import same_bits

FORWARD_TOLERANCE = 1e-6  # relative max-abs difference; same dtype and device give 0


def compare_safetensors(base: Path, out: Path, edited_files: dict[str, dict]) -> int:
    """Every tensor of every shard in `out` equals the base bit for bit, or the intended edit.

    Returns the number of tensors checked.
    """
    from safetensors import safe_open

    checked = 0
    for src in sorted(base.rglob("*.safetensors")):
        rel = src.relative_to(base).as_posix()
        if any(part.startswith(".") for part in src.relative_to(base).parts) or is_own_file(rel):
            continue
        if not (out / rel).is_file():
            raise WeditorError(f"verification failed: {rel} is missing from the output")
        expected_edits = edited_files.get(rel, {})
        if not expected_edits and os.path.samefile(src, out / rel):
            continue  # a hard link to the base file: identical by construction
        with safe_open(out / rel, "pt") as new, safe_open(src, "pt") as old:
            if set(new.keys()) != set(old.keys()):
                raise WeditorError(f"verification failed: {rel} holds different tensor names than the base")
            for name in new.keys():
                got = new.get_tensor(name)
                want = expected_edits[name] if name in expected_edits else old.get_tensor(name)
                if not same_bits(got, want):
                    what = "the in-memory edit" if name in expected_edits else "the base (untouched tensor)"
                    raise WeditorError(f"verification failed: {rel}:{name} differs from {what}")
                checked += 1
    return checked


def compare_other_files(base: Path, out: Path) -> int:
    """Every non-safetensors file of the base (configs, tokenizers) is in `out`, byte for byte."""
    checked = 0
    for src in sorted(base.rglob("*")):
        rel = src.relative_to(base)
        if not src.is_file() or src.suffix == ".safetensors" or any(p.startswith(".") for p in rel.parts):
            continue
        if is_own_file(rel.as_posix()):
            continue
        dst = out / rel
        if not dst.is_file():
            raise WeditorError(f"verification failed: {rel.as_posix()} is missing from the output")
        if not os.path.samefile(src, dst) and src.read_bytes() != dst.read_bytes():
            raise WeditorError(f"verification failed: {rel.as_posix()} differs from the base")
        checked += 1
    return checked


def compare_forward(reference, reloaded, run) -> float:
    """Relative max-abs difference of `run(model)` between the two models."""
    a, b = run(reference).float(), run(reloaded).float()
    if not torch.isfinite(b).all():
        raise WeditorError("verification failed: the reloaded model outputs NaN/Inf")
    return float((a - b).abs().max() / a.abs().max().clamp_min(1e-30))
