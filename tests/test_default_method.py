"""Which method `weditor patch` runs when none is named (0.4 on): the read-out on the prompt
embeddings for text-to-video pairs, the block-by-block refusal edit for pairs with images (the
concept may be in the image, which only the video tokens see). The block edit's own options are
refused with any other method rather than silently ignored."""

import json

import pytest
import torch

from tests.conftest import TINY_PAIRS, TINY_SIZE, run_cli
from tests.test_adapters import i2v_pairs, tiny  # noqa: F401 - fixtures


def _recipe(folder):
    return json.loads((folder / "weditor.json").read_text())


def test_text_pairs_get_the_text_readout_file_for_file(tiny_wan_single, tmp_path):
    from weditor.adapters import adapter_for_class
    from weditor.io.recipe import hash_files

    outs = {}
    for name, extra in (("default", []), ("explicit", ["--method", "text"])):
        outs[name] = tmp_path / name / "out"  # the folder name appears in the model card
        result = run_cli(
            [
                "patch",
                tiny_wan_single,
                "--pairs",
                TINY_PAIRS,
                "--out",
                outs[name],
                "--size",
                TINY_SIZE,
                "--no-summary",
                "--no-tune",
                *extra,
            ]
        )
        assert result.exit_code == 0, result.output
    recipe = _recipe(outs["default"])
    assert recipe["method"] == "text" and recipe["params"]["method"] == "text"
    linears = [name for names in adapter_for_class("WanPipeline").text_inputs().values() for name in names]
    assert {e["tensor"] for e in recipe["edits"]} == {f"{name}.weight" for name in linears}  # no block is touched
    assert hash_files(outs["default"]) == hash_files(outs["explicit"])


def test_pairs_with_images_get_the_block_edit(tiny, i2v_pairs, tmp_path):  # noqa: F811
    out = tmp_path / "o"
    result = run_cli(
        [
            "patch",
            tiny("wan-i2v"),
            "--pairs",
            i2v_pairs,
            "--out",
            out,
            "--size",
            "32x32x5",
            "--layers",
            "1-2",
            "--no-summary",
        ]
    )
    assert result.exit_code == 0, result.output
    recipe = _recipe(out)
    assert recipe["method"] == "refusal"
    assert all(".blocks." in e["tensor"] or e["tensor"].startswith("blocks.") for e in recipe["edits"])


def test_resolve_method_follows_the_pairs(i2v_pairs):  # noqa: F811
    from weditor.io.pairs import load_pairsets
    from weditor.pipeline.config import PatchConfig

    for pairs, want in (([TINY_PAIRS], "text"), ([i2v_pairs], "refusal")):
        cfg = PatchConfig(pairs=[str(p) for p in pairs], out="unused")
        cfg.resolve_method(load_pairsets(cfg.pairs))
        assert cfg.method == want
    cfg = PatchConfig(pairs=[str(TINY_PAIRS)], out="unused", method="safree")
    cfg.resolve_method(load_pairsets(cfg.pairs))
    assert cfg.method == "safree"  # a named method is never replaced


