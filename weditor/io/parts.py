"""A concept's parts elsewhere, read from the user's own pairs: neutral prompts that hold the words the pairs remove.

A pair file that erases a colour on one shape only ("a red square" -> "a square") and lists "a red circle"
among its neutral prompts says, in its own data, that the removed word must stay where the context
differs. Nothing here knows colours or shapes: the run of words the pairs change (the most frequent one,
by a word-level diff of each pair) is looked up in the neutral prompts, and each neutral prompt that holds
it gets a *part twin*, the same substitution applied ("a red circle" -> "a circle"). The objective
(weditor/pipeline/objective.py) measures how far an edit moves those prompts to their part twins: the
*part leak*, which a conjunction's edit must keep low while it erases the concept.

For a pair file whose neutral prompts never hold the removed words (a colour, a shape, a motion: their
neutral prompts do not name the concept) there are no parts, and nothing changes.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter

_WORD = re.compile(r"[\w'-]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def changed_run(pairset) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(removed words, their replacement) that most of the pairs share, when a pair's diff is one change; None
    when no pair is one substitution or deletion of a run of words (ties: the first in the file)."""
    votes: Counter = Counter()
    for pair in pairset.pairs:
        a, b = _words(pair.unsafe), _words(pair.safe)
        ops = [o for o in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes() if o[0] != "equal"]
        if len(ops) == 1 and ops[0][0] in ("replace", "delete"):
            _, i1, i2, j1, j2 = ops[0]
            votes[(tuple(a[i1:i2]), tuple(b[j1:j2]))] += 1
    return max(votes.items(), key=lambda kv: kv[1])[0] if votes else None


def part_twin(prompt: str, run: tuple[str, ...], replacement: tuple[str, ...]) -> str | None:
    """`prompt` with the removed words replaced as the pairs replace them, or None when it does not hold them."""
    pattern = r"(?<![\w'-])" + r"\s+".join(re.escape(w) for w in run) + r"(?![\w'-])"
    if not re.search(pattern, prompt, flags=re.IGNORECASE):
        return None
    twin = re.sub(pattern, " ".join(replacement), prompt, count=1, flags=re.IGNORECASE)
    return " ".join(twin.split())


def parts(pairset, neutral=None) -> dict[str, str]:
    """{neutral prompt: its part twin} for the neutral prompts (default: the file's) that hold the removed words."""
    found = changed_run(pairset)
    if found is None or not found[0]:
        return {}
    out = {}
    for prompt in pairset.neutral if neutral is None else neutral:
        twin = part_twin(prompt, *found)
        if twin is not None and twin != prompt:
            out[prompt] = twin
    return out


def context_words(pairset) -> set[str]:
    """The words every pair's unsafe prompt holds besides the removed ones and that no part prompt holds: the
    context that makes the concept (the shape of "a red square", read from the file's own pairs). A word the
    removed words' other contexts also hold ("a", "the": "a red circle") is not what sets the concept apart.
    Empty when there are no parts."""
    found = changed_run(pairset)
    elsewhere = parts(pairset)
    if found is None or not found[0] or not pairset.pairs or not elsewhere:
        return set()
    common = set.intersection(*(set(_words(p.unsafe)) for p in pairset.pairs))
    return common - set(found[0]) - {w for p in elsewhere for w in _words(p)}


def other_parts(pairset, neutral=None) -> list[str]:
    """The neutral prompts (default: the file's) that hold the concept's context but not the removed words: the
    concept's other part elsewhere ("a blue square" for red on squares). Empty for a file without parts, so
    the colour, shape and motion files gain nothing here."""
    found = changed_run(pairset)
    context = context_words(pairset)
    if not context or not parts(pairset, neutral):
        return []
    prompts = pairset.neutral if neutral is None else neutral
    return [p for p in prompts if context & set(_words(p)) and part_twin(p, *found) is None]
