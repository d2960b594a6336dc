"""`weditor patch --recipe weditor.json`: the same patch again, from what the output folder records.

The recipe holds every hyper-parameter and the pair files travel next to it (hash-checked), so
a published checkpoint can be re-derived from its base with one command and compared file by
file (`weditor diff`).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from weditor.errors import WeditorError
from weditor.recipe import sha256_file


def config_from_recipe(recipe_path: str | Path, out: str, model: str | None = None, **overrides):
    from weditor.patching import PatchConfig

    recipe_path = Path(recipe_path)
    try:
        recipe = json.loads(recipe_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise WeditorError(f"{recipe_path}: cannot read the recipe ({e})") from None
    for field in ("base_model", "pairs", "params"):
        if field not in recipe:
            raise WeditorError(f"{recipe_path}: field {field!r} is missing")
    pair_files = []
    for entry in recipe["pairs"]:
        path = recipe_path.parent / entry["path"]
        if not path.is_file():
            raise WeditorError(f"{recipe_path}: pair file {entry['path']} is not next to the recipe")
        if sha256_file(path) != entry["sha256"]:
            raise WeditorError(f"{path}: does not match the SHA-256 in {recipe_path.name}")
        pair_files.append(str(path))
    names = {f.name for f in dataclasses.fields(PatchConfig)}
    params = {k: v for k, v in recipe["params"].items() if k in names}
    methods = recipe.get("method", "refusal").split("+")
    params.setdefault("method", methods[0])  # the default method changed in 0.4 (refusal -> text)
    if "refusal" in methods:
        params.setdefault("neutral", "raw")  # recipes written before 0.2 collected neutral prompts one by one
        params.setdefault("edit", "projection")  # and before 0.3 removed everything along the directions
    else:  # REINS-only recipes before 0.4 recorded the (unused) neutral mode, which 0.4 refuses without refusal
        params.pop("neutral", None)
    if params.get("size") is not None:
        params["size"] = tuple(params["size"])
    params.update(overrides)
    params["tune"] = False  # the recipe holds the settings a search chose: it is not run again
    base = recipe["base_model"]
    cfg = PatchConfig(
        pairs=pair_files,
        out=out,
        model=model or base["id"],
        revision=None if model else base.get("revision"),
        **params,
    )
    if recipe.get("self_check"):  # the record travels with the patch (a recipe without one gets a new self-check)
        cfg.tuning, cfg.self_check = recipe.get("tuning"), recipe["self_check"]
    return cfg
