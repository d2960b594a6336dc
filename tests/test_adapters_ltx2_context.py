"""LTX-2 with a reference video (weditor/adapters/ltx2_context.py): LTX2InContextPipeline and LTX2HDRPipeline.

A pair's `video` is the pipelines' reference condition: its tokens are appended to the generated
video's in every denoiser call, with their positions and timestep 0. The stock pipeline's denoiser
calls, on its own latents, equal the adapter's step for step; without a video the whole trajectory
(noise draws, schedule, HDR's frozen audio latent) equals the stock run's.
"""

from __future__ import annotations

import pytest
import torch

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_pair_videos import PROMPT, gif, video_pairs
from weditor.adapters import adapter_for_class
from weditor.adapters.ltx2 import join
from weditor.io.pair_videos import read_video
from weditor.models.runtime import Settings, encode, trajectory

SIZE, STEPS = (32, 32, 9), 3
CASES = {"ltx2-in-context": "LTX2InContextPipeline", "ltx2-hdr": "LTX2HDRPipeline"}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES[request.param]
    return build(**kwargs), adapter_for_class(CASES[request.param])


def grid(pipe):
    r_t, r_s = pipe.vae_temporal_compression_ratio, pipe.vae_spatial_compression_ratio
    return (SIZE[2] - 1) // r_t + 1, SIZE[0] // r_s, SIZE[1] // r_s


class Calls:
    """The transformer's inputs and outputs at every call, while in use."""

    def __init__(self, pipe):
        self.pipe, self.seen = pipe, []

    def __enter__(self):
        def keep(module, args, kw, out):
            keys = ("hidden_states", "audio_hidden_states", "timestep", "video_coords")
            self.seen.append({**{k: kw[k].clone() for k in keys}, "pred": out[0].clone(), "audio_pred": out[1].clone()})

        self.handle = self.pipe.transformer.register_forward_hook(keep, with_kwargs=True)
        return self.seen

    def __exit__(self, *exc):
        self.handle.remove()


def stock(pipe, video=None, prompt=PROMPT):
    from diffusers.pipelines.ltx2 import pipeline_ltx2_hdr_lora, pipeline_ltx2_ic_lora

    kwargs = dict(
        prompt=prompt,
        height=SIZE[0],
        width=SIZE[1],
        num_frames=SIZE[2],
        num_inference_steps=STEPS,
        generator=torch.Generator().manual_seed(0),
        guidance_scale=1.0,
        stg_scale=0.0,
        modality_scale=1.0,
        guidance_rescale=0.0,
        output_type="latent",
        max_sequence_length=16,
    )
    if type(pipe).__name__ == "LTX2HDRPipeline":
        condition = pipeline_ltx2_hdr_lora.LTX2HDRReferenceCondition
    else:
        condition = pipeline_ltx2_ic_lora.LTX2ReferenceCondition
        kwargs.update(audio_guidance_scale=1.0, audio_stg_scale=0.0, audio_modality_scale=1.0, audio_guidance_rescale=0)
    if video is not None:
        kwargs["reference_conditions"] = [condition(frames=read_video(video, SIZE), strength=1.0)]
    with Calls(pipe) as seen:
        pipe(**kwargs)
    return seen


def test_reference_video_calls_equal_the_stock_pipeline(case, tmp_path):
    """Forced on the stock run's generated tokens, the adapter gives the transformer the same sequence
    (generated + reference tokens), per-token timesteps, positions and audio, and gets the same predictions."""
    pipe, adapter = case
    video = gif(tmp_path / "v.gif", (220, 30, 30), frames=6)
    theirs = stock(pipe, video)
    n = grid(pipe)[0] * grid(pipe)[1] * grid(pipe)[2]
    assert theirs[0]["hidden_states"].shape[1] > n  # the reference tokens, appended
    forced = [
        (None, None, join(pipe._unpack_latents(c["hidden_states"][:, :n], *grid(pipe)), c["audio_hidden_states"]), None)
        for c in theirs
    ]
    cond = encode(pipe, adapter, [PROMPT], "cpu", [video])
    with Calls(pipe) as ours:
        record = trajectory(pipe, adapter, cond, Settings(SIZE, STEPS), 0, forced=forced)
    assert len(record) == len(ours) == len(theirs) == STEPS
    for (_, t, _, pred), mine, stock_call in zip(record, ours, theirs):
        for key in ("hidden_states", "audio_hidden_states", "timestep", "video_coords"):
            assert mine[key].shape == stock_call[key].shape, key
            assert (mine[key] - stock_call[key]).abs().max() <= 1e-6 * stock_call[key].abs().max(), (key, float(t))
        want = join(pipe._unpack_latents(stock_call["pred"][:, :n], *grid(pipe)), stock_call["audio_pred"])
        assert (pred - want).abs().max() <= 1e-5 * want.abs().max(), float(t)


