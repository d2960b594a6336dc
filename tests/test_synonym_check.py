"""The self-check's synonym prompts (weditor/io/synonyms.py) and what the search does with them.

- they come from the user's own file: its held-out pairs with the word the pairs remove replaced by each keyword
  no pair holds; a file that lists none, or whose pairs change more than one word, gets none;
- a conjunction's file (parts elsewhere) is left as it was: its search is budgeted by the parts;
- a setting is "erased" only where the synonyms go too, and among settings that erase nothing a concept's synonyms
  are averaged with its own prompts (`Score.rank_erasure`), so an edit that erases the word but not its synonyms
  ranks above one that moves both a little.
"""

from pathlib import Path

from weditor.io.pairs import load_pairsets
from weditor.io.synonyms import SUFFIX, synonym_pairs, unseen_keywords
from weditor.pipeline.objective import Score, Split, with_synonyms
from weditor.pipeline.tuning import Trial, choose

ROOT = Path(__file__).resolve().parents[1]


def _pairset(name):
    (ps,) = load_pairsets([ROOT / "pairs" / f"shapes-{name}.toml"])
    return ps


def _held(ps, n=2):
    return tuple((p.unsafe, p.safe, None, None) for p in ps.pairs[:n])


def test_synonym_prompts_replace_the_removed_word_and_keep_the_twin():
    ps = _pairset("circle-square")
    assert unseen_keywords(ps) == ["ball", "disc"]
    got = synonym_pairs(ps, _held(ps))
    assert [u for u, *_ in got] == ["a red ball moving left", "a blue disc that moves upwards"]
    assert [s for _, s, *_ in got] == [p.safe for p in ps.pairs[:2]]  # the twin names a square: unchanged
    # one held-out pair and two keywords: every keyword is read once
    assert [u for u, *_ in synonym_pairs(ps, _held(ps, 1))] == ["a red ball moving left", "a red disc moving left"]


def test_a_deleting_file_keeps_its_twins_and_a_file_without_synonyms_gets_none():
    red = _pairset("red")
    got = synonym_pairs(red, _held(red))
    assert [u for u, *_ in got] == ["a crimson circle moving left", "a scarlet square moving up"]
    assert [s for _, s, *_ in got] == ["a circle moving left", "a square moving up"]
    yellow = _pairset("yellow")  # its keywords are all in its pairs
    assert unseen_keywords(yellow) == [] and synonym_pairs(yellow, _held(yellow)) == ()


def test_pairs_with_images_and_multi_word_changes_get_none():
    ps = _pairset("circle-square")
    assert synonym_pairs(ps, (("a red circle moving left", "a red square moving left", "img.png", None),)) == ()
    from dataclasses import replace

    from weditor.io.pairs import Pair

    several = replace(ps, pairs=(Pair("a red circle moving left", "a blue square moving right"),) * 5)
    assert synonym_pairs(several, _held(several)) == ()


def test_with_synonyms_adds_a_concept_of_their_own_but_not_for_a_conjunction():
    plain, conj = _pairset("circle-square"), _pairset("purple-circle")
    split = Split((), {plain.concept: _held(plain), conj.concept: _held(conj)}, ())
    out = with_synonyms(split, [plain, conj])
    assert set(out.held_pairs) == {plain.concept, plain.concept + SUFFIX, conj.concept}
    assert out.held_pairs[plain.concept] == split.held_pairs[plain.concept]


def _trial(own, syn, neutral):
    return Trial("x", {}, score=Score({"c": own, "c" + SUFFIX: syn}, neutral))


def test_erased_means_the_synonyms_too_and_the_rank_averages_them():
    word_only, both_a_little, both = _trial(0.9, 0.05, 0.01), _trial(0.3, 0.3, 0.01), _trial(0.85, 0.82, 0.02)
    assert word_only.score.min_erasure == 0.05 and abs(word_only.score.rank_erasure - 0.475) < 1e-12
    # nothing erases both within the budget: the word erased ranks above both moved a little
    assert choose([both_a_little, word_only], budget=0.03, erased=0.8) == 1
    # a setting that erases both is chosen over the one that erases the word alone
    assert choose([word_only, both_a_little, both], budget=0.03, erased=0.8) == 2
    # without synonyms the rank is the plain worst-concept erasure
    assert Score({"a": 0.4, "b": 0.7}, 0.0).rank_erasure == 0.4


def test_the_removed_word_is_voted_per_pair_whatever_replaces_it():
    from weditor.io.synonyms import removed_word

    # "a red circle" -> "an orange circle" changes two words, "the red cross" -> "the yellow cross" one: red is voted
    for name in ("red-orange", "red-substitutes", "red"):
        assert removed_word(_pairset(name)) == ("red",)
    assert removed_word(_pairset("cross")) == ("cross",)  # twins spread over ball, disc, circle and square


def test_a_tie_goes_to_the_concepts_word_and_a_keyword_holding_it_is_no_synonym():
    from dataclasses import replace

    from weditor.io.pairs import Pair
    from weditor.io.synonyms import removed_word

    ps = _pairset("red-orange")
    # every pair "a red X" -> "an orange X": "a" and "red" tie; the file's keywords name red
    same = replace(ps, pairs=(Pair("a red circle moving up", "an orange circle moving up"),) * 5)
    assert removed_word(same) == ("red",)
    # the article that only agrees with the next word is no part of the change (parts.pair_change): no tie at all
    assert removed_word(replace(same, keywords=(), concept="x")) == ("red",)
    held = replace(_pairset("circle-square"), keywords=("circle", "round circle", "ball"))
    assert [u for u, *_ in synonym_pairs(held, _held(held, 1))] == ["a red ball moving left"]


def test_files_with_images_get_no_synonym_prompts():
    from dataclasses import replace

    plain = _pairset("circle-square")
    pictured = replace(plain, pairs=tuple(replace(p, unsafe_image=ROOT / "x.png") for p in plain.pairs))
    split = Split((), {plain.concept: _held(plain)}, ())
    assert set(with_synonyms(split, [pictured]).held_pairs) == {plain.concept}


def test_a_recipe_scores_twice_as_many_entries_as_concepts():
    import pytest

    from weditor.io.recipe_schema import Bad, _per_concept, _self_check, text

    entry = {"erasure": 0.9, "neutral_change": 0.01, "warning": False}
    scored = {f"c{i}": entry for i in range(60)} | {f"c{i}{SUFFIX}": entry for i in range(60)}
    assert _self_check(scored) == scored
    with pytest.raises(Bad):  # a pair file's entry is keyed by its concept, never by a synonyms entry
        _per_concept(text(what="file name")).check({"c" + SUFFIX: "f.toml"})


def test_a_keyword_that_inflects_the_word_is_no_synonym():
    """ "squares" for "square" made "a red squares moving left", a broken prompt that read ~0 for every method and
    warned on every patch of the held-out square file; a word three letters apart or more stays a synonym."""
    from dataclasses import replace

    ps = replace(_pairset("circle-square"), keywords=("circle", "circles", "circled", "circ", "ball", "circlelike"))
    assert [u for u, *_ in synonym_pairs(ps, _held(ps, 1))] == [
        "a red ball moving left",
        "a red circlelike moving left",
    ]
    square = _pairset("square")
    assert "squares" in unseen_keywords(square) and synonym_pairs(square, _held(square)) == ()
