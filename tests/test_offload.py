"""`weditor patch --offload`: group offloading changes where weights live, never the patch.

Only a CPU is available where these tests run, so blocks are "moved" from the CPU to the CPU:
no memory is saved, but the same diffusers hooks wrap every block, our taps fire inside them,
the in-memory edit has to survive them, and verification reloads under them. That the patch is
byte-identical to one made without offloading is what the option promises on a GPU too.
"""

import torch

from tests.conftest import PAPER_SITE, TINY_PAIRS, TINY_SIZE, run_cli
from weditor.io.recipe import hash_files


def test_offload_gives_the_identical_patch(tiny_wan, patched, tmp_path):
    out = tmp_path / "offload" / patched.name  # the folder name appears in the model card
    result = run_cli(
        ["patch", tiny_wan, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, *PAPER_SITE, "--offload"]
    )
    assert result.exit_code == 0, result.output
    assert hash_files(out) == hash_files(patched)
    assert (out / "weditor.json").read_bytes() == (patched / "weditor.json").read_bytes()  # offload is not a parameter


def test_offloaded_pipeline_has_hooks_and_taps_still_see_activations(tiny_wan):
    from diffusers.hooks.group_offloading import _is_group_offload_enabled

    from weditor.adapters import adapter_for_class
    from weditor.io.checkpoint import resolve_model
    from weditor.models.loading import load_pipeline
    from weditor.models.runtime import Settings, SiteKey, taps, trajectory

    base = resolve_model(str(tiny_wan))
    adapter = adapter_for_class(base.pipeline_class)
    pipe = load_pipeline(base, None, "cpu", offload=True)
    assert _is_group_offload_enabled(pipe.transformer) and _is_group_offload_enabled(pipe.text_encoder)
    seen = []
    with taps(pipe, adapter, [SiteKey("transformer", 1, "ffn_in")]) as t:
        t.fn = lambda key, x: seen.append(x.clone())
        cond = adapter.encode(pipe, ["a red car on a street"], "cpu")
        trajectory(pipe, adapter, cond, Settings(size=(32, 32, 5), steps=2), seed=0)
    assert seen and all(torch.isfinite(x).all() for x in seen)


def test_offload_gives_the_identical_text_side_patch(tiny_wan, tmp_path):
    """The default method (text read-out) and SAFREE read the weights from the files and load the edit into
    offloaded modules for the summary: the same bytes as without offloading."""
    for method in ("text", "safree"):
        outs = {}
        for name, extra in (("plain", []), ("offload", ["--offload"])):
            outs[name] = tmp_path / method / name / "out"
            result = run_cli(
                [
                    "patch",
                    tiny_wan,
                    "--pairs",
                    TINY_PAIRS,
                    "--out",
                    outs[name],
                    "--size",
                    TINY_SIZE,
                    "--steps",
                    "2",
                    "--method",
                    method,
                    *extra,
                ]
            )
            assert result.exit_code == 0, result.output
        assert hash_files(outs["offload"]) == hash_files(outs["plain"]), method
