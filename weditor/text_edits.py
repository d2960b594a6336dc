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


def by_linear_group(pipe, adapter, per_key: dict) -> dict:
    """{"COMPONENT.text_input.KEY": per_key[KEY]}: how directions and read-outs are saved, one per denoiser."""
    return {f"{component}.text_input.{key}": per_key[key] for component, key in text_linears(pipe, adapter)}


def fold_input(pipe, adapter, base, bases: dict, edit, kind: str):
    """Edited weights of every text-reading linear: `edit(W, key)` gives the new weight of a linear
    reading the `key` embeddings, whose directions are `bases[key]` (rows).

    Returns (edited, locations, recipe entries); the recipe names the embedding each linear reads.
    """
    from weditor.checkpoint import read_tensors, tensor_locations
    from weditor.verify import tensor_sha256

    edited, locations, entries = {}, {}, []
    for (component, key), paths in text_linears(pipe, adapter).items():
        Q = bases[key]
        if component not in locations:
            locations[component] = tensor_locations(base.folder, component)
        for path in paths:
            name = f"{path}.weight"
            if name not in locations[component]:
                raise WeditorError(f"{base.folder}/{component}: tensor {name} not found in the checkpoint")
            w = read_tensors(base.folder, {name: locations[component][name]})[name]
            if w.shape[1] != Q.shape[1]:
                raise WeditorError(f"{component}.{path}: reads width {w.shape[1]}, but the {key} embeddings have {Q.shape[1]}")
            new = edit(w, key)
            edited.setdefault(component, {})[name] = new
            entries.append({
                "component": component, "tensor": name, "file": locations[component][name],
                "kind": kind, "rank": int(Q.shape[0]), "reads": key,
                "sha256_before": tensor_sha256(w), "sha256_after": tensor_sha256(new),
            })
    return edited, locations, entries


def output_change(cfg, pipe, adapter, pairsets, settings, edited) -> dict:
    """Load the edit into the live pipeline; with `cfg.summary`, the denoiser's relative output change
    on the eval and neutral prompts (the "after" runs follow the "before" runs' latents)."""
    from weditor.pairs import neutral_prompts
    from weditor.patching import apply_in_memory
    from weditor.pipeline.measure import before_after, most_changed, relative_change

    if not cfg.summary:
        apply_in_memory(pipe, edited)
        return {}
    eval_prompts = [p for ps in pairsets for p in ps.eval] or [p.unsafe for ps in pairsets for p in ps.pairs]
    neutral = neutral_prompts(pairsets)
    before, after = before_after(pipe, adapter, [], {}, eval_prompts, neutral, settings, cfg.strength,
                                 lambda: apply_in_memory(pipe, edited), batch=getattr(cfg, "batch", None))
    (_, rec_eval), (_, rec_neutral) = before
    (_, rec_eval2), (_, rec_neutral2) = after
    return {"output_change_eval": round(relative_change(rec_eval, rec_eval2), 4),
            "output_change_neutral": round(relative_change(rec_neutral, rec_neutral2), 4),
            "neutral_most_changed": most_changed(neutral, rec_neutral, rec_neutral2),
            "eval_prompts": len(eval_prompts), "neutral_prompts": len(neutral)}


def publish(cfg, base, adapter, pipe, settings, out_dir, pairsets, method: str, params: dict, edited, locations,
            entries, summary: dict, directions: dict, readouts: dict | None = None, phases=None, t_start=None,
            folded=None):
    """The recipe (naming the linears that were folded into) and the shared write / verify / card path.

    `phases` (weditor.patching.Phases) gets the write's phases and, with `t_start`, the total: what
    `PatchResult.timings` reports for every method (scripts/bench_patch.py reads it). `folded`: a REINS
    fold made on top (weditor/reins.py), saved with the patch."""
    import time

    from weditor.patching import Phases, PatchResult, new_recipe, write_patch

    phases = phases if phases is not None else Phases(cfg.device)
    params = {**params, "text_input": {c: sorted({e["tensor"][: -len(".weight")] for e in entries
                                                  if e["component"] == c and e["kind"] != "bias_fold"}) for c in edited}}
    recipe = new_recipe(base, pairsets, method, params, entries, summary)
    recipe = write_patch(cfg, base, adapter, pipe, settings, out_dir, pairsets, recipe, edited, locations, directions,
                         readouts, folded=folded, phases=phases)
    if t_start is not None:
        phases.seconds["total"] = time.perf_counter() - t_start
    return PatchResult(out_dir=out_dir, recipe=recipe, summary=summary, timings=phases.seconds,
                       peak_gpu_bytes=phases.peak_gpu_bytes)
