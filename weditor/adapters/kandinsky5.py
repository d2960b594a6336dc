"""Kandinsky 5, text- and image-to-video (diffusers `Kandinsky5Transformer3DModel`, `Kandinsky5T2VPipeline`,
`Kandinsky5I2VPipeline`).

The prompt enters twice: Qwen2.5-VL hidden states through `text_embeddings.in_layer` (then a LayerNorm
and a few text blocks of their own), and CLIP's pooled output through `pooled_text_embeddings.in_layer`,
added to the timestep embedding. A visual block, from diffusers' transformer_kandinsky.py:

    h = h + gate   * self_attention(norm(h) * (1 + scale) + shift)           # gated
    h = h + gate'  * cross_attention(norm(h) * (1 + scale') + shift', text)  # gated too
    h = h + gate'' * feed_forward(norm(h) * (1 + scale'') + shift'')         # gated

Every residual add is gated by the timestep (and pooled-text) embedding, so output-side edits and
REINS are refused; the refusal edit is input side (default `ffn_in`).

The transformer takes no text attention mask: the pipeline encodes one prompt to its own length
(`cu_seqlens`) and attends to all of it. Each prompt is encoded alone, as the pipeline does; a batch
of prompts of different lengths is padded, and for that call the text blocks' self-attention and the
visual blocks' cross-attention run with the padding masked out of the keys (`_masked`), which is the
attention over each prompt's own tokens; a batch of one length runs the stock processors untouched.
Latents are channels-last (batch, frames, height, width, channels). Image-to-video (`visual_cond`):
the image's VAE latent replaces frame 0, the channels after the latent are zeros and a mask that is 1
on frame 0 (the pipeline's `prepare_latents`); the scheduler steps the other frames. The image latent
is the VAE's mean, where the pipeline samples it with its generator.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.base import Adapter, Site

MAX_TEXT_LENGTH = 512  # the pipeline's default max_sequence_length


def encode(pipe, prompts: list[str], device, images=None):
    import torch

    from weditor.adapters.common import text_length

    dtype = pipe.transformer.dtype
    qwen, clip = [], []
    for p in prompts:
        q, c, _ = pipe.encode_prompt(
            [p], max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH), device=device, dtype=dtype
        )
        qwen.append(q[0])
        clip.append(c)
    length = max(q.shape[0] for q in qwen)
    mask = torch.zeros(len(qwen), length, dtype=torch.bool, device=device)
    out = torch.zeros(len(qwen), length, qwen[0].shape[-1], dtype=qwen[0].dtype, device=device)
    for i, q in enumerate(qwen):
        out[i, : q.shape[0]], mask[i, : q.shape[0]] = q, True
    cond = {"encoder_hidden_states": out, "pooled_projections": torch.cat(clip), "encoder_attention_mask": mask}
    cond["_build"] = lambda x: _sized(pipe, x, device)
    return cond


def _sized(pipe, x, device) -> dict:
    """The pipeline's RoPE scale factor and sparse-attention parameters for latent `x` (B, F, h, w, C)."""
    s = pipe.vae_scale_factor_spatial
    return {
        "scale_factor": pipe._get_scale_factor(x.shape[2] * s, x.shape[3] * s),
        "sparse_params": pipe.get_sparse_params(x, device),
    }


def latents(pipe, size: tuple[int, int, int], generator, device):
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    shape = (
        1,
        (frames - 1) // pipe.vae_scale_factor_temporal + 1,
        height // pipe.vae_scale_factor_spatial,
        width // pipe.vae_scale_factor_spatial,
        pipe.transformer.config.in_visual_dim,
    )
    return randn_tensor(shape, generator=generator, device=None).to(device)


class _KeyMasked:
    """`Kandinsky5AttnProcessor` with the text padding masked out of the keys (`mask`: (B, L) bool, True =
    a real token; None: no mask). The stock processor's steps, in its order and dtypes, plus the mask.
    The stock processor rounds the rotated query and key to bfloat16 (`apply_rotary`); `bf16=False` leaves
    that out, for the tests that check a fold is exact but for that rounding (tests/test_kandinsky5.py)."""

    def __init__(self, mask, bf16: bool = True):
        self.mask = None if mask is None else mask[:, None, None, :]  # (B, 1, 1, L): over heads and queries
        self.bf16 = bf16

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, rotary_emb=None, sparse_params=None):
        import torch
        from diffusers.models.attention_dispatch import dispatch_attention_fn

        source = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        query = attn.to_query(hidden_states)
        key, value = attn.to_key(source), attn.to_value(source)
        query = query.reshape(*query.shape[:-1], attn.num_heads, -1)
        key = key.reshape(*key.shape[:-1], attn.num_heads, -1)
        value = value.reshape(*value.shape[:-1], attn.num_heads, -1)
        query = attn.query_norm(query.float()).type_as(query)
        key = attn.key_norm(key.float()).type_as(key)

        def apply_rotary(x, rope):  # as the stock processor
            x_ = x.reshape(*x.shape[:-1], -1, 1, 2).to(torch.float32)
            out = (rope * x_).sum(dim=-1).reshape(*x.shape)
            return out.to(torch.bfloat16) if self.bf16 else out

        if rotary_emb is not None:
            query = apply_rotary(query, rotary_emb).type_as(query)
            key = apply_rotary(key, rotary_emb).type_as(key)
        out = dispatch_attention_fn(query, key, value, attn_mask=self.mask)
        return attn.out_layer(out.flatten(-2, -1))


