"""Framepack (diffusers `HunyuanVideoFramepackPipeline`, `HunyuanVideoFramepackTransformer3DModel`).

HunyuanVideo's dual- and single-stream blocks under their own class, so HunyuanVideo's table as it is
(weditor/adapters/hunyuan.py: every residual add gated, REINS and output-side edits refused; the
Llama and CLIP text read-outs). What differs is what the blocks read:

- the image, twice: SigLIP tokens (`encode_image` of the first frame, through `image_projection`)
  in front of the refined prompt tokens in the text stream, and the image's VAE latent as the clean
  prefix frame of the packed history;
- packed history latents (1x, 2x and 4x downsampled patches of the frames generated so far), in front
  of the noisy section's tokens.

The pipeline samples a video section by section (`latent_window_size` latent frames each), each one
reading the sections already done. weditor reproduces a call of one section: the collection's frames
are the window (`latent_window_size = (frames - 1) / 4 + 1`; the default 33 frames is the pipeline's
window of 9), sampled as the pipeline's default inverted anti-drifting order samples its first
section of such a call: the image latent as prefix, all-zero 1x / 2x / 4x history, no padding, the
section's shifted schedule, embedded guidance 6.0 (the default). A longer call's first section differs
only in the RoPE positions (padding) of its tokens; later sections read finished frames and are not run.

Pairs may carry images (the pipeline requires one; none: mid-grey). The image latent is a VAE sample, as
the pipeline draws it, from a generator seeded 0 (a seeded run's draw).
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.hunyuan import GUIDANCE_SCALE, HUNYUAN, MAX_TEXT_LENGTH

HISTORY_SIZES = (1, 2, 16)  # inverted anti-drifting: the 1x, 2x and 4x history frames


def encode(pipe, prompts: list[str], device, images=None):
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video_framepack import DEFAULT_PROMPT_TEMPLATE

    from weditor.adapters.common import as_images, text_length

    embeds, pooled, mask = pipe.encode_prompt(
        prompt=prompts,
        prompt_template=DEFAULT_PROMPT_TEMPLATE,
        device=device,
        max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH),
    )
    images = as_images(images, len(prompts))
    cond = {"encoder_hidden_states": embeds, "encoder_attention_mask": mask, "pooled_projections": pooled}
    cond["_build"] = lambda x: _image(pipe, images, x, device)
    return cond


def _image(pipe, images, x, device) -> dict:
    """Each member's image at the video size: SigLIP tokens (`encode_image`) and VAE latent
    (`prepare_image_latents`, sampled from a generator seeded 0)."""
    import torch

    h, w = x.shape[3:]
    height, width = h * pipe.vae_scale_factor_spatial, w * pipe.vae_scale_factor_spatial
    embeds, latents = [], []
    for image in images:
        pixels = pipe.video_processor.preprocess(image, height, width)
        embeds.append(pipe.encode_image(pixels, device=device))
        latents.append(
            pipe.prepare_image_latents(
                pixels, dtype=torch.float32, device=device, generator=torch.Generator("cpu").manual_seed(0)
            )
        )
    return {"image_embeds": torch.cat(embeds), "image_latents": torch.cat(latents)}


def latents(pipe, size: tuple[int, int, int], generator, device):
    import torch

    height, width, frames = size
    return pipe.prepare_latents(
        1, pipe.transformer.config.in_channels, height, width, frames, torch.float32, "cpu", generator
    ).to(device)


def set_timesteps(pipe, scheduler, steps: int, size, device):
    """As the pipeline per section: sigmas linspace(1, 0) without the final 0, shift `mu` of the section's
    token count, capped at log 7."""
    import math

    import numpy as np
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video_framepack import calculate_shift, retrieve_timesteps

    height, width, frames = size
    s, p = pipe.vae_scale_factor_spatial, pipe.transformer.config.patch_size
    k = (frames - 1) // pipe.vae_scale_factor_temporal + 1
    cfg = scheduler.config
    mu = calculate_shift(
        k * (height // s) * (width // s) / p**2,
        cfg.get("base_image_seq_len", 256),
        cfg.get("max_image_seq_len", 4096),
        cfg.get("base_shift", 0.5),
        cfg.get("max_shift", 1.15),
    )
    sigmas = np.linspace(1.0, 0.0, steps + 1)[:-1]
    retrieve_timesteps(scheduler, steps, device, sigmas=sigmas, mu=min(mu, math.log(7.0)))


def forward(model, x, t, cond):
    """The section's step: the image latent and zero history packed as the pipeline packs its first section."""
    import torch

    from weditor.adapters.common import batch, sized

    c = sized(cond, x, cond["_build"])
    n, channels, k, h, w = x.shape
    one, two, four = HISTORY_SIZES
    prefix, i_latents, i_1x, i_2x, i_4x = torch.arange(0, 1 + k + sum(HISTORY_SIZES)).split([1, k, one, two, four])
    dtype = model.dtype

    def zeros(frames):
        return x.new_zeros(n, channels, frames, h, w, dtype=dtype)

    clean = torch.cat([c["image_latents"].to(dtype).expand(n, -1, -1, -1, -1), zeros(one)], dim=2)
    guidance = torch.full((n,), GUIDANCE_SCALE * 1000.0, device=x.device, dtype=dtype)
    with torch.no_grad():
        return model(
            hidden_states=x.to(dtype),
            timestep=batch(t, n),
            encoder_hidden_states=cond["encoder_hidden_states"].to(dtype),
            encoder_attention_mask=cond["encoder_attention_mask"],
            pooled_projections=cond["pooled_projections"].to(dtype),
            image_embeds=c["image_embeds"].to(dtype),
            indices_latents=i_latents,
            guidance=guidance,
            latents_clean=clean,
            indices_latents_clean=torch.cat([prefix, i_1x]),
            latents_history_2x=zeros(two),
            indices_latents_history_2x=i_2x,
            latents_history_4x=zeros(four),
            indices_latents_history_4x=i_4x,
            return_dict=False,
        )[0]


FRAMEPACK = replace(
    HUNYUAN,
    family="hunyuanvideo",
    pipelines=("HunyuanVideoFramepackPipeline",),
    image_to_video=True,
    encode=encode,
    latents=latents,
    forward=forward,
    set_timesteps=set_timesteps,
    default_size=(256, 256, 33),
)
