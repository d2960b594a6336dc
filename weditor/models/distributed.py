"""Data-parallel `weditor patch` under torchrun: `torchrun --nproc-per-node=N -m weditor patch ...`.

torchrun starts N copies of the command; each loads the pipeline. Where the patch spends its
denoiser and text-encoder calls, the units of work (the prompts the read-out is fitted on, the
block edit's collection trajectories, the summary's batches of prompts) are dealt out to the
ranks in turn, and every rank receives every unit's result, in the order a single process would
have produced them (for a trajectory: the updates its taps made, replayed into the moments). Everything downstream
(the moments, float64 sums in that order; the fit; the figures) is therefore the same
arithmetic as in one process, and the written patch is byte-identical to a single-process run
with the same threads per process (tests/test_distributed.py). Rank 0 alone writes, verifies and
prints; the others stop before writing.

Results travel as safetensors bytes (never pickles) over `all_gather`: gloo on CPUs, NCCL on GPUs
(each rank on `cuda:LOCAL_RANK`). Without torchrun (no WORLD_SIZE, or 1) nothing here does anything.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

import torch

from weditor.errors import WeditorError

METHODS = (
    "text",
    "refusal",
    "uce",
    "safree",
)  # methods whose work is dealt out; the others refuse to run under torchrun


def world() -> int:
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    import torch.distributed as dist

    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main() -> bool:
    return rank() == 0


def init_from_env(device_hint: str | None = None) -> int:
    """Join the process group torchrun describes in the environment; returns the world size (1: no torchrun)."""
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return world()
    cuda = torch.cuda.is_available() and (device_hint or "cuda").startswith("cuda")
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    return world()


def close():
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def device_for(device: str) -> str:
    """`cuda` means this rank's GPU under torchrun; any other device is left as given."""
    if world() > 1 and device == "cuda":
        return f"cuda:{os.environ.get('LOCAL_RANK', '0')}"
    return device


def check_method(method: str | None, reins: bool = False):
    if world() > 1 and (method not in METHODS or reins):
        what = f"--method {method}" + (" --reins" if reins else "")
        raise WeditorError(
            f"{what}: not data-parallel yet; under torchrun only --method {', '.join(METHODS)} "
            "(without --reins) deal their work out; run it in one process"
        )


def stop_unless_main():
    """On ranks other than 0: leave the process group and exit 0 (rank 0 writes, verifies and reports)."""
    if world() > 1 and not is_main():
        close()
        raise SystemExit(0)


def _comm_device() -> torch.device:
    import torch.distributed as dist

    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _to_bytes(tensors: dict[int, dict[str, torch.Tensor]]) -> torch.Tensor:
    from safetensors.torch import save

    flat = {f"{i}/{name}": t.detach().cpu().clone() for i, part in tensors.items() for name, t in part.items()}
    meta = {"units": ",".join(str(i) for i in tensors)}
    return torch.frombuffer(bytearray(save(flat, metadata=meta)), dtype=torch.uint8)


def _from_bytes(buf: torch.Tensor) -> dict[int, dict[str, torch.Tensor]]:
    import json
    import struct

    from safetensors.torch import load

    raw = bytes(buf.cpu().numpy())
    (n,) = struct.unpack("<Q", raw[:8])
    units = json.loads(raw[8 : 8 + n]).get("__metadata__", {}).get("units", "")
    out: dict[int, dict[str, torch.Tensor]] = {int(i): {} for i in units.split(",") if i}
    for key, t in load(raw).items():
        i, name = key.split("/", 1)
        out[int(i)][name] = t
    return out


def gather_units(mine: dict[int, dict[str, torch.Tensor]]) -> dict[int, dict[str, torch.Tensor]]:
    """Every rank's {unit index: {name: tensor}}, merged: each rank ends with all of them."""
    import torch.distributed as dist

    dev = _comm_device()
    buf = _to_bytes(mine).to(dev)
    sizes = [torch.zeros(1, dtype=torch.int64, device=dev) for _ in range(world())]
    dist.all_gather(sizes, torch.tensor([buf.numel()], dtype=torch.int64, device=dev))
    top = int(max(s.item() for s in sizes))
    padded = torch.zeros(top, dtype=torch.uint8, device=dev)
    padded[: buf.numel()] = buf
    parts = [torch.empty(top, dtype=torch.uint8, device=dev) for _ in range(world())]
    dist.all_gather(parts, padded)
    out: dict[int, dict[str, torch.Tensor]] = {}
    for part, size in zip(parts, sizes):
        out.update(_from_bytes(part[: int(size.item())]))
    return out


def map_units(
    fn: Callable[[object], dict[str, torch.Tensor]], items: Sequence, device=None
) -> list[dict[str, torch.Tensor]]:
    """`[fn(item) for item in items]`, the items dealt out to the ranks in turn (item i to rank i mod N),
    every result on every rank (moved to `device`), in the items' order. One process: just the loop."""
    if world() == 1:
        return [fn(item) for item in items]
    mine = {i: fn(item) for i, item in enumerate(items) if i % world() == rank()}
    merged = gather_units(mine)
    out = []
    for i in range(len(items)):
        part = merged[i]
        out.append({k: (v if device is None else v.to(device)) for k, v in part.items()})
    return out
