"""The read-out's tridiagonal solver (weditor/maths/shifted_solve.py) against the full eigendecomposition it replaces on the CPU."""

import numpy as np
import pytest
import torch

from weditor.maths.moments import PairMoments, RunningMoments
from weditor.maths.readout import ConceptReadout
from weditor.maths.shifted_solve import EigSolver, TridiagonalSolver, shifted_solver


def _moments(d: int, n_pairs: int, n_neutral: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    concept = torch.randn(d, generator=g, dtype=torch.float64)
    u = torch.randn(n_pairs, d, generator=g, dtype=torch.float64) + concept
    s = u - concept - 0.1 * torch.randn(n_pairs, d, generator=g, dtype=torch.float64)
    pm = PairMoments(d).update(u, s)
    neutral = RunningMoments(d).update(torch.randn(n_neutral, d, generator=g, dtype=torch.float64) * 2)
    q = pm.delta.mean / pm.delta.mean.norm()
    return q, pm, neutral


def _system(d: int, m: int = 2, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, 3 * d, generator=g, dtype=torch.float64)
    b = torch.randn(d, d // 4, generator=g, dtype=torch.float64)
    g_neutral, g_pairs = a @ a.T / d + 1e-3 * torch.eye(d, dtype=torch.float64), b @ b.T / d
    return (
        torch.linalg.cholesky(g_neutral),
        g_neutral,
        g_pairs,
        torch.randn(d, m, generator=g, dtype=torch.float64),
        torch.randn(d, 3, generator=g, dtype=torch.float64),
    )


@pytest.mark.parametrize("weight", [1e-6, 1e-2, 1.0, 1e3])
def test_both_solvers_give_the_direct_solution(weight):
    L, g_neutral, g_pairs, rhs, probes = _system(300)
    direct = torch.linalg.solve(g_pairs + weight * g_neutral, rhs)
    for solver in (EigSolver(L, g_pairs, rhs, probes), TridiagonalSolver(L, g_pairs, rhs, probes)):
        x = solver.solve(weight)
        assert float((x - direct).norm() / direct.norm()) < 1e-9, type(solver).__name__
        assert torch.allclose(solver.probe(weight), probes.T @ direct, rtol=1e-8, atol=1e-10)


def test_a_wrong_factorisation_is_caught():
    """The comparison above can fail: a solver built on another matrix misses by far more than the tolerance."""
    L, g_neutral, g_pairs, rhs, probes = _system(120)
    wrong = TridiagonalSolver(L, g_pairs * 1.001, rhs, probes)
    direct = torch.linalg.solve(g_pairs + 1.0 * g_neutral, rhs)
    assert float((wrong.solve(1.0) - direct).norm() / direct.norm()) > 1e-6


@pytest.mark.parametrize("intercept", [False, True])
def test_the_read_out_is_the_same_with_either_solver(intercept):
    q, pm, neutral = _moments(256, n_pairs=40, n_neutral=600)
    full = ConceptReadout(removal=0.6, fit_intercept=intercept, solver="eig").fit(q[None], [pm], neutral)
    tri = ConceptReadout(removal=0.6, fit_intercept=intercept, solver="tridiagonal").fit(q[None], [pm], neutral)
    assert abs(np.log10(tri.neutral_weight_) - np.log10(full.neutral_weight_)) < 1e-6
    np.testing.assert_allclose(tri.coef_, full.coef_, rtol=1e-6, atol=1e-9 * np.abs(full.coef_).max())
    np.testing.assert_allclose(tri.intercept_, full.intercept_, atol=1e-9 * max(np.abs(full.coef_).max(), 1.0))
    np.testing.assert_allclose(tri.removal_, full.removal_, rtol=1e-8)


def test_auto_keeps_the_eigendecomposition_for_small_widths():
    """Below the threshold (the shapes model's widths) the fit is the one every shipped patch was made with."""
    L, _, g_pairs, rhs, probes = _system(64)
    assert isinstance(shifted_solver(L, g_pairs, rhs, probes), EigSolver)
    with pytest.raises(ValueError):
        shifted_solver(L, g_pairs, rhs, probes, "qr")
