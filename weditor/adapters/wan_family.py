"""Pipelines built on Wan's transformer: SkyReels-V2 (all five), Wan VACE, Wan video-to-video.

They share Wan's blocks, so they share Wan's table (weditor/adapters/wan.py: sites, ungated
cross-attention write, text input) and differ only in how one denoiser step is run:

- `SkyReelsV2Pipeline`, `WanVideoToVideoPipeline`: Wan's text-to-video step. Video-to-video only
  starts its schedule from the noised input video (`strength`); collection runs the whole schedule
  from noise (strength 1), so pair files carry no video for it.
- `SkyReelsV2ImageToVideoPipeline`: Wan 2.1 I2V's step (CLIP image tokens + channel-concatenated
  first-frame latent); pairs may carry images.
- `ChronoEditPipeline`: Wan 2.1 I2V's step on ChronoEdit's transformer (Wan blocks; only its RoPE
  differs, for two-frame edits); pairs may carry images. Its optional "temporal reasoning" (frames
  dropped mid-schedule) is not reproduced: weditor runs the pipeline's default (off).
- `SkyReelsV2DiffusionForcing*`: diffusion forcing, one timestep per latent frame
  (`enable_diffusion_forcing`, plus the fps embedding of `inject_sample_info` models). weditor runs
  the synchronous schedule (`ar_step=0`, the pipelines' default: every frame at the same timestep).
  The image-to-video variant puts the image latent in frame 0 at timestep 0, as its pipeline does
  (pairs may carry images). The video-to-video variant extends a video: its first window starts
  with the VAE latents of the video's last `overlap_history` frames, at timestep 0. weditor takes
  that prefix from one frame (`overlap_history=1`: a pair's image as a one-frame video, else
  mid-grey), which encodes exactly as the image-to-video prefix does, and one window
  (`base_num_frames` = the collection's frame count).
- `LucyEditPipeline`: a Wan transformer reading the source video's VAE latents on the channel axis;
  weditor feeds a still video of a pair's image (else mid-grey) as the source to edit. With
  `expand_timesteps` (Lucy-Edit on Wan 2.2 5B) every token gets the timestep, as its loop does.
- `WanVACEPipeline`: VACE control blocks add hints to the main blocks; weditor edits the main
  blocks and feeds the pipeline's own neutral control (no video, no mask: its text-to-video mode).
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.wan import WAN, WAN_I2V

FPS = 24  # the SkyReels-V2 pipelines' default; `inject_sample_info` models embed 0 for 16 fps, else 1


def _fps(model, n: int):
    return [0 if FPS == 16 else 1] * n if model.config.get("inject_sample_info") else None


def forward_df(model, x, t, cond):
    """One diffusion-forcing step: timestep per latent frame; frames of a prefix (`prefix`) at timestep 0."""
    import torch

    from weditor.adapters.common import sized

    n, _, frames = x.shape[:3]
    timestep = (t.reshape(-1)[:1] if t.ndim else t.reshape(1)).expand(n, frames).clone()
    inp = x
    build = cond.get("_build")
    if build is not None:
        c = sized(cond, x, build)
        k = c["prefix"].shape[2]
        inp = torch.cat([c["prefix"].to(x.dtype), x[:, :, k:]], dim=2)
        timestep[:, :k] = 0
    text = cond["encoder_hidden_states"].to(model.dtype)
    if text.shape[0] != n:
        text = text.expand(n, -1, -1)
    # one row per call, as the pipeline calls it (its fps embedding broadcasts only over a batch of one)
    with torch.no_grad():
        return torch.cat(
            [
                model(
                    hidden_states=inp[i : i + 1].to(model.dtype),
                    timestep=timestep[i : i + 1],
                    encoder_hidden_states=text[i : i + 1],
                    enable_diffusion_forcing=True,
                    fps=_fps(model, 1),
                    return_dict=False,
                )[0]
                for i in range(n)
            ]
        )


def latents_df(pipe, size, generator, device):
    """The pipelines' noise (before any prefix replaces the first frames), at the size asked."""
    from diffusers.utils.torch_utils import randn_tensor

    from weditor.adapters.wan import _model

    height, width, frames = size
    cfg = _model(pipe).config
    shape = (
        1,
        cfg.out_channels or cfg.in_channels,
        (frames - 1) // pipe.vae_scale_factor_temporal + 1,
        height // pipe.vae_scale_factor_spatial,
        width // pipe.vae_scale_factor_spatial,
    )
    return randn_tensor(shape, generator=generator).to(device)


