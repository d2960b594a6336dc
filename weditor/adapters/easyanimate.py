"""EasyAnimate (diffusers `EasyAnimateTransformer3DModel`): text-to-video, control and inpaint pipelines.

An EasyAnimate block (transformer_easyanimate.py) is an MMDiT block: two streams, video `h` and text `e`,
meeting in one joint attention, each with its own FFN:

    n_h, n_e, g, g_e = norm1(h, e, temb)                  # LayerNormZero: scale/shift/gate from t
    a_h, a_e = attn1(n_h, n_e)                            # to_q/k/v read video tokens, add_q/k/v_proj text
    h = h + g * a_h ;  e = e + g_e * a_e                  # gated by timestep
    n_h, n_e, g, g_e = norm2(h, e, temb)
    h = h + g * ff(n_h) ;  e = e + g_e * txt_ff(n_e)      # gated by timestep

Every residual add is gated: output-side edits and the REINS bias fold are refused; input-side edits
(the FFN input, the video q/k/v) are exact and read video tokens only. The text enters through
`text_proj` (Qwen2-VL hidden states, the pipeline's `hidden_states[-2]`). Blocks past `mmdit_layers`
share one FFN between the streams, called twice per block: such checkpoints are refused in one line.
`add_norm_text_encoder` puts an RMSNorm before `text_proj`: then no linear reads the embeddings as
encoded, and the text-side fold is refused (read off the config, as LTX-2.3's).

Inpaint (`EasyAnimateInpaintPipeline`): its text-to-video mode (no video, no mask: zero mask and
masked-video latents on the channel axis); prompts only. Control (`EasyAnimateControlPipeline`): the
transformer reads the latent with the control video's VAE latents and a reference-image latent on the
channel axis; a pair's `video` is the control video, and without one the pipeline's own zeros (no
control); the reference image is not fed (zeros, its default).
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.base import Adapter, Site


def encode(pipe, prompts: list[str], device, images=None):
    """Qwen2-VL chat-template hidden states, as `__call__` encodes them (no guidance: no negative branch)."""
    from weditor.errors import WeditorError

    config = pipe.transformer.config
    if config.mmdit_layers < config.num_layers:
        raise WeditorError(
            f"{type(pipe).__name__}: blocks past mmdit_layers ({config.mmdit_layers} of {config.num_layers}) run one "
            "FFN on the video and then on the text tokens; weditor's block edits need one call per block"
        )
    dtype = pipe.text_encoder.dtype if pipe.text_encoder is not None else pipe.transformer.dtype
    embeds, _, _, _ = pipe.encode_prompt(prompts, device=device, dtype=dtype, do_classifier_free_guidance=False)
    return {"encoder_hidden_states": embeds, "_build": lambda x: {}}


def latents(pipe, size: tuple[int, int, int], generator, device):
    """The pipelines' noise (`prepare_latents`; the inpaint one's at strength 1): (1, C, F, h, w) times the
    scheduler's `init_noise_sigma`."""
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    shape = (
        1,
        pipe.vae.config.latent_channels,
        (frames - 1) // pipe.vae_temporal_compression_ratio + 1,
        height // pipe.vae_spatial_compression_ratio,
        width // pipe.vae_spatial_compression_ratio,
    )
    return (randn_tensor(shape, generator=generator) * getattr(pipe.scheduler, "init_noise_sigma", 1.0)).to(device)


def set_timesteps(pipe, scheduler, steps: int, size, device):
    """As `__call__`: flow matching at mu=1, else the scheduler's own spacing."""
    from diffusers import FlowMatchEulerDiscreteScheduler
    from diffusers.pipelines.easyanimate.pipeline_easyanimate import retrieve_timesteps

    extra = {"mu": 1} if isinstance(scheduler, FlowMatchEulerDiscreteScheduler) else {}
    retrieve_timesteps(scheduler, steps, device, **extra)


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import sized

    extra = sized(cond, x, cond["_build"])
    kwargs = {
        k: extra[k].expand(x.shape[0], -1, -1, -1, -1).to(model.dtype)
        for k in ("control_latents", "inpaint_latents")
        if k in extra
    }
    timestep = t.reshape(-1).expand(x.shape[0]).to(x.dtype)
    with torch.no_grad():
        pred = model(
            x.to(model.dtype),
            timestep,
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            return_dict=False,
            **kwargs,
        )[0]
    return pred if pred.shape[1] == x.shape[1] else pred.chunk(2, dim=1)[0]  # a learned variance half dropped


