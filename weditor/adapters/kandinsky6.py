"""Kandinsky 6 text/image-to-video-and-audio (diffusers `Kandinsky6Transformer3DModel`, `Kandinsky6TI2VAPipeline`).

The transformer denoises a video and an audio latent together, each stream with its own text branch:
the Qwen2.5-VL tokens enter through `video_text_embeddings.in_layer` and `audio_text_embeddings.in_layer`
(each then a LayerNorm and text blocks of its own), CLIP's pooled output through
`video_pooled_text_embeddings.in_layer` and `audio_pooled_text_embeddings.in_layer` (added to each
stream's timestep embedding). The fused blocks (`visual_transformer_blocks`) run, for the video stream,
Kandinsky 5's three writes, every one gated (`apply_gate_sum`), then the gated audio-video
cross-attentions; the audio stream likewise. So: input-side refusal edits on the video stream (default
`ffn_in`), no output-side edit, no REINS; the text folds cover both branches (one read-out, fitted on the
embeddings both read).

weditor runs the pipeline's video-only mode (`sample_audio=False`: no audio latent, the fused blocks skip
the audio path and the cross-modal attentions), which is what collection sees; an edited video-stream
linear is the same edit when the pipeline also generates audio. The prompt is padded to
`max_sequence_length` with its mask (None when nothing is padded, as the pipeline passes it). Pairs may
carry images: the pipeline's image-to-video mode appends the image's VAE latent (the mean, where the
pipeline samples it with its generator) as an extra tail frame that reuses frame 0's rotary position,
with token type 1 and condition mask 1; the prediction for that frame is dropped, as the pipeline
overwrites the frame every step. A batch whose members all lack an image runs the text-to-video mode.
"""

from __future__ import annotations

from weditor.adapters.base import Adapter, Site

MAX_TEXT_LENGTH = 1024  # the pipeline's default max_sequence_length


def encode(pipe, prompts: list[str], device, images=None):
    import torch

    from weditor.adapters.common import as_images, text_length

    embeds, pooled, mask, *_ = pipe.encode_prompt(
        prompts,
        do_classifier_free_guidance=False,
        max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH),
        device=device,
        dtype=pipe.transformer.dtype,
    )
    if mask is None:  # nothing padded: the pipeline passes no mask; a full one stands for it here
        mask = torch.ones(embeds.shape[:2], dtype=torch.bool, device=embeds.device)
    cond = {"encoder_hidden_states": embeds, "pooled_projections": pooled, "encoder_attention_mask": mask}
    if images is not None and any(im is not None for im in images):
        images = as_images(images, len(prompts))
        cond["_build"] = lambda x: {"image": _image_latents(pipe, images, x, device)}
    return cond


def _image_latents(pipe, images, x, device):
    """(B, h, w, C): the pipeline's `encode_image` per member at the size of latent `x`, with the VAE's mean."""
    import torch

    s = pipe.vae_scale_factor_spatial
    out = []
    for image in images:
        pixels = pipe.video_processor.preprocess(image, height=x.shape[2] * s, width=x.shape[3] * s, resize_mode="crop")
        with torch.no_grad():
            lat = pipe.vae.encode(pixels.to(device, dtype=pipe.vae.dtype).unsqueeze(2)).latent_dist.mode()
        out.append((lat * pipe.vae.config.scaling_factor)[:, :, 0].permute(0, 2, 3, 1).float())
    return torch.cat(out)


def latents(pipe, size: tuple[int, int, int], generator, device):
    import torch

    height, width, frames = size
    channels = pipe.transformer.config.in_visual_dim
    return pipe.prepare_latents(1, channels, height, width, frames, torch.float32, "cpu", generator).to(device)


def forward(model, x, t, cond):
    """One conditional pass of the pipeline's loop (video only); with images, the tail frame and its tokens."""
    import torch

    from weditor.adapters.common import batch, sized

    n, frames = x.shape[:2]
    inp, types, rope = x, None, None
    if "_build" in cond:
        image = sized(cond, x, cond["_build"])["image"].to(x.dtype).expand(n, -1, -1, -1)
        inp = torch.cat([x, image[:, None]], dim=1)
        types = torch.zeros(n, frames + 1, dtype=torch.long, device=x.device)
        types[:, -1] = 1
        p_t, p_h, p_w = model.config.patch_size
        first = torch.zeros(1, dtype=torch.long, device=x.device)
        rope = (
            torch.cat([torch.arange(frames // p_t, device=x.device), first]),
            torch.arange(x.shape[2] // p_h, device=x.device),
            torch.arange(x.shape[3] // p_w, device=x.device),
        )
    if model.config.visual_cond:
        mask = torch.zeros_like(inp[..., :1])
        if types is not None:
            mask[:, -1] = 1
        inp = torch.cat([inp, torch.zeros_like(inp), mask], dim=-1)
    text_mask = cond["encoder_attention_mask"]
    dtype = model.dtype
    with torch.no_grad():
        out = model(
            hidden_states=inp.to(dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(dtype),
            pooled_projections=cond["pooled_projections"].to(dtype),
            timestep=batch(t, n),
            visual_rope_pos=rope,
            encoder_attention_mask=None if bool(text_mask.all()) else text_mask,
            visual_token_type_ids=types,
            return_dict=False,
        )[0]
    return out[:, :frames]


def denoiser_for(pipe, t) -> str:
    return "transformer"


_V = "video_dec_block"
SITES = {
    "ffn_in": Site((f"{_V}.feed_forward.net.0.proj",), "reads", doc="video stream: first FFN linear"),
    "self_attn_in": Site(
        tuple(f"{_V}.self_attention.{p}" for p in ("to_query", "to_key", "to_value")), "reads", doc="video q, k, v"
    ),
    "cross_attn_in": Site((f"{_V}.cross_attention.to_query",), "reads", doc="video stream: text cross-attention query"),
    "cross_attn_kv_in": Site(
        (f"{_V}.cross_attention.to_key", f"{_V}.cross_attention.to_value"),
        "reads",
        tokens="text",
        doc="video stream: text cross-attention key and value (the video text branch's output)",
    ),
    "self_attn_out": Site((f"{_V}.self_attention.out_layer",), "writes", gated=True, doc="video self-attention output"),
    "cross_attn_out": Site((f"{_V}.cross_attention.out_layer",), "writes", gated=True, doc="video cross-attention"),
    "ffn_out": Site((f"{_V}.feed_forward.net.2",), "writes", gated=True, doc="video stream: second FFN linear"),
}

KANDINSKY6 = Adapter(
    family="kandinsky6",
    pipelines=("Kandinsky6TI2VAPipeline",),
    denoisers=("transformer",),
    blocks="visual_transformer_blocks",
    sites=SITES,
    default_site="ffn_in",
    ungated_write=None,  # every residual add is gated
    text_input=("video_text_embeddings.in_layer", "audio_text_embeddings.in_layer"),
    pooled_text_input=("video_pooled_text_embeddings.in_layer", "audio_pooled_text_embeddings.in_layer"),
    image_to_video=True,
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    default_size=(256, 256, 17),
)
