"""The shapes erasure benchmark: does a patch remove "red" from what the model draws, and only that?

For each method variant it runs `weditor patch` exactly as a user would (same library call),
reloads the written folder with stock `WanPipeline.from_pretrained`, generates held-out prompts
from fixed seeds, and reads colour, shape and motion back with the world's classifier:

- erasure: fraction of target prompts whose video still shows red (plain wording; synonyms
  crimson/scarlet separately, never used in the pairs);
- preservation: classifier accuracy on every other colour, shape and motion, and mean pixel
  change against the original model on prompts without the concept.

    python scripts/bench_erasure.py                  # variants of the paper's ablation
    python scripts/bench_erasure.py --sweep          # + layers, rank, alpha, lambda sweeps
    python scripts/bench_erasure.py --quick          # the CI subset
    python scripts/bench_erasure.py --multi          # red and blue erased in one patch
    python scripts/bench_erasure.py --fine ...       # other colours: every shape x motion, 2 seeds

The concept matrix (issue 19): any shapes-world pair file, whatever its concept's kind (a colour,
a shape, a motion, one colour on one shape), read from the file (weditor/shapes/concepts.py):

    python scripts/bench_erasure.py --matrix pairs/shapes-circle.toml pairs/shapes-left.toml [--fine]
    python scripts/bench_erasure.py --matrix dev|held-out|all --variants default refusal
    python scripts/bench_erasure.py --matrix all --variant 'mine=method:refusal,site:ffn_in' --variants mine

Results are printed as Markdown tables (paste into docs/benchmarks.md) and saved as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from weditor.shapes.prompt_sets import PromptSet, held_out, used_prompts

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "pairs" / "shapes-red.toml"
TARGET = "red"
SECOND = "blue"  # the second concept of --multi
PAIRS_SECOND = ROOT / "pairs" / "shapes-blue.toml"


@dataclass
class Variant:
    name: str
    options: dict = field(default_factory=dict)  # PatchConfig fields; None = no edit


def prompt_sets(quick: bool, exclude: set[str], second: bool = False, fine: bool = False) -> list[PromptSet]:
    """Target prompts (plain and synonyms), and prompts of every other colour; with `second`, also
    target prompts for the second concept, which then leaves the "others".

    The other colours take every other shape/motion combination, one seed (one video = 1.6 points);
    with `fine`, every combination and two seeds, like the target sets (one video = 0.4 points),
    for when a difference of a video or two decides something."""
    from weditor.shapes import world

    shapes, motions = world.SHAPES, world.MOTIONS
    combos = [(s, m) for s in shapes for m in motions]
    if quick:
        combos = combos[::2]
    seeds = 1 if quick else 2
    target = PromptSet("target", [], [], seeds=seeds, concept=TARGET)
    synonym = PromptSet("synonyms", [], [], seeds=seeds, concept=TARGET)
    for i, (s, m) in enumerate(combos):
        target.prompts.append(held_out(TARGET, i, s, m, exclude))
        target.truth.append((TARGET, s, m))
        syn = world.SYNONYMS[TARGET][i % len(world.SYNONYMS[TARGET])]
        synonym.prompts.append(world.caption(TARGET, s, m, template=i % len(world.TEMPLATES), synonyms={TARGET: syn}))
        synonym.truth.append((TARGET, s, m))
    extra = []
    if second:
        blue = PromptSet(f"target {SECOND}", [], [], seeds=seeds, concept=SECOND)
        for i, (s, m) in enumerate(combos):
            blue.prompts.append(held_out(SECOND, i, s, m, exclude))
            blue.truth.append((SECOND, s, m))
        extra.append(blue)
    others = PromptSet("others", [], [], seeds=seeds if fine else 1)
    colours = [c for c in world.COLORS if c != TARGET and not (second and c == SECOND)]
    for i, c in enumerate(colours):
        picks = combos if fine else combos[i % 2 :: 2] if not quick else combos[i % 4 :: 4]
        for j, (s, m) in enumerate(picks):
            others.prompts.append(held_out(c, i + j, s, m, exclude))
            others.truth.append((c, s, m))
    for j, (s, m) in enumerate(combos if fine else combos[:: (4 if quick else 2)]):
        others.prompts.append(held_out(None, j, s, m, exclude))
        others.truth.append((world.DEFAULT_COLOR, s, m))
    return [target, synonym, *extra, others]


def generate_all(pipe, sets: list[PromptSet], batch: int = 16, **overrides) -> dict[str, np.ndarray]:
    """Every set's videos from fixed seeds; `overrides` go to `weditor.shapes.generate` (e.g. a callback)."""
    from weditor.shapes import generate

    out = {}
    for ps in sets:
        videos = []
        for seed in range(ps.seeds):
            for k in range(0, len(ps.prompts), batch):
                chunk = ps.prompts[k : k + batch]
                videos.append(generate(pipe, chunk, seed=1000 * seed + 7 + k, **overrides))
        out[ps.name] = np.concatenate(videos)
    return out


