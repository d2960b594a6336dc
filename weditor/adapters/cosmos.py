"""Cosmos 1 (diffusers `CosmosTransformer3DModel`, `CosmosTextToWorldPipeline`, `CosmosVideoToWorldPipeline`).

Every Cosmos pipeline up to 2.5 runs the same transformer, whose block is (transformer_cosmos.py,
`CosmosTransformerBlock`; `CosmosAdaLayerNormZero` gives each add its own timestep gate):

    h = h + extra_pos_emb                                            # learnable positions, every block
    h = h + gate1 * attn1(norm1(h) * (1 + scale1) + shift1)          # gated by timestep
    h = h + gate2 * attn2(norm2(h) * (1 + scale2) + shift2, text)    # gated too: the prompt enters here
    h = h + gate3 * ff(norm3(h) * (1 + scale3) + shift3)             # gated

So every residual add is gated: output-side edits and the REINS bias fold are refused, the input-side
sites are exact. There is no caption projection: the T5 states (zeroed past each prompt's tokens, no
attention mask) reach every block's `attn2.to_k` / `attn2.to_v` as they are, which is where the text
methods fold (Cosmos 2.5 adds `crossattn_proj`, see `variant`).

The sampler is EDM (`EDMEulerScheduler`): the denoiser reads `c_in(sigma) * x` at timestep
`c_noise = log(sigma) / 4`, and the pipelines step twice per timestep (first for x0, then the Euler step
from it). `forward` applies `c_in` from the timestep alone (sigma = exp(4 t)), as the pipeline's
`scale_model_input` does from its step index. The checker: weditor/models/guardrail.py.
"""

from __future__ import annotations

import math
from dataclasses import replace

from weditor.adapters.base import Adapter, Site
from weditor.errors import WeditorError

MAX_TEXT_LENGTH = 512  # the pipelines' default max_sequence_length
FPS = 30  # CosmosTextToWorldPipeline's / CosmosVideoToWorldPipeline's default frame rate (temporal RoPE scale)
AUGMENT_SIGMA = 0.001  # CosmosVideoToWorldPipeline's default noise level of the conditioning frames


def cosmos_sites() -> dict[str, Site]:
    """The Cosmos block's linears: input sides exact, every write gated (module docstring)."""
    return {
        "ffn_in": Site(("ff.net.0.proj",), "reads", doc="first FFN linear (the paper's edit site)"),
        "self_attn_in": Site(("attn1.to_q", "attn1.to_k", "attn1.to_v"), "reads", doc="self-attention q, k, v"),
        "cross_attn_in": Site(("attn2.to_q",), "reads", doc="cross-attention query"),
        "cross_attn_kv_in": Site(
            ("attn2.to_k", "attn2.to_v"),
            "reads",
            tokens="text",
            doc="cross-attention key and value: where each block reads the prompt",
        ),
        "self_attn_out": Site(("attn1.to_out.0",), "writes", gated=True, doc="self-attention output"),
        "cross_attn_out": Site(("attn2.to_out.0",), "writes", gated=True, doc="cross-attention output"),
        "ffn_out": Site(("ff.net.2",), "writes", gated=True, doc="second FFN linear"),
    }


# The T5 states as encoded reach every block's cross-attention key and value (no projection before them).
BLOCK_TEXT_INPUT = ("transformer_blocks.*.attn2.to_k", "transformer_blocks.*.attn2.to_v")


def variant(adapter: Adapter, config: dict) -> Adapter:
    """The checkpoint's table: torchvision where the transformer resizes a padding mask with it
    (`concat_padding_mask`, every released Cosmos checkpoint); Cosmos 2.5's `crossattn_proj` (a linear
    then GELU before the blocks) is the one linear that reads the text embeddings there."""
    out = adapter
    if config.get("concat_padding_mask", True):
        out = replace(out, requires=(*out.requires, ("torchvision", "torchvision")))
    if config.get("use_crossattn_projection", False):
        out = replace(out, text_input="crossattn_proj.0")
    return out


# --------------------------------------------------------------------------- the EDM sampler


def check_scheduler(scheduler) -> None:
    if type(scheduler).__name__ != "EDMEulerScheduler":
        raise WeditorError(
            f"scheduler {type(scheduler).__name__}: weditor runs Cosmos 1 with the EDMEulerScheduler its "
            "checkpoints ship (its input scale is read off the timestep)"
        )


def c_in(sigma, sigma_data: float):
    """EDMEulerScheduler._get_conditioning_c_in."""
    return 1 / ((sigma**2 + sigma_data**2) ** 0.5)


