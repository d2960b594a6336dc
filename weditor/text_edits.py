"""What the edits on the text side share: where they fold, and how their patch is written.

An edit of the prompt embeddings that is linear in each token folds exactly into every linear of
the denoiser that reads those embeddings (`adapter.text_input`: Wan's
`condition_embedder.text_embedder.linear_1`, CogVideoX's `patch_embed.text_proj`, LTX's
`caption_projection.linear_1`, HunyuanVideo's token-refiner inputs, every `attn2.to_k/to_v` of a
UNet). The text encoder itself is left untouched, so its (often largest) files stay links to the
base. SAFREE's projection (weditor/safree.py) and the text read-out (weditor/text_readout.py)
differ only in the fit; both write, verify and describe the patch through `publish`.
"""

from __future__ import annotations

import shutil

from weditor.errors import WeditorError


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


def fold_input(pipe, adapter, base, edit_for, kind: str):
    """Edited weights of every text-reading linear: `edit_for(key, W)` gives the new weight.

    Returns (edited, locations, recipe entries); the recipe names the embedding each linear reads.
    """
    from weditor.checkpoint import read_tensors, tensor_locations
    from weditor.verify import tensor_sha256

    edited, locations, entries = {}, {}, []
    for (component, key), paths in text_linears(pipe, adapter).items():
        if component not in locations:
            locations[component] = tensor_locations(base.folder, component)
        for path in paths:
            name = f"{path}.weight"
            if name not in locations[component]:
                raise WeditorError(f"{base.folder}/{component}: tensor {name} not found in the checkpoint")
            w = read_tensors(base.folder, {name: locations[component][name]})[name]
            new, rank = edit_for(key, w, f"{component}.{path}")
            edited.setdefault(component, {})[name] = new
            entries.append({
                "component": component, "tensor": name, "file": locations[component][name],
                "kind": kind, "rank": rank, "reads": key,
                "sha256_before": tensor_sha256(w), "sha256_after": tensor_sha256(new),
            })
    return edited, locations, entries


def output_change(cfg, pipe, adapter, pairsets, settings, edited) -> dict:
    """Load the edit into the live pipeline; with `cfg.summary`, the denoiser's relative output change
    on the eval and neutral prompts (the "after" runs follow the "before" runs' latents)."""
    from weditor.pairs import neutral_prompts
    from weditor.patching import apply_in_memory, measure, relative_change

    if not cfg.summary:
        apply_in_memory(pipe, edited)
        return {}
    eval_prompts = [p for ps in pairsets for p in ps.eval] or [p.unsafe for ps in pairsets for p in ps.pairs]
    neutral = neutral_prompts(pairsets)
    _, rec_eval = measure(pipe, adapter, [], {}, eval_prompts, settings, cfg.strength)
    _, rec_neutral = measure(pipe, adapter, [], {}, neutral, settings, cfg.strength)
    apply_in_memory(pipe, edited)
    _, rec_eval2 = measure(pipe, adapter, [], {}, eval_prompts, settings, cfg.strength, forced=rec_eval)
    _, rec_neutral2 = measure(pipe, adapter, [], {}, neutral, settings, cfg.strength, forced=rec_neutral)
    return {"output_change_eval": round(relative_change(rec_eval, rec_eval2), 4),
            "output_change_neutral": round(relative_change(rec_neutral, rec_neutral2), 4),
            "eval_prompts": len(eval_prompts), "neutral_prompts": len(neutral)}


def publish(cfg, base, adapter, pipe, settings, out_dir, pairsets, method: str, params: dict, edited, locations,
            entries, summary: dict, directions: dict, readouts: dict | None = None):
    """Write the patch to a staging folder, verify it with a stock reload, write the card, then rename."""
    from weditor import __version__
    from weditor import recipe as recipes
    from weditor.card import finalize_card
    from weditor.checkpoint import publish_dir, staging_dir, write_patched
    from weditor.patching import PatchResult, save_directions, save_readouts, verify_staged
    from weditor.pickles import recipe_note

    params = {**params, "text_input": {c: sorted({e["tensor"][: -len(".weight")] for e in entries if e["component"] == c})
                                       for c in edited}}
    recipe = {
        "format": recipes.FORMAT,
        "weditor_version": __version__,
        "base_model": {"id": base.id, "revision": base.revision, "pipeline_class": base.pipeline_class},
        "pairs": [{"path": f"{recipes.PAIRS_DIR}/{ps.concept}.toml", "concept": ps.concept, "sha256": ps.sha256}
                  for ps in pairsets],
        "method": method,
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
        if readouts:
            save_readouts(staging / recipes.READOUT_FILE, readouts)
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
