"""Running the denoiser the way the pipeline does, with taps on chosen linears.

Both members of a pair go through the denoiser in one batch with the *same* initial noise,
timesteps and positions, so video tokens stay aligned and a per-token difference isolates
what the prompt changed. The shared latent follows the first member's trajectory (the unsafe
prompt: those are the states in which the concept must be removed). A few steps spread over
the schedule are enough; each call of a tap sees the activations of one site at one step.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import torch
from tqdm.auto import tqdm

from weditor.adapters import Adapter
from weditor.errors import WeditorError


@dataclass(frozen=True)
class SiteKey:
    """One edit site: a linear (or a group sharing one input) in one block of one denoiser."""

    component: str
    block: int
    site: str

    def __str__(self):
        return f"{self.component}.blocks.{self.block}.{self.site}"


def get_module(root, path: str):
    for part in path.split("."):
        root = root[int(part)] if part.isdigit() else getattr(root, part)
    return root


def site_modules(pipe, adapter: Adapter, key: SiteKey) -> list[tuple[str, torch.nn.Module]]:
    """(denoiser-relative path, module) of every linear the site edits."""
    model = getattr(pipe, key.component)
    site = adapter.sites[key.site]
    block_path = f"{adapter.blocks}.{key.block}"
    return [(f"{block_path}.{p}", get_module(model, f"{block_path}.{p}")) for p in site.paths]


def num_blocks(pipe, adapter: Adapter, component: str) -> int:
    return len(get_module(getattr(pipe, component), adapter.blocks))


def present_denoisers(pipe, adapter: Adapter) -> list[str]:
    return [c for c in adapter.denoisers if getattr(pipe, c, None) is not None]


class Taps:
    """Forward hooks that hand a site's activations to `self.fn(key, tensor)`.

    Sites that *read* the stream are tapped at their input, sites that *write* at their
    output: that is the space in which each edit acts. Set `fn` per phase; None mutes.
    """

    def __init__(self, pipe, adapter: Adapter, keys: list[SiteKey]):
        self.fn: Callable | None = None
        self.handles = []
        for key in keys:
            _, module = site_modules(pipe, adapter, key)[0]
            if adapter.sites[key.site].role == "reads":
                hook = module.register_forward_pre_hook(self._pre(key))
            else:
                hook = module.register_forward_hook(self._post(key))
            self.handles.append(hook)

    def _pre(self, key):
        def hook(module, args):
            if self.fn is not None:
                self.fn(key, args[0].detach())

        return hook

    def _post(self, key):
        def hook(module, args, output):
            if self.fn is not None:
                self.fn(key, output.detach())

        return hook

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []


@contextmanager
def taps(pipe, adapter: Adapter, keys: list[SiteKey]):
    t = Taps(pipe, adapter, keys)
    try:
        yield t
    finally:
        t.remove()


@dataclass
class Settings:
    size: tuple[int, int, int]  # height, width, frames
    steps: int = 4
    seed: int = 0
    device: str = "cpu"


def trajectory(pipe, adapter: Adapter, cond: dict, settings: Settings, seed: int, forced=None, on_step=None):
    """Denoise a batch that shares one initial noise; returns [(component, t, latent_in, prediction)].

    The batch follows the first member's predictions. With `forced`, the latents of an earlier
    run are fed instead, so two models can be compared on identical inputs.
    """
    generator = torch.Generator("cpu").manual_seed(seed)
    first = adapter.latents(pipe, settings.size, generator, settings.device)
    scheduler = copy.deepcopy(pipe.scheduler)
    scheduler.set_timesteps(settings.steps, device=settings.device)
    batch = next(iter(cond.values())).shape[0]
    x = first
    record = []
    for i, t in enumerate(scheduler.timesteps):
        if forced is not None:
            x = forced[i][2]
        component = adapter.denoiser_for(pipe, t)
        if on_step is not None:
            on_step(component, i)
        xb = x.expand(batch, *x.shape[1:])
        pred = adapter.forward(getattr(pipe, component), xb, t, cond)
        record.append((component, t, x, pred))
        if forced is None:
            x = scheduler.step(pred[:1].float(), t, x, return_dict=False)[0]
    return record


def check_finite(key: SiteKey, x: torch.Tensor, prompt: str):
    if not torch.isfinite(x).all():
        raise WeditorError(f"activations at {key} are NaN/Inf for prompt {prompt!r}; try --dtype float32")


def progress(iterable, total: int, desc: str):
    return tqdm(iterable, total=total, desc=desc, unit="run", leave=False, dynamic_ncols=True)
