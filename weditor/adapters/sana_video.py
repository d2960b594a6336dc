"""Sana-Video, text- and image-to-video (diffusers `SanaVideoTransformer3DModel`, `SanaVideoPipeline`,
`SanaImageToVideoPipeline`).

A Sana-Video block, from diffusers' transformer_sana_video.py:

    h = h + gate  * attn1(norm1(h) * (1 + scale) + shift)     # linear attention (ReLU kernels), gated
    h = h +         attn2(h, text)                            # NOT gated, not even normalised
    h = h + gate' * ff(norm2(h) * (1 + scale') + shift')      # GLUMBTempConv, gated

The cross-attention write `attn2.to_out.0` is added to the stream as is, bias included: output-side
edits there and a constant (REINS) bias fold are exact; the self-attention write is gated and refused.
The FFN is convolutions (`GLUMBTempConv`: 1x1, depth-wise 3x3, 1x1, then a temporal 3x1), not
linears, so it has no site: the refusal edit defaults to the cross-attention write, where the prompt
enters the video. The prompt (Gemma 2, with the pipeline's default "complex human instruction"
prepended, as `__call__` does) enters through `caption_projection.linear_1`; its attention mask
reaches the cross-attention as a bias.

Image-to-video: the image's VAE latent replaces latent frame 0 and those tokens get timestep 0 (the
pipeline's `conditioning_mask`); the scheduler steps the other frames. The adapter writes the image
latent into frame 0 of every denoiser input, so the frame 0 weditor's loop carries is never read.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.base import Adapter, Site
from weditor.adapters.sites import UNGATED_CROSS_ATTENTION_WRITE

MAX_TEXT_LENGTH = 300  # the pipeline's default max_sequence_length


def _instruction(pipe):
    """The `complex_human_instruction` the pipeline's `__call__` prepends by default."""
    import inspect

    return inspect.signature(type(pipe).__call__).parameters["complex_human_instruction"].default


def encode(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import text_length

    embeds, mask, _, _ = pipe.encode_prompt(
        prompts,
        do_classifier_free_guidance=False,
        device=device,
        clean_caption=False,  # the pipeline's default
        max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH),
        complex_human_instruction=_instruction(pipe),
    )
    return {"encoder_hidden_states": embeds, "encoder_attention_mask": mask}


def latents(pipe, size: tuple[int, int, int], generator, device):
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    shape = (
        1,
        pipe.transformer.config.in_channels,
        (frames - 1) // pipe.vae_scale_factor_temporal + 1,
        height // pipe.vae_scale_factor_spatial,
        width // pipe.vae_scale_factor_spatial,
    )
    return randn_tensor(shape, generator=generator, device=None).to(device)


def _prediction(model, out):
    """As the pipeline: a transformer with twice the latent channels (a learned variance) gives the first half."""
    channels = model.config.in_channels
    return out.chunk(2, dim=1)[0] if model.config.out_channels // 2 == channels else out


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch

    dtype = model.dtype
    with torch.no_grad():
        out = model(
            x.to(dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(dtype),
            encoder_attention_mask=cond["encoder_attention_mask"],
            timestep=batch(t, x.shape[0]),
            return_dict=False,
        )[0]
    return _prediction(model, out)


def denoiser_for(pipe, t) -> str:
    return "transformer"


# The block's linears (attn1's q, k, v read the normalised, modulated stream; attn2's query reads it raw).
SITES = {
    "self_attn_in": Site(("attn1.to_q", "attn1.to_k", "attn1.to_v"), "reads", doc="linear-attention q, k, v"),
    "cross_attn_in": Site(("attn2.to_q",), "reads", doc="cross-attention query"),
    "cross_attn_kv_in": Site(
        ("attn2.to_k", "attn2.to_v"),
        "reads",
        tokens="text",
        doc="cross-attention key and value: where each block reads the prompt",
    ),
    "self_attn_out": Site(("attn1.to_out.0",), "writes", gated=True, doc="linear-attention output"),
    "cross_attn_out": Site(("attn2.to_out.0",), "writes", gated=False, doc="cross-attention output"),
}

SANA_VIDEO = Adapter(
    family="sana-video",
    pipelines=("SanaVideoPipeline",),
    denoisers=("transformer",),
    blocks="transformer_blocks",
    sites=SITES,
    default_site="cross_attn_out",  # the FFN is convolutions: no ffn_in site
    ungated_write=UNGATED_CROSS_ATTENTION_WRITE,
    text_input="caption_projection.linear_1",
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    default_size=(256, 256, 17),
)


# --------------------------------------------------------------------------- image-to-video


def encode_i2v(pipe, prompts: list[str], device, images=None):
    """Text as for T2V; the image latents once the size is known."""
    from weditor.adapters.common import as_images

    cond = encode(pipe, prompts, device)
    images = as_images(images, len(prompts))
    cond["_build"] = lambda x: _image_latents(pipe, images, x, device)
    return cond


def _image_latents(pipe, images, x, device):
    """The pipeline's `prepare_latents` for each member's image at the size of latent `x`: its frame 0."""
    import torch

    frames_lat, h, w = x.shape[2:]
    s = pipe.vae_scale_factor_spatial
    frames = (frames_lat - 1) * pipe.vae_scale_factor_temporal + 1
    out = []
    for image in images:
        pixels = pipe.video_processor.preprocess(image, height=h * s, width=w * s).to(device, dtype=torch.float32)
        zeros = torch.zeros(1, x.shape[1], frames_lat, h, w, device=device)
        with torch.no_grad():
            lat = pipe.prepare_latents(pixels, 1, x.shape[1], h * s, w * s, frames, torch.float32, device, None, zeros)
        out.append(lat[:, :, :1])
    return torch.cat(out)


def forward_i2v(model, x, t, cond):
    """As the pipeline's loop: frame 0 the image latent at timestep 0, every other token at t."""
    import torch

    from weditor.adapters.common import sized

    image = sized(cond, x, cond["_build"])
    n = x.shape[0]
    inp = torch.cat([image.to(x.dtype).expand(n, -1, -1, -1, -1), x[:, :, 1:]], dim=2)
    p_t, p_h, p_w = model.config.patch_size
    f, h, w = x.shape[2] // p_t, x.shape[3] // p_h, x.shape[4] // p_w
    mask = torch.zeros(n, 1, f, h, w, device=x.device)
    mask[:, :, 0] = 1.0
    timestep = t.to(x.device).reshape(-1, 1, 1, 1, 1).expand(mask.shape) * (1 - mask)
    dtype = model.dtype
    with torch.no_grad():
        out = model(
            inp.to(dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(dtype),
            encoder_attention_mask=cond["encoder_attention_mask"],
            timestep=timestep,
            return_dict=False,
        )[0]
    return _prediction(model, out)


SANA_VIDEO_I2V = replace(
    SANA_VIDEO,
    pipelines=("SanaImageToVideoPipeline",),
    image_to_video=True,
    encode=encode_i2v,
    forward=forward_i2v,
)
