"""CogVideoX 1.0 / 1.5, text- and image-to-video (diffusers `CogVideoXTransformer3DModel`).

A CogVideoX block, from diffusers' cogvideox_transformer_3d.py, keeps two streams (video `h`,
text `e`) that meet in every attention and every FFN:

    n_h, n_e, g, g_e = norm1(h, e, temb)                           # LayerNormZero: scale/shift/gate from t
    a_h, a_e = attn1(cat[n_e, n_h])                                # q, k, v read text and video tokens
    h = h + g   * a_h ;  e = e + g_e * a_e                         # gated by timestep
    n_h, n_e, g, g_e = norm2(h, e, temb)
    f = ff(cat[n_e, n_h])                                          # one FFN over text + video tokens
    h = h + g   * f[video] ;  e = e + g_e * f[text]                # gated by timestep

Every residual add is multiplied by a timestep-dependent gate: output-side edits and a constant
(REINS) bias fold are not exact here and are refused. Input-side edits are exact; the FFN and
the q/k/v projections read the concatenation of text and video tokens, so the paired differences
are collected over both (text tokens first, padded to the same length for both members).
Text embeddings enter through `patch_embed.text_proj` only.

Image-to-video: the VAE latent of the image (first frame, then zeros) is concatenated to the
noisy latent on the channel axis (`prepare_latents` of CogVideoXImageToVideoPipeline); 1.5 adds
an "ofs" embedding. CogVideoX-Fun control (`CogVideoXFunControlPipeline`) concatenates the VAE
latents of a control video (pose, depth, edges) on the same axis instead: a pair's `video` is that
control video, and without one a still mid-grey video is (the pipeline has no control-free mode).
Video-to-video (`CogVideoXVideoToVideoPipeline`) starts from a pair's `video`, VAE-sampled and noised
as its `prepare_latents` does. Batched CFG in the pipeline does not matter here: each member runs as
its own batch row with its own prompt.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.base import Adapter, Site

OFS = 2.0  # the value CogVideoXImageToVideoPipeline passes for CogVideoX 1.5


def text_length(pipe) -> int:
    """The pipeline pads to `max_text_seq_length` (226); positions are learned/sin-cos over it."""
    return int(pipe.transformer.config.max_text_seq_length)


def encode(pipe, prompts: list[str], device, images=None):
    embeds, _ = pipe.encode_prompt(
        prompts, do_classifier_free_guidance=False, max_sequence_length=text_length(pipe), device=device
    )
    cond = {"encoder_hidden_states": embeds}
    cond["_build"] = lambda x: {"rotary": _rotary(pipe, x, device)}
    return cond


def _pixels(pipe, x) -> tuple[int, int, int]:
    """Pixel height, width, frames of latent `x` (B, F, C, h, w)."""
    frames_lat, _, h, w = x.shape[1:]
    s = pipe.vae_scale_factor_spatial
    return h * s, w * s, (frames_lat - 1) * pipe.vae_scale_factor_temporal + 1


def _rotary(pipe, x, device):
    if not pipe.transformer.config.use_rotary_positional_embeddings:
        return None
    height, width, _ = _pixels(pipe, x)
    return pipe._prepare_rotary_positional_embeddings(height, width, x.shape[1], device)


def _frames(pipe, frames: int) -> int:
    """Pixel frames after the pipeline's padding of CogVideoX 1.5 latents to a multiple of patch_size_t."""
    p_t = pipe.transformer.config.patch_size_t
    latent = (frames - 1) // pipe.vae_scale_factor_temporal + 1
    if p_t is not None and latent % p_t:
        frames += (p_t - latent % p_t) * pipe.vae_scale_factor_temporal
    return frames


