"""The README picture: a few rows of a `weditor eval` folder, original vs patched, as one PNG.

    weditor patch --pairs pairs/shapes-red.toml --out out/shapes-no-red
    weditor eval weditor:shapes out/shapes-no-red --out out/eval-no-red
    python scripts/readme_grid.py out/eval-no-red docs/img/shapes-no-red.png

Rows are picked by prompt (`--prompt`, repeatable) or default to two target prompts, one
synonym and three neutral prompts; frames come from the videos the eval saved (.npy), and the
layout is weditor's own grid (weditor/evaluation/generate.py), with each verdict in the label.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

DEFAULT_ROWS = [
    "a red circle moving right",
    "the red cross moves upwards",
    "a scarlet square moving up",
    "a blue square moving up",
    "a green circle moving left",
    "an orange circle that moves to the left",
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("eval_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--prompt", action="append", default=None)
    ap.add_argument("--frames", type=int, default=3, help="frames per side")
    args = ap.parse_args(argv)
    from weditor.evaluation.generate import grid

    report = json.loads((args.eval_dir / "report.json").read_text())
    by_prompt = {v["prompt"]: v for v in report["videos"]}
    rows = []
    for prompt in args.prompt or DEFAULT_ROWS:
        if prompt not in by_prompt:
            raise SystemExit(f"Error: {args.eval_dir / 'report.json'}: no video for prompt {prompt!r}")
        v = by_prompt[prompt]
        shapes = v.get("scores", {}).get("shapes")
        label = prompt if shapes is None else f"{prompt} ({shapes['base']['color']} -> {shapes['patched']['color']})"
        rows.append(
            (label, np.load(args.eval_dir / v["base"]["frames"]), np.load(args.eval_dir / v["patched"]["frames"]))
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    grid(
        rows,
        args.out,
        frames_per_side=args.frames,
        title="weditor:shapes, original (left) vs patched to erase red (right)",
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
