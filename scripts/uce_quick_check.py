"""Quick check of in-memory `--method uce` edits on the shapes model (a development aid; the benchmark is
`scripts/bench_erasure.py --matrix ... --variants uce`).

Generates the pair file's held-out prompts and synonyms, and every third colour x shape x motion
combination without the concept (one template each, one seed), with the original and the edited
model; prints the share of held-out videos that still show the concept, and the accuracy drop
(points) of colour, shape and motion on the others, with the mean pixel change.

    python scripts/uce_quick_check.py circle --grid '[{"substitute": "common"}, {"lam": 0.01}]'
"""

import argparse
import hashlib
import itertools
import json
import time
from pathlib import Path

import numpy as np
import torch

from weditor.io.pairs import load_pairsets
from weditor.methods import kv_edit
from weditor.models.loading import load_base
from weditor.models.measure import apply_in_memory
from weditor.shapes import generate, load_pipeline, world
from weditor.shapes.classify import classify


def attrs_of(v):
    a = classify(v)
    return (a.color, a.shape, a.motion)


CACHE = Path("/tmp/uce-quick-cache")
CACHE.mkdir(exist_ok=True)  # the original model's videos, reused across runs


def is_concept(concept, a):
    col, shp, mot = a
    return {
        "circle": shp == "circle",
        "left": mot == "left",
        "red-square": col == "red" and shp == "square",
        "red": col == "red",
        "triangle": shp == "triangle",
        "up": mot == "up",
        "blue-circle": col == "blue" and shp == "circle",
        "green": col == "green",
        "blue": col == "blue",
    }[concept]


def keep_prompts(concept, n_skip=3):
    """Every colour x shape x motion without the concept (one template each, cycling), every n_skip-th."""
    out = []
    for i, (c, s, m) in enumerate(itertools.product(list(world.COLORS), world.SHAPES, world.MOTIONS)):
        if is_concept(concept, (c, s, m)) or i % n_skip:
            continue
        out.append((world.caption(None if c == "white" else c, s, m, (i // n_skip) % 4), (c, s, m)))
    return out


def videos(pipe, prompts, tag, seed=0):
    key = CACHE / f"{tag}-{hashlib.sha1(json.dumps(prompts).encode()).hexdigest()[:10]}-{seed}.npy"
    if tag == "base" and key.exists():
        return np.load(key)
    out = np.concatenate([generate(pipe, prompts[i : i + 32], seed=seed + i) for i in range(0, len(prompts), 32)])
    if tag == "base":
        np.save(key, out)
    return out


def score(concept, ps, pipe, tag, base=None):
    ev = videos(pipe, list(ps.eval), tag)
    sy = videos(pipe, list(ps.eval_synonyms), tag) if ps.eval_synonyms else None
    kp = keep_prompts(concept)
    kv = videos(pipe, [p for p, _ in kp], tag)
    r = {
        "erase": np.mean([is_concept(concept, attrs_of(v)) for v in ev]),
        "synonyms": np.mean([is_concept(concept, attrs_of(v)) for v in sy]) if sy is not None else None,
    }
    attrs = [attrs_of(v) for v in kv]
    for k, name in enumerate(("colour", "shape", "motion")):
        r[name] = np.mean([a[k] == t[k] for a, (_, t) in zip(attrs, kp)])
    r["n_keep"] = len(kp)
    return r, kv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("concept")
    ap.add_argument("--pairs")
    ap.add_argument("--grid", default="[{}]")
    a = ap.parse_args()
    ps = load_pairsets([a.pairs or str(Path(__file__).resolve().parents[1] / "pairs" / f"shapes-{a.concept}.toml")])[0]
    base_info, adapter = load_base("weditor:shapes", None)
    pipe = load_pipeline()
    orig = {n: p.detach().clone() for n, p in pipe.transformer.named_parameters()}
    t = time.time()
    b, bkv = score(a.concept, ps, pipe, "base")
    print(
        "base",
        {k: round(v, 3) if isinstance(v, float) else v for k, v in b.items()},
        f"{time.time() - t:.0f}s",
        flush=True,
    )
    stats = {}
    for opts in json.loads(a.grid):
        params = kv_edit.KVParams(**opts)
        key = (params.tokens, params.substitute)
        if key not in stats:
            stats[key] = kv_edit.statistics(
                pipe, adapter, [ps], ps.neutral, params.tokens, substitute=params.substitute
            )
        with torch.no_grad():
            for n, p in pipe.transformer.named_parameters():
                p.copy_(orig[n])
            edited = kv_edit.edit_in_memory(pipe, adapter, [ps], params=params, stats=stats[key])
            apply_in_memory(pipe, edited)
        r, kv = score(a.concept, ps, pipe, "patched")
        r["pixel"] = float(np.abs(kv - bkv).mean())
        for k in ("colour", "shape", "motion"):
            r["d_" + k] = round(100 * (b[k] - r[k]), 1)
        print(
            json.dumps(opts),
            {
                k: (round(v, 3) if isinstance(v, float) else v)
                for k, v in r.items()
                if k not in ("colour", "shape", "motion", "n_keep")
            },
            flush=True,
        )


main()
