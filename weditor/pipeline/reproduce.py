"""`weditor patch --recipe weditor.json`: the same patch again, from what the output folder records.

The recipe holds every hyper-parameter and the pair files travel next to it (hash-checked), so
a published checkpoint can be re-derived from its base with one command and compared file by
file (`weditor diff`). A recipe comes with a download: it is checked whole against
weditor/io/recipe_schema.py first, and its pair files (and their images) are read only from the
recipe's own folder.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path, PurePosixPath

from weditor.errors import WeditorError
from weditor.io.input_files import read_small_file
from weditor.io.migrations import current_params
from weditor.io.recipe import sha256_bytes
from weditor.io.recipe_schema import check_recipe

MAX_RECIPE_BYTES = 64 << 20  # a recipe lists every edited tensor and file hash: megabytes at most


def read_recipe(recipe_path: Path) -> dict:
    """The recipe at `recipe_path`, checked (`check_recipe`); one WeditorError for anything wrong with it."""
    raw = read_small_file(recipe_path, "recipe", MAX_RECIPE_BYTES)
    try:
        recipe = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise WeditorError(f"{recipe_path}: not UTF-8 text (byte {e.start})") from None
    except RecursionError:
        raise WeditorError(f"{recipe_path}: not a recipe (JSON nested too deeply)") from None
    except ValueError as e:  # JSONDecodeError, and integers too long to convert
        raise WeditorError(f"{recipe_path}: not valid JSON ({e})") from None
    return check_recipe(recipe, str(recipe_path))


def pair_file(folder: Path, recipe_path: Path, entry: dict, index: int) -> Path:
    """The pair file a recipe entry names: a relative path inside the recipe's folder, links included."""
    rel = PurePosixPath(entry["path"])
    where = f"{recipe_path}: pairs[{index}].path {entry['path']!r}"
    if rel.is_absolute() or ".." in rel.parts or "\\" in entry["path"]:
        raise WeditorError(f"{where}: must be a relative path inside the recipe's folder, without '..'")
    path = folder / rel
    if not path.resolve().is_relative_to(folder.resolve()):
        raise WeditorError(f"{where}: leads outside the recipe's folder (a symbolic link); not reading it")
    return path


def config_from_recipe(recipe_path: str | Path, out: str, model: str | None = None, **overrides):
    from weditor.io.pairs import MAX_PAIR_FILE_BYTES, parse_pairs
    from weditor.pipeline.config import PatchConfig

    recipe_path = Path(recipe_path)
    recipe = read_recipe(recipe_path)
    folder = recipe_path.parent
    pair_files = []
    for i, entry in enumerate(recipe["pairs"]):
        path = pair_file(folder, recipe_path, entry, i)
        raw = read_small_file(path, "pair file (next to the recipe)", MAX_PAIR_FILE_BYTES)
        if sha256_bytes(raw) != entry["sha256"]:
            raise WeditorError(f"{path}: does not match the SHA-256 in {recipe_path.name}")
        pairset = parse_pairs(raw, path, root=folder)  # image paths too must stay in the recipe's folder
        if pairset.concept != entry["concept"]:
            raise WeditorError(
                f"{recipe_path}: pairs[{i}].concept {entry['concept']!r}: the pair file says {pairset.concept!r}"
            )
        pair_files.append(str(path))
    params = current_params(recipe["method"], recipe["params"])  # older versions' defaults made explicit
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
    try:
        # cross-parameter rules (e.g. --site only with the refusal edit), before any model work; on a copy,
        # since check() also resolves per-method defaults (strength) that the run resolves again
        dataclasses.replace(cfg).check()
    except WeditorError as e:
        raise WeditorError(f"{recipe_path}: params: {e.message}") from None
    if recipe.get("card"):  # the Hub id, licence and pair file names the card showed (not another folder's evidence)
        cfg.card = {k: v for k, v in recipe["card"].items() if k != "evidence"}
    if recipe.get("self_check"):  # the record travels with the patch (a recipe without one gets a new self-check)
        cfg.tuning, cfg.self_check = recipe.get("tuning"), recipe["self_check"]
    return cfg
