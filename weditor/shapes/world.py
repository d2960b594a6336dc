"""The shapes world: procedural clips of one coloured shape moving over a black background.

It exists so that an erasure can be *measured* without downloading a real video model: the
world is small enough to train a Wan-architecture model on a CPU, and every attribute of a
clip (colour, shape, motion) can be read back by `weditor.shapes.classify`.

A caption that names no colour means the default colour (white), so "a circle moving left"
is the natural safe twin of "a red circle moving left". Some words have synonyms seen in
training ("crimson", "scarlet" for red), so that paraphrase robustness can be tested.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

import numpy as np

NUM_FRAMES = 9  # (9 - 1) / 4 + 1 = 3 latent frames with the Wan VAE's temporal factor 4
HEIGHT = 32
WIDTH = 32

# Prototype RGB values in [0, 1]; renders jitter them slightly so the model sees a spread.
COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.95, 0.08, 0.08),
    "orange": (1.00, 0.55, 0.05),
    "yellow": (0.95, 0.92, 0.10),
    "green": (0.10, 0.80, 0.15),
    "cyan": (0.10, 0.85, 0.90),
    "blue": (0.15, 0.25, 1.00),
    "purple": (0.65, 0.15, 0.90),
    "white": (1.00, 1.00, 1.00),
}
DEFAULT_COLOR = "white"
SHAPES = ("circle", "square", "triangle", "cross")
MOTIONS = ("left", "right", "up", "down")
_STEP = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}  # (dx, dy), y grows downwards

# Words that may replace a canonical word in training captions.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "red": ("crimson", "scarlet"),
    "circle": ("ball", "disc"),
    "left": ("leftward",),
    "right": ("rightward",),
}

# {dir} is the bare direction ("left"), {dir_to} the prepositional one ("to the left").
TEMPLATES = (
    "a {color} {shape} moving {dir}",
    "a {color} {shape} that moves {dir_to}",
    "a {color} {shape} going {dir}",
    "the {color} {shape} moves {dir_to}",
)
_DIR_TO = {"left": "to the left", "right": "to the right", "up": "upwards", "down": "downwards"}

SIZE_RANGE = (10.0, 14.0)  # side of the shape's bounding box, pixels
SPEED_RANGE = (1.0, 1.5)  # pixels per frame
COLOR_JITTER = 0.04
_SUPERSAMPLE = 4


def vocabulary() -> list[str]:
    """Every word a caption of this world can contain, for training the tokenizer."""
    words = set(COLORS) | set(SHAPES) | set(MOTIONS)
    words |= {w for syn in SYNONYMS.values() for w in syn}
    for text in list(TEMPLATES) + list(_DIR_TO.values()):
        words |= {w for w in text.split() if not w.startswith("{")}
    words.add("an")
    return sorted(words)


def shape_mask(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inside-test in coordinates normalised to the bounding box: u, v in [-1, 1]."""
    if shape == "circle":
        return u * u + v * v <= 1.0
    if shape == "square":
        return (np.abs(u) <= 1.0) & (np.abs(v) <= 1.0)
    if shape == "triangle":  # apex up
        return (v <= 1.0) & (np.abs(u) <= (v + 1.0) / 2.0)
    if shape == "cross":
        arm = 0.4
        return ((np.abs(u) <= arm) & (np.abs(v) <= 1.0)) | ((np.abs(v) <= arm) & (np.abs(u) <= 1.0))
    raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")


def coverage(
    shape: str, cx: float, cy: float, half_w: float, half_h: float, height: int = HEIGHT, width: int = WIDTH
) -> np.ndarray:
    """Anti-aliased (H, W) coverage in [0, 1] of a shape whose box is centred at (cx, cy)."""
    s = _SUPERSAMPLE
    ys = (np.arange(height * s) + 0.5) / s
    xs = (np.arange(width * s) + 0.5) / s
    u = (xs[None, :] - cx) / max(half_w, 1e-6)
    v = (ys[:, None] - cy) / max(half_h, 1e-6)
    m = shape_mask(shape, u, v).astype(np.float32)
    return m.reshape(height, s, width, s).mean(axis=(1, 3))


