"""Conditioning videos in pair files (issue 23): read safely, fed to Wan video-to-video as the stock pipeline
feeds them, refused in one line everywhere else."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import TINY_PAIRS, TINY_SIZE, run_cli
from weditor.adapters import adapter_for_class
from weditor.errors import WeditorError
from weditor.io.pair_videos import read_video
from weditor.io.pairs import load_pairs
from weditor.models.runtime import Settings, encode, trajectory

SIZE = (32, 32, 5)
PROMPT = "a red car on a street"


def gif(path, colour, frames=4, size=(40, 36)):
    """An animated GIF: a block of `colour` sliding right, one step a frame."""
    from PIL import Image, ImageDraw

    images = []
    for k in range(frames):
        im = Image.new("RGB", size, (200, 200, 200))
        ImageDraw.Draw(im).rectangle([2 + 5 * k, 6, 16 + 5 * k, 28], fill=colour)
        images.append(im)
    images[0].save(path, save_all=True, append_images=images[1:], duration=100, loop=0)
    return path


def long_gif(path, frames):
    """A 4 x 4 GIF of `frames` frames, each a different grey (GIF writers merge equal frames)."""
    from PIL import Image

    if not path.exists():
        images = [Image.new("RGB", (4, 4), (k % 256, k // 256, 0)) for k in range(frames)]
        images[0].save(path, save_all=True, append_images=images[1:], duration=40)
    return path


def video_pairs(folder, video_line=lambda k: f'video = "clip{k}.gif"'):
    """The tiny "red" pairs, each with a video in the pair file's folder (red blocks)."""
    lines, k = [], 0
    for line in TINY_PAIRS.read_text().splitlines():
        lines.append(line)
        if line.startswith("safe = "):
            gif(folder / f"clip{k}.gif", (220, 30 + 10 * k, 30))
            lines.append(video_line(k))
            k += 1
    path = folder / "red-v2v.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def v2v():
    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES["wan-v2v"]
    pipe = build(**kwargs)
    return pipe, adapter_for_class("WanVideoToVideoPipeline")


def test_read_video_resizes_and_holds_the_last_frame(tmp_path):
    frames = read_video(gif(tmp_path / "v.gif", (255, 0, 0), frames=3), (24, 16, 5))
    assert len(frames) == 5 and all(f.size == (16, 24) and f.mode == "RGB" for f in frames)
    assert frames[3].tobytes() == frames[2].tobytes() == frames[4].tobytes()
    assert frames[0].tobytes() != frames[1].tobytes()


def test_pair_videos_parse(tmp_path):
    ps = load_pairs(video_pairs(tmp_path))
    assert ps.has_videos and not ps.has_images
    assert ps.pairs[0].video == tmp_path / "clip0.gif"
    assert ps.pairs[0].conditioning == (tmp_path / "clip0.gif", tmp_path / "clip0.gif")


def test_the_video_reaches_the_denoiser(v2v, tmp_path):
    """With a video the denoiser's inputs and outputs differ from a run without it, and from another video's."""
    pipe, adapter = v2v
    settings = Settings(size=SIZE, steps=5)
    runs = {}
    for name, video in (
        ("none", None),
        ("red", gif(tmp_path / "r.gif", (220, 30, 30))),
        ("blue", gif(tmp_path / "b.gif", (30, 30, 220))),
    ):
        cond = encode(pipe, adapter, [PROMPT, "a car on a street"], "cpu", [video, video])
        runs[name] = trajectory(pipe, adapter, cond, settings, seed=0)
    assert len(runs["none"]) == 5 and len(runs["red"]) == len(runs["blue"]) == int(5 * adapter.video_strength) == 4
    assert runs["red"][0][1] == runs["none"][1][1]  # the cut schedule starts at the stock pipeline's timestep
    for a, b in (("red", "none"), ("red", "blue")):
        x_a, x_b = runs[a][0][2], runs[b][0][2]
        assert (x_a - x_b).abs().max() > 1e-3, (a, b)
        assert (runs[a][0][3] - runs[b][0][3]).abs().max() > 1e-4, (a, b)


def test_denoiser_inputs_equal_the_stock_pipeline_for_the_same_video(v2v, tmp_path):
    pipe, adapter = v2v
    video = gif(tmp_path / "v.gif", (220, 30, 30))
    steps = 5
    seen = []
    handle = pipe.transformer.register_forward_pre_hook(
        lambda m, args, kwargs: seen.append((kwargs["hidden_states"].clone(), kwargs["timestep"].clone())),
        with_kwargs=True,
    )
    try:
        pipe(
            video=read_video(video, SIZE),
            prompt=PROMPT,
            height=SIZE[0],
            width=SIZE[1],
            num_inference_steps=steps,
            strength=adapter.video_strength,
            guidance_scale=1.0,
            generator=torch.Generator().manual_seed(0),
            output_type="latent",
            max_sequence_length=16,
        )
    finally:
        handle.remove()
    cond = encode(pipe, adapter, [PROMPT], "cpu", [video])
    record = trajectory(pipe, adapter, cond, Settings(size=SIZE, steps=steps), seed=0)
    assert len(record) == len(seen) == 4
    for (_, t, x, _), (x_stock, t_stock) in zip(record, seen):
        assert float(t) == float(t_stock[0])
        assert (x - x_stock).abs().max() <= 1e-5 * x_stock.abs().max(), float((x - x_stock).abs().max())


