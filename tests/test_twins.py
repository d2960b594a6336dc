"""Deletion twins for twins that substitute many different words (weditor/io/twins.py, weditor/pipeline/tuning_twins.py).

- read from the user's own file: which word the pairs change, what they put in its place, and whether any of those
  substitutes holds a majority of the pairs (`spread`);
- the deletion twin is the unsafe prompt with that word dropped; a file written that way already is unchanged;
- the search goes on with them only where its first pass erased nothing and the file is spread, takes them only where
  they do better, records it ("twins": "deleted"), and `--recipe` reproduces the patch without a trial.
"""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import run_cli
from weditor.errors import WeditorError
from weditor.io.pairs import load_pairsets
from weditor.io.recipe import hash_files
from weditor.io.twins import deletion_twins, dropped, spread, substitutes, with_twins
from weditor.pipeline.objective import Score, split_pairsets
from weditor.pipeline.tuning import Trial
from weditor.pipeline.tuning_twins import barely_reached_concepts, better, spread_files

ROOT = Path(__file__).resolve().parents[1]
SPREAD = ROOT / "pairs" / "shapes-red-substitutes.toml"


def _pairset(name):
    (ps,) = load_pairsets([ROOT / "pairs" / f"shapes-{name}.toml"])
    return ps


def test_substitutes_are_counted_once_per_pair_with_deletion_as_one():
    votes = substitutes(_pairset("red-substitutes"))  # orange ("a red" -> "an orange"), green, ..., and one deletion
    assert votes["orange"] == votes["green"] == votes[""] == 1 and sum(votes.values()) == 8
    assert "an" not in votes  # the word in red's place, not the article that agrees with it
    assert substitutes(_pairset("red-orange"))["orange"] == 8
    assert dict(substitutes(_pairset("red"))) == {"": 8}
    assert substitutes(_pairset("circle")) == {"square": 3, "triangle": 3, "cross": 3}


@pytest.mark.parametrize(
    "name, expected",
    [("red-substitutes", True), ("circle", True), ("left", True), ("red", False), ("red-orange", False)]
    + [("circle-square", False)],
)
def test_spread_means_no_substitute_holds_a_majority(name, expected):
    assert spread(_pairset(name)) is expected


def test_deletion_twins_drop_the_changed_word_from_the_unsafe_prompt():
    spread_red, red = _pairset("red-substitutes"), _pairset("red")
    got = deletion_twins(spread_red)
    # the same unsafe prompts as the file written as the docs say: the same twins, whatever each pair substituted
    assert [p.unsafe for p in got.pairs] == [p.unsafe for p in red.pairs]
    assert [p.safe for p in got.pairs] == [p.safe for p in red.pairs]
    assert (got.path, got.sha256, got.raw, got.neutral, got.keywords) == (
        spread_red.path,
        spread_red.sha256,
        spread_red.raw,
        spread_red.neutral,
        spread_red.keywords,
    )
    assert deletion_twins(red) == red  # already written that way
    assert deletion_twins(_pairset("circle")).pairs[0].safe == "a red moving left"  # grammar-free, by design
    assert with_twins([red], "pair") == [red]
    with pytest.raises(ValueError):
        with_twins([red], "common")


def test_the_article_before_the_dropped_word_agrees_with_the_next_one():
    assert dropped("an orange circle moving left", ("orange",)) == "a circle moving left"  # not "an circle"
    assert dropped("An orange square going up", ("orange",)) == "A square going up"
    assert dropped("a red apple", ("red",)) == "an apple"
    assert dropped("the red cross moves downwards", ("red",)) == "the cross moves downwards"
    assert dropped("a big red circle", ("red",)) == "a big circle"
    assert dropped("a circle moving left", ("red",)) is None


def test_a_file_with_images_is_never_spread_nor_rewritten():
    from weditor.io.pairs import Pair

    ps = _pairset("red-substitutes")
    imaged = replace(ps, pairs=tuple(replace(p, unsafe_image=Path("u.png")) for p in ps.pairs))
    assert not spread(imaged)
    assert deletion_twins(imaged).pairs == imaged.pairs
    assert not spread(replace(ps, pairs=(Pair("a red circle moving left", "a blue square moving right"),) * 5))


def test_spread_files_reads_the_training_split_and_refuses_to_rewrite_other_files():
    spread_red, orange, red = _pairset("red-substitutes"), _pairset("red-orange"), _pairset("red")
    found = spread_files(split_pairsets([spread_red], 0), [spread_red])
    assert set(found) == {"red"} and max(found["red"].values()) == 1
    assert spread_files(split_pairsets([red], 0), [red]) == {}
    blue = replace(orange, concept="blue")  # a second file that deletion twins would rewrite: one choice for both
    assert spread_files(split_pairsets([spread_red, blue], 0), [spread_red, blue]) == {}
    kept = replace(red, concept="green")  # a second file they leave as it is
    assert set(spread_files(split_pairsets([spread_red, kept], 0), [spread_red, kept])) == {"red"}


