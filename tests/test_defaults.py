"""The default patch (what `weditor patch --pairs F --out O` does on Wan): the output side of every
block's cross-attention write, lambda < 1, prompt-centred neutral covariance. Each is checked
against the base with the pure edit functions and against a runtime hook, after a stock reload."""

import json

import pytest
import torch

from tests.conftest import TINY_PAIRS, TINY_SIZE, run_cli
from tests.test_patch import all_tensors, directions, load
from weditor import defaults
from weditor.edits import project_output
from weditor.moments import RunningMoments
from weditor.patching import neutral_batches


@pytest.fixture(scope="module")
def patched_default(tiny_wan, tmp_path_factory):
    out = tmp_path_factory.mktemp("default") / "out"
    result = run_cli(["patch", tiny_wan, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE])
    assert result.exit_code == 0, result.output
    return out


def test_defaults_are_recorded(patched_default):
    params = json.loads((patched_default / "weditor.json").read_text())["params"]
    assert params["site"] == "cross_attn_out" and params["layers"] == defaults.LAYERS
    assert params["strength"] == defaults.STRENGTH and params["alpha"] == defaults.ALPHA
    assert params["neutral"] == defaults.NEUTRAL == "raw"
    assert params["layers_resolved"] == {"transformer": [0, 1, 2, 3], "transformer_2": [0, 1, 2, 3]}


def test_default_edit_equals_the_output_projection_of_the_base(tiny_wan, patched_default):
    base, out, dirs = all_tensors(tiny_wan), all_tensors(patched_default), directions(patched_default)
    assert len(dirs) == 8  # 4 blocks x 2 transformers
    changed = 0
    for key, Q in dirs.items():
        component, _, block, site = key.split(".")
        name = f"blocks.{block}.attn2.to_out.0"
        w, b = project_output(base[(component, f"{name}.weight")], base[(component, f"{name}.bias")], Q, defaults.STRENGTH)
        assert torch.equal(out[(component, f"{name}.weight")], w) and torch.equal(out[(component, f"{name}.bias")], b)
        changed += 2
    differ = [k for k in out if not torch.equal(out[k], base[k])]
    assert len(differ) == changed  # nothing else moved


def test_default_reload_matches_an_output_hook(tiny_wan, patched_default):
    """lambda < 1 keeps (1 - lambda) of the write along Q: the hook subtracts lambda of it."""
    dirs = directions(patched_default)
    hooked, reloaded, base = load(tiny_wan), load(patched_default), load(tiny_wan)
    for key, Q in dirs.items():
        component, _, block, _ = key.split(".")
        module = getattr(hooked, component).blocks[int(block)].attn2.to_out[0]
        module.register_forward_hook(lambda m, a, y, Q=Q.float(): y - defaults.STRENGTH * (y @ Q.T) @ Q)
    g = torch.Generator().manual_seed(0)
    x, text = torch.randn(2, 4, 2, 4, 4, generator=g), torch.randn(2, 16, 16, generator=g)
    for component in ("transformer", "transformer_2"):
        for t in (999.0, 400.0):
            kw = dict(hidden_states=x, timestep=torch.tensor([t, t]), encoder_hidden_states=text, return_dict=False)
            want, got, orig = (getattr(p, component)(**kw)[0] for p in (hooked, reloaded, base))
            assert (got - want).abs().max() <= 1e-5 * want.abs().max()
            assert (got - orig).abs().max() > 1e-4 * orig.abs().max()


def test_neutral_batches_never_leave_a_prompt_alone():
    for n in range(2, 23):
        batches = neutral_batches(n, 4)
        assert sorted(i for b in batches for i in b) == list(range(n))
        assert min(len(b) for b in batches) >= 2
    assert neutral_batches(1, 4) == [[0]]


def test_prompt_centred_neutral_covariance_drops_what_all_prompts_share():
    """A component common to every prompt of a batch (noise, position) leaves the prompt-centred moments."""
    g = torch.Generator().manual_seed(0)
    shared = torch.randn(1, 50, 8, generator=g) * 10  # same for every prompt: what the shared noise does
    prompt = torch.randn(4, 1, 8, generator=g)  # one offset per prompt: what the prompt does
    x = shared + prompt
    centred = RunningMoments(8).update(x - x.mean(0, keepdim=True))
    want = prompt - prompt.mean(0, keepdim=True)
    assert torch.allclose(centred.covariance, (want.expand(4, 50, 8).reshape(-1, 8).T @ want.expand(4, 50, 8).reshape(-1, 8)
                                               / 200).double(), atol=1e-5)


def test_raw_neutral_mode_is_a_different_patch(tiny_wan_single, tmp_path):
    outs = {}
    for mode in ("prompt", "raw"):
        outs[mode] = tmp_path / mode
        result = run_cli(["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", outs[mode], "--size", TINY_SIZE,
                          "--layers", "2", "--alpha", "1", "--neutral", mode, "--no-summary"])
        assert result.exit_code == 0, result.output
    a, b = directions(outs["prompt"]), directions(outs["raw"])
    assert a.keys() == b.keys() and not all(torch.equal(a[k], b[k]) for k in a)


def test_sites_without_a_direction_are_skipped_and_recorded(tiny_wan_single, tmp_path):
    """Block 0's cross-attention query sees the same stream for both members: no direction there."""
    out = tmp_path / "o"
    result = run_cli(["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE,
                      "--site", "cross_attn_in", "--layers", "0-2", "--no-summary"])
    assert result.exit_code == 0, result.output
    assert "has no direction at 1 of 3 sites" in result.output and "transformer.blocks.0.cross_attn_in" in result.output
    recipe = json.loads((out / "weditor.json").read_text())
    assert [s["site"] for s in recipe["skipped_sites"]] == ["transformer.blocks.0.cross_attn_in"]
    assert recipe["params"]["layers_resolved"] == {"transformer": [1, 2]}
    assert sorted(directions(out)) == ["transformer.blocks.1.cross_attn_in", "transformer.blocks.2.cross_attn_in"]


def test_a_concept_with_no_direction_anywhere_is_an_error(tiny_wan_single, tmp_path):
    out = tmp_path / "o"
    result = run_cli(["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE,
                      "--site", "cross_attn_in", "--layers", "0", "--no-summary"])
    assert result.exit_code == 2 and "no direction at any of the 1 sites" in result.output
    assert not out.exists()


def test_summary_after_an_output_side_edit_is_the_kept_fraction(patched_default):
    """Block 0 sees the same input before and after (forced latents): its write keeps exactly 1 - lambda."""
    sites = json.loads((patched_default / "weditor.json").read_text())["summary"]["sites"]
    first = [s for s in sites if ".blocks.0." in s["site"]]
    assert len(first) == 2
    for s in first:
        want = (1 - defaults.STRENGTH) * s["proj_eval_before"]
        assert abs(s["proj_eval_after"] - want) <= 2e-4 + 1e-3 * abs(s["proj_eval_before"]), s
        assert abs(s["proj_eval_before"]) > 1e-3
