"""Wan 2.1 / 2.2 (diffusers `WanTransformer3DModel`).

A Wan block, from diffusers' transformer_wan.py:

    h = h + gate_msa   * attn1(norm1(h) * (1 + scale) + shift)     # gated by timestep
    h = h +              attn2(norm2(h), text)                     # NOT gated
    h = h + c_gate_msa * ffn(norm3(h) * (1 + c_scale) + c_shift)   # gated by timestep

Wan 2.2 A14B adds `transformer_2` for the low-noise steps (`boundary_ratio`); both are edited.

Image-to-video (`WanImageToVideoPipeline`) uses the same blocks; the image enters through the
pipeline's own conditioning: VAE latents of the first frame (plus a mask) concatenated to the noisy
latent on the channel axis, and for Wan 2.1 also CLIP image tokens (`encode_image`) that the
cross-attention reads next to the text (`attn2.add_k_proj`/`add_v_proj`, outside our sites). Wan 2.2
TI2V-5B (`expand_timesteps`) instead writes the image latent into frame 0 and gives those tokens
timestep 0. The cross-attention add is ungated in every variant.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.base import Adapter
from weditor.adapters.sites import cross_attention_dit_sites

MAX_TEXT_LENGTH = 512  # what Wan's UMT5 was trained with


def text_length(pipe) -> int:
    """The prompt length the pipeline pads to; a tokenizer may declare a shorter one."""
    n = getattr(pipe.tokenizer, "model_max_length", None) or MAX_TEXT_LENGTH
    return int(min(n, MAX_TEXT_LENGTH))


def encode(pipe, prompts: list[str], device, images=None):
    embeds, _ = pipe.encode_prompt(
        prompts, do_classifier_free_guidance=False, max_sequence_length=text_length(pipe), device=device
    )
    return {"encoder_hidden_states": embeds}


def _model(pipe):
    """The first denoiser present (Wan 2.2 may ship only `transformer_2`; SkyReels-V2 has no such attribute)."""
    return pipe.transformer if pipe.transformer is not None else pipe.transformer_2


def latents(pipe, size: tuple[int, int, int], generator, device):
    height, width, frames = size
    model = _model(pipe)
    return pipe.prepare_latents(
        1, model.config.in_channels, height, width, frames, dtype=None, device="cpu", generator=generator
    ).to(device)


def forward(model, x, t, cond):
    import torch

    timestep = t.expand(x.shape[0]) if t.ndim == 0 else t
    dtype = model.dtype  # one walk over the modules per forward, not two (diffusers' `dtype` visits every module)
    with torch.no_grad():
        return model(
            hidden_states=x.to(dtype),
            timestep=timestep,
            encoder_hidden_states=cond["encoder_hidden_states"].to(dtype),
            return_dict=False,
        )[0]


def denoiser_for(pipe, t) -> str:
    boundary = pipe.config.get("boundary_ratio") if hasattr(pipe.config, "get") else None
    if getattr(pipe, "transformer_2", None) is None or boundary is None:
        return "transformer" if pipe.transformer is not None else "transformer_2"
    return "transformer" if float(t) >= boundary * pipe.scheduler.config.num_train_timesteps else "transformer_2"


WAN = Adapter(
    family="wan",
    pipelines=("WanPipeline",),
    denoisers=("transformer", "transformer_2"),
    blocks="blocks",
    sites=cross_attention_dit_sites("ffn"),
    default_site="cross_attn_out",  # measured on the shapes model: docs/benchmarks.md
    ungated_write="attn2.to_out.0",
    text_input="condition_embedder.text_embedder.linear_1",
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    default_size=(256, 256, 17),
)


# --------------------------------------------------------------------------- image-to-video


def encode_i2v(pipe, prompts: list[str], device, images=None):
    """Text as for T2V; CLIP image tokens (Wan 2.1) now; the VAE condition once the size is known."""
    from weditor.adapters.common import as_images

    cond = encode(pipe, prompts, device)
    images = as_images(images, len(prompts))
    if _model(pipe).config.image_dim is not None:  # only Wan 2.1 I2V reads CLIP image tokens
        cond["encoder_hidden_states_image"] = pipe.encode_image(images, device)
    cond["_build"] = lambda x: _condition(pipe, images, x, device)
    return cond


def _condition(pipe, images, x, device) -> dict:
    """The pipeline's `prepare_latents` for each member's image, at the size of latent `x`."""
    import torch

    frames_lat, h, w = x.shape[2:]
    height, width = h * pipe.vae_scale_factor_spatial, w * pipe.vae_scale_factor_spatial
    frames = (frames_lat - 1) * pipe.vae_scale_factor_temporal + 1
    z = pipe.vae.config.z_dim
    conditions, mask = [], None
    for image in images:
        pixels = pipe.video_processor.preprocess(image, height=height, width=width).to(device, dtype=torch.float32)
        out = pipe.prepare_latents(
            pixels,
            1,
            z,
            height,
            width,
            frames,
            torch.float32,
            device,
            None,
            latents=torch.zeros(1, z, frames_lat, h, w, device=device),
        )
        conditions.append(out[1])
        if len(out) == 3:  # expand_timesteps (Wan 2.2 TI2V-5B): frame 0 is replaced, not concatenated
            mask = out[2]
    return {"condition": torch.cat(conditions), "first_frame_mask": mask}


def latents_i2v(pipe, size: tuple[int, int, int], generator, device):
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    shape = (
        1,
        pipe.vae.config.z_dim,
        (frames - 1) // pipe.vae_scale_factor_temporal + 1,
        height // pipe.vae_scale_factor_spatial,
        width // pipe.vae_scale_factor_spatial,
    )
    return randn_tensor(shape, generator=generator, device=None).to(device)


def forward_i2v(model, x, t, cond):
    import torch

    from weditor.adapters.common import sized

    c = sized(cond, x, cond["_build"])
    n = x.shape[0]
    if c["first_frame_mask"] is not None:  # as the pipeline's loop does for expand_timesteps
        mask = c["first_frame_mask"]
        inp = (1 - mask) * c["condition"] + mask * x
        _, ph, pw = model.config.patch_size
        timestep = (mask[0][0][:, ::ph, ::pw] * t).flatten().unsqueeze(0).expand(n, -1)
    else:
        inp = torch.cat([x, c["condition"].to(x.dtype)], dim=1)
        timestep = t.expand(n) if t.ndim == 0 else t
    image = cond.get("encoder_hidden_states_image")
    with torch.no_grad():
        return model(
            hidden_states=inp.to(model.dtype),
            timestep=timestep,
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            encoder_hidden_states_image=None if image is None else image.to(model.dtype),
            return_dict=False,
        )[0]


WAN_I2V = replace(
    WAN,
    family="wan",
    pipelines=("WanImageToVideoPipeline",),
    image_to_video=True,
    encode=encode_i2v,
    latents=latents_i2v,
    forward=forward_i2v,
    default_size=(256, 256, 17),
    requires=(("ftfy", "ftfy"),),  # diffusers' pipeline_wan_i2v.basic_clean calls ftfy.fix_text unconditionally
)
