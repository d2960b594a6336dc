"""Latte, text-to-video (diffusers `LatteTransformer3DModel`, `LattePipeline`).

Each layer is a spatial PixArt block (weditor/adapters/pixart.py: gated self-attention over one
frame's tokens, ungated T5 cross-attention, gated FFN) followed by a temporal block (gated
self-attention over one position's frames, gated FFN; no cross-attention). Both fold the frames
(or the positions) into the batch member by member, as a UNet does. The spatial cross-attention
write `attn2.to_out.0` is the ungated one (REINS exact); the temporal writes are all gated.

The prompt: `encode_prompt(mask_feature=True)`, for one prompt, cuts the T5 embeddings to the
prompt's own tokens and passes no attention mask. Each prompt is encoded alone, as the pipeline
does; a batch of prompts of different lengths is padded and the padding masked out of the
cross-attention (a boolean mask: the softmax over the kept keys is the cut one's). The transformer's
temporal positions are learned for `video_length` frames, so that frame count is the only one.
"""

from __future__ import annotations

from weditor.adapters import pixart
from weditor.adapters.base import Adapter, Site
from weditor.adapters.sites import UNGATED_CROSS_ATTENTION_WRITE, cross_attention_dit_sites
from weditor.errors import WeditorError


def encode(pipe, prompts: list[str], device, images=None):
    import torch
    from diffusers.utils import is_bs4_available, is_ftfy_available

    embeds = [
        pipe.encode_prompt(
            [p],
            do_classifier_free_guidance=False,
            device=device,
            clean_caption=is_bs4_available() and is_ftfy_available(),  # the pipeline's default, where it applies
            mask_feature=True,
        )[0][0]
        for p in prompts
    ]
    length = max(e.shape[0] for e in embeds)
    mask = torch.zeros(len(embeds), length, dtype=torch.bool, device=device)
    out = torch.zeros(len(embeds), length, embeds[0].shape[-1], dtype=embeds[0].dtype, device=device)
    for i, e in enumerate(embeds):
        out[i, : e.shape[0]], mask[i, : e.shape[0]] = e, True
    return {"encoder_hidden_states": out, "encoder_attention_mask": mask, "_scale": pixart.input_scale(pipe.scheduler)}


def latents(pipe, size: tuple[int, int, int], generator, device):
    import torch

    height, width, frames = size
    if frames != pipe.transformer.config.video_length:
        raise WeditorError(
            f"Latte's transformer has temporal positions for {pipe.transformer.config.video_length} frames "
            f"(its config's video_length); --size asks for {frames}"
        )
    channels = pipe.transformer.config.in_channels
    return pipe.prepare_latents(1, channels, frames, height, width, torch.float32, "cpu", generator).to(device)


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch

    mask = cond["encoder_attention_mask"]
    if bool(mask.all()):
        mask = None  # every prompt as cut: what the pipeline passes
    else:  # one row per frame, as the spatial blocks fold frames into the batch
        mask = mask.repeat_interleave(x.shape[2], dim=0)[:, None, :]
    with torch.no_grad():
        return model(
            hidden_states=pixart.scaled(cond, x, t).to(model.dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            encoder_attention_mask=mask,
            timestep=batch(t, x.shape[0]),
            enable_temporal_attentions=True,
            return_dict=False,
        )[0]


def step(scheduler, pred, t, x):
    """As LattePipeline: the learned-variance half of the output is dropped unless the scheduler uses it."""
    if scheduler.config.get("variance_type") not in ("learned", "learned_range"):
        pred = pred.chunk(2, dim=1)[0]
    return pixart.step(scheduler, pred, t, x)


def default_size(pipe) -> tuple[int, int, int]:
    """The pipeline's default height and width (sample_size latents) and the transformer's frame count."""
    cfg = pipe.transformer.config
    side = cfg.sample_size * pipe.vae_scale_factor
    return (side, side, cfg.video_length)


TEMPORAL_SITES = {
    "temporal_ffn_in": Site(("ff.net.0.proj",), "reads", blocks="temporal", doc="first FFN linear, temporal block"),
    "temporal_attn_in": Site(
        ("attn1.to_q", "attn1.to_k", "attn1.to_v"), "reads", blocks="temporal", doc="temporal self-attention q, k, v"
    ),
    "temporal_attn_out": Site(("attn1.to_out.0",), "writes", gated=True, blocks="temporal", doc="temporal attention"),
    "temporal_ffn_out": Site(("ff.net.2",), "writes", gated=True, blocks="temporal", doc="second FFN linear, temporal"),
}

LATTE = Adapter(
    family="latte",
    pipelines=("LattePipeline",),
    denoisers=("transformer",),
    blocks={"spatial": "transformer_blocks", "temporal": "temporal_transformer_blocks"},
    sites={**cross_attention_dit_sites("ff"), **TEMPORAL_SITES},
    default_site="ffn_in",
    ungated_write=UNGATED_CROSS_ATTENTION_WRITE,
    text_input="caption_projection.linear_1",
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=pixart.denoiser_for,
    step=step,
    default_size=default_size,
)
