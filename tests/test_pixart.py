"""The PixArt-style families' own glue (weditor/adapters/pixart.py, latte.py): the denoiser input's scale
read off the timestep, Latte's padded prompt batches and its fixed frame count."""

from __future__ import annotations

import copy

import pytest
import torch

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_adapters import load, tiny  # noqa: F401 (fixture)
from weditor.adapters.pixart import input_scale
from weditor.errors import WeditorError


@pytest.mark.parametrize("spacing", ["linspace", "leading", "trailing"])
@pytest.mark.parametrize("name", ["EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler"])
def test_input_scale_equals_scale_model_input_at_every_step(name, spacing):
    import diffusers

    scheduler = getattr(diffusers, name)(timestep_spacing=spacing)
    scheduler.set_timesteps(7)
    factor = input_scale(scheduler)
    x = torch.randn(1, 4, 2, 3, 3)
    moved = 0.0
    for t in scheduler.timesteps:
        want = copy.deepcopy(scheduler).scale_model_input(x, t)  # a fresh copy finds t's step itself
        got = x * factor(t)
        assert (got - want).abs().max() <= 1e-6 * want.abs().max(), float(t)
        moved = max(moved, float((x - want).abs().max()))
    assert moved > 0.5, "the scale is the identity: nothing checked"


def test_input_scale_is_none_where_the_scheduler_does_not_scale_and_refuses_unreadable_sigmas():
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, EulerDiscreteScheduler

    assert input_scale(DDIMScheduler()) is None and input_scale(DPMSolverMultistepScheduler()) is None
    with pytest.raises(WeditorError, match="use_karras_sigmas"):
        input_scale(EulerDiscreteScheduler(use_karras_sigmas=True))


def test_latte_pads_a_batch_of_prompts_and_masks_the_padding(tiny):
    """A batch of prompts of different lengths gives each prompt's prediction alone (cut, unmasked, as the
    pipeline runs one prompt)."""
    from weditor.models.runtime import encode

    pipe, adapter = load(tiny("latte"))
    prompts = ["a red car on a street at night", "a dog"]
    cond = encode(pipe, adapter, prompts, "cpu")
    assert cond["encoder_attention_mask"].sum(1).tolist()[1] < cond["encoder_attention_mask"].shape[1]
    x = adapter.latents(pipe, adapter.size_for(pipe), torch.Generator().manual_seed(1), "cpu")
    both = adapter.forward(pipe.transformer, x.expand(2, *x.shape[1:]), torch.tensor(500), cond)
    for i, prompt in enumerate(prompts):
        alone = adapter.forward(pipe.transformer, x, torch.tensor(500), encode(pipe, adapter, [prompt], "cpu"))
        assert (both[i : i + 1] - alone).abs().max() <= 1e-5 * alone.abs().max(), prompt
    unmasked = dict(cond, encoder_attention_mask=torch.ones_like(cond["encoder_attention_mask"]))
    assert (adapter.forward(pipe.transformer, x.expand(2, *x.shape[1:]), torch.tensor(500), unmasked) - both)[
        1
    ].abs().max() > 1e-4, "the padding mask changes nothing: the check above checks nothing"


def test_latte_refuses_another_frame_count(tiny, tmp_path):
    out = tmp_path / "o"
    result = run_cli(["patch", tiny("latte"), "--pairs", TINY_PAIRS, "--out", out, "--size", "32x32x8"])
    assert result.exit_code == 2, result.output
    assert "Error:" in result.output and "video_length" in result.output and "Traceback" not in result.output
    assert not out.exists()