class _masked:
    """Context: the attentions that read the text as keys (text blocks' self-attention, visual blocks'
    cross-attention) use `_KeyMasked`; the stock processors are put back after."""

    def __init__(self, model, mask):
        self.attns = [b.self_attention for b in model.text_transformer_blocks]
        self.attns += [b.cross_attention for b in model.visual_transformer_blocks]
        self.mask = mask

    def __enter__(self):
        self.saved = [a.processor for a in self.attns]
        for a in self.attns:
            a.processor = _KeyMasked(self.mask)

    def __exit__(self, *exc):
        for a, p in zip(self.attns, self.saved):
            a.processor = p


def _call(model, inp, t, cond, extra):
    import contextlib

    import torch

    from weditor.adapters.common import batch

    n = inp.shape[0]
    mask = cond["encoder_attention_mask"]
    text = cond["encoder_hidden_states"]
    if text.shape[0] != n:
        text, mask = text.expand(n, -1, -1), mask.expand(n, -1)
    pooled = cond["pooled_projections"].expand(n, -1)
    _, f, h, w, _ = inp.shape
    _, ph, pw = model.config.patch_size
    dtype = model.dtype
    device = inp.device
    rope = [torch.arange(f, device=device), torch.arange(h // ph, device=device), torch.arange(w // pw, device=device)]
    scope = contextlib.nullcontext() if bool(mask.all()) else _masked(model, mask.to(device))
    with torch.no_grad(), scope:
        return model(
            hidden_states=inp.to(dtype),
            encoder_hidden_states=text.to(dtype),
            pooled_projections=pooled.to(dtype),
            timestep=batch(t, n).to(dtype),
            visual_rope_pos=rope,
            text_rope_pos=torch.arange(text.shape[1], device=device),
            scale_factor=extra["scale_factor"],
            sparse_params=extra["sparse_params"],
            return_dict=True,  # with False the model returns its tensor bare, not in a tuple
        ).sample


def forward(model, x, t, cond):
    """T2V: a `visual_cond` transformer gets zero condition channels and a zero mask, as the pipeline's."""
    import torch

    from weditor.adapters.common import sized

    extra = sized(cond, x, cond["_build"])
    inp = x
    if model.config.visual_cond:
        inp = torch.cat([x, torch.zeros_like(x), torch.zeros_like(x[..., :1])], dim=-1)
    return _call(model, inp, t, cond, extra)


def denoiser_for(pipe, t) -> str:
    return "transformer"


SITES = {
    "ffn_in": Site(("feed_forward.in_layer",), "reads", doc="first FFN linear (the paper's edit site)"),
    "self_attn_in": Site(
        ("self_attention.to_query", "self_attention.to_key", "self_attention.to_value"), "reads", doc="q, k, v"
    ),
    "cross_attn_in": Site(("cross_attention.to_query",), "reads", doc="cross-attention query"),
    "cross_attn_kv_in": Site(
        ("cross_attention.to_key", "cross_attention.to_value"),
        "reads",
        tokens="text",
        doc="cross-attention key and value: the text blocks' output, as each visual block reads it",
    ),
    "self_attn_out": Site(("self_attention.out_layer",), "writes", gated=True, doc="self-attention output"),
    "cross_attn_out": Site(("cross_attention.out_layer",), "writes", gated=True, doc="cross-attention output"),
    "ffn_out": Site(("feed_forward.out_layer",), "writes", gated=True, doc="second FFN linear"),
}

KANDINSKY5 = Adapter(
    family="kandinsky5",
    pipelines=("Kandinsky5T2VPipeline",),
    denoisers=("transformer",),
    blocks="visual_transformer_blocks",
    sites=SITES,
    default_site="ffn_in",
    ungated_write=None,  # every residual add is gated
    text_input="text_embeddings.in_layer",
    pooled_text_input="pooled_text_embeddings.in_layer",
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    default_size=(256, 256, 17),
)


# --------------------------------------------------------------------------- image-to-video


def encode_i2v(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import as_images

    cond = encode(pipe, prompts, device)
    images = as_images(images, len(prompts))
    cond["_build"] = lambda x: {**_sized(pipe, x, device), "image": _image_latents(pipe, images, x, device)}
    return cond


def _image_latents(pipe, images, x, device):
    """(B, 1, h, w, C): each image's VAE latent (mean) at the size of latent `x`, scaled as the pipeline scales it."""
    import torch

    s = pipe.vae_scale_factor_spatial
    out = []
    for image in images:
        pixels = pipe.video_processor.preprocess(image, height=x.shape[2] * s, width=x.shape[3] * s)
        with torch.no_grad():
            lat = pipe.vae.encode(pixels.to(device, dtype=pipe.vae.dtype).unsqueeze(2)).latent_dist.mode()
        if hasattr(pipe.vae.config, "scaling_factor"):
            lat = lat * pipe.vae.config.scaling_factor
        out.append(lat.permute(0, 2, 3, 4, 1).float())
    return torch.cat(out)


def forward_i2v(model, x, t, cond):
    import torch

    from weditor.adapters.common import sized

    extra = sized(cond, x, cond["_build"])
    n = x.shape[0]
    lat = torch.cat([extra["image"].to(x.dtype).expand(n, -1, -1, -1, -1), x[:, 1:]], dim=1)
    mask = torch.zeros_like(x[..., :1])
    mask[:, :1] = 1
    inp = torch.cat([lat, torch.zeros_like(x), mask], dim=-1)
    return _call(model, inp, t, cond, extra)


KANDINSKY5_I2V = replace(
    KANDINSKY5,
    pipelines=("Kandinsky5I2VPipeline",),
    image_to_video=True,
    encode=encode_i2v,
    forward=forward_i2v,
)
