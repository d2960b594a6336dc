"""LTX-2: one transformer denoises a video and an audio latent together (diffusers `LTX2VideoTransformer3DModel`).

Each LTX-2 block runs two streams side by side (diffusers' transformer_ltx2.py):

    video:  h = h + gate_msa * attn1(...)                      # gated by timestep
            h = h +            attn2(norm2(h), text_v)         # NOT gated (LTX-2.0; gated with cross_attn_mod)
            h = h + a2v_gate * audio_to_video_attn(h, audio)   # gated
            h = h + gate_mlp * ff(...)                         # gated
    audio:  the same four adds on `audio_*` modules, `audio_attn2` reading text_a

so the video stream has the LTX-Video site table (`cross_attention_dit_sites("ff")`): the ungated
write is `attn2.to_out.0` and each block reads the prompt at `attn2.to_k/to_v`. The audio stream
reads the prompt too, through its own connector output and `audio_attn2`; a concept removed from
the video stream alone could come back through `audio_to_video_attn`. So the text-side edits (the
text read-out, SAFREE) edit both caption projections (`caption_projection.linear_1` for the video
stream, `audio_caption_projection.linear_1` for the audio one, each with its own direction, fitted on
its own embeddings), and the audio stream's sites are in the table for a block-site edit (one
`--site` per patch: patch the result again with `--site audio_cross_attn_kv_in`). That table is exact on
LTX-2.0. LTX-2.3 checkpoints (`cross_attn_mod`: the prompt's cross-attention add gated by `gate_text_q`;
`use_prompt_embeddings=False`: no caption projection) get the gated table instead (`ltx23`, chosen from
the transformer's config by `weditor.adapters.adapter_for_model`): no REINS, no output-side
cross-attention edit, no text-side fold; input-side sites stay exact.

The latent weditor carries is the joint state: the video latent (1, C, F, h, w) with the packed
audio latent (1, L, C_a) appended as extra channels (flattened, zero-padded to whole F*h*w planes).
The flow-matching Euler step is elementwise and both schedulers of the pipeline step with the same
sigmas, so stepping the joint tensor once is stepping both; the padding's prediction is 0, so it
stays 0. The audio length L follows from the latent frame count as in the pipeline (duration
`((F-1)*r_t+1)/frame_rate`, audio latents per second from the audio VAE): the pipeline's own L when
the frame count is r_t*k+1. The pipeline converts the prediction to x0 and back before stepping
(identity up to rounding without guidance); weditor steps the prediction itself.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.base import Adapter, Site
from weditor.adapters.sites import (
    UNGATED_CROSS_ATTENTION_WRITE,
    cross_attention_dit_sites,
)

MAX_TEXT_LENGTH = 1024  # the pipeline's default max_sequence_length
FRAME_RATE = 24.0  # the pipeline's default frame_rate (it scales the temporal RoPE and sets the audio length)


def encode(pipe, prompts: list[str], device, images=None):
    """Gemma hidden states -> the connectors' video and audio prompt embeddings, as `__call__` does."""
    from weditor.adapters.common import text_length

    embeds, mask, _, _ = pipe.encode_prompt(
        prompts,
        do_classifier_free_guidance=False,
        device=device,
        max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH),
    )
    # the padding side the connectors are told: LTX2ConditionPipeline reads it once, when it is built
    side = getattr(pipe, "tokenizer_padding_side", None) or getattr(pipe.tokenizer, "padding_side", "left")
    video, audio, mask = pipe.connectors(embeds, mask, padding_side=side)
    per_second = pipe.audio_sampling_rate / pipe.audio_hop_length / float(pipe.audio_vae_temporal_compression_ratio)
    return {
        "encoder_hidden_states": video,
        "audio_encoder_hidden_states": audio,
        "encoder_attention_mask": mask,
        "_grid": (pipe.vae_temporal_compression_ratio, per_second, audio_mel_bins(pipe)),
        "_build": lambda x: {},
    }


def audio_mel_bins(pipe) -> int:
    return pipe.audio_vae.config.mel_bins // pipe.audio_vae_mel_compression_ratio


def audio_length(frames: int, r_t: int, per_second: float) -> int:
    """The pipeline's audio latent length for a video of `frames` latent frames."""
    return round(((frames - 1) * r_t + 1) / FRAME_RATE * per_second)


