"""`weditor patch` says what it is doing in every phase without a bar of its own, on a terminal (issue 21)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.conftest import TINY_PAIRS, TINY_SIZE


def test_patch_on_a_terminal_names_every_silent_phase(tiny_wan_single, tmp_path):
    """stderr on a pseudo-terminal, as a user's: the status line names the load, the measurement, the
    verification, the hashing and the card as each starts."""
    leader, follower = pty.openpty()
    out = tmp_path / "out"
    run = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from weditor.cli import main; main()",
            "patch",
            str(tiny_wan_single),
            "--pairs",
            str(TINY_PAIRS),
            "--out",
            str(out),
            "--size",
            TINY_SIZE,
            "--no-tune",
        ],
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    stdout, _ = run.communicate(timeout=600)
    os.close(leader)
    assert run.returncode == 0, seen.decode(errors="replace")[-2000:]
    text = seen.decode(errors="replace")
    for words in (
        "loading the model",
        "measuring the edit",
        "verifying: reloading the output",
        "writing the patched folder",
        "hashing the files",
        "writing the model card",
    ):
        assert f"weditor: {words}" in text, (words, text[-3000:])
    assert "weditor: " not in stdout.decode()  # the summary on stdout stays clean


def test_no_status_line_when_not_on_a_terminal(tiny_wan_single, tmp_path):
    from tests.conftest import run_cli

    result = run_cli(
        [
            "patch",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            tmp_path / "out",
            "--size",
            TINY_SIZE,
            "--no-tune",
            "--no-summary",
        ]
    )
    assert result.exit_code == 0 and "weditor: verifying" not in result.output
