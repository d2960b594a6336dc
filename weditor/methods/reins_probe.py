"""`weditor probe`, as a library call: how linearly separable is the concept at every block?

For every block of every denoiser, the pooled block outputs (one point per prompt and
timestep, `weditor.methods.reins.collect_pooled`) are classified unsafe/safe by a logistic-regression
probe with stratified, grouped cross-validation: the two members of a pair, and all timesteps
of one prompt, are always on the same side of a split, so the probe cannot score by
recognising the pair's noise. Points: both members of every pair, plus the pair file's eval
prompts (unsafe) and neutral prompts (safe). Along the REINS direction fitted on the pairs
alone -- exactly the one `weditor patch --reins` would fold at that block -- the table also
gives the projection gap in units of the mean token norm (the `--reins-strength` that moves
the mean unsafe state onto the mean safe state) and the gap over the within-class spread.

Accuracy vs depth is the REINS curve: separability rises with depth, steering works best
near mid-depth (the default `--reins-layer`).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from weditor import __version__
from weditor.defaults import STEPS as DEFAULT_STEPS
from weditor.errors import WeditorError
from weditor.io.pairs import load_pairs
from weditor.maths.layers import parse_layers
from weditor.methods.reins import (
    DEFAULT_REINS_LAYER,
    SAFE,
    UNSAFE,
    BlockKey,
    collect_pooled,
    fit_direction,
    pair_runs,
    single_runs,
)
from weditor.models.loading import BUILTIN_MODEL, default_size, load_base, load_pipeline
from weditor.models.runtime import Settings, num_blocks, present_denoisers
from weditor.models.size_probe import probe_size

JSON_NAME = "probe.json"
PNG_NAME = "probe.png"
SVG_NAME = "probe.svg"  # always written (weditor/methods/reins_probe_svg.py); the PNG needs matplotlib


@dataclass
class ProbeConfig:
    pairs: str
    out: str | None = None  # None: probe-<concept> in the current directory
    model: str = BUILTIN_MODEL
    revision: str | None = None
    layers: str = "0.0-1.0"  # every block
    folds: int = 5
    steps: int = DEFAULT_STEPS
    size: tuple[int, int, int] | None = None
    seed: int = 0
    device: str = "cpu"
    dtype: str | None = None
    extra: bool = True  # add eval (unsafe) and neutral (safe) prompts to the probe's points

    def check(self):
        if not 2 <= self.folds <= 50:
            raise WeditorError(f"--folds {self.folds}: must be in 2..50")
        if not 1 <= self.steps <= 100:
            raise WeditorError(f"--steps {self.steps}: must be in 1..100")


def grouped_splits(y: np.ndarray, groups: np.ndarray, folds: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds in which no group (a pair, or one prompt's timesteps) straddles train and test."""
    from sklearn.model_selection import StratifiedGroupKFold

    per_class = min(len(set(groups[y == c].tolist())) for c in (SAFE, UNSAFE))
    k = min(folds, per_class)
    if k < 2:
        raise WeditorError(f"cross-validation needs >= 2 groups of each class, have {per_class}")
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(cv.split(np.zeros((len(y), 1)), y, groups))


