"""Cosmos 2 video-to-world (diffusers `Cosmos2VideoToWorldPipeline`; Cosmos-Predict2).

The transformer is Cosmos 1's (`CosmosTransformer3DModel`), so is the table (weditor/adapters/cosmos.py:
every write gated, the T5 states read by every block's `attn2.to_k` / `to_v`). The sampler differs:
a flow-matching Euler scheduler on Karras sigmas (`sigmas = linspace(0, 1, steps)` through
`use_karras_sigmas`, timesteps = 1000 sigma, the last sigma set to sigma_min), and the pipeline
preconditions the denoiser itself (`Cosmos2VideoToWorldPipeline.__call__`):

    t' = sigma / (sigma + 1)          # the transformer's timestep, one per latent frame
    in = (1 - t') x                   # conditioning frames: their clean latents, at t'(sigma_conditioning)
    x0 = (1 - t') x - t' prediction   # then the velocity (x - x0) / sigma goes to scheduler.step

The conditioning frames are a pair's image (one frame) or video (its frames), padded with the last
frame to the collection's, as the pipeline pads them; their latents are the Wan VAE's posterior
*sample* (`retrieve_latents` with the run's generator), drawn here from a generator seeded 0, which is
what a stock run seeded 0 draws first. As in Cosmos 1, the x0 the pipeline writes into the
conditioning frames is not: the transformer never reads those frames of the latent.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.cosmos import COSMOS_V2W, conditioning_latents, encode_text
from weditor.errors import WeditorError

FPS = 16  # Cosmos2VideoToWorldPipeline's default
SIGMA_CONDITIONING = 0.0001  # its default noise level of the conditioning frames


def encode(pipe, prompts: list[str], device, images=None):
    """T5 text; each member's image or video as conditioning latents, once the size is known (None: mid-grey)."""
    if type(pipe.scheduler).__name__ != "FlowMatchEulerDiscreteScheduler":
        raise WeditorError(
            f"scheduler {type(pipe.scheduler).__name__}: weditor runs Cosmos 2 with the "
            "FlowMatchEulerDiscreteScheduler its checkpoints ship"
        )
    cond = encode_text(pipe, prompts, device)
    paths = list(images) if images is not None else [None] * len(prompts)
    cond["_build"] = lambda x: _conditioning(pipe, paths, x, device)
    cond["_train_steps"] = int(pipe.scheduler.config.num_train_timesteps)
    return cond


def _conditioning(pipe, paths, x, device) -> dict:
    import torch

    def prepare(pixels, channels, height, width, frames, zeros):
        generator = torch.Generator("cpu").manual_seed(0)  # the posterior sample a run seeded 0 draws first
        return pipe.prepare_latents(
            pixels, 1, channels, height, width, frames, False, torch.float32, device, generator, zeros
        )

    return conditioning_latents(pipe, paths, x, device, prepare)


def set_timesteps(pipe, scheduler, steps: int, size, device):
    """As the pipeline: sigmas linspace(0, 1) through the scheduler's Karras conversion, the last one sigma_min."""
    import torch
    from diffusers.pipelines.cosmos.pipeline_cosmos2_video2world import retrieve_timesteps

    retrieve_timesteps(scheduler, device=device, sigmas=torch.linspace(0, 1, steps, dtype=torch.float64))
    if scheduler.config.final_sigmas_type == "sigma_min":
        scheduler.sigmas[-1] = scheduler.sigmas[-2]


def _t(sigma):
    return sigma / (sigma + 1)


def forward(model, x, t, cond):
    """The pipeline's conditional pass at timestep `t` (= 1000 sigma)."""
    import torch

    from weditor.adapters.common import sized
    from weditor.adapters.cosmos import _call

    c = sized(cond, x, cond["_build"])
    sigma = torch.as_tensor(t, dtype=torch.float32) / cond["_train_steps"]
    current = _t(sigma)
    n, f = x.shape[0], x.shape[2]
    timestep = current.view(1, 1, 1, 1, 1).expand(n, -1, f, -1, -1)
    indicator = c["indicator"]
    latent = indicator * c["clean"] + (1 - indicator) * (x.expand(n, *x.shape[1:]) * (1 - current))
    timestep = indicator * _t(torch.tensor(SIGMA_CONDITIONING)) + (1 - indicator) * timestep
    return _call(model, latent, t, cond, fps=FPS, timestep=timestep, condition_mask=c["mask"].to(model.dtype))


def step(scheduler, pred, t, x):
    """x0 = (1 - t') x - t' prediction, then the scheduler's Euler step on the velocity (x - x0) / sigma."""
    if scheduler.step_index is None:
        scheduler._init_step_index(t)
    sigma = scheduler.sigmas[scheduler.step_index]
    current = _t(sigma)
    x0 = (1 - current) * x + (-current) * pred.float()
    return scheduler.step((x - x0) / sigma, t, x, return_dict=False)[0]


COSMOS2_V2W = replace(
    COSMOS_V2W,
    pipelines=("Cosmos2VideoToWorldPipeline",),
    encode=encode,
    forward=forward,
    set_timesteps=set_timesteps,
    step=step,
    check_timesteps=None,  # 900 and 300: sigma 0.9 and 0.3
)
