"""The concept matrix of the erasure benchmark: patch, generate, read back, judge, for any shapes pair file.

For each pair file (`weditor.shapes.concepts.infer_concept` says what it erases) and each variant
(a set of `PatchConfig` options run through `run_patch`, the library call behind `weditor patch`),
it reloads the written folder with stock `WanPipeline.from_pretrained`, generates the held-out
sets of `weditor.shapes.prompt_sets.matrix_sets` in batches, reads colour, shape and motion back
with the world's classifier and judges the result against issue 19's targets (TARGETS).

Noise: prompt p's s-th video uses the seed `noise_seed(p, s)`, whatever set or batch holds it,
so the original model's videos are made once and shared by every concept and variant.
Driven by `scripts/bench_erasure.py --matrix`; `check_concept` is the one-line CI helper.
"""

from __future__ import annotations

import sys
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

from weditor.errors import WeditorError
from weditor.shapes.concepts import ATTRIBUTES, Concept, infer_concept
from weditor.shapes.prompt_sets import PromptSet, describe, matrix_sets

ACC_KEYS = {"color": "colour_acc", "shape": "shape_acc", "motion": "motion_acc"}
# Issue 19's targets: the original shows the concept, the patch removes it (synonyms too), nothing else moves.
TARGETS = {"original_min": 0.90, "patched_max": 0.10, "synonyms_max": 0.20, "drop_max_points": 3.0}
# name -> PatchConfig options (None: the original model, no patch). Add a variant here, with
# `register_variant`, or on the command line: --variant 'NAME=key:value,...' or --variant 'NAME={"json": 1}'.
VARIANTS: dict[str, dict | None] = {
    "original": None,
    "default": {},  # `weditor patch --pairs FILE --out DIR`, no options
    "refusal": {"method": "refusal"},  # `--method refusal`, the block-by-block edit
    "uce": {"method": "uce"},  # `--method uce`, the closed-form key/value edit (weditor/methods/kv_edit.py)
    "uce-pair": {"method": "uce", "uce_substitute": "pair"},  # ... onto each pair's own twin
    "uce-rece": {"method": "uce", "uce_rounds": 1},  # ... with one RECE round
    "text-fixed": {"method": "text", "tune": False},  # 0.4's default, `--no-tune` (the default now searches)
}
DEFAULT_VARIANTS = ("default", "refusal")
# Development concepts (the methods may be tuned on them) and held-out ones (measured at the end only).
PAIRS_DIR = Path(__file__).resolve().parents[2] / "pairs"
DEV = (
    "shapes-red.toml",
    "shapes-circle.toml",
    "shapes-left.toml",
    "shapes-red-square.toml",
    "shapes-cyan-cross.toml",  # branch conj6: the block fit's second development conjunction
    "shapes-yellow-cross.toml",
    "shapes-purple-circle.toml",  # branch conj7: a shape with synonyms (ball, disc) for the encoder edits
    "shapes-blue-triangle-dev.toml",  # branch conj9: a fifth conjunction for the sharper units
    "shapes-red-triangle.toml",  # branch conj8: a fifth, for the synthesized part prompts
    "shapes-green-cross.toml",  # branch conj10: a seventh, measured after the part move's budget was set
    "shapes-orange-triangle.toml",  # session 12: an eighth, whose colour takes "an" (the article in the changed run)
)
HELD_OUT = (
    "shapes-green.toml",
    "shapes-blue.toml",
    "shapes-triangle.toml",
    "shapes-up.toml",
    "shapes-blue-circle.toml",
    "shapes-green-triangle.toml",
    "shapes-orange-circle.toml",  # written after the units and the block fit were set (colour and shape swapped)
    "shapes-green-square.toml",
    # written from the docs only by helpers that never saw the methods (heldout3, heldout4), 2026-12-07
    "shapes-red-cross.toml",
    "shapes-yellow-circle.toml",
    "shapes-blue-triangle.toml",
    "shapes-purple-square.toml",
    "shapes-yellow.toml",
    "shapes-square.toml",
    "shapes-right.toml",
    "shapes-cross.toml",
)


def split_of(path) -> str:
    name = Path(path).name
    return "dev" if name in DEV else "held-out" if name in HELD_OUT else "-"


