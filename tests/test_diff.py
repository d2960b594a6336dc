"""`weditor diff` and `weditor verify` on a clean patched folder and on tampered copies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from tests.conftest import run_cli
from weditor.checks.diff import diff_folders, numerical_rank
from weditor.checks.verify import verify_patched
from weditor.io.recipe import hash_files

SHAPES_PAIRS = Path(__file__).resolve().parents[1] / "pairs" / "shapes-red.toml"


def recipe_of(folder: Path) -> dict:
    return json.loads((folder / "weditor.json").read_text())


def shard_of(folder: Path, component: str, name: str) -> Path:
    for path in sorted((folder / component).glob("*.safetensors")):
        with safe_open(path, "pt") as f:
            if name in f.keys():
                return path
    raise KeyError(name)


def rewrite_tensor(folder: Path, component: str, name: str, fn):
    """Replace one tensor in its shard, the way someone editing the file by hand would."""
    path = shard_of(folder, component, name)
    with safe_open(path, "pt") as f:
        metadata = f.metadata()
    tensors = load_file(path)
    tensors[name] = fn(tensors[name]).contiguous()
    path.unlink()  # never write through a hard link into the base
    save_file(tensors, path, metadata=metadata)


@pytest.fixture
def copy(patched, tmp_path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(patched, out)  # real copies: tampering must not reach the base through hard links
    return out


def test_a_clean_patch_is_fully_explained(tiny_wan, patched):
    report = diff_folders(tiny_wan, patched)
    assert report.ok, report.unexplained
    edits = recipe_of(patched)["edits"]
    assert len(report.tensors) == len(edits) == 6
    for t in report.tensors:
        assert t.explained and t.recipe == "ok"
        assert t.rank == 1 and t.norm > 0  # one direction removed: a rank-1 change
        assert t.dtype == "float32" and len(t.shape) == 2
    added = {f.path for f in report.files}
    assert {"weditor/directions.safetensors", "weditor/pairs/red.toml"} <= added
    result = run_cli(["diff", tiny_wan, patched])
    assert result.exit_code == 0, result.output
    assert "blocks.1.ffn.net.0.proj.weight" in result.output and "result: OK" in result.output
    data = json.loads(run_cli(["diff", tiny_wan, patched, "--json"]).output)
    assert data["ok"] and len(data["tensors"]) == 6


def test_verify_recomputes_every_edit_from_the_base(tiny_wan, patched):
    report = verify_patched(patched)
    assert report.ok, report.problems
    assert report.base == str(tiny_wan)
    assert set(report.recomputed.values()) == {"exact"} and len(report.recomputed) == 6
    result = run_cli(["verify", patched])
    assert result.exit_code == 0, result.output
    assert "6 exact" in result.output
    result = run_cli(["verify", patched, "--no-base"])  # hash checks alone are not a verification
    assert result.exit_code == 2 and "NOT VERIFIED" in result.output and "--allow-unverified-base" in result.output
    result = run_cli(["verify", patched, "--no-base", "--allow-unverified-base"])
    assert result.exit_code == 0 and "not checked: 6 edited tensor(s) not recomputed" in result.output


def test_a_tensor_modified_after_patching_is_reported(tiny_wan, copy):
    g = torch.Generator().manual_seed(0)
    u, v = torch.randn(32, 1, generator=g), torch.randn(1, 32, generator=g)
    rewrite_tensor(copy, "transformer", "blocks.0.attn1.to_q.weight", lambda w: w + 1e-2 * (u @ v))
    report = diff_folders(tiny_wan, copy)
    assert not report.ok
    bad = [t for t in report.tensors if not t.explained]
    assert [(t.component, t.tensor, t.recipe) for t in bad] == [
        ("transformer", "blocks.0.attn1.to_q.weight", "not in recipe")
    ]
    assert bad[0].rank == 1 and bad[0].norm == pytest.approx(1e-2 * float(u.norm() * v.norm()), rel=1e-3)
    assert any("does not match the SHA-256" in p for p in report.problems)
    result = run_cli(["diff", tiny_wan, copy])
    assert result.exit_code == 1
    assert [
        line for line in result.output.splitlines() if line.startswith("Error:")
    ] and "Traceback" not in result.output
    result = run_cli(["verify", copy])
    assert result.exit_code == 1 and "does not match the SHA-256" in result.output


def test_an_edited_tensor_changed_or_undone_is_reported(tiny_wan, copy):
    name = "blocks.2.ffn.net.0.proj.weight"
    rewrite_tensor(copy, "transformer_2", name, lambda w: w * 1.001)
    base_value = load_file(shard_of(tiny_wan, "transformer", name))[name]
    rewrite_tensor(copy, "transformer", name, lambda w: base_value)  # the edit undone
    report = diff_folders(tiny_wan, copy)
    verdicts = {(t.component, t.tensor): t.recipe for t in report.tensors}
    assert verdicts[("transformer_2", name)].startswith("sha256_after differs")
    assert ("transformer", name) not in verdicts
    assert any("identical to the base (edit undone?)" in p for p in report.problems)
    audit = verify_patched(copy)
    assert sum("sha256_after" in p for p in audit.problems) == 2


def test_added_and_changed_files_are_reported(tiny_wan, copy):
    (copy / "notes.txt").write_text("hello")
    config = copy / "transformer" / "config.json"
    data = json.loads(config.read_text())
    data["num_layers"] = 3
    config.unlink()
    config.write_text(json.dumps(data))
    report = diff_folders(tiny_wan, copy)
    files = {f.path: f for f in report.files}
    assert files["notes.txt"].status == "added" and not files["notes.txt"].explained
    assert files["transformer/config.json"].status == "changed" and not files["transformer/config.json"].explained
    result = run_cli(["diff", tiny_wan, copy])
    assert result.exit_code == 1
    assert "+ notes.txt" in result.output and "~ transformer/config.json" in result.output
    assert run_cli(["verify", copy, "--no-base"]).exit_code == 1


def test_a_forged_recipe_is_caught_by_recomputing_from_the_base(tiny_wan, copy):
    """Someone changes an edited tensor *and* updates the recipe's hashes to match: only the
    recomputation from the base and the recorded directions can tell."""
    from weditor.io.recipe import write_recipe
    from weditor.io.tensors import tensor_sha256

    name = "blocks.3.ffn.net.0.proj.weight"
    rewrite_tensor(copy, "transformer", name, lambda w: w * 0.5)
    recipe = recipe_of(copy)
    new = load_file(shard_of(copy, "transformer", name))[name]
    for entry in recipe["edits"]:
        if entry["component"] == "transformer" and entry["tensor"] == name:
            entry["sha256_after"] = tensor_sha256(new)
    recipe["files"] = hash_files(copy)
    (copy / "weditor.json").unlink()
    write_recipe(copy, recipe)
    assert diff_folders(tiny_wan, copy).ok  # every hash is consistent now
    report = verify_patched(copy)
    assert not report.ok
    assert report.recomputed[f"transformer/{name}"].startswith("MISMATCH")
    assert (
        run_cli(["verify", copy, "--no-base", "--allow-unverified-base"]).exit_code == 0
    )  # what hashes alone cannot see
    assert run_cli(["verify", copy, "--no-base"]).exit_code == 2  # ... which is why they are not enough by default
    assert run_cli(["verify", copy]).exit_code == 1


def test_verify_against_another_base_says_so(tiny_wan_single, patched):
    report = verify_patched(patched, base=tiny_wan_single)
    assert not report.ok
    assert any("not in the base" in p or "not the one this folder was patched from" in p for p in report.problems)


def test_diff_and_verify_input_errors(tmp_path, tiny_wan):
    result = run_cli(["verify", tmp_path])
    assert result.exit_code == 2 and "no weditor recipe" in result.output
    result = run_cli(["diff", tmp_path / "nope", tiny_wan])
    assert result.exit_code == 2
    result = run_cli(["diff", tiny_wan, tiny_wan])  # no recipe: nothing vouches for the files
    assert result.exit_code == 1 and "no weditor.json" in result.output


def test_numerical_rank_ignores_rounding_but_not_edits():
    g = torch.Generator().manual_seed(0)
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        W = (torch.randn(96, 64, generator=g) * 0.05).to(dtype)
        Q = torch.linalg.qr(torch.randn(64, 2, generator=g, dtype=torch.float64))[0].T
        from weditor.checks.diff import change_stats
        from weditor.maths.edits import project_input

        assert change_stats(W, project_input(W, Q))["rank"] == 2, dtype
    D = torch.randn(3000, 40, generator=g, dtype=torch.float64) @ torch.randn(
        40, 2100, generator=g, dtype=torch.float64
    )
    assert numerical_rank(D, 1e-6) == 40  # the randomized path (both sides > 2048)


def test_diff_names_the_embedded_model_as_patch_does(tmp_path):
    """`weditor diff weditor:shapes OUT` after the README's first command: every change explained."""
    out = tmp_path / "no-red"
    result = run_cli(
        ["patch", "--method", "refusal", "--pairs", SHAPES_PAIRS, "--out", out, "--no-summary", "--layers", "6-7"]
    )
    assert result.exit_code == 0, result.output
    result = run_cli(["diff", "weditor:shapes", out])
    assert result.exit_code == 0, result.output
    assert "every difference is explained" in result.output
    assert "attn2.to_out.0.weight" in result.output
