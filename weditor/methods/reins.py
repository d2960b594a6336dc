"""REINS (Kundu et al. 2026) baked into the weights: a steering vector folded into a bias.

REINS finds one safety direction `d` in the hidden states of a video diffusion transformer
(supervised PCA on safe/unsafe labels, `weditor.maths.supervised_pca`) and adds `alpha * d` to the
hidden states at one block near mid-depth, which turns harmful generations into related safe
ones. That is a runtime hook. In Wan blocks the cross-attention update is added to the
residual stream without a timestep gate,

    h = h + attn2(norm2(h), text)          # attn2 ends in the linear to_out.0 (weight, bias)

so adding `v` to `blocks[L].attn2.to_out.0.bias` adds `v` to the stream after block L's
cross-attention, for every token, at every step, in both classifier-free-guidance passes: a
hook that adds `v` to attn2's output and the folded checkpoint compute the same function.
Families whose every residual add is gated (`adapter.ungated_write is None`) are refused.

Data points are block-output hidden states of the video tokens, mean-pooled per prompt and
timestep (few: prompts x steps, so they are kept). The direction of block L is fitted on the
output of block L and injected right after block L's cross-attention: the same residual
space, half a block earlier (see docs/reins.md). `d` points from unsafe to safe, and the
strength is given relative to the mean per-token norm of the hidden states at that block, so
one value means the same on every model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from weditor import defaults
from weditor.adapters import Adapter
from weditor.errors import WeditorError
from weditor.io.checkpoint import read_tensors, tensor_locations
from weditor.io.recipe import REINS_FILE  # noqa: F401 - where `save_fold` is written
from weditor.io.tensors import tensor_sha256
from weditor.maths.edits import add_to_bias
from weditor.maths.layers import parse_layers
from weditor.maths.supervised_pca import SupervisedPCA
from weditor.models.hooks import RowGather, TapRegistry
from weditor.models.runtime import (
    Settings,
    block_path,
    check_finite,
    encode,
    get_module,
    num_blocks,
    present_denoisers,
    progress,
    trajectory,
)

DEFAULT_REINS_LAYER = defaults.REINS_LAYER  # REINS: steering works best near mid-depth
UNSAFE, SAFE = 1, 0
CARD_NOTE = (
    " A REINS steering vector (the supervised-PCA direction separating unsafe from safe prompts in one block's "
    "pooled hidden states, scaled by `alpha`) is added to the bias of that block's ungated write, `b <- b + alpha d` "
    "(`weditor/reins.safetensors`)."
)


@dataclass(frozen=True)
class BlockKey:
    """The output of one block of one denoiser."""

    component: str
    block: int

    def __str__(self):
        return f"{self.component}.blocks.{self.block}"


def refuse_unless_foldable(adapter: Adapter, option: str = "--reins"):
    if adapter.ungated_write is None:
        raise WeditorError(
            f"{option}: the {adapter.family} family has no ungated residual write (every residual add is scaled "
            "by a timestep-dependent gate), so a bias cannot reproduce a constant steering vector; REINS is not available for it"
        )


# --------------------------------------------------------------------------- collection


class BlockTaps:
    """Forward hooks on whole blocks: per call, the token-mean of the output and the token norms.

    `self.fn(key, pooled (B, D) float64, norm_sum (B,) float64, tokens)` receives every call;
    None mutes. `self.batch` is the number of prompts in the batch: a block whose output folds
    frames into the batch dimension (B * F, tokens, D) is pooled per prompt all the same.
    """

    def __init__(self, pipe, adapter: Adapter, keys: list[BlockKey]):
        self.fn = None
        self.batch = 1
        self.gather = RowGather() if adapter.one_row_per_call else None  # one call per row: join them first
        self.registry = TapRegistry()
        for key in keys:
            block = get_module(getattr(pipe, key.component), block_path(pipe, adapter, key.component, key.block))
            self.registry.tap(block, "output", self._pooled(key))

    def _pooled(self, key):
        def seen(h):
            if self.fn is None:
                return
            if self.gather is not None:
                h = self.gather.add(key, h, self.batch)
                if h is None:
                    return
            h = h.reshape(self.batch, -1, h.shape[-1]).double()
            self.fn(key, h.mean(1), h.norm(dim=-1).sum(1), h.shape[1])

        return seen

    def remove(self):
        self.registry.remove()


@dataclass
class Pooled:
    """Mean-pooled block outputs of one block: rows, labels, groups (and running norm sums)."""

    rows: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    groups: list = field(default_factory=list)
    norm_sum: float = 0.0
    tokens: int = 0

    @property
    def X(self) -> np.ndarray:
        return np.stack(self.rows) if self.rows else np.zeros((0, 0))

    @property
    def y(self) -> np.ndarray:
        return np.asarray(self.labels, dtype=np.int64)

    @property
    def mean_norm(self) -> float:
        """Mean L2 norm of one token's hidden state at this block."""
        return self.norm_sum / max(self.tokens, 1)


