"""Which shapes-world concept a pair file erases, read from its words, and what a caption asks for.

The concept matrix of the erasure benchmark (scripts/bench_erasure.py --matrix) must run on pair
files that someone else wrote in the documented schema, so it cannot be told the concept: it reads
the pair file's `concept` (or, failing that, its `keywords`) against the world's vocabulary and
checks the reading against the pair file's own prompts. A concept is one value of one attribute
(a colour: "attribute", a shape: "object", a motion: "action") or two values of two attributes
together ("conjunction", e.g. red on squares only). Anything else is refused with one message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from weditor.errors import WeditorError
from weditor.shapes import world

ATTRIBUTES = ("color", "shape", "motion")  # the order of a truth triple (colour, shape, motion)
KIND_OF = {"color": "attribute", "shape": "object", "motion": "action"}
KINDS = ("attribute", "object", "action", "conjunction")
# Words a concept's name may hold besides the world's own ("red on squares only", "shape-circle").
STOP_WORDS = frozenset(
    "a an the on only in of with and or to that moving moves going shape shapes object objects colour color "
    "colours colors coloured colored motion motions direction directions action".split()
)
_TEMPLATE_DIRECTIONS = {"upwards": "up", "downwards": "down"}  # the templates' own wording of two motions


@cache
def lexicon() -> dict[str, tuple[str, str]]:
    """word -> (attribute, canonical value): every colour, shape and motion, their synonyms and plurals."""
    table = {}
    for attr, values in (("color", world.COLORS), ("shape", world.SHAPES), ("motion", world.MOTIONS)):
        for value in values:
            for word in (value, *world.SYNONYMS.get(value, ())):
                table[word] = (attr, value)
                if attr == "shape":  # "squares", "crosses", "balls", "discs"
                    table[word + ("es" if word.endswith(("s", "x", "sh", "ch")) else "s")] = (attr, value)
                if attr == "motion":  # "leftwards", "rightwards"
                    table[word + "s"] = (attr, value)
    for word, motion in _TEMPLATE_DIRECTIONS.items():
        table[word] = ("motion", motion)
    return table


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z]+", text.lower()) if w]


@dataclass(frozen=True)
class Concept:
    """A shapes-world concept: `parts` are (attribute, value) pairs, one or two of them."""

    name: str
    parts: tuple[tuple[str, str], ...]

    @property
    def kind(self) -> str:
        return "conjunction" if len(self.parts) > 1 else KIND_OF[self.parts[0][0]]

    @property
    def label(self) -> str:
        """How the tables name it: "red", "circle", "left", "red on square"."""
        values = dict(self.parts)
        if self.kind != "conjunction":
            return self.parts[0][1]
        if "color" in values and "shape" in values:
            return f"{values['color']} on {values['shape']}"
        return " + ".join(v for _, v in self.parts)

    def named(self, truth: tuple[str, str | None, str | None]) -> bool:
        """Whether a prompt asking for `truth` (colour, shape, motion) asks for the concept."""
        return all(truth[ATTRIBUTES.index(a)] == v for a, v in self.parts)

    def touched(self, truth) -> list[tuple[str, str]]:
        """The concept's parts that `truth` asks for (a conjunction's parts elsewhere have one of two)."""
        return [(a, v) for a, v in self.parts if truth[ATTRIBUTES.index(a)] == v]

    def shown(self, attrs) -> bool:
        """Whether a video read by `weditor.shapes.classify` shows the concept (every part at once)."""
        return all(getattr(attrs, a) == v for a, v in self.parts)

    def drawn(self, attrs) -> str:
        """What a video shows in the concept's place: its values of the concept's attributes."""
        return " ".join(getattr(attrs, a) for a, _ in self.parts)

    def synonyms(self) -> dict[str, tuple[str, ...]]:
        """canonical value -> the world's synonyms, for the parts that have any."""
        return {v: world.SYNONYMS[v] for _, v in self.parts if v in world.SYNONYMS}


def parse_caption(text: str, strict: bool = True) -> tuple[str, str | None, str | None]:
    """(colour, shape, motion) a caption asks for, canonical; no colour word means the default colour.

    Only the world's words count; a part the caption does not name is None. A caption naming two
    values of one attribute ("a red blue circle") is not a world caption: WeditorError, unless
    `strict` is False (a scorer reading any user's prompt), where the first value named wins."""
    found: dict[str, str] = {}
    for word in _words(text):
        if word in lexicon():
            attr, value = lexicon()[word]
            if found.setdefault(attr, value) != value and strict:
                raise WeditorError(f"prompt {text!r} names two {attr}s ({found[attr]}, {value})")
    return found.get("color", world.DEFAULT_COLOR), found.get("shape"), found.get("motion")


