"""Tensors by their bytes: the SHA-256 a recipe records, and bit-for-bit equality (a NaN equals itself,
-0.0 differs from 0.0), shared by the reload check, `weditor verify` and `weditor diff`."""

from __future__ import annotations

import hashlib

import torch


def tensor_sha256(t: torch.Tensor) -> str:
    return hashlib.sha256(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()).hexdigest()


def bits(t: torch.Tensor) -> torch.Tensor:
    """The tensor's bytes, flat (a bool tensor as it is: one byte per element already)."""
    t = t.contiguous().reshape(-1)
    return t.view(torch.uint8) if t.dtype != torch.bool else t


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(bits(a), bits(b))
