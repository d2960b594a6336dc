"""Allegro, text-to-video (diffusers `AllegroTransformer3DModel`, `AllegroPipeline`).

PixArt-style blocks (weditor/adapters/pixart.py): self-attention with 3D RoPE over the video tokens,
ungated T5 cross-attention, FFN; the self-attention and FFN writes are gated by timestep, the
cross-attention write is not (REINS exact at `attn2.to_out.0`). The prompt enters through
`caption_projection.linear_1`; the T5 attention mask reaches the cross-attention as a bias.
"""

from __future__ import annotations

from weditor.adapters import pixart
from weditor.adapters.base import Adapter
from weditor.adapters.sites import UNGATED_CROSS_ATTENTION_WRITE, cross_attention_dit_sites

MAX_TEXT_LENGTH = 512  # the pipeline's default max_sequence_length


def encode(pipe, prompts: list[str], device, images=None):
    from diffusers.utils import is_bs4_available, is_ftfy_available

    from weditor.adapters.common import text_length

    embeds, mask, _, _ = pipe.encode_prompt(
        prompts,
        do_classifier_free_guidance=False,
        device=device,
        # the pipeline's default (clean_caption=True) cleans only where both packages are installed
        clean_caption=is_bs4_available() and is_ftfy_available(),
        max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH),
    )
    return {
        "encoder_hidden_states": embeds,
        "encoder_attention_mask": mask,
        "_scale": pixart.input_scale(pipe.scheduler),
        "_build": lambda x: {"rotary": _rotary(pipe, x, device)},
    }


def _rotary(pipe, x, device):
    """AllegroPipeline._prepare_rotary_positional_embeddings for latent `x` (B, C, F, h, w)."""
    s = pipe.vae_scale_factor_spatial
    return pipe._prepare_rotary_positional_embeddings(x.shape[0], x.shape[3] * s, x.shape[4] * s, x.shape[2], device)


def latents(pipe, size: tuple[int, int, int], generator, device):
    import torch

    height, width, frames = size
    channels = pipe.transformer.config.in_channels
    return pipe.prepare_latents(1, channels, frames, height, width, torch.float32, "cpu", generator).to(device)


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch, sized

    extra = sized(cond, x, cond["_build"])
    with torch.no_grad():
        return model(
            hidden_states=pixart.scaled(cond, x, t).to(model.dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            encoder_attention_mask=cond["encoder_attention_mask"],
            timestep=batch(t, x.shape[0]),
            image_rotary_emb=extra["rotary"],
            return_dict=False,
        )[0]


ALLEGRO = Adapter(
    family="allegro",
    pipelines=("AllegroPipeline",),
    denoisers=("transformer",),
    blocks="transformer_blocks",
    sites=cross_attention_dit_sites("ff"),
    default_site="ffn_in",
    ungated_write=UNGATED_CROSS_ATTENTION_WRITE,
    text_input="caption_projection.linear_1",
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=pixart.denoiser_for,
    step=pixart.step,
    default_size=(256, 256, 17),
)
