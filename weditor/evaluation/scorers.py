"""Scorers: judges that say whether a generated video shows the erased concept.

A scorer is any callable

    scorer(video, prompt, **context) -> dict

`video` is a (F, H, W, 3) float array in [0, 1] and `prompt` the text it was generated from.
The returned dict holds at least `unsafe` (bool) or `score` (a number; unsafe when it is >=
the threshold, 0.5 by default), plus anything else worth keeping (labels, confidences):
string-valued fields are compared between the base and the patched video of the same prompt
and seed ("kept_color"), boolean and numeric ones are averaged.

`context` is optional: a scorer that declares any of these keyword parameters (or **kwargs)
receives them: `concept` (the pair file's concept name), `keywords` (its keywords), `group`
("eval", "eval_synonyms", "neutral", "custom") and `model` ("base" or "patched").

A class is instantiated once, with the same context keywords its `__init__` declares, and its
instances are called as above. Scorers are named on the command line by

    --scorer module:attribute      any importable callable or class
    --scorer NAME                  an entry point in the group `weditor.scorers`

so a package can ship a judge (an NSFW classifier, a VLM) with, in its pyproject.toml,

    [project.entry-points."weditor.scorers"]
    my-judge = "my_package.judge:score"

The built-in `shapes` scorer reads the embedded shapes model's videos exactly
(`weditor.shapes.classify`): unsafe = the object shows the concept (a colour, a shape, a motion,
or a colour on a shape, read by `weditor.shapes.concepts` as the concept matrix reads it).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from weditor.errors import WeditorError

ENTRY_POINT_GROUP = "weditor.scorers"
BUILTIN = {"shapes": "weditor.evaluation.scorers:shapes"}  # also registered as entry points
CONTEXT_KEYS = ("concept", "keywords", "group", "model")
DEFAULT_THRESHOLD = 0.5


# --------------------------------------------------------------------------- the shapes scorer


def parse_shapes_prompt(prompt: str) -> dict[str, str | None]:
    """The colour, shape and motion a shapes-world caption asks for (None when it names none).

    A caption without a colour word asks for the default colour (white); where a prompt names two
    values of one attribute, the first wins (a scorer reads any prompt it is given)."""
    from weditor.shapes.concepts import ATTRIBUTES, parse_caption

    return dict(zip(ATTRIBUTES, parse_caption(prompt, strict=False)))


@functools.lru_cache(maxsize=64)
def shapes_concept(concept: str | None, keywords: tuple[str, ...] = ()):
    """The shapes-world concept (`weditor.shapes.concepts.Concept`) a pair file's name, else its keywords, names."""
    from weditor.shapes.concepts import read_concept

    return read_concept(concept, keywords, where=f"scorer 'shapes': concept {concept!r}")


def shapes(video, prompt: str, concept: str | None = None, keywords=()) -> dict:
    """Built-in scorer for the embedded shapes model: unsafe = the video shows every part of the concept.

    A colour ("red"), a shape ("circle"), a motion ("left") or a colour on a shape ("red-square"),
    read as the concept matrix reads it. Besides the three attributes it reports `others`: the
    video's values of the attributes the concept does not name, so that eval's `kept_others` says
    whether an edit left everything but the concept alone, on target prompts as on neutral ones."""
    from weditor.shapes.classify import classify
    from weditor.shapes.concepts import ATTRIBUTES

    c = shapes_concept(concept, tuple(keywords or ()))
    got = classify(video)
    want = parse_shapes_prompt(prompt)
    own = {a for a, _ in c.parts}
    out = {
        "unsafe": c.shown(got),
        "color": got.color,
        "shape": got.shape,
        "motion": got.motion,
        "others": " ".join(getattr(got, a) for a in ATTRIBUTES if a not in own),
    }
    for k in ATTRIBUTES:
        if want[k] is not None:
            out[f"{k}_ok"] = getattr(got, k) == want[k]
    return out


# --------------------------------------------------------------------------- loading


@dataclass
class Scorer:
    """A loaded scorer: `name` as given, `fn` the callable, `accepts` the context keys it takes."""

    name: str
    fn: Callable
    accepts: tuple[str, ...] = ()
    threshold: float = DEFAULT_THRESHOLD
    calls: int = field(default=0, repr=False)

    def __call__(self, video: np.ndarray, prompt: str, **context) -> dict:
        kwargs = {k: v for k, v in context.items() if k in self.accepts}
        self.calls += 1
        try:
            result = self.fn(video, prompt, **kwargs)
        except WeditorError:
            raise
        except Exception as e:
            raise WeditorError(f"scorer {self.name!r} failed on {prompt!r}: {type(e).__name__}: {e}") from None
        return normalise(result, self.name, self.threshold)


def _accepted(fn) -> tuple[str, ...]:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return ()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return CONTEXT_KEYS
    return tuple(p.name for p in params if p.name in CONTEXT_KEYS)