def test_pairs_with_videos_patch_wan_v2v_and_differ_from_pairs_without(tmp_path):
    """End to end: the CLI patches the tiny V2V model from video pairs; the edit differs from a video-less one's."""
    from safetensors.torch import load_file

    from weditor.testing import save_tiny_pipeline

    model = save_tiny_pipeline("wan-v2v", tmp_path / "model")
    (tmp_path / "p").mkdir()
    pairs = video_pairs(tmp_path / "p")
    outs = {}
    for name, p in (("video", pairs), ("plain", TINY_PAIRS)):
        out = tmp_path / f"out-{name}"
        result = run_cli(
            [
                "patch",
                model,
                "--pairs",
                p,
                "--out",
                out,
                "--size",
                TINY_SIZE,
                "--method",
                "refusal",
                "--reins",
                "--no-summary",
                "--steps",
                "2",
            ]
        )
        assert result.exit_code == 0, result.output
        outs[name] = load_file(next((out / "transformer").glob("*.safetensors")))
    diffs = {k: float((outs["video"][k] - outs["plain"][k]).abs().max()) for k in outs["video"]}
    assert max(diffs.values()) > 1e-6
    # REINS folds into a bias of its layer; its statistics come from the pair runs, which carry the video too
    from weditor.methods.reins import pair_runs

    assert all(
        run.images == (p.video, p.video) for run, p in zip(pair_runs([load_pairs(pairs)]), load_pairs(pairs).pairs)
    )


def test_video_pairs_are_refused_where_no_video_is_fed(tmp_path, tiny_wan_single):
    (tmp_path / "p").mkdir()
    out = tmp_path / "out"
    result = run_cli(
        ["patch", tiny_wan_single, "--pairs", video_pairs(tmp_path / "p"), "--out", out, "--size", TINY_SIZE]
    )
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert (
        len(errors) == 1 and "pairs carry videos, but weditor feeds no conditioning video to WanPipeline" in errors[0]
    )
    assert "Traceback" not in result.output and not out.exists()


@pytest.mark.parametrize(
    "case, message",
    [
        ("dotdot", "is outside the pair file's folder"),
        ("symlink", "is a symbolic link to"),
        ("jpeg", "is a JPEG image; a conditioning video is an animated GIF, PNG (APNG) or WebP"),
        ("truncated", "is not a readable animated image"),
        ("frames", "frames, more than 1024"),
        ("mixed", "some pairs have videos and some do not"),
        ("both", "carries an image and a video"),
        ("per-member", "unknown key 'unsafe_video'"),
    ],
)
def test_hostile_videos_are_refused_in_one_line(tmp_path, case, message):
    from PIL import Image

    folder = tmp_path / "p"
    folder.mkdir()
    secret = gif(tmp_path / "secret.gif", (1, 2, 3))
    line = {
        "dotdot": lambda k: 'video = "../secret.gif"',
        "symlink": lambda k: (
            (folder / "l.gif").unlink(missing_ok=True),
            (folder / "l.gif").symlink_to(secret),
            'video = "l.gif"',
        )[-1],
        "jpeg": lambda k: (Image.new("RGB", (8, 8)).save(folder / "j.jpg"), 'video = "j.jpg"')[-1],
        "truncated": lambda k: ((folder / "t.gif").write_bytes(secret.read_bytes()[:-40]), 'video = "t.gif"')[-1],
        "frames": lambda k: (long_gif(folder / "long.gif", 1030), 'video = "long.gif"')[-1],
        "mixed": lambda k: f'video = "clip{k}.gif"' if k else "",
        "both": lambda k: (Image.new("RGB", (8, 8)).save(folder / "i.png"), f'video = "clip{k}.gif"\nimage = "i.png"')[
            -1
        ],
        "per-member": lambda k: f'unsafe_video = "clip{k}.gif"',
    }[case]
    with pytest.raises(WeditorError) as e:
        load_pairs(video_pairs(folder, line))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_still_image_is_a_one_frame_video(tmp_path):
    """A PNG of one frame is a video that holds still: read_video repeats it for every frame."""
    from PIL import Image

    Image.new("RGB", (8, 8), (9, 8, 7)).save(tmp_path / "s.png")
    ps = load_pairs(video_pairs(tmp_path, lambda k: 'video = "s.png"'))
    frames = read_video(ps.pairs[0].video, SIZE)
    assert len(frames) == SIZE[2] and frames[0].getpixel((0, 0)) == (9, 8, 7)


