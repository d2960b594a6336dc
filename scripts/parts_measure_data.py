"""Per-setting data for the parts measure (issue 19, conjunctions): candidate measures against the videos.

For each development conjunction file and each forced setting (the search's methods for files with parts: the
repurposed units, the encoder's wo edit, the block fit), two things are recorded:

1. what the objective sees: the setting fitted on the training split as a search trial is
   (`weditor.pipeline.tuning.Tuner._trial`), and per part prompt of the part move (`Split.held_moves`) the raw
   distances over the objective's steps: its move |p' - p|, its part twin's gap |p - t| and |p' - t| (a prompt that
   holds the removed words), and its distance to its nearest *neighbour* prompt (one slot refilled: a prompt of the
   file's own word pool, `parts.synthesized` of every template, that differs from it in one run of at most two words),
   the concept's own variant apart;
2. what the videos say: the setting as a fixed patch (`--no-tune`, written and reloaded stock), the fine set's target
   and parts sets only (the "others" set is skipped to save time): concept shown, each part's drop in points.

    OMP_NUM_THREADS=1 python scripts/parts_measure_data.py --out /tmp/parts-data.json pairs/shapes-red-square.toml ...

The measures are computed from the JSON afterwards (scripts/parts_measure_table.py).
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import torch

SETTINGS = {
    "units4/100": {"method": "units", "units": 4, "units_preserve": 100.0},
    "units4/30": {"method": "units", "units": 4, "units_preserve": 30.0},
    "units4/10": {"method": "units", "units": 4, "units_preserve": 10.0},
    "units16/s10/100": {"method": "units", "units": 16, "units_silence": 10.0, "units_preserve": 100.0},
    "wo1/100": {"method": "encoder", "encoder_weights": "wo", "encoder_layers": 1, "encoder_preserve": 100.0},
    "wo1/25": {"method": "encoder", "encoder_weights": "wo", "encoder_layers": 1, "encoder_preserve": 25.0},
    "wo1/10": {"method": "encoder", "encoder_weights": "wo", "encoder_layers": 1, "encoder_preserve": 10.0},
    "wo2/100": {"method": "encoder", "encoder_weights": "wo", "encoder_layers": 2, "encoder_preserve": 100.0},
    "block10": {
        "method": "encoder",
        "encoder_weights": "block",
        "encoder_layers": 1,
        "encoder_preserve": 10.0,
        "encoder_lambda": 0.1,
    },
    "block3": {
        "method": "encoder",
        "encoder_weights": "block",
        "encoder_layers": 1,
        "encoder_preserve": 3.0,
        "encoder_lambda": 0.1,
    },
}

_words = None


def neighbours(prompt: str, pool: list[str], vocab: set) -> list[str]:
    """Prompts of `pool` that differ from `prompt` in one slot: one run of at most two words whose last word on
    each side is a slot word (`vocab`: the siblings, the context, the removed words; the other an article)."""
    a = _words(prompt)
    out = []
    for q in pool:
        b = _words(q)
        ops = [o for o in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes() if o[0] != "equal"]
        if len(ops) != 1 or ops[0][0] != "replace":
            continue
        _, i1, i2, j1, j2 = ops[0]
        if i2 - i1 <= 2 and j2 - j1 <= 2 and a[i2 - 1] in vocab and b[j2 - 1] in vocab:
            if not set(a[i1 : i2 - 1] + b[j1 : j2 - 1]) & vocab:
                out.append(q)
    return out


def measure_trials(pair_file: Path, names: list[str], seed: int = 0) -> dict:
    """{setting: {erasure, per-prompt rows}} for the settings fitted as search trials on `pair_file`."""
    from weditor.io import parts as P
    from weditor.io.pairs import load_pairsets
    from weditor.models.loading import load_base
    from weditor.models.runtime import encode
    from weditor.pipeline.candidates import SPACES, Context
    from weditor.pipeline.load import open_pipeline
    from weditor.pipeline.objective import OBJECTIVE_STEPS, Objective, split_pairsets, with_common_targets
    from weditor.pipeline.tuning import Tuner
    from weditor.shapes.matrix import patch_config

    cfg = patch_config({"seed": seed}, [pair_file], Path(tempfile.mkdtemp()) / "x")
    pairsets = load_pairsets(cfg.pairs)
    probe = __import__("dataclasses").replace(cfg)
    probe.resolve_method(pairsets)
    base, adapter = load_base(cfg.model, cfg.revision, cfg.allow_pickle)
    base, _, pipe, settings = open_pipeline(cfg, pairsets, base, adapter, offload=False)
    tuner = Tuner(seed=cfg.seed)
    split = with_common_targets(split_pairsets(pairsets, cfg.seed), pipe, adapter, pairsets, cfg.device)
    obj = Objective(OBJECTIVE_STEPS, cfg.seed).fit(pipe, adapter, split, settings)
    ps = pairsets[0]
    concept = ps.concept
    run, repl = P.changed_run(ps)
    context = P.context_words(ps)
    others = obj.prompts_[obj.n_unsafe_ :]
    rows = obj.move_rows_[concept]
    move_prompts = [others[r] for r in rows]
    synth = set(split.held_synth.get(concept, ()))
    tpl = P.templates(ps)
    pool = list(
        dict.fromkeys(
            P.synthesized(ps, tpl)
            + P.synthesized(ps, tpl, others=True)
            + tpl
            + list(ps.neutral)
            + [p.unsafe for p in ps.pairs]
            + list(ps.eval)
        )
    )

    vocab = set(run) | context | {w for g in P.siblings(ps).values() for s in g for w in s}

    def holds_concept(text):
        w = P._words(text)
        return P._at(w, run) is not None and context <= set(w)

    # the original predictions of each move prompt's twin and neighbours, on that prompt's latents
    tr = split.train[0]
    train_vocab = {w for t in [*tr.neutral, *(x for q in tr.pairs for x in (q.unsafe, q.safe))] for w in P._words(t)}
    info, twin_preds, offsets, labels = [], {}, {}, {}
    for r, p in zip(rows, move_prompts):
        lat = obj.n_unsafe_ + r
        twin = P.part_twin(p, run, repl)
        nb = [q for q in neighbours(p, pool, vocab) if q != p]
        texts = ([twin] if twin else []) + nb
        preds = []
        if texts:
            cond = encode(pipe, adapter, texts, settings.device)
            for k in range(len(obj.timesteps_)):
                t = obj.timesteps_[k]
                model = getattr(pipe, adapter.denoiser_for(pipe, t))
                x = obj.latents_[k][lat : lat + 1].expand(len(texts), *obj.latents_[k].shape[1:])
                preds.append(adapter.forward(model, x, t, cond).double())
        orig = [o[r] for o in obj.others_]

        def dist(i):
            return math.sqrt(sum(float((o - pr[i]).norm() ** 2) for o, pr in zip(orig, preds)))

        off = 1 if twin else 0
        twin_preds[p] = [pr[0] for pr in preds] if twin else None
        # every neighbour's (and the twin's) offset from the prompt, all steps as one vector, for the projections
        base_vec = torch.cat([o.flatten() for o in orig])
        offsets[p] = [torch.cat([pr[i].flatten() for pr in preds]) - base_vec for i in range(len(texts))]
        labels[p] = (["twin"] if twin else []) + [("concept" if holds_concept(q) else "neighbour") for q in nb]
        nbd = [(q, dist(off + j)) for j, q in enumerate(nb)]
        info.append(
            {
                "prompt": p,
                "kind": "removed" if twin else "context",
                "synth": p in synth,
                # every word of it is in the training split (the trial's fit saw each word; the patch sees the file's)
                "seen": set(P._words(p)) <= train_vocab,
                "twin": twin,
                "twin_gap": dist(0) if twin else None,
                "neighbours": [(q, round(d, 6), holds_concept(q)) for q, d in sorted(nbd, key=lambda x: x[1])],
            }
        )

    captured = {}
    orig_score = obj.score_predictions

    def hook(after):
        o2 = [p[obj.n_unsafe_ :] for p in after]
        per = []
        for r in rows:
            move = math.sqrt(sum(float((a[r] - b[r]).norm() ** 2) for a, b in zip(o2, obj.others_)))
            per.append({"move": move})
        captured["per"] = per
        captured["after_rows"] = [[a[r].clone() for a in o2] for r in rows]
        return orig_score(after)

    obj.score_predictions = hook
    ctx = Context(pipe, adapter, base, list(split.train), settings, cfg, split.train_synth or {})
    states = {}
    out = {
        "file": str(pair_file),
        "concept": concept,
        "scale": obj.gap_[concept] / math.sqrt(sum(1 for x in obj.concepts_ if x == concept)),
        "prompts": info,
        "trials": {},
    }
    for name in names:
        params = dict(SETTINGS[name])
        method = params.pop("method")
        space = SPACES[method]
        if method not in states:
            states[method] = space.prepare(ctx)
        trial = tuner._trial(space, states[method], ctx, params, obj, pipe)
        if trial.score is None:
            out["trials"][name] = {"error": trial.error}
            continue
        per = captured["per"]
        for row, pi, after in zip(per, info, captured["after_rows"]):
            if pi["twin"]:
                tw = twin_preds[pi["prompt"]]
                row["after_twin"] = math.sqrt(sum(float((a - t).norm() ** 2) for a, t in zip(after, tw)))
        for row, pi, after in zip(per, info, captured["after_rows"]):
            # how far the prompt went towards each neighbour (and its twin): the projection of its move on the
            # offset to that prompt, as a fraction of the offset (1: it predicts what the neighbour does)
            r = rows[info.index(pi)]
            delta = torch.cat([(a - o[r]).flatten() for a, o in zip(after, obj.others_)])
            row["towards"] = [
                (lab, round(float(delta @ v / (v @ v)), 5), round(float(v.norm()), 4))
                for lab, v in zip(labels[pi["prompt"]], offsets[pi["prompt"]])
            ]
        out["trials"][name] = {
            "params": trial.params,
            "score": trial.score.as_dict(),
            "per": per,
            "seconds": round(trial.seconds, 2),
        }
        print(f"  {pair_file.name} {name}: {trial.score.as_dict()}", file=sys.stderr, flush=True)
    return out


def videos(pair_file: Path, names: list[str], base_cache: dict) -> dict:
    """{setting: {shown, parts drops}} from the fixed patch's fine target and parts videos (others skipped)."""
    from weditor.io.pairs import load_pairs
    from weditor.shapes import load_pipeline
    from weditor.shapes.concepts import infer_concept
    from weditor.shapes.matrix import ACC_KEYS, patch_and_load, score_set, set_videos
    from weditor.shapes.prompt_sets import matrix_sets

    pairset = load_pairs(pair_file)
    concept = infer_concept(pairset)
    sets = [s for s in matrix_sets(concept, pairset, "fine") if s.role in ("target", "parts")]
    base = set_videos(load_pipeline(), sets, 32, base_cache)
    orig = {s.name: score_set(concept, s, base[s.name]) for s in sets}
    out = {}
    with tempfile.TemporaryDirectory(prefix="conj10-") as tmp:
        for name in names:
            t0 = time.perf_counter()
            pipe, _ = patch_and_load({**SETTINGS[name], "tune": False}, [pair_file], Path(tmp))
            vids = set_videos(pipe, sets, 32)
            rows = {s.name: score_set(concept, s, vids[s.name]) for s in sets}
            drops = {
                s.name: {a: round(100 * (orig[s.name][k] - rows[s.name][k]), 2) for a, k in ACC_KEYS.items()}
                for s in sets
                if s.role == "parts"
            }
            out[name] = {
                "shown": rows["target"]["concept_rate"],
                "drops": drops,
                "misses": {s.name: rows[s.name]["color_misses"] for s in sets if s.role == "parts"},
                "worst_part_drop": max(d for ds in drops.values() for d in ds.values()),
                "seconds": round(time.perf_counter() - t0, 1),
            }
            print(f"  {pair_file.name} {name}: videos {out[name]}", file=sys.stderr, flush=True)
    return out


def main():
    global _words
    from weditor.io.parts import _words as w

    _words = w
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS))
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-videos", action="store_true")
    ap.add_argument("--seed", type=int, default=0, help="the search's seed (its split and noise); the videos use 0")
    args = ap.parse_args()
    torch.set_num_threads(1)
    data = json.loads(Path(args.out).read_text()) if Path(args.out).exists() else {}
    base_cache = {}
    for f in args.files:
        entry = data.setdefault(f.name, {})
        t0 = time.perf_counter()
        m = measure_trials(f, args.settings, args.seed)
        entry.setdefault("trials", {}).update(m.pop("trials"))
        entry.update(m)
        if not args.no_videos:
            entry.setdefault("videos", {}).update(videos(f, args.settings, base_cache))
        entry["seconds"] = round(time.perf_counter() - t0, 1)
        Path(args.out).write_text(json.dumps(data, indent=1))
        print(f"{f.name}: {entry['seconds']} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
