"""The pair file's own synonyms of its concept word, and the held-out prompts the self-check reads them on.

Why (issue 19): a shape whose every safe twin names one substitute ("a circle" -> "a square") was erased by the
search's first trial (the read-out on the prompt embeddings: "circle" itself sent to "square"), while "a ball" and "a
disc" were still drawn on 66-91% of videos: the self-check measured only the word the pairs use, so it had no reason to
try an edit that generalises (the key/value edit erases the circle's synonyms). The user's file already names them:
`keywords` lists the concept's words, and a keyword that no pair prompt holds is a synonym nothing was fitted on. So
the self-check also scores the held-out pairs with the concept word replaced by each such keyword (the same safe twin),
as a concept of its own, `"<concept> (synonyms)"`: the search then counts a setting as erasing only where the synonyms
go too, and the summary reports them apart.

Word-level and read from the file only: nothing here knows colours or shapes. A pair file whose pairs change more than
one word, or that lists no unused keyword, gets nothing, and its search is what it was before.
"""

from __future__ import annotations

from weditor.io.parts import _words, pair_change, part_twin

SUFFIX = " (synonyms)"  # the self-check's name for a concept's synonym prompts


def unseen_keywords(pairset) -> list[str]:
    """The file's keywords (lower case, in its order) that no pair prompt holds as whole words."""
    held = " ".join(f" {' '.join(_words(t))} " for p in pairset.pairs for t in (p.unsafe, p.safe))
    out = []
    for keyword in pairset.keywords:
        words = _words(keyword)
        if words and f" {' '.join(words)} " not in held:
            out.append(" ".join(words))
    return list(dict.fromkeys(out))


def removed_word(pairset) -> tuple[str] | None:
    """(the word most of the pairs remove or replace,), counted once per pair over each pair's changed runs (so "a
    red" -> "an orange" and "red" -> "green" both count "red"; a tie goes to the word the file's keywords or concept
    name hold); None where no pair is one change of a run of words, where no word is changed by most pairs, or where
    a tie stays a tie."""
    from collections import Counter

    votes: Counter = Counter()
    for change in map(pair_change, pairset.pairs):
        if change is not None:
            votes.update(dict.fromkeys(change[0], 1))
    if not votes:
        return None
    ranked = votes.most_common()
    n = ranked[0][1]
    tied = [w for w, c in ranked if c == n]
    if len(tied) > 1:  # "a red" -> "an orange" in every pair: the concept's word, not the article, is the one
        named = {w for k in (*pairset.keywords, pairset.concept) for w in _words(k.replace("-", " "))}
        tied = [w for w in tied if w in named]
    return (tied[0],) if len(tied) == 1 and n * 2 > len(pairset.pairs) else None


def _inflects(word: str, keyword: str) -> bool:
    """Whether `keyword` holds `word` or a word-form of it: the word with at most two letters added or taken at its end
    ("square" / "squares", "cross" / "crosses"). Spelling only, in no language's grammar: a real synonym that happens
    to share all but two final letters is lost, a broken prompt is not made."""
    for w in keyword.split():
        short, long_ = sorted((word, w), key=len)
        if w == word or (len(short) >= 3 and long_.startswith(short) and len(long_) - len(short) <= 2):
            return True
    return False


def synonym_pairs(pairset, held: tuple) -> tuple:
    """Held-out pairs `held` ((unsafe, safe, unsafe image, safe image), ...) with the word the pairs remove replaced by
    each unseen keyword in turn (every pair and every keyword at least once; the twin keeps its own words, or gets the same
    replacement where it holds the word too). Empty where the pairs do not change one word, where no keyword is
    unused, or for pairs with images (the image shows the concept whatever the prompt says)."""
    word = removed_word(pairset)
    # a keyword holding the word itself ("round circle") would still name the concept, and one holding an inflection of
    # it ("squares") makes a broken prompt ("a red squares moving left") that read ~0 for every method: neither is a
    # synonym of it
    synonyms = [k for k in unseen_keywords(pairset) if word is not None and not _inflects(word[0], k)]
    if word is None or not synonyms:
        return ()
    out = []
    usable = [h for h in held if h[2] is None and h[3] is None and part_twin(h[0], word, ()) is not None]
    for i in range(max(len(usable), len(synonyms)) if usable else 0):  # every pair once, every synonym once
        unsafe, safe, _, _ = usable[i % len(usable)]
        synonym = tuple(synonyms[i % len(synonyms)].split())
        twin = part_twin(safe, word, synonym) or safe
        out.append((part_twin(unsafe, word, synonym), twin, None, None))
    return tuple(out)
