"""HunyuanVideo 1.5, text-to-video (diffusers `HunyuanVideo15Transformer3DModel`, `HunyuanVideo15Pipeline`).

One block list (`transformer_blocks`), dual-stream like HunyuanVideo's double blocks
(transformer_hunyuan_video15.py):

    n_h, g_msa, shift, scale, g_mlp = norm1(h, temb); n_e, ... = norm1_context(e, temb)
    a_h, a_e = attn(n_h, n_e)                    # joint attention; q/k/v of h read n_h only
    h = h + a_h * g_msa                          # gated by timestep
    h = h + g_mlp * ff(norm2(h) * (1 + scale) + shift)   # ff reads video tokens only; gated

Every residual add is gated: output-side edits and a constant (REINS) bias fold are refused;
input-side edits are exact. The denoiser reads three token streams: the Qwen2.5-VL prompt
(`encoder_hidden_states`, through the token refiner's `proj_in` and, mean-pooled over the prompt
mask, `time_text_embed.text_embedder`), ByT5 glyph text (only for text in quotes; its projection
starts with a LayerNorm, so no linear fold is exact there and it is left alone) and SigLIP image
tokens (zeros in text-to-video). The text methods fold into the two linears that read the Qwen
prompt. The input is the latent with a zero condition and a zero mask concatenated on the channel
axis, as the pipeline's text-to-video loop builds it.

Image-to-video (`HunyuanVideo15ImageToVideoPipeline`): the image, cropped to the video size as the
pipeline crops it, gives the condition (its VAE latent in frame 0, mask 1 there) and the SigLIP
tokens, both with the pipeline's own methods; pairs may carry images (none: mid-grey).
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.base import Adapter, Site
from weditor.adapters.hunyuan import set_timesteps


def encode(pipe, prompts: list[str], device, images=None):
    import torch

    embeds, mask, embeds_2, mask_2 = pipe.encode_prompt(prompts, device=device, batch_size=len(prompts))
    image = torch.zeros(len(prompts), pipe.vision_num_semantic_tokens, pipe.vision_states_dim, device=device)
    return {
        "encoder_hidden_states": embeds,
        "encoder_attention_mask": mask,
        "encoder_hidden_states_2": embeds_2,
        "encoder_attention_mask_2": mask_2,
        "image_embeds": image,
    }


def latents(pipe, size: tuple[int, int, int], generator, device):
    import torch

    height, width, frames = size
    return pipe.prepare_latents(
        1, pipe.num_channels_latents, height, width, frames, torch.float32, "cpu", generator
    ).to(device)


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch, sized

    n, _, f, h, w = x.shape
    if "_build" in cond:  # image-to-video: the image's condition latents and mask
        inp = torch.cat([x, sized(cond, x, cond["_build"])["condition"].to(x.dtype)], dim=1)
    else:  # text-to-video: zero condition latents and mask
        inp = torch.cat([x, x.new_zeros(n, x.shape[1] + 1, f, h, w)], dim=1)

    def rows(key):
        v = cond[key]
        return v if v.shape[0] == n else v.expand(n, *v.shape[1:])

    with torch.no_grad():
        return model(
            hidden_states=inp.to(model.dtype),
            image_embeds=rows("image_embeds").to(model.dtype),
            timestep=batch(t, n).to(x.dtype),
            encoder_hidden_states=rows("encoder_hidden_states").to(model.dtype),
            encoder_attention_mask=rows("encoder_attention_mask"),
            encoder_hidden_states_2=rows("encoder_hidden_states_2").to(model.dtype),
            encoder_attention_mask_2=rows("encoder_attention_mask_2"),
            return_dict=False,
        )[0]


def denoiser_for(pipe, t) -> str:
    return "transformer"


HUNYUAN15 = Adapter(
    family="hunyuanvideo15",
    pipelines=("HunyuanVideo15Pipeline",),
    denoisers=("transformer",),
    blocks="transformer_blocks",
    sites={
        "ffn_in": Site(("ff.net.0.proj",), "reads", doc="first FFN linear of the video stream"),
        "context_ffn_in": Site(("ff_context.net.0.proj",), "reads", doc="first FFN linear of the text stream"),
        "attn_in": Site(("attn.to_q", "attn.to_k", "attn.to_v"), "reads", doc="video q, k, v"),
        "attn_out": Site(("attn.to_out.0",), "writes", gated=True, doc="video attention output"),
        "ffn_out": Site(("ff.net.2",), "writes", gated=True, doc="second FFN linear (video)"),
    },
    default_site="ffn_in",
    ungated_write=None,  # every residual add is gated
    text_input=("context_embedder.proj_in", "context_embedder.time_text_embed.text_embedder.linear_1"),
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    set_timesteps=set_timesteps,
    default_size=(256, 256, 17),
)


# --------------------------------------------------------------------------- image-to-video


def encode_i2v(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import as_images

    cond = encode(pipe, prompts, device)
    images = as_images(images, len(prompts))
    cond["_build"] = lambda x: _image_condition(pipe, images, x, device, cond)
    return cond


def _image_condition(pipe, images, x, device, cond) -> dict:
    """Per member, as HunyuanVideo15ImageToVideoPipeline: crop to the video size, then the VAE
    condition (frame 0) with its mask, and the SigLIP tokens (written into `cond`)."""
    import torch

    f, h, w = x.shape[2:]
    height, width = h * pipe.vae_scale_factor_spatial, w * pipe.vae_scale_factor_spatial
    conditions, tokens = [], []
    for image in images:
        image = pipe.video_processor.resize(image, height=height, width=width, resize_mode="crop")
        tokens.append(pipe.encode_image(image=image, batch_size=1, device=device, dtype=torch.float32))
        latent, mask = pipe.prepare_cond_latents_and_mask(x[:1], image, 1, height, width, torch.float32, device)
        conditions.append(torch.cat([latent, mask], dim=1))
    cond["image_embeds"] = torch.cat(tokens)
    return {"condition": torch.cat(conditions)}


HUNYUAN15_I2V = replace(
    HUNYUAN15, pipelines=("HunyuanVideo15ImageToVideoPipeline",), image_to_video=True, encode=encode_i2v
)
