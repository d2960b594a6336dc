"""The motion-adapter pipelines' own glue (weditor/adapters/animatediff.py): the input video of
AnimateDiff video-to-video and PIA's first-frame image reach the denoiser as the stock pipelines feed them;
what the adapter cannot reproduce is refused in one line."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_pair_videos import gif, video_pairs
from weditor.adapters import adapter_for_class
from weditor.io.pair_videos import read_video
from weditor.models.runtime import Settings, encode, trajectory

SIZE = (16, 16, 4)
PROMPT = "a red car on a street"


@pytest.fixture(scope="module")
def v2v():
    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES["animatediff-v2v"]
    pipe = build(**kwargs)
    pipe.set_progress_bar_config(disable=True)
    return pipe, adapter_for_class("AnimateDiffVideoToVideoPipeline")


def _stock_unet_calls(pipe, **kwargs):
    """(denoiser input, timestep, prediction) of every UNet call of the stock pipeline."""
    seen = []
    handle = pipe.unet.register_forward_hook(
        lambda m, args, kw, out: seen.append((args[0].clone(), args[1].clone(), out[0].clone())), with_kwargs=True
    )
    try:
        pipe(
            prompt=PROMPT,
            height=SIZE[0],
            width=SIZE[1],
            guidance_scale=1.0,
            generator=torch.Generator().manual_seed(0),
            output_type="latent",
            **kwargs,
        )
    finally:
        handle.remove()
    return seen


@pytest.mark.parametrize("name", ["animatediff-v2v", "animatediff-v2v-controlnet"])
def test_v2v_denoiser_calls_equal_the_stock_pipeline_for_the_same_video(name, tmp_path):
    """AnimateDiffVideoToVideo(ControlNet)Pipeline(video=..., strength=0.8) and the adapter's trajectory from the same
    seed: the same timesteps, the same noised video latents at every step, the same predictions (the control net's
    control frames: the adapter's still mid-grey video)."""
    from PIL import Image

    from weditor.adapters.common import GREY
    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES[name]
    pipe = build(**kwargs)
    pipe.set_progress_bar_config(disable=True)
    adapter = adapter_for_class(type(pipe).__name__)
    video, steps = gif(tmp_path / "v.gif", (220, 30, 30)), 5
    control = {"conditioning_frames": [Image.new("RGB", SIZE[1::-1], GREY)] * SIZE[2]} if "controlnet" in name else {}
    seen = _stock_unet_calls(
        pipe, video=read_video(video, SIZE), num_inference_steps=steps, strength=adapter.video_strength, **control
    )
    cond = encode(pipe, adapter, [PROMPT], "cpu", [video])
    record = trajectory(pipe, adapter, cond, Settings(size=SIZE, steps=steps), seed=0)
    assert len(record) == len(seen) == int(steps * 0.8) == 4
    for (_, t, x, pred), (x_stock, t_stock, pred_stock) in zip(record, seen):
        assert float(t) == float(t_stock)
        assert (x - x_stock).abs().max() <= 1e-5 * x_stock.abs().max(), float((x - x_stock).abs().max())
        assert (pred - pred_stock).abs().max() <= 1e-5 * pred_stock.abs().max(), float(t)


def test_v2v_the_video_reaches_the_denoiser(v2v, tmp_path):
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
    assert len(runs["none"]) == 5 and len(runs["red"]) == 4
    for a, b in (("red", "none"), ("red", "blue")):
        assert (runs[a][0][2] - runs[b][0][2]).abs().max() > 1e-3, (a, b)
        assert (runs[a][0][3] - runs[b][0][3]).abs().max() > 1e-4, (a, b)


def test_pia_image_reaches_the_denoiser_as_the_stock_pipeline_feeds_it(tmp_path):
    """PIAPipeline(image=...): the adapter's first-frame condition (mask, image latent) gives the stock
    predictions on the stock inputs; another image gives other predictions."""
    from PIL import Image

    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES["pia"]
    pipe = build(**kwargs)
    pipe.set_progress_bar_config(disable=True)
    adapter = adapter_for_class("PIAPipeline")
    red = Image.new("RGB", (40, 24), (220, 30, 30))
    seen = _stock_unet_calls(pipe, image=red, num_frames=SIZE[2], num_inference_steps=2)
    assert seen and seen[0][0].shape[1] == 9  # latent, mask, masked image latent
    preds = {}
    for name, image in (("red", red), ("blue", Image.new("RGB", (40, 24), (30, 30, 220)))):
        cond = encode(pipe, adapter, [PROMPT], "cpu", [image])
        preds[name] = [adapter.forward(pipe.unet, x[:, :4], t, cond) for x, t, _ in seen]
    for ours, (_, t, theirs) in zip(preds["red"], seen):
        assert (ours - theirs).abs().max() <= 1e-5 * theirs.abs().max(), float(t)
    assert all((a - b).abs().max() > 1e-4 for a, b in zip(preds["red"], preds["blue"]))


@pytest.mark.parametrize("name", ["animatediff-v2v", "animatediff-controlnet", "animatediff-v2v-controlnet"])
def test_patch_from_video_pairs_differs_from_one_without(name, tmp_path):
    """The CLI feeds the pairs' videos (V2V: the input video; control net: the control frames) to collection."""
    from safetensors.torch import load_file

    from weditor.testing import save_tiny_pipeline

    model = save_tiny_pipeline(name, tmp_path / "model")
    (tmp_path / "p").mkdir()
    outs = {}
    for name, pairs in (("video", video_pairs(tmp_path / "p")), ("plain", TINY_PAIRS)):
        out = tmp_path / f"out-{name}"
        args = ["patch", model, "--pairs", pairs, "--out", out, "--size", "16x16x4", "--method", "refusal"]
        result = run_cli([*args, "--layers", "0-3", "--no-summary", "--steps", "2"])
        assert result.exit_code == 0, result.output
        outs[name] = load_file(out / "unet" / "diffusion_pytorch_model.safetensors")
    assert max(float((outs["video"][k] - outs["plain"][k]).abs().max()) for k in outs["video"]) > 1e-6


def _one_error(result, out, message):
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0], result.output
    assert "Traceback" not in result.output and not out.exists()


