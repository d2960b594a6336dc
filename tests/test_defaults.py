"""The default patch (what `weditor patch --pairs F --out O` does on Wan): the read-out edit on the
output side of every block's cross-attention write, along the mean paired difference. It is checked
against the base with the pure edit functions and against a runtime hook, after a stock reload;
the projection edit (weditor 0.2's default) has the same checks."""

import json

import pytest
import torch

from tests.conftest import TINY_PAIRS, TINY_SIZE, patch_tiny, readouts_of, run_cli
from tests.test_patch import all_tensors, directions, load
from weditor import defaults
from weditor.io.recipe import READOUT_FILE
from weditor.maths.edits import project_output, remove_output
from weditor.maths.moments import RunningMoments
from weditor.methods.refusal_collect import neutral_batches


@pytest.fixture(scope="module")
def patched_default(tiny_wan, tmp_path_factory):
    out = tmp_path_factory.mktemp("default") / "out"
    (out.parent / "stdout.txt").write_text(patch_tiny(tiny_wan, out, "--method", "refusal").output)
    return out


@pytest.fixture(scope="module")
def patched_projection(tiny_wan, tmp_path_factory):
    out = tmp_path_factory.mktemp("projection") / "out"
    patch_tiny(tiny_wan, out, "--method", "refusal", "--edit", "projection")
    return out


def test_defaults_are_recorded(patched_default, patched_projection):
    params = json.loads((patched_default / "weditor.json").read_text())["params"]
    assert params["site"] == "cross_attn_out" and params["layers"] == defaults.LAYERS
    assert params["edit"] == defaults.EDIT == "readout" and params["removal"] == defaults.REMOVAL
    assert params["strength"] == defaults.READOUT_STRENGTH and params["rank"] is None and "alpha" not in params
    assert params["neutral"] == defaults.NEUTRAL == "raw"
    assert params["layers_resolved"] == {"transformer": [0, 1, 2, 3], "transformer_2": [0, 1, 2, 3]}
    params = json.loads((patched_projection / "weditor.json").read_text())["params"]
    assert params["edit"] == "projection" and "removal" not in params
    assert (
        params["strength"] == defaults.STRENGTH
        and params["rank"] == defaults.RANK
        and params["alpha"] == defaults.ALPHA
    )


def test_default_edit_equals_the_readout_removal_of_the_base(tiny_wan, patched_default):
    base, out = all_tensors(tiny_wan), all_tensors(patched_default)
    dirs, reads = directions(patched_default), readouts_of(patched_default)
    assert len(dirs) == 8 and reads.keys() == dirs.keys()  # 4 blocks x 2 transformers
    changed = 0
    for key, Q in dirs.items():
        component, _, block, site = key.split(".")
        name = f"blocks.{block}.attn2.to_out.0"
        A, a = reads[key]
        assert A.shape == Q.shape and a.abs().max() > 0  # a fitted read-out, not the projection
        w, b = remove_output(
            base[(component, f"{name}.weight")], base[(component, f"{name}.bias")], Q, A, a, defaults.READOUT_STRENGTH
        )
        assert torch.equal(out[(component, f"{name}.weight")], w) and torch.equal(out[(component, f"{name}.bias")], b)
        changed += 2
    differ = [k for k in out if not torch.equal(out[k], base[k])]
    assert len(differ) == changed  # nothing else moved


def test_projection_edit_equals_the_output_projection_of_the_base(tiny_wan, patched_projection):
    base, out, dirs = all_tensors(tiny_wan), all_tensors(patched_projection), directions(patched_projection)
    assert not (patched_projection / READOUT_FILE).exists()
    for key, Q in dirs.items():
        component, _, block, site = key.split(".")
        name = f"blocks.{block}.attn2.to_out.0"
        w, b = project_output(
            base[(component, f"{name}.weight")], base[(component, f"{name}.bias")], Q, defaults.STRENGTH
        )
        assert torch.equal(out[(component, f"{name}.weight")], w) and torch.equal(out[(component, f"{name}.bias")], b)