def sigma_of(t) -> float:
    """The noise level whose EDM timestep is `t` (EDMEulerScheduler.precondition_noise: t = log(sigma) / 4)."""
    return math.exp(4 * float(t))


def step(scheduler, pred, t, x):
    """As the Cosmos 1 loops (guidance off): x0 from the prediction, then the Euler step from x0."""
    scheduler.is_scale_input_called = True  # the adapter's forward scaled the input by c_in
    x0 = scheduler.step(pred, t, x, return_dict=False)[1]
    scheduler._step_index -= 1
    return scheduler.step(x0, t, x, return_dict=False, pred_original_sample=x0)[0]


# --------------------------------------------------------------------------- text to world


def encode_text(pipe, prompts: list[str], device) -> dict:
    """The T5 states as the Cosmos 1 and 2 pipelines encode them (guidance off)."""
    from weditor.adapters.common import text_length

    embeds, _ = pipe.encode_prompt(
        prompts,
        do_classifier_free_guidance=False,
        device=device,
        max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH),
    )
    return {"encoder_hidden_states": embeds}


def encode(pipe, prompts: list[str], device, images=None):
    check_scheduler(pipe.scheduler)
    return {**encode_text(pipe, prompts, device), "_sigma_data": float(pipe.scheduler.config.sigma_data)}


