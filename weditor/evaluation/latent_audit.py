"""The latent audit (LVD, Pang et al. 2024): will this video show the concept? Ask early.

A logistic probe reads the denoiser's hidden states during the first few sampling steps
(the mean over video tokens of one mid/late block's output, the conditional branch, one vector
per step, concatenated) and predicts whether the finished video will show the concept. It is
trained on the base model with labelled prompts -- the unsafe member of every pair = 1, the
safe member and the neutral prompts = 0 -- and then applied to the held-out prompts of both
models, so the unsafe rate before and after the patch is estimated from `k` of the `n` steps,
without finishing the trajectory or decoding.

The early steps are run the way the stock pipeline runs them (same initial noise from the
same seed, same scheduler, classifier-free guidance when the guidance scale is above 1), so a
probe prediction refers to the very video that `weditor eval` generates for that seed and can
be checked against a scorer's verdict on it.

The probe is trained on the base model's states. Applied to the patched model it asks "does
the patched model's state still look like the base model's state before a video with the
concept?", which is the audit question; its agreement with a scorer (when one is given) says
how far to trust it on a model without one.
"""

from __future__ import annotations

import copy
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from weditor.errors import WeditorError
from weditor.io.pairs import neutral_prompts as pairs_neutral_prompts
from weditor.maths.layers import parse_layers

UNSAFE, SAFE = 1, 0
DEFAULT_PROBE_LAYER = "0.75"  # mid/late: separability rises with depth (REINS curve)
DEFAULT_PROBE_STEPS = 2
DEFAULT_FOLDS = 5
DEFAULT_PROBE_SEEDS = 2


@dataclass(frozen=True)
class Point:
    prompt: str
    seed: int
    label: int | None  # None: to be estimated
    group: int  # cross-validation group: both members of a pair, and all seeds of a prompt, together


@dataclass
class Features:
    X: np.ndarray
    seconds: list[float]  # per point: encoding + k steps
    block: dict[str, int]  # component -> probed block


def _block_path(pipe, adapter, component: str, block: int) -> str:
    """Path of a block inside a denoiser (adapters may list blocks by pattern, see collect.block_path)."""
    try:
        from weditor.models.runtime import block_path
    except ImportError:  # adapters with one plain block list
        return f"{adapter.blocks}.{block}"
    return block_path(pipe, adapter, component, block)


def probe_blocks(pipe, adapter, spec: str) -> dict[str, int]:
    from weditor.models.runtime import num_blocks, present_denoisers

    out = {}
    for comp in present_denoisers(pipe, adapter):
        blocks = parse_layers(spec, num_blocks(pipe, adapter, comp))
        if len(blocks) != 1:
            raise WeditorError(
                f"--probe-layer {spec!r}: names {len(blocks)} blocks; the probe reads one (e.g. 0.75 or -2)"
            )
        out[comp] = blocks[0]
    return out


