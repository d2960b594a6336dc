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

import shutil

import torch

from weditor.errors import WeditorError
from weditor.pairs import neutral_prompts as pairs_neutral_prompts

SAFREE_POOLING = ("mean", "tokens")
RELATIVE_CUTOFF = 1e-6


def _token_mask(pipe, adapter, cond: dict, prompts: list[str]) -> torch.Tensor:
    """(B, L) bool: the real tokens of `cond["encoder_hidden_states"]` (the padding left out)."""
    embeds = cond["encoder_hidden_states"]
    if cond.get("encoder_attention_mask") is not None:
        return cond["encoder_attention_mask"].bool().to(embeds.device)
    # Pipelines that return no mask pad with their tokenizer to the embeddings' length.
    tok = pipe.tokenizer(prompts, padding="max_length", max_length=embeds.shape[1], truncation=True,
                         add_special_tokens=True, return_tensors="pt")
    return tok.attention_mask.bool().to(embeds.device)


def embed(pipe, adapter, prompts: list[str], device: str, pool: str) -> dict[str, torch.Tensor]:
    """{cond key: (n, d) vectors} for every text-embedding space a denoiser linear reads."""
    from weditor.collect import encode

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


def subspace(keyword_vectors: torch.Tensor, neutral_vectors: torch.Tensor, rank: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(Q (r, d) orthonormal rows, singular values) of the keyword vectors centred on the neutral mean."""
    centred = keyword_vectors.double() - neutral_vectors.double().mean(0, keepdim=True)
    _, s, vh = torch.linalg.svd(centred, full_matrices=False)
    keep = int((s > RELATIVE_CUTOFF * s.max().clamp_min(1e-300)).sum())
    if rank is not None:
        keep = min(keep, rank)
    if keep == 0:
        raise WeditorError("SAFREE: the keyword embeddings equal the neutral mean; no subspace to remove")
    return vh[:keep].contiguous(), s


def text_linears(pipe, adapter) -> dict[tuple[str, str], list[str]]:
    """{(component, cond key): denoiser-relative paths of the linears reading that embedding}."""
    from weditor.adapters.paths import expand_all
    from weditor.collect import present_denoisers

    out = {}
    for component in present_denoisers(pipe, adapter):
        model = getattr(pipe, component)
        for key, patterns in adapter.text_inputs().items():
            paths = expand_all(model, patterns)
            if not paths:
                raise WeditorError(f"{adapter.family}: no linear matches {patterns} in {component}")
            out[(component, key)] = paths
    return out


def fold(pipe, adapter, base, pairsets, rank: int | None, pool: str, strength: float, device: str):
    """Directions {name: Q}, edited tensors, their locations and recipe entries, plus fit details."""
    from weditor.checkpoint import read_tensors, tensor_locations
    from weditor.edits import project_input
    from weditor.verify import tensor_sha256

    if not adapter.text_inputs():
        raise WeditorError(f"--method safree: the {adapter.family} adapter declares no linear that reads the text embeddings")
    keywords = list(dict.fromkeys(k for ps in pairsets for k in ps.keywords))
    if not keywords:
        names = ", ".join(str(ps.path) for ps in pairsets)
        raise WeditorError(f"{names}: --method safree needs concept keywords (keywords = [\"...\"]) in the pair file")
    neutral = pairs_neutral_prompts(pairsets)
    kw, nt = embed(pipe, adapter, keywords, device, pool), embed(pipe, adapter, neutral, device, pool)
    bases, fits = {}, {}
    for key in adapter.text_inputs():
        Q, s = subspace(kw[key], nt[key], rank)
        bases[key] = Q
        fits[key] = {"width": int(Q.shape[1]), "rank": int(Q.shape[0]), "vectors": int(kw[key].shape[0]),
                     "singular_values": [round(float(v), 6) for v in s[: Q.shape[0]]]}
    directions, edited, locations, entries = {}, {}, {}, []
    for (component, key), paths in text_linears(pipe, adapter).items():
        Q = bases[key]
        directions[f"{component}.text_input.{key}"] = Q
        if component not in locations:
            locations[component] = tensor_locations(base.folder, component)
        for path in paths:
            name = f"{path}.weight"
            if name not in locations[component]:
                raise WeditorError(f"{base.folder}/{component}: tensor {name} not found in the checkpoint")
            w = read_tensors(base.folder, {name: locations[component][name]})[name]
            if w.shape[1] != Q.shape[1]:
                raise WeditorError(f"{component}.{path}: reads width {w.shape[1]}, but the {key} embeddings have {Q.shape[1]}")
            new = project_input(w, Q, strength)
            edited.setdefault(component, {})[name] = new
            entries.append({
                "component": component, "tensor": name, "file": locations[component][name],
                "kind": "input_projection", "rank": int(Q.shape[0]), "reads": key,
                "sha256_before": tensor_sha256(w), "sha256_after": tensor_sha256(new),
            })
    return directions, edited, locations, entries, {"keywords": keywords, "subspaces": fits, "bases": bases}


def energy_in(vectors: torch.Tensor, Q: torch.Tensor) -> float:
    """Fraction of the squared norm of `vectors` that lies in span(Q)."""
    v = vectors.double()
    return float((v @ Q.T).pow(2).sum() / v.pow(2).sum().clamp_min(1e-300))


def run_safree(cfg, echo=print):
    """`weditor patch --method safree`: the same load / write / verify path as the refusal edit."""
    from weditor import __version__
    from weditor import recipe as recipes
    from weditor.card import finalize_card
    from weditor.checkpoint import publish_dir, staging_dir, write_patched
    from weditor.pairs import load_pairsets
    from weditor.patching import (PatchResult, apply_in_memory, load_base, measure, open_pipeline, relative_change,
                                  save_directions, verify_staged)

    pool = getattr(cfg, "safree_pool", "mean")
    if pool not in SAFREE_POOLING:
        raise WeditorError(f"--safree-pool {pool}: must be one of {', '.join(SAFREE_POOLING)}")
    pairsets = load_pairsets(cfg.pairs)
    base, adapter = load_base(cfg.model, cfg.revision, getattr(cfg, "allow_pickle", False))
    from weditor.pickles import recipe_note

    base, out_dir, pipe, settings = open_pipeline(cfg, pairsets, base, adapter, offload=False)
    directions, edited, locations, entries, fit = fold(pipe, adapter, base, pairsets, cfg.rank, pool, cfg.strength,
                                                       cfg.device)

    summary = {}
    if cfg.summary:
        eval_prompts = [p for ps in pairsets for p in ps.eval] or [p.unsafe for ps in pairsets for p in ps.pairs]
        neutral_prompts = pairs_neutral_prompts(pairsets)
        ev, nt = embed(pipe, adapter, eval_prompts, cfg.device, pool), embed(pipe, adapter, neutral_prompts, cfg.device, pool)
        kw = embed(pipe, adapter, fit["keywords"], cfg.device, pool)
        _, rec_eval = measure(pipe, adapter, [], {}, eval_prompts, settings, cfg.strength)
        _, rec_neutral = measure(pipe, adapter, [], {}, neutral_prompts, settings, cfg.strength)
    apply_in_memory(pipe, edited)
    if cfg.summary:
        _, rec_eval2 = measure(pipe, adapter, [], {}, eval_prompts, settings, cfg.strength, forced=rec_eval)
        _, rec_neutral2 = measure(pipe, adapter, [], {}, neutral_prompts, settings, cfg.strength, forced=rec_neutral)
        summary = {
            "sites": [],
            "safree": [
                {"embedding": key, "rank": int(Q.shape[0]),
                 "keyword_energy": round(energy_in(kw[key], Q), 4),
                 "eval_energy": round(energy_in(ev[key], Q), 4),
                 "neutral_energy": round(energy_in(nt[key], Q), 4)}
                for key, Q in fit["bases"].items()
            ],
            "output_change_eval": round(relative_change(rec_eval, rec_eval2), 4),
            "output_change_neutral": round(relative_change(rec_neutral, rec_neutral2), 4),
            "eval_prompts": len(eval_prompts),
            "neutral_prompts": len(neutral_prompts),
        }

    params = {"method": "safree", "rank": cfg.rank, "strength": cfg.strength, "safree_pool": pool, "steps": cfg.steps,
              "size": list(settings.size),
              "seed": cfg.seed, "dtype": cfg.dtype, "keywords": fit["keywords"], "subspaces": fit["subspaces"],
              "text_input": {c: sorted({e["tensor"][: -len(".weight")] for e in entries if e["component"] == c})
                             for c in edited}}
    recipe = {
        "format": recipes.FORMAT,
        "weditor_version": __version__,
        "base_model": {"id": base.id, "revision": base.revision, "pipeline_class": base.pipeline_class},
        "pairs": [{"path": f"{recipes.PAIRS_DIR}/{ps.concept}.toml", "concept": ps.concept, "sha256": ps.sha256}
                  for ps in pairsets],
        "method": "safree",
        "params": params,
        "edits": entries,
        "summary": summary,
    }
    recipe["base_model"].update(recipe_note())  # converted / left-out pickle files, if any
    staging = staging_dir(out_dir)
    try:
        write_patched(base.folder, staging, edited, locations, link=getattr(cfg, "link", True))
        pair_dir = staging / recipes.PAIRS_DIR
        pair_dir.mkdir(parents=True, exist_ok=True)
        for ps in pairsets:
            (pair_dir / f"{ps.concept}.toml").write_bytes(ps.raw)
        save_directions(staging / recipes.DIRECTIONS_FILE, directions)
        recipe["files"] = recipes.hash_files(staging)
        recipes.write_recipe(staging, recipe)
        recipe["verification"] = verify_staged(base, staging, pipe, adapter, edited, locations, settings, cfg)
        recipes.write_recipe(staging, recipe)
        finalize_card(staging, base_dir=base.folder, repo_id=getattr(cfg, "push_to_hub", None) or out_dir.name)
        recipe = recipes.load_recipe(staging)
        publish_dir(staging, out_dir, cfg.overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return PatchResult(out_dir=out_dir, recipe=recipe, summary=summary)