def cv_accuracy(
    X: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int, seed: int = 0
) -> tuple[float, float, int]:
    """Mean and std of the held-out balanced accuracy of a standardised logistic probe, grouped CV."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    splits = grouped_splits(y, groups, folds, seed)
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny folds: convergence / constant-feature chatter
        scores = cross_val_score(probe, X, y, cv=splits, scoring="balanced_accuracy")
    return float(scores.mean()), float(scores.std()), len(splits)


def run_probe(cfg: ProbeConfig, echo=print) -> dict:
    cfg.check()
    ps = load_pairs(cfg.pairs)
    base, adapter = load_base(cfg.model, cfg.revision)
    if ps.has_images and not getattr(adapter, "image_to_video", False):
        raise WeditorError(f"{ps.path}: pairs carry images, but {base.pipeline_class} is text-to-video only")
    torch.manual_seed(cfg.seed)
    pipe = load_pipeline(base, cfg.dtype, cfg.device)
    default = default_size(cfg.model, adapter)
    settings = Settings(size=cfg.size or default, steps=cfg.steps, seed=cfg.seed, device=cfg.device)
    if cfg.size:  # a size no test ran: one line now, not a traceback mid-collection
        probe_size(pipe, adapter, settings, base.pipeline_class, default)

    keys, depth, default_block = [], {}, {}
    for component in present_denoisers(pipe, adapter):
        n = num_blocks(pipe, adapter, component)
        for b in parse_layers(cfg.layers, n):
            keys.append(BlockKey(component, b))
            depth[BlockKey(component, b)] = b / max(n - 1, 1)
        default_block[component] = parse_layers(DEFAULT_REINS_LAYER, n)[0]

    pairs = pair_runs([ps])
    runs = list(pairs)
    if cfg.extra and not ps.has_images:  # eval and neutral prompts carry no images
        runs += single_runs(ps.eval, UNSAFE, len(runs))
        runs += single_runs(ps.neutral, SAFE, len(runs))
    data = collect_pooled(pipe, adapter, keys, runs, settings, desc="probe")
    n_pair_groups = len(pairs)

    rows = []
    for key in keys:
        d = data[key]
        X, y, groups = d.X, d.y, np.asarray(d.groups)
        acc, acc_std, k = cv_accuracy(X, y, groups, cfg.folds, cfg.seed)
        on_pairs = groups < n_pair_groups
        direction = fit_direction(X[on_pairs], y[on_pairs], d.mean_norm)
        rows.append(
            {
                "component": key.component,
                "block": key.block,
                "depth": round(depth[key], 4),
                "accuracy": round(acc, 4),
                "accuracy_std": round(acc_std, 4),
                "folds": k,
                "gap": direction.gap,
                "mean_norm": direction.mean_norm,
                "gap_rel": direction.rel_gap,
                "separation": direction.separation,
                "points": int(len(y)),
            }
        )

    report = {
        "weditor_version": __version__,
        "base_model": {"id": base.id, "revision": base.revision, "pipeline_class": base.pipeline_class},
        "pairs": {"path": str(ps.path), "concept": ps.concept, "sha256": ps.sha256},
        "params": {
            **{k: v for k, v in asdict(cfg).items() if k not in ("pairs", "out", "model", "revision", "device")},
            "size": list(settings.size),
        },
        "points": {
            "pairs": len(ps.pairs),
            "eval": len(runs) - len(pairs) and len(ps.eval),
            "neutral": len(runs) - len(pairs) and len(ps.neutral),
        },
        "default_reins_layer": default_block,
        "blocks": rows,
    }
    out = Path(cfg.out) if cfg.out else Path(f"probe-{ps.concept}")
    if out.exists() and not out.is_dir():
        raise WeditorError(f"--out {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    (out / JSON_NAME).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    report["json"] = str(out / JSON_NAME)
    from weditor.methods.reins_probe_svg import write_svg

    report["svg"] = write_svg(report, out / SVG_NAME)
    report["png"] = plot(report, out / PNG_NAME)
    return report


def plot(report: dict, path: Path) -> str | None:
    """Accuracy and relative gap vs depth, one line per denoiser; None if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(6.4, 6.0), sharex=True)
    components = list(dict.fromkeys(r["component"] for r in report["blocks"]))
    for comp in components:
        rows = [r for r in report["blocks"] if r["component"] == comp]
        x = [r["depth"] for r in rows]
        ax1.errorbar(
            x, [r["accuracy"] for r in rows], yerr=[r["accuracy_std"] for r in rows], marker="o", capsize=2, label=comp
        )
        ax2.plot(x, [r["gap_rel"] for r in rows], marker="o", label=comp)
        default = report["default_reins_layer"].get(comp)
        hit = [r["depth"] for r in rows if r["block"] == default]
        for ax in (ax1, ax2):
            for h in hit:
                ax.axvline(h, color="grey", linestyle=":", linewidth=1)
    ax1.axhline(0.5, color="grey", linewidth=0.8)
    ax1.set_ylim(0.0, 1.05)
    ax1.set_ylabel("probe accuracy (grouped CV)")
    ax1.set_title(f"REINS curve: {report['pairs']['concept']} on {report['base_model']['id']}")
    ax2.set_ylabel("gap along d / mean token norm")
    ax2.set_xlabel("depth (block / (blocks - 1)); dotted: default --reins-layer")
    if len(components) > 1:
        ax1.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def format_table(report: dict) -> list[str]:
    lines = [f"  {'block':<22}{'depth':>6}{'acc':>7}{'+-':>6}{'gap/norm':>10}{'gap/sd':>8}{'points':>8}"]
    for r in report["blocks"]:
        mark = " *" if report["default_reins_layer"].get(r["component"]) == r["block"] else ""
        lines.append(
            f"  {r['component'] + '.blocks.' + str(r['block']):<22}{r['depth']:>6.2f}{r['accuracy']:>7.3f}"
            f"{r['accuracy_std']:>6.3f}{r['gap_rel']:>10.4f}{r['separation']:>8.2f}{r['points']:>8}{mark}"
        )
    return lines
