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

FORWARD_TOLERANCE = 1e-6  # relative max-abs difference; same dtype and device give 0


CHUNK = 16 * 2**20  # bytes compared at a time: verification's memory is two of these, whatever the shard size
_DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


def _header(path: Path) -> tuple[dict, int]:
    """(tensor entries, offset of the data) of a safetensors file, from its JSON header alone."""
    import json
    import struct

    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return header, 8 + n


def _same_range(a, a_at: int, b, b_at: int, size: int) -> bool:
    a.seek(a_at)
    b.seek(b_at)
    while size > 0:
        n = min(size, CHUNK)
        if a.read(n) != b.read(n):
            return False
        size -= n
    return True


def _tensor_bytes(t: torch.Tensor) -> bytes:
    return t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def compare_safetensors(base: Path, out: Path, edited_files: dict[str, dict]) -> int:
    """Every tensor of every shard in `out` equals the base bit for bit, or the intended edit.

    Streamed: the headers are parsed, then each tensor's bytes are read from both files a chunk
    at a time (plain reads, not a memory map: mapped pages would count in the process's resident
    memory while a shard is compared). An edited tensor is compared with its in-memory value.
    Returns the number of tensors checked.
    """
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
        try:
            new, new_at = _header(out / rel)
            old, old_at = _header(src)
        except (ValueError, UnicodeDecodeError, OSError) as e:
            raise WeditorError(f"verification failed: {rel} has no readable safetensors header ({e})") from None
        if set(new) != set(old):
            raise WeditorError(f"verification failed: {rel} holds different tensor names than the base")
        with open(out / rel, "rb") as fn, open(src, "rb") as fo:
            for name in sorted(new, key=lambda k: new[k]["data_offsets"][0]):
                got = new[name]
                g0, g1 = got["data_offsets"]
                if name in expected_edits:
                    want = expected_edits[name]
                    ok = (
                        got["dtype"] == _DTYPES.get(want.dtype)
                        and list(got["shape"]) == list(want.shape)
                        and g1 - g0 == want.numel() * want.element_size()
                    )
                    if ok:
                        fn.seek(new_at + g0)
                        ok = fn.read(g1 - g0) == _tensor_bytes(want)
                else:
                    ref = old[name]
                    o0, o1 = ref["data_offsets"]
                    ok = (
                        got["dtype"] == ref["dtype"]
                        and got["shape"] == ref["shape"]
                        and g1 - g0 == o1 - o0
                        and _same_range(fn, new_at + g0, fo, old_at + o0, g1 - g0)
                    )
                if not ok:
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
