"""Closed-form weight edits, as pure functions of tensors.

Each edit is computed in float32 (float64 when the weight already is) and cast back to the
checkpoint's dtype, so the stored tensor is the one the maths describes, rounded once.
`Q` always holds orthonormal directions as rows, shape (m, d).
"""

from __future__ import annotations

import torch


def _work_dtype(t: torch.Tensor) -> torch.dtype:
    return torch.float64 if t.dtype == torch.float64 else torch.float32


def _directions(Q, like: torch.Tensor) -> torch.Tensor:
    Q = torch.as_tensor(Q).to(device=like.device, dtype=_work_dtype(like))
    return Q.reshape(1, -1) if Q.ndim == 1 else Q


def project_input(weight: torch.Tensor, Q, strength: float = 1.0) -> torch.Tensor:
    """`W (I - s Q^T Q)`: the layer stops reading its input along Q (exactly, for s = 1)."""
    W = weight.to(_work_dtype(weight))
    Q = _directions(Q, weight)
    return (W - strength * (W @ Q.T) @ Q).to(weight.dtype)


def project_output(weight: torch.Tensor, bias: torch.Tensor | None, Q, strength: float = 1.0):
    """`(I - s Q^T Q) W` and `(I - s Q^T Q) b`: the layer stops writing along Q."""
    W = weight.to(_work_dtype(weight))
    Q = _directions(Q, weight)
    new_w = (W - strength * Q.T @ (Q @ W)).to(weight.dtype)
    if bias is None:
        return new_w, None
    b = bias.to(_work_dtype(bias))
    new_b = (b - strength * Q.T @ (Q @ b)).to(bias.dtype)
    return new_w, new_b


def add_to_bias(bias: torch.Tensor, vector) -> torch.Tensor:
    """`b + v`: a constant added to every token the layer writes."""
    b = bias.to(_work_dtype(bias))
    return (b + torch.as_tensor(vector).to(device=b.device, dtype=b.dtype)).to(bias.dtype)