def score(sets: list[PromptSet], videos: dict, base_videos: dict | None) -> dict:
    from weditor.shapes.classify import classify

    result = {}
    for ps in sets:
        truth = ps.truth * ps.seeds
        preds = [classify(v) for v in videos[ps.name]]
        colour = np.mean([p.color == t[0] for p, t in zip(preds, truth)])
        shape = np.mean([p.shape == t[1] for p, t in zip(preds, truth)])
        motion = np.mean([p.motion == t[2] for p, t in zip(preds, truth)])
        row = {"n": len(truth), "colour_acc": float(colour), "shape_acc": float(shape), "motion_acc": float(motion)}
        if ps.concept is not None:
            row["concept_rate"] = float(np.mean([p.color == ps.concept for p in preds]))
            if ps.concept == TARGET:
                row["red_rate"] = row["concept_rate"]
            row["drawn_instead"] = dict(Counter(p.color for p in preds).most_common())
        else:  # asked -> drawn, most frequent first
            missed = Counter(f"{t[0]}->{p.color}" for p, t in zip(preds, truth) if p.color != t[0])
            row["colour_misses"] = dict(missed.most_common())
        if base_videos is not None:
            row["pixel_change"] = float(np.abs(videos[ps.name] - base_videos[ps.name]).mean())
        result[ps.name] = row
    return result


def run_variant(variant: Variant, sets, base_videos, workdir: Path) -> dict:
    from weditor.shapes.matrix import patch_and_load

    t0 = time.perf_counter()
    options = None if variant.options is None else dict(variant.options)
    pairs = [PAIRS] if options is None else options.pop("pairs", [PAIRS])
    if options is not None:
        options.setdefault("tune", False)  # a variant is its fixed settings unless it asks for the search
    pipe, patch_s = patch_and_load(options, pairs, workdir)
    videos = generate_all(pipe, sets)
    metrics = score(sets, videos, base_videos)
    metrics["patch_seconds"] = round(patch_s, 2)
    metrics["total_seconds"] = round(time.perf_counter() - t0, 2)
    return metrics, videos


# The paper's published setting (input of the first FFN linear of the last blocks, exact removal),
# with our relative alpha at 1 and the neutral prompts used as they come.
REFUSAL = {"method": "refusal"}  # the block-by-block refusal edit (the default before 0.4)
PAPER = {
    **REFUSAL,
    "site": "ffn_in",
    "layers": "0.5-1.0",
    "alpha": 1.0,
    "strength": 1.0,
    "neutral": "raw",
    "edit": "projection",
    "rank": 100,
}
PROJECTION = {**REFUSAL, "edit": "projection"}  # weditor 0.2's default: cPCA direction (rank 100, alpha 4), lambda 0.85
DEFAULT = "tuned default"  # `weditor patch` with no options (the self-tuning search); the name the CI test asks for
FIXED_TEXT = "text read-out (0.4 default, --no-tune)"  # --method text at removal 0.6, lambda 1
REFUSAL_READOUT = "refusal read-out: mean difference (0.3 default)"  # the CI test asks for it too
CPCA_READOUT = {**REFUSAL, "rank": 100, "alpha": 4.0}  # the refusal read-out along the contrastive-PCA direction


