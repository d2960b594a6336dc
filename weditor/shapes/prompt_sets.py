"""The erasure benchmark's prompt sets: held-out shapes-world captions, with what each asks for.

Held out means held out: no prompt of a set is a pair member or a neutral prompt of the pair
file the patch was made from (a combination whose every wording the file uses is skipped). A set
is a list of prompts, each generated with `seeds` noise draws, and the (colour, shape, motion)
the original model should draw for it; the classifier's reading is compared with that.

`matrix_sets` builds them for any concept (`weditor.shapes.concepts`): the target set (prompts
naming the concept), its synonyms, the preservation set (prompts without any part of it) and,
for a conjunction, the parts elsewhere (red on other shapes, squares of other colours), at three
sizes: "quick" (CI), "plain" and "fine" (every combination the world allows, two seeds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from weditor.errors import WeditorError
from weditor.shapes import world
from weditor.shapes.concepts import ATTRIBUTES, Concept, parse_caption

COLOUR_OPTIONS = (*world.COLORS, None)  # None: no colour word, which asks for the default colour (white)
LEVELS = ("quick", "plain", "fine")
MIN_TARGET = 32  # --fine: a small concept (a conjunction has 4 combinations) gets more wordings up to this many videos
QUICK_CAPS = {"target": 8, "synonyms": 8, "others": 16, "parts": 8}


@dataclass
class PromptSet:
    name: str
    prompts: list[str]
    truth: list[tuple[str, str, str]]  # colour, shape, motion the *original* model should draw
    seeds: int = 1
    concept: str | None = None  # the colour to erase, for the red/blue modes' target sets
    role: str = ""  # matrix sets: "target", "synonyms", "others" or "parts"
    sources: dict = field(default_factory=dict)  # how many prompts came from where ("pair file", "world")

    def add(self, text: str, truth, source: str) -> bool:
        if text in self.prompts:
            return False
        self.prompts.append(text)
        self.truth.append(tuple(truth))
        self.sources[source] = self.sources.get(source, 0) + 1
        return True


def used_prompts(pairset) -> set[str]:
    """Every prompt a pair file gives the patch (pair members and neutral prompts): the benchmark's must differ."""
    return {p.unsafe for p in pairset.pairs} | {p.safe for p in pairset.pairs} | set(pairset.neutral)


def wordings(colour: str | None, shape: str, motion: str, start: int, exclude: set[str], synonyms=None) -> list[str]:
    """The caption's wordings (one per template, from template `start` on) that no pair file uses."""
    n = len(world.TEMPLATES)
    out = [world.caption(colour, shape, motion, template=(start + k) % n, synonyms=synonyms) for k in range(n)]
    return [t for t in dict.fromkeys(out) if t not in exclude]


def held_out(colour: str | None, i: int, shape: str, motion: str, exclude: set[str]) -> str:
    """The caption with template i, or the next wording that no pair file uses (pairs, neutral prompts)."""
    found = wordings(colour, shape, motion, i, exclude)
    if not found:
        raise ValueError(
            f"every wording of {colour} {shape} {motion} is in a pair file; the benchmark needs held-out prompts"
        )
    return found[0]


def truth_of(colour: str | None, shape: str, motion: str) -> tuple[str, str, str]:
    return (world.DEFAULT_COLOR if colour is None else colour, shape, motion)


def combinations() -> list[tuple[str | None, str, str]]:
    """Every caption the world allows, up to wording: each colour (and none), shape and motion."""
    return [(c, s, m) for c in COLOUR_OPTIONS for s in world.SHAPES for m in world.MOTIONS]


def _alternate(combos):
    """Half of the combinations, alternating with the colour so that every shape x motion keeps one (plain set)."""

    def parity(c):
        return (
            COLOUR_OPTIONS.index(c[0]) + world.SHAPES.index(c[1]) * len(world.MOTIONS) + world.MOTIONS.index(c[2])
        ) % 2

    return [c for c in combos if parity(c) == 0]


