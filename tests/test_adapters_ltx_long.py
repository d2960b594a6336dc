"""LTXI2VLongMultiPromptPipeline (weditor/adapters/ltx_long.py): collection on one temporal window, one prompt.

The generic checks are in tests/test_adapters.py ("ltx-long"); here the whole window (the window's noise,
the loop without the last timestep) against the stock pipeline, a prompt with `|` (the pipeline's
per-window list: window 0 reads the first part), the ancestral scheduler, and the one-window limit.
"""

from __future__ import annotations

import pytest
import torch

from tests.conftest import TINY_PAIRS, run_cli
from weditor.adapters import adapter_for_class
from weditor.models.runtime import Settings, encode, trajectory

SIZE = (32, 32, 9)


@pytest.fixture(scope="module")
def long():
    from weditor.testing import TINY_PIPELINES

    build, kwargs = TINY_PIPELINES["ltx-long"]
    return build(**kwargs), adapter_for_class("LTXI2VLongMultiPromptPipeline")


def stock_calls(pipe, prompt, steps):
    seen = []
    handle = pipe.transformer.register_forward_hook(
        lambda m, a, kw, out: seen.append((kw["hidden_states"].clone(), out[0].clone())), with_kwargs=True
    )
    try:
        pipe(
            prompt=prompt,
            height=SIZE[0],
            width=SIZE[1],
            num_frames=SIZE[2],
            num_inference_steps=steps + 1,
            seed=0,
            output_type="latent",
            max_sequence_length=16,
        )
    finally:
        handle.remove()
    return seen


@pytest.mark.parametrize("prompt", ["a red car on a street", "a red car on a street | a blue boat on a lake"])
def test_the_window_equals_the_stock_pipeline(long, prompt):
    """Noise, timesteps and predictions of the whole window, with no forcing; a `|` prompt reads its first part."""
    from diffusers import LTXPipeline

    pipe, adapter = long
    steps = 3
    stock = stock_calls(pipe, prompt, steps)
    record = trajectory(pipe, adapter, encode(pipe, adapter, [prompt], "cpu"), Settings(SIZE, steps), 0)
    assert len(record) == len(stock) == steps
    for (_, _, x, pred), (x_stock, pred_stock) in zip(record, stock):
        ours_x, ours_pred = LTXPipeline._pack_latents(x, 1, 1), LTXPipeline._pack_latents(pred, 1, 1)
        assert (ours_x - x_stock).abs().max() <= 1e-5 * x_stock.abs().max()
        assert (ours_pred - pred_stock).abs().max() <= 1e-5 * pred_stock.abs().max()
    first = encode(pipe, adapter, ["a red car on a street"], "cpu")["encoder_hidden_states"]
    assert torch.equal(encode(pipe, adapter, [prompt], "cpu")["encoder_hidden_states"], first)


def test_the_ancestral_scheduler_repeats(tmp_path):
    """LTXEulerAncestralRFScheduler adds noise at each step: from a fixed generator, so two runs are equal."""
    from weditor.testing.ltx_long import build_tiny_ltx_long_pipeline

    pipe = build_tiny_ltx_long_pipeline(ancestral=True)
    adapter = adapter_for_class("LTXI2VLongMultiPromptPipeline")
    cond = encode(pipe, adapter, ["a red car on a street"], "cpu")
    runs = [trajectory(pipe, adapter, cond, Settings(SIZE, 3), 0) for _ in range(2)]
    assert all(torch.equal(a[2], b[2]) for a, b in zip(*runs))


def test_more_than_one_window_is_one_error(long, tmp_path):
    from weditor.errors import WeditorError
    from weditor.testing import save_tiny_pipeline

    pipe, adapter = long
    r_t = pipe.vae_temporal_compression_ratio  # 4 on the tiny VAE: a window of 80 // 4 = 20 latent frames
    most = (80 // r_t - 1) * r_t + 1
    assert adapter.latents(pipe, (32, 32, most), torch.Generator().manual_seed(0), "cpu").shape[2] == 80 // r_t
    with pytest.raises(WeditorError):
        adapter.latents(pipe, (32, 32, most + r_t), torch.Generator().manual_seed(0), "cpu")

    model = save_tiny_pipeline("ltx-long", tmp_path / "model")
    out = tmp_path / "out"
    result = run_cli(["patch", model, "--pairs", TINY_PAIRS, "--out", out, "--size", "32x32x97", "--method", "refusal"])
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert result.exit_code == 2 and len(errors) == 1, result.output
    assert "more than one temporal window" in errors[0] and f"use at most {most} frames" in errors[0]
    assert "Traceback" not in result.output and not out.exists()


def test_inspect_resolves_it(tmp_path):
    import json

    from weditor.testing import save_tiny_pipeline

    result = run_cli(["inspect", save_tiny_pipeline("ltx-long", tmp_path / "m"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["pipeline_class"] == "LTXI2VLongMultiPromptPipeline"
    (d,) = report["denoisers"].values()
    assert all(g["blocks"] > 0 for g in d["block_groups"].values()) and d["text_input_linears"]