def join(video, audio):
    """(n, C, F, h, w) video + (n, L, C_a) packed audio -> (n, C + E, F, h, w): audio in E zero-padded planes."""
    import torch

    n, _, f, h, w = video.shape
    flat = audio.reshape(n, -1)
    plane = f * h * w
    planes = -(-flat.shape[1] // plane)
    flat = torch.nn.functional.pad(flat, (0, planes * plane - flat.shape[1]))
    return torch.cat([video, flat.reshape(n, planes, f, h, w).to(video.dtype)], dim=1)


def split(x, model, cond):
    """The inverse of `join`: (video (n, C, F, h, w), packed audio (n, L, C_a))."""
    n, _, f, _, _ = x.shape
    r_t, per_second, _ = cond["_grid"]
    c, c_a = model.config.in_channels, model.config.audio_in_channels
    length = audio_length(f, r_t, per_second)
    return x[:, :c], x[:, c:].reshape(n, -1)[:, : length * c_a].reshape(n, length, c_a)


def latents(pipe, size: tuple[int, int, int], generator, device):
    """The pipeline's draws, in its order: video noise (1, C, F, h, w), then audio noise (1, C_a, L, M)."""
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    f = (frames - 1) // pipe.vae_temporal_compression_ratio + 1
    grid = (f, height // pipe.vae_spatial_compression_ratio, width // pipe.vae_spatial_compression_ratio)
    video = randn_tensor((1, pipe.transformer.config.in_channels, *grid), generator=generator)
    per_second = pipe.audio_sampling_rate / pipe.audio_hop_length / float(pipe.audio_vae_temporal_compression_ratio)
    length = audio_length(f, pipe.vae_temporal_compression_ratio, per_second)
    audio = randn_tensor((1, pipe.audio_vae.config.latent_channels, length, audio_mel_bins(pipe)), generator=generator)
    return join(video, pipe._pack_audio_latents(audio)).to(device)


def set_timesteps(pipe, scheduler, steps: int, size, device, extra_tokens: int = 0):
    """As LTX2Pipeline.__call__: sigmas linspace(1, 1/n), shifted by mu(video sequence length); `extra_tokens`:
    tokens appended to the sequence (a reference video, weditor/adapters/ltx2_context.py)."""
    import numpy as np
    from diffusers.pipelines.ltx2.pipeline_ltx2 import (
        calculate_shift,
        retrieve_timesteps,
    )

    height, width, frames = size
    tokens = (
        ((frames - 1) // pipe.vae_temporal_compression_ratio + 1)
        * (height // pipe.vae_spatial_compression_ratio)
        * (width // pipe.vae_spatial_compression_ratio)
    )
    mu = calculate_shift(
        tokens + extra_tokens,
        scheduler.config.get("base_image_seq_len", 1024),
        scheduler.config.get("max_image_seq_len", 4096),
        scheduler.config.get("base_shift", 0.95),
        scheduler.config.get("max_shift", 2.05),
    )
    retrieve_timesteps(scheduler, steps, device, sigmas=np.linspace(1.0, 1 / steps, steps), mu=mu)


def forward(model, x, t, cond):
    """One call of the joint transformer, as the pipeline's loop makes it without guidance; returns the joint prediction."""
    import torch
    from diffusers import LTX2Pipeline

    from weditor.adapters.common import batch, sized

    n, _, f, h, w = x.shape
    video, audio = split(x, model, cond)
    tokens = LTX2Pipeline._pack_latents(video, model.config.patch_size, model.config.patch_size_t)
    timestep = batch(t, n)
    video_timestep = timestep
    extra = sized(cond, x, cond["_build"])
    if "image_latents" in extra:  # as LTX2ImageToVideoPipeline: frame-0 tokens are the image, at timestep 0
        mask = extra["conditioning_mask"]
        tokens = mask.unsqueeze(-1) * extra["image_latents"] + (1 - mask.unsqueeze(-1)) * tokens
        video_timestep = timestep.unsqueeze(-1) * (1 - mask)
    video_coords = model.rope.prepare_video_coords(n, f, h, w, x.device, fps=FRAME_RATE)
    base = tokens.shape[1]
    if "appended_latents" in extra:  # LTX2InContext/HDR (weditor/adapters/ltx2_context.py): reference tokens appended
        if video_timestep.ndim == 1:
            video_timestep = video_timestep.unsqueeze(-1).expand(-1, base)
        tokens = torch.cat([tokens, extra["appended_latents"].expand(n, -1, -1).to(tokens.dtype)], dim=1)
        video_timestep = torch.cat([video_timestep, timestep.unsqueeze(-1) * (1 - extra["appended_mask"])], dim=1)
        video_coords = torch.cat([video_coords, extra["appended_coords"].expand(n, -1, -1, -1)], dim=2)
    audio_coords = model.audio_rope.prepare_audio_coords(n, audio.shape[1], x.device)
    dtype = model.dtype
    with torch.no_grad():
        pred_video, pred_audio = model(
            hidden_states=tokens.to(dtype),
            audio_hidden_states=audio.to(dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(dtype),
            audio_encoder_hidden_states=cond["audio_encoder_hidden_states"].to(dtype),
            timestep=video_timestep,
            audio_timestep=timestep if ("image_latents" in extra or "appended_latents" in extra) else None,
            sigma=timestep,
            encoder_attention_mask=cond["encoder_attention_mask"],
            audio_encoder_attention_mask=cond["encoder_attention_mask"],
            num_frames=f,
            height=h,
            width=w,
            fps=FRAME_RATE,
            audio_num_frames=audio.shape[1],
            video_coords=video_coords,
            audio_coords=audio_coords,
            isolate_modalities=False,
            spatio_temporal_guidance_blocks=None,
            perturbation_mask=None,
            use_cross_timestep=cond.get("_cross_timestep", True),  # LTX2HDRPipeline's default: False
            return_dict=False,
        )
    p, p_t = model.config.patch_size, model.config.patch_size_t
    video = LTX2Pipeline._unpack_latents(pred_video[:, :base], f // p_t, h // p, w // p, p, p_t)
    return join(video, pred_audio)


def denoiser_for(pipe, t) -> str:
    return "transformer"


AUDIO_SITES = {
    "audio_cross_attn_kv_in": Site(
        ("audio_attn2.to_k", "audio_attn2.to_v"),
        "reads",
        tokens="text",
        doc="audio stream's cross-attention key and value: where it reads the prompt",
    ),
    "audio_cross_attn_out": Site(
        ("audio_attn2.to_out.0",),
        "writes",
        gated=False,
        doc="audio stream's cross-attention output (ungated in LTX-2.0)",
    ),
}


def ltx23(adapter: Adapter, config: dict) -> Adapter:
    """LTX-2.3 checkpoints (`cross_attn_mod`: the prompt's cross-attention add is gated by `gate_text_q` and the
    prompt modulated by the timestep before `to_k/to_v`; `use_prompt_embeddings=False`: no caption projection):
    the cross-attention writes are gated (no output-side edit, no REINS) and no linear reads the prompt as
    encoded (no text-side fold). Input-side sites stay exact."""
    video, audio = bool(config.get("cross_attn_mod")), bool(config.get("audio_cross_attn_mod"))
    captions = config.get("use_prompt_embeddings", True)
    if not (video or audio or not captions):
        return adapter
    sites = dict(adapter.sites)
    if video:
        sites["cross_attn_out"] = replace(
            sites["cross_attn_out"], gated=True, doc="cross-attention output (gated in LTX-2.3)"
        )
    if audio:
        sites["audio_cross_attn_out"] = replace(
            sites["audio_cross_attn_out"], gated=True, doc="audio cross-attention output (gated in LTX-2.3)"
        )
    return replace(
        adapter,
        family="ltx2.3",
        sites=sites,
        default_site="ffn_in" if video else adapter.default_site,
        ungated_write=None if video else adapter.ungated_write,
        text_input=adapter.text_input if captions else None,
        more_text_inputs=adapter.more_text_inputs if captions else (),
        variant=None,
    )


LTX2 = Adapter(
    family="ltx2",
    pipelines=("LTX2Pipeline",),
    denoisers=("transformer",),
    blocks="transformer_blocks",
    sites={**cross_attention_dit_sites("ff"), **AUDIO_SITES},
    default_site="cross_attn_out",  # the LTX-Video default (docs/benchmarks.md); not measured on LTX-2
    ungated_write=UNGATED_CROSS_ATTENTION_WRITE,
    text_input="caption_projection.linear_1",
    more_text_inputs=(("audio_encoder_hidden_states", "audio_caption_projection.linear_1"),),
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    set_timesteps=set_timesteps,
    default_size=(256, 256, 17),
    variant=ltx23,
)


# --------------------------------------------------------------------------- image-to-video


def encode_i2v(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import as_images

    cond = encode(pipe, prompts, device)
    images = as_images(images, len(prompts))
    cond["_build"] = lambda x: _image_tokens(pipe, images, x, device)
    return cond


def _image_tokens(pipe, images, x, device) -> dict:
    """The pipeline's `prepare_latents` per member: packed frame-0 image latents and the conditioning mask.
    (The pipeline's optional H.264 re-compression of the image, `image_crf`, is not applied: pass image_crf=0.)"""
    import torch

    f, h, w = x.shape[2:]
    height, width = h * pipe.vae_spatial_compression_ratio, w * pipe.vae_spatial_compression_ratio
    frames = (f - 1) * pipe.vae_temporal_compression_ratio + 1
    tokens, masks = [], []
    for image in images:
        pixels = pipe.video_processor.preprocess(image, height=height, width=width).to(device, dtype=pipe.vae.dtype)
        packed, mask = pipe.prepare_latents(
            pixels,
            1,
            pipe.transformer.config.in_channels,
            height,
            width,
            frames,
            0.0,
            torch.float32,
            device,
            torch.Generator("cpu").manual_seed(0),
        )
        tokens.append(packed * mask.unsqueeze(-1))
        masks.append(mask)
    return {"image_latents": torch.cat(tokens), "conditioning_mask": torch.cat(masks)}


LTX2_I2V = replace(LTX2, pipelines=("LTX2ImageToVideoPipeline",), image_to_video=True, encode=encode_i2v)


# --------------------------------------------------------------------------- conditioning frames


def encode_condition(pipe, prompts: list[str], device, images=None):
    """LTX2ConditionPipeline: an image is a frame-0 condition at strength 1 (what an I2V pair carries); with
    none (every member None), the pipeline's text-only mode. A separate `audio_scheduler` would step the audio
    latent on other sigmas than the joint latent weditor carries: refused."""
    from weditor.adapters.common import as_images
    from weditor.errors import WeditorError

    if getattr(pipe, "audio_scheduler", None) is not None:
        raise WeditorError(
            "LTX2ConditionPipeline with its own audio_scheduler is not supported: weditor steps the video "
            "and the audio latent together, on the video scheduler's sigmas"
        )
    cond = encode(pipe, prompts, device)
    if images is not None and all(im is None for im in images):
        images = None
    images = as_images(images, len(prompts)) if images is not None else [None] * len(prompts)
    cond["_build"] = lambda x: _condition_tokens(pipe, images, x, device)
    return cond


def _condition_tokens(pipe, images, x, device) -> dict:
    """The pipeline's `prepare_latents` per member: clean frame-0 tokens and the mask (zeros in text-only mode,
    where the pipeline still passes per-token timesteps)."""
    import torch
    from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition

    f, h, w = x.shape[2:]
    height, width = h * pipe.vae_spatial_compression_ratio, w * pipe.vae_spatial_compression_ratio
    frames = (f - 1) * pipe.vae_temporal_compression_ratio + 1
    tokens, masks = [], []
    for image in images:
        conditions = None if image is None else [LTX2VideoCondition(frames=image, index=0, strength=1.0, crf=0)]
        _, mask, clean, _ = pipe.prepare_latents(
            conditions,
            1,
            pipe.transformer.config.in_channels,
            height,
            width,
            frames,
            FRAME_RATE,
            1.0,
            torch.float32,
            device,
            torch.Generator("cpu").manual_seed(0),
        )
        tokens.append(clean * mask)
        masks.append(mask.squeeze(-1))
    return {"image_latents": torch.cat(tokens), "conditioning_mask": torch.cat(masks)}


def latents_condition(pipe, size: tuple[int, int, int], generator, device):
    """LTX2ConditionPipeline's draws (and the in-context and HDR pipelines'): packed video noise (1, N, C), then
    packed audio noise (1, L, C_a * M) (LTX2Pipeline draws (1, C_a, L, M) and packs it); unpacked and joined."""
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    f = (frames - 1) // pipe.vae_temporal_compression_ratio + 1
    grid = (f, height // pipe.vae_spatial_compression_ratio, width // pipe.vae_spatial_compression_ratio)
    c = pipe.transformer.config.in_channels
    video = pipe._unpack_latents(randn_tensor((1, grid[0] * grid[1] * grid[2], c), generator=generator), *grid)
    per_second = pipe.audio_sampling_rate / pipe.audio_hop_length / float(pipe.audio_vae_temporal_compression_ratio)
    length = audio_length(f, pipe.vae_temporal_compression_ratio, per_second)
    audio = randn_tensor((1, length, pipe.audio_vae.config.latent_channels * audio_mel_bins(pipe)), generator=generator)
    return join(video, audio).to(device)


LTX2_CONDITION = replace(
    LTX2, pipelines=("LTX2ConditionPipeline",), image_to_video=True, encode=encode_condition, latents=latents_condition
)
