"""Supervised PCA (Barshan et al. 2011), in the manner of a scikit-learn estimator.

The directions `U` (d x k, orthonormal) maximise the Hilbert-Schmidt dependence between the
projected data and the labels,

    tr(U^T X^T H L H X U),      H = I - 11^T / n (centring),  L = kernel on the labels,

so they are the top eigenvectors of `Q = X^T H L H X`. REINS (Kundu et al. 2026) uses one
direction from binary safe/unsafe labels; with the delta kernel and two classes `Q` has rank 1
and its eigenvector is parallel to the difference of the class means, which is the property
the tests pin down.

`L` is never formed as an n x n matrix when it need not be: for the delta kernel
`L = Y Y^T` with `Y` the one-hot encoding of the (rows of the) labels, for the linear kernel
`L = Y Y^T` with `Y` the labels themselves, so `Q = B B^T` with `B = X^T H Y` (d x c) and the
directions are the left singular vectors of `B` -- a thin SVD, cheap even for d = 5120 hidden
channels. A callable kernel returns `L` (n x n, symmetric PSD); it is factored as
`L = Psi Psi^T` by an eigendecomposition and the same route is taken.

Sign convention (eigenvectors have none): each direction is oriented so that the projections
of the centred samples correlate positively with a label score -- the first label column for
the linear and callable kernels, the index of the label in `classes_` (sorted) for the delta
kernel. With binary labels {0, 1} the direction therefore points from class 0 to class 1:
from the mean of the samples labelled 0 to the mean of those labelled 1. Where the correlation
is (numerically) zero, the coordinate of largest magnitude is made positive.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

KERNELS = ("delta", "linear")


class SupervisedPCA:
    """Directions of the data that depend most on the labels (HSIC-maximising projection).

    Parameters
    ----------
    n_components : int
        Number of orthonormal directions to keep. They must carry label information: at most
        (number of classes - 1) for the delta kernel, (number of label columns) for the
        linear kernel, and never more than the number of features.
    kernel : "delta", "linear" or callable
        Kernel on the labels. "delta": `L_ij = 1` if samples i and j carry the same label
        (the same row, for multi-column labels) -- the choice for classes, unordered.
        "linear": `L = y y^T` on numeric labels (one or several columns) -- for ordered or
        continuous labels. A callable receives the labels as a 2-D array (n, c) and returns
        the n x n kernel matrix.
    tol : float
        Directions whose eigenvalue is below `tol` times the largest are treated as carrying
        no label information.

    Attributes
    ----------
    components_ : ndarray (n_components, n_features)
        Orthonormal directions, strongest first, oriented as the module docstring states.
    explained_variance_ : ndarray (n_components,)
        Eigenvalues of `X^T H L H X / (n - 1)^2`: the share of the empirical HSIC each
        direction captures (for the delta kernel with two classes of sizes n0, n1 the only
        non-zero one is `2 n0^2 n1^2 / (n^2 (n-1)^2) * ||mean_1 - mean_0||^2`).
    explained_variance_ratio_ : ndarray (n_components,)
        `explained_variance_` over the sum of all eigenvalues (the total HSIC).
    mean_ : ndarray (n_features,)
        Per-feature mean of the training data.
    classes_ : ndarray or None
        Sorted distinct labels (rows, for multi-column labels) for the delta kernel.
    n_samples_, n_features_in_ : int
    """

    def __init__(self, n_components: int = 1, kernel: str | Callable = "delta", tol: float = 1e-10):
        self.n_components = n_components
        self.kernel = kernel
        self.tol = tol

    # ------------------------------------------------------------------ fitting

    def _label_factor(self, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(Psi, score, classes): L = Psi Psi^T and the label score that fixes the signs."""
        n = Y.shape[0]
        if callable(self.kernel):
            L = np.asarray(self.kernel(Y), dtype=np.float64)
            if L.shape != (n, n):
                raise ValueError(f"the kernel returned shape {L.shape}, expected ({n}, {n})")
            L = (L + L.T) / 2
            w, V = np.linalg.eigh(L)
            if w.min() < -1e-8 * max(abs(w).max(), 1e-300):
                raise ValueError("the label kernel is not positive semi-definite")
            keep = w > abs(w).max() * 1e-12 if w.size else w > 0
            return V[:, keep] * np.sqrt(w[keep]), Y[:, 0].astype(np.float64), None
        if self.kernel == "linear":
            if not np.issubdtype(Y.dtype, np.number):
                raise ValueError("the linear kernel needs numeric labels; use kernel='delta' for classes")
            Yf = Y.astype(np.float64)
            return Yf, Yf[:, 0], None
        if self.kernel == "delta":
            classes, index = np.unique(Y, axis=0, return_inverse=True)
            index = np.asarray(index).reshape(-1)
            onehot = np.zeros((n, len(classes)))
            onehot[np.arange(n), index] = 1.0
            return onehot, index.astype(np.float64), classes if Y.shape[1] > 1 else classes.reshape(-1)
        raise ValueError(f"kernel must be one of {KERNELS} or a callable, got {self.kernel!r}")

    def fit(self, X, y) -> "SupervisedPCA":
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(y)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have one row per sample: X has {X.shape[0]}, y has shape {np.shape(y)}")
        n, d = X.shape
        if n < 2:
            raise ValueError("need at least 2 samples")
        if not isinstance(self.n_components, (int, np.integer)) or self.n_components < 1:
            raise ValueError(f"n_components must be an integer >= 1, got {self.n_components!r}")
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or Inf")

        Psi, score, classes = self._label_factor(Y)
        self.mean_ = X.mean(axis=0)
        Xc = X - self.mean_  # H X
        B = Xc.T @ (Psi - Psi.mean(axis=0))  # X^T H Psi (H idempotent: centre either side)
        U, s, _ = np.linalg.svd(B, full_matrices=False)
        eig = s**2
        total = float(eig.sum())
        informative = int((eig > self.tol * max(float(eig.max(initial=0.0)), 1e-300)).sum()) if total > 0 else 0
        if self.n_components > informative:
            raise ValueError(
                f"asked for {self.n_components} directions, but only {informative} carry label information "
                f"({'the labels do not vary' if informative == 0 else 'at most classes - 1 / label columns'})"
            )
        k = self.n_components
        components = U[:, :k].T.copy()
        proj = Xc @ components.T  # (n, k)
        corr = (score - score.mean()) @ proj
        for i in range(k):
            scale = np.abs(proj[:, i]).sum() * max(np.abs(score - score.mean()).max(), 1e-300)
            if abs(corr[i]) > 1e-12 * max(scale, 1e-300):
                flip = corr[i] < 0
            else:
                flip = components[i, np.argmax(np.abs(components[i]))] < 0
            if flip:
                components[i] = -components[i]

        norm = (n - 1) ** 2
        self.components_ = components
        self.explained_variance_ = eig[:k] / norm
        self.explained_variance_ratio_ = eig[:k] / total
        self.classes_ = classes
        self.n_samples_ = n
        self.n_features_in_ = d
        return self

    # ------------------------------------------------------------------ using it

    def transform(self, X) -> np.ndarray:
        """Coordinates of the centred X along the directions, shape (n, n_components)."""
        return (np.asarray(X, dtype=np.float64) - self.mean_) @ self.components_.T

    def fit_transform(self, X, y) -> np.ndarray:
        return self.fit(X, y).transform(X)

    def inverse_transform(self, Z) -> np.ndarray:
        return np.asarray(Z, dtype=np.float64) @ self.components_ + self.mean_