def latents(pipe, size: tuple[int, int, int], generator, device, mask_channels: int = 0):
    """The pipelines' noise: `randn * sigma_max` (CosmosTextToWorldPipeline.prepare_latents)."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    channels = pipe.transformer.config.in_channels - mask_channels
    shape = (
        1,
        channels,
        (frames - 1) // pipe.vae_scale_factor_temporal + 1,
        height // pipe.vae_scale_factor_spatial,
        width // pipe.vae_scale_factor_spatial,
    )
    return (randn_tensor(shape, generator=generator, dtype=torch.float32) * pipe.scheduler.config.sigma_max).to(device)


def default_size(pipe) -> tuple[int, int, int]:
    """256x256, 17 frames, within what the transformer's positions cover (`max_size`, latent units)."""
    frames, height, width = pipe.transformer.config.max_size
    s, r = pipe.vae_scale_factor_spatial, pipe.vae_scale_factor_temporal
    return min(256, height * s // 16 * 16), min(256, width * s // 16 * 16), min(17, (frames - 1) * r + 1)


def _check_size(model, hidden) -> None:
    """The positions (RoPE, learnable) cover `max_size` latent frames, rows and columns: one line beyond it."""
    limit = model.config.max_size
    if any(n > m for n, m in zip(hidden.shape[2:], limit)):
        raise WeditorError(
            f"--size: {tuple(hidden.shape[2:])} latent frames x rows x columns, but this Cosmos transformer's "
            f"positions cover at most {tuple(limit)} (its max_size): use a smaller --size"
        )


def _call(model, hidden, t, cond, fps: int = FPS, timestep=None, **extra):
    """One transformer call as the pipelines make it: fps, a zero padding mask, the timestep per member
    (or `timestep` as given: Cosmos 2's per-frame one)."""
    import torch

    from weditor.adapters.common import batch

    _check_size(model, hidden)
    n = hidden.shape[0]
    padding = hidden.new_zeros(1, 1, hidden.shape[3], hidden.shape[4], dtype=model.dtype)
    with torch.no_grad():
        return model(
            hidden_states=hidden.to(model.dtype),
            timestep=(batch(t, n) if timestep is None else timestep).to(model.dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            fps=fps,
            padding_mask=padding,
            return_dict=False,
            **extra,
        )[0]


def forward(model, x, t, cond):
    sigma = sigma_of(t)
    return _call(model, x * c_in(sigma, cond["_sigma_data"]), t, cond)


# --------------------------------------------------------------------------- video to world


def latents_v2w(pipe, size: tuple[int, int, int], generator, device):
    """As T2W's, without the transformer's condition-mask input channel (the V2W prepare_latents draws the same)."""
    return latents(pipe, size, generator, device, mask_channels=1)


def encode_v2w(pipe, prompts: list[str], device, images=None):
    """Text as T2W; each member's image (one frame) or video (its frames) as the pipeline's conditioning
    latents, built once the size is known. Without (None): a mid-grey image."""
    cond = encode(pipe, prompts, device)
    paths = list(images) if images is not None else [None] * len(prompts)
    cond["_build"] = lambda x: _conditioning(pipe, paths, x, device)
    return cond


def conditioning_frames(path, size: tuple[int, int]) -> list:
    """A pair's image or video as its RGB frames at their own size, for the pipeline's video processor to
    resize as it resizes a `video` or `image` argument (an image is a one-frame video; None: mid-grey)."""
    from PIL import Image

    from weditor.adapters.common import as_images

    if path is None or isinstance(path, Image.Image):
        return as_images([path], 1, size)
    frames = []
    with Image.open(path) as im:  # an image or an animated GIF/PNG/WebP, checked when the pair file was read
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            frames.append(im.convert("RGB"))
    return frames


def _conditioning(pipe, paths, x, device) -> dict:
    """CosmosVideoToWorldPipeline.prepare_latents per member: clean latents, indicator of the conditioning
    latent frames, condition mask; the noise it would draw is not used (weditor's latent is `x`)."""
    import torch

    def prepare(pixels, channels, height, width, frames, zeros):
        return pipe.prepare_latents(
            pixels, 1, channels, height, width, frames, False, False, torch.float32, device, None, zeros
        )

    return conditioning_latents(pipe, paths, x, device, prepare)


def conditioning_latents(pipe, paths, x, device, prepare) -> dict:
    """Per member, the pipeline's `prepare(pixels, channels, height, width, frames, zero latents)`: its clean
    conditioning latents, indicator and condition mask, stacked on the batch axis."""
    import torch

    f, h, w = x.shape[2:]
    height, width = h * pipe.vae_scale_factor_spatial, w * pipe.vae_scale_factor_spatial
    frames = (f - 1) * pipe.vae_scale_factor_temporal + 1
    clean, indicator, mask = [], [], []
    for path in paths:
        video = conditioning_frames(path, (height, width))
        if len(video) >= frames:
            raise WeditorError(
                f"{path}: {len(video)} frames, but the collection video has {frames}: Cosmos would condition on "
                "every frame and generate none; give a shorter video or a larger --size frame count"
            )
        pixels = pipe.video_processor.preprocess_video([video], height, width).to(device, pipe.vae.dtype)
        zeros = torch.zeros((1, *x.shape[1:]), device=device)
        _, lat, ind, _, msk, _ = prepare(pixels, x.shape[1], height, width, frames, zeros)
        clean.append(lat)
        indicator.append(ind.expand(1, -1, -1, -1, -1))
        mask.append(msk)
    return {"clean": torch.cat(clean), "indicator": torch.cat(indicator), "mask": torch.cat(mask)}


def forward_v2w(model, x, t, cond):
    """The pipeline's conditional pass: conditioning frames (noise-free: `AUGMENT_SIGMA` noise not drawn)
    scaled by c_in(augment sigma), the other frames by c_in(sigma), the condition mask as a channel."""
    import torch

    from weditor.adapters.common import sized

    c = sized(cond, x, cond["_build"])
    sigma, data = sigma_of(t), cond["_sigma_data"]
    augment = torch.tensor([AUGMENT_SIGMA], dtype=torch.float32)
    current = torch.tensor(sigma, dtype=torch.float32)
    indicator = c["indicator"] * 0 if bool(augment >= current) else c["indicator"]
    c_orig, c_aug = c_in(current, data), c_in(augment, data)
    n = x.shape[0]
    latent = indicator * (c["clean"] * c_aug / c_orig) + (1 - indicator) * x.expand(n, *x.shape[1:])
    return _call(model, latent * c_orig, t, cond, condition_mask=c["mask"].to(model.dtype))


COSMOS = Adapter(
    family="cosmos",
    pipelines=("CosmosTextToWorldPipeline",),
    denoisers=("transformer",),
    blocks="transformer_blocks",
    sites=cosmos_sites(),
    default_site="ffn_in",
    ungated_write=None,
    text_input=BLOCK_TEXT_INPUT,
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=lambda pipe, t: "transformer",
    step=step,
    default_size=default_size,
    variant=variant,
    stand_ins=("safety_checker",),
    check_timesteps=(1.0, -0.5),  # sigma = e^4 (early; sigma_max is 80) and e^-2 (late)
)

# Conditioned on an image or a video (the pipeline's `image` / `video`): pairs carry either, per member.
COSMOS_V2W = replace(
    COSMOS,
    pipelines=("CosmosVideoToWorldPipeline",),
    image_to_video=True,
    video_input=True,
    pairs_label="images, videos (V2W)",
    encode=encode_v2w,
    latents=latents_v2w,
    forward=forward_v2w,
)
