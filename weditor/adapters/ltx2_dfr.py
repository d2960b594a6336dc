"""LTX-2.5 Diffusion Fidelity Rendering, one pass (`LTX2DFRPipeline`): LTX-2's joint transformer on a padded canvas
plus generated keyframe slots.

The blocks, sites, gating and text read-out are LTX-2's (weditor/adapters/ltx2.py). What the pass changes
is the sequence the transformer denoises (the pipeline's `prepare_latents`, stage 1: no frame conditions,
no reference, `generate_slots=True`, its default):

- the video is a *canvas*: the requested frames padded to a whole number of keyframe segments
  (`dfr_layout.resolve_canvas`); the collection's `--size` frames are the request, `(frames - 1)`
  a multiple of the VAE's temporal ratio, as the pipeline demands;
- one latent frame of *slot* tokens per keyframe position is appended after the canvas tokens, with
  its own positions (one pixel frame each) and the learned keyframe marker (`video_keyframes_mask`,
  which also marks the canvas's first latent frame); slots are denoised like the canvas (mask 0).

weditor carries canvas and slots as one latent of `F + S` frames (frame-major packing puts the slot
frames after the canvas, the pipeline's order), with LTX-2's audio planes appended (ltx2.py). The noise
is the pipeline's: packed over canvas and slots, then the packed audio. The schedule is the distilled
one the pipeline defaults to (`DISTILLED_SIGMA_VALUES`, 8 sigmas); `--steps n` below 8 takes n of them,
evenly spread, the first always included (the stock pipeline run with `sigmas=` that list is the
reference). Its loop steps the velocity rebuilt from the x0 blend, the prediction itself when nothing
is conditioned, up to rounding. The keyframe slots need a transformer with
`use_keyframes_abs_pos_embedding` (LTX-2.5), as the pipeline requires: others are refused in one line.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.ltx2 import FRAME_RATE, LTX2, MAX_TEXT_LENGTH, audio_length, audio_mel_bins, join


def _layout(pipe, pixel_frames: int):
    """(canvas pixel frames, canvas latent frames, slot positions) the pipeline derives from a request."""
    from diffusers.pipelines.ltx2.dfr_layout import resolve_canvas

    r_t = pipe.vae_temporal_compression_ratio
    canvas, _, positions = resolve_canvas(pixel_frames, r_t)
    return canvas, (canvas - 1) // r_t + 1, list(positions)


def _check(pipe, frames: int):
    from weditor.errors import WeditorError

    r_t = pipe.vae_temporal_compression_ratio
    if (frames - 1) % r_t or frames < r_t + 1:
        raise WeditorError(
            f"LTX2DFRPipeline needs --size frames with (frames - 1) a multiple of {r_t}, at least {r_t + 1}; "
            f"got {frames}"
        )
    if not pipe.transformer.config.use_keyframes_abs_pos_embedding:
        raise WeditorError(
            "LTX2DFRPipeline generates keyframe slots, which need a transformer with "
            "use_keyframes_abs_pos_embedding (LTX-2.5); this checkpoint's transformer has none"
        )


def encode(pipe, prompts: list[str], device, images=None):
    """Gemma hidden states -> the connectors' video and audio prompt embeddings (no negative branch: distilled)."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    from weditor.adapters.common import text_length
    from weditor.errors import WeditorError

    if not isinstance(pipe.scheduler, FlowMatchEulerDiscreteScheduler):
        raise WeditorError(
            f"LTX2DFRPipeline with a {type(pipe.scheduler).__name__} is not supported: weditor runs its pass on "
            "FlowMatchEulerDiscreteScheduler, the scheduler it ships with (the ancestral one is the temporal refine's)"
        )

    embeds, mask = pipe.encode_prompt(prompts, device=device, max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH))
    video, audio, mask = pipe.connectors(embeds, mask, padding_side=pipe.tokenizer_padding_side)
    per_second = pipe.audio_sampling_rate / pipe.audio_hop_length / float(pipe.audio_vae_temporal_compression_ratio)
    cond = {"encoder_hidden_states": video, "audio_encoder_hidden_states": audio, "encoder_attention_mask": mask}
    cond["_audio"] = (pipe.vae_temporal_compression_ratio, per_second)
    cond["_build"] = lambda x: _sequence(pipe, x, device)
    return cond


def _canvas_of(pipe, total: int) -> int:
    """The canvas pixel frames whose canvas and slot frames add up to `total` latent frames."""
    r_t = pipe.vae_temporal_compression_ratio
    for frames in range(r_t + 1, total * r_t + 2, r_t):
        canvas, latent, positions = _layout(pipe, frames)
        if canvas == frames and latent + len(positions) == total:
            return canvas
    raise ValueError(f"no DFR canvas has {total} latent frames with its slots")