def test_the_deletion_pass_wins_only_where_it_does_better():
    def t(erasure, change):
        return Trial("text", {}, Score({"c": erasure}, change))

    assert better(t(0.65, 0.027), t(0.17, 0.029), budget=0.03, erased=0.8)  # the spread red file
    assert not better(t(0.15, 0.02), t(0.17, 0.029), budget=0.03, erased=0.8)
    assert better(t(0.25, 0.02), t(0.9, 0.05), budget=0.03, erased=0.8)  # within the budget beats over it
    # both below the warning line (0.2): the pairs as written stay (held-out yellow: 0.15 against 0.13 drew yellow on
    # 98% of videos where the first pass's choice drew it on 81%)
    assert not better(t(0.1495, 0.0296), t(0.128, 0.0269), budget=0.03, erased=0.8)
    assert not better(t(0.1, 0.02), t(0.9, 0.05), budget=0.03, erased=0.8)
    assert not better(t(0.9, 0.05), t(0.1, 0.02), budget=0.03, erased=0.8)
    assert not better(t(0.9, 0.05), t(0.1, 0.06), budget=0.03, erased=0.8)  # neither: the first pass's stays
    assert better(t(0.81, 0.029), t(0.79, 0.01), budget=0.03, erased=0.8)  # erased beats short of it


def test_deletion_twins_are_tried_only_below_the_warning_line():
    from types import SimpleNamespace

    from weditor.pipeline.budgets import WARN_BELOW

    def tuner(*erasures):
        trials = [Trial("text", {}, Score({"c": e, "c (synonyms)": e}, 0.01)) for e in erasures]
        return SimpleNamespace(trials_=trials, chosen_=len(trials) - 1)

    assert barely_reached_concepts(tuner(0.17)) == {"c"}  # the spread red file's first pass
    assert not barely_reached_concepts(tuner(0.70))  # left's (twins spread over three directions): erased on video
    assert not barely_reached_concepts(tuner(WARN_BELOW))
    nothing = SimpleNamespace(trials_=[], chosen_=None, split_=SimpleNamespace(held_pairs={"c": ()}))
    assert barely_reached_concepts(nothing) == {"c"}


def test_a_vowel_substitute_is_no_majority_of_articles():
    """ "a red circle" -> "an orange circle" counted "an" in every such pair: a file whose colours mostly begin with a
    vowel (orange, amber, indigo, ...) read as one substitute ("an") holding the majority, never spread."""
    from weditor.io.pairs import Pair

    colours = ["orange", "amber", "indigo", "ochre", "emerald", "umber", "green", "blue"]
    pairs = tuple(
        Pair(f"a red circle moving {m}", f"{'an' if c[0] in 'aeiou' else 'a'} {c} circle moving {m}")
        for c, m in zip(colours, ["left", "right", "up", "down"] * 2)
    )
    ps = replace(_pairset("red-substitutes"), pairs=pairs)
    assert max(substitutes(ps).values()) == 1 and spread(ps)


def test_one_unsafe_prompt_with_many_substitutes_is_one_deletion_pair():
    """Eight pairs over two unsafe prompts become two deletion pairs, not eight copies the split would put on both
    sides (held out and fitted)."""
    from weditor.io.pairs import Pair

    pairs = tuple(
        Pair(u, f"a {c} circle moving {d}")
        for u, d in (("a red circle moving left", "left"), ("a red circle moving up", "up"))
        for c in ("green", "blue", "white", "cyan")
    )
    got = deletion_twins(replace(_pairset("red-substitutes"), pairs=pairs)).pairs
    assert [(p.unsafe, p.safe) for p in got] == [
        ("a red circle moving left", "a circle moving left"),
        ("a red circle moving up", "a circle moving up"),
    ]


def test_a_dropped_word_before_punctuation_leaves_no_space():
    assert dropped("a red, shiny circle", ("red",)) == "a, shiny circle"
    assert dropped("red circle moving left", ("red",)) == "circle moving left"


def test_a_patch_of_several_files_rewrites_only_what_the_first_pass_barely_reached():
    """Deletion twins hold for every file of a patch: a spread file the first pass reached (circle: a shape, whose
    dropped word draws a circle) keeps the whole patch on the pairs as written."""
    spread_red, circle = _pairset("red-substitutes"), _pairset("circle")
    split = split_pairsets([spread_red, circle], 0)
    assert spread_files(split, [spread_red, circle], {"red"}) == {}
    assert set(spread_files(split, [spread_red, circle], {"red", "circle"})) == {"red", "circle"}
    alone = split_pairsets([spread_red], 0)
    assert set(spread_files(alone, [spread_red], {"red"})) == {"red"}
    assert spread_files(alone, [spread_red], {"circle"}) == {}