def early_features(
    pipe,
    adapter,
    points: list[Point],
    size: tuple[int, int, int],
    steps: int,
    k: int,
    guidance: float,
    negative: str,
    layer: str,
    device: str,
    progress=None,
    desc: str = "audit",
) -> Features:
    """Pooled hidden states of the first `k` of `steps` sampling steps, one row per point."""
    import torch

    from weditor.models.hooks import RowGather, TapRegistry
    from weditor.models.runtime import get_module

    if not 1 <= k <= steps:
        raise WeditorError(f"--probe-steps {k}: must be in 1..{steps} (the number of sampling steps)")
    blocks = probe_blocks(pipe, adapter, layer)
    captured: list[torch.Tensor] = []

    state = {"batch": 1}
    gather = RowGather() if adapter.one_row_per_call else None  # SkyReels DF: one call per batch row

    def seen(h):
        if gather is not None:
            h = gather.add("probe", h, state["batch"])
            if h is None:
                return
        # The conditional branch is batch element 0. Blocks that fold frames into the batch
        # (UNet3D: (batch * frames, tokens, dim), batch-major) hold it in the first rows.
        rows = h.shape[0] // state["batch"] if h.shape[0] % state["batch"] == 0 else 1
        captured.append(h[:rows].reshape(1, -1, h.shape[-1]).double().mean(1)[0].cpu())

    taps = TapRegistry()
    for c, b in blocks.items():
        taps.tap(get_module(getattr(pipe, c), _block_path(pipe, adapter, c, b)), "output", seen)
    from weditor.evaluation.generate import uses_cfg

    cfg = uses_cfg(adapter, guidance)
    state["batch"] = 2 if cfg else 1
    rows, seconds = [], []
    try:
        it = progress(points, len(points), desc) if progress else points
        for p in it:
            t0 = time.perf_counter()
            cond = adapter.encode(pipe, [p.prompt, negative] if cfg else [p.prompt], device)
            generator = torch.Generator("cpu").manual_seed(p.seed)
            x = adapter.latents(pipe, size, generator, device).float()
            scheduler = copy.deepcopy(pipe.scheduler)
            if getattr(adapter, "set_timesteps", None) is not None:  # e.g. a size-dependent shift
                adapter.set_timesteps(pipe, scheduler, steps, size, device)
            else:
                scheduler.set_timesteps(steps, device=device)
            step = getattr(adapter, "step", None)
            captured.clear()
            for t in scheduler.timesteps[:k]:
                comp = adapter.denoiser_for(pipe, t)
                xb = x.expand(2 if cfg else 1, *x.shape[1:])
                pred = adapter.forward(getattr(pipe, comp), xb, t, cond).float()
                if cfg:
                    pred = pred[1:2] + guidance * (pred[0:1] - pred[1:2])
                x = (
                    step(scheduler, pred, t, x)
                    if step is not None
                    else scheduler.step(pred, t, x, return_dict=False)[0]
                )
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            seconds.append(time.perf_counter() - t0)
            if len(captured) != k:
                raise WeditorError(f"probe layer hooks fired {len(captured)} times in {k} steps")
            feat = torch.cat(captured).numpy()
            if not np.isfinite(feat).all():
                raise WeditorError(f"hidden states are NaN/Inf for prompt {p.prompt!r}; try --dtype float32")
            rows.append(feat)
    finally:
        taps.remove()
    return Features(np.stack(rows), seconds, blocks)


def training_points(pairsets, seeds: list[int]) -> list[Point]:
    points, g = [], 0
    for ps in pairsets:
        for pair in ps.pairs:
            for s in seeds:  # same noise for both members, as in collection
                points.append(Point(pair.unsafe, s, UNSAFE, g))
                points.append(Point(pair.safe, s, SAFE, g))
            g += 1
    for prompt in pairs_neutral_prompts(pairsets):
        points += [Point(prompt, s, SAFE, g) for s in seeds]
        g += 1
    return points


def _probe():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))


@dataclass
class Probe:
    model: object
    cv_accuracy: float | None
    cv_std: float | None
    folds: int
    n_points: int
    n_groups: int
    note: str = ""
    train_accuracy: float = 0.0
    extra: dict = field(default_factory=dict)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(X)[:, list(self.model.classes_).index(UNSAFE)]


def train(X: np.ndarray, points: list[Point], folds: int = DEFAULT_FOLDS, seed: int = 0) -> Probe:
    """Fit on all points; the accuracy is from grouped, stratified cross-validation."""
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_score

    y = np.asarray([p.label for p in points])
    groups = np.asarray([p.group for p in points])
    if len(set(y.tolist())) < 2:
        raise WeditorError("the audit probe needs unsafe and safe prompts (pairs and neutral prompts)")
    per_class = min(len(set(groups[y == c].tolist())) for c in (SAFE, UNSAFE))
    k = min(folds, per_class)
    acc = std = None
    note = ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny folds: convergence / constant-feature chatter
        if k >= 2:
            cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
            scores = cross_val_score(_probe(), X, y, groups=groups, cv=cv, scoring="accuracy")
            acc, std = float(scores.mean()), float(scores.std())
        else:
            note = f"too few groups per class ({per_class}) for cross-validation"
        model = _probe().fit(X, y)
    train_acc = float((model.predict(X) == y).mean())
    return Probe(model, acc, std, k, len(points), len(set(groups.tolist())), note, train_acc)
