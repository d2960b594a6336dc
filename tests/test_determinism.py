"""Same inputs and seed, same bytes: with several directions and several concepts too.

tests/test_patch.py::test_patch_is_deterministic covers the default single-concept patch; this
adds `--directions 2` and two pair files, where the directions of both concepts are
orthonormalised together (an order-dependent step that must not depend on anything else).
"""

from __future__ import annotations

import json

import torch
from safetensors.torch import load_file

from tests.conftest import DATA, TINY_PAIRS, TINY_SIZE, run_cli
from weditor.io.recipe import DIRECTIONS_FILE, hash_files

KNIFE_PAIRS = DATA / "tiny-knife.toml"


def test_two_concepts_two_directions_are_byte_identical(tiny_wan, tmp_path):
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run / "out"
        result = run_cli(
            [
                "patch",
                "--method",
                "refusal",
                tiny_wan,
                "--pairs",
                TINY_PAIRS,
                "--pairs",
                KNIFE_PAIRS,
                "--out",
                out,
                "--size",
                TINY_SIZE,
                "--layers",
                "2-3",
                "--directions",
                "2",
                "--steps",
                "3",
            ]
        )
        assert result.exit_code == 0, result.output
        outs.append(out)
    a, b = outs
    assert hash_files(a) == hash_files(b)
    assert (a / "weditor.json").read_bytes() == (b / "weditor.json").read_bytes()
    recipe = json.loads((a / "weditor.json").read_text())
    assert [p["concept"] for p in recipe["pairs"]] == ["red", "knife"]
    dirs = load_file(a / DIRECTIONS_FILE)
    assert dirs and all(q.shape[0] == 4 for q in dirs.values())  # 2 concepts x 2 directions, orthonormal together
    for q in dirs.values():
        assert (q @ q.T - torch.eye(q.shape[0], dtype=q.dtype)).abs().max() < 1e-10
    assert run_cli(["verify", a]).exit_code == 0
