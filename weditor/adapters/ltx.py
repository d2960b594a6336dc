"""LTX-Video, text- and image-to-video (diffusers `LTXVideoTransformer3DModel`).

An LTX block, from diffusers' transformer_ltx.py:

    h = h + gate_msa * attn1(norm1(h) * (1 + scale_msa) + shift_msa)   # gated by timestep
    h = h +            attn2(h, text)                                 # NOT gated
    h = h + gate_mlp * ff(norm2(h) * (1 + scale_mlp) + shift_mlp)     # gated by timestep

`attn2.to_out[0]` writes into the stream as is, bias included (the text attention mask only
changes which keys are attended to, never whether the bias is added): an output-side edit there
and a constant (REINS) bias fold are exact at every step. Text embeddings enter through
`caption_projection.linear_1`.

The pipeline packs latents into tokens (B, F*h*w, C) and shifts the schedule by the sequence length
(`calculate_shift`). Here latents stay unpacked between steps (the flow-matching Euler step is
elementwise, so packing commutes with it) and are packed for each denoiser call with the pipeline's
own `_pack_latents`. Image-to-video: the pipeline's `prepare_latents` puts the image latent in
frame 0 with a conditioning mask; those tokens get timestep 0.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.base import Adapter
from weditor.adapters.sites import cross_attention_dit_sites

MAX_TEXT_LENGTH = 128  # the pipeline's default max_sequence_length
FRAME_RATE = 25  # the pipeline's default frame_rate (it scales the temporal RoPE)


def encode(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import text_length

    embeds, mask, _, _ = pipe.encode_prompt(
        prompts,
        do_classifier_free_guidance=False,
        max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH),
        device=device,
    )
    return {
        "encoder_hidden_states": embeds,
        "encoder_attention_mask": mask,
        "_rope": (
            pipe.vae_temporal_compression_ratio / FRAME_RATE,
            pipe.vae_spatial_compression_ratio,
            pipe.vae_spatial_compression_ratio,
        ),
        "_build": lambda x: {},
    }


def _latent_grid(pipe, size):
    height, width, frames = size
    return (
        (frames - 1) // pipe.vae_temporal_compression_ratio + 1,
        height // pipe.vae_spatial_compression_ratio,
        width // pipe.vae_spatial_compression_ratio,
    )


def latents(pipe, size: tuple[int, int, int], generator, device):
    """The pipeline's packed noise, unpacked to (1, C, F, h, w)."""
    import torch

    height, width, frames = size
    packed = pipe.prepare_latents(
        1, pipe.transformer.config.in_channels, height, width, frames, torch.float32, "cpu", generator
    )
    f, h, w = _latent_grid(pipe, size)
    return pipe._unpack_latents(
        packed, f, h, w, pipe.transformer_spatial_patch_size, pipe.transformer_temporal_patch_size
    ).to(device)


def set_timesteps(pipe, scheduler, steps: int, size, device):
    """As LTXPipeline.__call__: sigmas linspace(1, 1/n) shifted by mu(sequence length)."""
    import numpy as np
    from diffusers.pipelines.ltx.pipeline_ltx import calculate_shift, retrieve_timesteps

    f, h, w = _latent_grid(pipe, size)
    mu = calculate_shift(
        f * h * w,
        scheduler.config.get("base_image_seq_len", 256),
        scheduler.config.get("max_image_seq_len", 4096),
        scheduler.config.get("base_shift", 0.5),
        scheduler.config.get("max_shift", 1.15),
    )
    retrieve_timesteps(scheduler, steps, device, sigmas=np.linspace(1.0, 1 / steps, steps), mu=mu)


def forward(model, x, t, cond):
    import torch
    from diffusers import LTXPipeline

    from weditor.adapters.common import batch, sized

    n, _, f, h, w = x.shape
    p, p_t = model.config.patch_size, model.config.patch_size_t
    tokens = LTXPipeline._pack_latents(x, p, p_t)
    timestep = batch(t, n)
    extra = sized(cond, x, cond["_build"])
    if "image_latents" in extra:  # as LTXImageToVideoPipeline: frame-0 tokens are the image, at timestep 0
        mask = extra["conditioning_mask"]
        tokens = mask.unsqueeze(-1) * extra["image_latents"] + (1 - mask.unsqueeze(-1)) * tokens
        timestep = timestep.unsqueeze(-1) * (1 - mask)
    with torch.no_grad():
        out = model(
            hidden_states=tokens.to(model.dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            timestep=timestep,
            encoder_attention_mask=cond["encoder_attention_mask"],
            num_frames=f // p_t,
            height=h // p,
            width=w // p,
            rope_interpolation_scale=cond["_rope"],
            return_dict=False,
        )[0]
    return LTXPipeline._unpack_latents(out, f // p_t, h // p, w // p, p, p_t)


def denoiser_for(pipe, t) -> str:
    return "transformer"


LTX = Adapter(
    family="ltx",
    pipelines=("LTXPipeline",),
    denoisers=("transformer",),
    blocks="transformer_blocks",
    sites=cross_attention_dit_sites("ff"),
    default_site="cross_attn_out",  # measured on the shapes model: docs/benchmarks.md
    ungated_write="attn2.to_out.0",
    text_input="caption_projection.linear_1",
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    set_timesteps=set_timesteps,
    default_size=(256, 256, 17),
)


# --------------------------------------------------------------------------- image-to-video


def encode_i2v(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import as_images

    cond = encode(pipe, prompts, device)
    images = as_images(images, len(prompts))
    cond["_build"] = lambda x: _image_tokens(pipe, images, x, device)
    return cond


def _image_tokens(pipe, images, x, device) -> dict:
    """The pipeline's `prepare_latents` per member: packed image latents (frame 0) and the mask."""
    import torch

    f, h, w = x.shape[2:]
    height, width = h * pipe.vae_spatial_compression_ratio, w * pipe.vae_spatial_compression_ratio
    frames = (f - 1) * pipe.vae_temporal_compression_ratio + 1
    tokens, masks = [], []
    for image in images:
        pixels = pipe.video_processor.preprocess(image, height=height, width=width).to(device, dtype=pipe.vae.dtype)
        generator = torch.Generator("cpu").manual_seed(0)  # the VAE sample and the (discarded) noise
        packed, mask = pipe.prepare_latents(
            pixels, 1, pipe.transformer.config.in_channels, height, width, frames, torch.float32, device, generator
        )
        tokens.append(packed * mask.unsqueeze(-1))
        masks.append(mask)
    return {"image_latents": torch.cat(tokens), "conditioning_mask": torch.cat(masks)}


def latents_i2v(pipe, size: tuple[int, int, int], generator, device):
    """The noise LTXImageToVideoPipeline.prepare_latents draws (before frame 0 is replaced), unpacked."""
    from diffusers.utils.torch_utils import randn_tensor

    shape = (1, pipe.transformer.config.in_channels, *_latent_grid(pipe, size))
    return randn_tensor(shape, generator=generator).to(device)


LTX_I2V = replace(
    LTX, pipelines=("LTXImageToVideoPipeline",), image_to_video=True, encode=encode_i2v, latents=latents_i2v
)
