"""Wan 2.2 Animate (diffusers `WanAnimatePipeline`, `WanAnimateTransformer3DModel`).

Its blocks are Wan 2.1 I2V's (weditor/adapters/wan.py: self-attention, the ungated cross-attention
reading text and CLIP image tokens, FFN), so it shares Wan's table, REINS fold and text input.
What it adds is conditioning outside the blocks, none of which weditor edits:

    x_in  = cat[x, reference latents]                  # channel axis: noisy latent | mask + VAE latent
    h     = patch_embedding(x_in); h[frames 1:] += pose_patch_embedding(pose latents)
    for i, block in blocks:  h = block(h, [CLIP image tokens, text])
                             if i % inject_face_latents_blocks == 0: h += face_adapter[i // k](h, face motion)

The latent has one frame more than the video (frame 0 holds the reference image). weditor runs
the pipeline's animation mode, first segment (`segment_frame_length` = the collection's frames,
no previous segment): a pair's image is the character image (pairs without: mid-grey), as CLIP
tokens and as the reference latents; the pose video is black (no skeleton drawn) and the face
video is all -1, which is the face the pipeline's own unconditional (CFG) pass feeds. Replacement
mode (background and mask videos) and later segments are not run.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.wan import WAN, WAN_I2V

BLANK = (0, 0, 0)  # black: -1 after the video processor's normalisation


def encode(pipe, prompts: list[str], device, images=None):
    """Text as Wan; each member's character image as CLIP tokens now, as reference latents once the size is known."""
    import torch

    from weditor.adapters.common import as_images

    cond = WAN.encode(pipe, prompts, device)
    images = as_images(images, len(prompts))
    cond["encoder_hidden_states_image"] = torch.cat([pipe.encode_image(image, device) for image in images])
    cond["_build"] = lambda x: _conditioning(pipe, images, x, device)
    return cond


def _conditioning(pipe, images, x, device) -> dict:
    """The pipeline's first-segment reference latents per member, and its pose latents and face pixels of the
    blank videos, at the size of latent `x` (B, C, 1 + latent frames, h, w)."""
    import torch
    from PIL import Image

    h, w = x.shape[3:]
    height, width = h * pipe.vae_scale_factor_spatial, w * pipe.vae_scale_factor_spatial
    frames = (x.shape[2] - 2) * pipe.vae_scale_factor_temporal + 1
    prev = pipe.prepare_prev_segment_cond_latents(
        None, batch_size=1, segment_frame_length=frames, height=height, width=width, task="animate", device=device
    )
    reference = []
    for image in images:
        pixels = pipe.vae_image_processor.preprocess(image, height=height, width=width, resize_mode="fill")
        ref = pipe.prepare_reference_image_latents(pixels.to(device, torch.float32), 1, device=device)
        reference.append(torch.cat([ref, prev], dim=2))
    pose = [Image.new("RGB", (width, height), BLANK)] * frames
    pose = pipe.video_processor.preprocess_video(pose, height=height, width=width).to(device, torch.float32)
    s = pipe.transformer.config.motion_encoder_size
    face = pipe.video_processor.preprocess_video([Image.new("RGB", (s, s), BLANK)] * frames, height=s, width=s)
    return {
        "reference": torch.cat(reference),
        "pose": pipe.prepare_pose_latents(pose, 1, device=device),
        "face": face.to(device, torch.float32),
    }


def latents(pipe, size: tuple[int, int, int], generator, device):
    """The pipeline's noise for one segment of `frames` frames: one latent frame more (the reference's)."""
    import torch

    height, width, frames = size
    z = pipe.vae.config.z_dim
    return pipe.prepare_latents(1, z, height, width, frames, torch.float32, "cpu", generator).to(device)


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch, sized

    c = sized(cond, x, cond["_build"])
    n, dtype = x.shape[0], model.dtype
    with torch.no_grad():
        return model(
            hidden_states=torch.cat([x, c["reference"].to(x.dtype)], dim=1).to(dtype),
            timestep=batch(t, n),
            encoder_hidden_states=cond["encoder_hidden_states"].to(dtype),
            encoder_hidden_states_image=cond["encoder_hidden_states_image"].to(dtype),
            pose_hidden_states=c["pose"].expand(n, -1, -1, -1, -1).to(dtype),
            face_pixel_values=c["face"].expand(n, -1, -1, -1, -1).to(dtype),
            return_dict=False,
        )[0]


def denoiser_for(pipe, t) -> str:
    return "transformer"


WAN_ANIMATE = replace(
    WAN_I2V,
    pipelines=("WanAnimatePipeline",),
    denoisers=("transformer",),
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
)
