"""REINS on the newer classes with an ungated cross-attention write: the folded bias equals a run-time hook.

The fold is exact wherever the write is added to the stream as is; these classes reuse Wan's, LTX's
or the UNet's table, but their steps differ (diffusion forcing, VACE hints, LTX conditioning
tokens, ZeroScope V2V, Wan Animate's pose and face adapters), so each is checked with its own adapter step.
"""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_adapters import FAMILIES, assert_edited_as, inputs, load, tiny  # noqa: F401 (fixture)
from weditor.methods.reins import REINS_FILE
from weditor.models.runtime import block_path

NAMES = [
    "skyreels-df",
    "wan-vace",
    "ltx-condition-text",
    "ltx-long",
    "zeroscope-v2v",
    "ltx2",
    "ltx2-dfr",
    "ltx2-hdr",
    "wan-animate-text",
]  # keys of test_adapters.FAMILIES
NAMES += ["allegro", "latte"]  # PixArt-style blocks: ungated cross-attention write
NAMES += ["anyflow-text", "anyflow-far", "helios", "helios-pyramid"]  # Wan's blocks: flow maps, chunks, pyramid stage 0
NAMES += [
    "animatediff",
    "animatediff-v2v",
    "pia-text",
    "animatediff-sdxl",
    "i2vgenxl-text",
    "animatediff-controlnet",
    "animatediff-sparsectrl-text",
]  # motion-adapter UNets: UNet3D's ungated writes
NAMES += ["sana-video", "sana-video-i2v-text"]  # Sana-Video: ungated cross-attention write
NAMES += ["motif-video-xattn"]  # Motif-Video with its optional text cross-attention (read off the config)


@pytest.mark.parametrize("name", NAMES)
def test_reins_fold_equals_a_runtime_hook(name, tiny, tmp_path):
    from weditor.adapters.paths import module_at

    base_dir, out = tiny(FAMILIES[name][0]), tmp_path / "o"
    result = run_cli(
        [
            "patch",
            base_dir,
            "--pairs",
            TINY_PAIRS,
            "--method",
            "reins",
            "--out",
            out,
            "--size",
            FAMILIES[name][1],
            "--no-summary",
        ]
    )
    assert result.exit_code == 0, result.output
    fold = load_file(out / REINS_FILE)
    hooked, adapter = load(base_dir)
    reloaded, _ = load(out)
    vectors = {k[: -len(".vector")]: v for k, v in fold.items() if k.endswith(".vector")}
    assert vectors
    for key, v in vectors.items():
        component, _, block = key.split(".")
        path = f"{block_path(hooked, adapter, component, int(block))}.{adapter.ungated_write}"
        module_at(getattr(hooked, component), path).register_forward_hook(lambda m, a, y, v=v.float(): y + v)
    cond, x, _ = inputs(hooked, adapter, name, TINY_PAIRS)  # no image: the text-only inputs
    base, _ = load(base_dir)
    model = adapter.denoisers[0]
    for t in (torch.tensor(900.0), torch.tensor(300.0)):
        got = adapter.forward(getattr(reloaded, model), x, t, cond)
        want = adapter.forward(getattr(hooked, model), x, t, cond)
        orig = adapter.forward(getattr(base, model), x, t, cond)
        assert_edited_as(got, want, orig, name)
