"""AnimateDiff with a control net (diffusers `AnimateDiffControlNetPipeline`, and its video-to-video variant).

The motion-adapter UNet is AnimateDiff's (weditor/adapters/animatediff.py: UNet3D's table, edited as
there). Its loop first runs a `ControlNetModel` on every frame (frames folded into the batch), which
reads the noisy latent, the control frame and the prompt, and adds its residuals to the UNet's skip
connections (`down_block_additional_residuals`, `mid_block_additional_residual`); the adapter's forward
does the same, at the pipeline's defaults (`controlnet_conditioning_scale=1`, the whole schedule,
`guess_mode` from the control net's `global_pool_conditions`).

A pair's `video` is the control video (`conditioning_frames`: pose, depth, edges...), read at the
collection size and prepared by the pipeline's own `prepare_video`. The pipeline has no control-free
mode, so pairs without a video get a still mid-grey control video, as CogVideoX-Fun control does.

The control net is not edited, and it reads the prompt through its own cross-attention: a fold into
the UNet's `attn2.to_k` / `to_v` would not act on that path, so the text methods (`--method text`,
`safree`, `uce`) are refused (`text_input` None); the block edits and REINS act on the UNet as on
AnimateDiff. Several control nets (`MultiControlNetModel`) would need several control videos per pair:
refused in one line.

`AnimateDiffVideoToVideoControlNetPipeline` takes an input video *and* control frames; a pair carries
one video, which is the input video (started as AnimateDiff video-to-video starts, weditor/adapters/
animatediff.py), and the control frames are the still mid-grey video (pairs without a video: from
noise, strength 1, mid-grey control).

`AnimateDiffSparseControlNetPipeline` runs a `SparseControlNetModel` (its own motion modules) on the whole
video: conditioning frames at `controlnet_frame_indices` and a mask of them. weditor gives it one frame at
index 0 (the default indices): a pair's image per member (else mid-grey), as an image-to-video class. Its
RGB ("simplified") embedding takes the frame's VAE latent, at the posterior's mode.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters import animatediff, pixart
from weditor.errors import WeditorError


def encode(pipe, prompts: list[str], device, images=None, video_is_control: bool = True):
    from diffusers import ControlNetModel

    if not isinstance(pipe.controlnet, ControlNetModel):
        raise WeditorError(
            f"{type(pipe).__name__} with {type(pipe.controlnet).__name__}: several control nets take several "
            "control videos, and a pair carries one; weditor supports one ControlNetModel"
        )
    cond = animatediff.encode(pipe, prompts, device)
    # A pair's video (weditor.models.runtime.encode sets cond["_video"] after this returns) is the control video.
    cond["_build"] = lambda x: {"control": _control(pipe, x, device, cond.get("_video") if video_is_control else None)}
    cond["_controlnet"] = pipe.controlnet
    return cond


def _control(pipe, x, device, video_path=None):
    """The pipeline's `prepare_video` of the control frames (the pair's video, else mid-grey) for latent `x`."""
    from PIL import Image

    from weditor.adapters.common import GREY
    from weditor.io.pair_videos import read_video

    frames, h, w = x.shape[2:]
    height, width = h * pipe.vae_scale_factor, w * pipe.vae_scale_factor
    size = (height, width, frames)
    video = [Image.new("RGB", (width, height), GREY)] * frames if video_path is None else read_video(video_path, size)
    net = pipe.controlnet
    guess = bool(net.config.global_pool_conditions)
    prepare = getattr(pipe, "prepare_video", None) or pipe.prepare_conditioning_frames  # the V2V pipeline's name
    return prepare(video, width, height, frames, 1, device, net.dtype, False, guess)


def encode_v2v(pipe, prompts: list[str], device, images=None):
    """The pair's video is the input video (cond["_video"], read by the V2V start), the control mid-grey."""
    return encode(pipe, prompts, device, video_is_control=False)


# --------------------------------------------------------------------------- sparse control


def encode_sparse(pipe, prompts: list[str], device, images=None):
    """A pair's image per member (else mid-grey) is the one conditioning frame, at index 0."""
    from weditor.adapters.common import as_images

    cond = animatediff.encode(pipe, prompts, device)
    images = as_images(images, len(prompts))
    cond["_build"] = lambda x: _sparse_control(pipe, images, x, device)
    cond["_controlnet"] = pipe.controlnet
    return cond


