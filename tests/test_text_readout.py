"""`weditor patch --method text`: the read-out edit on the prompt embeddings, folded into the text-input linears.

Exactness is checked where the edit means something: the reloaded denoiser fed the original
embeddings must equal the base denoiser fed `x - s Q^T A x` for every token, computed at run time
from the directions and read-outs the folder carries; `weditor verify` recomputes the weights.
"""

from __future__ import annotations

import json

import pytest
import torch

from tests.conftest import TINY_PAIRS, readouts_of, run_cli
from tests.test_adapters import directions, load, tiny  # noqa: F401 (fixture)
from tests.test_safree import FAMILIES, assert_only_text_inputs_folded, assert_runtime_equivalent, patcher
from weditor.maths.edits import remove_input


@pytest.fixture(scope="module")
def text_patched(tiny, tmp_path_factory):
    return patcher(tiny, tmp_path_factory, "text")


@pytest.mark.parametrize("name", list(FAMILIES))
def test_text_readout_fold_is_exact(name, tiny, text_patched):
    base_dir, out_dir = tiny(name), text_patched(name)
    recipe = json.loads((out_dir / "weditor.json").read_text())
    assert recipe["method"] == "text" and recipe["params"]["removal"] == 0.6
    pipe, adapter = load(base_dir)
    model = adapter.denoisers[0]
    dirs, ros = directions(out_dir), readouts_of(out_dir)
    strength = recipe["params"]["strength"]
    edits = {}
    for key in adapter.text_inputs():
        name_ = f"{model}.text_input.{key}"
        Q, A = dirs[name_], ros[name_][0]
        assert Q.shape[0] == A.shape[0] == 2  # one row per concept (red, night)
        assert torch.allclose(Q.norm(dim=1), torch.ones(2, dtype=Q.dtype))
        assert not ros[name_][1].any()  # no intercept: zero padding stays zero
        edits[key] = (Q, A)
    if name == "ltx2":  # both streams' prompt read-outs, each fitted on its own embeddings
        assert set(edits) == {"encoder_hidden_states", "audio_encoder_hidden_states"}
    assert_only_text_inputs_folded(
        pipe, adapter, base_dir, out_dir, recipe, lambda w, key: remove_input(w, *edits[key], strength)
    )

    # the reloaded denoiser == the base denoiser with the read-out removed from the embeddings at run time
    def removed(cond):
        out = dict(cond)
        for key, (Q, A) in edits.items():
            x = cond[key].double()
            out[key] = (x - strength * (x @ A.T) @ Q).to(cond[key].dtype)
        return out

    assert_runtime_equivalent(name, pipe, load(out_dir)[0], adapter, removed)


def test_verify_recomputes_the_text_readout(tiny, text_patched, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    from weditor.checks.verify import verify_patched

    out = text_patched("wan")
    report = verify_patched(out, base=tiny("wan"))
    assert report.ok, report.problems
    assert set(report.recomputed.values()) == {"exact"} and report.recomputed
    tampered = tmp_path / "tampered"  # a read-out that is not the one folded in: the recompute must say so
    shutil.copytree(out, tampered)
    path = tampered / "weditor" / "readout.safetensors"
    tensors = load_file(path)
    tensors = {k: v * 1.01 for k, v in tensors.items()}
    path.unlink()
    save_file(tensors, path)
    report = verify_patched(tampered, base=tiny("wan"), use_base=True)
    assert any("MISMATCH" in v for v in report.recomputed.values())


def test_text_readout_summary_and_recipe(tiny, tmp_path):
    out = tmp_path / "o"
    result = run_cli(
        [
            "patch",
            tiny("ltx"),
            "--pairs",
            TINY_PAIRS,
            "--method",
            "text",
            "--removal",
            "0.8",
            "--out",
            out,
            "--size",
            "32x32x9",
        ]
    )
    assert result.exit_code == 0, result.output
    recipe = json.loads((out / "weditor.json").read_text())
    (row,) = recipe["summary"]["text"]
    assert row["concepts"] == ["red"] and row["removal"][0] >= 0.8 - 1e-3
    assert "text embedding" in result.output and "encoder_hidden_states" in result.output
    assert recipe["summary"]["output_change_eval"] > 0
    card = (out / "README.md").read_text()
    assert "`--method`" not in card and "prompt embeddings the denoiser reads" in card
    again = tmp_path / "again"  # the recipe reproduces the patch, file for file
    result = run_cli(["patch", "--recipe", out / "weditor.json", "--out", again])
    assert result.exit_code == 0, result.output
    files = json.loads((again / "weditor.json").read_text())["files"]
    files.pop("README.md"), recipe["files"].pop("README.md")  # the model card names the output folder
    assert files == recipe["files"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--edit", "projection"], "--edit projection"),
        (["--site", "ffn_in"], "--site"),
    ],
)
def test_text_readout_refuses_options_it_does_not_use(tiny, tmp_path, extra, message):
    result = run_cli(["patch", tiny("ltx"), "--pairs", TINY_PAIRS, "--method", "text", "--out", tmp_path / "o", *extra])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("method", ["text", "safree"])
def test_two_denoisers_share_one_text_edit(tiny_wan, tmp_path, method):
    """Wan 2.2 A14B: both transformers read the same embeddings, so both get the same edit (and the
    shared direction is saved twice: safetensors refuses tensors that share memory)."""
    out = tmp_path / "o"
    result = run_cli(
        [
            "patch",
            tiny_wan,
            "--pairs",
            TINY_PAIRS,
            "--method",
            method,
            "--out",
            out,
            "--size",
            "32x32x5",
            "--no-summary",
        ]
    )
    assert result.exit_code == 0, result.output
    dirs = directions(out)
    a, b = dirs["transformer.text_input.encoder_hidden_states"], dirs["transformer_2.text_input.encoder_hidden_states"]
    assert torch.equal(a, b)
    recipe = json.loads((out / "weditor.json").read_text())
    assert {e["component"] for e in recipe["edits"]} == {"transformer", "transformer_2"}