def encode_df_prefix(pipe, prompts, device, images=None):
    """Text as Wan; each member's image (None: mid-grey) VAE-encoded as the pipeline's prefix latent."""
    from weditor.adapters.common import as_images

    cond = WAN.encode(pipe, prompts, device)
    images = as_images(images, len(prompts))
    cond["_build"] = lambda x: {"prefix": _prefix(pipe, images, x, device)}
    return cond


def _prefix(pipe, images, x, device):
    """The image's latent frame(s), as SkyReelsV2DiffusionForcingImageToVideoPipeline.prepare_latents makes them."""
    import torch
    from diffusers import SkyReelsV2DiffusionForcingImageToVideoPipeline as DF_I2V

    h, w = x.shape[3:]
    height, width = h * pipe.vae_scale_factor_spatial, w * pipe.vae_scale_factor_spatial
    out = []
    for image in images:
        pixels = pipe.video_processor.preprocess(image, height=height, width=width).to(device, dtype=torch.float32)
        _, _, condition, _ = DF_I2V.prepare_latents(
            pipe,
            pixels,
            1,
            x.shape[1],
            height,
            width,
            1,
            torch.float32,
            device,
            None,
            latents=torch.zeros(1, *x.shape[1:], device=device),
        )
        out.append(condition)
    return torch.cat(out)


def denoiser_for(pipe, t) -> str:
    return "transformer"


# --------------------------------------------------------------------------- VACE


def encode_vace(pipe, prompts, device, images=None):
    cond = WAN.encode(pipe, prompts, device)
    # A pair's video (weditor.models.runtime.encode sets cond["_video"] after this returns) is the control video.
    cond["_build"] = lambda x: _vace_control(pipe, x, device, cond.get("_video"))
    return cond


def _vace_control(pipe, x, device, video_path=None) -> dict:
    """The pipeline's own control latents for `video_path` (frames at the collection size) and no mask;
    without a video, for no video and no mask (its text-to-video mode)."""
    import torch

    from weditor.io.pair_videos import read_video

    frames_lat, h, w = x.shape[2:]
    height, width = h * pipe.vae_scale_factor_spatial, w * pipe.vae_scale_factor_spatial
    frames = (frames_lat - 1) * pipe.vae_scale_factor_temporal + 1
    video = None if video_path is None else read_video(video_path, (height, width, frames))
    video, mask, refs = pipe.preprocess_conditions(video, None, None, 1, height, width, frames, torch.float32, device)
    control = pipe.prepare_video_latents(video, mask, refs, None, device)
    control = torch.cat([control, pipe.prepare_masks(mask, refs, None)], dim=1)
    model = pipe.transformer if pipe.transformer is not None else pipe.transformer_2
    return {"control": control, "scale": torch.ones(len(model.config.vace_layers), device=device)}


