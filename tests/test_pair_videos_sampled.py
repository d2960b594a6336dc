"""Video pairs on the video-to-video pipelines whose VAE *samples* the input video (issue 23):
CogVideoXVideoToVideoPipeline and ZeroScope's VideoToVideoSDPipeline draw the VAE sample from the
generator before the noise, and collection draws in the same order, so a pair's `video` starts the
denoiser where `pipe(video=..., prompt=...)` starts it, step for step."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_pair_videos import PROMPT, gif, video_pairs
from weditor.adapters import adapter_for_class
from weditor.io.pair_videos import read_video
from weditor.models.runtime import Settings, encode, trajectory

# tiny pipeline, class, collection size (height, width, frames), CLI extras
CASES = {
    "cogvideox-v2v": ("CogVideoXVideoToVideoPipeline", (32, 32, 9), ["--layers", "1-2"]),
    "zeroscope-v2v": ("VideoToVideoSDPipeline", (16, 16, 4), ["--reins"]),
}
STEPS = 5


@pytest.fixture(scope="module", params=sorted(CASES))
def v2v(request):
    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES[request.param]
    cls, size, _ = CASES[request.param]
    return build(**kwargs), adapter_for_class(cls), size


def stock_run(pipe, adapter, video, size):
    """(denoiser input, prediction) at every step of the stock pipeline on `video`, at the adapter's strength."""
    seen = []
    model = getattr(pipe, adapter.denoisers[0])
    handle = model.register_forward_hook(
        lambda m, args, kw, out: seen.append((kw.get("hidden_states", args[0] if args else None), out[0])),
        with_kwargs=True,
    )
    sized = {} if type(pipe).__name__ == "VideoToVideoSDPipeline" else dict(height=size[0], width=size[1])
    extra = {} if type(pipe).__name__ == "VideoToVideoSDPipeline" else dict(max_sequence_length=16)
    try:
        pipe(
            video=read_video(video, size),
            prompt=PROMPT,
            num_inference_steps=STEPS,
            strength=adapter.video_strength,
            guidance_scale=1.0,
            generator=torch.Generator().manual_seed(0),
            output_type="latent",
            **sized,
            **extra,
        )
    finally:
        handle.remove()
    return seen


def test_denoiser_calls_equal_the_stock_pipeline_for_the_same_video(v2v, tmp_path):
    """Same first latent (VAE sample, then noise, from one generator), same cut schedule, same predictions."""
    pipe, adapter, size = v2v
    video = gif(tmp_path / "v.gif", (220, 30, 30), frames=6)
    stock = stock_run(pipe, adapter, video, size)
    record = trajectory(pipe, adapter, encode(pipe, adapter, [PROMPT], "cpu", [video]), Settings(size, STEPS), 0)
    assert len(record) == len(stock) == int(STEPS * adapter.video_strength)
    for (_, t, x, pred), (x_stock, pred_stock) in zip(record, stock):
        assert x.shape == x_stock.shape
        assert (x - x_stock).abs().max() <= 1e-5 * x_stock.abs().max(), (float(t), float((x - x_stock).abs().max()))
        assert (pred - pred_stock).abs().max() <= 1e-5 * pred_stock.abs().max(), float(t)


def test_the_draw_order_is_what_makes_them_equal(v2v, tmp_path):
    """An encoding that draws nothing from the run's generator (Wan's argmax order) starts elsewhere: the
    equality above tests the stock order, not a coincidence."""
    pipe, adapter, size = v2v
    video = gif(tmp_path / "v.gif", (220, 30, 30), frames=6)
    x_stock = stock_run(pipe, adapter, video, size)[0][0]
    encode_aside = replace(
        adapter,
        video_latents=lambda p, f, s, d, generator=None: adapter.video_latents(
            p, f, s, d, generator=torch.Generator().manual_seed(0)
        ),
    )
    cond = encode(pipe, encode_aside, [PROMPT], "cpu", [video])
    x = trajectory(pipe, encode_aside, cond, Settings(size, STEPS), 0)[0][2]
    assert (x - x_stock).abs().max() > 1e-2 * x_stock.abs().max()


def test_the_video_reaches_the_denoiser(v2v, tmp_path):
    pipe, adapter, size = v2v
    runs = {}
    for name, video in (
        ("none", None),
        ("red", gif(tmp_path / "r.gif", (220, 30, 30))),
        ("blue", gif(tmp_path / "b.gif", (30, 30, 220))),
    ):
        cond = encode(pipe, adapter, [PROMPT, "a car on a street"], "cpu", [video, video])
        runs[name] = trajectory(pipe, adapter, cond, Settings(size, STEPS), seed=0)
    assert len(runs["none"]) == STEPS and len(runs["red"]) == len(runs["blue"]) == int(STEPS * adapter.video_strength)
    for a, b in (("red", "none"), ("red", "blue")):
        assert (runs[a][0][2] - runs[b][0][2]).abs().max() > 1e-3, (a, b)
        assert (runs[a][0][3] - runs[b][0][3]).abs().max() > 1e-4, (a, b)


@pytest.mark.parametrize("name", sorted(CASES))
def test_video_pairs_patch_and_differ_from_pairs_without(name, tmp_path):
    """End to end through the CLI (refusal; REINS where its write is ungated: ZeroScope), then a stock reload."""
    from safetensors.torch import load_file

    from weditor.testing import save_tiny_pipeline

    cls, size, extra = CASES[name]
    model = save_tiny_pipeline(name, tmp_path / "model")
    (tmp_path / "p").mkdir()
    outs = {}
    for kind, pairs in (("video", video_pairs(tmp_path / "p")), ("plain", TINY_PAIRS)):
        out = tmp_path / f"out-{kind}"
        args = ["patch", model, "--pairs", pairs, "--out", out, "--size", "x".join(map(str, size))]
        result = run_cli(args + ["--method", "refusal", "--no-summary", "--steps", "2", *extra])
        assert result.exit_code == 0, result.output
        component = "unet" if name.startswith("zeroscope") else "transformer"
        outs[kind] = load_file(next((out / component).glob("*.safetensors")))
    assert max(float((outs["video"][k] - outs["plain"][k]).abs().max()) for k in outs["video"]) > 1e-6
    import json

    import diffusers

    index = json.loads((tmp_path / "out-video" / "model_index.json").read_text())
    assert index["_class_name"] == cls
    getattr(diffusers, cls).from_pretrained(tmp_path / "out-video")  # the stock class loads the edit
