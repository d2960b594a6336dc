"""`weditor patch --method uce`: the closed-form key/value edit of weditor/methods/kv_edit.py, written and verified.

The fit (weditor/methods/kv_edit.py) gives one map `M` per denoiser; every block's cross-attention key and
value weight becomes `W (I - Q^T A)` with `Q^T A = I - M`. `Q` is saved as the directions and `[A | 0]`
as the read-out of that denoiser (`COMPONENT.kv_map`), so `weditor verify` recomputes every edited
tensor from the base with the same arithmetic as the text read-out's (kind `input_readout`). The
write, the stock reload and the card are the shared path of weditor/methods/text_fold.py.
"""

from __future__ import annotations

from weditor.errors import WeditorError
from weditor.methods.kv_edit import KVParams

KIND = "input_readout"  # W (I - Q^T A): weditor.checks.verify recomputes it like the text read-out


def params_from(cfg) -> KVParams:
    return KVParams(tokens=cfg.uce_tokens, substitute=cfg.uce_substitute, preserve_scale=cfg.uce_preserve, lam=cfg.uce_lambda, rounds=cfg.uce_rounds)


def fold(pipe, adapter, base, factors: dict, linears: dict):
    """Edited weights read from the base checkpoint (not the live, possibly cast, model), locations, recipe entries."""
    from weditor.io.checkpoint import read_tensors, tensor_locations
    from weditor.methods.kv_edit import edit_weight
    from weditor.pipeline.compare import tensor_sha256

    edited, locations, entries = {}, {}, []
    for component, paths in linears.items():
        locations[component] = tensor_locations(base.folder, component)
        f = factors[component]
        for path in paths:
            name = f"{path}.weight"
            if name not in locations[component]:
                raise WeditorError(f"{base.folder}/{component}: tensor {name} not found in the checkpoint")
            w = read_tensors(base.folder, {name: locations[component][name]})[name]
            if w.ndim != 2 or w.shape[1] != f.Q.shape[1]:
                raise WeditorError(f"{component}.{path}: reads width {w.shape[-1]}, but its tokens have {f.Q.shape[1]}")
            new = edit_weight(w, f)
            edited.setdefault(component, {})[name] = new
            entries.append({"component": component, "tensor": name, "file": locations[component][name], "kind": KIND,
                            "rank": int(f.Q.shape[0]), "reads": "cross_attention_tokens",
                            "sha256_before": tensor_sha256(w), "sha256_after": tensor_sha256(new)})
    return edited, locations, entries


def fit_summary(stats, maps: dict) -> list[dict]:
    """Per denoiser: how far the edit moves the erased tokens to their twins, and the kept tokens (relative, mean squares)."""
    import torch

    rows = []
    for c, M in maps.items():
        m = stats.moments[c]
        n = max(m.erase_count, 1)
        E, X, P = m.erase_outer / n, m.cross / n, m.keep.sum_outer / max(m.keep.count, 1)
        T = m.target_outer / n
        # mean ||M c - c*||^2 / mean ||c - c*||^2, and mean ||M c_j - c_j||^2 / mean ||c_j||^2
        before = float(torch.trace(E) - 2 * torch.trace(X) + torch.trace(T))
        after = float(torch.trace(M @ E @ M.T) - 2 * torch.trace(M @ X.T) + torch.trace(T))
        D = M - torch.eye(M.shape[0], dtype=M.dtype)
        kept = float(torch.trace(D @ P @ D.T) / torch.trace(P).clamp_min(1e-300))
        rows.append({"denoiser": c, "erased_tokens": m.erase_count, "kept_tokens": m.keep.count,
                     "distance_to_twin_after": round(after / max(before, 1e-300), 4), "kept_token_change": round(kept, 6)})
    return rows


def run_uce(cfg, echo=print):
    """Encode, solve, fold, then the shared write / verify path."""
    import time

    from weditor.methods import kv_edit
    from weditor.io.pairs import load_pairsets, neutral_prompts
    from weditor.pipeline.run import Phases, load_base, open_pipeline
    from weditor.methods.text_fold import output_change, publish

    t_start, phases = time.perf_counter(), Phases(cfg.device)
    params = params_from(cfg)
    params.check()
    pairsets = load_pairsets(cfg.pairs)
    base, adapter = load_base(cfg.model, cfg.revision, getattr(cfg, "allow_pickle", False))
    kv_edit.refuse_unless_supported(adapter)
    base, out_dir, pipe, settings = open_pipeline(cfg, pairsets, base, adapter, offload=cfg.offload, phases=phases)
    with phases("encode"):
        stats = kv_edit.statistics(pipe, adapter, pairsets, neutral_prompts(pairsets), params.tokens, cfg.device,
                                   params.substitute)
    with phases("fit"):
        maps = kv_edit.solve(stats, params)
        factors = {c: kv_edit.factor(M) for c, M in maps.items()}
    with phases("edit"):
        edited, locations, entries = fold(pipe, adapter, base, factors, kv_edit.kv_linears(pipe, adapter))
    rows = fit_summary(stats, maps)
    with phases("summary"):  # includes loading the edit into the live model
        summary = output_change(cfg, pipe, adapter, pairsets, settings, edited)
    if summary:
        summary = {"sites": [], "uce": rows, **summary}
    recorded = {"method": "uce", "uce_tokens": params.tokens, "uce_substitute": params.substitute, "uce_preserve": params.preserve_scale,
                "uce_lambda": params.lam, "uce_rounds": params.rounds, "seed": cfg.seed, "steps": cfg.steps,
                "size": list(settings.size), "dtype": cfg.dtype, "uce_fit": rows,
                "uce_aligned": stats.aligned}
    directions = {f"{c}.kv_map": f.Q for c, f in factors.items()}
    readouts = {f"{c}.kv_map": f for c, f in factors.items()}
    return publish(cfg, base, adapter, pipe, settings, out_dir, pairsets, "uce", recorded, edited, locations, entries,
                   summary, directions, readouts, phases=phases, t_start=t_start)
