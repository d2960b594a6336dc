"""Which method `weditor patch` runs when none is named (0.4 on): the read-out on the prompt
embeddings for text-to-video pairs, the block-by-block refusal edit for pairs with images (the
concept may be in the image, which only the video tokens see). The block edit's own options are
refused with any other method rather than silently ignored."""

import json

import pytest

from tests.conftest import TINY_PAIRS, TINY_SIZE, run_cli
from tests.test_adapters import i2v_pairs, tiny  # noqa: F401 - fixtures


def _recipe(folder):
    return json.loads((folder / "weditor.json").read_text())


def test_text_pairs_get_the_text_readout_file_for_file(tiny_wan_single, tmp_path):
    from weditor.adapters import adapter_for_class
    from weditor.recipe import hash_files

    outs = {}
    for name, extra in (("default", []), ("explicit", ["--method", "text"])):
        outs[name] = tmp_path / name / "out"  # the folder name appears in the model card
        result = run_cli(["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", outs[name], "--size", TINY_SIZE,
                          "--no-summary", *extra])
        assert result.exit_code == 0, result.output
    recipe = _recipe(outs["default"])
    assert recipe["method"] == "text" and recipe["params"]["method"] == "text"
    linears = [name for names in adapter_for_class("WanPipeline").text_inputs().values() for name in names]
    assert {e["tensor"] for e in recipe["edits"]} == {f"{name}.weight" for name in linears}  # no block is touched
    assert hash_files(outs["default"]) == hash_files(outs["explicit"])


def test_pairs_with_images_get_the_block_edit(tiny, i2v_pairs, tmp_path):  # noqa: F811
    out = tmp_path / "o"
    result = run_cli(["patch", tiny("wan-i2v"), "--pairs", i2v_pairs, "--out", out, "--size", "32x32x5", "--layers", "1-2",
                      "--no-summary"])
    assert result.exit_code == 0, result.output
    recipe = _recipe(out)
    assert recipe["method"] == "refusal"
    assert all(".blocks." in e["tensor"] or e["tensor"].startswith("blocks.") for e in recipe["edits"])


def test_resolve_method_follows_the_pairs(i2v_pairs):  # noqa: F811
    from weditor.pairs import load_pairsets
    from weditor.patching import PatchConfig

    for pairs, want in (([TINY_PAIRS], "text"), ([i2v_pairs], "refusal")):
        cfg = PatchConfig(pairs=[str(p) for p in pairs], out="unused")
        cfg.resolve_method(load_pairsets(cfg.pairs))
        assert cfg.method == want
    cfg = PatchConfig(pairs=[str(TINY_PAIRS)], out="unused", method="safree")
    cfg.resolve_method(load_pairsets(cfg.pairs))
    assert cfg.method == "safree"  # a named method is never replaced


@pytest.mark.parametrize("extra,option", [
    (["--site", "ffn_in"], "--site"), (["--layers", "0.5-1.0"], "--layers"), (["--alpha", "1"], "--alpha"),
    (["--rank", "4"], "--rank"), (["--directions", "2"], "--directions"), (["--neutral", "prompt"], "--neutral"),
    (["--edit", "projection"], "--edit"), (["--method", "reins", "--site", "ffn_in"], "--site"), (["--reins"], "--reins"),
])
def test_block_edit_options_are_refused_without_the_block_edit(tiny_wan_single, tmp_path, extra, option):
    out = tmp_path / "o"
    result = run_cli(["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, "--no-summary",
                      *extra])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {option}") and "--method refusal" in lines[0], result.output
    assert not out.exists()


def test_the_safree_rank_is_its_own(tiny_wan_single, tmp_path):
    """--rank caps SAFREE's keyword subspace: not a block-edit option there."""
    out = tmp_path / "o"
    result = run_cli(["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, "--no-summary",
                      "--method", "safree", "--rank", "2"])
    assert result.exit_code == 0, result.output
    assert _recipe(out)["method"] == "safree"
