"""The key builders of the recipe schema (weditor/io/recipe_schema.py): one `Key` per value a recipe may hold.

Each builder returns a `Key` whose check returns the value to use or raises `Bad` with what was expected, so
that the schema's tables read as declarations and its first failing key is named in one `Error:` line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable

from weditor import defaults

MAX_TEXT = 256  # ids, revisions, site and layer expressions: short by nature


class Bad(ValueError):
    """A value that fails its key's check; the message says what was expected."""


def _describe(value) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


@dataclass(frozen=True)
class Key:
    """One key: what it holds (for the docs and messages) and a check that returns the value to use or raises `Bad`."""

    doc: str
    check: Callable


def _optional(inner: Key) -> Key:
    return Key(inner.doc + " or null", lambda v: None if v is None else inner.check(v))


def integer(lo: int, hi: int) -> Key:
    def check(v):
        if isinstance(v, bool) or not isinstance(v, int):
            raise Bad(f"expected an integer, got {_describe(v)}")
        if not lo <= v <= hi:
            raise Bad(f"{v} is outside {lo}..{hi}")
        return v

    return Key(f"integer in {lo}..{hi}", check)


def number(lo: float, hi: float, low_open: bool = False) -> Key:
    def check(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise Bad(f"expected a number, got {_describe(v)}")
        inside = (lo < v if low_open else lo <= v) and v <= hi  # exact for JSON's unbounded integers too
        if (isinstance(v, float) and not math.isfinite(v)) or not inside:
            raise Bad(f"{v} is outside {'(' if low_open else '['}{lo:g}, {hi:g}]")
        return v

    return Key(f"number in {'(' if low_open else '['}{lo:g}, {hi:g}]", check)


def text(pattern: re.Pattern | None = None, checker: Callable | None = None, what: str = "string") -> Key:
    def check(v):
        if not isinstance(v, str):
            raise Bad(f"expected a string, got {_describe(v)}")
        if not v or len(v) > MAX_TEXT or not v.isprintable():
            raise Bad(f"expected a non-empty printable string of at most {MAX_TEXT} characters, got {_describe(v)}")
        if pattern is not None and not pattern.fullmatch(v):
            raise Bad(f"{v!r} is not a {what}")
        if checker is not None:
            checker(v)
        return v

    return Key(what, check)


def choice(options) -> Key:
    def check(v):
        if v not in options or not isinstance(v, str):
            raise Bad(f"{_describe(v)} is not one of {', '.join(options)}")
        return v

    return Key("one of " + ", ".join(options), check)


def flag() -> Key:
    def check(v):
        if not isinstance(v, bool):
            raise Bad(f"expected true or false, got {_describe(v)}")
        return v

    return Key("true or false", check)


def of_type(*types: type, doc: str) -> Key:
    def check(v):
        if not isinstance(v, types):
            raise Bad(f"expected {doc}, got {_describe(v)}")
        return v

    return Key(doc, check)


def size() -> Key:
    limits = defaults.MAX_SIZE

    def check(v):
        if not isinstance(v, list) or len(v) != 3 or any(isinstance(x, bool) or not isinstance(x, int) for x in v):
            raise Bad(f"expected [height, width, frames] (three integers), got {_describe(v)}")
        for x, top, name in zip(v, limits, ("height", "width", "frames")):
            if not 1 <= x <= top:
                raise Bad(f"{name} {x} is outside 1..{top}")
        return tuple(v)

    return Key(f"[height, width, frames], each from 1 to {'/'.join(map(str, limits))}", check)
