"""Streaming first and second moments of activations.

Collection must not keep raw activations: a 14B model at a modest collection resolution
emits gigabytes of them per prompt. Count, sum and sum of outer products are enough for
every statistic the methods need (mean, covariance, projections), and their memory is
O(d^2) whatever the number of prompts, tokens or steps.

Until the rows seen are fewer than the width, though, the rows themselves are smaller than
their d x d sum: a block edit at 30 sites of width 1536 holds 2.1 GiB of float64 sums for a
few hundred tokens per site (docs/benchmarks.md, "Issue 22, third pass"). So each d x d sum
keeps its update blocks, in their own dtype, while they take fewer bytes than the sum would;
the sum is formed when first read, by replaying the same `addmm_` calls in the same order (the
same bits as summing as they came), and `release()` drops it again while the rows are kept.
Once the rows outgrow the sum, it is formed and the rows are dropped: from then on, as before.
"""

from __future__ import annotations

import torch


class _OuterSum:
    """`sum_i L_i^T R_i` over update blocks, where `form` turns a block's kept tensors into (L_i, R_i)."""

    def __init__(self, dim: int, device, dtype, form):
        self.dim, self.device, self.dtype, self.form = dim, device, dtype, form
        self.blocks: list[tuple] = []  # the updates not summed into `value`, in order
        self.kept_bytes = 0
        self.value: torch.Tensor | None = None  # the sum, once formed
        self.rows_kept = True  # False once the rows were given up for the sum

    def convert(self, t: torch.Tensor) -> torch.Tensor:
        return t.reshape(-1, self.dim).to(device=self.device, dtype=self.dtype)

    def _apply(self, acc: torch.Tensor, left: torch.Tensor, right: torch.Tensor):
        acc.addmm_(left.T, right)

    def add(self, raw: tuple, formed: tuple | None = None, owned: bool = False):
        """One update: `raw` the block's tensors as given (`owned`: copies no one else changes, shared
        between sums); `formed` (L, R) if the caller has them already."""
        size = sum(t.numel() * t.element_size() for t in {id(t): t for t in raw}.values())
        if self.rows_kept and self.kept_bytes + size <= self.dim * self.dim * self.dtype.itemsize:
            self.blocks.append(raw if owned else tuple(t.detach().clone() for t in raw))  # the caller's may change
            self.kept_bytes += size
            self.value = None  # formed again, with this block, when read
            return
        acc = self.get()  # the rows outgrow the sum: form it, drop them, and sum as they come from now on
        self.blocks, self.kept_bytes, self.rows_kept = [], 0, False
        self._apply(acc, *(formed if formed is not None else self.form(*raw)))

    def get(self) -> torch.Tensor:
        if self.value is None:
            self.value = torch.zeros(self.dim, self.dim, device=self.device, dtype=self.dtype)
            for raw in self.blocks:
                self._apply(self.value, *self.form(*raw))
        return self.value

    def set(self, value: torch.Tensor):
        self.value, self.blocks, self.kept_bytes, self.rows_kept = value, [], 0, False

    def release(self):
        if self.rows_kept:
            self.value = None