def test_video_pairs_with_a_scaled_initial_noise_are_refused(tmp_path):
    """Euler starts from noise times init_noise_sigma, which the video start (add_noise) does not take."""
    import diffusers

    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES["animatediff-v2v"]
    pipe = build(**kwargs)
    pipe.scheduler = diffusers.EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    pipe.save_pretrained(tmp_path / "model")
    (tmp_path / "p").mkdir()
    out = tmp_path / "out"
    args = ["patch", tmp_path / "model", "--pairs", video_pairs(tmp_path / "p"), "--out", out, "--size", "16x16x4"]
    _one_error(run_cli([*args, "--method", "refusal", "--no-summary"]), out, "init_noise_sigma != 1")


def test_more_frames_than_the_motion_modules_hold_are_refused(tmp_path):
    from weditor.testing import save_tiny_pipeline

    model = save_tiny_pipeline("animatediff", tmp_path / "model")
    out = tmp_path / "out"
    result = run_cli(["patch", model, "--pairs", TINY_PAIRS, "--out", out, "--size", "16x16x40", "--no-summary"])
    _one_error(result, out, "temporal positions for 32 frames")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--method", "text"], "declares no linear that reads the text embeddings"),
        (["--method", "safree"], "declares no linear that reads the text embeddings"),
        (["--method", "uce"], "--method uce"),
        (["--method", "refusal", "--site", "cross_attn_kv_in"], "cross_attn_kv_in"),
    ],
)
def test_i2vgenxl_refuses_what_reads_the_prompt_with_the_image_tokens(args, message, tmp_path):
    """I2VGen-XL's attn2.to_k/to_v read the prompt's tokens concatenated with the image's: no text fold is exact."""
    from weditor.testing import save_tiny_pipeline

    model = save_tiny_pipeline("i2vgenxl", tmp_path / "model")
    out = tmp_path / "out"
    result = run_cli(["patch", model, "--pairs", TINY_PAIRS, "--out", out, "--size", "16x16x4", "--no-summary", *args])
    _one_error(result, out, message)