def matrix_files(names) -> list[Path]:
    """Pair files from paths, or the groups "dev", "held-out", "all" (the shipped matrix)."""
    groups = {"dev": DEV, "held-out": HELD_OUT, "all": DEV + HELD_OUT}
    out = []
    for name in names or ["all"]:
        out += [PAIRS_DIR / f for f in groups[name]] if name in groups else [Path(name)]
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------- variants


def register_variant(name: str, options: dict | None):
    """Make `name` a variant: PatchConfig field -> value, None for the original model."""
    if not name or "=" in name:
        raise WeditorError(f"variant name {name!r}: must be non-empty, without '='")
    VARIANTS[name] = None if options is None else dict(options)


def _value(text: str):
    low = text.strip().lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def parse_variant(spec: str) -> tuple[str, dict]:
    """'NAME=key:value,key:value' or 'NAME={"key": value}' -> (name, options); registers it."""
    import json

    name, sep, body = spec.partition("=")
    name = name.strip()
    if not sep:
        raise WeditorError(f"--variant {spec!r}: expected NAME=key:value,... or NAME={{json}}")
    body = body.strip()
    if body.startswith("{"):
        try:
            options = json.loads(body)
        except json.JSONDecodeError as e:
            raise WeditorError(f"--variant {name}: not valid JSON ({e})") from None
        if not isinstance(options, dict):
            raise WeditorError(f"--variant {name}: the JSON must be an object")
    else:
        options = {}
        for item in filter(None, (s.strip() for s in body.split(","))):
            key, colon, value = item.partition(":")
            if not colon or not key.strip():
                raise WeditorError(f"--variant {name}: {item!r} is not key:value")
            options[key.strip().replace("-", "_")] = _value(value)
    if "rank" in options:  # as `weditor patch --rank` does: a rank asked for is checked against the layer width
        options.setdefault("rank_explicit", options["rank"] != "auto")
    register_variant(name, check_options(options))
    return name, options


