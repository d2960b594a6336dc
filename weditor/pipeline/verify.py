"""The reload check of a staged patch: its files against the base and the edit, then a stock reload.

Memory is the point of the order below. The files are compared first, streamed a chunk at a time
(weditor/pipeline/compare.py), while the edited model is still in memory; then the in-memory denoisers
compute their reference outputs on fixed inputs and are dropped, and only then does the stock
pipeline class load the staged folder. The outputs (a few latents) are what is kept, not the
model: the process never holds two copies of a denoiser, nor a shard's pages twice.
"""

from __future__ import annotations

import gc

import torch

from weditor.errors import WeditorError
from weditor.io.checkpoint import BaseModel
from weditor.models.loading import load_pipeline
from weditor.models.runtime import get_module, present_denoisers
from weditor.pipeline.compare import FORWARD_TOLERANCE, compare_forward, compare_other_files, compare_safetensors

TIMESTEPS = (900.0, 300.0)  # the check's two denoiser calls per component: an early and a late step


def reference_outputs(pipe, adapter, comps, settings, seed: int):
    """(inputs, {(component, i): output}) of the in-memory denoisers on fixed inputs."""
    cond = adapter.encode(pipe, ["a test prompt"], settings.device)
    generator = torch.Generator("cpu").manual_seed(seed + 99)
    x = adapter.latents(pipe, settings.size, generator, settings.device)
    timesteps = tuple(torch.tensor(t) for t in (adapter.check_timesteps or TIMESTEPS))
    outputs = {
        (c, i): adapter.forward(getattr(pipe, c), x, t.to(settings.device), cond)
        for c in comps
        for i, t in enumerate(timesteps)
    }
    return (x, timesteps, cond), outputs


COLLECT_FROM = 2**28  # bytes of denoiser weights from which a dropped denoiser is worth a full garbage collection


def drop_denoisers(pipe, comps):
    """Drop the in-memory denoisers (their reference outputs were computed): their memory, mapped
    file pages included, is returned before the reload maps the staged files. A full garbage
    collection (a module with hooks can sit in a reference cycle) costs ~0.2 s of CPU, more than
    a small model's whole verification, so it runs only for large denoisers."""
    size = sum(p.numel() * p.element_size() for c in comps for p in getattr(pipe, c).parameters())
    for comp in comps:
        setattr(pipe, comp, None)
    if size >= COLLECT_FROM:
        gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def verify_staged(base, staging, pipe, adapter, edits, settings, cfg, release: bool = True) -> dict:
    """Compare the staged folder with the base and the edit, reload it with the stock pipeline class,
    and compare the reloaded denoisers' outputs with the in-memory edit's.

    With `release` (the default), the in-memory denoisers are dropped from `pipe` once their
    reference outputs are computed: `pipe` keeps its other modules (handed to the reload) but no
    denoiser afterwards.
    """
    edited = edits.edited
    checked = compare_safetensors(base.folder, staging, edits.by_file())
    compare_other_files(base.folder, staging)
    # The denoisers are reloaded from the staged files by the stock pipeline class; the other
    # modules (text encoder, VAE: often the bulk of the bytes) were just proven identical to
    # the base, so the ones in memory are handed over instead of being read a second time.
    comps = present_denoisers(pipe, adapter)
    # An edited component besides the denoisers (the text encoder, --method encoder) is reloaded from the
    # staged files too, never handed over: the in-memory one holds the edit the files must be proven to hold.
    others = [c for c in edited if c not in comps]
    reuse = {
        n: m
        for n, m in pipe.components.items()
        if n not in comps and n not in others and isinstance(m, torch.nn.Module)
    }
    (x, timesteps, cond), reference = reference_outputs(pipe, adapter, comps, settings, cfg.seed)
    if release:
        drop_denoisers(pipe, comps)
    reloaded = load_pipeline(
        BaseModel(staging, base.id, base.revision, base.pipeline_class),
        cfg.dtype,
        cfg.device,
        offload=cfg.offload,
        **reuse,
    )
    worst = 0.0
    try:
        for comp in others:
            for name, value in edited[comp].items():
                param = get_module(getattr(reloaded, comp), name)
                if not torch.equal(param.detach(), value.to(device=param.device, dtype=param.dtype)):
                    raise WeditorError(f"verification failed: reloaded {comp}.{name} differs from the in-memory edit")
        if others:  # the prompt as the reloaded encoder reads it, against the in-memory edit's encoding
            again = adapter.encode(reloaded, ["a test prompt"], settings.device)
            for key, value in cond.items():
                if isinstance(value, torch.Tensor) and value.is_floating_point():
                    b = again[key].detach().float()
                    if not torch.isfinite(b).all():
                        raise WeditorError("verification failed: the reloaded text encoder outputs NaN/Inf")
                    worst = max(
                        worst,
                        float(
                            (value.detach().float() - b).abs().max()
                            / value.detach().float().abs().max().clamp_min(1e-30)
                        ),
                    )
            cond = again
        for comp in comps:
            for name, value in edited.get(comp, {}).items():
                param = get_module(getattr(reloaded, comp), name)
                if not torch.equal(param.detach(), value.to(device=param.device, dtype=param.dtype)):
                    raise WeditorError(f"verification failed: reloaded {comp}.{name} differs from the in-memory edit")
            for i, t in enumerate(timesteps):
                run = lambda m: (
                    reference[(comp, i)] if m is None else adapter.forward(m, x, t.to(settings.device), cond)
                )  # noqa: E731
                worst = max(worst, compare_forward(None, getattr(reloaded, comp), run))
    finally:
        for comp in comps:  # the reloaded denoisers go too; the reused modules stay with `pipe`
            setattr(reloaded, comp, None)
        del reloaded
    if worst > FORWARD_TOLERANCE:
        raise WeditorError(
            f"verification failed: reloaded denoiser output differs by {worst:.3g} (relative) from the in-memory edit"
        )
    return {"tensors_checked": checked, "forward_max_rel_diff": worst, "tolerance": FORWARD_TOLERANCE}