def _compare_with_hook(tiny_wan, patched, hook):
    dirs = directions(patched)
    hooked, reloaded, base = load(tiny_wan), load(patched), load(tiny_wan)
    for key in dirs:
        component, _, block, _ = key.split(".")
        module = getattr(hooked, component).blocks[int(block)].attn2.to_out[0]
        module.register_forward_hook(lambda m, a, y, key=key: hook(key, y))
    g = torch.Generator().manual_seed(0)
    x, text = torch.randn(2, 4, 2, 4, 4, generator=g), torch.randn(2, 16, 16, generator=g)
    for component in ("transformer", "transformer_2"):
        for t in (999.0, 400.0):
            kw = dict(hidden_states=x, timestep=torch.tensor([t, t]), encoder_hidden_states=text, return_dict=False)
            want, got, orig = (getattr(p, component)(**kw)[0] for p in (hooked, reloaded, base))
            assert (got - want).abs().max() <= 1e-5 * want.abs().max()
            assert (got - orig).abs().max() > 1e-4 * orig.abs().max()


def test_default_reload_matches_an_output_hook(tiny_wan, patched_default):
    """The stock reload writes what a hook computes at run time: y - lambda Q^T (A y + a)."""
    dirs, reads = directions(patched_default), readouts_of(patched_default)

    def hook(key, y):
        Q, (A, a) = dirs[key].double(), reads[key]
        return (y.double() - defaults.READOUT_STRENGTH * (y.double() @ A.T + a) @ Q).to(y.dtype)

    _compare_with_hook(tiny_wan, patched_default, hook)


def test_projection_reload_matches_an_output_hook(tiny_wan, patched_projection):
    """lambda < 1 keeps (1 - lambda) of the write along Q: the hook subtracts lambda of it."""
    dirs = directions(patched_projection)
    _compare_with_hook(
        tiny_wan,
        patched_projection,
        lambda key, y: y - defaults.STRENGTH * (y @ dirs[key].float().T) @ dirs[key].float(),
    )


def test_the_readout_reaches_the_removal_at_every_site(patched_default):
    sites = json.loads((patched_default / "weditor.json").read_text())["summary"]["sites"]
    assert len(sites) == 8
    for s in sites:
        assert s["removal"] >= defaults.REMOVAL - 1e-3 and s["neutral_weight"] > 0, s
    printed = (patched_default.parent / "stdout.txt").read_text()
    assert "read-out edit, removal 0.6" in printed and "neutral w" in printed
    rows = [line.split() for line in printed.splitlines() if ".cross_attn_out" in line]
    assert len(rows) == 8 and all(float(r[-2]) >= defaults.REMOVAL - 1e-3 for r in rows)


def test_an_input_side_readout_matches_a_pre_hook(tiny_wan_single, tmp_path):
    """On a reading site the read-out is folded into the weight alone (no intercept): x -> x - Q^T A x."""
    out = tmp_path / "o"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--site",
            "ffn_in",
            "--layers",
            "1-3",
            "--no-summary",
        ]
    )
    assert result.exit_code == 0, result.output
    kinds = {e["kind"] for e in json.loads((out / "weditor.json").read_text())["edits"]}
    assert kinds == {"input_readout"}
    dirs, reads = directions(out), readouts_of(out)
    hooked, reloaded, base = load(tiny_wan_single), load(out), load(tiny_wan_single)
    for key, Q in dirs.items():
        A, a = reads[key]
        assert torch.equal(a, torch.zeros_like(a))
        module = hooked.transformer.blocks[int(key.split(".")[2])].ffn.net[0].proj
        module.register_forward_pre_hook(
            lambda m, args, Q=Q.double(), A=A: ((args[0].double() - (args[0].double() @ A.T) @ Q).to(args[0].dtype),)
        )
    g = torch.Generator().manual_seed(1)
    x, text = torch.randn(1, 4, 2, 4, 4, generator=g), torch.randn(1, 16, 16, generator=g)
    kw = dict(hidden_states=x, timestep=torch.tensor([700.0]), encoder_hidden_states=text, return_dict=False)
    want, got, orig = (p.transformer(**kw)[0] for p in (hooked, reloaded, base))
    assert (got - want).abs().max() <= 1e-5 * want.abs().max()
    assert (got - orig).abs().max() > 1e-4 * orig.abs().max()


