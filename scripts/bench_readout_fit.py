"""Per-site cost of the read-out fit at the widths of real models, both solvers (weditor/maths/shifted_solve.py).

The moments are random (a low-rank-plus-ridge neutral Gram, 64 pairs), the fit is
`ConceptReadout.fit` as the patch runs it; process CPU time, one torch thread unless told.

    OMP_NUM_THREADS=1 python scripts/bench_readout_fit.py --widths 1536 3072 4096 5120
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from weditor.maths.moments import PairMoments, RunningMoments
from weditor.maths.readout import ConceptReadout


def moments(d: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    concept = torch.randn(d, generator=g, dtype=torch.float64)
    u = torch.randn(64, d, generator=g, dtype=torch.float64) + concept
    pm = PairMoments(d).update(u, u - concept - 0.1 * torch.randn(64, d, generator=g, dtype=torch.float64))
    neutral = RunningMoments(d).update(torch.randn(512, d, generator=g, dtype=torch.float64) * 2)
    return (pm.delta.mean / pm.delta.mean.norm())[None], pm, neutral


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[1536, 3072, 4096, 5120])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    print("| width | eig (CPU s) | tridiagonal (CPU s) | speed-up | max rel. diff of the read-out |")
    print("|---:|---:|---:|---:|---:|")
    for d in a.widths:
        q, pm, neutral = moments(d)
        out = {}
        for solver in ("eig", "tridiagonal"):
            c0 = time.process_time()
            out[solver] = ConceptReadout(removal=0.6, fit_intercept=True, solver=solver).fit(q, [pm], neutral)
            out[solver + "_s"] = time.process_time() - c0
        diff = float(np.abs(out["tridiagonal"].coef_ - out["eig"].coef_).max() / np.abs(out["eig"].coef_).max())
        rows.append({"width": d, "eig_s": out["eig_s"], "tridiagonal_s": out["tridiagonal_s"], "max_rel_diff": diff})
        print(
            f"| {d} | {out['eig_s']:.2f} | {out['tridiagonal_s']:.2f} | {out['eig_s'] / out['tridiagonal_s']:.1f}x "
            f"| {diff:.1e} |",
            flush=True,
        )
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
