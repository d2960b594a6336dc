"""One status line on the terminal for each phase of `weditor patch` that has no progress bar of its own.

Between the "encode pairs" bar and the summary, a patch used to print nothing for tens of seconds
on a small model and minutes on a 14B one (the before/after measurement, the stock reload that
verifies the output, hashing): a silence that reads as a hang. `weditor.pipeline.run.Phases` calls
`show` as each phase starts, so the terminal always says what is running. The line is rewritten in
place (carriage return, like tqdm's bars, which overwrite it too) and only on a terminal: logs and
captured output (tests, pipes) keep only the summary, as with tqdm's `disable=None`.
"""

from __future__ import annotations

import sys

# The phases worth a line; the others are sub-second or have their own tqdm bar.
DESCRIPTIONS = {
    "load": "loading the model",
    "summary": "measuring the edit: held-out and neutral prompts, before and after",
    "save": "writing the patched folder (edited shards rewritten, other files linked or copied)",
    "hash": "hashing the files written",
    "verify": "verifying: reloading the output with stock diffusers and comparing it with the edit",
    "card": "writing the model card",
    "harden": "hardening: attacking the edit and refitting",
    "reins": "folding the REINS vector",
}


def _terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def show(name: str, stream=None) -> None:
    """Replace the status line with the description of phase `name` (nothing for an undescribed phase)."""
    stream = stream or sys.stderr
    text = DESCRIPTIONS.get(name)
    if text is None or not _terminal(stream):
        return
    stream.write(f"\r\033[Kweditor: {text} ...")
    stream.flush()


def clear(stream=None) -> None:
    stream = stream or sys.stderr
    if _terminal(stream):
        stream.write("\r\033[K")
        stream.flush()