def test_the_readout_patch_is_recomputed_exactly_by_verify(tiny_wan, patched_default, tmp_path):
    """`weditor verify` recomputes each edit from the base, the directions and the saved read-outs."""
    import shutil

    from weditor.checks.verify import verify_patched

    report = verify_patched(patched_default)
    assert report.ok, report.problems
    assert report.base == str(tiny_wan)
    assert set(report.recomputed.values()) == {"exact"} and len(report.recomputed) == 16
    copy = tmp_path / "copy"  # a read-out that is not the one used: the recomputation must notice
    shutil.copytree(patched_default, copy)
    from safetensors.torch import load_file, save_file

    tensors = load_file(copy / READOUT_FILE)
    key = sorted(tensors)[0]
    tensors[key] = tensors[key] * 1.01
    save_file(tensors, copy / READOUT_FILE)
    report = verify_patched(copy)
    assert not report.ok and any("MISMATCH" in v for v in report.recomputed.values())


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
    assert torch.allclose(
        centred.covariance,
        (want.expand(4, 50, 8).reshape(-1, 8).T @ want.expand(4, 50, 8).reshape(-1, 8) / 200).double(),
        atol=1e-5,
    )


def test_raw_neutral_mode_is_a_different_patch(tiny_wan_single, tmp_path):
    outs = {}
    for mode in ("prompt", "raw"):
        outs[mode] = tmp_path / mode
        result = run_cli(
            [
                "patch",
                "--method",
                "refusal",
                tiny_wan_single,
                "--pairs",
                TINY_PAIRS,
                "--out",
                outs[mode],
                "--size",
                TINY_SIZE,
                "--layers",
                "2",
                "--rank",
                "16",
                "--alpha",
                "1",
                "--neutral",
                mode,
                "--edit",
                "projection",
                "--no-summary",
            ]
        )
        assert result.exit_code == 0, result.output
    a, b = directions(outs["prompt"]), directions(outs["raw"])
    assert a.keys() == b.keys() and not all(torch.equal(a[k], b[k]) for k in a)


def test_sites_without_a_direction_are_skipped_and_recorded(tiny_wan_single, tmp_path):
    """Block 0's cross-attention query sees the same stream for both members: no direction there."""
    out = tmp_path / "o"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--site",
            "cross_attn_in",
            "--layers",
            "0-2",
            "--no-summary",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "has no direction at 1 of 3 sites" in result.output and "transformer.blocks.0.cross_attn_in" in result.output
    recipe = json.loads((out / "weditor.json").read_text())
    assert [s["site"] for s in recipe["skipped_sites"]] == ["transformer.blocks.0.cross_attn_in"]
    assert recipe["params"]["layers_resolved"] == {"transformer": [1, 2]}
    assert sorted(directions(out)) == ["transformer.blocks.1.cross_attn_in", "transformer.blocks.2.cross_attn_in"]


def test_a_concept_with_no_direction_anywhere_is_an_error(tiny_wan_single, tmp_path):
    out = tmp_path / "o"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--site",
            "cross_attn_in",
            "--layers",
            "0",
            "--no-summary",
        ]
    )
    assert result.exit_code == 2 and "no direction at any of the 1 sites" in result.output
    assert not out.exists()


def test_summary_after_an_output_side_edit_is_the_kept_fraction(patched_projection):
    """Block 0 sees the same input before and after (forced latents): its write keeps exactly 1 - lambda."""
    sites = json.loads((patched_projection / "weditor.json").read_text())["summary"]["sites"]
    first = [s for s in sites if ".blocks.0." in s["site"]]
    assert len(first) == 2
    for s in first:
        want = (1 - defaults.STRENGTH) * s["proj_eval_before"]
        assert abs(s["proj_eval_after"] - want) <= 2e-4 + 1e-3 * abs(s["proj_eval_before"]), s
        assert abs(s["proj_eval_before"]) > 1e-3


def test_the_model_card_describes_the_edit_that_was_made(patched_default, patched_projection):
    card, card_projection = ((p / "README.md").read_text() for p in (patched_default, patched_projection))
    assert "least-squares read-out" in card and "weditor/readout.safetensors" in card
    assert "no longer writes along it" not in card
    assert "no longer writes along it" in card_projection and "read-out" not in card_projection


def test_the_readout_refuses_prompt_centred_neutral_activations(tiny_wan_single, tmp_path):
    """Centred activations are not tokens the model sees: a read-out fitted to leave them alone is wrong."""
    out = tmp_path / "o"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--neutral",
            "prompt",
        ]
    )
    assert result.exit_code == 2 and "--neutral prompt" in result.output and "--edit projection" in result.output
    assert not out.exists()


def test_a_removal_the_pairs_cannot_reach_is_named(tiny_wan_single, tmp_path):
    out = tmp_path / "o"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--layers",
            "-1",
            "--removal",
            "1",
            "--no-summary",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "note: the read-out reaches less than --removal 1 at 1 of 1 sites" in result.output
