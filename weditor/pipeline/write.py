"""The write stage: the recipe, the staged folder, then verify and card, then the rename into place.

Nothing reaches `out_dir` unless every step passed; the staging folder is removed on any error.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from weditor import __version__
from weditor.io import recipe as recipes
from weditor.io.card_meta import recipe_record as card_record
from weditor.io.checkpoint import BaseModel, move_into_place, staging_dir, write_patched
from weditor.io.file_modes import share_like_other_files
from weditor.io.pairs import PairSet
from weditor.io.pickles import recipe_note as pickles_recipe_note
from weditor.methods import reins as reins_fold
from weditor.methods.base import EditSet
from weditor.models import distributed
from weditor.pipeline import status
from weditor.pipeline.card import finalize_card
from weditor.pipeline.phases import Phases
from weditor.pipeline.verify import verify_staged


@dataclass
class Recipe:
    """What every method's patch records in `weditor.json`, version `recipes.FORMAT` (recipes of older
    versions are read through weditor/io/migrations.py); `write_patch` adds the file hashes, the
    verification and the search's record, then the card is built from it."""

    base: BaseModel
    pairsets: list[PairSet]
    method: str  # the method's name, "+reins" with a REINS fold on top (methods.base.recipe_method)
    params: dict  # every hyper-parameter that took part (the method's `params`)
    edits: list  # the EditSet's entries
    summary: dict  # the method's `summarise`
    extra: dict = field(default_factory=dict)  # fields a method adds before the summary (refusal: skipped_sites)

    def to_dict(self) -> dict:
        base = self.base
        recipe = {
            "format": recipes.FORMAT,
            "weditor_version": __version__,
            "base_model": {"id": base.id, "revision": base.revision, "pipeline_class": base.pipeline_class},
            "pairs": [
                {"path": f"{recipes.PAIRS_DIR}/{ps.concept}.toml", "concept": ps.concept, "sha256": ps.sha256}
                for ps in self.pairsets
            ],
            "method": self.method,
            "params": self.params,
            "edits": self.edits,
            **self.extra,
            "summary": self.summary,
        }
        recipe["base_model"].update(pickles_recipe_note())  # converted / left-out pickle files, if any
        return recipe


def write_patch(
    cfg,
    base: BaseModel,
    adapter,
    pipe,
    settings,
    out_dir: Path,
    pairsets,
    recipe: Recipe,
    edits: EditSet,
    directions: dict,
    readouts: dict | None = None,
    folded=None,
    phases: Phases | None = None,
    release: bool = True,
) -> dict:
    """Stage the patched folder, verify it with a stock reload, write the card, then rename it into place.

    Nothing reaches `out_dir` unless every step passed; the staging folder is removed on any error.
    Returns the recipe as written (with file hashes and the verification).
    """
    phases = phases if phases is not None else Phases(cfg.device)
    distributed.stop_unless_main()  # under torchrun rank 0 alone writes and verifies (weditor/models/distributed.py)
    recipe = recipe.to_dict()
    staging = staging_dir(out_dir)
    try:
        t_save = time.perf_counter()
        status.show("save")
        write_patched(
            base.folder, staging, edits.edited, edits.locations, link=cfg.link, trees=(base.tree,) if base.tree else ()
        )
        pair_dir = staging / recipes.PAIRS_DIR
        pair_dir.mkdir(parents=True, exist_ok=True)
        for ps in pairsets:
            (pair_dir / f"{ps.concept}.toml").write_bytes(ps.raw)
        if directions:
            save_directions(staging / recipes.DIRECTIONS_FILE, directions)
        if readouts:
            save_readouts(staging / recipes.READOUT_FILE, readouts)
        if folded is not None:
            reins_fold.save_fold(staging / recipes.REINS_FILE, folded)
        if getattr(cfg, "tuning", None):
            recipe["tuning"] = cfg.tuning
        if getattr(cfg, "self_check", None):
            recipe["self_check"] = cfg.self_check
        recipe["card"] = card_record(cfg.card, base, pairsets)  # base_model, license, pair file names
        share_like_other_files(staging / "weditor")  # safetensors writes 0600 (weditor/io/file_modes.py)
        with phases("hash"):
            recipe["files"] = recipes.hash_files(staging)
        recipes.write_recipe(staging, recipe)
        phases.add("save", time.perf_counter() - t_save)  # hash included
        with phases("verify"):
            recipe["verification"] = verify_staged(base, staging, pipe, adapter, edits, settings, cfg, release=release)
        with phases("card"):
            recipes.write_recipe(staging, recipe)  # the recipe is outside its own hash list
            # The model card reads the verified recipe; writing it re-hashes the folder.
            finalize_card(staging, base_dir=base.folder, repo_id=cfg.push_to_hub)  # never the folder's name
            recipe = recipes.load_recipe(staging)
            move_into_place(staging, out_dir, cfg.overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return recipe


def save_directions(path: Path, directions: dict):
    """The removed directions, so an audit can recompute every edit from the base weights."""
    from safetensors.torch import save_file

    # clone: two denoisers reading one text embedding (Wan 2.2) share one Q, and safetensors refuses shared memory
    save_file({str(k): q.double().cpu().clone().contiguous() for k, q in directions.items()}, path)


def save_readouts(path: Path, readouts: dict):
    """Each site's read-out as one (m, d + 1) tensor `[A | a]`, so an audit can recompute the edit."""
    from safetensors.torch import save_file

    tensors = {}
    for k, ro in readouts.items():
        A, a = torch.as_tensor(ro.coef_).double(), torch.as_tensor(ro.intercept_).double()
        tensors[str(k)] = torch.cat([A, a.reshape(-1, 1)], dim=1).contiguous()
    save_file(tensors, path)
