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

The file's own part prompts are few and a fit is told to keep them, so a measure on them alone is in-sample.
`synthesized` makes part prompts the file does not hold, from its own words: the *siblings* of the context word
(the words that stand where it stands beside the removed words in the part prompts: "square" where "circle" stands
beside "purple") and of the removed words (those that stand where they stand beside the context: "red" before
"circle"), refilled into the slots of the file's own prompts one at a time ("a purple circle that moves upwards"
-> "a purple square that moves upwards", "a red circle that moves upwards"). The objective's part move reads those
made from the held-out prompts; the block fit keeps those made from the prompts it fits (`fit_prompts`).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter

_WORD = re.compile(r"[\w'-]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


ARTICLES = ("a", "an")  # English indefinite articles, which agree with the word after them


def _changes(pair) -> tuple[list[str], list[str], list[tuple]]:
    """(the unsafe prompt's words, the twin's, the word-level diff's opcodes that are not "equal")."""
    a, b = _words(pair.unsafe), _words(pair.safe)
    return a, b, [o for o in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes() if o[0] != "equal"]


def pair_change(pair) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(removed words, their replacement) when `pair`'s word-level diff is one substitution or deletion of a run of
    words, else None. An indefinite article that changes only to agree with the next word is not part of the run
    ("an orange circle" -> "a circle" removes "orange"): read as "an orange", the run was found in no prompt of
    another colour, so a conjunction's file had no colour siblings and its parts check could not see 5 of 12
    prompts (docs/benchmarks.md, "The parts measure on the held-out conjunctions")."""
    a, b, ops = _changes(pair)
    if len(ops) == 1 and ops[0][0] in ("replace", "delete"):
        _, i1, i2, j1, j2 = ops[0]
        run, replacement = tuple(a[i1:i2]), tuple(b[j1:j2])
        if len(run) > 1 and replacement and run[0] in ARTICLES and replacement[0] in ARTICLES:
            run, replacement = run[1:], replacement[1:]
        return run, replacement
    return None


def agree(before: str, after: str) -> str:
    """`before` + `after` with an English indefinite article ending `before` made to agree with the word starting
    `after` ("an" + "circle" -> "a circle"; on the shapes model "an circle ..." drew a yellow shape on 7 of 16 videos:
    docs/benchmarks.md, "Spread substitutes"), and no space before punctuation."""
    before, after = before.rstrip(), after.lstrip()
    article, following = re.search(r"(?<![\w'-])(an|a)$", before, re.IGNORECASE), re.match(r"[^\w]*([A-Za-z])", after)
    if article and following:
        fit = "an" if following.group(1).lower() in "aeiou" else "a"
        before = before[: article.start()] + (fit.capitalize() if article.group()[0].isupper() else fit)
    joined = f"{before}{after}" if not before or re.match(r"[,.;:!?)\]}]", after) else f"{before} {after}"
    return " ".join(joined.split())


def changed_run(pairset) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(removed words, their replacement) that most of the pairs share, when a pair's diff is one change; None
    when no pair is one substitution or deletion of a run of words (ties: the first in the file)."""
    votes = Counter(c for c in map(pair_change, pairset.pairs) if c is not None)
    return max(votes.items(), key=lambda kv: kv[1])[0] if votes else None


def part_twin(prompt: str, run: tuple[str, ...], replacement: tuple[str, ...], articles: bool = False) -> str | None:
    """`prompt` with the removed words replaced as the pairs replace them, or None when it does not hold them.
    `articles`: an indefinite article before them made to agree (`agree`), for files whose own pairs show it
    (`swaps_articles`): "an orange square" -> "a square". Not otherwise: "a" is a word of other languages too."""
    pattern = r"(?<![\w'-])" + r"\s+".join(re.escape(w) for w in run) + r"(?![\w'-])"
    m = re.search(pattern, prompt, flags=re.IGNORECASE)
    if m is None:
        return None
    if articles:
        return agree(prompt[: m.start()], " ".join((*replacement, prompt[m.end() :].lstrip())))
    twin = prompt[: m.start()] + " ".join(replacement) + prompt[m.end() :]
    return " ".join(twin.split())


def swaps_articles(pairset) -> bool:
    """Whether any pair changes "a" to "an" (or back) with the word after it ("an orange circle" -> "a circle"): the
    file is English with articles that agree, so part twins made from it must agree too."""
    for a, b, ops in map(_changes, pairset.pairs):
        if any(
            op == "replace" and a[i1] in ARTICLES and b[j1] in ARTICLES and a[i1] != b[j1] for op, i1, _, j1, _ in ops
        ):
            return True
    return False


def parts(pairset, neutral=None) -> dict[str, str]:
    """{neutral prompt: its part twin} for the neutral prompts (default: the file's) that hold the removed words."""
    found = changed_run(pairset)
    if found is None or not found[0]:
        return {}
    out, articles = {}, swaps_articles(pairset)
    for prompt in pairset.neutral if neutral is None else neutral:
        twin = part_twin(prompt, *found, articles=articles)
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


def _at(words: list[str], run: tuple[str, ...]) -> int | None:
    """Index of the first whole-word occurrence of `run` in `words`, or None."""
    n = len(run)
    return next((i for i in range(len(words) - n + 1) if tuple(words[i : i + n]) == run), None)


def _offsets(pairset, run: tuple[str, ...], context: set[str]) -> dict[str, int]:
    """{context word: its position relative to the removed run's first word}, the most frequent over the pairs'
    unsafe prompts (ties: the smallest distance, then the earlier offset); a word never found beside the run is left out."""
    votes: dict[str, Counter] = {w: Counter() for w in context}
    for pair in pairset.pairs:
        words = _words(pair.unsafe)
        start = _at(words, run)
        if start is None:
            continue
        for i, w in enumerate(words):
            if w in votes and not start <= i < start + len(run):
                votes[w][i - start] += 1
    return {w: max(v.items(), key=lambda kv: (kv[1], -abs(kv[0]), -kv[0]))[0] for w, v in votes.items() if v}


def siblings(pairset) -> dict[str, list[tuple[str, ...]]]:
    """The words that stand, in the file's own neutral prompts, where the concept's words stand in its pairs:
    {context word: [its siblings]} from the part prompts that keep the removed words (the word at the context's
    place beside them: "square" where "circle" stands beside "purple"), and {"": [the removed run's siblings]}
    from the other parts (the words at the run's place beside the context: "red" before "circle"). A word any
    pair prompt holds ("a", "the", the concept's own words) is no sibling. In order of first appearance in the
    file; empty for a file without parts (nothing here knows colours or shapes)."""
    found = changed_run(pairset)
    context = context_words(pairset)
    if found is None or not found[0] or not context:
        return {}
    run = found[0]
    in_pairs = {w for p in pairset.pairs for t in (p.unsafe, p.safe) for w in _words(t)}
    offsets = _offsets(pairset, run, context)
    out: dict[str, list[tuple[str, ...]]] = {w: [] for w in sorted(offsets)}
    for prompt in parts(pairset):  # the removed words elsewhere: what stands where the context stood
        words = _words(prompt)
        start = _at(words, run)
        for w, off in offsets.items():
            i = start + off
            if 0 <= i < len(words) and not start <= i < start + len(run) and words[i] not in in_pairs:
                if (words[i],) not in out[w]:
                    out[w].append((words[i],))
    out[""] = []
    for prompt in other_parts(pairset):  # the context elsewhere: what stands where the removed words stood
        words = _words(prompt)
        for w, off in offsets.items():
            if w in words:
                _add_run(out[""], words, words.index(w) - off, len(run), in_pairs | context)
    # one more round over every neutral prompt: a word that stands beside a sibling as the concept's words stand
    # together ("yellow" before "triangle", a sibling of "circle") is a sibling too
    for prompt in pairset.neutral:
        words = _words(prompt)
        for w, off in offsets.items():
            for j, x in enumerate(words):
                if (x,) in out[w]:
                    _add_run(out[""], words, j - off, len(run), in_pairs | context)
                if tuple(words[j : j + len(run)]) in out[""] and 0 <= j + off < len(words):
                    y = words[j + off]
                    if y not in in_pairs and y not in context and (y,) not in out[w]:
                        out[w].append((y,))
    return {k: v for k, v in out.items() if v}


def _add_run(found: list, words: list[str], start: int, n: int, excluded: set[str]):
    sib = tuple(words[start : start + n]) if start >= 0 else ()
    if len(sib) == n and not set(sib) & excluded and sib not in found:
        found.append(sib)


def _replace_at(words: list[str], i: int, n: int, new: tuple[str, ...]) -> str:
    return " ".join([*words[:i], *new, *words[i + n :]])


def _slots(words: list[str], run: tuple[str, ...], offsets: dict[str, int], sibs: dict) -> tuple[int, dict] | None:
    """(the run slot's start, {context word: its slot}) in a prompt holding the removed run, or the context with a
    sibling of the run at the run's place; None for a prompt with neither (a slot out of range is left out)."""
    start = _at(words, run)
    if start is None:
        for w, off in offsets.items():
            if w in words:
                i = words.index(w) - off
                if i >= 0 and tuple(words[i : i + len(run)]) in sibs.get("", ()):
                    start = i
                    break
    if start is None:
        return None
    ctx = {w: start + off for w, off in offsets.items() if 0 <= start + off < len(words)}
    return start, {w: i for w, i in ctx.items() if not start <= i < start + len(run)}


def synthesized(pairset, templates=None, others: bool = False) -> list[str]:
    """Part prompts the file does not hold, built from its own words: each template (default: the pairs' unsafe
    prompts) with its slots refilled, the removed run beside a sibling of one context word ("a purple circle that
    moves up" -> "a purple square that moves up") or a sibling of the run beside the context ("a red circle that
    moves up"). A template may be a part prompt too ("the green circle moves downwards" -> "the purple triangle
    moves downwards"). Unseen combinations of the file's words, as a conjunction's parts elsewhere appear in use.
    Never a prompt that still holds the concept (the removed run and every context word) or one the file
    already holds (a pair's member or a neutral prompt), nor a changed word after one it never follows in the file
    (the word before a slot becomes the one the file puts before that sibling: "an orange", not "a orange");
    deterministic (templates in order, then the siblings in order); empty for a file without parts. `others`:
    both slots refilled instead, prompts with neither part ("a yellow square ..."), for a fit's kept set."""
    sibs = siblings(pairset)
    if not sibs:
        return []
    run = changed_run(pairset)[0]
    context = context_words(pairset)
    offsets = _offsets(pairset, run, context)
    known = {" ".join(_words(t)) for p in pairset.pairs for t in (p.unsafe, p.safe)}
    known |= {" ".join(_words(t)) for t in pairset.neutral}
    pairs_seen = Counter(b for t in known for w in [t.split()] for b in zip(w, w[1:]))
    # the words the file puts before a slot ("a", "an", "the"), in order of first appearance
    lefts: list[str] = []
    for prompt in [p.unsafe for p in pairset.pairs] + list(pairset.neutral):
        words = _words(prompt)
        found = _slots(words, run, offsets, sibs)
        if found and found[0] > 0 and words[found[0] - 1] not in lefts:
            lefts.append(words[found[0] - 1])
    out: list[str] = []
    for prompt in [p.unsafe for p in pairset.pairs] if templates is None else templates:
        words = _words(prompt)
        found = _slots(words, run, offsets, sibs)
        if found is None:
            continue
        start, ctx = found
        # the template's run and context words back in place, then one slot at a time refilled with a sibling
        base = [*words]
        for w, i in ctx.items():
            base[i] = w
        base[start : start + len(run)] = list(run)
        slots = {*ctx.values(), *range(start, start + len(run))}
        made = [(_replace_at(base, i, 1, s).split(), i) for w, i in ctx.items() for s in sibs.get(w, ())]
        made += [(_replace_at(base, start, len(run), s).split(), start) for s in sibs.get("", ())]
        if others:  # both slots refilled: neither part ("a yellow square ..."), the rest of the file's world
            made = [
                (_replace_at(_replace_at(base, i, 1, c).split(), start, len(run), r).split(), start)
                for w, i in ctx.items()
                for c in sibs.get(w, ())
                for r in sibs.get("", ())
            ]
        for new, i in made:
            # a sibling after a word before the slot that it never follows in the file ("a" before "orange") takes
            # the word the file puts before it there ("an"); a changed word after one it never follows is left out:
            # the prompt would be a wording the file never uses
            if i > 0 and i - 1 not in slots and (new[i - 1], new[i]) not in pairs_seen:
                fits = [w for w in lefts if (w, new[i]) in pairs_seen]
                if fits:
                    new[i - 1] = max(fits, key=lambda w: pairs_seen[(w, new[i])])
            changed = [j for j in range(1, len(new)) if len(new) != len(words) or new[j] != words[j]]
            if not all((new[j - 1], new[j]) in pairs_seen for j in changed):
                continue
            text = " ".join(new)
            holds = _at(_words(text), run) is not None and context <= set(_words(text))
            if not holds and text not in known and text not in out:
                out.append(text)
    return out


def templates(pairset) -> list[str]:
    """The prompts whose slots `synthesized` refills: the pairs' unsafe prompts, then the part prompts of both kinds."""
    return [p.unsafe for p in pairset.pairs] + list(parts(pairset)) + other_parts(pairset)


def spread(pairset, prompts, n: int) -> list[str]:
    """At most `n` of `prompts`, taken in turn from each sibling's (the word the synthesis put in a slot: one
    "square" prompt, one "red" prompt, ...), in the order the siblings come (`siblings`), each group in its order;
    deterministic. So a few keep every sibling represented."""
    sibs = [s for group in siblings(pairset).values() for s in group]
    groups: dict = {s: [] for s in sibs}
    rest = []
    for p in prompts:
        words = _words(p)
        key = next((s for s in sibs if _at(words, s) is not None), None)
        (groups[key] if key is not None else rest).append(p)
    out, queues = [], [g for g in groups.values() if g] + ([rest] if rest else [])
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    return out


def fit_prompts(pairset) -> list[str]:
    """The synthesized prompts a fit keeps besides the file's own: every part prompt the file's templates make,
    then as many prompts with neither part (both slots refilled: "a yellow square ..."), spread over the
    siblings. Without the second kind, the many part prompts outweigh the file's own neutral prompts in the fit's
    mean and the rest of the world drifts (purple on circles: white and orange shapes drawn yellow, -5.2 points;
    docs/benchmarks.md, "Part prompts the fit never saw"). Empty for a file without parts."""
    made = synthesized(pairset, templates(pairset))
    return made + spread(pairset, synthesized(pairset, templates(pairset), others=True), len(made))


def slot_words(pairset) -> set[str]:
    """The words that fill the file's slots: the removed run's, the context's and every sibling's (empty without
    parts)."""
    found = changed_run(pairset)
    sibs = siblings(pairset)
    if found is None or not sibs:
        return set()
    return set(found[0]) | context_words(pairset) | {w for group in sibs.values() for s in group for w in s}


# At most this many neighbours per part prompt (besides its part twin), and in all (each costs a denoiser run per
# objective step and an offset per step kept by the objective): the shipped conjunctions have at most 11 and 419; a
# file with many colours and shapes would otherwise grow them as templates x siblings (20 x 20: ~4,200).
MAX_NEIGHBOURS_PER_PROMPT = 16
MAX_NEIGHBOURS = 1024


def neighbours(pairset, prompts) -> dict[str, tuple[str, ...]]:
    """{part prompt: its neighbours}: what each of `prompts` would be with one slot refilled, the prompts it could
    drift to. The neighbours are the file's own prompts and those `synthesized` from its templates (never one
    holding the concept) that differ from the prompt in one run of at most two words ending in a slot word on both
    sides (the word before it may change too: "a red" -> "an orange"), then the part twin (the removed words
    replaced as the pairs replace them: "a red circle" -> "a circle"). In the pool's order; deterministic. Empty for
    a file without parts."""
    vocab = slot_words(pairset)
    if not vocab:
        return {}
    run, replacement = changed_run(pairset)
    context, articles = context_words(pairset), swaps_articles(pairset)
    tpl = templates(pairset)
    pool = list(dict.fromkeys(synthesized(pairset, tpl) + synthesized(pairset, tpl, others=True) + tpl))
    pooled = set(pool)
    pool += [p for p in pairset.neutral if p not in pooled]
    words = {p: _words(p) for p in pool}
    pool = [p for p in pool if not (_at(words[p], run) is not None and context <= set(words[p]))]
    sets = {p: set(words[p]) for p in pool}
    # the total shared evenly, so that no prompt (the synthesized held-out ones come last) is left without any
    per_prompt = min(MAX_NEIGHBOURS_PER_PROMPT, max(1, MAX_NEIGHBOURS // max(1, len(prompts))))
    out = {}
    for prompt in prompts:
        a = _words(prompt)
        own, found = set(a), []
        for q in pool:
            # one run of at most two words replaced: lengths within one, at most four words on either side alone
            # (exact, and cheap: the diff below runs on few of the pool, which grows as templates x siblings)
            if abs(len(words[q]) - len(a)) > 1 or len(sets[q] ^ own) > 4:
                continue
            if len(found) >= per_prompt:
                break
            ops = difflib.SequenceMatcher(a=a, b=words[q], autojunk=False).get_opcodes()
            ops = [o for o in ops if o[0] != "equal"]
            if len(ops) != 1 or ops[0][0] != "replace":
                continue
            _, i1, i2, j1, j2 = ops[0]
            b = words[q]
            if i2 - i1 <= 2 and j2 - j1 <= 2 and a[i2 - 1] in vocab and b[j2 - 1] in vocab:
                if not set(a[i1 : i2 - 1] + b[j1 : j2 - 1]) & vocab:
                    found.append(q)
        twin = part_twin(prompt, run, replacement, articles=articles)
        out[prompt] = tuple(found) + ((twin,) if twin and twin != prompt else ())
    return out
