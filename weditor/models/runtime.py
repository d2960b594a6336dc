"""Running the denoiser the way the pipeline does, with taps on chosen linears.

Both members of a pair go through the denoiser in one batch with the *same* initial noise,
timesteps and positions, so video tokens stay aligned and a per-token difference isolates
what the prompt changed. The shared latent follows the first member's trajectory (the unsafe
prompt: those are the states in which the concept must be removed). A few steps spread over
the schedule are enough; each call of a tap sees the activations of one site at one step.
"""

from __future__ import annotations

import copy
import inspect
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import torch
from tqdm.auto import tqdm

from weditor.adapters import Adapter
from weditor.adapters.paths import module_at
from weditor.errors import WeditorError
from weditor.models.hooks import TapRegistry


@dataclass(frozen=True)
class SiteKey:
    """One edit site: a linear (or a group sharing one input) in one block of one denoiser."""

    component: str
    block: int
    site: str

    def __str__(self):
        return f"{self.component}.blocks.{self.block}.{self.site}"


def get_module(root, path: str):
    """The submodule (or parameter) at a dotted path; indices of module lists included."""
    return module_at(root, path)


def block_paths(model, adapter: Adapter, site: str | None = None) -> list[str]:
    """Denoiser-relative paths of the blocks of the group `site` lives in (default: the first group)."""
    from weditor.adapters.paths import block_list

    group = adapter.site_group(site) if site is not None else next(iter(adapter.block_groups()))
    return block_list(model, adapter.block_groups()[group])


def block_path(pipe, adapter: Adapter, component: str, block: int, site: str | None = None) -> str:
    """Path of block `block` (of `site`'s group) inside `component`: `blocks.3`, `down_blocks.0.attentions.1...`."""
    return block_paths(getattr(pipe, component), adapter, site)[block]


def site_modules(pipe, adapter: Adapter, key: SiteKey) -> list[tuple[str, torch.nn.Module]]:
    """(denoiser-relative path, module) of every linear the site edits."""
    model = getattr(pipe, key.component)
    site = adapter.sites[key.site]
    path = block_paths(model, adapter, key.site)[key.block]
    return [(f"{path}.{p}", get_module(model, f"{path}.{p}")) for p in site.paths]


def num_blocks(pipe, adapter: Adapter, component: str, site: str | None = None) -> int:
    return len(block_paths(getattr(pipe, component), adapter, site))


def present_denoisers(pipe, adapter: Adapter) -> list[str]:
    return [c for c in adapter.denoisers if getattr(pipe, c, None) is not None]


class Taps:
    """Forward hooks that hand a site's activations to `self.fn(key, tensor)`.

    Sites that *read* the stream are tapped at their input, sites that *write* at their
    output: that is the space in which each edit acts. Set `fn` per phase; None mutes.
    """

    def __init__(self, pipe, adapter: Adapter, keys: list[SiteKey]):
        self.fn: Callable | None = None
        self.registry = TapRegistry()
        for key in keys:
            _, module = site_modules(pipe, adapter, key)[0]
            self.registry.tap(
                module, "input" if adapter.sites[key.site].role == "reads" else "output", self._to_fn(key)
            )

    def _to_fn(self, key):
        def seen(x):
            if self.fn is not None:
                self.fn(key, x)

        return seen

    def remove(self):
        self.registry.remove()


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
    video = cond.get("_video") if adapter.video_latents is not None else None
    scheduler = copy.deepcopy(pipe.scheduler)
    if adapter.set_timesteps is not None:  # e.g. a shift that depends on the video size (LTX)
        # one that declares `cond` reads it (LTX-2 in-context: a pair's video lengthens the sequence)
        more = {"cond": cond} if "cond" in inspect.signature(adapter.set_timesteps).parameters else {}
        adapter.set_timesteps(pipe, scheduler, settings.steps, settings.size, settings.device, **more)
    else:
        scheduler.set_timesteps(settings.steps, device=settings.device)
    batch = next(iter(cond.values())).shape[0]
    if video is None:
        x, timesteps = adapter.latents(pipe, settings.size, generator, settings.device), scheduler.timesteps
    else:  # V2V: the video encoded, then noised to the cut schedule's first timestep, in the stock draw order
        from weditor.io.pair_videos import video_start

        x, timesteps = video_start(pipe, adapter, scheduler, video, generator, settings.size, settings.device)
    record = []
    for i, t in enumerate(timesteps):
        if forced is not None:
            x = forced[i][2]
        component = adapter.denoiser_for(pipe, t)
        if on_step is not None:
            on_step(component, i)
        xb = x.expand(batch, *x.shape[1:])
        pred = adapter.forward(getattr(pipe, component), xb, t, cond)
        record.append((component, t, x, pred))
        if forced is None:
            if adapter.step is not None:
                x = adapter.step(scheduler, pred[:1].float(), t, x)
            else:
                x = scheduler.step(pred[:1].float(), t, x, return_dict=False)[0]
    return record


def check_finite(key: SiteKey, x: torch.Tensor, prompt: str):
    from weditor.maths.finite import all_finite

    if not all_finite(x):
        raise WeditorError(f"activations at {key} are NaN/Inf for prompt {prompt!r}; try --dtype float32")


def progress(iterable, total: int, desc: str):
    return tqdm(iterable, total=total, desc=desc, unit="run", leave=False, dynamic_ncols=True)


def encode(pipe, adapter: Adapter, prompts: list[str], device, images=None) -> dict:
    """`adapter.encode`, handing images only to image-to-video adapters (None: a mid-grey frame each), and
    a video (the first of `images`, the batch's shared one) to video-to-video adapters as `cond["_video"]`."""
    if adapter.image_to_video:
        return adapter.encode(pipe, prompts, device, images=images)
    if adapter.video_input and images and images[0] is not None:  # one video for the batch: it shares one latent
        cond = adapter.encode(pipe, prompts, device)
        cond["_video"] = images[0]  # set in place: an adapter's lazy entries may read it (VACE's control)
        return cond
    return adapter.encode(pipe, prompts, device)


def neutral_images(pairsets, n: int) -> list:
    """Images (or videos) for `n` neutral prompts on an image- (video-) to-video model: the pairs' safe ones, in turn."""
    safe = [p.conditioning[1] for ps in pairsets for p in ps.pairs if p.conditioning[1] is not None]
    return [safe[i % len(safe)] if safe else None for i in range(n)]
