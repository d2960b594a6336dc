"""ModelScope text-to-video and ZeroScope (diffusers `TextToVideoSDPipeline`, `UNet3DConditionModel`).

A UNet has no single residual stream: each down/mid/up block holds spatial transformers
(`attentions.*`, a `Transformer2DModel` per resolution) and temporal transformers
(`temp_attentions.*`). The edited blocks are the `BasicTransformerBlock`s of the *spatial*
transformers, the only ones that read the text, in depth order (down, mid, up), found by
path patterns; their widths differ by resolution (320/640/1280 in ZeroScope), and each gets its own
direction. A BasicTransformerBlock (attention.py, norm_type "layer_norm"):

    h = h + attn1(norm1(h))            # self-attention over the pixels of one frame
    h = h + attn2(norm2(h), text)      # cross-attention to the CLIP text tokens
    h = h + ff(norm3(h))               # GEGLU FFN: ff.net.0.proj -> GEGLU -> ff.net.2

No timestep modulation inside the block: every write is ungated, so output-side edits and a
constant bias fold are exact for the block's stream (the timestep enters through the ResNets).
The default site is the FFN input `ff.net.0.proj` (the paper's site; the paper evaluated ZeroScope).
Temporal transformers (and `transformer_in`) do not read the text and are left alone.

`VideoToVideoSDPipeline` (ZeroScope's video-to-video upscaling pass) runs the same UNet from the
noised input video (`strength`): pairs without a video run the whole schedule from noise (strength 1);
a pair's `video` is VAE-sampled frame by frame and noised as its `prepare_latents` does.

Text: the CLIP hidden states are read directly by every spatial block's `attn2.to_k`/`attn2.to_v`.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.base import Adapter, Site

SPATIAL_BLOCKS = (
    "down_blocks.*.attentions.*.transformer_blocks.*",
    "mid_block.attentions.*.transformer_blocks.*",
    "up_blocks.*.attentions.*.transformer_blocks.*",
)


def encode(pipe, prompts: list[str], device, images=None):
    embeds, _ = pipe.encode_prompt(prompts, device, 1, False)
    return {"encoder_hidden_states": embeds}


def latents(pipe, size: tuple[int, int, int], generator, device):
    import torch

    height, width, frames = size
    return pipe.prepare_latents(
        1, pipe.unet.config.in_channels, frames, height, width, torch.float32, "cpu", generator
    ).to(device)


def latents_v2v(pipe, size: tuple[int, int, int], generator, device):
    """TextToVideoSDPipeline's noise (VideoToVideoSDPipeline.prepare_latents wants a video instead)."""
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    s = pipe.vae_scale_factor
    shape = (1, pipe.unet.config.in_channels, frames, height // s, width // s)
    return (randn_tensor(shape, generator=generator) * pipe.scheduler.init_noise_sigma).to(device)


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch

    with torch.no_grad():
        return model(
            x.to(model.dtype),
            batch(t, x.shape[0]),
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            return_dict=False,
        )[0]


def denoiser_for(pipe, t) -> str:
    return "unet"


UNET3D = Adapter(
    family="unet3d",
    pipelines=("TextToVideoSDPipeline",),
    denoisers=("unet",),
    blocks=SPATIAL_BLOCKS,
    sites={
        "ffn_in": Site(("ff.net.0.proj",), "reads", doc="GEGLU input of the FFN (the paper's edit site)"),
        "self_attn_in": Site(("attn1.to_q", "attn1.to_k", "attn1.to_v"), "reads", doc="spatial self-attention q, k, v"),
        "cross_attn_in": Site(("attn2.to_q",), "reads", doc="cross-attention query"),
        "cross_attn_kv_in": Site(
            ("attn2.to_k", "attn2.to_v"),
            "reads",
            tokens="text",
            doc="cross-attention key and value: where each block reads the prompt",
        ),
        "self_attn_out": Site(("attn1.to_out.0",), "writes", gated=False, doc="self-attention output"),
        "cross_attn_out": Site(("attn2.to_out.0",), "writes", gated=False, doc="cross-attention output"),
        "ffn_out": Site(("ff.net.2",), "writes", gated=False, doc="second FFN linear"),
    },
    default_site="ffn_in",
    ungated_write="attn2.to_out.0",
    text_input=tuple(f"{b}.attn2.{p}" for b in SPATIAL_BLOCKS for p in ("to_k", "to_v")),
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    default_size=(256, 256, 8),
)


def video_latents_v2v(pipe, frames, size, device, generator=None):
    """VideoToVideoSDPipeline.prepare_latents' clean latents (1, C, F, h, w) of `frames`: the frames go through
    the 2D VAE as one batch, a *sample* drawn from `generator` before the noise is, as the stock pipeline draws."""
    from diffusers.pipelines.deprecated.text_to_video_synthesis.pipeline_text_to_video_synth_img2img import (
        retrieve_latents,
    )

    video = pipe.video_processor.preprocess_video(frames).to(device, pipe.vae.dtype)  # (1, 3, F, H, W), no resize
    _, channels, count, height, width = video.shape
    flat = video.permute(0, 2, 1, 3, 4).reshape(count, channels, height, width)
    latents = pipe.vae.config.scaling_factor * retrieve_latents(pipe.vae.encode(flat), generator=generator).float()
    return latents.unsqueeze(0).permute(0, 2, 1, 3, 4)


def video_noise_v2v(pipe, clean, generator):
    """The stock pipeline's noise, drawn frame-major (F, C, h, w) as its VAE latents are, in the adapter's layout."""
    from diffusers.utils.torch_utils import randn_tensor

    _, channels, count, height, width = clean.shape
    return randn_tensor((count, channels, height, width), generator=generator).unsqueeze(0).permute(0, 2, 1, 3, 4)


# A pair's `video` is noised to the stock pipeline's default strength, 0.6 (weditor/io/pair_videos.py).
UNET3D_V2V = replace(
    UNET3D,
    pipelines=("VideoToVideoSDPipeline",),
    latents=latents_v2v,
    video_input=True,
    video_latents=video_latents_v2v,
    video_noise=video_noise_v2v,
    video_strength=0.6,
)
