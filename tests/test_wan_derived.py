"""The glue of the classes that run Wan's blocks under their own sampling (weditor/adapters/anyflow.py, helios.py).

tests/test_adapters.py feeds the stock loop's latents to the adapter (forced); here the adapter runs its own
trajectory from its own noise, so its `latents`, `set_timesteps` and `step` are checked too: every denoiser
input and output equals the stock pipeline's, for the part of the sampling the adapter reproduces (the first
chunk; the pyramid's first stage; the DMD step of distilled Helios).
"""

from __future__ import annotations

import pytest
import torch

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_adapters import _pipeline_call, i2v_pairs, load, tiny  # noqa: F401 (fixtures)
from weditor.models.runtime import Settings, encode, trajectory

FAMILIES = {  # family -> (tiny pipeline, collection size)
    "anyflow": ("anyflow", (32, 32, 5)),  # a pair image as the conditioning frame
    "anyflow-text": ("anyflow", (32, 32, 5)),
    "anyflow-far": ("anyflow-far", (32, 32, 9)),  # chunks (2, 1): the adapter runs the first, two latent frames
    "helios": ("helios", (32, 32, 9)),
    "helios-pyramid": ("helios-pyramid", (64, 64, 9)),  # stage 0 at a quarter of the latent's 8 x 8
    "helios-pyramid-distilled": ("helios-pyramid-distilled", (64, 64, 9)),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_own_trajectory_equals_the_stock_loop(family, tiny, i2v_pairs):
    name, size = FAMILIES[family]
    pipe, adapter = load(tiny(name))
    steps, seen = 3, []

    def hook(module, args, kwargs, output):
        if output[0] is not None:  # AnyFlow-FAR's KV-cache prefill returns no sample
            seen.append((kwargs["hidden_states"].clone(), output[0].clone()))

    handle = pipe.transformer.register_forward_hook(hook, with_kwargs=True)
    _pipeline_call(pipe, adapter, family, size, i2v_pairs, steps)  # seed 0, guidance 1; an image where I2V
    handle.remove()
    assert len(seen) >= steps
    images = [i2v_pairs.parent / "unsafe0.png"] if adapter.image_to_video and not family.endswith("-text") else None
    cond = encode(pipe, adapter, ["a red car on a street"], "cpu", images)
    record = trajectory(pipe, adapter, cond, Settings(size=size, steps=steps), seed=0)
    assert len(record) == steps
    # with a conditioning frame the stock loop overwrites its latent's frame 0 in place (the denoiser reads
    # the clean frame either way): the latents are compared after it
    k = 1 if images else 0
    for i, ((_, t, x, ours), (x_stock, theirs)) in enumerate(zip(record, seen)):
        assert x.shape == x_stock.shape and ours.shape == theirs.shape, (family, i)
        assert (x - x_stock)[:, k:].abs().max() <= 1e-5 * x_stock.abs().max(), (family, i, "latent")
        assert (ours - theirs).abs().max() <= 1e-5 * theirs.abs().max(), (family, i, float(t))
    assert (record[-1][2] - record[0][2]).abs().max() > 1e-3, "the latent never moved: the steps check nothing"


def test_flow_map_target_is_the_next_sigma_and_matters(tiny):
    """r = sigmas[i + 1] * 1000 on the schedule set; t itself off it; and the prediction depends on r."""
    import copy

    from weditor.adapters.anyflow import target_of

    pipe, adapter = load(tiny("anyflow"))
    scheduler = copy.deepcopy(pipe.scheduler)
    adapter.set_timesteps(pipe, scheduler, 4, (32, 32, 5), "cpu")
    for i, t in enumerate(scheduler.timesteps):
        assert float(target_of(pipe, t)) == pytest.approx(float(scheduler.sigmas[i + 1]) * 1000, abs=1e-6)
    assert float(target_of(pipe, torch.tensor(900.0))) == 900.0
    cond = encode(pipe, adapter, ["a red car"], "cpu")
    x = adapter.latents(pipe, (32, 32, 5), torch.Generator().manual_seed(1), "cpu")
    t = scheduler.timesteps[1]
    on = adapter.forward(pipe.transformer, x, t, cond)
    off = adapter.forward(pipe.transformer, x, t, dict(cond, _target=lambda t: t))
    assert (on - off).abs().max() > 1e-3 * on.abs().max()


@pytest.mark.parametrize("name", ["anyflow-far", "helios"])
def test_pairs_with_images_are_refused(name, tiny, i2v_pairs, tmp_path):
    out = tmp_path / "o"
    result = run_cli(["patch", tiny(name), "--pairs", i2v_pairs, "--out", out, "--no-summary"])
    assert result.exit_code == 2 and "Error:" in result.output and "Traceback" not in result.output
    assert "text-to-video only" in result.output and not out.exists()


def test_far_default_size_is_its_first_chunk(tiny):
    pipe, adapter = load(tiny("anyflow-far"))
    assert adapter.size_for(pipe) == (256, 256, 5)  # chunk_partition (2, 1): 2 latent frames = 5 frames
    x = adapter.latents(pipe, (32, 32, 9), torch.Generator().manual_seed(0), "cpu")
    assert x.shape == (1, 2, 4, 4, 4)  # (batch, frames, channels, height, width), cut to the first chunk


def test_pyramid_refuses_a_size_too_small_for_its_first_stage(tiny, tmp_path):
    out = tmp_path / "o"
    result = run_cli(["patch", tiny("helios-pyramid"), "--pairs", TINY_PAIRS, "--out", out, "--size", "32x32x9"])
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert result.exit_code == 2 and len(errors) == 1 and "use at least 64x64" in errors[0], result.output
    assert "Traceback" not in result.output and not out.exists()
