"""The verify stage: the staged folder, reloaded with the stock pipeline class, against the in-memory edit."""

from __future__ import annotations

import torch

from weditor.errors import WeditorError
from weditor.io.checkpoint import BaseModel
from weditor.models.loading import load_pipeline
from weditor.models.runtime import get_module, present_denoisers
from weditor.pipeline.compare import FORWARD_TOLERANCE, compare_forward, compare_other_files, compare_safetensors


def verify_staged(base, staging, pipe, adapter, edits, settings, cfg, release: bool = False) -> dict:
    """Reload the staged folder with the stock pipeline class and compare with the in-memory edit.

    With `release`, the in-memory denoisers are dropped from `pipe` once their reference outputs
    are computed, before the reload: peak memory then holds one copy of each denoiser, not two.
    """
    edited = edits.edited
    checked = compare_safetensors(base.folder, staging, edits.by_file())
    compare_other_files(base.folder, staging)
    # The denoisers are reloaded from the staged files by the stock pipeline class; the other
    # modules (text encoder, VAE: often the bulk of the bytes) were just proven identical to
    # the base, so the ones in memory are handed over instead of being read a second time.
    comps = present_denoisers(pipe, adapter)
    reuse = {n: m for n, m in pipe.components.items() if n not in comps and isinstance(m, torch.nn.Module)}
    cond = adapter.encode(pipe, ["a test prompt"], settings.device)
    generator = torch.Generator("cpu").manual_seed(cfg.seed + 99)
    x = adapter.latents(pipe, settings.size, generator, settings.device)
    timesteps = (torch.tensor(900.0), torch.tensor(300.0))
    reference = {(c, i): adapter.forward(getattr(pipe, c), x, t.to(settings.device), cond) for c in comps for i, t in enumerate(timesteps)}
    if release:
        for comp in comps:
            setattr(pipe, comp, None)
    reloaded = load_pipeline(BaseModel(staging, base.id, base.revision, base.pipeline_class), cfg.dtype, cfg.device,
                             offload=cfg.offload, **reuse)
    worst = 0.0
    for comp in comps:
        for name, value in edited.get(comp, {}).items():
            param = get_module(getattr(reloaded, comp), name)
            if not torch.equal(param.detach(), value.to(device=param.device, dtype=param.dtype)):
                raise WeditorError(f"verification failed: reloaded {comp}.{name} differs from the in-memory edit")
        for i, t in enumerate(timesteps):
            run = lambda m: reference[(comp, i)] if m is None else adapter.forward(m, x, t.to(settings.device), cond)  # noqa: E731
            worst = max(worst, compare_forward(None, getattr(reloaded, comp), run))
    if worst > FORWARD_TOLERANCE:
        raise WeditorError(f"verification failed: reloaded denoiser output differs by {worst:.3g} (relative) from the in-memory edit")
    del reloaded
    return {"tensors_checked": checked, "forward_max_rel_diff": worst, "tolerance": FORWARD_TOLERANCE}
