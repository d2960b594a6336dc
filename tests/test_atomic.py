"""Atomic output: `weditor patch` killed with SIGKILL at random points of its write phase.

A warm "fork server" (torch, diffusers and weditor imported once) forks one child per trial;
the child runs the patch, the test waits for the hidden staging folder to appear (the start of
the write phase), sleeps a random fraction of the write time and kills the child. OUT_DIR must
then be absent or complete (verify_folder passes), the base untouched; with --overwrite of an
earlier output it must never be absent (the final swap is one atomic exchange on Linux). The
next run removes the hidden folders the killed ones left behind.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TINY_PAIRS, run_cli
from weditor.errors import WeditorError
from weditor.io.integrity import check_folder as verify_folder
from weditor.io.recipe import hash_files

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")

SERVER = r"""
import json, os, sys
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["HF_HUB_OFFLINE"] = "1"
import torch
torch.set_num_threads(1)
import diffusers, transformers, safetensors.torch  # noqa: F401  (warm imports, before any fork)
from diffusers import WanPipeline  # noqa: F401
import weditor.pipeline.card, weditor.io.pickles, weditor.models.preflight, weditor.io.workspace  # noqa: F401
from weditor.pipeline.config import PatchConfig
from weditor.pipeline.run import run_patch
print("ready", flush=True)
for line in sys.stdin:
    cfg = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            sys.stdout = sys.stderr = open(os.devnull, "w")
            run_patch(PatchConfig(**cfg), echo=lambda *a: None)
        except BaseException:
            code = 3
        os._exit(code)
    print(pid, flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"pid": pid, "status": status}), flush=True)
"""


class ForkServer:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parents[1],
        )
        assert self.proc.stdout.readline().strip() == "ready"

    def start(self, cfg: dict) -> int:
        self.proc.stdin.write(json.dumps(cfg) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def wait(self) -> int:
        return json.loads(self.proc.stdout.readline())["status"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def staging_folders(out: Path) -> list[Path]:
    return [
        p
        for p in out.parent.iterdir()
        if p.name.startswith(f".{out.name}.weditor-tmp-") and not p.name.endswith("-base")
    ]


def hidden(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def run_until_staging(server: ForkServer, cfg: dict, out: Path, timeout: float = 120.0):
    """Start a child; return (pid, time the staging folder appeared or None if it finished first)."""
    before = set(staging_folders(out))
    pid = server.start(cfg)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if set(staging_folders(out)) - before:
            return pid, time.perf_counter()
        try:  # the child is the server's, not ours: probe with signal 0
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid, None
        time.sleep(0.001)
    raise AssertionError("the staging folder never appeared")


def outcome(out: Path) -> str:
    if not out.exists():
        return "absent"
    try:
        verify_folder(out)
    except WeditorError as e:
        raise AssertionError(f"OUT_DIR exists but is incomplete or corrupt: {e.message}") from None
    return "complete"


@pytest.mark.slow
def test_sigkill_during_the_write_leaves_nothing_or_everything(tiny_wan, tmp_path):
    out = tmp_path / "out"
    cfg = dict(
        method="refusal",
        pairs=[str(TINY_PAIRS)],
        out=str(out),
        model=str(tiny_wan),
        layers="2-3",
        size=[32, 32, 5],
        steps=2,
        summary=False,
        overwrite=True,
    )
    base_before = hash_files(tiny_wan)
    rng = random.Random(7)
    server = ForkServer()
    try:
        # A first run to the end measures how long the write phase lasts.
        pid, appeared = run_until_staging(server, cfg, out)
        assert server.wait() == 0
        write_time = time.perf_counter() - appeared
        assert outcome(out) == "complete"
        reference = hash_files(out)

        # Kill times stratified over the write phase (and a little past it); the first half of
        # the trials write a fresh OUT_DIR, the second half replace a complete one (--overwrite).
        trials, seen = 6, []
        for trial in range(trials):
            fresh = trial < trials // 2
            if fresh and out.exists():
                shutil.rmtree(out)
            if not fresh and not out.exists():  # an earlier output to replace
                server.start(cfg)
                assert server.wait() == 0
            pid, appeared = run_until_staging(server, cfg, out)
            if appeared is not None:
                k = trial % (trials // 2)
                time.sleep(rng.uniform(k, k + 1) / (trials // 2) * 1.2 * write_time)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            status = server.wait()
            state = outcome(out)
            if not fresh:
                assert state == "complete", f"trial {trial}: --overwrite left no OUT_DIR"
            if state == "complete":
                assert hash_files(out) == reference  # the same inputs give the same bytes
            seen.append((os.WIFSIGNALED(status), state))
        assert hash_files(tiny_wan) == base_before
        assert any(killed for killed, _ in seen), seen  # at least some kills landed mid-write
    finally:
        server.close()

    # The next run tidies up what the killed ones left behind, and completes.
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            tiny_wan,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            "32x32x5",
            "--layers",
            "2-3",
            "--steps",
            "2",
            "--no-summary",
            "--overwrite",
        ]
    )
    assert result.exit_code == 0, result.output
    assert hidden(out) == []
    assert hash_files(out) == reference
    verify_folder(out)


def test_stale_folders_of_live_or_foreign_processes_are_kept(tmp_path):
    from weditor.io.workspace import clean_stale, host_tag, sibling_name

    out = tmp_path / "out"
    mine_alive = sibling_name(out)  # this process: alive
    mine_alive.mkdir()
    foreign = tmp_path / f".out.weditor-tmp-{'0' * 8 if host_tag() != '0' * 8 else '1' * 8}-1-abcdef12"
    foreign.mkdir()  # another host: not ours to judge
    legacy = tmp_path / ".out.weditor-tmp-abcdef12"
    legacy.mkdir()  # the old name format, without owner
    dead = tmp_path / f".out.weditor-tmp-{host_tag()}-{_dead_pid()}-abcdef12"
    dead.mkdir()
    removed = clean_stale(out)
    assert removed == [dead]
    assert mine_alive.exists() and foreign.exists() and legacy.exists()


def test_an_interrupted_non_atomic_overwrite_is_rolled_back(tmp_path):
    """Where no atomic exchange exists, --overwrite moves OUT aside first; a run killed right
    then leaves OUT absent and an `-old-` folder, which the next run puts back."""
    from weditor.io.workspace import clean_stale, host_tag

    out = tmp_path / "out"
    old = tmp_path / f".out.weditor-old-{host_tag()}-{_dead_pid()}-abcdef12"
    old.mkdir()
    (old / "weditor.json").write_text("{}")
    clean_stale(out)
    assert (out / "weditor.json").read_text() == "{}" and not old.exists()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
