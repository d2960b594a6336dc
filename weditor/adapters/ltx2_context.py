"""LTX-2 with in-context reference videos: `LTX2InContextPipeline` (IC-LoRA) and `LTX2HDRPipeline` (HDR IC-LoRA).

Both run LTX-2's joint audio-video transformer (weditor/adapters/ltx2.py: the same blocks, sites, gating
and text read-out), and both condition on a reference video the same way (their `prepare_latents`):
the video's VAE latents (argmax) are packed into tokens appended after the generated video's tokens,
with their own positions (`appended_coords`) and a conditioning mask of the reference's strength; at
strength 1 those tokens are clean and read at timestep 0, and the loop pins them back to the clean
latents after every step. weditor carries only the generated tokens (the joint latent of ltx2.py) and
appends the clean reference tokens, with their positions and timestep 0, in every denoiser call, then
drops their prediction: the same denoiser input as the pipeline's at every step.

A pair's `video` is that reference (strength 1, `reference_downscale_factor=1`, no attention mask);
without one, the pipelines' reference-free mode. The pipelines' frame conditions (`conditions` of the
in-context pipeline: images at a frame) are not fed: a pair's image is refused for these classes
(`LTX2ConditionPipeline` takes it).

`LTX2HDRPipeline` differs in two ways, both followed: `use_cross_timestep=False` (its default), and
its audio latent is never updated (its loop steps the audio scheduler on a zero prediction and
discards the result), so the audio stream reads its initial noise at every step: weditor's step
zeroes the audio part of the joint prediction.

The first latent is the pipelines' draw without a reference (`latents_condition`). With one, the
pipelines draw the video noise over the reference tokens too (then discard it there), so their
generated tokens' noise comes from a longer draw; collection keeps the reference-free draw for every
pair, so a video changes a run by its tokens alone. The denoiser calls with a reference are checked
on the stock run's own latents (tests/test_adapters_ltx2_context.py).
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.ltx2 import FRAME_RATE, LTX2, encode, latents_condition
from weditor.adapters.ltx2 import set_timesteps as ltx2_set_timesteps


def encode_reference(pipe, prompts: list[str], device, images=None):
    """The prompts as LTX-2's; the reference tokens (a pair's video, `cond["_video"]`, set by
    weditor.models.runtime.encode after this returns) built lazily, once per latent shape."""
    from weditor.errors import WeditorError

    if getattr(pipe, "audio_scheduler", None) is not None:
        raise WeditorError(
            f"{type(pipe).__name__} with its own audio_scheduler is not supported: weditor steps the video "
            "and the audio latent together, on the video scheduler's sigmas"
        )
    cond = encode(pipe, prompts, device)
    if type(pipe).__name__ == "LTX2HDRPipeline":
        cond["_cross_timestep"] = False
    cond["_build"] = lambda x: _reference_tokens(pipe, cond, x.shape[2:], device)
    return cond


def _grid(pipe, size) -> tuple[int, int, int]:
    height, width, frames = size
    r_t, r_s = pipe.vae_temporal_compression_ratio, pipe.vae_spatial_compression_ratio
    return (frames - 1) // r_t + 1, height // r_s, width // r_s


def _reference_tokens(pipe, cond, grid, device) -> dict:
    """The pipeline's own `prepare_latents` for the reference video (or none) on the latent `grid` (F, h, w),
    cached in `cond`: the mask and clean latents of the generated tokens (zeros: unconditioned, read with
    per-token timesteps as the pipeline passes them), and the appended reference tokens, mask and positions."""
    import torch

    from weditor.io.pair_videos import read_video

    cache = cond.setdefault("_references", {})
    if tuple(grid) in cache:
        return cache[tuple(grid)]
    f, h, w = grid
    height, width = h * pipe.vae_spatial_compression_ratio, w * pipe.vae_spatial_compression_ratio
    frames = (f - 1) * pipe.vae_temporal_compression_ratio + 1
    references = None
    if cond.get("_video") is not None:
        from diffusers.pipelines.ltx2 import pipeline_ltx2_hdr_lora, pipeline_ltx2_ic_lora

        if type(pipe).__name__ == "LTX2HDRPipeline":
            condition = pipeline_ltx2_hdr_lora.LTX2HDRReferenceCondition
        else:
            condition = pipeline_ltx2_ic_lora.LTX2ReferenceCondition
        references = [condition(frames=read_video(cond["_video"], (height, width, frames)), strength=1.0)]
    out = pipe.prepare_latents(
        reference_conditions=references,
        batch_size=1,
        num_channels_latents=pipe.transformer.config.in_channels,
        height=height,
        width=width,
        num_frames=frames,
        frame_rate=FRAME_RATE,
        noise_scale=1.0,
        dtype=torch.float32,
        device=device,
        generator=torch.Generator("cpu").manual_seed(0),
    )
    _, mask, clean, coords, count = out[:5]
    base = clean.shape[1] - count
    built = {"image_latents": clean[:, :base] * mask[:, :base], "conditioning_mask": mask[:, :base, 0]}
    if count:
        built.update(appended_latents=clean[:, base:], appended_mask=mask[:, base:, 0], appended_coords=coords)
    cache[tuple(grid)] = built
    return built


def set_timesteps(pipe, scheduler, steps: int, size, device, cond=None):
    """As the pipelines: the shift `mu` from the whole packed sequence, reference tokens included. The scheduler
    copy also keeps the video's channel count, for `step_hdr`."""
    extra = 0
    if cond is not None and cond.get("_video") is not None:
        extra = _reference_tokens(pipe, cond, _grid(pipe, size), device)["appended_latents"].shape[1]
    ltx2_set_timesteps(pipe, scheduler, steps, size, device, extra_tokens=extra)
    scheduler._weditor_video_channels = pipe.transformer.config.in_channels


def step_hdr(scheduler, pred, t, x):
    """The video part stepped; the audio part (the channels after the video's) kept, as LTX2HDRPipeline keeps it."""
    pred = pred.clone()
    pred[:, scheduler._weditor_video_channels :] = 0
    return scheduler.step(pred, t, x, return_dict=False)[0]


LTX2_IN_CONTEXT = replace(
    LTX2,
    pipelines=("LTX2InContextPipeline",),
    encode=encode_reference,
    latents=latents_condition,
    set_timesteps=set_timesteps,
    video_input=True,
    video_role="reference video",
)
LTX2_HDR = replace(LTX2_IN_CONTEXT, pipelines=("LTX2HDRPipeline",), step=step_hdr)