def denoiser_for(pipe, t) -> str:
    return "transformer"


def text_variant(adapter: Adapter, config: dict) -> Adapter:
    """`add_norm_text_encoder`: an RMSNorm before `text_proj`'s linear, so no linear reads the embeddings."""
    return replace(adapter, text_input=None, variant=None) if config.get("add_norm_text_encoder") else adapter


EASYANIMATE = Adapter(
    family="easyanimate",
    pipelines=("EasyAnimatePipeline",),
    denoisers=("transformer",),
    blocks="transformer_blocks",
    sites={
        "ffn_in": Site(("ff.net.0.proj",), "reads", doc="first FFN linear of the video stream"),
        "attn_in": Site(("attn1.to_q", "attn1.to_k", "attn1.to_v"), "reads", doc="joint attention q, k, v (video)"),
        "attn_out": Site(("attn1.to_out.0",), "writes", gated=True, doc="joint attention output (video)"),
        "ffn_out": Site(("ff.net.2",), "writes", gated=True, doc="second FFN linear (video)"),
    },
    default_site="ffn_in",
    ungated_write=None,  # every residual add is gated (LayerNormZero)
    text_input="text_proj",
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    set_timesteps=set_timesteps,
    default_size=(384, 672, 49),
    variant=text_variant,
)


# --------------------------------------------------------------------------- control


def encode_control(pipe, prompts: list[str], device, images=None):
    cond = encode(pipe, prompts, device)
    # A pair's video (weditor.models.runtime.encode sets cond["_video"] after this returns) is the control video.
    cond["_build"] = lambda x: {"control_latents": _control_latents(pipe, x, device, cond.get("_video"))}
    return cond


def _control_latents(pipe, x, device, video_path):
    """The pipeline's control input: the control video's latents (zeros without one), then the reference-image
    latents (zeros: no reference image), on the channel axis."""
    import torch

    from weditor.io.pair_videos import read_video

    zeros = torch.zeros_like(x[:1], dtype=torch.float32)
    if video_path is None:
        return torch.cat([zeros, zeros], dim=1)
    frames = (x.shape[2] - 1) * pipe.vae_temporal_compression_ratio + 1
    height, width = (s * pipe.vae_spatial_compression_ratio for s in x.shape[3:])
    video = control_tensor(read_video(video_path, (height, width, frames)))
    pixels = pipe.image_processor.preprocess(video[0].permute(1, 0, 2, 3), height=height, width=width)
    pixels = pixels.to(dtype=torch.float32).reshape(1, frames, 3, height, width).permute(0, 2, 1, 3, 4)
    control = pipe.prepare_control_latents(None, pixels, 1, height, width, torch.float32, device, None, False)[1]
    return torch.cat([control.to(zeros.dtype), zeros], dim=1)


def control_tensor(frames):
    """PIL frames -> the (1, 3, F, H, W) tensor in [0, 1] the control pipeline takes as `control_video`."""
    import numpy as np
    import torch

    array = np.stack([np.asarray(f, dtype=np.float32) / 255.0 for f in frames])  # F, H, W, 3
    return torch.from_numpy(array).permute(3, 0, 1, 2).unsqueeze(0)


EASYANIMATE_CONTROL = replace(
    EASYANIMATE, pipelines=("EasyAnimateControlPipeline",), encode=encode_control, video_input=True
)


# --------------------------------------------------------------------------- inpaint


def encode_inpaint(pipe, prompts: list[str], device, images=None):
    """EasyAnimateInpaintPipeline without a video or mask: its text-to-video mode, zero mask and masked-video
    latents on the channel axis ("use zero latents if we want to t2v")."""
    import torch

    cond = encode(pipe, prompts, device)
    extra = pipe.transformer.config.in_channels - pipe.vae.config.latent_channels
    cond["_build"] = lambda x: {"inpaint_latents": torch.zeros(1, extra, *x.shape[2:], device=x.device)}
    return cond


# Prompts only: its image-to-video use (a video with the image in frame 0 and a `mask_video` keeping it) raises
# AttributeError in diffusers 0.42.1 with the default `resize_inpaint_mask_directly` (it reads
# `vae.config.cache_mag_vae`, which AutoencoderKLMagvit's config does not have): there is no stock image path to
# reproduce, so image pairs are refused.
EASYANIMATE_INPAINT = replace(EASYANIMATE, pipelines=("EasyAnimateInpaintPipeline",), encode=encode_inpaint)
