"""The load stage: pairs, base model and adapter, the checks that need no weights, the pipeline, preflight.

Shared by every method, so that each refuses the same inputs in the same order before any weights
are read; its output is the `PatchContext` the method and the later stages work on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from weditor.adapters import Adapter
from weditor.errors import WeditorError
from weditor.io.checkpoint import BaseModel, check_out_dir
from weditor.io.pair_videos import check_videos_accepted
from weditor.io.pairs import PairSet, load_pairsets
from weditor.io.pickles import prepare_base
from weditor.io.twins import with_twins
from weditor.models.loading import default_size, load_base, load_pipeline
from weditor.models.preflight import run_preflight
from weditor.models.runtime import Settings
from weditor.models.size_probe import probe_size
from weditor.pipeline.config import PatchConfig
from weditor.pipeline.phases import Phases


@dataclass
class PatchContext:
    """Everything the stages after loading work on; a method reads it and writes nothing to it."""

    cfg: PatchConfig
    echo: object
    phases: Phases
    t_start: float
    pairsets: list[PairSet]
    base: BaseModel
    adapter: Adapter
    out_dir: Path
    pipe: object
    settings: Settings


def load(cfg: PatchConfig, method, echo=print, t_start: float | None = None) -> PatchContext:
    """Pairs, base and adapter, the method's and the REINS fold's refusals, then the pipeline."""
    from weditor.methods.reins import refuse_unless_foldable

    t_start = time.perf_counter() if t_start is None else t_start
    phases = Phases(cfg.device)
    # the pairs every method fits: as written, or with the twins the search chose (weditor/io/twins.py)
    pairsets = with_twins(load_pairsets(cfg.pairs), cfg.twins)
    base, adapter = load_base(cfg.model, cfg.revision, cfg.allow_pickle)
    method.check(cfg, adapter)
    if cfg.uses_reins:
        refuse_unless_foldable(adapter)
    base, out_dir, pipe, settings = open_pipeline(cfg, pairsets, base, adapter, offload=cfg.offload, phases=phases)
    return PatchContext(cfg, echo, phases, t_start, pairsets, base, adapter, out_dir, pipe, settings)


def open_pipeline(
    cfg: PatchConfig,
    pairsets: list[PairSet],
    base: BaseModel,
    adapter: Adapter,
    offload: bool,
    phases: Phases | None = None,
):
    """(base, out_dir, pipe, settings): the checks that need no weights, then the pipeline, loaded and preflighted.

    Shared by every method, so that each refuses the same inputs in the same order before any
    weights are read.
    """
    opened = getattr(cfg, "opened", None)
    if opened is not None:  # the self-tuning step (weditor/pipeline/tuning.py) loaded it, and put every weight back
        cfg.opened = None
        if phases is not None:
            for name, seconds in cfg.opened_seconds.items():
                phases.add(name, seconds)
        return opened
    out_dir = Path(cfg.out)
    check_out_dir(base.folder, out_dir, cfg.overwrite)
    base = prepare_base(base, out_dir)  # pickles refused, or converted into a mirror (weditor/io/pickles.py)
    if any(ps.has_images for ps in pairsets) and not adapter.image_to_video:
        raise WeditorError(f"{pairsets[0].path}: pairs carry images, but {base.pipeline_class} is text-to-video only")
    check_videos_accepted(pairsets, adapter, base.pipeline_class)  # videos only where a family feeds them
    torch.manual_seed(cfg.seed)
    with (phases if phases is not None else Phases(cfg.device))(
        "load"
    ):  # a throwaway clock still shows the status line
        pipe = load_pipeline(base, cfg.dtype, cfg.device, offload=offload)
        run_preflight(
            pipe, adapter, pairsets
        )  # pairs that tokenize alike, NaN/Inf weights (weditor/models/preflight.py)
    default = default_size(cfg.model, adapter, pipe)
    settings = Settings(size=cfg.size or default, steps=cfg.steps, seed=cfg.seed, device=cfg.device)
    if cfg.size:  # a size the family's tests never ran: one line now, not a traceback after the fit
        probe_size(pipe, adapter, settings, base.pipeline_class, default)
    return base, out_dir, pipe, settings