def ablation() -> list[Variant]:
    return [
        Variant("original (no edit)", None),
        Variant("paper's setting: ffn_in, last half, lambda 1", PAPER),
        Variant("projection: mean difference only", {**PROJECTION, "rank": None}),
        Variant("projection: + PCA (alpha 0)", {**PROJECTION, "alpha": 0.0}),
        Variant("projection: + PCA (alpha 0, rank 4)", {**PROJECTION, "alpha": 0.0, "rank": 4}),
        Variant("projection: + contrastive PCA (0.2 default)", PROJECTION),
        Variant("refusal read-out: contrastive PCA direction", CPCA_READOUT),
        Variant(REFUSAL_READOUT, REFUSAL),
        Variant("REINS bias fold only", {"method": "reins"}),
        Variant("refusal read-out + REINS fold", {**REFUSAL, "reins": True}),
        Variant("text read-out (default) + REINS fold", {"reins": True}),
        Variant("SAFREE (text-embedding projection)", {"method": "safree"}),
        Variant(FIXED_TEXT, {}),
        Variant(DEFAULT, {"tune": True}),
    ]


def sweep() -> list[Variant]:
    """One knob at a time around the refusal read-out (the mean difference), then around the text read-out."""
    out = []
    for layers in ("0-1", "2-3", "4-5", "6-7", "0.0-0.5", "0.5-1.0", "2-7"):
        out.append(Variant(f"layers {layers}", {**REFUSAL, "layers": layers}))
    for removal in (0.4, 0.5, 0.7, 0.8, 1.0):
        out.append(Variant(f"removal {removal:g}", {**REFUSAL, "removal": removal}))
    for strength in (0.8, 1.2):
        out.append(Variant(f"lambda {strength:g}", {**REFUSAL, "strength": strength}))
    for rank in (1, 4, 16):
        out.append(Variant(f"cPCA direction, rank {rank}", {**REFUSAL, "rank": rank}))
    out.append(Variant("2 directions", {**REFUSAL, "directions": 2, "rank": 100}))
    for site in ("ffn_in", "self_attn_in", "cross_attn_in", "cross_attn_kv_in"):
        out.append(Variant(f"site {site}", {**REFUSAL, "site": site}))
    for seed in (1, 2):  # the collection's noise: how much of a result is the draw
        out.append(Variant(f"collection seed {seed}", {**REFUSAL, "seed": seed}))
    for steps in (2, 8):
        out.append(Variant(f"collection steps {steps}", {**REFUSAL, "steps": steps}))
    for removal in (0.4, 0.5, 0.8, 0.9, 1.0):
        out.append(Variant(f"text: removal {removal:g}", {"removal": removal}))
    for strength in (0.8, 1.2):
        out.append(Variant(f"text: lambda {strength:g}", {"strength": strength}))
    return out


def multi() -> list[Variant]:
    both = {"pairs": [PAIRS, PAIRS_SECOND]}
    return [
        Variant("original (no edit)", None),
        Variant("red only (refusal read-out)", REFUSAL),
        Variant("blue only (refusal read-out)", {**REFUSAL, "pairs": [PAIRS_SECOND]}),
        Variant("red + blue in one patch (refusal read-out)", {**REFUSAL, **both}),
        Variant("red + blue, refusal read-out along cPCA directions", {**both, **CPCA_READOUT}),
        Variant("red + blue, projection (0.2 default)", {**both, **PROJECTION}),
        Variant("red + blue, SAFREE", {**both, "method": "safree"}),
        Variant("red + blue, text read-out (default)", both),
        Variant("red + blue, text read-out, removal 0.5", {**both, "removal": 0.5}),
        Variant("blue only, text read-out, removal 0.5", {"pairs": [PAIRS_SECOND], "removal": 0.5}),
        Variant("red + blue, site cross_attn_kv_in", {**REFUSAL, **both, "site": "cross_attn_kv_in"}),
        Variant("blue only, text read-out (default)", {"pairs": [PAIRS_SECOND]}),
    ]