def latents(pipe, size: tuple[int, int, int], generator, device):
    import torch

    height, width, frames = size
    channels = pipe.transformer.config.in_channels
    return pipe.prepare_latents(1, channels, _frames(pipe, frames), height, width, torch.float32, "cpu", generator).to(
        device
    )


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch, sized

    extra = sized(cond, x, cond["_build"])
    inp = x if extra.get("image_latents") is None else torch.cat([x, extra["image_latents"].to(x.dtype)], dim=2)
    ofs = inp.new_full((1,), OFS) if model.config.ofs_embed_dim else None
    with torch.no_grad():
        return model(
            hidden_states=inp.to(model.dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            timestep=batch(t, x.shape[0]),
            ofs=ofs,
            image_rotary_emb=extra["rotary"],
            return_dict=False,
        )[0]


def step(scheduler, pred, t, x):
    """DDIM steps as usual. CogVideoXDPMScheduler (as the pipeline's loop calls it) also wants the
    previous x0 prediction and timestep, and adds fresh noise at every step (an SDE solver): that
    noise comes from a generator of this trajectory's scheduler copy, seeded 0, so runs repeat."""
    import torch
    from diffusers import CogVideoXDPMScheduler

    if not isinstance(scheduler, CogVideoXDPMScheduler):
        return scheduler.step(pred, t, x, return_dict=False)[0]
    if not hasattr(scheduler, "_weditor_generator"):
        scheduler._weditor_generator = torch.Generator(x.device).manual_seed(0)
        scheduler._weditor_x0 = None
    timesteps = list(scheduler.timesteps)
    i = timesteps.index(t)
    x, scheduler._weditor_x0 = scheduler.step(
        pred,
        scheduler._weditor_x0,
        t,
        timesteps[i - 1] if i > 0 else None,
        x,
        generator=scheduler._weditor_generator,
        return_dict=False,
    )
    return x


def denoiser_for(pipe, t) -> str:
    return "transformer"


def default_size(pipe) -> tuple[int, int, int]:
    """Learned positional embeddings (CogVideoX-5b-I2V) fix the resolution to the trained one."""
    cfg = pipe.transformer.config
    if cfg.use_learned_positional_embeddings:
        s = pipe.vae_scale_factor_spatial
        return (cfg.sample_height * s, cfg.sample_width * s, cfg.sample_frames)
    return (240, 368, 17)


COGVIDEOX = Adapter(
    family="cogvideox",
    pipelines=("CogVideoXPipeline",),
    denoisers=("transformer",),
    blocks="transformer_blocks",
    sites={
        "ffn_in": Site(("ff.net.0.proj",), "reads", doc="first FFN linear (text + video tokens)"),
        "attn_in": Site(("attn1.to_q", "attn1.to_k", "attn1.to_v"), "reads", doc="joint attention q, k, v"),
        "attn_out": Site(("attn1.to_out.0",), "writes", gated=True, doc="joint attention output"),
        "ffn_out": Site(("ff.net.2",), "writes", gated=True, doc="second FFN linear"),
    },
    default_site="ffn_in",
    ungated_write=None,  # every residual add is gated (LayerNormZero)
    text_input="patch_embed.text_proj",
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    step=step,
    default_size=default_size,
)


# --------------------------------------------------------------------------- image-to-video


def encode_i2v(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import as_images

    cond = encode(pipe, prompts, device)
    images = as_images(images, len(prompts))
    cond["_build"] = lambda x: {
        "rotary": _rotary(pipe, x, device),
        "image_latents": _image_latents(pipe, images, x, device),
    }
    return cond


def _image_latents(pipe, images, x, device):
    """The pipeline's `prepare_latents` for each member's image (VAE sample from a fixed generator)."""
    import torch

    height, width, frames = _pixels(pipe, x)
    channels = pipe.transformer.config.in_channels // 2
    out = []
    for image in images:
        pixels = pipe.video_processor.preprocess(image, height=height, width=width).to(device, dtype=pipe.vae.dtype)
        generator = torch.Generator("cpu").manual_seed(0)
        _, image_latents = pipe.prepare_latents(
            pixels, 1, channels, frames, height, width, torch.float32, device, generator, latents=x[:1]
        )
        out.append(image_latents)
    return torch.cat(out)


def latents_i2v(pipe, size: tuple[int, int, int], generator, device, channels: int | None = None):
    """The pipelines' noise, (1, F, C, h, w); C: the denoised channels (half the input's for I2V)."""
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    frames = _frames(pipe, frames)
    shape = (
        1,
        (frames - 1) // pipe.vae_scale_factor_temporal + 1,
        channels or pipe.transformer.config.in_channels // 2,
        height // pipe.vae_scale_factor_spatial,
        width // pipe.vae_scale_factor_spatial,
    )
    return (randn_tensor(shape, generator=generator) * pipe.scheduler.init_noise_sigma).to(device)


def latents_v2v(pipe, size: tuple[int, int, int], generator, device):
    """As T2V's (CogVideoXVideoToVideoPipeline.prepare_latents wants a video to noise instead)."""
    return latents_i2v(pipe, size, generator, device, channels=pipe.transformer.config.in_channels)


COGVIDEOX_I2V = replace(
    COGVIDEOX,
    pipelines=("CogVideoXImageToVideoPipeline",),
    image_to_video=True,
    encode=encode_i2v,
    latents=latents_i2v,
)


def video_latents_v2v(pipe, frames, size, device, generator=None):
    """CogVideoXVideoToVideoPipeline.prepare_latents' clean latents of `frames` (B, F, C, h, w): a VAE *sample*
    drawn from `generator` before the noise is, as the stock pipeline draws it. CogVideoX 1.5 wants a multiple
    of `patch_size_t` latent frames (the stock pipeline refuses other videos): the last frame is held for the
    padded frames, as a short video is (weditor/io/pair_videos.py)."""
    from diffusers.pipelines.cogvideo.pipeline_cogvideox_video2video import retrieve_latents

    height, width, count = size
    frames = list(frames) + [frames[-1]] * (_frames(pipe, count) - len(frames))
    video = pipe.video_processor.preprocess_video(frames, height=height, width=width).to(device, pipe.vae.dtype)
    latents = retrieve_latents(pipe.vae.encode(video), generator).float().permute(0, 2, 1, 3, 4)
    return pipe.vae_scaling_factor_image * latents


# Video-to-video: pairs without a video start from noise (strength 1: the whole schedule); a pair's `video` is
# encoded and noised to the stock pipeline's default strength, 0.8, as `pipe(video=..., prompt=...)` would,
# in its draw order: the VAE sample first, then the noise (weditor/io/pair_videos.py). The stock pipeline
# multiplies the noised latent by `init_noise_sigma`, which is 1 for both CogVideoX schedulers. Its denoiser
# step is T2V's.
COGVIDEOX_V2V = replace(
    COGVIDEOX,
    pipelines=("CogVideoXVideoToVideoPipeline",),
    latents=latents_v2v,
    video_input=True,
    video_latents=video_latents_v2v,
    video_strength=0.8,
)

# --------------------------------------------------------------------------- Fun control


def encode_control(pipe, prompts: list[str], device, images=None):
    cond = encode(pipe, prompts, device)
    # A pair's video (weditor.models.runtime.encode sets cond["_video"] after this returns) is the control video.
    cond["_build"] = lambda x: {
        "rotary": _rotary(pipe, x, device),
        "image_latents": _control_latents(pipe, x, device, cond.get("_video")).expand(len(prompts), -1, -1, -1, -1),
    }
    return cond


def _control_latents(pipe, x, device, video_path=None):
    """CogVideoXFunControlPipeline's control latents, (1, F, C, h, w), of `video_path` (frames at the collection
    size, weditor/io/pair_videos.py) or, without one, of a still mid-grey video."""
    from PIL import Image

    from weditor.adapters.common import GREY
    from weditor.io.pair_videos import read_video

    height, width, frames = _pixels(pipe, x)
    if video_path is None:
        video = [Image.new("RGB", (width, height), GREY)] * frames
    else:
        video = read_video(video_path, (height, width, frames))
    pixels = pipe.video_processor.preprocess_video([video], height=height, width=width).to(device, pipe.vae.dtype)
    _, latents = pipe.prepare_control_latents(None, pixels)
    return latents.permute(0, 2, 1, 3, 4)


# The denoiser call is I2V's (control latents where the image latents go, no ofs); the pipeline's loop calls
# `scheduler.step(pred, t, x)`, as `step` does for every scheduler but CogVideoXDPMScheduler (which that loop
# cannot drive). A pair's video is the control video.
COGVIDEOX_FUN_CONTROL = replace(
    COGVIDEOX, pipelines=("CogVideoXFunControlPipeline",), encode=encode_control, latents=latents_i2v, video_input=True
)
