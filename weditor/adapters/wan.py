"""Wan 2.1 / 2.2 (diffusers `WanTransformer3DModel`).

A Wan block, from diffusers' transformer_wan.py:

    h = h + gate_msa   * attn1(norm1(h) * (1 + scale) + shift)     # gated by timestep
    h = h +              attn2(norm2(h), text)                     # NOT gated
    h = h + c_gate_msa * ffn(norm3(h) * (1 + c_scale) + c_shift)   # gated by timestep

Wan 2.2 A14B adds `transformer_2` for the low-noise steps (`boundary_ratio`); both are edited.
"""

from __future__ import annotations

from weditor.adapters.base import Adapter, Site

MAX_TEXT_LENGTH = 512  # what Wan's UMT5 was trained with


def text_length(pipe) -> int:
    """The prompt length the pipeline pads to; a tokenizer may declare a shorter one."""
    n = getattr(pipe.tokenizer, "model_max_length", None) or MAX_TEXT_LENGTH
    return int(min(n, MAX_TEXT_LENGTH))


def encode(pipe, prompts: list[str], device):
    embeds, _ = pipe.encode_prompt(
        prompts, do_classifier_free_guidance=False, max_sequence_length=text_length(pipe), device=device
    )
    return {"encoder_hidden_states": embeds}


def latents(pipe, size: tuple[int, int, int], generator, device):
    height, width, frames = size
    model = pipe.transformer if pipe.transformer is not None else pipe.transformer_2
    return pipe.prepare_latents(
        1, model.config.in_channels, height, width, frames, dtype=None, device="cpu", generator=generator
    ).to(device)


def forward(model, x, t, cond):
    import torch

    timestep = t.expand(x.shape[0]) if t.ndim == 0 else t
    with torch.no_grad():
        return model(
            hidden_states=x.to(model.dtype),
            timestep=timestep,
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            return_dict=False,
        )[0]


def denoiser_for(pipe, t) -> str:
    boundary = pipe.config.get("boundary_ratio") if hasattr(pipe.config, "get") else None
    if pipe.transformer_2 is None or boundary is None:
        return "transformer" if pipe.transformer is not None else "transformer_2"
    return "transformer" if float(t) >= boundary * pipe.scheduler.config.num_train_timesteps else "transformer_2"


WAN = Adapter(
    family="wan",
    pipelines=("WanPipeline",),
    denoisers=("transformer", "transformer_2"),
    blocks="blocks",
    sites={
        "ffn_in": Site(("ffn.net.0.proj",), "reads", doc="first FFN linear (the paper's edit site)"),
        "self_attn_in": Site(("attn1.to_q", "attn1.to_k", "attn1.to_v"), "reads", doc="self-attention q, k, v"),
        "cross_attn_in": Site(("attn2.to_q",), "reads", doc="cross-attention query"),
        "self_attn_out": Site(("attn1.to_out.0",), "writes", gated=True, doc="self-attention output"),
        "cross_attn_out": Site(("attn2.to_out.0",), "writes", gated=False, doc="cross-attention output"),
        "ffn_out": Site(("ffn.net.2",), "writes", gated=True, doc="second FFN linear"),
    },
    default_site="ffn_in",
    ungated_write="attn2.to_out.0",
    text_input="condition_embedder.text_embedder.linear_1",
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    default_size=(256, 256, 17),
)