def test_no_trial_scored_in_either_pass_is_left_to_the_one_line_error():
    """Both passes without a choice: the first pass's state stays (the search then says "no setting could be
    fitted"), not a TypeError from adding None."""
    from types import SimpleNamespace

    from weditor.pipeline.tuning_twins import deletion_pass

    class Tuner(SimpleNamespace):
        def _search(self, *args):
            self.trials_, self.chosen_ = [Trial("text", {"twins": "deleted"}, error="no")], None

    tuner = Tuner(split_="s", erased_=0.8, objective_="o", trials_=[Trial("text", {}, error="no")], chosen_=None)
    tuner.budget = 0.03
    deletion_pass(tuner, None, None, None, [], None, None)
    assert tuner.chosen_ is None and len(tuner.trials_) == 2 and tuner.split_ == "s"


def test_twins_is_checked_and_recorded_in_the_schema():
    from weditor.io.recipe_schema import PARAMS
    from weditor.pipeline.config import PatchConfig

    with pytest.raises(WeditorError, match="twins"):
        PatchConfig(pairs=[str(SPREAD)], out="x", twins="common").check()
    assert PARAMS["twins"].check("deleted") == "deleted"


@pytest.fixture(scope="module")
def spread_patch(tmp_path_factory):
    out = tmp_path_factory.mktemp("spread") / "red"
    result = run_cli(["patch", "--pairs", SPREAD, "--out", out, "--no-summary"])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_the_search_goes_on_with_deletion_twins_on_a_spread_file(spread_patch):
    out, output = spread_patch
    recipe = json.loads((out / "weditor.json").read_text())
    tuning = recipe["tuning"]
    first = [t for t in tuning["trials"] if "twins" not in t["params"]]
    second = [t for t in tuning["trials"] if t["params"].get("twins") == "deleted"]
    assert first and second and tuning["trials"] == first + second  # both passes recorded, the pairs' own first
    chosen = tuning["trials"][tuning["chosen"]]
    assert chosen["params"]["twins"] == "deleted" and recipe["params"]["twins"] == "deleted"
    assert set(tuning["objective"]["spread_substitutes"]) == {"red"}
    best_first = max(t["erasure"]["red"] for t in first if t["neutral_change"] <= 0.03)
    assert chosen["erasure"]["red"] > best_first + 0.3 and chosen["neutral_change"] <= 0.03
    assert recipe["self_check"]["red"]["erasure"] == chosen["erasure"]["red"]
    assert "--twins deleted" in output


def test_the_recipe_reproduces_a_deletion_twins_patch_without_a_trial(spread_patch, tmp_path, monkeypatch):
    from weditor.pipeline import tuning

    out, _ = spread_patch
    monkeypatch.setattr(tuning, "TRIALS_RUN", 0)
    again = tmp_path / "again" / out.name
    result = run_cli(["patch", "--recipe", out / "weditor.json", "--out", again, "--no-summary"])
    assert result.exit_code == 0, result.output
    assert tuning.TRIALS_RUN == 0
    assert hash_files(again) == hash_files(out)


def test_twins_given_keeps_the_pairs_own_and_searches_once(tmp_path):
    out = tmp_path / "pair"
    result = run_cli(["patch", "--pairs", SPREAD, "--out", out, "--no-summary", "--twins", "pair"])
    assert result.exit_code == 0, result.output
    recipe = json.loads((out / "weditor.json").read_text())
    assert "twins" not in recipe["params"] and "spread_substitutes" not in recipe["tuning"]["objective"]
    assert not [t for t in recipe["tuning"]["trials"] if "twins" in t["params"]]


def test_a_spread_file_the_first_pass_reaches_is_searched_once(tmp_path):
    """Left's twins spread over three directions, and UCE reaches 0.70 of the way: no deletion twins ("a red circle
    moving"), the patch is what it was."""
    out = tmp_path / "left"
    result = run_cli(["patch", "--pairs", ROOT / "pairs" / "shapes-left.toml", "--out", out, "--no-summary"])
    assert result.exit_code == 0, result.output
    recipe = json.loads((out / "weditor.json").read_text())
    assert "twins" not in recipe["params"] and "spread_substitutes" not in recipe["tuning"]["objective"]
    assert recipe["method"] == "uce" and not [t for t in recipe["tuning"]["trials"] if "twins" in t["params"]]


def test_twins_deleted_that_would_change_nothing_is_refused_before_any_weights(tmp_path):
    """`--twins deleted` on a file whose pairs change no one word (nudity: whole captions) would be recorded in
    weditor.json and the card while every method fitted the pairs as written."""
    out = tmp_path / "o"
    result = run_cli(["patch", "--pairs", ROOT / "pairs" / "nudity.toml", "--twins", "deleted", "--out", out])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0 and lines[-1].startswith("Error: --twins deleted: no pair of"), result.output
    assert "Traceback" not in result.output and not out.exists()
    with pytest.raises(WeditorError, match="--twins deleted"):
        with_twins([_pairset("red")], "deleted")  # every twin already drops the word
