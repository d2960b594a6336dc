"""HunyuanVideo image-to-video (diffusers `HunyuanVideoImageToVideoPipeline`).

HunyuanVideo's transformer and table (weditor/adapters/hunyuan.py). The image enters twice:

- through the text encoder, a Llava model: the prompt template holds an `<image>` token, expanded
  into the image's 576 vision tokens; the pipeline keeps every `image_embed_interleave`-th of them in
  front of the prompt tokens. So "the prompt embeddings" the text methods read and fold carry the
  image too (each member's own), as the denoiser reads them;
- through the latents, per `image_condition_type`: `latent_concat` (the VAE latent in frame 0 and a
  mask, on the channel axis) or `token_replace` (frame 0 replaced by the image latent; the
  transformer gives those tokens their own modulation).

Embedded guidance (when the transformer has it) is the pipeline's default, 1.0. Pairs may carry
images; none: a mid-grey frame.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.hunyuan import HUNYUAN, MAX_TEXT_LENGTH

GUIDANCE_SCALE = 1.0  # HunyuanVideoImageToVideoPipeline's default guidance_scale


def _condition_type(pipe) -> str:
    return pipe.transformer.config.image_condition_type


def encode(pipe, prompts: list[str], device, images=None):
    """Per member: Llava prompt tokens (with its image's tokens) and CLIP pooled text, as the pipeline's
    encode_prompt with its default template and interleave."""
    import torch
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video_image2video import DEFAULT_PROMPT_TEMPLATE

    from weditor.adapters.common import as_images, text_length

    images = as_images(images, len(prompts))
    interleave = {"latent_concat": 2, "token_replace": 4}.get(_condition_type(pipe), 1)
    embeds, pooled, masks = [], [], []
    for prompt, image in zip(prompts, images):
        e, p, m = pipe.encode_prompt(
            image=image,
            prompt=[prompt],
            prompt_template=DEFAULT_PROMPT_TEMPLATE,
            device=device,
            max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH),
            image_embed_interleave=interleave,
        )
        embeds.append(e), pooled.append(p), masks.append(m)
    cond = {
        "encoder_hidden_states": torch.cat(embeds),
        "encoder_attention_mask": torch.cat(masks),
        "pooled_projections": torch.cat(pooled),
        "_guidance": GUIDANCE_SCALE,
    }
    cond["_build"] = lambda x: {"image_latents": _image_latents(pipe, images, x, device)}
    return cond


def _image_latents(pipe, images, x, device):
    """The pipeline's `prepare_latents` (VAE mode, no sampling) per member: for latent_concat the
    frame-0 latent (zeros after) and the mask, concatenated; for token_replace the frame-0 latent."""
    import torch

    f, h, w = x.shape[2:]
    height, width = h * pipe.vae_scale_factor_spatial, w * pipe.vae_scale_factor_spatial
    frames = (f - 1) * pipe.vae_scale_factor_temporal + 1
    kind = _condition_type(pipe)
    out = []
    for image in images:
        pixels = pipe.video_processor.preprocess(image, height, width).to(device, pipe.vae.dtype)
        _, latents = pipe.prepare_latents(
            pixels, 1, x.shape[1], height, width, frames, torch.float32, device, None, None, kind
        )
        if kind == "latent_concat":
            latents[:, :, 1:] = 0
            mask = latents.new_zeros(latents.shape[0], 1, *latents.shape[2:])
            mask[:, :, 0] = 1
            latents = torch.cat([latents, mask], dim=1)
        out.append(latents)
    return torch.cat(out)


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch, sized

    n = x.shape[0]
    image = sized(cond, x, cond["_build"])["image_latents"].to(x.dtype)
    if model.config.image_condition_type == "token_replace":
        inp = torch.cat([image, x[:, :, 1:]], dim=2)
    else:
        inp = torch.cat([x, image], dim=1)
    guidance = None
    if model.config.guidance_embeds:
        guidance = torch.full((n,), cond["_guidance"] * 1000.0, device=x.device, dtype=model.dtype)
    with torch.no_grad():
        return model(
            hidden_states=inp.to(model.dtype),
            timestep=batch(t, n).to(x.dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            encoder_attention_mask=cond["encoder_attention_mask"],
            pooled_projections=cond["pooled_projections"].to(model.dtype),
            guidance=guidance,
            return_dict=False,
        )[0]


def latents(pipe, size: tuple[int, int, int], generator, device):
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    channels = pipe.transformer.config.in_channels
    if _condition_type(pipe) == "latent_concat":
        channels = (channels - 1) // 2
    shape = (
        1,
        channels,
        (frames - 1) // pipe.vae_scale_factor_temporal + 1,
        height // pipe.vae_scale_factor_spatial,
        width // pipe.vae_scale_factor_spatial,
    )
    return randn_tensor(shape, generator=generator).to(device)


HUNYUAN_I2V = replace(
    HUNYUAN,
    pipelines=("HunyuanVideoImageToVideoPipeline",),
    image_to_video=True,
    encode=encode,
    latents=latents,
    forward=forward,
)
