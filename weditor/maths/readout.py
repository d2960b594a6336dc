"""How much of a concept a token carries, read linearly from the token: the read-out edit.

The orthogonal projection `x - Q^T Q x` removes everything a token holds along the refusal
directions Q, whoever put it there. On the shapes model that is too much: an orange or a green
shape's tokens also lie partly along "red minus white", and lose it (orange turns yellow, green
cyan). The read-out edit keeps the directions and changes only how much is removed:

    x  ->  x - strength * Q^T (A x + a)

where `A x + a` predicts, from the token itself, the part of `Q x` that the concept put there.
It is fitted by least squares on what collection already sees: the unsafe member of each pair
should lose its paired difference (`A u + a = Q (u - s)`), the safe member and every neutral
token should lose nothing (`A s + a = 0`, `A n + a = 0`). The edit is affine, so it folds into
the weight and bias of the linear that writes the stream (or the weight of one that reads it)
exactly, like the projection it replaces; with `A = Q` and `a = 0` it *is* the projection.

How much the neutral tokens weigh against the pairs (`neutral_weight_`) is a trade: heavier
protects other concepts better and removes less of this one. Rather than a weight whose meaning
changes with the data, the user sets the `removal` it must still reach (the fraction of each
concept's mean paired difference the read-out removes on its own pairs), and the fit finds the
heaviest neutral weight that reaches it. On the shapes model that one number meant the same
thing with one concept and with two (docs/benchmarks.md, "The read-out edit").
"""

from __future__ import annotations

import torch

from weditor.maths.moments import PairMoments, RunningMoments
from weditor.maths.shifted_solve import EigSolver, shifted_solver

_LOG_WEIGHTS = (-6.0, 6.0)  # search range of log10(neutral weight)
_BISECTIONS = 40


def _gram(moments: RunningMoments, intercept: bool) -> torch.Tensor:
    """Sum of phi phi^T over the tokens, phi = [x, 1] (or x alone)."""
    g = moments.sum_outer.double()
    if not intercept:
        return g.clone()
    d = moments.dim
    out = torch.zeros(d + 1, d + 1, dtype=torch.float64, device=g.device)
    out[:d, :d] = g
    out[:d, d] = out[d, :d] = moments.sum.double()
    out[d, d] = moments.count
    return out


def _phi(vector: torch.Tensor, intercept: bool) -> torch.Tensor:
    return torch.cat([vector, vector.new_ones(1)]) if intercept else vector


