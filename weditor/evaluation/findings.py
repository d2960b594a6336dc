"""`weditor eval`'s findings, each a piece of the report: frame grids, the latent audit's and the
representation's figures, the probe plot a patch carries (weditor/evaluation/run.py assembles them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from weditor.evaluation import generate as gen
from weditor.evaluation import latent_audit as audit_mod
from weditor.evaluation import representation as rep

MAX_GRID_ROWS = 24
PROBE_PLOTS = ("probe.png", "weditor/probe.png", "reins.png", "weditor/reins.png", "probe.svg", "weditor/probe.svg")


# --------------------------------------------------------------------------- pieces of the report


def write_grids(rows, phases, groups, seed, out_dir: Path, frames_per_side: int) -> dict:
    by_job = {
        (v.job.group, v.job.prompt, v.job.seed): (v, w) for v, w in zip(phases["base"].videos, phases["patched"].videos)
    }
    out = {}
    for g, items in groups.items():
        grid_rows = []
        for p, _ in items[:MAX_GRID_ROWS]:
            v, w = by_job[(g, p, seed)]
            grid_rows.append((p, v.frames(), w.frames()))
        title = (
            f"{g}: {len(items)} prompt{'s' if len(items) != 1 else ''}"
            + (f" (first {MAX_GRID_ROWS} shown)" if len(items) > MAX_GRID_ROWS else "")
            + f", seed {seed}"
        )
        path = gen.grid(grid_rows, out_dir / "grids" / f"{g}.png", frames_per_side=frames_per_side, title=title)
        out[g] = path.relative_to(out_dir).as_posix()
    return out


def audit_report(cfg, adapter, settings, train_points, phases, jobs, rows, scorers) -> dict:
    probe = audit_mod.train(phases["base"].train.X, train_points, cfg.folds, cfg.seed)
    p_base = probe.predict(phases["base"].evalf.X)
    p_patched = probe.predict(phases["patched"].evalf.X)
    k = min(cfg.probe_steps, settings.steps)
    per_call = 2 if gen.uses_cfg(adapter, settings.guidance) else 1
    estimates = {}
    for g in dict.fromkeys(j.group for j in jobs):
        idx = [i for i, j in enumerate(jobs) if j.group == g]
        estimates[g] = {
            "n": len(idx),
            "unsafe_rate_before": round(float(np.mean(p_base[idx] >= 0.5)), 4),
            "unsafe_rate_after": round(float(np.mean(p_patched[idx] >= 0.5)), 4),
            "mean_p_before": round(float(np.mean(p_base[idx])), 4),
            "mean_p_after": round(float(np.mean(p_patched[idx])), 4),
        }
    probe_seconds = float(np.mean(phases["base"].evalf.seconds + phases["patched"].evalf.seconds))
    gen_seconds = [v.seconds for ph in phases.values() for v in ph.videos if v.seconds is not None]
    full_seconds = float(np.mean(gen_seconds)) if gen_seconds else None
    out = {
        "layer": cfg.probe_layer,
        "blocks": phases["base"].train.block,
        "features": int(phases["base"].train.X.shape[1]),
        "train": {
            "points": probe.n_points,
            "groups": probe.n_groups,
            "unsafe": sum(p.label == 1 for p in train_points),
            "safe": sum(p.label == 0 for p in train_points),
            "seeds": cfg.probe_seeds,
        },
        "cv_accuracy": None if probe.cv_accuracy is None else round(probe.cv_accuracy, 4),
        "cv_std": None if probe.cv_std is None else round(probe.cv_std, 4),
        "folds": probe.folds,
        "train_accuracy": round(probe.train_accuracy, 4),
        "note": probe.note
        or "neutral prompts are also training points (other seeds can differ); eval prompts are held out",
        "steps_used": k,
        "steps_full": settings.steps,
        "denoiser_calls_probe": k * per_call,
        "denoiser_calls_full": settings.steps * per_call,
        "decodes": {"probe": 0, "full": 1},
        "seconds_per_video_probe": round(probe_seconds, 4),
        "seconds_per_video_full": None if full_seconds is None else round(full_seconds, 4),
        "speedup": None if not full_seconds else round(full_seconds / max(probe_seconds, 1e-9), 2),
        "estimates": estimates,
        "predictions": [
            {
                "group": j.group,
                "prompt": j.prompt,
                "seed": j.seed,
                "p_before": round(float(a), 4),
                "p_after": round(float(b), 4),
            }
            for j, a, b in zip(jobs, p_base, p_patched)
        ],
    }
    if rows and scorers:
        out["agreement"] = {}
        for s in scorers:
            truth = [r["scores"][s.name][m]["unsafe"] for m in ("base", "patched") for r in rows]
            pred = [bool(x >= 0.5) for x in list(p_base) + list(p_patched)]
            out["agreement"][s.name] = round(float(np.mean([a == b for a, b in zip(truth, pred)])), 4)
    return out


def representation_report(directions, phases, rep_sets, strength, rep_settings) -> dict:
    out = {
        "strength": strength,
        "size": list(rep_settings.size),
        "steps": rep_settings.steps,
        "prompts": {k: len(v) for k, v in rep_sets.items()},
    }
    if directions is None:
        out["sites"] = []
        out["note"] = f"PATCHED has no {rep.DIRECTIONS_FILE}: projections skipped"
    else:
        sites = []
        for key in directions:
            row = {"site": str(key)}
            for name in rep_sets:
                b = phases["base"].proj[name].get(key)
                a = phases["patched"].proj[name].get(key)
                arr = phases["patched"].arriving[name].get(key)
                row[f"proj_{name}_before"] = None if b is None else round(b, 6)
                row[f"proj_{name}_after"] = None if a is None else round(a, 6)
                row[f"proj_{name}_arriving_after"] = None if arr is None else round(arr, 6)
            sites.append(row)
        out["sites"] = sites
    for name in rep_sets:
        change = rep.relative_change(phases["base"].records[name], phases["patched"].records[name])
        out[f"output_change_{name}"] = None if change is None else round(change, 6)
    return out


def find_probe_plot(out_dir: Path, patched_folder: Path, pairsets) -> str | None:
    candidates = [out_dir / n for n in PROBE_PLOTS] + [patched_folder / n for n in PROBE_PLOTS]
    candidates += [Path(f"probe-{ps.concept}") / "probe.png" for ps in pairsets]
    for c in candidates:
        if c.is_file():
            return str(c.resolve())
    return None
