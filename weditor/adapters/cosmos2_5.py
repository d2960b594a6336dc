"""Cosmos 2.5 (diffusers `Cosmos2_5_PredictBasePipeline`; Cosmos-Predict2.5).

The transformer is Cosmos 1's (weditor/adapters/cosmos.py: every write gated, input-side sites only)
with `use_crossattn_projection`: the prompt is Qwen2.5-VL's hidden states, every layer normalised and
concatenated, read by `crossattn_proj` (a linear, then GELU) before any block, so that linear is where
the text methods fold, and UCE's keys and values read its output. The sampler: UniPC on flow sigmas;
the transformer reads the sigma itself (in [0, 1]) as its timestep, one per latent frame, and the
latent unscaled. weditor's schedule therefore carries the scheduler's sigmas as its timesteps
(`set_timesteps`), which the scheduler's step finds its index by, as it does its integer timesteps.

Per member: Text2World without an image or video (no conditioning frame); Image2World with an image (a
one-frame file: the pipeline's `to_tensor`, which it takes from torchvision, done here with numpy, then
zero frames; one conditioning latent frame); Video2World with a video (its last `4 * (2 - 1) + 1 = 5`
frames, padded with the last one, two conditioning latent frames). Conditioning frames at timestep
0.0001; the VAE's mode (`sample_mode="argmax"`). The velocity the pipeline writes over the conditioning
frames is not: the transformer never reads those frames of the latent, and the UniPC update is elementwise.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.cosmos import COSMOS, MAX_TEXT_LENGTH, conditioning_frames
from weditor.errors import WeditorError

CONDITIONAL_FRAME_TIMESTEP = 0.0001  # the pipeline's default timestep of the conditioning frames
LATENT_CONDITIONAL_FRAMES = 2  # its default num_latent_conditional_frames (Video2World)


def encode(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import text_length

    if not pipe.scheduler.config.get("use_flow_sigmas", False):
        raise WeditorError(
            f"scheduler {type(pipe.scheduler).__name__}: weditor runs Cosmos 2.5 with the flow-sigma UniPC "
            "scheduler its checkpoints ship (the transformer reads the sigma as its timestep)"
        )
    length = text_length(pipe, MAX_TEXT_LENGTH)
    embeds, _ = pipe.encode_prompt(
        prompts, do_classifier_free_guidance=False, device=device, max_sequence_length=length
    )
    # The transformer reads every position (no mask); this one says which are the chat turns, not padding, for
    # the methods that pool a prompt's tokens (SAFREE): the pipeline's own conversation, tokenised as it does.
    cond = {"encoder_hidden_states": embeds, "encoder_attention_mask": _template_mask(pipe, prompts, length, device)}
    paths = list(images) if images is not None else [None] * len(prompts)
    cond["_build"] = lambda x: _conditioning(pipe, paths, x, device)
    return cond


def _template_mask(pipe, prompts: list[str], length: int, device):
    """(B, length) bool: the tokens of Cosmos2_5_PredictBasePipeline._get_prompt_embeds' conversation."""
    import torch

    system = "You are a helpful assistant who will provide prompts to an image generator."
    masks = []
    for prompt in prompts:
        conversation = [
            {"role": "system", "content": [{"type": "text", "text": system}]},
            {"role": "user", "content": [{"type": "text", "text": prompt}]},
        ]
        out = pipe.tokenizer.apply_chat_template(
            conversation,
            tokenize=True,
            add_generation_prompt=False,
            add_vision_id=False,
            max_length=length,
            truncation=True,
            padding="max_length",
            return_dict=True,
        )
        masks.append(torch.as_tensor(out["attention_mask"], dtype=torch.bool))
    return torch.stack(masks).to(device)


