"""What the edits on the text side share: where they fold, and how their patch is written.

An edit of the prompt embeddings that is linear in each token folds exactly into every linear of
the denoiser that reads those embeddings (`adapter.text_input`: Wan's
`condition_embedder.text_embedder.linear_1`, CogVideoX's `patch_embed.text_proj`, LTX's
`caption_projection.linear_1`, HunyuanVideo's token-refiner inputs, every `attn2.to_k/to_v` of a
UNet). The text encoder itself is left untouched, so its (often largest) files stay links to the
base. SAFREE's projection (weditor/methods/safree.py) and the text read-out (weditor/methods/text.py)
differ only in the fit; the pipeline writes, verifies and describes their patches as any other's.
"""

from __future__ import annotations

from weditor.errors import WeditorError


def text_linears(pipe, adapter) -> dict[tuple[str, str], list[str]]:
    """{(component, cond key): denoiser-relative paths of the linears reading that embedding}."""
    from weditor.adapters.paths import expand_all
    from weditor.models.runtime import present_denoisers

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
    from weditor.io.checkpoint import read_tensors, tensor_locations
    from weditor.io.tensors import tensor_sha256

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
                raise WeditorError(
                    f"{component}.{path}: reads width {w.shape[1]}, but the {key} embeddings have {Q.shape[1]}"
                )
            new = edit(w, key)
            edited.setdefault(component, {})[name] = new
            entries.append(
                {
                    "component": component,
                    "tensor": name,
                    "file": locations[component][name],
                    "kind": kind,
                    "rank": int(Q.shape[0]),
                    "reads": key,
                    "sha256_before": tensor_sha256(w),
                    "sha256_after": tensor_sha256(new),
                }
            )
    return edited, locations, entries


def text_input_param(edits) -> dict:
    """The recipe's "text_input": per denoiser, the linears the text-side edit was folded into."""
    return {
        "text_input": {
            c: sorted(
                {
                    e["tensor"][: -len(".weight")]
                    for e in edits.entries
                    if e["component"] == c and e["kind"] != "bias_fold"
                }
            )
            for c in edits.edited
        }
    }
