"""`(G_pairs + w G_neutral)^-1 b` for the many weights `w` the read-out's bisection tries.

The read-out fit (weditor/maths/readout.py) looks for the heaviest neutral weight `w` that still removes
`removal` of a concept, ~40 bisection steps, each a solve with another `w`. With
`G_neutral = L L^T` and `M = L^-1 G_pairs L^-T`, every solve is `L^-T (M + w I)^-1 L^-1 b`, so one
factorisation of `M` serves them all. Two factorisations, same answer (within rounding):

- `EigSolver`: `M = V diag(lam) V^T`, a full symmetric eigendecomposition (cuSOLVER on a GPU).
  What the fit has always done; kept below `TRIDIAGONAL_FROM` on the CPU, where it costs
  milliseconds, so that the patches of small models (the shipped shapes model) keep their bytes.
- `TridiagonalSolver`: `M = Z T Z^T` with `T` tridiagonal (LAPACK `dsytrd`, Householder
  reflectors). A shifted solve is then one O(d) tridiagonal solve: the eigenvectors, most of a
  full decomposition's cost, are never formed, and `M` itself is formed with two triangular
  solves instead of an explicit inverse and two products. On the CPU at the widths of real
  models (1536 to 5120), where the eigendecomposition was most of the fit (issue 22).

Both take `b` (the right-hand sides) and `probes` (vectors `p` whose `p^T x` the bisection
reads) up front, so that each step costs O(d) and only the final solution costs O(d^2).
"""

from __future__ import annotations

import numpy as np
import torch

TRIDIAGONAL_FROM = 1024  # CPU widths from which the tridiagonal factorisation is used


class EigSolver:
    def __init__(self, L: torch.Tensor, g_pairs: torch.Tensor, rhs: torch.Tensor, probes: torch.Tensor):
        eye = torch.eye(L.shape[0], dtype=L.dtype, device=L.device)
        L_inv = torch.linalg.solve_triangular(L, eye, upper=False)
        lam, V = torch.linalg.eigh(L_inv @ g_pairs @ L_inv.T)
        self.lam = lam.clamp_min(0)
        self.left, self.right = L_inv.T @ V, V.T @ (L_inv @ rhs)
        self.probes = probes

    def solve(self, weight: float) -> torch.Tensor:
        return self.left @ (self.right / (self.lam + weight)[:, None])

    def probe(self, weight: float) -> torch.Tensor:
        """`probes^T solve(weight)`: (n_probes, m)."""
        return self.probes.T @ self.solve(weight)


class TridiagonalSolver:
    def __init__(self, L: torch.Tensor, g_pairs: torch.Tensor, rhs: torch.Tensor, probes: torch.Tensor):
        from scipy.linalg import lapack

        self.L = L
        left = torch.linalg.solve_triangular(L, g_pairs, upper=False)  # L^-1 G
        M = torch.linalg.solve_triangular(L, left.T, upper=False)  # L^-1 (L^-1 G)^T = L^-1 G L^-T (G symmetric)
        del left
        # dsytrd reads one triangle and works in place: M.T is Fortran-ordered, so nothing is copied
        c, d, e, tau, info = lapack.dsytrd(M.numpy().T, lower=1, overwrite_a=1)
        del M
        if info != 0:
            raise ValueError(f"tridiagonal reduction failed (LAPACK info {info})")
        self.reflectors, self.tau = c, tau
        self.d, self.e = np.clip(d, 0.0, None), e  # M is positive semi-definite; rounding can dip below 0
        self.b = self._qt(torch.linalg.solve_triangular(L, rhs, upper=False).numpy())
        self.p = self._qt(torch.linalg.solve_triangular(L, probes, upper=False).numpy())

    def _qt(self, x: np.ndarray) -> np.ndarray:
        """Z^T x, Z = H_0 H_1 ... H_{n-2} (the reflectors `dsytrd` left below the subdiagonal)."""
        x = np.array(x, dtype=np.float64, copy=True)
        c, tau = self.reflectors, self.tau
        for i in range(len(tau)):
            if tau[i] == 0.0:
                continue
            v = c[i + 1 :, i].copy()
            v[0] = 1.0
            x[i + 1 :] -= tau[i] * np.outer(v, v @ x[i + 1 :])
        return x

    def _z(self, y: np.ndarray) -> np.ndarray:
        """Z y."""
        y = np.array(y, dtype=np.float64, copy=True)
        c, tau = self.reflectors, self.tau
        for i in reversed(range(len(tau))):
            if tau[i] == 0.0:
                continue
            v = c[i + 1 :, i].copy()
            v[0] = 1.0
            y[i + 1 :] -= tau[i] * np.outer(v, v @ y[i + 1 :])
        return y

    def _shifted(self, weight: float, rhs: np.ndarray) -> np.ndarray:
        from scipy.linalg import lapack

        _, _, x, info = lapack.dptsv(self.d + weight, self.e, rhs)
        if info != 0:
            raise ValueError(f"shifted tridiagonal solve failed (LAPACK info {info})")
        return x

    def solve(self, weight: float) -> torch.Tensor:
        y = torch.from_numpy(self._z(self._shifted(weight, self.b)))
        return torch.linalg.solve_triangular(self.L.T, y, upper=True)

    def probe(self, weight: float) -> torch.Tensor:
        return torch.from_numpy(self.p.T @ self._shifted(weight, self.b))


def shifted_solver(
    L: torch.Tensor, g_pairs: torch.Tensor, rhs: torch.Tensor, probes: torch.Tensor, method: str = "auto"
):
    """`EigSolver` or `TridiagonalSolver` (method "auto": the tridiagonal one on the CPU from `TRIDIAGONAL_FROM`)."""
    if method == "auto":
        method = "tridiagonal" if L.device.type == "cpu" and L.shape[0] >= TRIDIAGONAL_FROM else "eig"
    if method == "tridiagonal":
        return TridiagonalSolver(L, g_pairs, rhs, probes)
    if method == "eig":
        return EigSolver(L, g_pairs, rhs, probes)
    raise ValueError(f"solver {method!r}: 'auto', 'eig' or 'tridiagonal'")
