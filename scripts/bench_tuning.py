"""The self-tuning search, measured: the objective over the whole grid, and what the search costs.

    python scripts/bench_tuning.py grid pairs/shapes-red.toml pairs/shapes-circle.toml   # every trial, no early stop
    python scripts/bench_tuning.py timing pairs/shapes-red.toml --repeat 2               # fixed vs tuned patch, wall s
    python scripts/bench_tuning.py timing pairs/shapes-red.toml --repeat 3 --cli         # the same, as commands

`grid` scores every setting of every method in the registry (weditor/pipeline/candidates.py) on the held-out
split, as the search does, but without stopping a ladder early, and prints a Markdown table (paste into
docs/benchmarks.md, "Self-tuning"). `timing` runs `weditor patch --no-tune` and the default (searched)
patch back to back on the shipped shapes model, alternating, and prints both wall times: in one process by default
(the mean over every run, the first one paying the imports, and over the warm runs alone: the two patches' own
work), or
with `--cli` as the user runs them, `weditor patch` in a fresh process each time (imports, start-up and loading
included on both sides), the median of each.
"""

from __future__ import annotations

import argparse
import time


def grid(pair_files: list[str], seed: int):
    import tempfile

    from weditor.io.pairs import load_pairsets
    from weditor.models.loading import load_base
    from weditor.pipeline import choice, tuning
    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.load import open_pipeline

    print("| pair file | method | setting | held-out erasure | neutral change | part leak | part move | trial s |")
    print("|---|---|---|---|---|---|---|---|")
    for path in pair_files:
        cfg = PatchConfig(pairs=[path], out=tempfile.mkdtemp() + "/unused", seed=seed)  # nothing is written there
        pairsets = load_pairsets(cfg.pairs)
        base, adapter = load_base(cfg.model, None)
        base, _, pipe, settings = open_pipeline(cfg, pairsets, base, adapter, offload=False)
        # no early stop, every rung: the lines the search stops at (tuning.py) and the budgets the rule reads (choice.py)
        patched = [(tuning, n) for n in ("ERASED", "ERASED_PLAIN", "PART_BUDGET", "PART_MOVE_BUDGET")]
        patched += [(choice, n) for n in ("PART_BUDGET", "PART_MOVE_BUDGET", "BLOCK_PART_MOVE_BUDGET")]
        saved = [getattr(m, n) for m, n in patched]
        for m, n in patched:
            setattr(m, n, float("inf"))
        try:
            tuner = tuning.Tuner(budget=float("inf"), seed=seed).fit(pipe, adapter, base, pairsets, settings, cfg)
        finally:
            for (m, n), v in zip(patched, saved):
                setattr(m, n, v)
        for t in tuner.trials_:
            setting = ", ".join(f"{k} {v}" for k, v in t.params.items())
            erasure = ", ".join(f"{e:.3f}" for e in t.score.erasure.values()) if t.score else t.error
            change = f"{t.score.neutral_change:.4f}" if t.score else ""
            leak = ", ".join(f"{v:.3f}" for v in t.score.parts.values()) if t.score and t.score.parts else ""
            move = ", ".join(f"{v:.3f}" for v in t.score.moves.values()) if t.score and t.score.moves else ""
            print(
                f"| {path.rsplit('/', 1)[-1]} | {t.method} | {setting} | {erasure} | {change} | {leak} | {move} | {t.seconds:.2f} |",
                flush=True,
            )


def timing(pair_file: str, repeat: int):
    import tempfile

    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.run import run_patch

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeat):
            for tune in (False, True):
                t0 = time.perf_counter()
                result = run_patch(
                    PatchConfig(pairs=[pair_file], out=f"{tmp}/{r}-{tune}", tune=tune), echo=lambda *a: None
                )
                trials = len((result.recipe.get("tuning") or {}).get("trials", []))
                rows.append((tune, time.perf_counter() - t0, result.timings.get("tune", 0.0), trials))
                print(
                    f"{'tuned' if tune else 'fixed'}: {rows[-1][1]:.1f} s (search {rows[-1][2]:.1f} s, {trials} trials)",
                    flush=True,
                )
    fixed = sum(s for t, s, _, _ in rows if not t) / repeat
    tuned = sum(s for t, s, _, _ in rows if t) / repeat
    print(f"mean: fixed {fixed:.1f} s, tuned {tuned:.1f} s, ratio {tuned / fixed:.2f}")
    if repeat > 1:  # the first fixed run pays the imports and a cold page cache: the warm runs alone, the work itself
        fixed = sum(s for t, s, _, _ in rows[2:] if not t) / (repeat - 1)
        tuned = sum(s for t, s, _, _ in rows[2:] if t) / (repeat - 1)
        print(f"warm (after the first run): fixed {fixed:.2f} s, tuned {tuned:.2f} s, ratio {tuned / fixed:.2f}")


def timing_cli(pair_file: str, repeat: int):
    import statistics
    import subprocess
    import sys
    import tempfile

    walls = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeat):
            for tune in (False, True):
                cmd = [sys.executable, "-m", "weditor", "patch", "--pairs", pair_file, "--out", f"{tmp}/{r}-{tune}"]
                t0 = time.perf_counter()
                subprocess.run(cmd + ([] if tune else ["--no-tune"]), check=True, capture_output=True)
                walls[tune].append(time.perf_counter() - t0)
                print(f"{'tuned' if tune else 'fixed'} (command): {walls[tune][-1]:.1f} s", flush=True)
    fixed, tuned = statistics.median(walls[False]), statistics.median(walls[True])
    print(f"median: fixed {fixed:.1f} s, tuned {tuned:.1f} s, ratio {tuned / fixed:.2f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    g = sub.add_parser("grid")
    g.add_argument("pairs", nargs="+")
    g.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("timing")
    t.add_argument("pairs")
    t.add_argument("--repeat", type=int, default=2)
    t.add_argument("--cli", action="store_true", help="each patch a fresh `weditor patch` process, as the user runs it")
    args = ap.parse_args(argv)
    if args.what == "grid":
        grid(args.pairs, args.seed)
    elif args.cli:
        timing_cli(args.pairs, args.repeat)
    else:
        timing(args.pairs, args.repeat)


if __name__ == "__main__":
    main()
