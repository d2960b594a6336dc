"""Run the hostile pair-file / recipe / option inputs of tests/test_hostile_inputs.py and print the
Markdown table of docs/reliability.md ("Hostile inputs: pair files, recipes and options").

    python scripts/hostile_inputs_table.py > table.md

Each input is built in a fresh temporary folder and given to the real CLI in-process (click's
CliRunner), against weditor.testing's tiny Wan pipeline. "observed" is the exit status and the
one `Error:` line (temporary paths shortened to `…/`), or the exception a traceback would show.
Run it from a checkout of another version (with this script and the test file copied in) to get
that version's column: an input still running after 20 s is stopped there.
"""

from __future__ import annotations

import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest  # noqa: E402

from tests.conftest import TINY_PAIRS, TINY_SIZE, run_cli  # noqa: E402
from tests.test_hostile_inputs import CASES, P, _recipe, good_recipe, mutated, recipe_folder  # noqa: E402

HTML = "prompts and description holding `<script>alert(1)</script>` (and `&`)"


def _tampered(tmp: Path) -> Path:
    path = recipe_folder(tmp, good_recipe())
    pair = path.parent / "weditor" / "pairs" / "red.toml"
    pair.write_text(pair.read_text().replace("red car", "red bus"))
    return path


# Inputs that were already refused in one line before 0.5: kept in the table as a check that they still are.
ALREADY = [
    (
        "recipe-site-refused",
        "text recipe carrying a refusal `site`",
        _recipe(mutated(method="text", params__method="text")),
        "--site: only --method refusal",
    ),
    (
        "recipe-tampered-pair",
        "recipe whose pair file was edited after patching",
        _recipe(_tampered),
        "does not match the SHA-256",
    ),
    ("pairs-dir", "`--pairs` a folder", lambda t, c: ["patch", c["model"], P, t], "is a directory"),
    (
        "size-zero",
        "`--size 0x32x5`",
        lambda t, c: ["patch", c["model"], P, TINY_PAIRS, "--size", "0x32x5"],
        "HEIGHTxWIDTHxFRAMES",
    ),
    (
        "size-junk",
        "`--size 32x32`",
        lambda t, c: ["patch", c["model"], P, TINY_PAIRS, "--size", "32x32"],
        "HEIGHTxWIDTHxFRAMES",
    ),
    ("seed-text", "`--seed abc`", lambda t, c: ["patch", c["model"], P, TINY_PAIRS, "--seed", "abc"], "--seed"),
]


class Hung(Exception):
    pass


def _alarm(signum, frame):
    raise Hung()


def observe(build, model: Path, message: str) -> str:
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        tmp = Path(tmp)
        work = tmp / "in"
        work.mkdir()
        out = tmp / "out"
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(20)
        try:
            from click.testing import CliRunner

            from weditor.cli import main

            args = [str(a) for a in build(work, {"model": model, "monkeypatch": mp})] + ["--out", str(out)]
            result = CliRunner().invoke(main, args)
        except Hung:
            return "still running after 20 s (stopped there)"
        finally:
            signal.alarm(0)
        if isinstance(result.exception, Hung):  # CliRunner caught it
            return "still running after 20 s (stopped there)"
        text = result.output.replace(str(tmp), "…").replace(str(model), "TINY")
        errors = [line for line in text.splitlines() if line.startswith("Error:")]
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            return f"exit 1, traceback: {type(result.exception).__name__}"
        if result.exit_code == 0:
            return "exit 0: patched" + (" (OUT written)" if out.exists() else "")
        line = errors[0] if errors else "(no Error line)"
        line = line if len(line) <= 150 else line[:147] + "..."
        extra = "" if len(errors) == 1 else f" ({len(errors)} Error lines)"
        line = line.replace("|", "\\|").replace("`", "")
        return f"exit {result.exit_code}{extra}: `{line}`"


def html_row(model: Path) -> str:
    from tests.test_hostile_inputs import replaced

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "p.toml"
        path.write_text(
            replaced('"the colour red"', '"<script>alert(1)</script> & red"').replace(
                '"a cat on a table"', '"<script>alert(1)</script> a cat"'
            )
        )
        out = tmp / "out"
        result = run_cli(["patch", model, P, path, "--out", out, "--size", TINY_SIZE])
        if result.exit_code != 0:
            return f"exit {result.exit_code}"
        card = (out / "README.md").read_text()
        raw = "<script>" in card
        return f"exit 0; README.md {'holds raw `<script>`' if raw else 'shows `&lt;script&gt;alert(1)&lt;/script&gt; &amp; red`, no raw `<script>`'}"


def main():
    from weditor.testing import save_tiny_wan_pipeline

    with tempfile.TemporaryDirectory() as tmp:
        model = save_tiny_wan_pipeline(Path(tmp) / "tiny-wan-1", seed=1)
        print("| input tried | expected | observed |")
        print("| --- | --- | --- |")
        for _, what, build, message in CASES + ALREADY:
            print(f"| {what} | exit 2, one line: `{message}` | {observe(build, model, message)} |", flush=True)
        print(f"| {HTML} | exit 0, HTML escaped in the card | {html_row(model)} |")


if __name__ == "__main__":
    main()