def _sparse_control(pipe, images, x, device) -> dict:
    """`prepare_image` and `prepare_sparse_control_conditioning` for one frame at index 0, per member; the
    simplified (RGB) embedding's VAE latent at the posterior's mode (the stock pipeline samples it, no generator)."""
    import torch
    from diffusers.pipelines.animatediff.pipeline_animatediff_video2video import retrieve_latents

    frames, h, w = x.shape[2:]
    net = pipe.controlnet
    conds, masks = [], []
    for image in images:
        height, width = h * pipe.vae_scale_factor, w * pipe.vae_scale_factor
        pixels = pipe.control_image_processor.preprocess([image], height=height, width=width)
        pixels = pixels.unsqueeze(0).to(device, net.dtype)  # (1, frames, 3, H, W), as prepare_image makes it
        if net.use_simplified_condition_embedding:
            # the stock reshape, kept: the strides it leaves pick the VAE's convolutions, and on a flat image
            # GroupNorm magnifies their rounding to 1e-4
            pixels = 2 * pixels.reshape(-1, *pixels.shape[2:]) - 1
            with torch.no_grad():
                pixels = retrieve_latents(pipe.vae.encode(pixels), sample_mode="argmax").unsqueeze(0)
            pixels = pixels * pipe.vae.config.scaling_factor
        pixels = pixels.permute(0, 2, 1, 3, 4)  # (1, C, frames, H', W')
        c, m = pipe.prepare_sparse_control_conditioning(pixels, frames, [0], device, net.dtype)
        conds.append(c)
        masks.append(m)
    return {"control": torch.cat(conds), "mask": torch.cat(masks)}


def forward(model, x, t, cond):
    """The control net (every frame of every member; sparse: the whole video), its residuals into the UNet's call."""
    import torch

    from weditor.adapters.common import batch, sized

    net, control = cond["_controlnet"], sized(cond, x, cond["_build"])
    n, c, frames, h, w = x.shape
    inp = pixart.scaled(cond, x, t)
    text = cond["encoder_hidden_states"].repeat_interleave(frames, dim=0)
    if "mask" in control:  # SparseControlNetModel: the 5-D latent, the conditioning frames and their mask
        net_in, extra = inp, {"controlnet_cond": control["control"], "conditioning_mask": control["mask"]}
    else:  # member-major, as the loop folds its batch
        net_in = inp.transpose(1, 2).reshape(n * frames, c, h, w)
        extra = {"controlnet_cond": control["control"].repeat(n, 1, 1, 1)}
    with torch.no_grad():
        down, mid = net(
            net_in.to(net.dtype),
            t,
            encoder_hidden_states=text.to(net.dtype),
            conditioning_scale=1.0,
            guess_mode=bool(net.config.global_pool_conditions),
            return_dict=False,
            **extra,
        )
        return model(
            inp.to(model.dtype),
            batch(t, n),
            encoder_hidden_states=text.to(model.dtype),
            down_block_additional_residuals=[d.to(model.dtype) for d in down],
            mid_block_additional_residual=mid.to(model.dtype),
            return_dict=False,
        )[0]


# A pair's `video` is the control video; without one, a still mid-grey control video.
ANIMATEDIFF_CONTROLNET = replace(
    animatediff.ANIMATEDIFF,
    pipelines=("AnimateDiffControlNetPipeline",),
    text_input=None,
    video_input=True,
    encode=encode,
    forward=forward,
)

# A pair's `video` is the input video (as AnimateDiff V2V's, strength 0.8), the control frames a still mid-grey
# video: a pair carries one video, and the pipeline has no control-free mode.
ANIMATEDIFF_V2V_CONTROLNET = replace(
    ANIMATEDIFF_CONTROLNET,
    pipelines=("AnimateDiffVideoToVideoControlNetPipeline",),
    encode=encode_v2v,
    latents=animatediff.latents_v2v,
    video_latents=animatediff.video_latents_v2v,
    video_strength=0.8,
)

# A pair's image is the sparse control's one conditioning frame (index 0); without one, mid-grey.
ANIMATEDIFF_SPARSE_CONTROLNET = replace(
    ANIMATEDIFF_CONTROLNET,
    pipelines=("AnimateDiffSparseControlNetPipeline",),
    video_input=False,
    image_to_video=True,
    encode=encode_sparse,
)

ADAPTERS = (ANIMATEDIFF_CONTROLNET, ANIMATEDIFF_V2V_CONTROLNET, ANIMATEDIFF_SPARSE_CONTROLNET)
