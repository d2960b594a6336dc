"""Several denoiser inputs in one forward: conds stacked along the batch (issue 22).

A denoiser treats the members of a batch independently, so two sets of prompts that would take
two forwards can share one when their conds are plain per-prompt tensors; an adapter whose cond
holds anything else (a shared video, a lazy entry, a scalar) keeps its separate forwards.
"""

from __future__ import annotations

import torch


def rows(cond: dict) -> int | None:
    """The batch size of `cond` if every entry is a tensor with that many rows along dim 0, else None."""
    sizes = {v.shape[0] if isinstance(v, torch.Tensor) and v.ndim >= 1 else None for v in cond.values()}
    return next(iter(sizes)) if len(sizes) == 1 and None not in sizes else None


def stacked(*conds: dict) -> dict | None:
    """`conds` concatenated member after member (same keys, dtypes and trailing shapes), or None when
    they cannot share a forward."""
    keys = set(conds[0])
    if any(set(c) != keys or rows(c) is None for c in conds):
        return None
    out = {}
    for k in conds[0]:
        parts = [c[k] for c in conds]
        if any(
            p.shape[1:] != parts[0].shape[1:] or p.dtype != parts[0].dtype or p.device != parts[0].device for p in parts
        ):
            return None
        out[k] = torch.cat(parts)
    return out
