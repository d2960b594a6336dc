"""AnimateDiff and the pipelines built on its motion-adapter UNet (diffusers `UNetMotionModel`).

A `UNetMotionModel` is a Stable Diffusion UNet with a motion module after every spatial transformer:
the same down/mid/up layout as ModelScope's UNet3D (weditor/adapters/unet3d.py), frames folded into the
batch. The prompt enters only through the spatial transformers' `BasicTransformerBlock`s
(`attentions.*.transformer_blocks.*`, found by UNet3D's patterns): their cross-attention `attn2` reads
the CLIP text tokens, repeated per frame. The motion modules (`motion_modules.*.transformer_blocks.*`,
self-attention across one pixel's frames, no text) are outside the patterns and left alone. A
BasicTransformerBlock has no timestep modulation, so every write is ungated, as in UNet3D: UNet3D's
table (sites, default site `ffn_in`, `attn2.to_out.0` as the ungated write, the text read-out on every
spatial `attn2.to_k`/`to_v`) is exact here too.

The pipelines (diffusers pipeline_animatediff*.py, deprecated/pia/pipeline_pia.py):

- `AnimateDiffPipeline`: text to video from noise. `AnimateDiffPAGPipeline` runs the same UNet call when
  perturbed-attention guidance is off; weditor runs every pipeline guidance-free (no CFG, no PAG batch),
  as it runs every family.
- `AnimateDiffVideoToVideoPipeline`: a pair's `video` is the input video: its VAE latents noised to the
  first of the last `int(steps * 0.8)` timesteps (the stock `strength=0.8`), as WanVideoToVideo's
  (weditor/io/pair_videos.py). The stock pipeline *samples* the VAE posterior with the run's generator
  before it draws the noise; weditor takes the posterior's mode, and draws (and drops) a sample of the
  posterior's shape first, so its noise is the stock pipeline's. `add_noise` takes unscaled noise, so a
  scheduler whose initial noise is scaled (Euler's `init_noise_sigma`) is refused for video pairs in one
  line. Without a video: text to video from noise (strength 1).
- `PIAPipeline`: a pair's image (else mid-grey) is the first frame: its VAE latent (posterior mode; the
  stock pipeline samples it after the noise), repeated over the frames, and PIA's mask coefficients for
  `motion_scale=0` (the default) are concatenated to the latent on the channel axis, as its loop does.
- `AnimateDiffSDXLPipeline`: SDXL's UNet (the same blocks, deeper transformers) reads, besides the two
  CLIP encoders' concatenated states, CLIP-G's pooled embedding and the size ids through
  `add_embedding` (`added_cond_kwargs`); `add_embedding.linear_1` reads the pooled vector concatenated with
  the size embedding, so no linear reads it alone and the text methods do not fold it.

The control-net variants live in weditor/adapters/animatediff_control.py.

Every pipeline calls the scheduler's `scale_model_input`; the forward applies it from the timestep
alone (weditor/adapters/pixart.py: the identity for DDIM, DPM-Solver, PNDM; Euler's 1/sqrt(sigma^2+1)).
The motion modules hold `motion_max_seq_length` (32) temporal positions: more frames is one error.
A checkpoint must be a saved pipeline of one of these classes (`pipe.save_pretrained`); a Stable
Diffusion checkpoint loaded with a separate `motion_adapter` names StableDiffusionPipeline in its
model_index.json.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters import pixart
from weditor.adapters.unet3d import UNET3D
from weditor.errors import WeditorError

CHUNK = 16  # the pipelines' decode_chunk_size: frames per VAE encode call (and per posterior draw)


def encode(pipe, prompts: list[str], device, images=None):
    embeds, _ = pipe.encode_prompt(prompts, device, 1, False)
    return _with_scale(pipe, {"encoder_hidden_states": embeds})


def _with_scale(pipe, cond: dict) -> dict:
    """`cond` plus the scheduler's input scale where it is not the identity (plain tensors batch, issue 22)."""
    scale = pixart.input_scale(pipe.scheduler)
    return cond if scale is None else {**cond, "_scale": scale}