def _thin(ps: PromptSet, cap: int) -> PromptSet:
    """At most `cap` prompts, evenly spread over the set (the quick CI sets)."""
    if len(ps.prompts) > cap:
        keep = sorted({round(i * len(ps.prompts) / cap) for i in range(cap)})
        ps.prompts = [ps.prompts[i] for i in keep]
        ps.truth = [ps.truth[i] for i in keep]
        ps.sources = {"thinned": len(keep)}
    return ps


def matrix_sets(concept: Concept, pairset, level: str = "fine", exclude: set[str] | None = None) -> list[PromptSet]:
    """Target, synonyms, others and (conjunction) parts sets for `concept`, held out from `pairset`.

    - target: the pair file's `eval` prompts, and every combination that names the concept in a
      wording the pair file does not use (fine: with more wordings up to MIN_TARGET videos);
    - synonyms: the pair file's `eval_synonyms`, and each target combination with the concept's
      word replaced by one of the world's synonyms, in turn; absent when the world has none;
    - others: every combination asking for no part of the concept (plain: every other one);
    - parts (conjunctions): "<value> elsewhere" per part, the combinations asking for that part only.
    Seeds: 2 for fine, else 1. `quick` is the plain set thinned to QUICK_CAPS, without the pair file's prompts."""
    if level not in LEVELS:
        raise WeditorError(f"level {level!r}: must be one of {', '.join(LEVELS)}")
    fine, quick = level == "fine", level == "quick"
    exclude = used_prompts(pairset) if exclude is None else exclude
    seeds = 2 if fine else 1
    n_templates = len(world.TEMPLATES)
    combos = combinations()
    named = [c for c in combos if concept.named(truth_of(*c))]

    target = PromptSet("target", [], [], seeds=seeds, role="target")
    synonyms = PromptSet("synonyms", [], [], seeds=seeds, role="synonyms")
    if not quick:
        for text in pairset.eval:
            target.add(text, parse_caption(text), "pair file")
        for text in pairset.eval_synonyms:
            synonyms.add(text, parse_caption(text), "pair file")
    per_combo = max(1, math.ceil(MIN_TARGET / (len(named) * seeds))) if fine else 1
    swaps = [(value, word) for value, words in concept.synonyms().items() for word in words]
    for i, combo in enumerate(named):
        for text in wordings(*combo, i, exclude)[:per_combo]:
            target.add(text, truth_of(*combo), "world")
        if swaps:  # one synonym per combination, in turn: every synonym is asked, at the price of one
            value, word = swaps[i % len(swaps)]
            text = world.caption(*combo, template=i % n_templates, synonyms={value: word})
            if text not in exclude:
                synonyms.add(text, truth_of(*combo), "world")
    if not target.prompts:
        raise WeditorError(
            f"concept {concept.label!r}: the pair file uses every wording of every combination that names "
            "it; the benchmark has no held-out prompt left"
        )

    others = PromptSet("others", [], [], seeds=seeds, role="others")
    parts = {part: PromptSet(f"{part[1]} elsewhere", [], [], seeds=seeds, role="parts") for part in concept.parts}
    rest = [c for c in combos if not concept.named(truth_of(*c))]
    for i, combo in enumerate(rest if fine else _alternate(rest)):
        touched = concept.touched(truth_of(*combo))
        found = wordings(*combo, i, exclude)
        if not found:
            continue
        (parts[touched[0]] if touched else others).add(found[0], truth_of(*combo), "world")
    sets = [target] + ([synonyms] if synonyms.prompts else []) + [others]
    sets += [ps for ps in parts.values() if len(concept.parts) > 1 and ps.prompts]
    if quick:
        for ps in sets:
            _thin(ps, QUICK_CAPS[ps.role])
    return sets


def describe(sets: list[PromptSet]) -> dict[str, int]:
    """name -> videos (prompts x seeds), for the report."""
    return {ps.name: len(ps.prompts) * ps.seeds for ps in sets}


__all__ = [
    "ATTRIBUTES",
    "LEVELS",
    "PromptSet",
    "combinations",
    "describe",
    "held_out",
    "matrix_sets",
    "truth_of",
    "used_prompts",
    "wordings",
]
