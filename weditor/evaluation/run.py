"""`weditor eval`, as a library call: before/after evidence for a patch, on any model.

    base phase     generate the videos (stock pipeline, cached), the audit probe's training
                   and eval features, the representation measurements
    swap           the patched denoiser(s) replace the base ones; modules whose files are
                   identical (text encoder, VAE) are reused, not loaded twice
    patched phase  the same videos, features and measurements on identical inputs
    judge          scorers on every video pair, pixel change, probe estimates, frame grids,
                   report.json and report.html

Kept free of click, like `weditor.pipeline.run`, so that scripts run what the command runs.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from weditor import __version__
from weditor.errors import WeditorError
from weditor.evaluation import bound
from weditor.evaluation import generate as gen
from weditor.evaluation import latent_audit as audit_mod
from weditor.evaluation import representation as rep
from weditor.evaluation import scorers as scorers_mod
from weditor.evaluation.findings import audit_report, find_probe_plot, representation_report, write_grids
from weditor.evaluation.inputs import (
    EXPECTED,
    _load_recipe,
    adapter_size,
    find_pairs,
    gen_settings,
    is_builtin,
    prompt_groups,
    read_prompt_file,
    reusable_modules,
)

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"


@dataclass
class EvalConfig:
    base: str
    patched: str
    pairs: list[str] = field(default_factory=list)  # empty: the pair files recorded in PATCHED
    prompts: str | None = None  # a text file, one prompt per line
    out: str | None = None  # None: ./eval-<PATCHED folder name>
    revision: str | None = None
    size: tuple[int, int, int] | None = None  # height, width, frames
    steps: int | None = None
    guidance: float | None = None
    seed: int = 0
    seeds: int = 1
    limit: int | None = None  # prompts per group
    scorers: list[str] | None = None  # None: "shapes" on the embedded model, none otherwise
    threshold: float = scorers_mod.DEFAULT_THRESHOLD
    videos: bool = True
    video_format: str = "auto"
    audit: bool = True
    probe_layer: str = audit_mod.DEFAULT_PROBE_LAYER
    probe_steps: int = audit_mod.DEFAULT_PROBE_STEPS
    probe_seeds: int = audit_mod.DEFAULT_PROBE_SEEDS
    folds: int = audit_mod.DEFAULT_FOLDS
    representation: bool = True
    device: str = "cpu"
    dtype: str | None = None
    frames_per_side: int = 4
    attack: bool = False  # also run `weditor attack` (into OUT/attack) and report its ASR
    attack_budget: int = 40

    def check(self):
        if self.seeds < 1 or self.seeds > 100:
            raise WeditorError(f"--seeds {self.seeds}: must be in 1..100")
        if self.steps is not None and not 1 <= self.steps <= 1000:
            raise WeditorError(f"--steps {self.steps}: must be in 1..1000")
        if self.guidance is not None and not 0.0 <= self.guidance <= 50.0:
            raise WeditorError(f"--guidance {self.guidance}: must be in [0, 50]")
        if self.limit is not None and self.limit < 1:
            raise WeditorError(f"--limit {self.limit}: must be >= 1")
        if not 1 <= self.probe_seeds <= 20:
            raise WeditorError(f"--probe-seeds {self.probe_seeds}: must be in 1..20")
        if not 1 <= self.probe_steps <= 100:
            raise WeditorError(f"--probe-steps {self.probe_steps}: must be in 1..100")
        if not 2 <= self.folds <= 50:
            raise WeditorError(f"--folds {self.folds}: must be in 2..50")
        if not 0.0 < self.threshold < 1.0:
            raise WeditorError(f"--threshold {self.threshold}: must be in (0, 1)")
        if not 1 <= self.frames_per_side <= 16:
            raise WeditorError(f"--grid-frames {self.frames_per_side}: must be in 1..16")
        gen.resolve_format(self.video_format)
        if self.attack and not self.videos:
            raise WeditorError("--attack judges generated videos; drop --no-videos")
        if self.attack and self.attack_budget < 1:
            raise WeditorError(f"--attack-budget {self.attack_budget}: must be >= 1")


# --------------------------------------------------------------------------- the run


@dataclass
class Phase:
    videos: list = field(default_factory=list)
    train: object = None  # audit Features (base only)
    evalf: object = None  # audit Features on the jobs
    proj: dict = field(default_factory=dict)  # prompt set -> {SiteKey: mean projection the linear uses}
    arriving: dict = field(default_factory=dict)  # prompt set -> {SiteKey: mean projection arriving at the site}
    records: dict = field(default_factory=dict)  # prompt set -> trajectories


def _jobs(groups, seeds: list[int]) -> list[gen.Job]:
    return [gen.Job(g, p, s) for g, items in groups.items() for p, _ in items for s in seeds]


def run_eval(cfg: EvalConfig, echo=print) -> dict:
    import torch

    from weditor.defaults import STEPS as DEFAULT_STEPS
    from weditor.io.checkpoint import BaseModel, resolve_model
    from weditor.models.loading import BUILTIN_MODEL, default_size, load_base, load_pipeline
    from weditor.models.runtime import Settings, progress

    cfg.check()
    from weditor.io.hub_access import check_hub_model

    for model in (cfg.base, cfg.patched):  # an unreachable Hub: one plain line now, not after the retries
        check_hub_model(model, cfg.revision if model == cfg.base else None)
    fmt = gen.resolve_format(cfg.video_format)
    base, adapter = load_base(cfg.base, cfg.revision)
    patched = resolve_model(cfg.patched)
    if patched.pipeline_class != base.pipeline_class:
        raise WeditorError(
            f"{cfg.patched}: pipeline class {patched.pipeline_class} differs from the base's {base.pipeline_class}"
        )
    if patched.folder.resolve() == base.folder.resolve():
        raise WeditorError(f"{cfg.patched}: is the base model itself; give the patched folder")
    recipe = _load_recipe(patched.folder)
    pairsets = find_pairs(cfg, patched.folder)
    custom = read_prompt_file(cfg.prompts) if cfg.prompts else []
    if not pairsets and not custom:
        raise WeditorError(f"no prompts: {cfg.patched} records no pair files; give --pairs FILE or --prompts FILE")
    if getattr(adapter, "image_to_video", False):
        raise WeditorError(
            f"{base.pipeline_class}: `weditor eval` supports text-to-video pipelines only for now "
            "(generation would need an input image per prompt)"
        )
    if any(ps.has_images for ps in pairsets):
        raise WeditorError(f"{pairsets[0].path}: pairs carry images, but {base.pipeline_class} is text-to-video only")
    if any(ps.has_videos for ps in pairsets):
        raise WeditorError(
            f"{pairsets[0].path}: pairs carry videos; `weditor eval` generates from prompts only for now "
            "(give --prompts FILE, or pair files without videos)"
        )
    groups = prompt_groups(pairsets, custom, cfg.limit)
    concept_of = {(g, p): c for g, items in groups.items() for p, c in items}
    builtin = is_builtin(cfg, base.folder)
    out_dir = Path(cfg.out) if cfg.out else Path(f"eval-{patched.folder.name}")
    if out_dir.exists() and not out_dir.is_dir():
        raise WeditorError(f"--out {out_dir}: exists and is not a folder")

    scorer_specs = list(cfg.scorers) if cfg.scorers is not None else (["shapes"] if builtin else [])
    if not cfg.videos and scorer_specs and cfg.scorers:
        raise WeditorError("--scorer needs videos; drop --no-videos")
    if not cfg.videos:
        scorer_specs = []
    context = {
        "concept": pairsets[0].concept if pairsets else None,
        "keywords": tuple(k for ps in pairsets for k in ps.keywords),
    }
    scorers = [scorers_mod.load_scorer(s, context, cfg.threshold) for s in scorer_specs]
    directions = rep.load_directions(patched.folder, adapter) if cfg.representation else None

    torch.manual_seed(cfg.seed)
    t_start = time.perf_counter()
    pipe = load_pipeline(base, cfg.dtype, cfg.device)
    settings = gen_settings(cfg, adapter, builtin, pipe)
    if cfg.size:  # a size no test ran: one line now, not a traceback after the first video
        from weditor.evaluation.inputs import default_gen_size
        from weditor.models.size_probe import probe_call

        probe_call(pipe, gen.call_kwargs(pipe, adapter, settings), cfg.size, default_gen_size(adapter, builtin, pipe))
    seeds = [cfg.seed + j for j in range(cfg.seeds)]
    jobs = _jobs(groups, seeds)
    params = recipe.get("params") or {}
    strength = float(params.get("strength", 1.0))
    rep_size = params.get("size") or (default_size(BUILTIN_MODEL, adapter) if builtin else adapter_size(adapter, pipe))
    rep_settings = Settings(
        size=tuple(rep_size), steps=int(params.get("steps") or DEFAULT_STEPS), seed=cfg.seed, device=cfg.device
    )
    rep_sets = {"eval": [p for p, _ in groups.get("eval", [])], "neutral": [p for p, _ in groups.get("neutral", [])]}
    rep_sets = {k: v for k, v in rep_sets.items() if v}

    train_points = (
        audit_mod.training_points(pairsets, [cfg.seed + j for j in range(cfg.probe_seeds)]) if pairsets else []
    )
    do_audit = cfg.audit and bool(train_points)
    if do_audit:
        audit_mod.probe_blocks(pipe, adapter, cfg.probe_layer)  # a bad --probe-layer fails before any generation
    eval_points = [audit_mod.Point(j.prompt, j.seed, None, 0) for j in jobs]
    size = (settings.height, settings.width, settings.frames)
    fps = {"base": gen.fingerprint(base.folder), "patched": gen.fingerprint(patched.folder)}
    out_dir.mkdir(parents=True, exist_ok=True)
    todo = (
        {
            role: sum(
                not (out_dir / "videos" / role / gen.stem(j, gen.video_key(fps[role], j, settings)))
                .with_suffix(".npy")
                .is_file()
                for j in jobs
            )
            for role in fps
        }
        if cfg.videos
        else {"base": 0, "patched": 0}
    )
    audit_runs = (len(train_points) + 2 * len(eval_points)) if do_audit else 0
    audit_share = min(cfg.probe_steps, settings.steps) / settings.steps
    echo(bound.announce(len(jobs), todo, audit_runs, out_dir))
    progress = bound.estimating(progress, sum(todo.values()), audit_runs * audit_share)
    phases = {"base": Phase(), "patched": Phase()}
    for role in ("base", "patched"):
        ph = phases[role]
        if role == "patched":
            reuse = reusable_modules(pipe, adapter, base.folder, patched.folder)
            del pipe
            pipe = load_pipeline(
                BaseModel(patched.folder, cfg.patched, None, patched.pipeline_class), cfg.dtype, cfg.device, **reuse
            )
        if cfg.videos:
            ph.videos = gen.ensure_videos(
                pipe, adapter, role, fps[role], jobs, settings, out_dir, fmt, cfg.device, progress=progress
            )
        if do_audit:
            common = dict(
                size=size,
                steps=settings.steps,
                k=min(cfg.probe_steps, settings.steps),
                guidance=settings.guidance,
                negative=settings.negative_prompt,
                layer=cfg.probe_layer,
                device=cfg.device,
                progress=progress,
            )
            if role == "base":
                ph.train = audit_mod.early_features(pipe, adapter, train_points, desc="audit train", **common)
            ph.evalf = audit_mod.early_features(pipe, adapter, eval_points, desc=f"audit {role}", **common)
        if cfg.representation:
            for name, prompts in rep_sets.items():
                if role == "base":
                    ph.proj[name], ph.arriving[name], ph.records[name] = rep.measure(
                        pipe, adapter, directions or {}, prompts, rep_settings
                    )
                else:
                    forced = rep.forced_records(phases["base"].records[name], cfg.device)
                    ph.proj[name], ph.arriving[name], ph.records[name] = rep.measure(
                        pipe, adapter, directions or {}, prompts, rep_settings, strength, forced=forced, effective=True
                    )
    del pipe
    elapsed = time.perf_counter() - t_start

    report = {
        "weditor_version": __version__,
        "base": {
            "id": base.id,
            "folder": str(base.folder),
            "revision": base.revision,
            "pipeline_class": base.pipeline_class,
        },
        "patched": {
            "folder": str(patched.folder),
            "method": recipe.get("method"),
            "base_in_recipe": (recipe.get("base_model") or {}).get("id"),
            "concepts": [ps.concept for ps in pairsets],
        },
        "pairs": [{"path": str(ps.path), "concept": ps.concept, "sha256": ps.sha256} for ps in pairsets],
        "settings": {
            **asdict(settings),
            "seeds": seeds,
            "video_format": fmt if cfg.videos else None,
            "device": cfg.device,
            "builtin_shapes_model": builtin,
        },
        "groups": {g: {"prompts": [p for p, _ in items], "expected": EXPECTED[g]} for g, items in groups.items()},
        "seconds_total": round(elapsed, 3),
    }
    if recipe.get("base_model", {}).get("id") not in (None, base.id, str(base.folder)):
        report["warnings"] = [f"PATCHED records base {recipe['base_model']['id']!r}, evaluated against {base.id!r}"]

    # ------------------------------------------------------------------ per video
    rows = []
    if cfg.videos:
        vb, vp = phases["base"].videos, phases["patched"].videos
        report["videos_generated"] = {"base": sum(v.generated for v in vb), "patched": sum(v.generated for v in vp)}
        report["videos_reused"] = {
            "base": sum(not v.generated for v in vb),
            "patched": sum(not v.generated for v in vp),
        }
        for i, (job, a, b) in enumerate(zip(jobs, vb, vp)):
            fa, fb = a.as_float(), b.as_float()
            row = {
                "group": job.group,
                "prompt": job.prompt,
                "seed": job.seed,
                "base": {
                    "video": a.view.relative_to(out_dir).as_posix(),
                    "frames": a.npy.relative_to(out_dir).as_posix(),
                    "seconds": a.seconds,
                },
                "patched": {
                    "video": b.view.relative_to(out_dir).as_posix(),
                    "frames": b.npy.relative_to(out_dir).as_posix(),
                    "seconds": b.seconds,
                },
                "pixel_change": round(float(np.linalg.norm(fb - fa) / max(np.linalg.norm(fa), 1e-12)), 4),
                "scores": {},
            }
            concept = concept_of[(job.group, job.prompt)]
            ctx = {"concept": concept, "keywords": context["keywords"], "group": job.group}
            for s in scorers:
                row["scores"][s.name] = {
                    "base": s(fa, job.prompt, model="base", **ctx),
                    "patched": s(fb, job.prompt, model="patched", **ctx),
                }
            rows.append(row)
        report["pixel_change"] = {
            g: round(float(np.mean([r["pixel_change"] for r in rows if r["group"] == g])), 4) for g in groups
        }
        report["scorers"] = {}
        for s in scorers:
            per = [{"group": r["group"], **r["scores"][s.name]} for r in rows]
            summary = scorers_mod.summarise(per)
            report["scorers"][s.name] = {
                "summary": summary,
                "headline": scorers_mod.headline(summary),
                "calls": s.calls,
            }
        report["grids"] = write_grids(rows, phases, groups, seeds[0], out_dir, cfg.frames_per_side)

    # ------------------------------------------------------------------ audit
    if do_audit:
        report["audit"] = audit_report(cfg, adapter, settings, train_points, phases, jobs, rows, scorers)
    elif cfg.audit:
        report["audit"] = {"skipped": "no pair files: the probe needs labelled pairs"}

    # ------------------------------------------------------------------ representation
    if cfg.representation:
        report["representation"] = representation_report(directions, phases, rep_sets, strength, rep_settings)

    if cfg.attack:
        from weditor.attack.run import attack_for_eval

        report["attack"] = attack_for_eval(cfg, out_dir)
    report["probe_plot"] = find_probe_plot(out_dir, patched.folder, pairsets)
    report["videos"] = rows
    (out_dir / REPORT_JSON).write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    from weditor.evaluation.report import write_html

    write_html(report, out_dir)
    report["out_dir"] = str(out_dir)
    return report
