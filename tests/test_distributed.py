"""`torchrun --nproc-per-node=2 -m weditor patch` (gloo, CPU) writes the single-process patch, byte for byte.

Both runs use one thread per process (torchrun's default; a matmul may round differently with
another thread count), the tiny Wan pipeline and the default method (the text read-out, with its
self-check and the summary: the units dealt out to the ranks are the pair encodings, the neutral
encodings and the summary's batches; `--batch 2` makes several batches of the summary's prompts).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

from tests.conftest import TINY_PAIRS, TINY_SIZE
from weditor.io.recipe import hash_files


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", TQDM_DISABLE="1", HF_HUB_OFFLINE="1")
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    return env


def _patch(prefix: list[str], base, out, extra=()):
    args = [
        "patch",
        str(base),
        "--pairs",
        str(TINY_PAIRS),
        "--out",
        str(out),
        "--size",
        TINY_SIZE,
        "--batch",
        "2",
        *extra,
    ]
    return subprocess.run([*prefix, *args], env=_env(), capture_output=True, text=True, timeout=600)


def _torchrun():
    runner = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    if runner is None:
        pytest.skip("torchrun is not installed beside this Python")
    return [runner, "--standalone", "--nproc-per-node=2", "-m", "weditor"]


@pytest.mark.slow
@pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason="torch.distributed with gloo is needed",
)
def test_torchrun_two_ranks_write_the_single_process_patch_byte_for_byte(tiny_wan_single, tmp_path):
    one = _patch([sys.executable, "-m", "weditor"], tiny_wan_single, tmp_path / "one" / "out")
    assert one.returncode == 0, one.stdout + one.stderr
    two = _patch(_torchrun(), tiny_wan_single, tmp_path / "two" / "out")
    assert two.returncode == 0, two.stdout + two.stderr
    a, b = hash_files(tmp_path / "one" / "out"), hash_files(tmp_path / "two" / "out")
    assert a == b  # every file: shards, directions, read-out, recipe with its summary, card
    recipe = json.loads((tmp_path / "two" / "out" / "weditor.json").read_text())
    # the search ran on both sides and chose the same trial (on this random model nothing reaches "erased", so it
    # goes past the read-out: the refusal edit's collection is dealt out to the ranks too)
    chosen = recipe["tuning"]["trials"][recipe["tuning"]["chosen"]]
    assert recipe["method"].split("+")[0] == chosen["method"] and recipe["summary"]["neutral_prompts"] > 2
    assert two.stdout.count("verified: reloaded") == 1  # rank 0 alone writes, verifies and reports


@pytest.mark.slow
@pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason="torch.distributed with gloo is needed",
)
@pytest.mark.parametrize("edit", ["readout", "projection"])
def test_torchrun_block_edit_writes_the_single_process_patch_byte_for_byte(edit, tiny_wan_single, tmp_path):
    """`--method refusal`: the collection's trajectories dealt out, every update replayed on every rank in order."""
    extra = ["--method", "refusal", "--edit", edit]  # with its self-check (a collection of its own) and summary
    one = _patch([sys.executable, "-m", "weditor"], tiny_wan_single, tmp_path / "one" / "out", extra)
    assert one.returncode == 0, one.stdout + one.stderr
    two = _patch(_torchrun(), tiny_wan_single, tmp_path / "two" / "out", extra)
    assert two.returncode == 0, two.stdout + two.stderr
    a, b = hash_files(tmp_path / "one" / "out"), hash_files(tmp_path / "two" / "out")
    assert a == b
    recipe = json.loads((tmp_path / "two" / "out" / "weditor.json").read_text())
    assert recipe["method"].startswith("refusal") and recipe["params"]["edit"] == edit
    assert len(recipe["edits"]) > 0 and two.stdout.count("verified: reloaded") == 1


@pytest.mark.slow
@pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason="torch.distributed with gloo is needed",
)
@pytest.mark.parametrize("method", [["uce"], ["uce", "--uce-substitute", "common"], ["safree"]])
def test_torchrun_text_side_methods_write_the_single_process_patch_byte_for_byte(method, tiny_wan_single, tmp_path):
    """UCE's encodes are dealt out (pairs and neutral prompts); SAFREE's keyword encodes run on every rank;
    both methods' summaries deal their batches out."""
    extra = ["--method", *method]
    one = _patch([sys.executable, "-m", "weditor"], tiny_wan_single, tmp_path / "one" / "out", extra)
    assert one.returncode == 0, one.stdout + one.stderr
    two = _patch(_torchrun(), tiny_wan_single, tmp_path / "two" / "out", extra)
    assert two.returncode == 0, two.stdout + two.stderr
    assert hash_files(tmp_path / "one" / "out") == hash_files(tmp_path / "two" / "out")
    recipe = json.loads((tmp_path / "two" / "out" / "weditor.json").read_text())
    assert recipe["method"].startswith(method[0]) and len(recipe["edits"]) > 0
    assert two.stdout.count("verified: reloaded") == 1


@pytest.mark.slow
def test_torchrun_refuses_a_method_that_is_not_data_parallel(tiny_wan_single, tmp_path):
    res = _patch(_torchrun(), tiny_wan_single, tmp_path / "o", ["--method", "refusal", "--reins", "--no-tune"])
    assert res.returncode != 0
    assert "not data-parallel yet" in res.stderr + res.stdout
    assert not (tmp_path / "o").exists()


def test_a_rank_leaves_with_the_exit_code_python_would_give(capsys):
    """Each rank ends with `os._exit` (no interpreter teardown, where a gloo thread once aborted a finished rank):
    the code must still be what `sys.exit` gives, so a refused input still fails the torchrun command."""
    from weditor.__main__ import _exit_code

    assert [_exit_code(None), _exit_code(0), _exit_code(2), _exit_code(256 + 3)] == [0, 0, 2, 3]
    assert _exit_code("Error: bad") == 1 and "Error: bad" in capsys.readouterr().err
