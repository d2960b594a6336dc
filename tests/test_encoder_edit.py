"""`weditor patch --method encoder`: the closed-form edit of the text encoder's last FFN output projection(s)
(weditor/methods/encoder_edit.py, weditor/methods/encoder.py).

Exactness: the text encoder reloaded by its stock class from the written folder must equal the in-memory
edit (weights bit for bit, encoder outputs within a tolerance that fails on an unedited file), the edit
must change the concept's encoding, the solve must satisfy its normal equations, `weditor verify` must
recompute the tensor from the base and the saved increment (and fail on a tampered one), and `--recipe`
must reproduce the folder byte for byte.
"""

from __future__ import annotations

import json

import pytest
import torch

from tests.conftest import TINY_PAIRS, assert_option_refused, assert_verify_exact_and_tamper_caught, run_cli
from tests.test_adapters import load, tiny  # noqa: F401 (fixture)
from tests.test_safree import FAMILIES
from weditor.io.recipe import hash_files
from weditor.methods import encoder_edit
from weditor.models.runtime import encode


@pytest.fixture(scope="module")
def encoder_patched(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("encoder") / "o"
    args = ["patch", tiny("wan"), "--pairs", TINY_PAIRS, "--method", "encoder", "--encoder-preserve", "1"]
    result = run_cli([*args, "--out", out, "--size", FAMILIES["wan"]])
    assert result.exit_code == 0, result.output
    return out


def _in_memory(pipe, adapter, pairsets, params):
    """{component: {name: edited}}, as the method computes it (solved from the live base weights)."""
    from weditor.io.pairs import neutral_prompts
    from weditor.maths.edits import add_delta

    comp, sites = encoder_edit.site(pipe, adapter, params.layers)
    stats = encoder_edit.statistics(pipe, adapter, pairsets, neutral_prompts(pairsets), "cpu", params.layers)
    enc = getattr(pipe, comp)
    out = {}
    for (_, path), st in zip(sites, stats):
        w = enc.get_submodule(path).weight.detach()
        out[f"{path}.weight"] = add_delta(w, encoder_edit.solve_delta(w, st, params))
    return comp, out


def test_stock_reload_of_the_text_encoder_equals_the_in_memory_edit(tiny, encoder_patched):
    from weditor.io.pairs import load_pairsets
    from weditor.models.measure import apply_in_memory

    pipe, adapter = load(tiny("wan"))
    pairsets = load_pairsets([TINY_PAIRS])
    prompts = [p.unsafe for p in pairsets[0].pairs] + list(pairsets[0].neutral)
    before = [encode(pipe, adapter, [p], "cpu")["encoder_hidden_states"].detach() for p in prompts]
    comp, edited = _in_memory(pipe, adapter, pairsets, encoder_edit.EncoderParams(preserve_scale=1.0))
    assert len(edited) == 1
    apply_in_memory(pipe, {comp: edited})
    after = [encode(pipe, adapter, [p], "cpu")["encoder_hidden_states"].detach() for p in prompts]
    reloaded = type(pipe.text_encoder).from_pretrained(encoder_patched / "text_encoder")
    for name, value in edited.items():
        assert torch.equal(reloaded.get_parameter(name).detach(), value)
    pipe.text_encoder = reloaded
    again = [encode(pipe, adapter, [p], "cpu")["encoder_hidden_states"].detach() for p in prompts]
    scale = max(float(a.abs().max()) for a in after)
    worst = max(float((a - b).abs().max()) for a, b in zip(after, again))
    moved = max(float((a - b).abs().max()) for a, b in zip(after, before))
    assert worst <= 1e-6 * scale, worst
    assert moved > 1e-3 * scale, "the edit changed nothing: the test could not fail"


def test_the_solve_meets_its_normal_equations_and_moves_tokens_to_their_twins(tiny):
    from weditor.io.pairs import load_pairsets, neutral_prompts

    pipe, adapter = load(tiny("wan"))
    pairsets = load_pairsets([TINY_PAIRS])
    (stats,) = encoder_edit.statistics(pipe, adapter, pairsets, neutral_prompts(pairsets))
    _, [(_, out)] = encoder_edit.site(pipe, adapter)
    W = pipe.text_encoder.get_submodule(out).weight.detach().double()

    def erase_loss(Wn):  # mean ||W h - t||^2 over the erased tokens
        return float(torch.trace(Wn @ stats.E @ Wn.T) - 2 * torch.trace(Wn @ stats.T.T)) + stats.tt

    d = stats.P.shape[0]
    for p in (0.1, 1.0, 10.0):
        params = encoder_edit.EncoderParams(preserve_scale=p, lam=0.01)
        Wn = W + encoder_edit.solve_delta(W, stats, params)
        reg = params.lam * float(torch.trace(stats.P)) / d
        lhs = Wn @ (stats.E + p * stats.P + reg * torch.eye(d, dtype=torch.float64))
        rhs = stats.T + p * W @ stats.P + reg * W
        assert torch.allclose(lhs, rhs, atol=1e-9 * float(rhs.abs().max()))  # the normal equations
        assert erase_loss(Wn) < 0.5 * erase_loss(W)  # the erased tokens moved most of the way to their twins
    delta = encoder_edit.solve_delta(W, stats, encoder_edit.EncoderParams(preserve_scale=1e6))
    assert float(delta.abs().max()) < 1e-3 * float(W.abs().max())  # all weight on the kept tokens: nearly no edit


def test_recipe_reproduces_the_patch_byte_for_byte(encoder_patched, tmp_path):
    recipe = json.loads((encoder_patched / "weditor.json").read_text())
    assert recipe["method"] == "encoder" and recipe["params"]["encoder_preserve"] == 1.0
    assert recipe["params"]["encoder_layers"] == 1
    assert [e["kind"] for e in recipe["edits"]] == ["weight_delta"]
    assert all(row["distance_to_twin_after"] < 1 for row in recipe["summary"]["encoder"])
    assert "feed-forward output projection" in (encoder_patched / "README.md").read_text()
    again = tmp_path / "again" / encoder_patched.name
    result = run_cli(["patch", "--recipe", encoder_patched / "weditor.json", "--out", again])
    assert result.exit_code == 0, result.output
    assert hash_files(again) == hash_files(encoder_patched)


def test_verify_recomputes_the_edit_and_catches_a_tampered_increment(tiny, encoder_patched, tmp_path):
    assert_verify_exact_and_tamper_caught(encoder_patched, tiny("wan"), tmp_path / "bad", 1)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--method", "text", "--encoder-preserve", "5"], "--encoder-preserve: only --method encoder"),
        (["--method", "encoder", "--encoder-preserve", "0"], "--encoder-preserve 0.0"),
        (["--method", "encoder", "--encoder-lambda", "-1"], "--encoder-lambda -1.0"),
        (["--method", "encoder", "--encoder-layers", "2"], "--encoder-layers 2: wan's text encoder has 1 layers"),
        (["--method", "encoder", "--strength", "0.5"], "--strength"),
        (["--method", "encoder", "--reins"], "--reins"),
    ],
)
def test_encoder_options_are_checked(args, message, tiny, tmp_path):
    assert_option_refused(tiny("wan"), tmp_path / "o", args, message)


