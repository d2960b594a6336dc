"""Direction finders, in the manner of scikit-learn estimators.

They see only arrays or accumulated moments, never a model: the same code serves every
architecture, and tests can plant a direction in synthetic data and check it comes back.
"""

from __future__ import annotations

import numpy as np
import torch

from weditor.maths.moments import RunningMoments, as_moments


class ZeroDirectionError(ValueError):
    """The paired activations do not differ: there is no concept direction to remove."""


def _orthonormal_rows(vectors: list[torch.Tensor], tol: float = 1e-8) -> torch.Tensor:
    """Gram-Schmidt over `vectors`, dropping those (numerically) in the span of earlier ones."""
    basis: list[torch.Tensor] = []
    for v in vectors:
        v = v.clone()
        norm0 = v.norm()
        for b in basis:
            v -= (v @ b) * b
        for b in basis:  # twice is enough (Kahan): keeps the rows orthogonal to ~1e-15
            v -= (v @ b) * b
        if norm0 > 0 and v.norm() > tol * norm0:
            basis.append(v / v.norm())
    return torch.stack(basis) if basis else torch.zeros(0, vectors[0].numel(), dtype=vectors[0].dtype)


class RefusalDirection:
    """Low-rank refusal direction(s) from paired activation differences.

    The mean of the paired differences `delta = x_unsafe - x_safe` is the raw concept
    direction, but it also carries whatever else the pairs happen to share. Projecting it on
    the top eigenvectors of `cov(delta) - alpha * cov(neutral)` keeps only what varies with
    the concept *and* is not ordinary variation of unrelated prompts (contrastive PCA, after
    Facchiano et al. 2026). The contrastive matrix is indefinite, so the subspace comes from
    `eigh` with positive eigenvalues only, never from an SVD.

    Parameters
    ----------
    n_components : int
        Number of orthonormal directions returned. The first is the projected mean
        difference; further ones are the next eigenvectors of the contrastive matrix.
    rank : int or None
        Size k of the subspace the mean difference is projected on. None skips the
        projection (the plain mean-difference vector of the paper's ablation).
    alpha : float
        Weight of the neutral covariance; 0 gives plain PCA of the differences. The neutral
        covariance is first rescaled to the trace of the difference covariance, so alpha is
        relative and one value means the same on layers and models whose activation scales
        differ by orders of magnitude (at alpha = 1 the contrastive matrix has zero trace).

    Attributes
    ----------
    components_ : ndarray (n_components, d)
        Orthonormal directions to remove, first = `r_hat`.
    refusal_vector_ : ndarray (d,)
        The mean paired difference `r` before projection.
    subspace_ : ndarray (k, d) or None
        The contrastive subspace `U_k^T`.
    explained_variance_ : ndarray (k,)
        Positive eigenvalues of the contrastive matrix kept in the subspace.
    retained_norm_ : float
        `||r_k|| / ||r||`: how much of the mean difference survives the projection.
    n_samples_ : int
        Number of difference vectors seen.
    """

    def __init__(self, n_components: int = 1, rank: int | None = 100, alpha: float = 1.0):
        self.n_components = n_components
        self.rank = rank
        self.alpha = alpha

    def fit(self, delta, neutral=None) -> "RefusalDirection":
        if self.n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {self.n_components}")
        if self.rank is not None and self.rank < 1:
            raise ValueError(f"rank must be >= 1 or None, got {self.rank}")
        if not 0 <= self.alpha < float("inf"):  # NaN fails too
            raise ValueError(f"alpha must be a finite number >= 0, got {self.alpha}")
        stats: RunningMoments = as_moments(delta)
        if stats.count == 0:
            raise ValueError("no difference vectors to fit")
        dim = stats.dim
        r = stats.mean.double()
        if not torch.isfinite(stats.sum_outer).all() or not torch.isfinite(r).all():
            raise ValueError("activation differences contain NaN or Inf")
        scale = stats.sum_outer.diagonal().sum().div(stats.count).clamp_min(0).sqrt()  # RMS size of delta
        r_norm = r.norm()
        if r_norm <= 1e-7 * max(float(scale), 1e-30) or r_norm == 0:
            raise ZeroDirectionError(
                f"the mean paired difference is numerically zero (|r| = {float(r_norm):.3g}): the pairs do not differ here"
            )

        subspace = eigvals = None
        eigvecs_desc: list[torch.Tensor] = []
        if self.rank is not None or self.n_components > 1:
            matrix = stats.covariance.double()
            if neutral is not None and self.alpha > 0:
                n_stats = as_moments(neutral)
                if n_stats.dim != dim:
                    raise ValueError(f"neutral activations have dimension {n_stats.dim}, differences have {dim}")
                c_e = n_stats.covariance.double().to(matrix.device)
                if not torch.isfinite(c_e).all():
                    raise ValueError("neutral activations contain NaN or Inf (or overflow float64)")
                trace_e = c_e.diagonal().sum()
                if trace_e > 0:  # neutral prompts that do not vary at all carry no contrast
                    matrix = matrix - self.alpha * (matrix.diagonal().sum() / trace_e) * c_e
            matrix = (matrix + matrix.T) / 2
            if not torch.isfinite(matrix).all():
                raise ValueError("the contrastive matrix overflows float64 (activations too large)")
            try:
                values, vectors = torch.linalg.eigh(matrix)
            except torch.linalg.LinAlgError as e:
                raise ValueError(f"the eigendecomposition of the contrastive matrix failed ({e})") from None
            order = torch.argsort(values, descending=True)
            values, vectors = values[order], vectors[:, order]
            positive = values > values.abs().max() * 1e-10
            values, vectors = values[positive], vectors[:, positive]
            k = vectors.shape[1] if self.rank is None else min(self.rank, vectors.shape[1])
            if k == 0:
                raise ZeroDirectionError(
                    "the contrastive matrix has no positive eigenvalue: the concept varies less than neutral prompts do"
                )
            subspace, eigvals = vectors[:, :k].T, values[:k]
            eigvecs_desc = list(vectors.T)

        if self.rank is None:
            r_k = r
        else:
            r_k = subspace.T @ (subspace @ r)
        retained = float(r_k.norm() / r_norm)
        if retained < 1e-6:
            raise ZeroDirectionError(
                "the mean paired difference is orthogonal to the concept subspace; lower alpha or raise rank"
            )
        # Only the first n_components rows are kept, and Gram-Schmidt drops at most one of the
        # orthonormal eigenvectors after r_k: n_components + 1 of them give the same rows, bit for
        # bit, as all d (whose O(d^2) loop cost as much as the eigendecomposition).
        rows = _orthonormal_rows([r_k] + eigvecs_desc[: self.n_components + 1])[: self.n_components]
        if rows.shape[0] < self.n_components:
            raise ValueError(f"only {rows.shape[0]} independent directions exist, asked for {self.n_components}")

        self.components_ = rows.cpu().numpy()
        self.refusal_vector_ = r.cpu().numpy()
        self.subspace_ = None if subspace is None else subspace.cpu().numpy()
        self.explained_variance_ = None if eigvals is None else eigvals.cpu().numpy()
        self.retained_norm_ = retained
        self.n_samples_ = stats.count
        self.n_features_in_ = dim
        return self

    def transform(self, X) -> np.ndarray:
        """Coordinates of X along the fitted directions."""
        return np.asarray(X, dtype=np.float64) @ self.components_.T