def check_options(options: dict) -> dict:
    """The options, if every key is a PatchConfig field a variant may set (pairs and out are the matrix's)."""
    from dataclasses import fields

    from weditor.pipeline.config import PatchConfig

    known = {f.name for f in fields(PatchConfig)} - {"pairs", "out"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise WeditorError(f"variant option {unknown[0]!r} is not a PatchConfig field ({', '.join(sorted(known))})")
    return options


def patch_config(options: dict, pair_files, out):
    """The PatchConfig a user's `weditor patch --pairs FILE... --out OUT [options]` makes (no summary unless asked)."""
    from weditor.pipeline.config import PatchConfig

    options = dict(check_options(options))
    options.setdefault("summary", False)
    return PatchConfig(pairs=[str(p) for p in pair_files], out=str(out), overwrite=True, **options)


def patch_and_load(options: dict | None, pair_files, workdir: Path, echo=None, record: dict | None = None):
    """(pipeline, patch seconds): the original model for None, else `run_patch` into workdir and a stock reload.
    `record` (a dict) receives the patch's self-check and the search's chosen trial, when there are any."""
    from weditor.pipeline.run import run_patch
    from weditor.shapes import load_pipeline

    if options is None:
        return load_pipeline(), 0.0
    out = Path(workdir) / f"patch-{time.perf_counter_ns()}"
    t0 = time.perf_counter()
    done = run_patch(
        patch_config(options, pair_files, out), echo=echo or (lambda *a, **k: print(*a, file=sys.stderr, **k))
    )
    if record is not None:
        tuning = done.recipe.get("tuning")
        record["self_check"] = done.recipe.get("self_check")
        record["chosen"] = tuning["trials"][tuning["chosen"]] if tuning else None
    return load_pipeline(out), time.perf_counter() - t0


# --------------------------------------------------------------------------- generation


def noise_seed(prompt: str, s: int) -> int:
    """The noise of prompt's s-th video: fixed by the prompt, not by where it sits in a set or a batch."""
    return zlib.crc32(prompt.encode()) % 1_000_000 + 1_000_003 * s


def items(ps: PromptSet) -> list[tuple[str, int]]:
    return [(p, noise_seed(p, s)) for s in range(ps.seeds) for p in ps.prompts]


def generate_items(pipe, todo: list[tuple[str, int]], batch: int = 32) -> dict[tuple[str, int], np.ndarray]:
    """Videos for (prompt, seed) items, `batch` prompts per pipeline call (one call costs about as much as a few videos)."""
    import torch

    from weditor.shapes import generate

    out = {}
    for k in range(0, len(todo), batch):
        chunk = todo[k : k + batch]
        gens = [torch.Generator("cpu").manual_seed(seed) for _, seed in chunk]
        for key, video in zip(chunk, generate(pipe, [p for p, _ in chunk], generator=gens)):
            out[key] = video
    return out


def set_videos(pipe, sets: list[PromptSet], batch: int = 32, cache: dict | None = None) -> dict[str, np.ndarray]:
    """Every set's videos (prompts x seeds, seed-major); `cache` keeps (prompt, seed) -> video across calls."""
    cache = {} if cache is None else cache
    wanted = list(dict.fromkeys(it for ps in sets for it in items(ps)))
    cache.update(generate_items(pipe, [it for it in wanted if it not in cache], batch))
    return {ps.name: np.stack([cache[it] for it in items(ps)]) for ps in sets}


# --------------------------------------------------------------------------- scoring


def score_set(concept: Concept, ps: PromptSet, videos: np.ndarray, base: np.ndarray | None = None) -> dict:
    """Accuracy per attribute against what was asked, how often the concept is shown, and what was drawn instead."""
    from weditor.shapes.classify import classify

    truth = ps.truth * ps.seeds
    preds = [classify(v) for v in videos]
    row = {"n": len(truth), "role": ps.role}
    for i, attr in enumerate(ATTRIBUTES):
        row[ACC_KEYS[attr]] = float(np.mean([getattr(p, attr) == t[i] for p, t in zip(preds, truth)]))
        missed = Counter(f"{t[i]}->{getattr(p, attr)}" for p, t in zip(preds, truth) if getattr(p, attr) != t[i])
        row[f"{attr}_misses"] = dict(missed.most_common())
    row["concept_rate"] = float(np.mean([concept.shown(p) for p in preds]))
    if ps.role in ("target", "synonyms"):
        row["drawn_instead"] = dict(Counter(concept.drawn(p) for p in preds).most_common())
    if base is not None:
        row["pixel_change"] = float(np.abs(videos - base).mean())
    return row


def verdict(concept: Concept, original: dict, patched: dict) -> dict:
    """Issue 19's targets for one patched variant, from its scores and the original's on the same sets."""
    t = TARGETS
    drops = {}
    for name, row in patched["sets"].items():
        if row["role"] in ("others", "parts"):
            drops[name] = {a: round(100 * (original["sets"][name][k] - row[k]), 2) for a, k in ACC_KEYS.items()}
    worst = lambda role: max(
        (d for n, ds in drops.items() if patched["sets"][n]["role"] == role for d in ds.values()),  # noqa: E731
        default=None,
    )
    syn = patched["sets"].get("synonyms")
    checks = {
        "original_shows": original["sets"]["target"]["concept_rate"] >= t["original_min"],
        "erased": patched["sets"]["target"]["concept_rate"] <= t["patched_max"],
        "synonyms_erased": None if syn is None else syn["concept_rate"] <= t["synonyms_max"],
        "others_kept": worst("others") <= t["drop_max_points"],
        "parts_kept": None if worst("parts") is None else worst("parts") <= t["drop_max_points"],
    }
    return {
        "drops_points": drops,
        "worst_drop_others": worst("others"),
        "worst_drop_parts": worst("parts"),
        "checks": checks,
        "pass": all(v for v in checks.values() if v is not None),
    }


# --------------------------------------------------------------------------- running


def run_concept(
    pair_file,
    variants=DEFAULT_VARIANTS,
    level: str = "fine",
    batch: int = 32,
    workdir=None,
    base_cache: dict | None = None,
    progress=None,
) -> dict:
    """One row group of the matrix: the original and every variant on one pair file's concept."""
    from weditor.io.pairs import load_pairs
    from weditor.shapes import load_pipeline

    progress = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise WeditorError(f"variant {unknown[0]!r} is not registered ({', '.join(VARIANTS)}); add it with --variant")
    t0 = time.perf_counter()
    pairset = load_pairs(pair_file)
    concept = infer_concept(pairset)
    sets = matrix_sets(concept, pairset, level)
    base_cache = {} if base_cache is None else base_cache
    base_videos = set_videos(load_pipeline(), sets, batch, base_cache)
    original = {
        "sets": {ps.name: score_set(concept, ps, base_videos[ps.name]) for ps in sets},
        "seconds": round(time.perf_counter() - t0, 2),
    }
    result = {
        "pairs": str(pair_file),
        "concept": concept.name,
        "label": concept.label,
        "kind": concept.kind,
        "parts": dict(concept.parts),
        "split": split_of(pair_file),
        "level": level,
        "counts": describe(sets),
        "prompts": {ps.name: ps.prompts for ps in sets},
        "sources": {ps.name: ps.sources for ps in sets},
        "original": original,
        "variants": {},
        "failed": {},
    }
    progress(
        f"{concept.label} ({concept.kind}): original shows it on {original['sets']['target']['concept_rate']:.0%} "
        f"({sum(describe(sets).values())} videos, {original['seconds']:.0f} s)"
    )
    with tempfile.TemporaryDirectory(prefix="weditor-matrix-") if workdir is None else _keep(workdir) as tmp:
        for name in variants:
            if VARIANTS[name] is None:
                continue
            t1 = time.perf_counter()
            try:
                patched = {}
                pipe, patch_s = patch_and_load(VARIANTS[name], [pair_file], Path(tmp), record=patched)
            except Exception as e:  # one failing variant must not lose the others' figures
                result["failed"][name] = f"{type(e).__name__}: {e}"
                progress(f"  {name}: FAILED {result['failed'][name]}")
                continue
            videos = set_videos(pipe, sets, batch)
            row = {
                "sets": {ps.name: score_set(concept, ps, videos[ps.name], base_videos[ps.name]) for ps in sets},
                "options": VARIANTS[name],
                "patch_seconds": round(patch_s, 2),
                **patched,  # the self-check and the search's choice, as the patch recorded them
            }
            row["pixel_change"] = row["sets"]["others"]["pixel_change"]
            row["verdict"] = verdict(concept, original, row)
            row["seconds"] = round(time.perf_counter() - t1, 2)
            result["variants"][name] = row
            s = row["sets"]
            progress(
                f"  {name}: shown {s['target']['concept_rate']:.0%}"
                + (f", synonyms {s['synonyms']['concept_rate']:.0%}" if "synonyms" in s else "")
                + f", worst drop {row['verdict']['worst_drop_others']:.1f} pts, "
                f"{'PASS' if row['verdict']['pass'] else 'fail'} ({row['seconds']:.0f} s)"
            )
    result["wall_seconds"] = round(time.perf_counter() - t0, 2)
    return result


class _keep:
    """A caller's work folder, used as it is (TemporaryDirectory's interface)."""

    def __init__(self, path):
        self.path = Path(path)

    def __enter__(self):
        self.path.mkdir(parents=True, exist_ok=True)
        return str(self.path)

    def __exit__(self, *exc):
        return False


def check_concept(pair_file, variant: str = "default", level: str = "quick") -> dict:
    """One line for a CI test: patch `pair_file` with `variant`, judge on the quick set, return the verdict.

        assert check_concept("pairs/shapes-circle.toml")["pass"]

    The quick set (8 target, 8 synonym, 16 other videos, one seed; a conjunction's parts 8 each) is
    coarse: one video is 12.5 points of the target, 6 of the others, so it catches a method that
    stops erasing, not a drop of 3 points; the benchmark's --fine set judges that."""
    result = run_concept(pair_file, [variant], level=level, progress=lambda msg: None)
    if variant in result["failed"]:
        raise WeditorError(f"{pair_file}: variant {variant!r} failed: {result['failed'][variant]}")
    row = result["variants"][variant]
    return {
        **row["verdict"],
        "concept": result["label"],
        "kind": result["kind"],
        "sets": row["sets"],
        "original": result["original"]["sets"],
        "self_check": row.get("self_check"),
    }


__all__ = [
    "DEFAULT_VARIANTS",
    "DEV",
    "HELD_OUT",
    "TARGETS",
    "VARIANTS",
    "check_concept",
    "matrix_files",
    "parse_variant",
    "patch_and_load",
    "register_variant",
    "run_concept",
    "score_set",
    "set_videos",
    "verdict",
]