@dataclass(frozen=True)
class Run:
    prompts: tuple[str, ...]  # one batch sharing one noise
    labels: tuple[int, ...]
    group: int  # runs of one group never straddle a cross-validation split
    images: tuple | None = None  # image-to-video: one image per prompt


def pair_runs(pairsets) -> list[Run]:
    """Both members of every pair in one batch (unsafe first, as the refusal collection does)."""
    runs, g = [], 0
    for ps in pairsets:
        for p in ps.pairs:
            images = None if p.conditioning[0] is None else p.conditioning
            runs.append(Run((p.unsafe, p.safe), (UNSAFE, SAFE), g, images))
            g += 1
    return runs


def single_runs(prompts, label: int, first_group: int) -> list[Run]:
    return [Run((p,), (label,), first_group + i) for i, p in enumerate(prompts)]


def collect_pooled(
    pipe, adapter: Adapter, keys: list[BlockKey], runs: list[Run], settings: Settings, desc: str = "reins"
) -> dict[BlockKey, Pooled]:
    """Pooled block outputs of every run at every step; run i uses the noise of seed + i."""
    data = {k: Pooled() for k in keys}
    state = {}

    def on_block(key, pooled, norm_sum, tokens):
        check_finite(key, pooled, state["run"].prompts[0])
        d = data[key]
        for b, label in enumerate(state["run"].labels):
            d.rows.append(pooled[b].cpu().numpy())
            d.labels.append(label)
            d.groups.append(state["run"].group)
        d.norm_sum += float(norm_sum.sum())
        d.tokens += tokens * pooled.shape[0]

    taps = BlockTaps(pipe, adapter, keys)
    try:
        taps.fn = on_block
        for i, run in enumerate(progress(runs, len(runs), desc)):
            state["run"] = run
            taps.batch = len(run.prompts)
            # weditor.models.runtime.encode: images to an image-to-video adapter, a pair's video to a video-input one
            cond = encode(
                pipe, adapter, list(run.prompts), settings.device, None if run.images is None else list(run.images)
            )
            trajectory(pipe, adapter, cond, settings, seed=settings.seed + i)
    finally:
        taps.remove()
    for key, d in data.items():
        if not d.rows:
            raise WeditorError(
                f"{key}: this denoiser never ran during collection (too few --steps for its share of the schedule?)"
            )
    return data


# --------------------------------------------------------------------------- direction


@dataclass
class Direction:
    """REINS direction at one block, unit length, from unsafe to safe."""

    d: np.ndarray
    mean_norm: float  # mean token norm at the block
    proj_unsafe: float  # mean projection of the unsafe / safe pooled states on d
    proj_safe: float
    spread: float  # pooled within-class std of the projections

    @property
    def gap(self) -> float:
        return self.proj_safe - self.proj_unsafe

    @property
    def rel_gap(self) -> float:
        """The strength that moves the mean unsafe state onto the mean safe state along d."""
        return self.gap / max(self.mean_norm, 1e-30)

    @property
    def separation(self) -> float:
        return self.gap / max(self.spread, 1e-30)


def fit_direction(X: np.ndarray, y: np.ndarray, mean_norm: float) -> Direction:
    """Supervised PCA with the delta kernel on safe (0) / unsafe (1) labels; d = unsafe -> safe."""
    if len(set(y.tolist())) < 2:
        raise WeditorError("REINS needs both safe and unsafe points")
    spca = SupervisedPCA(n_components=1, kernel="delta").fit(X, y)
    d = -spca.components_[0]  # the estimator points from label 0 (safe) to label 1 (unsafe)
    p = X @ d
    pu, ps = p[y == UNSAFE], p[y == SAFE]
    within = np.concatenate([pu - pu.mean(), ps - ps.mean()])
    spread = float(np.sqrt((within**2).sum() / max(len(within) - 2, 1)))
    return Direction(d=d, mean_norm=mean_norm, proj_unsafe=float(pu.mean()), proj_safe=float(ps.mean()), spread=spread)


def reins_blocks(pipe, adapter: Adapter, spec: str) -> list[BlockKey]:
    """The one steering block of every denoiser that `--reins-layer` names."""
    keys = []
    for component in present_denoisers(pipe, adapter):
        n = num_blocks(pipe, adapter, component)
        blocks = parse_layers(spec, n)
        if len(blocks) != 1:
            raise WeditorError(
                f"--reins-layer {spec!r}: names {len(blocks)} blocks; REINS steers at one block (e.g. 0.5 or 15)"
            )
        keys.append(BlockKey(component, blocks[0]))
    return keys


# --------------------------------------------------------------------------- the fold


@dataclass
class Fold:
    keys: list[BlockKey]
    directions: dict[BlockKey, Direction]
    strength: float
    vectors: dict[BlockKey, np.ndarray]  # alpha * d, float64, as folded
    alphas: dict[BlockKey, float]

    @property
    def layer_resolved(self) -> dict[str, int]:
        """{denoiser: steered block}, as every recipe records it (`reins_layer_resolved`)."""
        return {k.component: k.block for k in self.keys}