class RunningMoments:
    """Count, sum and sum of outer products of row vectors, accumulated in float64."""

    def __init__(self, dim: int, device=None, dtype=torch.float64):
        self.dim = dim
        self.count = 0
        self.sum = torch.zeros(dim, device=device, dtype=dtype)
        self._outer = _OuterSum(dim, self.sum.device, dtype, self._form)

    def _form(self, a: torch.Tensor, b: torch.Tensor | None = None):
        x = self._outer.convert(a) if b is None else self._outer.convert(a) - self._outer.convert(b)
        return x, x

    @property
    def sum_outer(self) -> torch.Tensor:
        return self._outer.get()

    @sum_outer.setter
    def sum_outer(self, value: torch.Tensor):
        self._outer.set(value)

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> "RunningMoments":
        x_raw = x.reshape(-1, self.dim)
        x = self._outer.convert(x_raw)
        self.count += x.shape[0]
        self.sum += x.sum(0)
        self._outer.add((x_raw,), (x, x))
        return self

    @torch.no_grad()
    def _update_difference(self, a: torch.Tensor, b: torch.Tensor, x: torch.Tensor):
        """Rows `x = a - b` (float64, computed by the caller); `a`, `b` (owned copies) kept instead of `x`."""
        self.count += x.shape[0]
        self.sum += x.sum(0)
        self._outer.add((a, b), (x, x), owned=True)

    def release(self) -> "RunningMoments":
        """Drop the formed d x d sum while the rows it is formed from are kept (it is formed again when read)."""
        self._outer.release()
        return self

    def merge(self, other: "RunningMoments") -> "RunningMoments":
        self.count += other.count
        self.sum += other.sum.to(self.sum.device)
        self.sum_outer += other.sum_outer.to(self.sum.device)
        return self

    @property
    def mean(self) -> torch.Tensor:
        return self.sum / max(self.count, 1)

    @property
    def covariance(self) -> torch.Tensor:
        """Centred covariance (divides by n, the maximum-likelihood estimate)."""
        mean = self.mean
        return self.sum_outer / max(self.count, 1) - torch.outer(mean, mean)

    @classmethod
    def from_array(cls, x) -> "RunningMoments":
        x = torch.as_tensor(x)
        x = x.reshape(-1, x.shape[-1])
        return cls(x.shape[-1], device=x.device).update(x)


def as_moments(x) -> RunningMoments:
    """Accept either accumulated moments or a raw (n, d) array, as estimators' `fit` does."""
    return x if isinstance(x, RunningMoments) else RunningMoments.from_array(x)


class PairMoments:
    """Moments of paired tokens (unsafe `u`, safe `s`, same noise and position), for a read-out fit.

    A read-out that predicts, from a token alone, how much concept it carries needs more than the
    differences `delta = u - s`: it needs the tokens themselves and how they co-vary with `delta`.
    Everything is kept as sums, as in `RunningMoments`: O(d^2) whatever the number of tokens (and,
    while the tokens are fewer, the tokens instead, shared by the three d x d sums).
    """

    def __init__(self, dim: int, device=None, dtype=torch.float64):
        self.dim = dim
        self.unsafe = RunningMoments(dim, device, dtype)
        self.delta = RunningMoments(dim, device, dtype)
        self._cross = _OuterSum(dim, self.unsafe.sum.device, dtype, self._form_cross)  # sum of u delta^T

    def _form_cross(self, a: torch.Tensor, b: torch.Tensor):
        u = self._cross.convert(a)
        return u, u - self._cross.convert(b)

    @property
    def cross(self) -> torch.Tensor:
        return self._cross.get()

    @property
    def device(self) -> torch.device:
        return self.unsafe.sum.device

    @property
    def count(self) -> int:
        return self.unsafe.count

    @torch.no_grad()
    def update(self, unsafe: torch.Tensor, safe: torch.Tensor) -> "PairMoments":
        u_raw, s_raw = unsafe.reshape(-1, self.dim), safe.reshape(-1, self.dim)
        u = self._cross.convert(u_raw)
        d = u - self._cross.convert(s_raw)
        if self._cross.rows_kept:  # one copy of the rows, shared by the three sums
            u_raw, s_raw = u_raw.detach().clone(), s_raw.detach().clone()
        self.unsafe.count += u.shape[0]
        self.unsafe.sum += u.sum(0)
        self.unsafe._outer.add((u_raw,), (u, u), owned=True)
        self.delta._update_difference(u_raw, s_raw, d)
        self._cross.add((u_raw, s_raw), (u, d), owned=True)
        return self

    def release(self) -> "PairMoments":
        """`RunningMoments.release` for the three d x d sums."""
        self.unsafe.release()
        self.delta.release()
        self._cross.release()
        return self

    def safe_moments(self) -> RunningMoments:
        """The safe members' moments, from `s = u - delta` (nothing more needs accumulating)."""
        s = RunningMoments(self.dim, self.device, self.unsafe.sum.dtype)
        s.count = self.unsafe.count
        s.sum = self.unsafe.sum - self.delta.sum
        s.sum_outer = self.unsafe.sum_outer - self.cross  # then in place: one d x d temporary, the same sums
        s.sum_outer -= self.cross.T
        s.sum_outer += self.delta.sum_outer
        return s
