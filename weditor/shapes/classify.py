"""A deterministic reader of shapes-world clips: which colour, shape and motion a video shows.

It judges *generated* videos, so it is deliberately tolerant: colour is the nearest prototype
after normalising brightness (a dim red is still red), shape is the best-fitting template
in the object's own bounding box (blurred edges shift the box, not the ranking), and motion is
the least-squares drift of the object's centroid. "none" means nothing visible (or no drift).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from weditor.shapes.world import COLORS, MOTIONS, SHAPES, coverage

NONE = "none"
_VISIBLE = 0.2  # peak brightness below this means an empty frame
_MIN_TRAVEL = 2.0  # pixels over the clip; less is "not moving"


@dataclass(frozen=True)
class Attributes:
    color: str
    shape: str
    motion: str


def _as_float(video) -> np.ndarray:
    v = np.asarray(video)
    v = v.astype(np.float32) / 255.0 if v.dtype == np.uint8 else v.astype(np.float32)
    if v.ndim != 4 or v.shape[-1] != 3:
        raise ValueError(f"expected a (F, H, W, 3) video, got shape {v.shape}")
    return np.clip(v, 0.0, 1.0)


def _chroma(rgb: np.ndarray) -> np.ndarray:
    return rgb / max(float(rgb.max()), 1e-6)


_PROTOS = {name: _chroma(np.asarray(rgb, np.float32)) for name, rgb in COLORS.items()}


def classify_color(video) -> str:
    v = _as_float(video)
    bright = v.max(axis=-1)
    peak = float(np.percentile(bright, 99.9))
    if peak < _VISIBLE:
        return NONE
    core = bright >= 0.6 * peak
    rgb = _chroma(v[core].mean(axis=0))
    return min(_PROTOS, key=lambda k: float(np.sum((_PROTOS[k] - rgb) ** 2)))


def _frame_masks(v: np.ndarray) -> list[np.ndarray | None]:
    bright = v.max(axis=-1)
    peak = float(np.percentile(bright, 99.9))
    masks = []
    for b in bright:
        m = b >= 0.5 * peak
        masks.append(m if peak >= _VISIBLE and m.sum() >= 4 else None)
    return masks


def _best_shape(mask: np.ndarray) -> str:
    ys, xs = np.nonzero(mask)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    h, w = mask.shape

    def iou(shape):
        t = coverage(shape, cx, cy, hw, hh, h, w) >= 0.5
        return (t & mask).sum() / max((t | mask).sum(), 1)

    return max(SHAPES, key=iou)


def classify_shape(video) -> str:
    votes = [_best_shape(m) for m in _frame_masks(_as_float(video)) if m is not None]
    if not votes:
        return NONE
    return max(SHAPES, key=votes.count)  # ties resolve in SHAPES order, deterministically


def classify_motion(video) -> str:
    v = _as_float(video)
    bright = v.max(axis=-1)
    pts = []
    for f, m in enumerate(_frame_masks(v)):
        if m is None:
            continue
        wgt = bright[f] * m
        ys, xs = np.mgrid[: m.shape[0], : m.shape[1]]
        pts.append((f, (wgt * xs).sum() / wgt.sum(), (wgt * ys).sum() / wgt.sum()))
    if len(pts) < 2:
        return NONE
    f, x, y = (np.asarray(c, np.float64) for c in zip(*pts))
    span = len(v) - 1
    vx, vy = (np.polyfit(f, c, 1)[0] * span for c in (x, y))
    if max(abs(vx), abs(vy)) < _MIN_TRAVEL:
        return NONE
    if abs(vx) >= abs(vy):
        return "right" if vx > 0 else "left"
    return "down" if vy > 0 else "up"


def classify(video) -> Attributes:
    """Colour, shape and motion of the one moving object in a (F, H, W, 3) video."""
    return Attributes(classify_color(video), classify_shape(video), classify_motion(video))


__all__ = ["Attributes", "NONE", "classify", "classify_color", "classify_shape", "classify_motion", "MOTIONS"]