def _sequence(pipe, x, device) -> dict:
    """The pipeline's `prepare_latents` for this canvas: positions (canvas, then slots), the keyframe marker,
    the canvas's latent frame count."""
    import torch

    canvas = _canvas_of(pipe, x.shape[2])
    _, latent, positions = _layout(pipe, canvas)
    h, w = x.shape[3:]
    r_s = pipe.vae_spatial_compression_ratio
    _, mask, _, coords, keyframes, _ = pipe.prepare_latents(
        slot_frame_indices=positions,
        batch_size=1,
        num_channels_latents=pipe.transformer.config.in_channels,
        height=h * r_s,
        width=w * r_s,
        num_frames=canvas,
        frame_rate=FRAME_RATE,
        noise_scale=1.0,
        dtype=torch.float32,
        device=device,
        generator=torch.Generator("cpu").manual_seed(0),
        latents_normalized=False,
    )
    return {"video_coords": coords, "keyframes_mask": keyframes, "conditioning_mask": mask[..., 0], "frames": latent}


def latents(pipe, size: tuple[int, int, int], generator, device):
    """The pipeline's draws: packed noise over canvas and slot tokens (1, (F + S) h w, C), then packed audio."""
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    _check(pipe, frames)
    _, latent, positions = _layout(pipe, frames)
    r_s = pipe.vae_spatial_compression_ratio
    grid = (latent + len(positions), height // r_s, width // r_s)
    tokens = randn_tensor((1, grid[0] * grid[1] * grid[2], pipe.transformer.config.in_channels), generator=generator)
    per_second = pipe.audio_sampling_rate / pipe.audio_hop_length / float(pipe.audio_vae_temporal_compression_ratio)
    length = audio_length(latent, pipe.vae_temporal_compression_ratio, per_second)
    audio = randn_tensor((1, length, pipe.audio_vae.config.latent_channels * audio_mel_bins(pipe)), generator=generator)
    return join(pipe._unpack_latents(tokens, *grid), audio).to(device)


def set_timesteps(pipe, scheduler, steps: int, size, device):
    """The pipeline's distilled sigmas (`steps` of them, evenly spread; all 8 from --steps 8 on)."""
    scheduler.set_timesteps(sigmas=distilled_sigmas(steps), device=device)


def distilled_sigmas(steps: int) -> list[float]:
    """`steps` of the pipeline's 8 distilled sigmas, evenly spread, the first always included."""
    import numpy as np
    from diffusers.pipelines.ltx2.utils import DISTILLED_SIGMA_VALUES

    n = len(DISTILLED_SIGMA_VALUES)
    picks = sorted({int(i) for i in np.linspace(0, n - 1, min(steps, n)).round()})
    return [DISTILLED_SIGMA_VALUES[i] for i in picks]


def forward(model, x, t, cond):
    """One call as `LTX2DFRPipeline.denoise` makes it (no tiles): canvas and slot tokens with the pipeline's
    positions, keyframe marker and per-token timesteps; the audio stream at t; returns the joint prediction."""
    import torch
    from diffusers import LTX2Pipeline

    from weditor.adapters.common import batch, sized

    n, c = x.shape[0], model.config.in_channels
    extra = sized(cond, x, cond["_build"])
    length = audio_length(extra["frames"], *cond["_audio"])
    c_a = model.config.audio_in_channels
    video = x[:, :c]
    audio = x[:, c:].reshape(n, -1)[:, : length * c_a].reshape(n, length, c_a)
    p, p_t = model.config.patch_size, model.config.patch_size_t
    tokens = LTX2Pipeline._pack_latents(video, p, p_t)  # frame-major: the slot frames after the canvas's
    timestep = batch(t, n)
    dtype = model.dtype
    with torch.no_grad():
        pred_video, pred_audio = model(
            hidden_states=tokens.to(dtype),
            audio_hidden_states=audio.to(dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(dtype),
            audio_encoder_hidden_states=cond["audio_encoder_hidden_states"].to(dtype),
            timestep=timestep.unsqueeze(-1) * (1 - extra["conditioning_mask"]),
            audio_timestep=timestep,
            sigma=timestep,
            audio_sigma=timestep,
            encoder_attention_mask=cond["encoder_attention_mask"],
            audio_encoder_attention_mask=cond["encoder_attention_mask"],
            fps=FRAME_RATE,
            audio_num_frames=length,
            audio_coords=model.audio_rope.prepare_audio_coords(n, length, x.device),
            use_cross_timestep=True,
            video_keyframes_mask=extra["keyframes_mask"].expand(n, -1, -1),
            video_coords=extra["video_coords"].expand(n, -1, -1, -1),
            return_dict=False,
        )
    f, h, w = video.shape[2:]
    return join(LTX2Pipeline._unpack_latents(pred_video, f // p_t, h // p, w // p, p, p_t), pred_audio)


# Stage 1 of the DFR recipe: the pass from noise with its keyframe slots. Prompts only: the pipeline's frame
# conditions (`conditions`), seed latents and IC reference latents are not fed.
LTX2_DFR = replace(
    LTX2,
    pipelines=("LTX2DFRPipeline",),
    encode=encode,
    latents=latents,
    forward=forward,
    set_timesteps=set_timesteps,
    default_size=(256, 256, 25),
)
