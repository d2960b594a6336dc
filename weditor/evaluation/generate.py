"""Side-by-side generation with the stock pipeline, cached on disk, and frame grids.

Every video is keyed by the model's fingerprint, the prompt, the seed and the sampling
settings; its frames are kept as `<key>.npy` (uint8, what scorers read) next to a viewable
GIF or MP4 and a small `.json` (prompt, seed, seconds it took). A second run with the same
models and settings finds every file and generates nothing; an interrupted run resumes where
it stopped (files are written under a temporary name and renamed).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from weditor.errors import WeditorError

FPS = 8
VIDEO_FORMATS = ("auto", "mp4", "gif")


@dataclass(frozen=True)
class GenSettings:
    height: int
    width: int
    frames: int
    steps: int
    guidance: float
    dtype: str | None = None
    negative_prompt: str = ""
    max_sequence_length: int | None = None  # None: what the adapter says for the pipeline


@dataclass(frozen=True)
class Job:
    group: str  # eval, eval_synonyms, neutral, custom
    prompt: str
    seed: int


# --------------------------------------------------------------------------- keys and files


def fingerprint(folder: str | Path) -> str:
    """What identifies a model folder's weights, cheaply.

    A patched folder's recipe lists the SHA-256 of every file: that is its identity (the model
    card and weditor's own files excluded, they do not change the weights). Other folders are
    identified by path, size and modification time of their weight and config files.
    """
    folder = Path(folder).resolve()
    recipe = folder / "weditor.json"
    h = hashlib.sha256()
    if recipe.is_file():
        try:
            files = json.loads(recipe.read_text(encoding="utf-8")).get("files") or {}
        except (OSError, ValueError):
            files = {}
        if files:
            for rel in sorted(files):
                if rel != "README.md" and not rel.startswith("weditor/"):
                    h.update(f"{rel}\0{files[rel]}\n".encode())
            return "recipe:" + h.hexdigest()
    for root, _, names in sorted(os.walk(folder)):
        for name in sorted(names):
            if name.endswith((".safetensors", ".json", ".bin", ".model", ".txt")):
                p = Path(root) / name
                st = p.stat()
                h.update(f"{p.relative_to(folder).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return "stat:" + h.hexdigest()


def video_key(model_fp: str, job: Job, settings: GenSettings) -> str:
    payload = json.dumps(
        {"model": model_fp, "prompt": job.prompt, "seed": job.seed, "settings": asdict(settings)}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def slug(text: str, n: int = 40) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:n].rstrip("-") or "prompt"


def stem(job: Job, key: str) -> str:
    return f"{slug(job.prompt)}_s{job.seed}_{key[:8]}"


def resolve_format(fmt: str) -> str:
    if fmt not in VIDEO_FORMATS:
        raise WeditorError(f"--video-format {fmt}: choose from {', '.join(VIDEO_FORMATS)}")
    if fmt == "gif":
        return "gif"
    have = _have_mp4()
    if fmt == "mp4" and not have:
        raise WeditorError(
            "--video-format mp4: needs imageio and imageio-ffmpeg (pip install 'weditor[video]'); or use gif"
        )
    return "mp4" if have else "gif"


def _have_mp4() -> bool:
    try:
        import imageio  # noqa: F401
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False
    return True


def _atomic(path: Path, write):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _save_npy(path: Path, frames: np.ndarray):
    with open(path, "wb") as f:  # a file object: np.save would append ".npy" to a temporary name
        np.save(f, frames)


def to_uint8(video: np.ndarray) -> np.ndarray:
    v = np.asarray(video, dtype=np.float32)
    return (np.clip(v, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def write_gif(path: Path, frames: np.ndarray, fps: int = FPS):
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    # PIL writes to a file object here, so the temporary name may keep any suffix.
    with open(path, "wb") as f:
        images[0].save(f, format="GIF", save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)


def write_mp4(path: Path, frames: np.ndarray, fps: int = FPS):
    import imageio.v2 as imageio

    f, h, w, c = frames.shape
    pad = ((0, 0), (0, (-h) % 2), (0, (-w) % 2), (0, 0))  # yuv420p wants even sizes
    frames = np.pad(frames, pad, mode="edge")
    with imageio.get_writer(
        path,
        format="FFMPEG",
        mode="I",
        fps=fps,
        codec="libx264",
        macro_block_size=1,
        pixelformat="yuv420p",
        ffmpeg_log_level="error",
        output_params=["-crf", "18"],
    ) as writer:
        for frame in frames:
            writer.append_data(frame)


def write_viewable(path: Path, frames: np.ndarray, fmt: str):
    if fmt == "mp4":
        tmp_suffix_path = path.with_name(f".{path.stem}.{os.getpid()}.tmp.mp4")  # ffmpeg picks the muxer by suffix
        try:
            write_mp4(tmp_suffix_path, frames)
            os.replace(tmp_suffix_path, path)
        finally:
            if tmp_suffix_path.exists():
                tmp_suffix_path.unlink()
    else:
        _atomic(path, lambda p: write_gif(p, frames))


# --------------------------------------------------------------------------- generation


@dataclass
class Video:
    job: Job
    role: str  # base / patched
    key: str
    npy: Path
    view: Path
    seconds: float | None  # generation time, as recorded when it was made
    generated: bool  # made by this run

    def frames(self) -> np.ndarray:
        return np.load(self.npy)

    def as_float(self) -> np.ndarray:
        return self.frames().astype(np.float32) / 255.0


def call_kwargs(pipe, adapter, settings: GenSettings) -> dict:
    kwargs = dict(
        height=settings.height,
        width=settings.width,
        num_frames=settings.frames,
        num_inference_steps=settings.steps,
        guidance_scale=settings.guidance,
        output_type="np",
    )
    if settings.negative_prompt:
        kwargs["negative_prompt"] = settings.negative_prompt
    length = settings.max_sequence_length or text_length(pipe, adapter)
    if length is not None:
        kwargs["max_sequence_length"] = length
    return kwargs


# Pipelines whose guidance scale is fed to the denoiser (guidance-distilled), not used for CFG.
EMBEDDED_GUIDANCE = {"hunyuanvideo"}


def uses_cfg(adapter, guidance: float) -> bool:
    """Whether the stock pipeline runs a second, unconditional pass per step at this guidance."""
    return guidance > 1.0 and adapter.family not in EMBEDDED_GUIDANCE


def text_length(pipe, adapter) -> int | None:
    """The `max_sequence_length` the adapter encodes with, so generation sees the same text tokens."""
    family = adapter.family
    if family == "wan":
        from weditor.adapters.wan import text_length as wan_length

        return wan_length(pipe)
    caps = {"ltx": 128, "hunyuanvideo": 256}
    if family == "cogvideox":
        from weditor.adapters.cogvideox import text_length as cog_length

        return cog_length(pipe)
    if family in caps:
        from weditor.adapters.common import text_length as capped

        return capped(pipe, caps[family])
    return None  # e.g. TextToVideoSDPipeline: no such argument


def generate_one(pipe, adapter, job: Job, settings: GenSettings, device: str) -> tuple[np.ndarray, float]:
    """One video from the stock `__call__`: (F, H, W, 3) uint8 and the seconds it took."""
    import torch

    generator = torch.Generator("cpu").manual_seed(job.seed)
    t0 = time.perf_counter()
    with torch.no_grad():
        out = pipe(prompt=[job.prompt], generator=[generator], **call_kwargs(pipe, adapter, settings))
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    frames = np.asarray(out.frames)[0]
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise WeditorError(f"{type(pipe).__name__} returned frames of shape {frames.shape}, expected (F, H, W, 3)")
    if not np.isfinite(frames).all():
        raise WeditorError(f"the generated video for {job.prompt!r} has NaN/Inf values; try --dtype float32")
    return to_uint8(frames), seconds


def ensure_videos(
    pipe,
    adapter,
    role: str,
    model_fp: str,
    jobs: list[Job],
    settings: GenSettings,
    out_dir: Path,
    fmt: str,
    device: str,
    progress=None,
) -> list[Video]:
    """Generate the videos of `jobs` that are not on disk yet; return all of them."""
    folder = out_dir / "videos" / role
    folder.mkdir(parents=True, exist_ok=True)
    ext = "mp4" if fmt == "mp4" else "gif"
    videos = []
    todo = []
    for job in jobs:
        key = video_key(model_fp, job, settings)
        base = folder / stem(job, key)
        v = Video(job, role, key, base.with_suffix(".npy"), base.with_suffix(f".{ext}"), None, False)
        videos.append(v)
        if v.npy.is_file():
            try:
                v.seconds = json.loads(base.with_suffix(".json").read_text(encoding="utf-8")).get("seconds")
            except (OSError, ValueError):
                pass
        else:
            todo.append(v)
    bar = progress(todo, len(todo), f"generate {role}") if progress and todo else todo
    for v in bar:
        frames, seconds = generate_one(pipe, adapter, v.job, settings, device)
        meta = {
            "prompt": v.job.prompt,
            "seed": v.job.seed,
            "group": v.job.group,
            "role": role,
            "seconds": seconds,
            "settings": asdict(settings),
            "model": model_fp,
        }
        _atomic(v.npy.with_suffix(".json"), lambda p: p.write_text(json.dumps(meta, indent=1), encoding="utf-8"))
        _atomic(v.npy, lambda p: _save_npy(p, frames))
        v.seconds, v.generated = seconds, True
    for v in videos:  # the viewable copy is cheap to (re)make from the frames
        if not v.view.is_file():
            write_viewable(v.view, v.frames(), fmt)
    return videos


# --------------------------------------------------------------------------- grids


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _wrap(draw, text: str, font, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return lines + ([line] if line else [])


def frame_indices(n: int, k: int) -> list[int]:
    k = min(k, n)
    return sorted({round(i * (n - 1) / max(k - 1, 1)) for i in range(k)})


def grid(
    rows: list[tuple[str, np.ndarray, np.ndarray]],
    path: Path,
    frames_per_side: int = 4,
    cell: int | None = None,
    title: str = "",
) -> Path:
    """A PNG: one row per prompt, `frames_per_side` frames of the base, then of the patched video."""
    from PIL import Image, ImageDraw

    if not rows:
        raise ValueError("no rows")
    h, w = rows[0][1].shape[1:3]
    scale = max(1, -(-96 // max(h, w))) if cell is None else max(1, cell // max(h, w))
    ch, cw = h * scale, w * scale
    idx = frame_indices(rows[0][1].shape[0], frames_per_side)
    k = len(idx)
    pad, gap, label_w = 4, 16, 220
    font = _font(13)
    header = 24 + (20 if title else 0)
    row_h = ch + pad
    width = label_w + 2 * k * (cw + pad) + gap + pad
    height = header + len(rows) * row_h + pad
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    y0 = 4
    if title:
        draw.text((pad, y0), title, fill=(0, 0, 0), font=_font(15))
        y0 += 20
    x_base = label_w
    x_patched = label_w + k * (cw + pad) + gap
    draw.text((x_base, y0), "base", fill=(0, 0, 0), font=font)
    draw.text((x_patched, y0), "patched", fill=(160, 0, 0), font=font)
    for r, (label, before, after) in enumerate(rows):
        y = header + r * row_h
        for j, line in enumerate(_wrap(draw, label, font, label_w - 2 * pad)[: max(1, ch // 15)]):
            draw.text((pad, y + j * 15), line, fill=(0, 0, 0), font=font)
        for x0, video in ((x_base, before), (x_patched, after)):
            for i, f in enumerate(idx):
                tile = Image.fromarray(video[f]).resize((cw, ch), Image.NEAREST if scale > 1 else Image.BILINEAR)
                img.paste(tile, (x0 + i * (cw + pad), y))
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic(path, lambda p: img.save(p, format="PNG"))
    return path
