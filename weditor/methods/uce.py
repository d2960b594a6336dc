"""`weditor patch --method uce`: the closed-form key/value edit of weditor/methods/kv_edit.py, written and verified.

The fit (weditor/methods/kv_edit.py) gives one map `M` per denoiser; every block's cross-attention key and
value weight becomes `W (I - Q^T A)` with `Q^T A = I - M`. `Q` is saved as the directions and `[A | 0]`
as the read-out of that denoiser (`COMPONENT.kv_map`), so `weditor verify` recomputes every edited
tensor from the base with the same arithmetic as the text read-out's (kind `input_readout`). The
write, the stock reload and the card are the pipeline's, as for every method (weditor/pipeline/run.py).
"""

from __future__ import annotations

from weditor.errors import WeditorError
from weditor.methods.kv_edit import KVParams

KIND = "input_readout"  # W (I - Q^T A): weditor.checks.verify recomputes it like the text read-out


def params_from(cfg) -> KVParams:
    return KVParams(
        tokens=cfg.uce_tokens,
        substitute=cfg.uce_substitute,
        preserve_scale=cfg.uce_preserve,
        lam=cfg.uce_lambda,
        rounds=cfg.uce_rounds,
    )


def fold(pipe, adapter, base, factors: dict, linears: dict):
    """Edited weights read from the base checkpoint (not the live, possibly cast, model), locations, recipe entries."""
    from weditor.io.checkpoint import read_tensors, tensor_locations
    from weditor.io.tensors import tensor_sha256
    from weditor.methods.kv_edit import edit_weight

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
            entries.append(
                {
                    "component": component,
                    "tensor": name,
                    "file": locations[component][name],
                    "kind": KIND,
                    "rank": int(f.Q.shape[0]),
                    "reads": "cross_attention_tokens",
                    "sha256_before": tensor_sha256(w),
                    "sha256_after": tensor_sha256(new),
                }
            )
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
        rows.append(
            {
                "denoiser": c,
                "erased_tokens": m.erase_count,
                "kept_tokens": m.keep.count,
                "distance_to_twin_after": round(after / max(before, 1e-300), 4),
                "kept_token_change": round(kept, 6),
            }
        )
    return rows


class Uce:
    """`--method uce`: encode the pairs, solve the key/value maps in closed form, fold them into every key and value."""

    name = "uce"

    @staticmethod
    def card_note(params: dict) -> str:
        return CARD_NOTE

    def check(self, cfg, adapter):
        from weditor.methods import kv_edit

        params_from(cfg).check()
        kv_edit.refuse_unless_supported(adapter)

    def fit(self, ctx):
        from weditor.io.pairs import neutral_prompts
        from weditor.methods import kv_edit
        from weditor.methods.base import EditSet, Fitted

        cfg, pipe, adapter, phases, pairsets = ctx.cfg, ctx.pipe, ctx.adapter, ctx.phases, ctx.pairsets
        params = params_from(cfg)
        with phases("encode"):
            stats = kv_edit.statistics(
                pipe, adapter, pairsets, neutral_prompts(pairsets), params.tokens, cfg.device, params.substitute
            )
        with phases("fit"):
            maps = kv_edit.solve(stats, params)
            factors = {c: kv_edit.factor(M) for c, M in maps.items()}
        with phases("edit"):
            edits = EditSet(*fold(pipe, adapter, ctx.base, factors, kv_edit.kv_linears(pipe, adapter)))
        return Fitted(
            edits,
            {f"{c}.kv_map": f.Q for c, f in factors.items()},
            {f"{c}.kv_map": f for c, f in factors.items()},
            state={"rows": fit_summary(stats, maps), "params": params, "aligned": stats.aligned},
        )

    def summarise(self, ctx, fitted) -> dict:
        from weditor.models.measure import output_change

        with ctx.phases("summary"):  # includes loading the edit into the live model
            summary = output_change(ctx.cfg, ctx.pipe, ctx.adapter, ctx.pairsets, ctx.settings, fitted.edits.edited)
        return {"sites": [], "uce": fitted.state["rows"], **summary} if summary else summary

    def params(self, ctx, fitted) -> dict:
        from weditor.methods.text_fold import text_input_param

        cfg, params = ctx.cfg, fitted.state["params"]
        recorded = {
            "method": "uce",
            "uce_tokens": params.tokens,
            "uce_substitute": params.substitute,
            "uce_preserve": params.preserve_scale,
            "uce_lambda": params.lam,
            "uce_rounds": params.rounds,
            "seed": cfg.seed,
            "steps": cfg.steps,
            "size": list(ctx.settings.size),
            "dtype": cfg.dtype,
            "uce_fit": fitted.state["rows"],
            "uce_aligned": fitted.state["aligned"],
        }
        return {**recorded, **text_input_param(fitted.edits)}


CARD_NOTE = (
    "Unified Concept Editing's closed-form edit of the cross-attention keys and values (after Gandikota et al., "
    '"Unified Concept Editing in Diffusion Models"). Each unsafe prompt\'s tokens, as the cross-attention reads '
    "them, are aligned with its safe twin's by a diff of the token ids (equal to equal, substituted to "
    "substituted, deleted to the padding vector); every key and value projection `W` of every block is replaced "
    "by the least-squares `W M` that maps the unsafe tokens onto their twins while keeping the tokens of the safe "
    "and neutral prompts, `M = (X + p P + lam I)(E + p P + lam I)^-1` (the parameters are listed below; `I - M` "
    "is stored factored as `Q^T A` in `weditor/directions.safetensors` and `weditor/readout.safetensors`). "
    "Closed form: no gradient training."
)

UCE = Uce()
