"""`weditor patch --method encoder --encoder-weights block`: the fitted edit of the text encoder's last block
(weditor/methods/encoder_block.py).

Exactness: the text encoder reloaded by its stock class from the written folder must equal the in-memory fit
(weights bit for bit, encoder outputs within a tolerance that fails on an unedited file); the fit must be
deterministic (two fits, identical bytes) and must move the unsafe tokens towards their twins while keeping the
kept ones; `weditor verify` recomputes every tensor from the base and the saved increments; `--recipe`
reproduces the folder byte for byte; bad options are one `Error:` line.
"""

from __future__ import annotations

import json

import pytest
import torch

from tests.conftest import TINY_PAIRS, assert_option_refused, run_cli
from tests.test_adapters import load, tiny  # noqa: F401 (fixture)
from tests.test_safree import FAMILIES
from weditor import defaults
from weditor.io.recipe import hash_files
from weditor.methods import encoder_block
from weditor.models.runtime import encode

BLOCK = ["--method", "encoder", "--encoder-weights", "block"]


@pytest.fixture(scope="module")
def block_patched(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("block") / "o"
    result = run_cli(["patch", tiny("wan"), "--pairs", TINY_PAIRS, *BLOCK, "--out", out, "--size", FAMILIES["wan"]])
    assert result.exit_code == 0, result.output
    return out


def _fit(path):
    """(pipe, adapter, pairsets, component, names, edited, deltas, info): the fit, in memory, on the base at `path`."""
    from weditor.io.pairs import load_pairsets, neutral_prompts
    from weditor.models.loading import load_base

    pipe, adapter = load(path)
    base, _ = load_base(str(path), None)
    pairsets = load_pairsets([TINY_PAIRS])
    data = encoder_block.statistics(pipe, adapter, base, pairsets, neutral_prompts(pairsets), "cpu")
    comp, names, new, deltas, _, _, info = encoder_block.fit_block(
        pipe, adapter, base, data, defaults.BLOCK_PRESERVE, defaults.BLOCK_LAMBDA
    )
    return pipe, adapter, pairsets, comp, names, new, deltas, info


def test_stock_reload_of_the_text_encoder_equals_the_in_memory_fit(tiny, block_patched):
    from weditor.models.measure import apply_in_memory

    pipe, adapter, pairsets, comp, names, edited, _, _ = _fit(tiny("wan"))
    assert len(names) >= 5 and any("SelfAttention.q" in n for n in names) and any(".wo." in n for n in names)
    prompts = [p.unsafe for p in pairsets[0].pairs] + list(pairsets[0].neutral)
    before = [encode(pipe, adapter, [p], "cpu")["encoder_hidden_states"].detach() for p in prompts]
    apply_in_memory(pipe, {comp: edited})
    after = [encode(pipe, adapter, [p], "cpu")["encoder_hidden_states"].detach() for p in prompts]
    reloaded = type(pipe.text_encoder).from_pretrained(block_patched / "text_encoder")
    for name, value in edited.items():
        assert torch.equal(reloaded.get_parameter(name).detach(), value), name
    pipe.text_encoder = reloaded
    again = [encode(pipe, adapter, [p], "cpu")["encoder_hidden_states"].detach() for p in prompts]
    scale = max(float(a.abs().max()) for a in after)
    worst = max(float((a - b).abs().max()) for a, b in zip(after, again))
    moved = max(float((a - b).abs().max()) for a, b in zip(after, before))
    assert worst <= 1e-6 * scale, worst
    assert moved > 1e-3 * scale, "the edit changed nothing: the test could not fail"


def test_the_fit_is_deterministic_and_moves_tokens_to_their_twins(tiny):
    first = _fit(tiny("wan"))
    second = _fit(tiny("wan"))
    for name in first[4]:
        assert first[6][name].numpy().tobytes() == second[6][name].numpy().tobytes(), name
    info = first[7]
    assert info["distance_to_twin_after"] < 0.5, info  # the unsafe tokens went most of the way to their twins
    assert info["kept_output_change"] < 0.05, info
    assert info["iterations"] == encoder_block.ITERATIONS


def test_recipe_reproduces_the_patch_byte_for_byte(block_patched, tmp_path):
    recipe = json.loads((block_patched / "weditor.json").read_text())
    params = recipe["params"]
    assert recipe["method"] == "encoder" and params["encoder_weights"] == "block"
    assert params["encoder_preserve"] == defaults.BLOCK_PRESERVE and params["encoder_lambda"] == defaults.BLOCK_LAMBDA
    assert {e["kind"] for e in recipe["edits"]} == {"weight_delta"} and len(recipe["edits"]) >= 5
    assert "last block" in (block_patched / "README.md").read_text()
    (row,) = recipe["summary"]["encoder_block"]
    assert row["distance_to_twin_after"] < 1 and row["tensors"] == len(recipe["edits"])
    again = tmp_path / "again" / block_patched.name
    result = run_cli(["patch", "--recipe", block_patched / "weditor.json", "--out", again])
    assert result.exit_code == 0, result.output
    assert hash_files(again) == hash_files(block_patched)


def test_verify_recomputes_every_tensor(tiny, block_patched):
    recipe = json.loads((block_patched / "weditor.json").read_text())
    result = run_cli(["verify", block_patched, "--base", tiny("wan")])
    assert result.exit_code == 0, result.output
    assert f"{len(recipe['edits'])} exact" in result.output, result.output


@pytest.mark.parametrize(
    "args, message",
    [
        ([*BLOCK, "--encoder-layers", "2"], "--encoder-layers 2: --encoder-weights block fits"),
        (["--method", "uce", "--encoder-weights", "block"], "--encoder-weights: only --method encoder"),
        ([*BLOCK, "--encoder-preserve", "0"], "--encoder-preserve 0.0"),
        ([*BLOCK, "--encoder-lambda", "-1"], "--encoder-lambda -1.0"),
        (["--method", "encoder", "--encoder-weights", "blocks"], "'blocks' is not one of"),
    ],
)
def test_block_options_are_checked(args, message, tiny, tmp_path):
    assert_option_refused(tiny("wan"), tmp_path / "o", args, message)


def test_an_encoder_too_large_to_fit_is_refused_with_one_line(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(encoder_block, "MAX_FIT_BYTES", 1024)
    out = tmp_path / "o"
    result = run_cli(["patch", tiny("wan"), "--pairs", TINY_PAIRS, *BLOCK, "--out", out, "--size", FAMILIES["wan"]])
    lines = [line for line in result.output.splitlines() if line.strip() and "it/s" not in line]
    assert result.exit_code == 2 and lines[-1].startswith("Error: --encoder-weights block: fitting"), result.output
    assert "Traceback" not in result.output and not out.exists()


@pytest.mark.parametrize("name", ("ltx", "cogvideox"))
def test_other_t5_families_are_fitted_and_reloaded(name, tiny, tmp_path):
    out = tmp_path / "o"
    result = run_cli(
        ["patch", tiny(name), "--pairs", TINY_PAIRS, *BLOCK, "--out", out, "--size", FAMILIES[name], "--no-tune"]
    )
    assert result.exit_code == 0, result.output
    recipe = json.loads((out / "weditor.json").read_text())
    assert {e["component"] for e in recipe["edits"]} == {"text_encoder"} and len(recipe["edits"]) >= 5
    assert all(e["sha256_before"] != e["sha256_after"] for e in recipe["edits"])
    assert recipe["verification"]["tensors_checked"] > 0


def test_the_padding_is_cut_only_where_the_real_tokens_read_the_same(tiny):
    """The pipeline pads to its maximum length (Wan: 512 tokens for prompts of ~20); the fit runs the block at every
    L-BFGS evaluation, so `trimmed` drops the positions past the longest prompt, where the real tokens' outputs are
    the same without them. A block that reads the padding (no mask) keeps every position."""
    from weditor.methods.kv_edit import token_ids

    pipe, adapter = load(tiny("wan"))
    from weditor.models.loading import load_base

    base, _ = load_base(str(tiny("wan")), None)
    prompts = ["a red ball", "a blue square moving to the left slowly"]
    x, args, kwargs, lengths = encoder_block.capture(pipe, adapter, prompts, "cpu")
    block, norm = encoder_block.base_block(pipe, adapter, base)
    n = max(lengths)
    assert n < x.shape[1] and lengths == [token_ids(pipe, p, x.shape[1])[1] for p in prompts]
    xs, a, k = encoder_block.trimmed(block, norm, x, args, kwargs, lengths)
    assert xs.shape[1] == n
    full = encoder_block._run(block, norm, x, args, kwargs)
    cut = encoder_block._run(block, norm, xs, a, k)
    for b, m in enumerate(lengths):
        torch.testing.assert_close(cut[b, :m], full[b, :m], rtol=1e-12, atol=1e-12)

    class Unmasked(torch.nn.Module):  # every position reads the mean over all of them, padding included
        def forward(self, h, *args, **kwargs):
            return (h + h.mean(1, keepdim=True),)

    same = encoder_block.trimmed(Unmasked(), norm, x, args, kwargs, lengths)
    assert same[0] is x and same[1] is args
