"""`weditor patch`, as a library call: load, then the method's fit / summary / parameters, then write.

Kept free of click so that scripts and benchmarks run exactly what the command runs. The stages:

    load (pipeline/load.py) -> method.fit: collect, fit, edit (methods/) -> REINS fold on top (--reins)
    -> method.summarise: measure (models/measure.py) -> method.params -> write, verify, card (pipeline/write.py)

The self-tuning (pipeline/tuning.py) runs first and hands the loaded pipeline over in `cfg.opened`.
"""

from __future__ import annotations

import time

from weditor.errors import WeditorError
from weditor.io.pairs import load_pairsets
from weditor.methods import registry
from weditor.methods import reins as reins_fold
from weditor.methods.base import recipe_method
from weditor.models import distributed
from weditor.pipeline import status
from weditor.pipeline.config import PatchConfig, PatchResult
from weditor.pipeline.load import load
from weditor.pipeline.write import Recipe, write_patch


def run_patch(cfg: PatchConfig, echo=print) -> PatchResult:
    from weditor.io import pickles

    with pickles.workspace(cfg.allow_pickle):  # a pickle-converted base lives in it, removed at the end
        try:
            return _run_patch(cfg, echo)
        except OSError as e:  # disk full, permissions, a vanished file: one line, and nothing was published
            from weditor.io.workspace import output_name

            where = f" ({output_name(e.filename, cfg.out)})" if getattr(e, "filename", None) else ""
            raise WeditorError(
                f"{type(e).__name__}: {e.strerror or e}{where}; nothing was written to {cfg.out}"
            ) from None


def _run_patch(cfg: PatchConfig, echo=print) -> PatchResult:
    if cfg.pairs and not getattr(cfg, "prepared", False) and not hasattr(cfg, "self_check"):
        # the search (or the self-check) first; a recipe's reproduction carries its record instead
        from weditor.pipeline.tuning import prepare

        t0 = time.perf_counter()
        cfg = prepare(cfg, echo)
        cfg.prepared, seconds = True, time.perf_counter() - t0
        result = _run_patch(cfg, echo)
        result.timings["total"] += seconds  # the method's own clock started after it
        return result
    t_start = time.perf_counter()
    if cfg.method is None and cfg.pairs:
        cfg.resolve_method(load_pairsets(cfg.pairs))
    cfg.check()
    distributed.check_method(cfg.method, cfg.uses_reins)  # under torchrun: a method that deals its work out
    cfg.device = distributed.device_for(cfg.device)
    method = registry.get(cfg.method)
    ctx = load(cfg, method, echo, t_start)
    reins_keys = reins_fold.reins_blocks(ctx.pipe, ctx.adapter, cfg.reins_layer) if cfg.uses_reins else []
    fitted = method.fit(ctx)
    if reins_keys:  # on top of the method's edit: a bias it changed is folded on top of it
        with ctx.phases("reins"):
            fitted.folded = reins_fold.fold(
                ctx.pipe,
                ctx.adapter,
                ctx.base,
                ctx.pairsets,
                ctx.settings,
                reins_keys,
                cfg.reins_strength,
                fitted.edits,
            )
    if cfg.summary and getattr(cfg, "self_check", None) and getattr(cfg, "shared_runs", None) is None:
        # the self-check's record came with a recipe: the original runs the summary shares with it are run again,
        # only if the summary asks for them (weditor/models/measure.py)
        from weditor.pipeline.objective import original_runs_again

        cfg.shared_runs = lambda: original_runs_again(
            ctx.pipe, ctx.adapter, ctx.pairsets, ctx.settings, cfg.seed, cfg.device
        )
    status.show("summary")
    summary = method.summarise(ctx, fitted)  # loads the edit into the live pipeline, measured or not
    params = method.params(ctx, fitted)
    if cfg.twins != "pair":  # the twins the search chose (weditor/io/twins.py); other recipes stay as they were
        params["twins"] = cfg.twins
    recipe = Recipe(
        ctx.base, ctx.pairsets, recipe_method(method, fitted), params, fitted.edits.entries, summary, fitted.extra
    )
    recipe = write_patch(
        cfg,
        ctx.base,
        ctx.adapter,
        ctx.pipe,
        ctx.settings,
        ctx.out_dir,
        ctx.pairsets,
        recipe,
        fitted.edits,
        fitted.directions,
        fitted.readouts,
        fitted.folded,
        ctx.phases,
        release=fitted.release,
    )
    ctx.phases.seconds["total"] = time.perf_counter() - t_start
    return PatchResult(
        out_dir=ctx.out_dir,
        recipe=recipe,
        summary=summary,
        timings=ctx.phases.seconds,
        peak_gpu_bytes=ctx.phases.peak_gpu_bytes,
    )