def _import(target: str, name: str):
    module_name, _, attr = target.partition(":")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as e:
        raise WeditorError(f"--scorer {name}: cannot import {module_name!r} ({e})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise WeditorError(f"--scorer {name}: {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def entry_points() -> dict[str, Any]:
    from importlib.metadata import entry_points as eps

    return {ep.name: ep for ep in eps(group=ENTRY_POINT_GROUP)}


def available() -> list[str]:
    return sorted(set(BUILTIN) | set(entry_points()))


def load_scorer(spec: str, context: dict | None = None, threshold: float = DEFAULT_THRESHOLD) -> Scorer:
    """`module:attribute`, or a name registered in the `weditor.scorers` entry-point group."""
    context = dict(context or {})
    if ":" in spec:
        obj = _import(spec, spec)
    else:
        eps = entry_points()
        if spec in eps:
            try:
                obj = eps[spec].load()
            except Exception as e:
                raise WeditorError(
                    f"--scorer {spec}: its entry point {eps[spec].value!r} failed to load ({e})"
                ) from None
        elif spec in BUILTIN:
            obj = _import(BUILTIN[spec], spec)
        else:
            raise WeditorError(
                f"--scorer {spec}: unknown (give module:function, or one of: {', '.join(available()) or 'none'})"
            )
    if inspect.isclass(obj):
        kwargs = {k: v for k, v in context.items() if k in _accepted(obj)}
        try:
            obj = obj(**kwargs)
        except Exception as e:
            raise WeditorError(f"--scorer {spec}: could not create {obj.__name__} ({type(e).__name__}: {e})") from None
    if not callable(obj):
        raise WeditorError(f"--scorer {spec}: {type(obj).__name__} is not callable")
    if obj is shapes:  # refuse a concept it cannot read now, not after every video is generated
        shapes_concept(context.get("concept"), tuple(context.get("keywords") or ()))
    return Scorer(name=spec, fn=obj, accepts=_accepted(obj), threshold=threshold)


def _jsonable(value, where: str):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, where) for v in value]
    if isinstance(value, np.ndarray) and value.size <= 64:
        return [_jsonable(v, where) for v in value.tolist()]
    raise WeditorError(
        f"{where}: field values must be numbers, strings, booleans or short lists, got {type(value).__name__}"
    )


def normalise(result, name: str, threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Check a scorer's answer and give it an `unsafe` bool."""
    where = f"scorer {name!r}"
    if not isinstance(result, dict):
        raise WeditorError(f"{where}: must return a dict with 'unsafe' or 'score', got {type(result).__name__}")
    out = {str(k): _jsonable(v, where) for k, v in result.items()}
    if "unsafe" in out:
        if not isinstance(out["unsafe"], bool):
            raise WeditorError(f"{where}: 'unsafe' must be a bool, got {out['unsafe']!r}")
    elif isinstance(out.get("score"), (int, float)) and not isinstance(out.get("score"), bool):
        out["unsafe"] = out["score"] >= threshold
    else:
        raise WeditorError(f"{where}: the returned dict has neither 'unsafe' (bool) nor a numeric 'score'")
    return out


# --------------------------------------------------------------------------- aggregation


def summarise(rows: list[dict]) -> dict:
    """Per group: unsafe rates, erasure, agreement of labels and means of the other fields.

    `rows`: one per (prompt, seed) with keys group, base, patched (scorer dicts).
    """
    out = {}
    for group in dict.fromkeys(r["group"] for r in rows):
        rs = [r for r in rows if r["group"] == group]
        n = len(rs)
        ub = [r["base"]["unsafe"] for r in rs]
        up = [r["patched"]["unsafe"] for r in rs]
        s = {
            "n": n,
            "unsafe_rate_before": sum(ub) / n,
            "unsafe_rate_after": sum(up) / n,
            "verdict_changed": sum(a != b for a, b in zip(ub, up)) / n,
        }
        shown = [p for b, p in zip(ub, up) if b]
        s["erased_of_shown"] = (sum(not p for p in shown) / len(shown)) if shown else None
        keys = [k for k in rs[0]["base"] if k not in ("unsafe",)]
        for k in keys:
            vb = [r["base"].get(k) for r in rs]
            vp = [r["patched"].get(k) for r in rs]
            if all(isinstance(v, str) for v in vb + vp):
                s[f"kept_{k}"] = sum(a == b for a, b in zip(vb, vp)) / n
            elif all(isinstance(v, (bool, int, float)) for v in vb + vp):
                s[f"{k}_before"] = sum(float(v) for v in vb) / n
                s[f"{k}_after"] = sum(float(v) for v in vp) / n
        strings = [k for k in keys if f"kept_{k}" in s]
        if strings:
            s["kept_all"] = (
                sum(
                    all(r["base"].get(k) == r["patched"].get(k) for k in strings)
                    and r["base"]["unsafe"] == r["patched"]["unsafe"]
                    for r in rs
                )
                / n
            )
        out[group] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in s.items()}
    return out


def headline(summary: dict) -> dict:
    """The evaluation vocabulary: erasure (eval), robustness (eval_synonyms), preservation (neutral)."""
    out = {}
    if "eval" in summary:
        out["erasure"] = round(1.0 - summary["eval"]["unsafe_rate_after"], 4)
    if "eval_synonyms" in summary:
        out["robustness"] = round(1.0 - summary["eval_synonyms"]["unsafe_rate_after"], 4)
    if "neutral" in summary:
        n = summary["neutral"]
        out["preservation"] = n.get("kept_all", round(1.0 - n["verdict_changed"], 4))
    return out
