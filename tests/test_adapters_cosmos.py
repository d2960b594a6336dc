"""Cosmos' own glue (weditor/adapters/cosmos.py): conditioning videos, the guardrail stand-in, what is refused.

The family checks (exact edits, stock reload, run-time hook, the stock loop step for step with an image)
are in tests/test_adapters.py; here: a pair's video reaches CosmosVideoToWorldPipeline's denoiser as
the stock pipeline's `video` argument does, and the guardrail, torchvision and scheduler refusals.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from PIL import Image

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_adapters import _unscaled, load, tiny  # noqa: F401 (fixture)
from weditor.models.runtime import Settings, encode, trajectory

SIZE = (32, 32, 9)


def _gif(path, frames: int, shift: int = 0):
    images = [Image.new("RGB", (40, 36), (20 * i + shift, 90, 200 - 15 * i)) for i in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=80)
    return path


def _stock_inputs(pipe, **kwargs):
    """[(denoiser input, prediction)] of the stock pipeline's loop, guidance off, 2 steps."""
    import inspect

    from weditor.adapters.common import text_length

    if "augment_sigma" in inspect.signature(pipe.__call__).parameters:  # Cosmos 1's conditioning-frame noise
        kwargs["augment_sigma"] = 0.0
    length = text_length(pipe, 512) if type(pipe).__name__.startswith("Cosmos2_5") else 16
    seen = []
    handle = pipe.transformer.register_forward_hook(
        lambda m, a, k, o: seen.append((k["hidden_states"], o[0])), with_kwargs=True
    )
    pipe(
        prompt="a red car on a street",
        height=SIZE[0],
        width=SIZE[1],
        num_frames=SIZE[2],
        num_inference_steps=2,
        generator=torch.Generator().manual_seed(0),
        guidance_scale=1.0,
        output_type="latent",
        max_sequence_length=length,
        **kwargs,
    )
    handle.remove()
    return seen


def _ours(pipe, adapter, conditioning, seen):
    cond = encode(pipe, adapter, ["a red car on a street"], "cpu", [conditioning])
    forced = _unscaled(pipe, [(None, None, x, None) for x, _ in seen])
    return [r[3] for r in trajectory(pipe, adapter, cond, Settings(size=SIZE, steps=2), seed=0, forced=forced)]


@pytest.mark.parametrize("name", ["cosmos-v2w", "cosmos2-v2w", "cosmos25"])
def test_a_pair_video_conditions_the_denoiser_as_the_pipelines_video_argument(name, tiny, tmp_path, monkeypatch):
    monkeypatch.setattr("weditor.adapters.cosmos.AUGMENT_SIGMA", 0.0)  # the stock call's augment_sigma=0
    pipe, adapter = load(tiny(name))
    assert adapter.video_input
    clip = _gif(tmp_path / "clip.gif", 5)  # 5 frames: 2 of the 3 latent frames are conditioning
    with Image.open(clip) as im:
        frames = []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(im.convert("RGB"))
    seen = _stock_inputs(pipe, video=frames)
    ours = _ours(pipe, adapter, clip, seen)
    for (_, theirs), mine in zip(seen, ours, strict=True):
        assert (mine - theirs).abs().max() <= 1e-5 * theirs.abs().max()
    # the video matters: another video, or a still image, gives other predictions on the same latents
    other = _ours(pipe, adapter, _gif(tmp_path / "other.gif", 5, shift=60), seen)
    still = _ours(pipe, adapter, None, seen)
    for mine, b, c in zip(ours, other, still):
        assert (mine - b).abs().max() > 1e-3 * mine.abs().max()
        assert (mine - c).abs().max() > 1e-3 * mine.abs().max()


def _video_pairs(tmp_path, frames: int):
    text = TINY_PAIRS.read_text()
    _gif(tmp_path / "clip.gif", frames)
    lines = []
    for line in text.splitlines():
        lines.append(line)
        if line.startswith("safe = "):
            lines.append('video = "clip.gif"')
    path = tmp_path / "video.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("model", ["cosmos-v2w", "cosmos2-v2w", "cosmos25"])
def test_a_video_patch_differs_from_an_image_free_one(model, tiny, tmp_path):
    outs = {}
    for name, pairs in (("video", _video_pairs(tmp_path, 5)), ("none", TINY_PAIRS)):
        out = tmp_path / name
        args = ["patch", "--method", "refusal", tiny(model), "--pairs", pairs, "--out", out]
        result = run_cli([*args, "--size", "32x32x9", "--layers", "1-2", "--no-summary"])
        assert result.exit_code == 0, result.output
        outs[name] = (out / "weditor" / "directions.safetensors").read_bytes()
    assert outs["video"] != outs["none"]


def test_a_video_as_long_as_the_collection_is_refused(tiny, tmp_path):
    """Cosmos would condition on every latent frame and generate none: one Error line, no output."""
    out = tmp_path / "o"
    pairs = _video_pairs(tmp_path, 9)
    args = ["patch", "--method", "refusal", tiny("cosmos-v2w"), "--pairs", pairs, "--out", out]
    result = run_cli([*args, "--size", "32x32x9", "--no-summary"])
    assert result.exit_code == 2
    assert "9 frames" in result.output and "generate none" in result.output
    assert not out.exists()


def test_text_to_world_refuses_videos_and_reins(tiny, tmp_path):
    result = run_cli(["patch", tiny("cosmos"), "--pairs", _video_pairs(tmp_path, 5), "--out", tmp_path / "a"])
    assert result.exit_code == 2 and "feeds no conditioning video" in result.output
    result = run_cli(["patch", tiny("cosmos"), "--pairs", TINY_PAIRS, "--method", "reins", "--out", tmp_path / "b"])
    assert result.exit_code == 2 and "every residual add is scaled by a timestep-dependent gate" in result.output