def test_without_a_video_the_whole_run_equals_the_stock_pipeline(case):
    """Noise draws (packed video, then packed audio), the shifted schedule, and HDR's frozen audio latent."""
    pipe, adapter = case
    theirs = stock(pipe)
    record = trajectory(pipe, adapter, encode(pipe, adapter, [PROMPT], "cpu", [None]), Settings(SIZE, STEPS), 0)
    for (_, _, x, pred), c in zip(record, theirs):
        want_x = join(pipe._unpack_latents(c["hidden_states"], *grid(pipe)), c["audio_hidden_states"])
        assert (x - want_x).abs().max() <= 1e-5 * want_x.abs().max()
    if type(pipe).__name__ == "LTX2HDRPipeline":
        assert torch.equal(theirs[0]["audio_hidden_states"], theirs[-1]["audio_hidden_states"])


def test_condition_pipeline_draws_its_packed_audio_noise():
    """LTX2ConditionPipeline draws its audio noise packed, (1, L, C_a * M): the first latent is the stock one."""
    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES["ltx2-condition"]
    pipe, adapter = build(**kwargs), adapter_for_class("LTX2ConditionPipeline")
    with Calls(pipe) as theirs:
        pipe(
            prompt=PROMPT,
            height=SIZE[0],
            width=SIZE[1],
            num_frames=SIZE[2],
            num_inference_steps=1,
            generator=torch.Generator().manual_seed(0),
            guidance_scale=1.0,
            stg_scale=0.0,
            modality_scale=1.0,
            guidance_rescale=0.0,
            audio_guidance_scale=1.0,
            audio_stg_scale=0.0,
            audio_modality_scale=1.0,
            audio_guidance_rescale=0.0,
            output_type="latent",
            max_sequence_length=16,
        )
    x = trajectory(pipe, adapter, encode(pipe, adapter, [PROMPT], "cpu", [None]), Settings(SIZE, 1), 0)[0][2]
    assert torch.equal(
        x, join(pipe._unpack_latents(theirs[0]["hidden_states"], *grid(pipe)), theirs[0]["audio_hidden_states"])
    )


def test_the_reference_video_reaches_the_denoiser(case, tmp_path):
    pipe, adapter = case
    preds = {}
    for name, video in (
        ("none", None),
        ("red", gif(tmp_path / "r.gif", (220, 30, 30))),
        ("blue", gif(tmp_path / "b.gif", (30, 30, 220))),
    ):
        cond = encode(pipe, adapter, [PROMPT, "a car on a street"], "cpu", [video, video])
        preds[name] = trajectory(pipe, adapter, cond, Settings(SIZE, STEPS), 0)[0][3]
    assert (preds["red"] - preds["none"]).abs().max() > 1e-4
    assert (preds["red"] - preds["blue"]).abs().max() > 1e-4


@pytest.mark.slow  # about 40 s each on a 2-core CPU: two collection runs on the longer sequence
@pytest.mark.parametrize("name", sorted(CASES))
def test_video_pairs_patch_and_reload(name, tmp_path):
    """The CLI patches from video pairs (refusal + REINS: the cross-attention write is ungated on LTX-2.0); the
    edit differs from the one without videos; the stock class reloads it."""
    import diffusers
    from safetensors.torch import load_file

    from weditor.testing import save_tiny_pipeline

    model = save_tiny_pipeline(name, tmp_path / "model")
    (tmp_path / "p").mkdir()
    outs = {}
    for kind, pairs in (("video", video_pairs(tmp_path / "p")), ("plain", TINY_PAIRS)):
        out = tmp_path / f"out-{kind}"
        args = ["patch", model, "--pairs", pairs, "--out", out, "--size", "32x32x9", "--layers", "1-2"]
        result = run_cli(args + ["--method", "refusal", "--reins", "--no-summary", "--steps", "2"])
        assert result.exit_code == 0, result.output
        outs[kind] = load_file(next((out / "transformer").glob("*.safetensors")))
    assert max(float((outs["video"][k] - outs["plain"][k]).abs().max()) for k in outs["video"]) > 1e-6
    getattr(diffusers, CASES[name]).from_pretrained(tmp_path / "out-video")


def test_image_pairs_are_refused_in_one_line(tmp_path):
    from PIL import Image

    from weditor.testing import save_tiny_pipeline

    model = save_tiny_pipeline("ltx2-in-context", tmp_path / "model")
    lines = []
    for k, line in enumerate(TINY_PAIRS.read_text().splitlines()):
        lines.append(line)
        if line.startswith("safe = "):
            Image.new("RGB", (8, 8), (200, 10, 10)).save(tmp_path / f"i{k}.png")
            lines.append(f'image = "i{k}.png"')
    (tmp_path / "i2v.toml").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = run_cli(["patch", model, "--pairs", tmp_path / "i2v.toml", "--out", out, "--size", "32x32x9"])
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert result.exit_code == 2 and len(errors) == 1, result.output
    assert "pairs carry images, but LTX2InContextPipeline is text-to-video only" in errors[0]
    assert "Traceback" not in result.output and not out.exists()
