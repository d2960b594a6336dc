"""LTX-Video long videos by temporal windows (`LTXI2VLongMultiPromptPipeline`): LTX's blocks, one window.

The pipeline cuts a long video into overlapping temporal windows (`temporal_tile_size`, 80 pixel
frames by default), denoises each from its own noise with the prompt of that window (a prompt with
`|` is a list of per-window prompts; `prompt_segments` another), and crossfades the windows. The
blocks, sites and gating are LTX-Video's (weditor/adapters/ltx.py); its text read-out is the same.

Collection runs one window: the collection's `--size` frames must fit in the pipeline's default
window (at most `80 // r_t` latent frames; more is refused in one line), which is then the whole
video, read with one prompt: a pair's prompt is every window's prompt (a prompt with `|` is the
pipeline's per-window list, and its first part is what window 0 reads; weditor encodes that part).
Within the window, as the pipeline's T2V mode (no `cond_image`): noise drawn unpacked (1, C, F, h,
w) from the window's generator (the pipeline's `seed`, plus the window's start, 0), per-token
timesteps, `video_coords` from its `build_video_coords_for_window` with `num_frames=height=width=1`,
and the loop over `scheduler.timesteps[:-1]`: `--steps n` runs n denoiser calls, the stock pipeline's
with `num_inference_steps=n + 1`. Prompts only: the first-frame image (`cond_image`) is blended into
the latent before and after every step at `cond_strength`, a state weditor's step does not carry, so
image pairs are refused. The pipeline's recommended `LTXEulerAncestralRFScheduler` adds noise at every
step: that noise comes from a generator of the trajectory's scheduler copy, seeded 0, so runs repeat.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.ltx import LTX, MAX_TEXT_LENGTH, _latent_grid

FRAME_RATE = 25  # the pipeline's default frame_rate
TILE_FRAMES = 80  # the pipeline's default temporal_tile_size (pixel frames)


def encode(pipe, prompts: list[str], device, images=None):
    """T5 embeddings and mask of each prompt's window-0 part, as the pipeline encodes window 0."""
    from diffusers.pipelines.ltx.pipeline_ltx_i2v_long_multi_prompt import parse_prompt_segments

    from weditor.adapters.common import text_length

    first = [(parse_prompt_segments(p, None) or [""])[0] for p in prompts]
    embeds, mask, _, _ = pipe.encode_prompt(
        first, do_classifier_free_guidance=False, max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH), device=device
    )
    return {"encoder_hidden_states": embeds, "encoder_attention_mask": mask, "_build": lambda x: _coords(pipe, x)}


def _scale(pipe) -> tuple[int, int, int]:
    r_s = pipe.vae_spatial_compression_ratio
    return (pipe.vae_temporal_compression_ratio, r_s, r_s)


def _coords(pipe, x) -> dict:
    """The window's positions, as the pipeline builds them for a window with nothing injected."""
    from diffusers.pipelines.ltx.pipeline_ltx_i2v_long_multi_prompt import build_video_coords_for_window

    return {
        "video_coords": build_video_coords_for_window(x[:1], 0, 0, 0, _scale(pipe), FRAME_RATE),
        "scale": _scale(pipe),
    }


def latents(pipe, size: tuple[int, int, int], generator, device):
    """The window's noise: (1, C, F, h, w), drawn unpacked; one window holds the whole video or it is refused."""
    from diffusers.utils.torch_utils import randn_tensor

    from weditor.errors import WeditorError

    grid = _latent_grid(pipe, size)
    window = max(1, TILE_FRAMES // pipe.vae_temporal_compression_ratio)
    if grid[0] > window:
        most = (window - 1) * pipe.vae_temporal_compression_ratio + 1
        raise WeditorError(
            f"LTXI2VLongMultiPromptPipeline: --size {size[2]} frames make {grid[0]} latent frames, more than one "
            f"temporal window ({window}); weditor collects on one window: use at most {most} frames"
        )
    return randn_tensor((1, pipe.transformer.config.in_channels, *grid), generator=generator).to(device)


def set_timesteps(pipe, scheduler, steps: int, size, device):
    """`steps + 1` inference steps, walked without the last timestep, as the pipeline's loop walks them."""
    scheduler.set_timesteps(num_inference_steps=steps + 1, device=device)
    scheduler.timesteps = scheduler.timesteps[:-1]


def forward(model, x, t, cond):
    import torch
    from diffusers import LTXPipeline

    from weditor.adapters.common import batch, sized

    n, _, f, h, w = x.shape
    p, p_t = model.config.patch_size, model.config.patch_size_t
    tokens = LTXPipeline._pack_latents(x, p, p_t)
    extra = sized(cond, x, cond["_build"])
    timestep = batch(t, n)[:, None, None] * tokens.new_ones(n, tokens.shape[1], 1)  # the per-token mask, all free
    with torch.no_grad():
        out = model(
            hidden_states=tokens.to(model.dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            timestep=timestep,
            encoder_attention_mask=cond["encoder_attention_mask"],
            num_frames=1,
            height=1,
            width=1,
            rope_interpolation_scale=extra["scale"],
            video_coords=extra["video_coords"].expand(n, -1, -1),
            return_dict=False,
        )[0]
    return LTXPipeline._unpack_latents(out, f // p_t, h // p, w // p, p, p_t)


def step(scheduler, pred, t, x):
    """The scheduler's step on the packed-or-not latent (elementwise); an ancestral one draws from a fixed generator."""
    import torch

    if not hasattr(scheduler, "_weditor_generator"):
        scheduler._weditor_generator = torch.Generator(x.device).manual_seed(0)
    return scheduler.step(pred, t, x, generator=scheduler._weditor_generator, return_dict=False)[0]


LTX_LONG = replace(
    LTX,
    pipelines=("LTXI2VLongMultiPromptPipeline",),
    encode=encode,
    latents=latents,
    forward=forward,
    set_timesteps=set_timesteps,
    step=step,
    default_size=(256, 256, 73),
)