def _conditioning(pipe, paths, x, device) -> dict:
    """Per member, the pipeline's preparation of its conditioning: Text2World's zeros without one,
    Image2World for an image (a one-frame file), Video2World for a video; stacked on the batch axis."""
    import torch

    f, h, w = x.shape[2:]
    height, width = h * pipe.vae_scale_factor_spatial, w * pipe.vae_scale_factor_spatial
    frames = (f - 1) * pipe.vae_scale_factor_temporal + 1
    zeros = torch.zeros((1, *x.shape[1:]), device=device)
    out = {"clean": [], "mask": [], "indicator": []}
    for path in paths:
        pixels, frames_in = _pixels(pipe, path, height, width, frames)
        if pixels is not None:
            pixels = pixels.to(device, pipe.vae.dtype)
        _, clean, mask, indicator = pipe.prepare_latents(
            pixels, 1, x.shape[1], height, width, frames_in, frames, False, torch.float32, device, None, zeros
        )
        for key, value in (("clean", clean), ("mask", mask), ("indicator", indicator)):
            out[key].append(value)
    return {key: torch.cat(values) for key, values in out.items()}


def _pixels(pipe, path, height: int, width: int, frames: int):
    """(pixels, num_frames_in) as Cosmos2_5_PredictBasePipeline.__call__ makes them from `image` or `video`."""
    import numpy as np
    import torch

    if path is None:
        return None, 0
    clip = conditioning_frames(path, (height, width))
    if len(clip) == 1:  # `image`: torchvision's to_tensor (uint8 RGB -> [0, 1], CHW), then zero frames
        image = torch.from_numpy(np.array(clip[0], dtype=np.uint8)).permute(2, 0, 1).float().div(255).unsqueeze(0)
        video = torch.cat([image, torch.zeros_like(image).repeat(frames - 1, 1, 1, 1)], dim=0).unsqueeze(0)
        return pipe.video_processor.preprocess_video(video, height, width), 1
    pixels = pipe.video_processor.preprocess_video(clip, height, width)
    extract = 4 * (LATENT_CONDITIONAL_FRAMES - 1) + 1
    if pixels.shape[2] < extract:
        raise WeditorError(
            f"{path}: {pixels.shape[2]} frames, but Cosmos 2.5 video-to-world conditions on the last {extract}"
        )
    pixels = pixels[:, :, -extract:]
    if pixels.shape[2] < frames:
        pixels = torch.cat([pixels, pixels[:, :, -1:].repeat(1, 1, frames - pixels.shape[2], 1, 1)], dim=2)
    return pixels, extract


def latents(pipe, size: tuple[int, int, int], generator, device):
    """The pipeline's noise: plain randn of (channels - condition mask, latent frames, h, w)."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    shape = (
        1,
        pipe.transformer.config.in_channels - 1,
        (frames - 1) // pipe.vae_scale_factor_temporal + 1,
        height // pipe.vae_scale_factor_spatial,
        width // pipe.vae_scale_factor_spatial,
    )
    return randn_tensor(shape, generator=generator, dtype=torch.float32).to(device)


def set_timesteps(pipe, scheduler, steps: int, size, device):
    """`scheduler.set_timesteps(steps)` as the pipeline, its sigmas then standing in for its timesteps."""
    scheduler.set_timesteps(steps, device=device)
    scheduler.timesteps = scheduler.sigmas[: len(scheduler.timesteps)].to(device)


def forward(model, x, t, cond):
    """The pipeline's pass at sigma `t`: conditioning frames clean (timestep 0.0001), the rest as is."""
    import torch

    from weditor.adapters.common import sized
    from weditor.adapters.cosmos import _call

    n = x.shape[0]
    c = sized(cond, x, cond["_build"])
    sigma = torch.as_tensor(t, dtype=torch.float32).reshape(-1)[:1].expand(n)
    timestep = c["indicator"] * CONDITIONAL_FRAME_TIMESTEP + (1 - c["indicator"]) * sigma.view(n, 1, 1, 1, 1)
    latent = c["mask"] * c["clean"] + (1 - c["mask"]) * x.expand(n, *x.shape[1:])
    return _call(model, latent, t, cond, fps=None, timestep=timestep, condition_mask=c["mask"].to(model.dtype))


COSMOS2_5 = replace(
    COSMOS,
    family="cosmos2_5",
    pipelines=("Cosmos2_5_PredictBasePipeline",),
    text_input="crossattn_proj.0",
    image_to_video=True,
    video_input=True,
    pairs_label="images, videos (V2W)",
    encode=encode,
    latents=latents,
    forward=forward,
    set_timesteps=set_timesteps,
    step=None,
    check_timesteps=(0.9, 0.3),  # sigmas: the transformer's own timesteps
)