def test_families_without_a_t5_encoder_are_refused(tiny, tmp_path):
    args = ["patch", tiny("zeroscope"), "--pairs", TINY_PAIRS, "--method", "encoder", "--out", tmp_path / "o"]
    result = run_cli([*args, "--size", FAMILIES["zeroscope"], "--no-summary"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: --method encoder: not available"), result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name", ("ltx", "mochi", "cogvideox", "wan-i2v"))
def test_other_t5_families_are_edited_and_reloaded(name, tiny, tmp_path):
    out = tmp_path / "o"
    args = ["patch", tiny(name), "--pairs", TINY_PAIRS, "--method", "encoder", "--encoder-preserve", "1"]
    result = run_cli([*args, "--out", out, "--size", FAMILIES[name], "--no-summary", "--no-tune"])
    assert result.exit_code == 0, result.output
    recipe = json.loads((out / "weditor.json").read_text())
    (edit,) = recipe["edits"]
    assert edit["component"] == "text_encoder" and edit["sha256_before"] != edit["sha256_after"]
    assert recipe["verification"]["tensors_checked"] > 0


@pytest.mark.slow
def test_the_search_chooses_the_units_edit_for_a_conjunction_and_recipe_reproduces_it(tmp_path):
    """On the shipped shapes model, the default command on red on squares (its neutral prompts hold red on other
    shapes): every trial of the text read-out, the block edit and uce moves those parts past the parts budget; the
    repurposed units (--method units), tried next, erase within it, so the encoder edit (wo, block) is not tried;
    the choice, its part leak and part move and every trial are recorded, the self-check does not warn, and
    --recipe rebuilds the folder byte for byte without a search."""
    from pathlib import Path

    from weditor.pipeline import tuning

    red_square = Path(__file__).resolve().parents[1] / "pairs" / "shapes-red-square.toml"
    out = tmp_path / "rs"
    result = run_cli(["patch", "--pairs", red_square, "--out", out])
    assert result.exit_code == 0, result.output
    recipe = json.loads((out / "weditor.json").read_text())
    record = recipe["tuning"]
    chosen = record["trials"][record["chosen"]]
    assert recipe["method"] == "units" and chosen["method"] == "units"
    assert record["objective"]["part_budget"] == tuning.PART_BUDGET
    assert chosen["part_leak"]["red-square"] <= tuning.PART_BUDGET
    assert chosen["part_move"]["red-square"] <= tuning.PART_MOVE_BUDGET  # both kinds of part, any direction
    assert chosen["erasure"]["red-square"] >= tuning.ERASED
    assert record["objective"]["part_move_budget"] == tuning.PART_MOVE_BUDGET
    assert "block_part_move_budget" not in record["objective"]  # recorded only where the block fit was tried
    others = [t for t in record["trials"] if t["method"] in ("text", "refusal", "uce")]
    assert others and all(t["part_leak"]["red-square"] > tuning.PART_BUDGET for t in others)
    # the units come before the encoder edit's spaces (wo, block): once they erase within the budget, those are not tried
    assert not any(t["method"] == "encoder" for t in record["trials"])
    assert recipe["self_check"]["red-square"]["part_leak"] == chosen["part_leak"]["red-square"]
    assert "parts elsewhere moved" in result.output
    check = recipe["self_check"]["red-square"]
    assert not check["warning"] and not check["parts_warning"] and not check["parts_limited"]
    assert "was only partly erased" not in result.output
    before = tuning.TRIALS_RUN
    again = tmp_path / "again" / "rs"
    result = run_cli(["patch", "--recipe", out / "weditor.json", "--out", again])
    assert result.exit_code == 0, result.output
    assert tuning.TRIALS_RUN == before and hash_files(again) == hash_files(out)