def _parts_of(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(attribute, value) parts named by `text`, and the words that are neither the world's nor stop words."""
    parts, unknown = [], []
    for word in _words(text):
        if word in lexicon():
            if lexicon()[word] not in parts:
                parts.append(lexicon()[word])
        elif word not in STOP_WORDS:
            unknown.append(word)
    return parts, unknown


def _vocabulary_hint() -> str:
    return (
        f"colours {', '.join(world.COLORS)}; shapes {', '.join(world.SHAPES)}; motions {', '.join(world.MOTIONS)}; "
        "or one colour on one shape, e.g. 'red-square'"
    )


def infer_concept(pairset) -> Concept:
    """The concept a pair file erases, from its `concept` (else its `keywords`), checked against its prompts.

    Refused (WeditorError): what `read_concept` refuses, or prompts that do not fit the reading (an
    unsafe member that does not name the concept, a safe twin or neutral prompt that does, a
    held-out prompt that does not)."""
    where = f"{pairset.path or pairset.concept}: concept {pairset.concept!r}"
    concept = read_concept(pairset.concept, pairset.keywords, where)
    _check_prompts(concept, pairset, where)
    return concept


def read_concept(name: str | None, keywords=(), where: str | None = None) -> Concept:
    """The concept named by `name` (else by `keywords`), without any prompts to check it against.

    What the built-in `shapes` scorer judges (it is given a concept name and keywords, not a file).
    Refused (WeditorError, one line starting with `where`): a name with a word outside the world,
    nothing the world knows in the name or the keywords, two values of one attribute, three attributes."""
    name = name or ""
    keywords = tuple(keywords or ())
    where = where or f"concept {name!r}"
    parts, unknown = _parts_of(name)
    if parts and unknown:
        raise WeditorError(f"{where}: word {unknown[0]!r} is not in the shapes world ({_vocabulary_hint()})")
    source = "its name"
    if not parts:
        for keyword in keywords:
            for part in _parts_of(keyword)[0]:
                if part not in parts:
                    parts.append(part)
        source = f"its keywords {list(keywords)}"
    if not parts:
        raise WeditorError(
            f"{where} names nothing of the shapes world, nor do its keywords; the shapes world knows "
            f"{_vocabulary_hint()}"
        )
    attrs = [a for a, _ in parts]
    for attr in ATTRIBUTES:
        values = [v for a, v in parts if a == attr]
        if len(values) > 1:
            raise WeditorError(
                f"{where}: {source} name(s) two {attr}s ({', '.join(values)}); a matrix concept is one "
                "colour, shape or motion, or one colour on one shape"
            )
    if len(attrs) > 2:
        raise WeditorError(
            f"{where}: {source} name(s) a {', a '.join(attrs)} at once; a conjunction joins two attributes"
        )
    parts.sort(key=lambda p: ATTRIBUTES.index(p[0]))
    return Concept(name, tuple(parts))


def _check_prompts(concept: Concept, pairset, where: str):
    """The reading must fit the file: otherwise every figure the benchmark prints would be about something else."""

    def truth(text, field):
        t = parse_caption(text)
        missing = [a for a, v in zip(ATTRIBUTES, t) if v is None]
        if missing:
            raise WeditorError(
                f"{where}: {field} {text!r} names no {missing[0]}; the benchmark reads every prompt "
                "as a shapes-world caption (colour, shape, motion)"
            )
        return t

    for i, pair in enumerate(pairset.pairs, 1):
        if not concept.named(truth(pair.unsafe, f"pair {i} unsafe")):
            raise WeditorError(
                f"{where}: read as {concept.label!r} ({concept.kind}), but pair {i}'s unsafe prompt "
                f"{pair.unsafe!r} does not name it"
            )
        if concept.named(truth(pair.safe, f"pair {i} safe")):
            raise WeditorError(
                f"{where}: read as {concept.label!r}, but pair {i}'s safe prompt {pair.safe!r} names it too"
            )
    for field, prompts, want in (
        ("eval", pairset.eval, True),
        ("eval_synonyms", pairset.eval_synonyms, True),
        ("neutral", pairset.neutral, False),
    ):
        for i, text in enumerate(prompts):
            if concept.named(truth(text, f"{field}[{i}]")) != want:
                raise WeditorError(
                    f"{where}: read as {concept.label!r}, but {field}[{i}] {text!r} "
                    f"{'does not name it' if want else 'names it'}"
                )


__all__ = ["ATTRIBUTES", "KINDS", "Concept", "infer_concept", "lexicon", "parse_caption", "read_concept"]
