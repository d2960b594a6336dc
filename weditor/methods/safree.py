"""SAFREE's projection, folded into weights (`weditor patch --method safree`).

SAFREE (Yoon et al., ICLR 2025) builds a "toxic subspace" from concept keywords in the text-
embedding space and projects prompt token embeddings onto its orthogonal complement at run time.
That projection is a linear map of the embeddings, so it folds exactly into every linear that
reads them: `W <- W (I - P)` with `P = Q^T Q` (adapter.text_input: Wan's
`condition_embedder.text_embedder.linear_1`, CogVideoX's `patch_embed.text_proj`, LTX's
`caption_projection.linear_1`, HunyuanVideo's token-refiner inputs, every `attn2.to_k/to_v` of a
UNet). The adaptive parts of SAFREE (per-prompt detection of trigger tokens, self-validating
filtering of denoising steps, latent re-attention) depend on the prompt and cannot be weights;
see docs/safree.md.

The subspace, per text-embedding space the denoiser reads (HunyuanVideo has two: Llama tokens and
the CLIP pooled vector):

- each keyword of the pair files (`keywords = [...]`) is encoded by the pipeline's own text
  encoder(s), exactly as a prompt (adapter.encode);
- `pool = "mean"`: one vector per keyword, the mean over its real tokens (attention mask; the
  padding the pipeline adds is left out); `pool = "tokens"`: every real token is a vector;
- the vectors are centred on the mean embedding of the pair files' neutral prompts (pooled the
  same way), so that what every prompt shares (a common offset of all embeddings) is not removed;
- an SVD gives an orthonormal basis; the top `rank` directions (at most one per vector, and none
  with a singular value below 1e-6 of the largest) are `Q`.
"""

from __future__ import annotations

import torch

from weditor.errors import WeditorError
from weditor.io.pairs import neutral_prompts as pairs_neutral_prompts
from weditor.methods.text_fold import by_linear_group, fold_input

SAFREE_POOLING = ("mean", "tokens")
RELATIVE_CUTOFF = 1e-6


def _token_mask(pipe, adapter, cond: dict, prompts: list[str]) -> torch.Tensor:
    """(B, L) bool: the real tokens of `cond["encoder_hidden_states"]` (the padding left out)."""
    embeds = cond["encoder_hidden_states"]
    if cond.get("encoder_attention_mask") is not None:
        return cond["encoder_attention_mask"].bool().to(embeds.device)
    # Pipelines that return no mask pad with their tokenizer to the embeddings' length.
    tok = pipe.tokenizer(
        prompts,
        padding="max_length",
        max_length=embeds.shape[1],
        truncation=True,
        add_special_tokens=True,
        return_tensors="pt",
    )
    return tok.attention_mask.bool().to(embeds.device)


def embed(pipe, adapter, prompts: list[str], device: str, pool: str) -> dict[str, torch.Tensor]:
    """{cond key: (n, d) vectors} for every text-embedding space a denoiser linear reads."""
    from weditor.models.runtime import encode

    out: dict[str, list[torch.Tensor]] = {}
    for prompt in prompts:  # one at a time: the pipeline pads each prompt as it would at generation
        with torch.no_grad():
            cond = encode(pipe, adapter, [prompt], device)
        for key in adapter.text_inputs():
            x = cond[key].detach().double()
            if x.ndim == 3:
                mask = _token_mask(pipe, adapter, cond, [prompt])[0]
                rows = x[0][mask] if mask.any() else x[0]
                x = rows.mean(0, keepdim=True) if pool == "mean" else rows
            out.setdefault(key, []).append(x.reshape(-1, x.shape[-1]).cpu())
    return {k: torch.cat(v) for k, v in out.items()}


