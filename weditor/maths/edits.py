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
    Q = torch.as_tensor(Q)
    Q = Q.reshape(1, -1) if Q.ndim == 1 else Q
    # A fresh tensor with standard strides: BLAS picks its kernel (and so its rounding) from the
    # strides, and a (1, d) row sliced from a file has other strides than one made in memory.
    out = torch.empty(Q.shape, device=like.device, dtype=_work_dtype(like))
    return out.copy_(Q)


def remove_input(weight: torch.Tensor, Q, coef=None, strength: float = 1.0) -> torch.Tensor:
    """`W (I - s Q^T A)`: the layer reads `x - s Q^T A x` instead of `x`.

    `coef` (A, shape (m, d)) says how much to remove along each row of Q; None means A = Q, the
    orthogonal projection (the layer stops reading along Q, exactly for s = 1). A read-out's
    intercept is not folded on this side: it would need the layer's bias, which not all have.
    """
    W = weight.to(_work_dtype(weight))
    Q = _directions(Q, weight)
    A = Q if coef is None else _directions(coef, weight)
    return (W - strength * (W @ Q.T) @ A).to(weight.dtype)


def remove_output(weight: torch.Tensor, bias: torch.Tensor | None, Q, coef=None, intercept=None, strength: float = 1.0):
    """`(I - s Q^T A) W` and `(I - s Q^T A) b - s Q^T a`: the layer writes `y - s Q^T (A y + a)` instead of `y`.

    With `coef` None (A = Q) and no intercept, the orthogonal projection: the layer stops writing
    along Q. An intercept needs a bias to live in.
    """
    W = weight.to(_work_dtype(weight))
    Q = _directions(Q, weight)
    A = Q if coef is None else _directions(coef, weight)
    new_w = (W - strength * Q.T @ (A @ W)).to(weight.dtype)
    if bias is None:
        if intercept is not None and bool(torch.as_tensor(intercept).ne(0).any()):
            raise ValueError("a read-out intercept needs a bias to fold into; this linear has none")
        return new_w, None
    b = bias.to(_work_dtype(bias))
    new_b = b - strength * Q.T @ (A @ b)
    if intercept is not None:
        new_b = new_b - strength * Q.T @ torch.as_tensor(intercept).to(device=b.device, dtype=b.dtype).reshape(-1)
    return new_w, new_b.to(bias.dtype)


def project_input(weight: torch.Tensor, Q, strength: float = 1.0) -> torch.Tensor:
    """`W (I - s Q^T Q)`: the layer stops reading its input along Q (exactly, for s = 1)."""
    return remove_input(weight, Q, strength=strength)


def project_output(weight: torch.Tensor, bias: torch.Tensor | None, Q, strength: float = 1.0):
    """`(I - s Q^T Q) W` and `(I - s Q^T Q) b`: the layer stops writing along Q."""
    return remove_output(weight, bias, Q, strength=strength)


def add_to_bias(bias: torch.Tensor, vector) -> torch.Tensor:
    """`b + v`: a constant added to every token the layer writes."""
    b = bias.to(_work_dtype(bias))
    return (b + torch.as_tensor(vector).to(device=b.device, dtype=b.dtype)).to(bias.dtype)


def add_delta(weight: torch.Tensor, delta) -> torch.Tensor:
    """`W + Delta`, in the work dtype, rounded once to the checkpoint's: an increment solved elsewhere (the
    text encoder's FFN edit, weditor/methods/encoder_edit.py) and saved, so it can be re-added bit for bit."""
    W = weight.to(_work_dtype(weight))
    return (W + torch.as_tensor(delta).to(device=W.device, dtype=W.dtype)).to(weight.dtype)
