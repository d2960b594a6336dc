"""LTX-Video with conditioning frames (diffusers `LTXConditionPipeline`, LTX-Video 0.9.5+).

The same transformer and blocks as LTXPipeline (weditor/adapters/ltx.py: sites, ungated
cross-attention write, caption projection), so the same table. The step differs:

- positions come as `video_coords` (the pipeline's `_prepare_video_ids`, `_scale_video_ids`, time
  divided by the frame rate) instead of a RoPE interpolation scale;
- the schedule is the pipeline's linear-quadratic one (timesteps = sigmas * 1000);
- a conditioning image at frame 0 (strength 1, what an I2V pair carries) replaces the frame-0
  tokens, which get timestep 0 (`min(t, (1 - mask) * 1000)`); the pipeline's own
  `prepare_latents` makes the tokens, the mask and the coordinates, with a generator seeded 0 as
  a seeded run's first draws.

Pairs may carry images; with none (every member None) the pipeline's text-only mode is used (no
conditioning), not a grey frame. The pipeline's `image_cond_noise_scale` (fresh noise on the
conditioning tokens at every step) is left out: weditor's steps are deterministic, as with
`image_cond_noise_scale=0`.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.ltx import FRAME_RATE, LTX


def encode(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import as_images

    cond = LTX.encode(pipe, prompts, device)
    if images is not None and all(im is None for im in images):
        images = None
    images = as_images(images, len(prompts)) if images is not None else None
    cond["_build"] = lambda x: _conditioning(pipe, images, x, device)
    return cond


def _conditioning(pipe, images, x, device) -> dict:
    """`prepare_latents` of the pipeline: video coordinates, and per member the frame-0 image tokens and mask."""
    import torch

    f, h, w = x.shape[2:]
    height, width = h * pipe.vae_spatial_compression_ratio, w * pipe.vae_spatial_compression_ratio
    frames = (f - 1) * pipe.vae_temporal_compression_ratio + 1
    channels = pipe.transformer.config.in_channels

    def prepare(conditions):
        return pipe.prepare_latents(
            conditions,
            [1.0] * len(conditions),
            [0] * len(conditions),
            batch_size=1,
            num_channels_latents=channels,
            height=height,
            width=width,
            num_frames=frames,
            generator=torch.Generator("cpu").manual_seed(0),
            device=device,
            dtype=torch.float32,
        )

    if images is None:
        _, _, coords, _ = prepare([])
        return {"coords": _coords(coords)}
    tokens, masks = [], []
    for image in images:
        pixels = pipe.video_processor.preprocess(image, height, width).unsqueeze(2).to(device, dtype=pipe.vae.dtype)
        packed, mask, coords, _ = prepare([pixels])
        tokens.append(packed * mask.unsqueeze(-1))
        masks.append(mask)
    return {"coords": _coords(coords), "image_tokens": torch.cat(tokens), "mask": torch.cat(masks)}


def _coords(coords):
    coords = coords.float()
    coords[:, 0] = coords[:, 0] * (1.0 / FRAME_RATE)
    return coords


def latents(pipe, size: tuple[int, int, int], generator, device):
    """The pipeline's noise (before conditioning frames replace any), unpacked."""
    from weditor.adapters.ltx import latents_i2v

    return latents_i2v(pipe, size, generator, device)


def set_timesteps(pipe, scheduler, steps: int, size, device):
    """As LTXConditionPipeline.__call__: linear-quadratic sigmas, passed as timesteps (x 1000)."""
    from diffusers.pipelines.ltx.pipeline_ltx_condition import linear_quadratic_schedule, retrieve_timesteps

    retrieve_timesteps(scheduler, steps, device, linear_quadratic_schedule(steps) * 1000)


def forward(model, x, t, cond):
    import torch
    from diffusers import LTXPipeline

    from weditor.adapters.common import batch, sized

    n, _, f, h, w = x.shape
    p, p_t = model.config.patch_size, model.config.patch_size_t
    tokens = LTXPipeline._pack_latents(x, p, p_t)
    timestep = batch(t, n).unsqueeze(-1).float()
    c = sized(cond, x, cond["_build"])
    if "mask" in c:
        mask = c["mask"]
        tokens = mask.unsqueeze(-1) * c["image_tokens"] + (1 - mask.unsqueeze(-1)) * tokens
        timestep = torch.min(timestep, (1 - mask) * 1000.0)
    with torch.no_grad():
        out = model(
            hidden_states=tokens.to(model.dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            timestep=timestep,
            encoder_attention_mask=cond["encoder_attention_mask"],
            video_coords=c["coords"].expand(n, -1, -1),
            return_dict=False,
        )[0]
    return LTXPipeline._unpack_latents(out, f // p_t, h // p, w // p, p, p_t)


LTX_CONDITION = replace(
    LTX,
    pipelines=("LTXConditionPipeline",),
    image_to_video=True,
    encode=encode,
    latents=latents,
    forward=forward,
    set_timesteps=set_timesteps,
)
