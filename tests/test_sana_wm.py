"""SANA-WM (weditor/adapters/sana_wm.py): the text folds and the REINS fold are exact but for the stock softmax
blocks' bfloat16 rounding of float32 queries, keys and values before attention (tests/test_adapters.py,
BF16_ATTENTION), and the collection's fixed camera reaches the transformer."""

from __future__ import annotations

import pytest
import torch

from tests.test_adapters import bf16_rounding_left_out, load, tiny  # noqa: F401 (fixture)
from tests.test_safree import safree_patched  # noqa: F401 (fixture)
from tests.test_text_readout import text_patched  # noqa: F401 (fixture)


@pytest.mark.parametrize("method", ["safree", "text", "reins"])
def test_the_folds_are_exact_but_for_the_stock_bf16_rounding(method, tiny, safree_patched, text_patched, tmp_path):
    """SAFREE's and the read-out's folds into `y_embedder.y_proj.fc1`, and REINS's bias on `cross_attn.proj`, each
    equal to its run-time reference at the shared 1e-5 with the bfloat16 rounding left out."""
    import tests.test_reins_families as reins
    import tests.test_safree as safree
    import tests.test_text_readout as readout

    run = {
        "safree": lambda: safree.test_safree_fold_is_exact("sana-wm", tiny, safree_patched),
        "text": lambda: readout.test_text_readout_fold_is_exact("sana-wm", tiny, text_patched),
        "reins": lambda: reins.test_reins_fold_equals_a_runtime_hook("sana-wm-text", tiny, tmp_path),
    }[method]
    with pytest.MonkeyPatch.context() as mp, bf16_rounding_left_out():
        mp.setitem(safree.FAMILIES, "sana-wm", "32x32x5")
        run()


def test_the_camera_reaches_the_transformer(tiny):
    """The same prompt and image with the principal point moved gives another prediction: the camera tensors the
    adapter builds are read (a still camera whose intrinsics the forward ignored would pass the step test too)."""
    from weditor.adapters import sana_wm
    from weditor.models.runtime import encode

    pipe, adapter = load(tiny("sana-wm"))
    x = adapter.latents(pipe, (32, 32, 5), torch.Generator().manual_seed(1), "cpu")
    cond = encode(pipe, adapter, ["a red car"], "cpu")
    still = adapter.forward(pipe.transformer, x, torch.tensor(600.0), cond)
    c2w, intrinsics = sana_wm.camera(__import__("PIL.Image").Image.new("RGB", (64, 64), (128, 128, 128)), 5)
    c2w[1:, 2, 3] = torch.linspace(0.2, 0.8, 4).numpy()  # the camera moves forward instead
    c2w, intrinsics = pipe.prepare_camera_trajectory(c2w, None, intrinsics, 5)
    cam = pipe._build_camera_kwargs(c2w, intrinsics, (32, 32), device="cpu", dtype=torch.float32, do_cfg=False)
    moved = dict(cond, _sized={})
    built = cond["_build"](x)
    moved["_build"] = lambda _: {**built, **cam}
    other = adapter.forward(pipe.transformer, x, torch.tensor(600.0), moved)
    assert (other - still).abs().max() > 1e-3 * still.abs().max()


def test_the_gated_attention_write_is_refused(tiny, tmp_path):
    """`attn.proj` is gated. With `--size` given: without it the refusal comes only after the self-tuning's runs at
    the default 256x256x17, minutes for this tiny model on two CPU cores."""
    from tests.conftest import TINY_PAIRS, run_cli

    out = tmp_path / "o"
    args = ["patch", "--method", "refusal", tiny("sana-wm"), "--pairs", TINY_PAIRS, "--out", out]
    result = run_cli(args + ["--site", "self_attn_out", "--size", "32x32x5"])
    assert result.exit_code == 2 and "gate" in result.output
    assert not out.exists()
