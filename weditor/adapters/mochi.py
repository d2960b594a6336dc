"""Mochi 1 (diffusers `MochiTransformer3DModel`, `MochiPipeline`).

An asymmetric dual-stream block, from diffusers' transformer_mochi.py:

    n_h, g_msa, s_mlp, g_mlp = norm1(h, temb)        # RMSNormZero: scale and gates from the timestep
    a_h, a_e = attn1(n_h, n_e)                       # joint attention; to_q/k/v read video tokens only
    h = h + rmsnorm(a_h) * tanh(g_msa)               # gated AND normalised: not a linear write
    h = h + rmsnorm(ff(rmsnorm(h) * (1 + s_mlp))) * tanh(g_mlp)

Every residual add is gated and the write is RMS-normalised before it is added: output-side
edits and a constant (REINS) bias fold are refused. Input-side edits of the video stream's
linears (FFN input, q/k/v) are exact. The last block has no text-stream FFN (context_pre_only),
so only video-stream sites are declared.

Text: the T5 hidden states are read by `time_embed.caption_proj` (the text stream) and by the
attention pooler (`time_embed.pooler.to_kv` over [masked mean, tokens], `to_q` over the masked
mean): a masked mean is linear, so a projection of the embeddings folds exactly into all three.
"""

from __future__ import annotations

from weditor.adapters.base import Adapter, Site

MAX_TEXT_LENGTH = 256  # the pipeline's default max_sequence_length
THRESHOLD_NOISE = 0.025  # the pipeline's linear-quadratic schedule


def encode(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import text_length

    embeds, mask, _, _ = pipe.encode_prompt(
        prompts,
        do_classifier_free_guidance=False,
        max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH),
        device=device,
    )
    return {"encoder_hidden_states": embeds, "encoder_attention_mask": mask}


def latents(pipe, size: tuple[int, int, int], generator, device):
    import torch

    height, width, frames = size
    return pipe.prepare_latents(
        1, pipe.transformer.config.in_channels, height, width, frames, torch.float32, "cpu", generator
    ).to(device)


def set_timesteps(pipe, scheduler, steps: int, size, device):
    """As MochiPipeline.__call__: the linear-quadratic sigma schedule."""
    import numpy as np
    from diffusers.pipelines.mochi.pipeline_mochi import linear_quadratic_schedule, retrieve_timesteps

    retrieve_timesteps(scheduler, steps, device, None, np.array(linear_quadratic_schedule(steps, THRESHOLD_NOISE)))
    scheduler.set_begin_index(0)


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch

    n = x.shape[0]
    with torch.no_grad():
        return model(
            hidden_states=x.to(model.dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            timestep=batch(t, n).to(x.dtype),
            encoder_attention_mask=cond["encoder_attention_mask"],
            return_dict=False,
        )[0]


def denoiser_for(pipe, t) -> str:
    return "transformer"


MOCHI = Adapter(
    family="mochi",
    pipelines=("MochiPipeline",),
    denoisers=("transformer",),
    blocks="transformer_blocks",
    sites={
        "ffn_in": Site(("ff.net.0.proj",), "reads", doc="first FFN linear of the video stream (the paper's edit site)"),
        "attn_in": Site(("attn1.to_q", "attn1.to_k", "attn1.to_v"), "reads", doc="video-stream q, k, v"),
        "attn_out": Site(
            ("attn1.to_out.0",), "writes", gated=True, doc="video attention output (RMS-normalised, gated)"
        ),
        "ffn_out": Site(("ff.net.2",), "writes", gated=True, doc="second FFN linear (RMS-normalised, gated)"),
    },
    default_site="ffn_in",
    ungated_write=None,  # every residual add is gated (and normalised)
    text_input=("time_embed.caption_proj", "time_embed.pooler.to_kv", "time_embed.pooler.to_q"),
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    set_timesteps=set_timesteps,
    default_size=(240, 432, 19),
)