def _check_frames(pipe, frames: int):
    most = pipe.unet.config.get("motion_max_seq_length") or 32
    if frames > most:
        raise WeditorError(
            f"{type(pipe).__name__}'s motion modules have temporal positions for {most} frames "
            f"(motion_max_seq_length); --size asks for {frames}"
        )


def latents(pipe, size: tuple[int, int, int], generator, device):
    import torch

    height, width, frames = size
    _check_frames(pipe, frames)
    channels = pipe.unet.config.out_channels  # PIA's UNet reads 9 channels; its latent has 4, as its call passes
    return pipe.prepare_latents(1, channels, frames, height, width, torch.float32, "cpu", generator).to(device)


def latents_v2v(pipe, size: tuple[int, int, int], generator, device):
    """AnimateDiffVideoToVideoPipeline's noise: drawn after its posterior sample of the video (F x C x h x w,
    per chunk), in (batch, frames, channels) order; scaled by `init_noise_sigma` as a text-to-video start."""
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    _check_frames(pipe, frames)
    s, c = pipe.vae_scale_factor, pipe.unet.config.out_channels
    for i in range(0, frames, CHUNK):  # the posterior sample weditor replaces by the mode
        randn_tensor((min(CHUNK, frames - i), c, height // s, width // s), generator=generator)
    noise = randn_tensor((1, frames, c, height // s, width // s), generator=generator).permute(0, 2, 1, 3, 4)
    return (noise * pipe.scheduler.init_noise_sigma).to(device)


def video_latents_v2v(pipe, frames, size, device, generator=None):
    """The pipeline's clean latents of `frames` (PIL images at the collection size), posterior mode.

    The mode draws nothing from `generator`: the stock sample it replaces is drawn and dropped in `latents`.
    """
    import torch
    from diffusers.pipelines.animatediff.pipeline_animatediff_video2video import retrieve_latents

    if float(pipe.scheduler.init_noise_sigma) != 1.0:
        raise WeditorError(
            f"pairs with videos on {type(pipe).__name__}: its scheduler {type(pipe.scheduler).__name__} scales "
            "the initial noise (init_noise_sigma != 1), which weditor's video start does not reproduce; "
            "use a DDIM, DDPM, PNDM or DPM-Solver scheduler"
        )
    height, width, _ = size
    video = pipe.video_processor.preprocess_video(frames, height=height, width=width)
    video = video.permute(0, 2, 1, 3, 4)[0].to(device, pipe.vae.dtype)  # (frames, 3, H, W)
    with torch.no_grad():
        parts = [
            retrieve_latents(pipe.vae.encode(video[i : i + CHUNK]), sample_mode="argmax")
            for i in range(0, len(video), CHUNK)
        ]
    return (torch.cat(parts).float() * pipe.vae.config.scaling_factor).permute(1, 0, 2, 3).unsqueeze(0)


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch, sized

    n, _, frames = x.shape[:3]
    inp, kwargs = pixart.scaled(cond, x, t), {}
    extra = sized(cond, x, cond["_build"]) if "_build" in cond else {}
    if "mask" in extra:  # PIA: [latent, mask, masked image latent] on the channel axis
        mask = extra["mask"].expand(n, -1, -1, -1, -1)
        inp = torch.cat([inp, mask.to(x.dtype), extra["masked"].to(x.dtype)], dim=1)
    if "time_ids" in extra:  # SDXL: the pooled CLIP-G embedding and the size ids, per video
        pooled, time_ids = cond["pooled_projections"], extra["time_ids"].expand(n, -1)
        kwargs["added_cond_kwargs"] = {"text_embeds": pooled.to(model.dtype), "time_ids": time_ids.to(model.dtype)}
    text = cond["encoder_hidden_states"].repeat_interleave(frames, dim=0)  # one row per frame, as the loop passes
    with torch.no_grad():
        return model(
            inp.to(model.dtype), batch(t, n), encoder_hidden_states=text.to(model.dtype), return_dict=False, **kwargs
        )[0]


# --------------------------------------------------------------------------- SDXL


def encode_sdxl(pipe, prompts: list[str], device, images=None):
    """Both text encoders' penultimate states (concatenated, as encode_prompt does), CLIP-G's pooled one,
    and the size ids of the video (built from the latent's shape)."""
    if pipe.unet.config.get("time_cond_proj_dim") is not None:
        raise WeditorError(
            f"{type(pipe).__name__}: this UNet embeds the guidance scale (time_cond_proj_dim), which weditor's "
            "guidance-free runs do not reproduce"
        )
    embeds, _, pooled, _ = pipe.encode_prompt(
        prompt=prompts, device=device, num_videos_per_prompt=1, do_classifier_free_guidance=False
    )
    cond = _with_scale(pipe, {"encoder_hidden_states": embeds, "pooled_projections": pooled})
    cond["_build"] = lambda x: {"time_ids": _time_ids(pipe, x, pooled, device)}
    return cond


def _time_ids(pipe, x, pooled, device):
    """`_get_add_time_ids` as the pipeline calls it by default: original and target size the video's
    (height, width), crop corner (0, 0)."""
    size = (x.shape[3] * pipe.vae_scale_factor, x.shape[4] * pipe.vae_scale_factor)
    projection = pipe.text_encoder_2.config.projection_dim if pipe.text_encoder_2 is not None else pooled.shape[-1]
    return pipe._get_add_time_ids(size, (0, 0), size, dtype=pooled.dtype, text_encoder_projection_dim=projection).to(
        device
    )


def encode_pia(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import as_images

    cond = encode(pipe, prompts, device)
    images = as_images(images, len(prompts))
    cond["_build"] = lambda x: _pia_condition(pipe, images, x, device)
    return cond


def _pia_condition(pipe, images, x, device) -> dict:
    """PIAPipeline.prepare_masked_condition for latent `x`, one image per member, the posterior's mode."""
    import torch
    import torch.nn.functional as F
    from diffusers.pipelines.animatediff.pipeline_animatediff_video2video import retrieve_latents
    from diffusers.pipelines.deprecated.pia.pipeline_pia import prepare_mask_coef_by_statistics

    frames, h, w = x.shape[2:]
    masked = []
    for image in images:
        pixels = pipe.video_processor.preprocess(image).to(device, pipe.vae.dtype)  # at the image's own size
        with torch.no_grad():
            latent = retrieve_latents(pipe.vae.encode(pixels), sample_mode="argmax")
        latent = F.interpolate(latent.float(), size=[h, w]) * pipe.vae.config.scaling_factor
        masked.append(latent.unsqueeze(2).expand(-1, -1, frames, -1, -1))
    coef = torch.tensor(prepare_mask_coef_by_statistics(frames, 0, 0), dtype=torch.float32, device=device)
    mask = coef.view(1, 1, frames, 1, 1).expand(1, 1, frames, h, w)
    return {"mask": mask, "masked": torch.cat(masked)}


def denoiser_for(pipe, t) -> str:
    return "unet"


ANIMATEDIFF = replace(
    UNET3D,
    family="animatediff",
    pipelines=("AnimateDiffPipeline", "AnimateDiffPAGPipeline"),
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    step=pixart.step,
    default_size=(256, 256, 16),
)
# A pair's `video` is the input video, noised at the stock pipeline's default strength 0.8; without one, from noise.
ANIMATEDIFF_V2V = replace(
    ANIMATEDIFF,
    pipelines=("AnimateDiffVideoToVideoPipeline",),
    latents=latents_v2v,
    video_input=True,
    video_latents=video_latents_v2v,
    video_strength=0.8,
)
PIA = replace(ANIMATEDIFF, pipelines=("PIAPipeline",), image_to_video=True, encode=encode_pia)
# SDXL's UNet: the same blocks (more of them per level); the pooled embedding, read by `add_embedding.linear_1`
# together with the size embedding, is not folded (no linear reads it alone).
ANIMATEDIFF_SDXL = replace(
    ANIMATEDIFF, pipelines=("AnimateDiffSDXLPipeline",), encode=encode_sdxl, default_size=(512, 512, 16)
)

ADAPTERS = (ANIMATEDIFF, ANIMATEDIFF_V2V, PIA, ANIMATEDIFF_SDXL)