def bias_name(pipe, adapter: Adapter, key: BlockKey) -> str:
    return f"{block_path(pipe, adapter, key.component, key.block)}.{adapter.ungated_write}.bias"


def fold(
    pipe, adapter: Adapter, base, pairsets, settings: Settings, keys: list[BlockKey], strength: float, edits
) -> Fold:
    """Fit the REINS direction at each steering block (`reins_blocks`) and add `alpha * d` to the bias
    of that block's ungated write.

    `edits` (the `EditSet` of the method below, weditor/methods/base.py) is extended in place: a bias
    that edit already changed is folded on top of it.
    """
    edited, locations, entries = edits.edited, edits.locations, edits.entries
    refuse_unless_foldable(adapter)
    data = collect_pooled(pipe, adapter, keys, pair_runs(pairsets), settings)
    result = Fold(keys=keys, directions={}, strength=strength, vectors={}, alphas={})
    for key in keys:
        direction = fit_direction(data[key].X, data[key].y, data[key].mean_norm)
        alpha = strength * direction.mean_norm
        vector = alpha * direction.d
        comp, name = key.component, bias_name(pipe, adapter, key)
        if comp not in locations:
            locations[comp] = tensor_locations(base.folder, comp)
        if name not in locations[comp]:
            raise WeditorError(
                f"{base.folder}/{comp}: tensor {name} not found (the ungated write has no bias to fold into)"
            )
        before = edited.get(comp, {}).get(name)
        if before is None:
            before = read_tensors(base.folder, {name: locations[comp][name]})[name]
        after = add_to_bias(before, torch.from_numpy(vector))
        edited.setdefault(comp, {})[name] = after
        entries.append(
            {
                "component": comp,
                "tensor": name,
                "file": locations[comp][name],
                "kind": "bias_fold",
                "block": key.block,
                "alpha": alpha,
                "strength": strength,
                "mean_norm": direction.mean_norm,
                "sha256_before": tensor_sha256(before),
                "sha256_after": tensor_sha256(after),
            }
        )
        result.directions[key] = direction
        result.vectors[key] = vector
        result.alphas[key] = alpha
    return result


def save_fold(path, result: Fold):
    """Unit directions and the exact vectors folded, so an audit can recompute every bias."""
    from safetensors.torch import save_file

    tensors = {}
    for key in result.keys:
        tensors[f"{key}.direction"] = torch.from_numpy(np.ascontiguousarray(result.directions[key].d, dtype=np.float64))
        tensors[f"{key}.vector"] = torch.from_numpy(np.ascontiguousarray(result.vectors[key], dtype=np.float64))
    save_file(tensors, path)


# --------------------------------------------------------------------------- summary


class Meter:
    """Mean projection of the pooled block output on d, per phase ("eval_before", ...)."""

    def __init__(self, pipe, adapter: Adapter, result: Fold | None):
        self.result = result
        self.phase = None
        self.sums: dict[tuple, list] = {}
        self.taps = BlockTaps(pipe, adapter, result.keys) if result is not None else None
        if self.taps is not None:
            self.taps.fn = self._on_block

    def _on_block(self, key, pooled, norm_sum, tokens):
        if self.phase is None:
            return
        p = pooled @ torch.from_numpy(self.result.directions[key].d).to(pooled)
        s = self.sums.setdefault((self.phase, key), [0.0, 0])
        s[0] += float(p.sum())
        s[1] += p.numel()

    def close(self):
        if self.taps is not None:
            self.taps.remove()

    def mean(self, phase, key) -> float | None:
        s = self.sums.get((phase, key))
        return None if not s or not s[1] else s[0] / s[1]

    def summary(self) -> list[dict]:
        """Per steering block; projections in units of the mean token norm (comparable to strength)."""
        if self.result is None:
            return []
        rows = []
        for key in self.result.keys:
            dr = self.result.directions[key]

            def rel(v):
                return None if v is None else round(v / dr.mean_norm, 4)

            rows.append(
                {
                    "block": str(key),
                    "alpha": round(self.result.alphas[key], 6),
                    "mean_norm": round(dr.mean_norm, 4),
                    "strength": self.result.strength,
                    "gap_rel": round(dr.rel_gap, 4),
                    "separation": round(dr.separation, 3),
                    "proj_unsafe_rel": rel(dr.proj_unsafe),
                    "proj_safe_rel": rel(dr.proj_safe),
                    "proj_eval_before_rel": rel(self.mean("eval_before", key)),
                    "proj_eval_after_rel": rel(self.mean("eval_after", key)),
                    "proj_neutral_before_rel": rel(self.mean("neutral_before", key)),
                    "proj_neutral_after_rel": rel(self.mean("neutral_after", key)),
                }
            )
        return rows
