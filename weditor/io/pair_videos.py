"""Conditioning videos in pair files: checked like images, decoded with PIL, refused where no family feeds them.

A video-to-video pipeline starts its denoiser from a noised input video. A pair file names that
video with `video = "clip.gif"`, one per pair, shared by both members: collection runs a pair's two
prompts as one batch on *one* shared latent (weditor/models/runtime.py), so two different videos for
the two members could not both reach the denoiser; `unsafe_video` / `safe_video` are therefore
not keys.

No video decoder is a dependency of weditor (imageio-ffmpeg is an optional extra), so a video is
an animated image PIL reads frame by frame: GIF, APNG or animated WebP. A pair file is often
someone else's, so a video is confined to the pair file's folder like an image, and its bytes,
frame count and pixels are capped before anything is decoded in full.

Which families take a video (`Adapter.video_input`) is in docs/adapters.md ("Conditioning per
family"); for every other family a pair file with videos is refused in one line before any
weights are read.
"""

from __future__ import annotations

import math
from pathlib import Path

from weditor.errors import WeditorError

MAX_VIDEO_BYTES = 256 << 20
MAX_VIDEO_FRAMES = 1024  # as --size's frame limit
MAX_FRAME_PIXELS = 64_000_000  # as an image's
FORMATS = {"GIF", "PNG", "WEBP"}  # PIL formats that hold several frames


def check_video(path: Path, where: str) -> None:
    """One WeditorError unless `path` (a regular file, already confined) is an animated image within the caps."""
    size = path.stat().st_size
    if size > MAX_VIDEO_BYTES:
        raise WeditorError(
            f"{where}: video file {path} is {size / (1 << 20):.0f} MiB; at most {MAX_VIDEO_BYTES >> 20} MiB"
        )
    try:
        from PIL import Image

        with Image.open(path) as im:
            if im.format not in FORMATS:
                raise WeditorError(
                    f"{where}: video file {path} is a {im.format} image; a conditioning video is an "
                    "animated GIF, PNG (APNG) or WebP (weditor reads videos with PIL)"
                )
            if im.width * im.height > MAX_FRAME_PIXELS:
                raise ValueError(f"{im.width}x{im.height} pixels a frame, more than {MAX_FRAME_PIXELS:,}")
            frames = getattr(im, "n_frames", 1)
            if frames > MAX_VIDEO_FRAMES:
                raise ValueError(f"{frames} frames, more than {MAX_VIDEO_FRAMES}")
            for i in range(frames):  # every frame decodes: a truncated file fails here, not mid-collection
                im.seek(i)
                im.load()
    except WeditorError:
        raise
    except Exception as e:  # any decoder failure means the same thing to the user
        raise WeditorError(f"{where}: video file {path} is not a readable animated image ({e})") from None


def read_video(path: Path, size: tuple[int, int, int]) -> list:
    """The first `frames` frames of `path` as RGB PIL images of `width` x `height` (`size` = height, width, frames).

    A video shorter than the collection repeats its last frame, as a still continues; a longer one
    is cut. Frames are resized (not cropped) to the collection size, as diffusers' video processor
    resizes a video passed to a pipeline.
    """
    from PIL import Image

    height, width, frames = size
    out = []
    with Image.open(path) as im:
        for i in range(min(frames, getattr(im, "n_frames", 1))):
            im.seek(i)
            out.append(im.convert("RGB").resize((width, height), Image.Resampling.BICUBIC))
    out += [out[-1]] * (frames - len(out))
    return out


def check_videos_accepted(pairsets, adapter, pipeline_class: str) -> None:
    """Pair files with videos only for a family that feeds them to its denoiser; one WeditorError otherwise."""
    with_video = [ps for ps in pairsets if ps.has_videos]
    if with_video and not getattr(adapter, "video_input", False):
        raise WeditorError(
            f"{with_video[0].path}: pairs carry videos, but weditor feeds no conditioning video to "
            f"{pipeline_class}'s denoiser (see docs/adapters.md, 'Conditioning per family')"
        )


def video_start(pipe, adapter, scheduler, video: Path, generator, size, device):
    """(first latent, timesteps) of a video-to-video run on `video` at the adapter's `video_strength`.

    As the stock pipelines do (get_timesteps / prepare_latents of WanVideoToVideoPipeline,
    CogVideoXVideoToVideoPipeline, VideoToVideoSDPipeline): the schedule keeps its last
    `int(steps * strength)` timesteps and starts there (`set_begin_index`, where the scheduler has
    it); the video is encoded first, with the seed's generator (`adapter.video_latents`: a VAE
    sample draws from it, Wan's argmax does not), and the noise is drawn after, from the same
    generator (`adapter.video_noise`, else the adapter's own noise), then added at the first kept
    timestep. Where the encoding draws nothing (Wan), the noise is the one a text-to-video run
    starts from, so with and without a video the runs differ by the video alone; where it samples
    (CogVideoX, ZeroScope), the noise differs too, as it does in the stock pipeline.
    """
    import torch

    steps = len(scheduler.timesteps) // scheduler.order
    keep = min(int(steps * adapter.video_strength), steps)
    start = (steps - keep) * scheduler.order
    timesteps = scheduler.timesteps[start:]
    if len(timesteps) == 0:
        raise WeditorError(
            f"--steps {steps} at video strength {adapter.video_strength} leaves no denoising step; "
            f"use at least {math.ceil(1 / adapter.video_strength)} steps"
        )
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(start)
    with torch.no_grad():  # the VAE's encoder: no graph kept on the latents
        clean = adapter.video_latents(pipe, read_video(video, size), size, device, generator=generator)
    if adapter.video_noise is not None:
        noise = adapter.video_noise(pipe, clean, generator).to(device)
    else:
        noise = adapter.latents(pipe, size, generator, device)
    clean, t0 = clean.to(noise.dtype), timesteps[:1]
    if hasattr(scheduler, "add_noise"):
        return scheduler.add_noise(clean, noise, t0), timesteps
    return scheduler.scale_noise(clean, t0, noise), timesteps