@pytest.mark.parametrize(
    "extra,option",
    [
        (["--site", "ffn_in"], "--site"),
        (["--layers", "0.5-1.0"], "--layers"),
        (["--alpha", "1"], "--alpha"),
        (["--rank", "4"], "--rank"),
        (["--directions", "2"], "--directions"),
        (["--neutral", "prompt"], "--neutral"),
        (["--edit", "projection"], "--edit"),
        (["--method", "reins", "--site", "ffn_in"], "--site"),
    ],
)
def test_block_edit_options_are_refused_without_the_block_edit(tiny_wan_single, tmp_path, extra, option):
    out = tmp_path / "o"
    result = run_cli(
        ["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, "--no-summary", *extra]
    )
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {option}") and "--method refusal" in lines[0], result.output
    assert not out.exists()


def test_the_safree_rank_is_its_own(tiny_wan_single, tmp_path):
    """--rank caps SAFREE's keyword subspace: not a block-edit option there."""
    out = tmp_path / "o"
    result = run_cli(
        [
            "patch",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--no-summary",
            "--method",
            "safree",
            "--rank",
            "2",
        ]
    )
    assert result.exit_code == 0, result.output
    assert _recipe(out)["method"] == "safree"


def test_reins_folds_on_top_of_the_default(tiny_wan_single, tmp_path):
    """`--reins` with the default method: the text linear gets the read-out, the REINS block's ungated
    write bias gets alpha * d, every other tensor stays the base's; verify recomputes both, and the
    recipe reproduces the folder file for file."""
    from safetensors.torch import load_file

    from tests.test_reins import tensors
    from weditor.io.recipe import DIRECTIONS_FILE, READOUT_FILE, hash_files
    from weditor.maths.edits import add_to_bias, remove_input
    from weditor.methods.reins import REINS_FILE

    out = tmp_path / "a" / "out"
    result = run_cli(
        [
            "patch",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--reins",
            "--reins-layer",
            "2",
            "--reins-strength",
            "0.3",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "REINS: alpha*d folded" in result.output and "method text+reins" in result.output
    recipe = _recipe(out)
    assert recipe["method"] == "text+reins" and recipe["params"]["reins_layer_resolved"] == {"transformer": 2}
    assert [e["kind"] for e in recipe["edits"]] == ["input_readout", "bias_fold"]
    assert "REINS steering vector" in (out / "README.md").read_text()
    Q = load_file(out / DIRECTIONS_FILE)["transformer.text_input.encoder_hidden_states"]
    A = load_file(out / READOUT_FILE)["transformer.text_input.encoder_hidden_states"][:, :-1]
    v = load_file(out / REINS_FILE)["transformer.blocks.2.vector"]
    base, new = tensors(tiny_wan_single, "transformer"), tensors(out, "transformer")
    text, bias = "condition_embedder.text_embedder.linear_1.weight", "blocks.2.attn2.to_out.0.bias"
    assert torch.equal(new[text], remove_input(base[text], Q, A, 1.0))
    assert torch.equal(new[bias], add_to_bias(base[bias], v)) and not torch.equal(new[bias], base[bias])
    assert all(torch.equal(new[k], base[k]) for k in base if k not in (text, bias))
    assert run_cli(["verify", out]).exit_code == 0
    again = tmp_path / "b" / "out"
    assert run_cli(["patch", "--recipe", out / "weditor.json", "--out", again]).exit_code == 0
    assert hash_files(again) == hash_files(out)


def test_reins_with_safree_is_refused(tiny_wan_single, tmp_path):
    result = run_cli(
        ["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", tmp_path / "o", "--method", "safree", "--reins"]
    )
    assert result.exit_code == 2 and "Error: --reins" in result.output


@pytest.mark.parametrize("method", ["text", "refusal"])
def test_summary_names_the_most_changed_neutral_prompts(tiny_wan_single, tmp_path, method):
    """Each neutral prompt's own output change, largest first: the largest is at least the pooled figure
    (a ratio of sums never exceeds its largest ratio), and the command prints them."""
    from weditor.io.pairs import load_pairs

    out = tmp_path / "o"
    result = run_cli(
        [
            "patch",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--steps",
            "2",
            "--method",
            method,
            *(["--layers", "-1"] if method == "refusal" else []),
        ]
    )
    assert result.exit_code == 0, result.output
    summary = _recipe(out)["summary"]
    rows = summary["neutral_most_changed"]
    neutral = load_pairs(TINY_PAIRS).neutral
    assert len(rows) == min(3, len(neutral)) and {r["prompt"] for r in rows} <= set(neutral)
    changes = [r["change"] for r in rows]
    assert changes == sorted(changes, reverse=True) and changes[0] > 0
    assert changes[0] >= summary["output_change_neutral"] - 1e-4
    assert f"most changed neutral prompts: {rows[0]['prompt']!r}" in result.output