def subspace(
    keyword_vectors: torch.Tensor, neutral_vectors: torch.Tensor, rank: int | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(Q (r, d) orthonormal rows, singular values) of the keyword vectors centred on the neutral mean."""
    centred = keyword_vectors.double() - neutral_vectors.double().mean(0, keepdim=True)
    _, s, vh = torch.linalg.svd(centred, full_matrices=False)
    keep = int((s > RELATIVE_CUTOFF * s.max().clamp_min(1e-300)).sum())
    if rank is not None:
        keep = min(keep, rank)
    if keep == 0:
        raise WeditorError("SAFREE: the keyword embeddings equal the neutral mean; no subspace to remove")
    return vh[:keep].contiguous(), s


def fold(pipe, adapter, base, pairsets, rank: int | None, pool: str, strength: float, device: str):
    """Directions {name: Q}, edited tensors, their locations and recipe entries, plus fit details."""
    from weditor.maths.edits import project_input

    if not adapter.text_inputs():
        raise WeditorError(
            f"--method safree: the {adapter.family} adapter declares no linear that reads the text embeddings"
        )
    keywords = list(dict.fromkeys(k for ps in pairsets for k in ps.keywords))
    if not keywords:
        names = ", ".join(str(ps.path) for ps in pairsets)
        raise WeditorError(f'{names}: --method safree needs concept keywords (keywords = ["..."]) in the pair file')
    neutral = pairs_neutral_prompts(pairsets)
    kw, nt = embed(pipe, adapter, keywords, device, pool), embed(pipe, adapter, neutral, device, pool)
    bases, fits = {}, {}
    for key in adapter.text_inputs():
        Q, s = subspace(kw[key], nt[key], rank)
        bases[key] = Q
        fits[key] = {
            "width": int(Q.shape[1]),
            "rank": int(Q.shape[0]),
            "vectors": int(kw[key].shape[0]),
            "singular_values": [round(float(v), 6) for v in s[: Q.shape[0]]],
        }
    directions = by_linear_group(pipe, adapter, bases)
    edited, locations, entries = fold_input(
        pipe, adapter, base, bases, lambda w, key: project_input(w, bases[key], strength), "input_projection"
    )
    return directions, edited, locations, entries, {"keywords": keywords, "subspaces": fits, "bases": bases}


def energy_in(vectors: torch.Tensor, Q: torch.Tensor) -> float:
    """Fraction of the squared norm of `vectors` that lies in span(Q)."""
    v = vectors.double()
    return float((v @ Q.T).pow(2).sum() / v.pow(2).sum().clamp_min(1e-300))


class Safree:
    """`--method safree`: SAFREE's keyword subspace, projected out of the text embeddings the denoiser reads."""

    name = "safree"

    @staticmethod
    def card_note(params: dict) -> None:
        return None  # the card's parameter table says it

    def check(self, cfg, adapter):
        pool = getattr(cfg, "safree_pool", "mean")
        if pool not in SAFREE_POOLING:
            raise WeditorError(f"--safree-pool {pool}: must be one of {', '.join(SAFREE_POOLING)}")

    def fit(self, ctx):
        from weditor.methods.base import EditSet, Fitted

        cfg, pool = ctx.cfg, getattr(ctx.cfg, "safree_pool", "mean")
        with ctx.phases("fit"):  # encoding the pairs' keywords included
            directions, edited, locations, entries, fitted = fold(
                ctx.pipe, ctx.adapter, ctx.base, ctx.pairsets, cfg.rank, pool, cfg.strength, cfg.device
            )
        return Fitted(EditSet(edited, locations, entries), directions, state={"fit": fitted, "pool": pool})

    def summarise(self, ctx, fitted) -> dict:
        from weditor.models.measure import eval_prompts, output_change

        cfg, pipe, adapter, pool, fit = ctx.cfg, ctx.pipe, ctx.adapter, fitted.state["pool"], fitted.state["fit"]
        energies = []
        with ctx.phases("summary"):
            if (
                cfg.summary
            ):  # before the edit is loaded: the embeddings do not depend on it, the text encoder is not edited
                ev = embed(pipe, adapter, eval_prompts(ctx.pairsets), cfg.device, pool)
                nt = embed(pipe, adapter, pairs_neutral_prompts(ctx.pairsets), cfg.device, pool)
                kw = embed(pipe, adapter, fit["keywords"], cfg.device, pool)
                energies = [
                    {
                        "embedding": key,
                        "rank": int(Q.shape[0]),
                        "keyword_energy": round(energy_in(kw[key], Q), 4),
                        "eval_energy": round(energy_in(ev[key], Q), 4),
                        "neutral_energy": round(energy_in(nt[key], Q), 4),
                    }
                    for key, Q in fit["bases"].items()
                ]
            summary = output_change(cfg, pipe, adapter, ctx.pairsets, ctx.settings, fitted.edits.edited)
        return {"sites": [], "safree": energies, **summary} if summary else summary

    def params(self, ctx, fitted) -> dict:
        from weditor.methods.text_fold import text_input_param

        cfg, fit = ctx.cfg, fitted.state["fit"]
        params = {
            "method": "safree",
            "rank": cfg.rank,
            "strength": cfg.strength,
            "safree_pool": fitted.state["pool"],
            "steps": cfg.steps,
            "size": list(ctx.settings.size),
            "seed": cfg.seed,
            "dtype": cfg.dtype,
            "keywords": fit["keywords"],
            "subspaces": fit["subspaces"],
        }
        return {**params, **text_input_param(fitted.edits)}


SAFREE = Safree()
