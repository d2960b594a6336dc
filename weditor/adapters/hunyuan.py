"""HunyuanVideo (diffusers `HunyuanVideoTransformer3DModel`).

Two block lists, run one after the other (transformer_hunyuan_video.py):

    dual-stream  `transformer_blocks` (20):  video h and text e keep separate weights
        n_h, g_msa, shift, scale, g_mlp = norm1(h, temb); n_e, ... = norm1_context(e, temb)
        a_h, a_e = attn(n_h, n_e)                      # joint attention; q/k/v of h read n_h only
        h = h + a_h * g_msa ;  e = e + a_e * c_g_msa    # gated by timestep (+ guidance + pooled text)
        h = h + g_mlp * ff(norm2(h) * (1 + scale) + shift)            # ff reads video tokens only
        e = e + c_g_mlp * ff_context(...)
    single-stream `single_transformer_blocks` (40): one stream over cat[h, e]
        n, g = norm(x, temb)
        x = x + g * proj_out(cat[attn(n), act(proj_mlp(n))])          # gated by timestep

Every residual add is gated: output-side edits and a constant (REINS) bias fold are refused.
Sites are declared per block group; `--layers` counts within the site's group. The default,
as in the paper for a dual-/single-stream model, is the FFN input of the dual-stream blocks.

Text: the Llama hidden states (`encoder_hidden_states`) are read by the token refiner's
`proj_in` and, mean-pooled over the prompt mask, by the refiner's own `time_text_embed.text_embedder`
(a linear map of a mean is the mean of the linear map, so a projection folds exactly into both).
The CLIP pooled vector (`pooled_projections`) is read by `time_text_embed.text_embedder.linear_1`.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.base import Adapter, Site

MAX_TEXT_LENGTH = 256  # the pipeline's default max_sequence_length (after the template's crop)
GUIDANCE_SCALE = 6.0  # the pipeline's default (embedded guidance of the distilled model)


def encode(pipe, prompts: list[str], device, images=None):
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video import DEFAULT_PROMPT_TEMPLATE

    from weditor.adapters.common import text_length

    embeds, pooled, mask = pipe.encode_prompt(
        prompt=prompts,
        prompt_template=DEFAULT_PROMPT_TEMPLATE,
        device=device,
        max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH),
    )
    return {"encoder_hidden_states": embeds, "encoder_attention_mask": mask, "pooled_projections": pooled}


def latents(pipe, size: tuple[int, int, int], generator, device):
    import torch

    height, width, frames = size
    return pipe.prepare_latents(
        1, pipe.transformer.config.in_channels, height, width, frames, torch.float32, "cpu", generator
    ).to(device)


def set_timesteps(pipe, scheduler, steps: int, size, device):
    """As HunyuanVideoPipeline.__call__: sigmas linspace(1, 0) without the final 0."""
    import numpy as np
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video import retrieve_timesteps

    retrieve_timesteps(scheduler, steps, device, sigmas=np.linspace(1.0, 0.0, steps + 1)[:-1])


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch, sized

    n = x.shape[0]
    guidance = torch.full((n,), cond.get("_guidance", GUIDANCE_SCALE) * 1000.0, device=x.device, dtype=model.dtype)
    inp = x
    if "_build" in cond:  # image-to-video: the image latent (frame 0, then zeros) on the channel axis
        inp = torch.cat([x, sized(cond, x, cond["_build"])["image_latents"].to(x.dtype)], dim=1)
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


def denoiser_for(pipe, t) -> str:
    return "transformer"


HUNYUAN = Adapter(
    family="hunyuanvideo",
    pipelines=("HunyuanVideoPipeline",),
    denoisers=("transformer",),
    blocks={"double": "transformer_blocks", "single": "single_transformer_blocks"},
    sites={
        "ffn_in": Site(("ff.net.0.proj",), "reads", doc="dual-stream: first FFN linear of the video stream"),
        "context_ffn_in": Site(
            ("ff_context.net.0.proj",), "reads", doc="dual-stream: first FFN linear of the text stream"
        ),
        "attn_in": Site(("attn.to_q", "attn.to_k", "attn.to_v"), "reads", doc="dual-stream: video q, k, v"),
        "attn_out": Site(("attn.to_out.0",), "writes", gated=True, doc="dual-stream: video attention output"),
        "ffn_out": Site(("ff.net.2",), "writes", gated=True, doc="dual-stream: second FFN linear (video)"),
        "single_in": Site(
            ("proj_mlp", "attn.to_q", "attn.to_k", "attn.to_v"),
            "reads",
            blocks="single",
            doc="single-stream: MLP input and q, k, v (text + video tokens)",
        ),
        "single_out": Site(("proj_out",), "writes", gated=True, blocks="single", doc="single-stream: output linear"),
    },
    default_site="ffn_in",
    ungated_write=None,  # every residual add is gated
    text_input=("context_embedder.proj_in", "context_embedder.time_text_embed.text_embedder.linear_1"),
    pooled_text_input="time_text_embed.text_embedder.linear_1",
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    set_timesteps=set_timesteps,
    default_size=(256, 256, 17),
)


# --------------------------------------------------------------------------- SkyReels-V1 image-to-video
#
# HunyuanSkyreelsImageToVideoPipeline: HunyuanVideo's transformer with twice the input channels; the
# VAE latent of the image (frame 0, then zeros) is concatenated to the noisy latent on the channel
# axis; the same Llama + CLIP text, embedded guidance 1.0 (CFG is "true" CFG, outside one step).

SKYREELS_GUIDANCE = 1.0  # the pipeline's default guidance_scale


def encode_skyreels_i2v(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import as_images

    cond = encode(pipe, prompts, device)
    cond["_guidance"] = SKYREELS_GUIDANCE
    images = as_images(images, len(prompts))
    cond["_build"] = lambda x: {"image_latents": _image_latents(pipe, images, x, device)}
    return cond


def _image_latents(pipe, images, x, device):
    """The pipeline's `prepare_latents` per member (VAE sample from a generator seeded 0, as a seeded run)."""
    import torch

    f, h, w = x.shape[2:]
    height, width = h * pipe.vae_scale_factor_spatial, w * pipe.vae_scale_factor_spatial
    frames = (f - 1) * pipe.vae_scale_factor_temporal + 1
    out = []
    for image in images:
        pixels = pipe.video_processor.preprocess(image, height=height, width=width).to(device, pipe.vae.dtype)
        _, image_latents = pipe.prepare_latents(
            pixels,
            1,
            x.shape[1],
            height,
            width,
            frames,
            torch.float32,
            device,
            torch.Generator("cpu").manual_seed(0),
        )
        out.append(image_latents)
    return torch.cat(out)


def latents_skyreels_i2v(pipe, size: tuple[int, int, int], generator, device):
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    shape = (
        1,
        pipe.transformer.config.in_channels // 2,
        (frames - 1) // pipe.vae_scale_factor_temporal + 1,
        height // pipe.vae_scale_factor_spatial,
        width // pipe.vae_scale_factor_spatial,
    )
    return randn_tensor(shape, generator=generator).to(device)


HUNYUAN_SKYREELS_I2V = replace(
    HUNYUAN,
    pipelines=("HunyuanSkyreelsImageToVideoPipeline",),
    image_to_video=True,
    encode=encode_skyreels_i2v,
    latents=latents_skyreels_i2v,
)