def forward_vace(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch, sized

    c = sized(cond, x, cond["_build"])
    n = x.shape[0]
    with torch.no_grad():
        return model(
            hidden_states=x.to(model.dtype),
            timestep=batch(t, n),
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            control_hidden_states=c["control"].expand(n, -1, -1, -1, -1).to(model.dtype),
            control_hidden_states_scale=c["scale"].to(model.dtype),
            return_dict=False,
        )[0]


# --------------------------------------------------------------------------- Lucy Edit


def encode_lucy(pipe, prompts, device, images=None):
    from weditor.adapters.common import as_images

    cond = WAN.encode(pipe, prompts, device)
    images = as_images(images, len(prompts))
    cond["_expand"] = bool(pipe.config.get("expand_timesteps", False))
    cond["_build"] = lambda x: {"source": _source_latents(pipe, images, x, device)}
    return cond


def _source_latents(pipe, images, x, device):
    """The pipeline's condition latents of a still video: each member's image held for every frame."""
    import torch

    frames_lat, h, w = x.shape[2:]
    height, width = h * pipe.vae_scale_factor_spatial, w * pipe.vae_scale_factor_spatial
    frames = (frames_lat - 1) * pipe.vae_scale_factor_temporal + 1
    out = []
    for image in images:
        video = pipe.video_processor.preprocess_video([image] * frames, height=height, width=width)
        _, source = pipe.prepare_latents(
            video.to(device, torch.float32), 1, x.shape[1], height, width, torch.float32, device, None
        )
        out.append(source)
    return torch.cat(out)


def forward_lucy(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch, sized

    n, _, f, h, w = x.shape
    inp = torch.cat([x, sized(cond, x, cond["_build"])["source"].to(x.dtype)], dim=1)
    if cond["_expand"]:  # one timestep per token (the pipeline's all-ones mask times t)
        _, ph, pw = model.config.patch_size
        timestep = batch(t, 1)[:1].expand(n, f * (h // ph) * (w // pw))
    else:
        timestep = batch(t, n)
    with torch.no_grad():
        return model(
            hidden_states=inp.to(model.dtype),
            timestep=timestep,
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            return_dict=False,
        )[0]


# Every pipeline built on Wan but WanPipeline itself calls ftfy.fix_text unguarded (tests/test_adapters_ltx2.py
# reads the diffusers sources to check): the same `requires` as Wan I2V.
_WAN = replace(WAN, requires=WAN_I2V.requires)
SKYREELS = replace(_WAN, pipelines=("SkyReelsV2Pipeline",))


def video_latents_v2v(pipe, frames, size, device, generator=None):
    """WanVideoToVideoPipeline.prepare_latents' clean latents of `frames` (PIL images at the collection size):
    the VAE's mode (argmax), which draws nothing from `generator`."""
    import torch
    from diffusers.pipelines.wan.pipeline_wan_video2video import retrieve_latents

    height, width, _ = size
    video = pipe.video_processor.preprocess_video(frames, height=height, width=width).to(device, pipe.vae.dtype)
    latents = retrieve_latents(pipe.vae.encode(video), sample_mode="argmax").float()
    z = pipe.vae.config.z_dim
    mean = torch.tensor(pipe.vae.config.latents_mean).view(1, z, 1, 1, 1).to(device)
    inv_std = 1.0 / torch.tensor(pipe.vae.config.latents_std).view(1, z, 1, 1, 1).to(device)
    return (latents - mean) * inv_std


# Pairs without a video start from noise (strength 1: the whole schedule); a pair's `video` is noised
# to the stock pipeline's default strength, 0.8, as `pipe(video=..., prompt=...)` would (weditor/io/pair_videos.py).
WAN_V2V = replace(
    _WAN,
    pipelines=("WanVideoToVideoPipeline",),
    latents=latents_df,
    video_input=True,
    video_latents=video_latents_v2v,
    video_strength=0.8,
)
SKYREELS_I2V = replace(WAN_I2V, pipelines=("SkyReelsV2ImageToVideoPipeline", "ChronoEditPipeline"))
SKYREELS_DF = replace(
    _WAN,
    pipelines=("SkyReelsV2DiffusionForcingPipeline",),
    denoisers=("transformer",),
    latents=latents_df,
    forward=forward_df,
    denoiser_for=denoiser_for,
    one_row_per_call=True,
)
SKYREELS_DF_PREFIX = replace(
    SKYREELS_DF,
    pipelines=("SkyReelsV2DiffusionForcingImageToVideoPipeline", "SkyReelsV2DiffusionForcingVideoToVideoPipeline"),
    image_to_video=True,
    encode=encode_df_prefix,
)
# A pair's `video` is VACE's control video (no mask: the whole video is the condition); without one, its text-to-video mode.
WAN_VACE = replace(_WAN, pipelines=("WanVACEPipeline",), encode=encode_vace, forward=forward_vace, video_input=True)
LUCY = replace(
    _WAN,
    pipelines=("LucyEditPipeline",),
    image_to_video=True,
    encode=encode_lucy,
    latents=latents_df,
    forward=forward_lucy,
)

ADAPTERS = (SKYREELS, WAN_V2V, SKYREELS_I2V, SKYREELS_DF, SKYREELS_DF_PREFIX, WAN_VACE, LUCY)