def test_vace_takes_the_video_as_its_control_video_as_the_stock_pipeline_does(tmp_path):
    """WanVACEPipeline(video=...) and the adapter's trajectory give the denoiser the same latents and control
    latents; the control differs from the no-video one, and so do the predictions."""
    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES["wan-vace"]
    pipe, adapter = build(**kwargs), adapter_for_class("WanVACEPipeline")
    video, steps = gif(tmp_path / "v.gif", (220, 30, 30)), 3
    seen = []
    handle = pipe.transformer.register_forward_pre_hook(
        lambda m, args, kw: seen.append((kw["hidden_states"].clone(), kw["control_hidden_states"].clone())),
        with_kwargs=True,
    )
    try:
        pipe(
            video=read_video(video, SIZE),
            prompt=PROMPT,
            height=SIZE[0],
            width=SIZE[1],
            num_frames=SIZE[2],
            num_inference_steps=steps,
            guidance_scale=1.0,
            generator=torch.Generator().manual_seed(0),
            output_type="latent",
            max_sequence_length=16,
        )
    finally:
        handle.remove()
    controls = []
    hook = pipe.transformer.register_forward_pre_hook(
        lambda m, args, kw: controls.append(kw["control_hidden_states"].clone()), with_kwargs=True
    )
    try:
        record = trajectory(
            pipe, adapter, encode(pipe, adapter, [PROMPT], "cpu", [video]), Settings(size=SIZE, steps=steps), 0
        )
        plain = trajectory(
            pipe, adapter, encode(pipe, adapter, [PROMPT], "cpu", [None]), Settings(size=SIZE, steps=steps), 0
        )
    finally:
        hook.remove()
    assert len(record) == len(seen) == steps
    for (_, _, x, _), control, (x_stock, control_stock) in zip(record, controls, seen):
        assert (x - x_stock).abs().max() <= 1e-5 * x_stock.abs().max()
        assert (control - control_stock).abs().max() <= 1e-6 * control_stock.abs().max()
    assert (controls[0] - controls[steps]).abs().max() > 1e-3  # with vs without the video
    assert (record[0][3] - plain[0][3]).abs().max() > 1e-4


def test_cogvideox_fun_control_takes_the_video_as_its_control_video_as_the_stock_pipeline_does(tmp_path):
    """CogVideoXFunControlPipeline(control_video=...) and the adapter's trajectory give the denoiser the same
    input (latent and control latents on the channel axis) and predictions; another control changes them."""
    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES["cogvideox-fun-control"]
    pipe, adapter = build(**kwargs), adapter_for_class("CogVideoXFunControlPipeline")
    size, steps = (32, 32, 9), 2
    video = gif(tmp_path / "v.gif", (220, 30, 30), frames=6)
    seen = []

    def keep(m, args, kw, out):
        seen.append((kw["hidden_states"].clone(), out[0].clone()))

    handle = pipe.transformer.register_forward_hook(keep, with_kwargs=True)
    try:
        pipe(
            control_video=read_video(video, size),
            prompt=PROMPT,
            height=size[0],
            width=size[1],
            num_inference_steps=steps,
            guidance_scale=1.0,
            generator=torch.Generator().manual_seed(0),
            output_type="latent",
            max_sequence_length=16,
        )
        stock = seen[:]
        seen.clear()
        settings = Settings(size=size, steps=steps)
        forced = [(None, None, x[:, :, : x.shape[2] // 2], None) for x, _ in stock]
        record = trajectory(pipe, adapter, encode(pipe, adapter, [PROMPT], "cpu", [video]), settings, 0, forced=forced)
        ours = seen[:]
        seen.clear()
        plain = trajectory(pipe, adapter, encode(pipe, adapter, [PROMPT], "cpu", [None]), settings, 0, forced=forced)
    finally:
        handle.remove()
    assert len(record) == len(stock) == len(ours) == steps
    for (x, _), (x_stock, pred_stock), (_, _, _, pred) in zip(ours, stock, record):
        assert (x - x_stock).abs().max() <= 1e-6 * x_stock.abs().max()  # latent and control latents
        assert (pred - pred_stock).abs().max() <= 1e-5 * pred_stock.abs().max()
    assert (ours[0][0] - seen[0][0]).abs().max() > 1e-3  # the video's control vs the mid-grey one
    assert (record[0][3] - plain[0][3]).abs().max() > 1e-4


def test_video_pairs_default_to_the_block_edit_and_skip_the_prompt_only_methods(tmp_path):
    """The concept may be in the video, which prompt embeddings never see: as for images, the default is
    `refusal`, and the search does not offer `text` or `uce`."""
    from weditor.pipeline.candidates import SPACES
    from weditor.pipeline.config import PatchConfig

    ps = load_pairs(video_pairs(tmp_path))
    cfg = PatchConfig(pairs=[str(ps.path)], out=str(tmp_path / "o"))
    cfg.resolve_method([ps])
    assert cfg.method == "refusal"
    adapter = adapter_for_class("WanVideoToVideoPipeline")
    plain = load_pairs(TINY_PAIRS)
    assert SPACES["text"].applies(adapter, [plain]) and not SPACES["text"].applies(adapter, [ps])
    assert SPACES["uce"].applies(adapter, [plain]) and not SPACES["uce"].applies(adapter, [ps])
