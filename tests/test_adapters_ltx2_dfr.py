"""LTX2DFRPipeline (weditor/adapters/ltx2_dfr.py): one DFR pass from noise, a padded canvas plus keyframe slots.

The generic checks (edits, reload, hook, the denoiser calls on the stock latents) are in tests/test_adapters.py;
here the whole trajectory (noise over canvas and slots, the distilled schedule) against the stock pass, a
padded canvas with two slots, and the refusals.
"""

from __future__ import annotations

import pytest
import torch

from tests.conftest import TINY_PAIRS, run_cli
from weditor.adapters import adapter_for_class
from weditor.adapters.ltx2 import join
from weditor.adapters.ltx2_dfr import distilled_sigmas
from weditor.models.runtime import Settings, encode, trajectory

PROMPT = "a red car on a street"


@pytest.fixture(scope="module")
def dfr():
    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES["ltx2-dfr"]
    return build(**kwargs), adapter_for_class("LTX2DFRPipeline")


@pytest.mark.parametrize(
    "frames, steps, slots",
    [(9, 3, 1), (11, 8, 2)],  # 11 frames: the canvas padded to 13, two keyframe slots
)
def test_the_whole_pass_equals_the_stock_pipeline(dfr, frames, steps, slots):
    pipe, adapter = dfr
    seen = []
    handle = pipe.transformer.register_forward_hook(
        lambda m, a, kw, out: seen.append((kw["hidden_states"].clone(), kw["audio_hidden_states"].clone(), out)),
        with_kwargs=True,
    )
    try:
        pipe(
            prompt=PROMPT,
            height=32,
            width=32,
            num_frames=frames,
            sigmas=distilled_sigmas(steps),
            generator=torch.Generator().manual_seed(0),
            output_type="latent",
            max_sequence_length=16,
        )
        stock = seen[:]
        cond = encode(pipe, adapter, [PROMPT], "cpu", [None])
        record = trajectory(pipe, adapter, cond, Settings((32, 32, frames), steps), 0)
    finally:
        handle.remove()
    from diffusers.pipelines.ltx2.dfr_layout import resolve_canvas

    pixels, _, positions = resolve_canvas(frames, pipe.vae_temporal_compression_ratio)
    canvas = (pixels - 1) // pipe.vae_temporal_compression_ratio + 1
    assert len(positions) == slots
    assert record[0][2].shape[2] == canvas + slots
    assert len(record) == len(stock) == min(steps, 8)
    grid = (canvas + slots, 16, 16)
    for (_, _, x, pred), (v, a, (pv, pa)) in zip(record, stock):
        want_x, want_pred = join(pipe._unpack_latents(v, *grid), a), join(pipe._unpack_latents(pv, *grid), pa)
        assert (x - want_x).abs().max() <= 1e-5 * want_x.abs().max()
        assert (pred - want_pred).abs().max() <= 1e-5 * want_pred.abs().max()
    assert torch.equal(record[0][2], join(pipe._unpack_latents(stock[0][0], *grid), stock[0][1]))


def test_distilled_sigmas_are_the_pipelines():
    from diffusers.pipelines.ltx2.utils import DISTILLED_SIGMA_VALUES

    assert distilled_sigmas(8) == distilled_sigmas(30) == DISTILLED_SIGMA_VALUES
    assert distilled_sigmas(1) == [1.0] and distilled_sigmas(3)[0] == 1.0 and len(distilled_sigmas(3)) == 3


@pytest.mark.parametrize(
    "case, message",
    [
        ("frames", "needs --size frames with (frames - 1) a multiple of 2"),
        ("marker", "need a transformer with use_keyframes_abs_pos_embedding"),
    ],
)
def test_refusals_are_one_line(case, message, tmp_path):
    import diffusers

    from weditor.testing import TINY_PIPELINES, save_tiny_pipeline

    if case == "marker":  # an LTX-2.0 transformer under the DFR pipeline
        build, kwargs = TINY_PIPELINES["ltx2"]
        diffusers.LTX2DFRPipeline(**build(**kwargs).components).save_pretrained(tmp_path / "model")
        model, size = tmp_path / "model", "32x32x9"
    else:
        model, size = save_tiny_pipeline("ltx2-dfr", tmp_path / "model"), "32x32x10"
    out = tmp_path / "out"
    result = run_cli(["patch", model, "--pairs", TINY_PAIRS, "--out", out, "--size", size, "--method", "refusal"])
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert result.exit_code == 2 and len(errors) == 1 and message in errors[0], result.output
    assert "Traceback" not in result.output and not out.exists()
