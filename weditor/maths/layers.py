"""`--layers`: block indices, ranges and fractions of depth.

Fractions let one default mean the same thing on a 30-block 1.3B model and a 40-block 14B
one ("0.9-1.0" is the last tenth of the network), which is how the papers state layer
choices (REINS: ~50% depth; refusal vector: the last blocks).

    "17,18"    indices              "-2,-1"     counted from the end
    "10-12"    inclusive range      "0.75-1.0"  fraction range of depth
    "0.5"      one block at that depth          "50%"  same as 0.5
"""

from __future__ import annotations

import re

from weditor.errors import WeditorError

_INT = r"-?\d+"
_FRAC = r"(?:\d*\.\d+|\d+\.\d*|\d+(?:\.\d+)?%)"


def _frac_index(text: str, n: int, spec: str) -> int:
    value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    if not 0.0 <= value <= 1.0:
        raise WeditorError(f"--layers {spec!r}: fraction {text} is outside [0, 1]")
    return int(round(value * (n - 1)))


def _int_index(text: str, n: int, spec: str) -> int:
    i = int(text)
    j = i + n if i < 0 else i
    if not 0 <= j < n:
        raise WeditorError(f"--layers {spec!r}: block {i} is out of range (the model has {n} blocks: 0..{n - 1})")
    return j


def parse_layers(spec: str, n: int) -> list[int]:
    """Sorted, unique block indices that `spec` names in a model of `n` blocks."""
    if n < 1:
        raise WeditorError("the model has no blocks")
    out: set[int] = set()
    for item in (s.strip() for s in str(spec).split(",")):
        if not item:
            raise WeditorError(f"--layers {spec!r}: empty item")
        if m := re.fullmatch(f"({_FRAC})-({_FRAC})", item):
            a, b = (_frac_index(g, n, spec) for g in m.groups())
        elif m := re.fullmatch(f"({_INT})-({_INT})", item):
            a, b = (_int_index(g, n, spec) for g in m.groups())
        elif re.fullmatch(_FRAC, item):
            a = b = _frac_index(item, n, spec)
        elif re.fullmatch(_INT, item):
            a = b = _int_index(item, n, spec)
        else:
            raise WeditorError(f"--layers {spec!r}: cannot read {item!r} (use e.g. 17,18 or 10-12 or 0.5 or 0.75-1.0)")
        if a > b:
            raise WeditorError(f"--layers {spec!r}: range {item!r} is empty")
        out.update(range(a, b + 1))
    return sorted(out)


def check_layers_syntax(spec: str) -> None:
    """Raise WeditorError unless `spec` reads as a `--layers` expression; whether its blocks exist
    depends on the model and is checked by `parse_layers` once the model is loaded."""
    for item in (s.strip() for s in str(spec).split(",")):
        if not any(re.fullmatch(p, item) for p in (f"{_FRAC}-{_FRAC}", f"{_INT}-{_INT}", _FRAC, _INT)):
            raise WeditorError(f"--layers {spec!r}: cannot read {item!r} (use e.g. 17,18 or 10-12 or 0.5 or 0.75-1.0)")