def pooled(m: dict, key: str, groups) -> float:
    """`key` (an accuracy) over the prompt sets `groups`, weighted by their sizes."""
    return sum(m[g][key] * m[g]["n"] for g in groups) / sum(m[g]["n"] for g in groups)


def markdown_multi(rows: list[tuple[str, dict]]) -> str:
    head = f"| variant | {TARGET} (plain) | {TARGET} (synonyms) | {SECOND} | colour acc. others | shape acc. | motion acc. | pixel change others |"
    lines = [head, "|" + "---|" * 8]
    for name, m in rows:
        groups = [name for name, g in m.items() if isinstance(g, dict) and "n" in g]  # every set
        shape, motion = pooled(m, "shape_acc", groups), pooled(m, "motion_acc", groups)
        lines.append(
            f"| {name} | {m['target']['red_rate']:.0%} | {m['synonyms']['red_rate']:.0%} | "
            f"{m[f'target {SECOND}']['concept_rate']:.0%} | {m['others']['colour_acc']:.1%} | {shape:.1%} | "
            f"{motion:.1%} | {m['others'].get('pixel_change', 0):.4f} |"
        )
    return "\n".join(lines)


def markdown(rows: list[tuple[str, dict]]) -> str:
    head = (
        "| variant | red (plain) | red (synonyms) | colour acc. others | shape acc. | motion acc. | "
        "pixel change others | patch s |"
    )
    lines = [head, "|" + "---|" * 8]
    for name, m in rows:
        t, s, o = m["target"], m["synonyms"], m["others"]
        shape, motion = pooled(m, "shape_acc", ("target", "others")), pooled(m, "motion_acc", ("target", "others"))
        lines.append(
            f"| {name} | {t['red_rate']:.0%} | {s['red_rate']:.0%} | {o['colour_acc']:.1%} | {shape:.1%} | "
            f"{motion:.1%} | {o.get('pixel_change', 0):.4f} | {m['patch_seconds']:.1f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the small subset run in CI")
    ap.add_argument("--sweep", action="store_true", help="also sweep layers, rank, alpha, lambda, site")
    ap.add_argument("--json", default=None, help="where to save all figures as JSON")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--only", nargs="*", default=None, help="run only the variants with these names")
    ap.add_argument("--multi", action="store_true", help="multi-concept: red and blue erased in one patch")
    ap.add_argument(
        "--fine", action="store_true", help="other colours: every shape x motion and two seeds (4x the videos)"
    )
    ap.add_argument(
        "--matrix",
        nargs="*",
        default=None,
        metavar="PAIRS",
        help="concept matrix: pair files (any shapes concept), or dev / held-out / all (the shipped ones)",
    )
    ap.add_argument(
        "--variants",
        nargs="+",
        default=None,
        metavar="NAME",
        help="--matrix: variants to run (registered names; default: default refusal and any --variant)",
    )
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=OPTIONS",
        help="--matrix: define a variant, NAME=key:value,... or NAME={json} (PatchConfig options)",
    )
    ap.add_argument("--batch", type=int, default=32, help="--matrix: prompts per pipeline call")
    args = ap.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.matrix is not None:
        return run_matrix(args)
    from weditor.io.pairs import load_pairs

    # Held out means held out: no benchmark prompt is a pair member or a neutral prompt of either file.
    exclude = used_prompts(load_pairs(PAIRS))
    if args.multi:
        exclude |= used_prompts(load_pairs(PAIRS_SECOND))
    sets = prompt_sets(args.quick, exclude, second=args.multi, fine=args.fine)
    variants = multi() if args.multi else ablation() + (sweep() if args.sweep else [])
    if args.only is not None:
        variants = [v for v in variants if v.name in args.only]
    rows, base_videos, failed = [], None, []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for v in variants:
            try:
                metrics, videos = run_variant(v, sets, base_videos, Path(tmp))
            except Exception as e:  # one failing variant must not lose the others' figures
                print(f"{v.name}: FAILED {type(e).__name__}: {e}", file=sys.stderr, flush=True)
                failed.append((v.name, f"{type(e).__name__}: {e}"))
                continue
            if v.options is None:
                base_videos = videos
                metrics, _ = metrics, None
            rows.append((v.name, metrics))
            if args.json:  # after every variant: a long sweep that is stopped keeps what it measured
                Path(args.json).write_text(json.dumps({"rows": rows, "failed": failed}, indent=2) + "\n")
            print(
                f"[{time.perf_counter() - started:6.1f}s] {v.name}: red {metrics['target']['red_rate']:.0%}, "
                f"synonyms {metrics['synonyms']['red_rate']:.0%}, others colour {metrics['others']['colour_acc']:.1%} "
                f"(misses: {metrics['others']['colour_misses'] or 'none'})",
                file=sys.stderr,
                flush=True,
            )
    print(markdown_multi(rows) if args.multi else markdown(rows))
    counts = {ps.name: len(ps.prompts) * ps.seeds for ps in sets}
    print(
        f"\nprompts x seeds: {counts}; wall {time.perf_counter() - started:.0f} s; "
        f"torch threads {torch.get_num_threads()}; cpu count {os.cpu_count()}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"counts": counts, "rows": rows, "failed": failed}, indent=2) + "\n")
    for name, error in failed:
        print(f"\nFAILED: {name}: {error}")
    return rows


def run_matrix(args) -> list[dict]:
    """--matrix: every pair file's concept x every variant; one `Error:` line and exit 2 for bad input."""
    import datetime
    import platform

    import torch

    from weditor.errors import WeditorError
    from weditor.io.pairs import load_pairs
    from weditor.shapes import matrix
    from weditor.shapes.concepts import infer_concept
    from weditor.shapes.matrix_report import markdown

    level = "quick" if args.quick else "fine" if args.fine else "plain"
    try:
        clash = [
            flag
            for flag, on in (
                ("--sweep", args.sweep),
                ("--multi", args.multi),
                ("--only", args.only is not None),
                ("--quick and --fine", args.quick and args.fine),
            )
            if on
        ]
        if clash:
            raise WeditorError(f"--matrix: {clash[0]} belongs to the red/blue modes; pick variants with --variants")
        defined = [matrix.parse_variant(spec)[0] for spec in args.variant]
        names = args.variants or [*matrix.DEFAULT_VARIANTS, *defined]
        unknown = [n for n in names if n not in matrix.VARIANTS]
        if unknown:
            raise WeditorError(
                f"--variants: {unknown[0]!r} is not a variant ({', '.join(matrix.VARIANTS)}); define it "
                "with --variant NAME=key:value,..."
            )
        files = matrix.matrix_files(args.matrix)
        for f in files:  # every concept is read before any video is made: a bad file fails now, not in an hour
            if not Path(f).is_file():
                raise WeditorError(f"--matrix: {f} is not a file (nor dev, held-out, all)")
            infer_concept(load_pairs(f))
    except WeditorError as e:
        print(f"Error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    started, results, cache = time.perf_counter(), [], {}
    meta = {
        "command": "python scripts/bench_erasure.py " + " ".join(sys.argv[1:]),
        "level": level,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cpus".replace(" ,", ","),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "batch": args.batch,
        "variants": {n: matrix.VARIANTS[n] for n in names},
    }
    for f in files:
        results.append(matrix.run_concept(f, names, level=level, batch=args.batch, base_cache=cache))
        if args.json:  # after every concept: a long run that is stopped keeps what it measured
            meta["wall_seconds"] = round(time.perf_counter() - started, 1)
            Path(args.json).write_text(json.dumps({**meta, "results": results}, indent=2) + "\n")
    print(markdown(results))
    print(
        f"\nlevel {level}; wall {time.perf_counter() - started:.0f} s; torch threads {torch.get_num_threads()}; "
        f"cpu count {os.cpu_count()}; per concept: "
        + ", ".join(f"{r['label']} {r['wall_seconds']:.0f} s" for r in results)
    )
    return results


if __name__ == "__main__":
    main()
