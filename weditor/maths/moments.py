"""Streaming first and second moments of activations.

Collection must not keep raw activations: a 14B model at a modest collection resolution
emits gigabytes of them per prompt. Count, sum and sum of outer products are enough for
every statistic the methods need (mean, covariance, projections), and their memory is
O(d^2) whatever the number of prompts, tokens or steps.
"""

from __future__ import annotations

import torch


class RunningMoments:
    """Count, sum and sum of outer products of row vectors, accumulated in float64."""

    def __init__(self, dim: int, device=None, dtype=torch.float64):
        self.dim = dim
        self.count = 0
        self.sum = torch.zeros(dim, device=device, dtype=dtype)
        self.sum_outer = torch.zeros(dim, dim, device=device, dtype=dtype)

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> "RunningMoments":
        x = x.reshape(-1, self.dim).to(device=self.sum.device, dtype=self.sum.dtype)
        self.count += x.shape[0]
        self.sum += x.sum(0)
        self.sum_outer.addmm_(x.T, x)
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
    Everything is kept as sums, as in `RunningMoments`: O(d^2) whatever the number of tokens.
    """

    def __init__(self, dim: int, device=None, dtype=torch.float64):
        self.dim = dim
        self.unsafe = RunningMoments(dim, device, dtype)
        self.delta = RunningMoments(dim, device, dtype)
        self.cross = torch.zeros(dim, dim, device=device, dtype=dtype)  # sum of u delta^T

    @property
    def count(self) -> int:
        return self.unsafe.count

    @torch.no_grad()
    def update(self, unsafe: torch.Tensor, safe: torch.Tensor) -> "PairMoments":
        u = unsafe.reshape(-1, self.dim).to(device=self.cross.device, dtype=self.cross.dtype)
        d = u - safe.reshape(-1, self.dim).to(device=self.cross.device, dtype=self.cross.dtype)
        self.unsafe.update(u)
        self.delta.update(d)
        self.cross.addmm_(u.T, d)
        return self

    def safe_moments(self) -> RunningMoments:
        """The safe members' moments, from `s = u - delta` (nothing more needs accumulating)."""
        s = RunningMoments(self.dim, self.cross.device, self.cross.dtype)
        s.count = self.unsafe.count
        s.sum = self.unsafe.sum - self.delta.sum
        s.sum_outer = self.unsafe.sum_outer - self.cross  # then in place: one d x d temporary, the same sums
        s.sum_outer -= self.cross.T
        s.sum_outer += self.delta.sum_outer
        return s