class ConceptReadout:
    """Least-squares read-out of a concept along fixed directions, as selective as a removal target allows.

    Parameters
    ----------
    removal : float
        Fraction of each concept's mean paired difference (along the directions) that the read-out
        must remove on the concept's own pairs, in (0, 1]. The neutral tokens weigh as much as
        this allows: lower values protect other concepts more and erase less.
    fit_intercept : bool
        Fit the constant `a` too. A reading linear folds `a` into its bias only through its
        weight, and some have no bias, so the patch fits it for writing linears only.
    solver : str
        How the shifted systems are solved (weditor/maths/shifted_solve.py): "eig" (a full
        eigendecomposition), "tridiagonal" (a tridiagonal reduction, CPU), or "auto" (the
        tridiagonal one on the CPU from width 1024, the eigendecomposition otherwise).
    ridge : float
        Tikhonov term added to the paired and to the neutral Gram matrices, each relative to its
        own mean second moment: it keeps both invertible when there are fewer tokens than
        dimensions, and the read-out bounded when the neutral weight is low.

    Attributes
    ----------
    coef_ : ndarray (m, d)
        `A`: the read-out, one row per direction.
    intercept_ : ndarray (m,)
        `a` (zeros without `fit_intercept`).
    neutral_weight_ : float
        Weight of the neutral tokens, per token, relative to the paired tokens (as counted).
    removal_ : ndarray (n_calibrated,)
        Removal reached for each calibrated concept, in the order given to `fit`.
    n_samples_ : int
        Paired tokens seen (over all concepts).
    """

    def __init__(self, removal: float = 0.6, fit_intercept: bool = True, ridge: float = 1e-6, solver: str = "auto"):
        self.removal = removal
        self.fit_intercept = fit_intercept
        self.ridge = ridge
        self.solver = solver

    def fit(
        self, Q, pairs: list[PairMoments], neutral: RunningMoments | None = None, calibrate: list[int] | None = None
    ) -> "ConceptReadout":
        """Fit on every pair set's tokens; `calibrate` (indices into `pairs`, default all) names the
        concepts whose removal must reach `removal` (the others are data, their removal is reported)."""
        if not (0.0 < self.removal <= 1.0):
            raise ValueError(f"removal must be in (0, 1], got {self.removal}")
        if not pairs or sum(p.count for p in pairs) == 0:
            raise ValueError("no paired tokens to fit a read-out on")
        Q = torch.as_tensor(Q).double()
        Q = Q.reshape(1, -1) if Q.ndim == 1 else Q
        dim, icpt = pairs[0].dim, self.fit_intercept
        if Q.shape[1] != dim or any(p.dim != dim for p in pairs) or (neutral is not None and neutral.dim != dim):
            raise ValueError(f"directions, pairs and neutral moments disagree on the dimension ({Q.shape[1]} vs {dim})")
        device = pairs[0].device
        Q = Q.to(device)
        size = dim + 1 if icpt else dim
        g_pairs = torch.zeros(size, size, dtype=torch.float64, device=device)
        rhs = torch.zeros(size, Q.shape[0], dtype=torch.float64, device=device)
        targets = []  # per concept: mean unsafe phi, and Q r (what the read-out should give it)
        for p in pairs:  # in place, the same sums in the same order: two d x d temporaries fewer (issue 22)
            both = _gram(p.unsafe, icpt)
            safe = p.safe_moments()
            both += _gram(safe, icpt) if icpt else safe.sum_outer
            del safe
            g_pairs += both
            del both
            rhs[:dim] += p.cross.double() @ Q.T
            if icpt:
                rhs[dim] += Q @ p.delta.sum.double()
            targets.append((_phi(p.unsafe.mean.double(), icpt), Q @ p.delta.mean.double()))
            p.release()  # its d x d sums are in g_pairs and rhs now (formed again from its rows if read)
        for phi, t in targets:
            if not torch.isfinite(phi).all() or not torch.isfinite(t).all():
                raise ValueError("paired activations contain NaN or Inf")
        n_pairs = sum(p.count for p in pairs)

        if neutral is not None and neutral.count > 0:
            g_neutral = _gram(neutral, icpt).mul_(n_pairs / neutral.count)  # weight 1 = as much as all pair tokens
            neutral.release()
        else:
            g_neutral = torch.zeros_like(g_pairs)
        # Tikhonov on both, each relative to its own scale: without it a few paired tokens in a wide
        # layer make the read-out blow up (a tiny random UNet gave |A| ~ 1e4) when the neutral weight is low.
        # Added in place (no identity matrix, no copies: 134 MB each at Wan's width), the same bits as
        # `g + ridge * scale * eye`: the off-diagonal entries get + 0.0 (which turns -0.0 into +0.0).
        pair_scale = float(g_pairs[:dim, :dim].diagonal().mean()) or 1.0
        g_pairs.add_(0.0).diagonal().add_(self.ridge * pair_scale)
        scale = float(g_neutral[:dim, :dim].diagonal().mean()) or pair_scale
        g_neutral.add_(0.0).diagonal().add_(self.ridge * scale)
        if not torch.isfinite(g_pairs).all() or not torch.isfinite(g_neutral).all():
            raise ValueError("activations overflow float64")

        # (G_pairs + w G_neutral)^-1 for any w from one factorisation: with G_neutral = L L^T and
        # M = L^-1 G_pairs L^-T, the inverse is L^-T (M + w I)^-1 L^-1 (weditor/maths/shifted_solve.py).
        try:
            L = torch.linalg.cholesky(g_neutral)
        except torch.linalg.LinAlgError:
            raise ValueError("the neutral tokens' Gram matrix is not positive definite; raise ridge") from None
        del g_neutral  # at Wan's width 134 MB; the solver does not need it
        probes = torch.stack([phi for phi, _ in targets], dim=1)
        solver = shifted_solver(L, g_pairs, rhs, probes, self.solver)
        solve = solver.solve

        def reached(sol: torch.Tensor) -> torch.Tensor:
            return torch.stack([(phi @ sol) @ t / (t @ t).clamp_min(1e-300) for phi, t in targets])

        def reached_at(weight: float) -> torch.Tensor:
            if isinstance(solver, EigSolver):  # as it always was, bit for bit
                return reached(solve(weight))
            at = solver.probe(weight).to(device)  # (concepts, m): phi_c^T solve(weight), O(d)
            return torch.stack([at[c] @ t / (t @ t).clamp_min(1e-300) for c, (_, t) in enumerate(targets)])

        chosen = list(range(len(pairs))) if calibrate is None else list(calibrate)

        def enough(weight: float) -> bool:
            return float(reached_at(weight)[chosen].min()) >= self.removal

        lo, hi = _LOG_WEIGHTS
        if enough(10**hi):
            lo = hi
        elif enough(10**lo):
            for _ in range(_BISECTIONS):  # the removal falls as the neutral weight grows
                mid = (lo + hi) / 2
                if enough(10**mid):
                    lo = mid
                else:
                    hi = mid
        # else: even (almost) without neutral weight the pairs cannot reach it; keep the closest
        sol = solve(10**lo)
        if not torch.isfinite(sol).all():
            raise ValueError("the read-out fit is not finite")
        self.coef_ = sol[:dim].T.contiguous().cpu().numpy()  # contiguous: the same sums wherever it is reused
        self.intercept_ = (
            (sol[dim] if icpt else torch.zeros(Q.shape[0], dtype=torch.float64)).contiguous().cpu().numpy()
        )
        self.neutral_weight_ = 10**lo
        self.removal_ = reached(sol)[chosen].cpu().numpy()
        self.n_samples_ = n_pairs
        self.n_features_in_ = dim
        return self

    @classmethod
    def stack(cls, parts: list["ConceptReadout"]) -> "ConceptReadout":
        """One read-out from several fitted on disjoint rows of Q (one per concept), rows in order.

        Each concept then gets the neutral weight its own removal allows: fitted jointly, the concept
        that is hardest to remove would set a low weight for all of them.
        """
        import numpy as np

        out = cls(removal=min(p.removal for p in parts), fit_intercept=parts[0].fit_intercept, ridge=parts[0].ridge)
        out.coef_ = np.ascontiguousarray(np.concatenate([p.coef_ for p in parts]))
        out.intercept_ = np.ascontiguousarray(np.concatenate([p.intercept_ for p in parts]))
        out.removal_ = np.concatenate([p.removal_ for p in parts])
        out.neutral_weight_ = min(p.neutral_weight_ for p in parts)  # the least protective one
        out.n_samples_ = sum(p.n_samples_ for p in parts)
        out.n_features_in_ = parts[0].n_features_in_
        return out

    def predict(self, X):
        """`A x + a` for each row of X: how much to remove along each direction."""
        import numpy as np

        return np.asarray(X, dtype=np.float64) @ self.coef_.T + self.intercept_
