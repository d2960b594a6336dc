"""Deletion twins derived from the user's own pairs, for a concept whose twins substitute many different words.

Why (issue 19): a pair file whose safe twins *substitute* the concept word, each pair another one ("a red circle" ->
"a green circle", "a blue ...", "a white ..."), names no single place to send the concept: a least-squares edit
towards "the twins" aims at their average, and the self-check scores it against targets that disagree. On the
development file pairs/shapes-red-substitutes.toml (seven colours and white, one pair each) every method that moved
red far enough moved the other colours past the neutral budget, and 81% of held-out videos stayed red; the same
concept written as the docs say (the colour word dropped: pairs/shapes-red.toml) is erased with every colour kept
(docs/benchmarks.md, "Twins that substitute" and "Spread substitutes").

So where no substitute holds a majority of the pairs (`spread`), the search (weditor/pipeline/tuning.py) may also
fit and score every method towards the pair with the changed word *dropped* from its unsafe prompt
(`deletion_twins`: "a red circle moving left" -> "a circle moving left"), built by the same word-level diff the
parts and synonyms use (weditor/io/parts.py). The patch records it (`twins = "deleted"` in weditor.json), and the
patch path (weditor/pipeline/load.py) applies it to every pair before any method reads them, so the written patch,
its summary and `--recipe` fit what the chosen trial fitted. The pair files themselves are kept as the user wrote
them.

Word-level and read from the file only: nothing here knows colours or shapes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from weditor.defaults import TWINS
from weditor.io.parts import pair_change
from weditor.io.synonyms import removed_word


def substitutes(pairset) -> Counter:
    """{substitute word: pairs that put it in the changed word's place}, counted once per pair, with `""` for a pair
    that deletes the word ("a red" -> "an orange" counts "orange", the article only agreeing; "red" -> "" counts "").
    Only pairs whose diff is one change of a run holding the file's changed word (`synonyms.removed_word`) take
    part."""
    word = removed_word(pairset)
    votes: Counter = Counter()
    if word is None:
        return votes
    for change in map(pair_change, pairset.pairs):
        if change is None or word[0] not in change[0]:
            continue
        if len(change[0]) == len(change[1]):  # "bright red" -> "pale blue": the word in the changed word's place
            new = [change[1][change[0].index(word[0])]]
        else:
            new = [w for w in change[1] if w not in change[0]]
        votes.update(dict.fromkeys(new or [""], 1))
    return votes


def spread(pairset) -> bool:
    """Whether the pairs substitute the changed word by words of which none holds a majority of the pairs (deleting it
    counts as one substitute): red -> orange, green, blue, ... one pair each, or circle -> square, triangle, cross
    three each. False for twins that mostly drop the word, mostly name one substitute, or change no one word, and for
    pairs with images or videos (the concept may come with them)."""
    if pairset.has_images or pairset.has_videos:
        return False
    votes = substitutes(pairset)
    if not votes or set(votes) == {""}:
        return False
    return max(votes.values()) * 2 <= len(pairset.pairs)


def deletion_twins(pairset):
    """`pairset` with each pair's safe twin replaced by its unsafe prompt with the changed word dropped ("a red circle
    moving left" -> "a circle moving left"); a pair whose unsafe prompt does not hold the word, or whose twin would be
    the unsafe prompt itself, keeps its own twin. The same PairSet otherwise (path, hash, neutral prompts, keywords)."""
    word = removed_word(pairset)
    if word is None:
        return pairset
    pairs = []
    for pair in pairset.pairs:
        twin = dropped(pair.unsafe, word)
        pairs.append(
            replace(pair, safe=twin) if twin and twin != pair.unsafe and pair.conditioning == (None, None) else pair
        )
    # one unsafe prompt written with several substitutes ("a red circle" -> "a green circle", -> "a blue circle") is
    # one deletion pair: kept once, so that the held-out split never holds a pair the fit also reads
    return replace(pairset, pairs=tuple(dict.fromkeys(pairs)))


def dropped(prompt: str, run: tuple[str, ...]) -> str | None:
    """`prompt` with its first `run` of words dropped, the English article before it made to agree with the word that
    now follows ("an orange circle" -> "a circle", not "an circle": on the shapes model "an circle ..." drew a yellow
    shape on 7 of 16 videos, "a circle ..." a white one on 16 of 16; docs/benchmarks.md, "Spread substitutes"); None
    when the prompt does not hold the run."""
    from weditor.io.parts import part_twin

    return part_twin(prompt, run, (), articles=True)


def with_twins(pairsets, twins: str) -> list:
    """The pair sets the methods fit for `PatchConfig.twins`: as written ("pair"), or with deletion twins."""
    if twins == "pair":
        return list(pairsets)
    if twins != "deleted":
        raise ValueError(f"twins {twins!r}: must be one of {', '.join(TWINS)}")
    out = [deletion_twins(ps) for ps in pairsets]
    if pairsets and all(new.pairs == old.pairs for new, old in zip(out, pairsets)):  # recorded, changing nothing
        from weditor.errors import WeditorError

        names = ", ".join(str(ps.path) for ps in pairsets)
        raise WeditorError(
            f"--twins deleted: no pair of {names} changes one word that can be dropped from its unsafe prompt "
            "(or every twin already drops it); use --twins pair"
        )
    return out