def render(color: str | None, shape: str, motion: str, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """One clip, (F, H, W, 3) float32 in [0, 1]; size, speed, start and hue are jittered.

    `color=None` renders the default colour, as a caption without a colour word implies.
    """
    rng = np.random.default_rng(rng)
    color = DEFAULT_COLOR if color is None else color
    if color not in COLORS or motion not in MOTIONS:
        raise ValueError(f"unknown color/motion {color!r}/{motion!r}")
    size = rng.uniform(*SIZE_RANGE)
    travel = rng.uniform(*SPEED_RANGE) * (NUM_FRAMES - 1)
    dx, dy = _STEP[motion]
    half = size / 2
    margin = half + 1.0
    # Choose a start so that the whole trajectory stays inside the frame.
    lo_x = margin - min(dx, 0) * travel
    hi_x = WIDTH - margin - max(dx, 0) * travel
    lo_y = margin - min(dy, 0) * travel
    hi_y = HEIGHT - margin - max(dy, 0) * travel
    x0, y0 = rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)
    rgb = np.clip(np.asarray(COLORS[color]) + rng.normal(0, COLOR_JITTER, 3), 0, 1).astype(np.float32)
    clip = np.empty((NUM_FRAMES, HEIGHT, WIDTH, 3), np.float32)
    for f in range(NUM_FRAMES):
        a = f / (NUM_FRAMES - 1)
        cov = coverage(shape, x0 + dx * travel * a, y0 + dy * travel * a, half, half)
        clip[f] = cov[..., None] * rgb
    return clip


def caption(
    color: str | None,
    shape: str,
    motion: str,
    template: int = 0,
    synonyms: Mapping[str, str] | None = None,
) -> str:
    """A caption; `color=None` omits the colour word, and `synonyms` maps canonical -> used word.

    >>> caption("red", "circle", "left", template=1, synonyms={"red": "crimson"})
    'a crimson circle that moves to the left'
    """
    syn = dict(synonyms or {})
    word = lambda w: syn.get(w, w)  # noqa: E731
    dir_to = word(motion) if motion in syn else _DIR_TO[motion]
    text = TEMPLATES[template].format(
        color="" if color is None else word(color), shape=word(shape), dir=word(motion), dir_to=dir_to
    )
    return _articles(" ".join(text.split()))


def _articles(text: str) -> str:
    """ "a orange" -> "an orange", so that captions read like real ones."""
    return re.sub(r"\ba (?=[aeiou])", "an ", text)


def random_caption(color: str, shape: str, motion: str, rng: np.random.Generator, p_synonym: float = 0.3) -> str:
    """A training caption: random template, synonyms with probability `p_synonym` each, and
    the default colour named only half of the time."""
    syn = {
        w: str(rng.choice(SYNONYMS[w])) for w in (color, shape, motion) if w in SYNONYMS and rng.random() < p_synonym
    }
    named = None if color == DEFAULT_COLOR and rng.random() < 0.5 else color
    return caption(named, shape, motion, template=int(rng.integers(len(TEMPLATES))), synonyms=syn)


def sample_attributes(rng: np.random.Generator) -> tuple[str, str, str]:
    return (str(rng.choice(list(COLORS))), str(rng.choice(SHAPES)), str(rng.choice(MOTIONS)))


def examples(seed: int = 0) -> Iterator[tuple[str, np.ndarray, tuple[str, str, str]]]:
    """Endless (caption, clip, (color, shape, motion)) training examples."""
    rng = np.random.default_rng(seed)
    while True:
        attrs = sample_attributes(rng)
        yield random_caption(*attrs, rng), render(*attrs, rng), attrs
