"""Motif-Video, text- and image-to-video (diffusers `MotifVideoTransformer3DModel`, `MotifVideoPipeline`,
`MotifVideoImage2VideoPipeline`).

HunyuanVideo's layout (weditor/adapters/hunyuan.py), read off transformer_motif_video.py: dual-stream
blocks (video and text streams, joint attention, every add gated by the timestep embedding) then
single-stream blocks (one gated `proj_out` write); the same module names, so the same site table.
Optionally (`enable_text_cross_attention_dual` in the checkpoint's config) each dual-stream block also
runs a text cross-attention whose query is the block's video attention output and whose output is
added to the stream ungated:

    h = h + gate * a_h                    # a_h, a_e = attn(norm1(h), norm1_context(e))
    h = h + cross_attn(a_h, norm1_context(e)[text])     # NOT gated (only with the config flag)

On such checkpoints (`with_text_cross_attention`, read off the config) `cross_attn.to_out.0` is an
ungated write: output-side edits there and REINS are exact; on the others every add is gated.

The prompt (T5Gemma 2 encoder, padded to `max_sequence_length`, its mask joining the video tokens'
in the joint attention) enters through `context_embedder.linear_1`. The latent is the noisy latent,
then a condition latent and a mask on the channel axis (zeros for text-to-video); the schedule is
`linspace(1, 1/n)` shifted by the sequence length, as LTX-Video's. Image-to-video: the first frame's
VAE latent (its mean, normalised by the VAE's latents_mean / std; the pipeline samples it with its
generator) in frame 0 of the condition with mask 1 there, and the frame's SigLIP tokens (the text
encoder's own vision tower) through `image_embedder`, prepended to the text stream.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.base import Adapter, Site
from weditor.adapters.hunyuan import HUNYUAN

MAX_TEXT_LENGTH = 512  # the pipeline's default max_sequence_length


def encode(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import text_length

    embeds, _, mask, _ = pipe.encode_prompt(
        prompts, max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH), device=device
    )
    return {"encoder_hidden_states": embeds, "encoder_attention_mask": mask}


def latents(pipe, size: tuple[int, int, int], generator, device):
    import torch

    height, width, frames = size
    channels = pipe.vae.config.z_dim
    return pipe.prepare_latents(1, channels, height, width, frames, torch.float32, "cpu", generator).to(device)


def set_timesteps(pipe, scheduler, steps: int, size, device):
    """As the pipelines' `__call__`: sigmas linspace(1, 1/n) shifted by mu(packed sequence length)."""
    import numpy as np
    from diffusers.pipelines.motif_video.pipeline_motif_video import calculate_shift, retrieve_timesteps

    height, width, frames = size
    s, p, p_t = pipe.vae_scale_factor_spatial, pipe.transformer_spatial_patch_size, pipe.transformer_temporal_patch_size
    f = ((frames - 1) // pipe.vae_scale_factor_temporal + 1) // p_t
    mu = calculate_shift(
        f * (height // s // p) * (width // s // p),
        scheduler.config.get("base_image_seq_len", 256),
        scheduler.config.get("max_image_seq_len", 4096),
        scheduler.config.get("base_shift", 0.5),
        scheduler.config.get("max_shift", 1.15),
    )
    retrieve_timesteps(scheduler, steps, device, sigmas=np.linspace(1.0, 1 / steps, steps), mu=mu)


def _call(model, x, t, cond, condition, mask, image_embeds=None):
    import torch

    from weditor.adapters.common import batch

    n = x.shape[0]
    dtype = model.dtype
    inp = torch.cat([x, condition.to(x.dtype).expand(n, -1, -1, -1, -1), mask.to(x.dtype).expand(n, -1, -1, -1, -1)], 1)
    with torch.no_grad():
        return model(
            hidden_states=inp.to(dtype),
            timestep=batch(t, n),
            encoder_hidden_states=cond["encoder_hidden_states"].to(dtype),
            encoder_attention_mask=cond["encoder_attention_mask"],
            image_embeds=None if image_embeds is None else image_embeds.to(dtype),
            return_dict=False,
        )[0]


def forward(model, x, t, cond):
    """Text-to-video: a zero condition latent and a zero mask after the noisy latent, as the pipeline's loop."""
    import torch

    return _call(model, x, t, cond, torch.zeros_like(x[:1]), torch.zeros_like(x[:1, :1]))


def denoiser_for(pipe, t) -> str:
    return "transformer"


def with_text_cross_attention(adapter: Adapter, config: dict) -> Adapter:
    """Checkpoints whose dual-stream blocks have the text cross-attention (`enable_text_cross_attention_dual`):
    its sites, and its ungated write for output-side edits and REINS."""
    if not config.get("enable_text_cross_attention_dual"):
        return adapter
    sites = {
        **adapter.sites,
        "cross_attn_in": Site(("cross_attn.to_q",), "reads", doc="dual-stream: text cross-attention query"),
        "cross_attn_kv_in": Site(
            ("cross_attn.to_k", "cross_attn.to_v"),
            "reads",
            tokens="text",
            doc="dual-stream: text cross-attention key and value (the prompt's tokens)",
        ),
        "cross_attn_out": Site(
            ("cross_attn.to_out.0",), "writes", gated=False, doc="dual-stream: text cross-attention output"
        ),
    }
    return replace(adapter, family=f"{adapter.family}+xattn", sites=sites, ungated_write="cross_attn.to_out.0")


MOTIF_VIDEO = Adapter(
    family="motif-video",
    pipelines=("MotifVideoPipeline",),
    denoisers=("transformer",),
    blocks=HUNYUAN.blocks,
    sites=HUNYUAN.sites,
    default_site="ffn_in",
    ungated_write=None,  # every residual add is gated, unless the checkpoint has the text cross-attention
    text_input="context_embedder.linear_1",
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    set_timesteps=set_timesteps,
    default_size=(256, 256, 17),
    variant=with_text_cross_attention,
)


# --------------------------------------------------------------------------- image-to-video


def encode_i2v(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import as_images

    cond = encode(pipe, prompts, device)
    images = as_images(images, len(prompts))
    cond["_build"] = lambda x: _first_frame(pipe, images, x, device)
    return cond


def _first_frame(pipe, images, x, device) -> dict:
    """The pipeline's `_prepare_first_frame_conditioning` per member at the size of latent `x`, with the VAE's mean."""
    import torch

    f, h, w = x.shape[2:]
    s = pipe.vae_scale_factor_spatial
    dtype = pipe.transformer.dtype
    conditions, embeds = [], []
    for image in images:
        frame = pipe.video_processor.preprocess_video([image], height=h * s, width=w * s)  # (1, C, 1, H, W)
        frame = frame.to(device=device, dtype=dtype)
        with torch.no_grad():
            lat = pipe.vae.encode(frame).latent_dist.mode()
            vision = ((frame[:, :, 0] + 1) / 2).clamp(0, 1)
            embeds.append(
                pipe._get_image_embeds(pipe.text_encoder.vision_tower, pipe.feature_extractor, vision, device)
            )
        lat = pipe._normalize_latents(lat, pipe.vae.config.latents_mean, pipe.vae.config.latents_std)
        condition = torch.zeros(1, x.shape[1], f, h, w, device=device, dtype=lat.dtype)
        condition[:, :, :1] = lat
        conditions.append(condition)
    mask = torch.zeros(1, 1, f, h, w, device=device)
    mask[:, :, 0] = 1.0
    return {"condition": torch.cat(conditions), "mask": mask, "image_embeds": torch.cat(embeds)}


def forward_i2v(model, x, t, cond):
    from weditor.adapters.common import sized

    c = sized(cond, x, cond["_build"])
    return _call(model, x, t, cond, c["condition"], c["mask"], c["image_embeds"])


MOTIF_VIDEO_I2V = replace(
    MOTIF_VIDEO,
    pipelines=("MotifVideoImage2VideoPipeline",),
    image_to_video=True,
    encode=encode_i2v,
    forward=forward_i2v,
)
