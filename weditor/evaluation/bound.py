"""How much `weditor eval` will do, said before it starts, and how long it should take, said after the first video.

The README's eval on the shapes model makes 64 videos and 124 audit runs: seconds each on an idle
machine, a minute each on a loaded two-core one, with nothing on screen to say which. So the run
first prints the number of videos (and how many an earlier, interrupted run already left on disk:
those are kept), and once the first video is made, the estimate for the rest.
"""

from __future__ import annotations

import time
from pathlib import Path


def _duration(seconds: float) -> str:
    return (
        f"{seconds:.0f} s"
        if seconds < 90
        else (f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h")
    )


def announce(n_jobs: int, todo: dict, audit_runs: int, out_dir: Path) -> str:
    """What the run will generate, before it starts: the number a user needs to decide to wait or --limit."""
    total = 2 * n_jobs
    left = sum(todo.values())
    cached = f"; {total - left} already in {out_dir} from an earlier run" if left < total else ""
    audit = f", then {audit_runs} short audit runs" if audit_runs else ""
    return (
        f"weditor eval: {total} videos ({n_jobs} per model; {left} to generate{cached}){audit}. "
        "--limit N takes N prompts per group; an interrupted run resumes where it stopped (same command, same --out)."
    )


def estimating(progress, videos: int, audit_equivalent: float):
    """`progress` that times the first video it generates and prints the estimated time for the rest."""
    state = {"said": False}

    def wrapped(items, total, desc):
        bar = progress(items, total, desc)
        if state["said"] or not desc.startswith("generate"):
            yield from bar
            return
        t0 = None
        for item in bar:
            if t0 is not None and not state["said"]:
                first = time.perf_counter() - t0
                state["said"] = True
                rest = first * (videos - 1 + audit_equivalent)
                bar.write(
                    f"first video: {first:.1f} s; estimated time for the rest: about {_duration(rest)} "
                    f"({videos - 1} videos" + (" and the audit)" if audit_equivalent else ")")
                )
            t0 = time.perf_counter()
            yield item
        if t0 is not None and not state["said"]:  # one video only: nothing left to estimate
            state["said"] = True

    return wrapped
