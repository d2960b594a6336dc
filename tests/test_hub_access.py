"""An unreachable or offline Hub: one plain line in about a second, before diffusers is imported (issue 21)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.conftest import TINY_PAIRS

PROBE = """
import sys
from weditor.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
print("diffusers imported:", "diffusers" in sys.modules, "torch imported:", "torch" in sys.modules)
sys.exit(code)
"""


def run_patch_of_hub_id(tmp_path, **env):
    environ = {**os.environ, "HF_HOME": str(tmp_path / "hf-home"), **env}
    environ.pop("HF_TOKEN", None)
    t0 = time.perf_counter()
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            "patch",
            "some-org/some-model",
            "--pairs",
            str(TINY_PAIRS),
            "--out",
            str(tmp_path / "out"),
        ],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return run, time.perf_counter() - t0


@pytest.mark.parametrize(
    "env, reason",
    [
        ({"HF_HUB_OFFLINE": "1"}, "offline mode"),
        ({"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://no-such-host.invalid"}, "name not found"),
        ({"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9"}, "127.0.0.1:9"),
    ],
)
def test_unreachable_hub_is_one_plain_line_before_diffusers(tmp_path, env, reason):
    run, seconds = run_patch_of_hub_id(tmp_path, **env)
    assert run.returncode == 2, run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("Error: some-org/some-model: could not be downloaded"), run.stderr
    assert reason in errors[0] and "give that folder instead of the id" in errors[0]
    assert "diffusers imported: False torch imported: False" in run.stdout
    assert seconds < 30  # the interpreter's start included; it was ~35 s of retries before
    assert not (tmp_path / "out").exists()


def test_a_cached_model_is_read_offline_when_the_hub_is_unreachable(tmp_path, monkeypatch, tiny_wan_single):
    """A snapshot in the cache: no error, and huggingface_hub is put in offline mode (no retries)."""
    import shutil

    from huggingface_hub import constants

    from weditor.io.hub_access import check_hub_model

    rev = "0" * 40
    repo = tmp_path / "hub" / "models--some-org--some-model"
    shutil.copytree(tiny_wan_single, repo / "snapshots" / rev)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(rev)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    check_hub_model("some-org/some-model")
    assert constants.HF_HUB_OFFLINE is True