@pytest.mark.parametrize("method", ["uce", "text"])
def test_controlnets_refuse_edits_of_what_the_control_net_reads_too(method, tmp_path):
    """The control net reads the prompt itself: a key/value or text fold of the UNet alone would not reach it."""
    from weditor.testing import save_tiny_pipeline

    model = save_tiny_pipeline("animatediff-controlnet", tmp_path / "model")
    out = tmp_path / "out"
    args = ["patch", model, "--pairs", TINY_PAIRS, "--out", out, "--size", "16x16x4", "--no-summary"]
    message = "control net" if method == "uce" else "declares no linear that reads the text embeddings"
    _one_error(run_cli([*args, "--method", method]), out, message)


def test_controlnet_takes_the_video_as_its_control_frames_as_the_stock_pipeline_does(tmp_path):
    """AnimateDiffControlNetPipeline(conditioning_frames=video): the adapter's control net and UNet calls give the
    stock predictions on the stock inputs; another control video gives other predictions, and so does none."""
    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES["animatediff-controlnet"]
    pipe = build(**kwargs)
    pipe.set_progress_bar_config(disable=True)
    adapter = adapter_for_class("AnimateDiffControlNetPipeline")
    red, blue = gif(tmp_path / "r.gif", (220, 30, 30)), gif(tmp_path / "b.gif", (30, 30, 220))
    seen = _stock_unet_calls(pipe, conditioning_frames=read_video(red, SIZE), num_frames=SIZE[2], num_inference_steps=2)
    preds = {}
    for name, video in (("red", red), ("blue", blue), ("none", None)):
        cond = encode(pipe, adapter, [PROMPT], "cpu", [video])
        preds[name] = [adapter.forward(pipe.unet, x, t, cond) for x, t, _ in seen]
    for ours, (_, t, theirs) in zip(preds["red"], seen):
        assert (ours - theirs).abs().max() <= 1e-5 * theirs.abs().max(), float(t)
    for other in ("blue", "none"):
        assert all((a - b).abs().max() > 1e-4 for a, b in zip(preds["red"], preds[other])), other


def test_sparse_controlnet_takes_the_image_as_its_frame_zero_condition_as_the_stock_pipeline_does():
    """AnimateDiffSparseControlNetPipeline(conditioning_frames=[image], controlnet_frame_indices=[0]): the adapter's
    sparse control net and UNet calls give the stock predictions; another image gives other predictions."""
    from PIL import Image

    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES["animatediff-sparsectrl"]
    pipe = build(**kwargs)
    pipe.set_progress_bar_config(disable=True)
    adapter = adapter_for_class("AnimateDiffSparseControlNetPipeline")
    red, blue = Image.new("RGB", (40, 24), (220, 30, 30)), Image.new("RGB", (40, 24), (30, 30, 220))
    seen = _stock_unet_calls(pipe, conditioning_frames=[red], num_frames=SIZE[2], num_inference_steps=2)
    preds = {}
    for name, image in (("red", red), ("blue", blue)):
        cond = encode(pipe, adapter, [PROMPT], "cpu", [image])
        preds[name] = [adapter.forward(pipe.unet, x, t, cond) for x, t, _ in seen]
    for ours, (_, t, theirs) in zip(preds["red"], seen):
        assert (ours - theirs).abs().max() <= 1e-5 * theirs.abs().max(), float(t)
    assert all((a - b).abs().max() > 1e-4 for a, b in zip(preds["red"], preds["blue"]))


@pytest.mark.parametrize("cls", ["PIAPipeline", "I2VGenXLPipeline"])
def test_the_cards_usage_block_passes_the_image_these_pipelines_require(cls):
    from weditor.pipeline.card import pipeline_tag
    from weditor.pipeline.card_usage import usage_block

    assert pipeline_tag(cls) == "image-to-video"
    assert "pipe(image=image, prompt=" in usage_block(cls, pipeline_tag(cls), None, "a cat", None)
