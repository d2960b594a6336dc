"""Framepack's own glue (weditor/adapters/framepack.py): its one-section trajectory, from its own noise and
schedule, equals the stock pipeline's; REINS and gated writes are refused (HunyuanVideo's blocks)."""

from __future__ import annotations

import torch
from PIL import Image

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_adapters import load, tiny  # noqa: F401 (fixture)
from weditor.models.runtime import Settings, encode, trajectory

SIZE = (32, 32, 9)


def test_own_trajectory_equals_the_stock_loop(tiny):
    """From the stock loop's first latent (its generator draws the image latent first, then the noise), the
    adapter's own schedule and steps give the stock loop's latents and predictions, step for step."""
    from dataclasses import replace

    pipe, adapter = load(tiny("framepack"))
    image = Image.new("RGB", (40, 48), (200, 30, 30))
    steps, seen = 3, []

    def hook(module, args, kwargs, output):
        seen.append((kwargs["hidden_states"].clone(), output[0].clone()))

    handle = pipe.transformer.register_forward_hook(hook, with_kwargs=True)
    pipe(
        image=image,
        prompt="a red car on a street",
        height=SIZE[0],
        width=SIZE[1],
        num_frames=SIZE[2],
        latent_window_size=(SIZE[2] - 1) // 4 + 1,
        num_inference_steps=steps,
        generator=torch.Generator().manual_seed(0),  # the image latent's draw: the adapter's seeded-0 sample
        output_type="latent",
    )
    handle.remove()
    cond = encode(pipe, adapter, ["a red car on a street"], "cpu", [image])
    start = replace(adapter, latents=lambda *args: seen[0][0].clone())
    record = trajectory(pipe, start, cond, Settings(size=SIZE, steps=steps), seed=0)
    assert len(seen) == len(record) == steps
    for i, ((_, t, x, ours), (x_stock, theirs)) in enumerate(zip(record, seen)):
        assert (x - x_stock).abs().max() <= 1e-5 * x_stock.abs().max(), (i, "latent")
        assert (ours - theirs).abs().max() <= 1e-5 * theirs.abs().max(), (i, float(t))
    assert (record[-1][2] - record[0][2]).abs().max() > 1e-3, "the latent never moved: the steps check nothing"
    x = adapter.latents(pipe, SIZE, torch.Generator().manual_seed(5), "cpu")
    assert x.shape == seen[0][0].shape  # the window's latent frames at the size's resolution


def test_reins_and_gated_writes_are_refused(tiny, tmp_path):
    for args, message in ((["--method", "reins"], "gated"), (["--method", "refusal", "--site", "attn_out"], "gate")):
        out = tmp_path / args[1]
        result = run_cli(["patch", tiny("framepack"), "--pairs", TINY_PAIRS, "--out", out, *args])
        errors = [line for line in result.output.splitlines() if line.startswith("Error")]
        assert result.exit_code == 2 and len(errors) == 1 and message in errors[0], result.output
        assert "Traceback" not in result.output and not out.exists()