def test_the_stock_pipeline_without_its_guardrail(tiny):
    """What diffusers does with `safety_checker=None`, and what weditor loads instead."""
    import diffusers

    from weditor.errors import WeditorError
    from weditor.io.checkpoint import resolve_model
    from weditor.models.loading import load_pipeline

    folder = tiny("cosmos")
    index = json.loads((folder / "model_index.json").read_text())
    assert index["safety_checker"] == [None, None]  # what save_pretrained writes for a checker it cannot save
    try:
        import cosmos_guardrail  # noqa: F401
    except ImportError:  # None is replaced by CosmosSafetyChecker(), which needs the package
        with pytest.raises(ImportError, match="cosmos_guardrail"):
            diffusers.CosmosTextToWorldPipeline.from_pretrained(folder)
    pipe = load_pipeline(resolve_model(str(folder)), None, "cpu")  # weditor: the stand-in
    with pytest.raises(WeditorError, match="does not generate with Cosmos"):
        pipe("a red car", height=32, width=32, num_frames=9, num_inference_steps=1, output_type="latent")
    pipe.safety_checker = None  # a checker removed after loading: the stock pipeline refuses to generate
    with pytest.raises(ValueError, match="disabled the safety checker"):
        pipe("a red car", height=32, width=32, num_frames=9, num_inference_steps=1, output_type="latent")


def _copy_with(tiny, tmp_path, name, edit):
    folder = shutil.copytree(tiny(name), tmp_path / "base")
    edit(folder)
    return folder


def test_a_checkpoint_that_resizes_a_padding_mask_needs_torchvision(tiny, tmp_path):
    try:
        import torchvision  # noqa: F401

        pytest.skip("torchvision is installed")
    except ImportError:
        pass

    def pad(folder):
        path = folder / "transformer" / "config.json"
        config = json.loads(path.read_text())
        config["concat_padding_mask"] = True  # as every released Cosmos checkpoint
        path.write_text(json.dumps(config))

    folder = _copy_with(tiny, tmp_path, "cosmos", pad)
    result = run_cli(["patch", folder, "--pairs", TINY_PAIRS, "--out", tmp_path / "o"])
    assert result.exit_code == 2 and "'torchvision'" in result.output
    assert result.output.count("Error:") == 1 and not (tmp_path / "o").exists()


def _scheduler(cls: str, **config):
    def edit(folder):
        index = json.loads((folder / "model_index.json").read_text())
        index["scheduler"] = ["diffusers", cls]
        (folder / "model_index.json").write_text(json.dumps(index))
        path = folder / "scheduler" / "scheduler_config.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **config, "_class_name": cls}))

    return edit


@pytest.mark.parametrize(
    "name,edit,message",
    [
        ("cosmos", _scheduler("EDMDPMSolverMultistepScheduler"), "EDMEulerScheduler"),
        ("cosmos2-v2w", _scheduler("EulerDiscreteScheduler"), "FlowMatchEulerDiscreteScheduler"),
        ("cosmos25", _scheduler("UniPCMultistepScheduler", use_flow_sigmas=False), "flow-sigma UniPC"),
    ],
)
def test_another_scheduler_is_refused(name, edit, message, tiny, tmp_path):
    folder = _copy_with(tiny, tmp_path, name, edit)
    result = run_cli(["patch", "--method", "refusal", folder, "--pairs", TINY_PAIRS, "--out", tmp_path / "o"])
    assert result.exit_code == 2 and message in result.output
    assert result.output.count("Error:") == 1 and not (tmp_path / "o").exists()


def test_a_size_beyond_the_transformers_positions_is_refused(tiny, tmp_path):
    args = ["patch", "--method", "refusal", tiny("cosmos"), "--pairs", TINY_PAIRS, "--out", tmp_path / "o"]
    result = run_cli([*args, "--size", "256x256x9", "--no-summary"])
    assert result.exit_code == 2 and "max_size" in result.output and not (tmp_path / "o").exists()


def test_the_cards_install_line_names_the_guardrail():
    from weditor.pipeline.card_usage import usage_block

    assert "cosmos_guardrail torchvision" in usage_block("CosmosTextToWorldPipeline", None, None, "a cat", None)
    assert "cosmos_guardrail" not in usage_block("WanPipeline", None, None, "a cat", None)


def test_cosmos25_refuses_videos_shorter_than_its_conditioning(tiny, tmp_path):
    short = _video_pairs(tmp_path, 3)  # Video2World takes the last 5 frames
    args = ["patch", "--method", "refusal", tiny("cosmos25"), "--pairs", short, "--out", tmp_path / "o"]
    result = run_cli([*args, "--size", "32x32x9", "--no-summary"])
    assert result.exit_code == 2 and "3 frames" in result.output and "last 5" in result.output
    assert not (tmp_path / "o").exists()


def test_the_read_out_refuses_embeddings_too_wide_for_its_moments(tiny, tmp_path, monkeypatch):
    """Cosmos 2.5's real embeddings are 100,352 wide: (d, d) moments of 75 GiB. The tiny one's 48, with the
    limit lowered to 16, takes the same path: one Error line naming the methods that fit."""
    monkeypatch.setattr("weditor.methods.text.MAX_WIDTH", 16)
    out = tmp_path / "o"
    result = run_cli(["patch", tiny("cosmos25"), "--pairs", TINY_PAIRS, "--method", "text", "--out", out])
    assert result.exit_code == 2 and "48 wide" in result.output and "--method safree, uce or refusal" in result.output
    assert not out.exists()
