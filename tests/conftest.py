"""Shared fixtures: tiny random Wan pipelines saved to disk, built once per session.

Torch runs single-threaded in tests: these models are so small that thread start-up costs
more than the arithmetic, and a second busy core makes multi-threaded runs 100x slower.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

torch.set_num_threads(1)

DATA = Path(__file__).parent / "data"
TINY_PAIRS = DATA / "tiny-red.toml"
TINY_SIZE = "32x32x5"
# The paper's setting (input side of the first FFN linear, exact orthogonal projection): the exactness tests of
# the input-side edit use it; the defaults (output side of the cross-attention) have their own tests.
PAPER_SITE = (
    "--method",
    "refusal",
    "--layers",
    "1-3",
    "--site",
    "ffn_in",
    "--edit",
    "projection",
    "--strength",
    "1",
    "--alpha",
    "1",
    "--no-tune",
)


@pytest.fixture(scope="session")
def tiny_wan(tmp_path_factory) -> Path:
    """A Wan 2.2-style pipeline: two transformers, sharded, so every code path is exercised."""
    from weditor.testing import save_tiny_wan_pipeline

    return save_tiny_wan_pipeline(tmp_path_factory.mktemp("base") / "tiny-wan", max_shard_size="20KB", two_stage=True)


@pytest.fixture(scope="session")
def tiny_wan_single(tmp_path_factory) -> Path:
    """A Wan 2.1-style pipeline: one transformer in one safetensors file."""
    from weditor.testing import save_tiny_wan_pipeline

    return save_tiny_wan_pipeline(tmp_path_factory.mktemp("base1") / "tiny-wan-1", seed=1)


def run_cli(args: list[str]):
    from click.testing import CliRunner

    from weditor.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def patch_tiny(base: Path, out: Path, *options):
    """`weditor patch BASE --no-tune` (the fixed settings these tests check) with the tiny red pairs and size,
    which must succeed; the CLI result."""
    result = run_cli(["patch", base, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, "--no-tune", *options])
    assert result.exit_code == 0, result.output
    return result


def readouts_of(folder: Path) -> dict:
    """{site key: (A, a)} of a read-out edit; empty for the projection."""
    from safetensors.torch import load_file

    from weditor.io.recipe import READOUT_FILE

    path = folder / READOUT_FILE
    return {k: (v[:, :-1], v[:, -1]) for k, v in load_file(path).items()} if path.exists() else {}


@pytest.fixture(scope="session")
def patched(tiny_wan, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("patched") / "out"
    patch_tiny(tiny_wan, out, *PAPER_SITE)
    return out


def assert_option_refused(base: Path, out: Path, args: list, message: str):
    """`weditor patch BASE --pairs TINY_PAIRS ARGS` exits 2 with `message` and one final `Error:` line, no traceback,
    and writes nothing at `out` (the text encoder methods' option checks share it)."""
    result = run_cli(["patch", base, "--pairs", TINY_PAIRS, "--out", out, "--no-summary", *args])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and message in result.output and lines[-1].startswith("Error:"), result.output
    assert sum(line.startswith("Error:") for line in lines) == 1 and "Traceback" not in result.output
    assert not out.exists()


def assert_verify_exact_and_tamper_caught(folder: Path, base: Path, bad: Path, exact: int, suffix: str = ""):
    """`weditor verify` recomputes `exact` tensors of a weight-delta patch, and fails on a copy whose increment
    ending in `suffix` was scaled with its hash rewritten (`tampered_increment`)."""
    result = run_cli(["verify", folder, "--base", base])
    assert result.exit_code == 0, result.output
    assert f"{exact} exact" in result.output, result.output
    result = run_cli(["verify", tampered_increment(folder, bad, suffix), "--base", base])
    assert result.exit_code != 0 and "MISMATCH" in result.output, result.output


def tampered_increment(folder: Path, bad: Path, suffix: str = "") -> Path:
    """A copy of a weight-delta patch (`bad`) whose first saved increment ending in `suffix` is scaled by 1.01, with
    its hash in weditor.json rewritten as an attacker would: only recomputing the tensors can catch it."""
    import json
    import shutil

    from safetensors.torch import load_file, save_file

    from weditor.io.recipe import sha256_file

    shutil.copytree(folder, bad)
    path = bad / "weditor" / "directions.safetensors"
    tensors = load_file(path)
    key = next(k for k in tensors if k.endswith(suffix))
    tensors[key] = tensors[key] * 1.01
    save_file(tensors, path)
    recipe = json.loads((bad / "weditor.json").read_text())
    recipe["files"]["weditor/directions.safetensors"] = sha256_file(path)
    (bad / "weditor.json").write_text(json.dumps(recipe, indent=2))
    return bad
