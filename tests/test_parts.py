"""A conjunction's parts elsewhere (weditor/io/parts.py) and the part move the search budgets them with.

- both kinds of part come from the user's own pair file (the removed words in another context, the context
  in other forms); a colour, shape or motion file has none, so its search is what it was;
- the part move (weditor/pipeline/objective.py) flags a drift of the parts to a neighbour colour that the
  part leak, a distance to the part twins, reads as kept.
"""

from pathlib import Path

import pytest

from weditor.io.pairs import load_pairsets
from weditor.io.parts import context_words, other_parts, parts

ROOT = Path(__file__).resolve().parents[1]


def _pairset(name):
    (ps,) = load_pairsets([ROOT / "pairs" / f"shapes-{name}.toml"])
    return ps


@pytest.fixture(scope="module")
def red_square_objective():
    """(pipe, adapter, split, objective): the objective fitted on red on squares' held-out split, seed 0 (the
    shipped shapes model; nothing is written)."""
    from weditor.models.loading import load_base
    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.load import open_pipeline
    from weditor.pipeline.objective import Objective, split_pairsets

    cfg = PatchConfig(pairs=[ROOT / "pairs" / "shapes-red-square.toml"], out=ROOT / "unused-never-written", seed=0)
    pairsets = load_pairsets(cfg.pairs)
    base, adapter = load_base(cfg.model, None)
    base, _, pipe, settings = open_pipeline(cfg, pairsets, base, adapter, offload=False)
    split = split_pairsets(pairsets, 0)
    return pipe, adapter, split, Objective().fit(pipe, adapter, split, settings)


def test_both_kinds_of_part_come_from_the_file():
    ps = _pairset("red-square")
    assert set(parts(ps)) == {p for p in ps.neutral if " red " in f" {p} "}
    others = other_parts(ps)
    assert others and all("square" in p and "red" not in p for p in others)
    # every neutral prompt that names a square without red, and nothing else
    assert others == [p for p in ps.neutral if "square" in p.split() and "red" not in p.split()]


def test_a_word_every_prompt_holds_is_not_the_context():
    """A file whose every prompt starts with "a": "a" is in every pair's unsafe prompt but also in red's other
    contexts ("a red circle"), so only "square" sets the concept apart; the other parts are the squares."""
    from dataclasses import replace

    ps = _pairset("red-square")
    ps = replace(
        ps,
        pairs=tuple(
            replace(p, unsafe="a " + p.unsafe.removeprefix("the "), safe="a " + p.safe.removeprefix("the "))
            for p in ps.pairs
        ),
        neutral=tuple("a " + p.removeprefix("the ").removeprefix("a ").removeprefix("an ") for p in ps.neutral),
    )
    assert context_words(ps) == {"square"}
    assert other_parts(ps) and all("square" in p.split() and "red" not in p.split() for p in other_parts(ps))


@pytest.mark.parametrize("name", ("red", "circle", "left", "blue", "up"))
def test_files_without_parts_have_no_other_parts(name):
    ps = _pairset(name)
    assert parts(ps) == {} and other_parts(ps) == []


def test_the_part_move_flags_a_drift_to_a_neighbour_that_the_leak_misses(red_square_objective):
    """Red on the other shapes drawn purple (their predictions replaced by the purple prompts', on the same
    latents; every other prompt as the original model predicts it) against drawn white (their part twins'
    colour): the leak, a distance to the white twins, reads purple as a twelfth of white (0.08 against 0.97 when
    written), about its budget; the part move, the drift towards a neighbour, reads both past the whole way (1.16 and
    2.0 when written: the prompt's purple and white neighbours lie nearer than where it went), far over its budget."""
    import torch

    from weditor.models.runtime import encode
    from weditor.pipeline import tuning

    pipe, adapter, split, objective = red_square_objective
    kept = objective.score_predictions(
        [torch.cat([u, o]) for u, o in zip(objective.unsafe_, objective.others_)]
    )  # the original predictions: nothing moved
    assert kept.parts["red-square"] == pytest.approx(0.0, abs=1e-9)
    assert kept.moves["red-square"] == pytest.approx(0.0, abs=1e-9)

    red_parts = split.held_parts["red-square"]
    rows = [objective.prompts_.index(p) for p in red_parts]

    def drift(colour, share=1.0):
        prompts = [p.replace("red ", f"{colour} ") if p in red_parts else p for p in objective.prompts_]
        cond = encode(pipe, adapter, prompts, objective.device_)
        after = []
        for k in range(len(objective.timesteps_)):
            orig = torch.cat([objective.unsafe_[k], objective.others_[k]])
            new = objective._forward(k, cond).double()
            orig[rows] = orig[rows] + share * (new[rows] - orig[rows])
            after.append(orig)
        return objective.score_predictions(after)

    purple, white = drift("purple"), drift("white")
    assert white.parts["red-square"] > 0.9 and purple.parts["red-square"] < 0.15 * white.parts["red-square"]
    assert purple.moves["red-square"] > 2 * tuning.PART_MOVE_BUDGET  # towards a neighbour: purple, white, a twin
    assert white.moves["red-square"] > 2 * tuning.PART_MOVE_BUDGET


def test_neighbours_refill_one_slot_and_never_name_the_concept():
    """A part prompt's neighbours are the prompts it could drift to: itself with one slot refilled by the file's own
    words (another shape beside purple, another colour before circle), then its part twin; never the concept."""
    from weditor.io.parts import neighbours

    ps = _pairset("purple-circle")
    found = neighbours(ps, ["a purple square moving left", "a blue circle moving up", "a circle moving left"])
    square = found["a purple square moving left"]
    assert "a purple triangle moving left" in square and "a red square moving left" in square
    assert square[-1] == "a square moving left"  # the part twin, last
    circle = found["a blue circle moving up"]
    assert "a red circle moving up" in circle and "a blue square moving up" in circle
    assert found["a circle moving left"] == ()  # no slot word to refill but the context: nothing to drift to
    for prompt, near in found.items():
        assert all(not ({"purple", "circle"} <= set(q.split())) for q in near) and prompt not in near
    for name in ("red", "circle", "left"):
        assert neighbours(_pairset(name), ["a red circle moving left"]) == {}


def test_the_part_move_reads_a_drift_towards_a_neighbour_not_any_move(red_square_objective):
    """The part move is a part prompt's drift towards its nearest neighbour (its prediction moved onto the
    neighbour's reads 1), not any move: a move as large, at right angles to every neighbour's offset, reads 0
    (the green triangles of red on triangles moved 0.44-0.66 of the concept's gap in every trial and were kept on
    every video: docs/benchmarks.md, "The parts measure against the videos")."""
    import torch

    pipe, adapter, split, objective = red_square_objective
    row = next(r for r in objective.move_rows_["red-square"] if objective.move_dirs_["red-square"][r])
    offsets = objective.move_dirs_["red-square"][row]
    onto, _ = offsets[0]
    flat = [torch.cat([v.double().flatten() for v in offset]) for offset, _ in offsets]
    gen = torch.Generator().manual_seed(0)
    side = torch.randn(flat[0].shape, generator=gen, dtype=torch.float64)
    basis = []
    for v in flat:  # Gram-Schmidt: `side` at right angles to every neighbour's offset
        for b in basis:
            v = v - (v @ b) * b
        basis.append(v / v.norm())
    for b in basis:
        side = side - (side @ b) * b
    side = side * (flat[0].norm() / side.norm())
    n = objective.n_unsafe_

    def moved(delta):
        after, at = [], 0
        for k, (u, o) in enumerate(zip(objective.unsafe_, objective.others_)):
            o = o.clone()
            size = o[row].numel()
            o[row] = o[row] + delta[at : at + size].view_as(o[row])
            at += size
            after.append(torch.cat([u, o]))
        return objective.score_predictions(after)

    assert n and moved(flat[0]).moves["red-square"] == pytest.approx(1.0, abs=1e-4)
    assert moved(side).moves["red-square"] == pytest.approx(0.0, abs=1e-6)
    assert moved(-flat[0]).moves["red-square"] == pytest.approx(0.0, abs=1e-9) or len(flat) > 1


# --------------------------------------------------------------------------- part prompts the file does not hold


def test_siblings_come_from_the_files_own_words():
    """What stands where the context stands beside the removed words, and where the removed words stand beside
    the context, in the file's own neutral prompts (nothing here knows colours or shapes)."""
    from weditor.io.parts import siblings

    found = siblings(_pairset("purple-circle"))
    assert found["circle"] == [("square",), ("triangle",), ("cross",)]
    assert {s for (s,) in found[""]} == {"blue", "red", "green", "cyan", "orange", "yellow", "white"}
    assert found[""][:2] == [("blue",), ("red",)]  # first appearance in the file
    # no word a pair prompt holds ("a", "the", the concept's own words, the motions)
    words = {w for p in _pairset("purple-circle").pairs for t in (p.unsafe, p.safe) for w in t.split()}
    assert not {s for v in found.values() for (s,) in v} & words


def test_synthesized_part_prompts_are_new_combinations_of_the_files_words():
    from weditor.io.parts import synthesized, templates

    ps = _pairset("purple-circle")
    made = synthesized(ps)
    assert "a purple square that moves upwards" in made and "a red circle that moves upwards" in made
    known = {p for pair in ps.pairs for p in (pair.unsafe, pair.safe)} | set(ps.neutral)
    assert not set(made) & known
    assert not any("purple" in p.split() and "circle" in p.split() for p in made)  # never the concept
    assert len(made) == len(set(made))
    assert synthesized(ps) == made and synthesized(ps, templates(ps)) == synthesized(ps, templates(ps))
    wider = synthesized(ps, templates(ps))  # part prompts as templates too: their wording, refilled
    assert set(made) < set(wider) and "the purple triangle moves downwards" in wider
    # a sibling after a word it never follows in the file is left out ("an" is only ever before "orange")
    assert not any(p.startswith("an ") and not p.startswith("an orange") for p in wider)
    # ... or, before a slot, takes the word the file puts before it there: "an orange", never "a orange"
    made = synthesized(_pairset("yellow-cross"), templates(_pairset("yellow-cross")))
    assert "an orange cross moving left" in made and not any(p.startswith("a orange") for p in made)


def test_the_synthesis_only_refills_the_slots():
    """One template, one slot at a time: the rest of the prompt is the template's (the word before the slot may
    become the one the file puts before that sibling: "the blue" is never in the file, "a blue" is)."""
    from weditor.io.parts import synthesized

    ps = _pairset("red-square")
    made = synthesized(ps, ["the red square moves downwards"])
    assert made and all(p.split()[0] in {"a", "an", "the"} and p.endswith(" moves downwards") for p in made)
    assert "the red circle moves downwards" in made and "a blue square moves downwards" in made
    assert all(len(p.split()) == 5 for p in made)
    assert all(("red" in p.split()) != ("square" in p.split()) for p in made)


@pytest.mark.parametrize("name", ("red", "circle", "left", "blue", "up", "green", "triangle"))
def test_files_without_parts_get_no_synthesized_prompts(name):
    from weditor.io.parts import siblings, synthesized, templates

    ps = _pairset(name)
    assert siblings(ps) == {} and synthesized(ps) == [] and synthesized(ps, templates(ps)) == []


def test_the_split_measures_synthesized_prompts_and_fits_others():
    """The part move reads part prompts synthesized from the held-out prompts' wording (never in the file, never
    fitted); the block's trials keep those of the training split, and the two sets are apart."""
    from weditor.pipeline.objective import split_pairsets

    for name in ("purple-circle", "red-square", "yellow-cross"):
        ps = _pairset(name)
        split = split_pairsets([ps], 0)
        measured, fitted = split.held_synth[ps.concept], split.train_synth[ps.concept]
        assert measured and fitted and not set(measured) & set(fitted)
        assert set(measured) <= set(split.held_moves[ps.concept])
        file_prompts = {p for pair in ps.pairs for p in (pair.unsafe, pair.safe)} | set(ps.neutral)
        assert not set(measured) & file_prompts
        assert not set(fitted) & set(split.held_neutral)
        assert split_pairsets([ps], 0) == split  # deterministic
    for name in ("red", "circle", "left"):
        split = split_pairsets([_pairset(name)], 0)
        assert not split.held_synth and not split.train_synth and not split.held_moves


def test_the_part_move_reads_the_synthesized_held_out_prompts():
    """A drift of the synthesized prompts alone (the file's own part prompts as the original model predicts them)
    is what the part move reports: it is measured on part prompts the file does not hold."""
    import torch

    from weditor.models.loading import load_base
    from weditor.models.runtime import encode
    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.load import open_pipeline
    from weditor.pipeline.objective import Objective, split_pairsets

    path = ROOT / "pairs" / "shapes-purple-circle.toml"
    cfg = PatchConfig(pairs=[path], out=ROOT / "unused-never-written", seed=0)
    pairsets = load_pairsets(cfg.pairs)
    base, adapter = load_base(cfg.model, None)
    base, _, pipe, settings = open_pipeline(cfg, pairsets, base, adapter, offload=False)
    split = split_pairsets(pairsets, 0)
    synth = split.held_synth["purple-circle"]
    objective = Objective().fit(pipe, adapter, split, settings)
    assert set(synth) <= set(objective.prompts_)
    rows = [objective.prompts_.index(p) for p in synth]
    # each synthesized prompt's predictions replaced by those of the same prompt with its colour word dropped
    prompts = [
        " ".join(
            w for w in p.split() if w not in {"purple", "blue", "red", "green", "cyan", "orange", "yellow", "white"}
        )
        if i in rows
        else p
        for i, p in enumerate(objective.prompts_)
    ]
    cond = encode(pipe, adapter, prompts, settings.device)
    after = []
    for k in range(len(objective.timesteps_)):
        orig = torch.cat([objective.unsafe_[k], objective.others_[k]])
        new = objective._forward(k, cond).double()
        orig[rows] = new[rows]
        after.append(orig)
    moved = objective.score_predictions(after)
    kept = objective.score_predictions([torch.cat([u, o]) for u, o in zip(objective.unsafe_, objective.others_)])
    assert kept.moves["purple-circle"] == pytest.approx(0.0, abs=1e-9)
    assert moved.parts["purple-circle"] == pytest.approx(0.0, abs=1e-9)  # the file's own part prompts: unmoved
    assert moved.moves["purple-circle"] > 0.5  # ... the synthesized ones lost their colour, and the move sees it


def test_the_block_keeps_the_synthesized_part_prompts():
    """The block fit's kept prompts gain the synthesized part prompts (those given, for a trial; else the file's
    own); a file without parts is returned as it is."""
    from weditor.methods.encoder_synonyms import part_prompts, record_entry

    ps = _pairset("purple-circle")
    (done,), counts = part_prompts([ps], [ps])
    assert done.neutral[: len(ps.neutral)] == ps.neutral and counts == {"purple-circle": len(done.neutral) - 16}
    assert "a purple square that moves upwards" in done.neutral
    added = done.neutral[len(ps.neutral) :]
    neither = [p for p in added if "purple" not in p.split() and "circle" not in p.split()]
    assert neither and len(neither) <= len(added) - len(neither)  # the rest of the world too, at most as many
    (given,), counts = part_prompts([ps], [ps], {"purple-circle": ("a purple cross moving up",)})
    assert given.neutral == (*ps.neutral, "a purple cross moving up") and counts == {"purple-circle": 1}
    red = _pairset("red")
    (same,), counts = part_prompts([red], [red])
    assert same is red and counts == {} and record_entry({}, counts) == {}


def test_the_fit_prompts_are_both_kinds_and_never_the_concept():
    from weditor.io.parts import fit_prompts, synthesized, templates

    ps = _pairset("purple-circle")
    made = fit_prompts(ps)
    parts_made = synthesized(ps, templates(ps))
    others = synthesized(ps, templates(ps), others=True)
    assert made[: len(parts_made)] == parts_made and set(made[len(parts_made) :]) <= set(others)
    assert others and all("purple" not in p.split() and "circle" not in p.split() for p in others)
    assert fit_prompts(ps) == made and len(made) == len(set(made))
    for name in ("red", "circle", "left"):
        assert fit_prompts(_pairset(name)) == []


def test_a_recipe_accepts_the_synthesized_prompts_record():
    """`weditor.json` records the synthesized prompts the part move read; `--recipe` must accept that record (a
    searched conjunction's recipe was refused for an unknown key before the schema knew it)."""
    from weditor.io.recipe_schema import _tuning

    record = {
        "objective": {
            "held_out": 0.25,
            "synthesized_part_prompts": {"purple-circle": ["a purple square going down"]},
            "synthesized_part_prompts_fitted": {"purple-circle": 106},
        },
        "trials": [{"method": "units", "params": {"units": 4, "units_preserve": 100.0}}],
        "chosen": 0,
    }
    _tuning(record)


def test_the_neighbours_are_capped_per_prompt_and_in_all(monkeypatch):
    """Each neighbour costs a denoiser run per objective step: a file with many colours and shapes grows them as
    templates x siblings (20 x 20: ~4,200), so they are capped (in the pool's order, the part twin kept); the
    shipped files are under both caps (at most 11 per prompt, 419 in all)."""
    from weditor.io import parts as parts_mod

    ps = _pairset("purple-circle")
    prompts = ["a purple square moving left", "a blue circle moving up", "a purple triangle going down"]
    full = parts_mod.neighbours(ps, prompts)
    monkeypatch.setattr(parts_mod, "MAX_NEIGHBOURS_PER_PROMPT", 2)
    two = parts_mod.neighbours(ps, prompts)
    for p in prompts:
        assert len(full[p]) > 3 and two[p][:2] == full[p][:2] and len(two[p]) <= 3  # the first two (+ a part twin)
    monkeypatch.setattr(parts_mod, "MAX_NEIGHBOURS", 3)
    capped = parts_mod.neighbours(ps, prompts)
    assert sum(len(v) for v in capped.values()) <= 3 + len(prompts)  # each prompt's part twin beside the cap


def test_a_broken_edit_reads_an_infinite_part_move_and_never_wins_the_last_resort():
    """A NaN prediction made `max(best, nan)` read 0 and a NaN erasure counted as erasing: the broken trial was
    chosen when nothing was within the budgets."""
    import math

    import torch

    from weditor.pipeline.objective import Objective, Score
    from weditor.pipeline.tuning import Trial, choose

    objective = Objective()
    objective.others_ = [torch.zeros(2, 3)]
    objective.move_rows_ = {"c": [0, 1]}
    objective.move_dirs_ = {"c": {0: [([torch.ones(3)], 3.0)], 1: []}}
    nan = [torch.tensor([[float("nan")] * 3, [0.0] * 3])]
    assert objective.part_moves(nan, "c") == [math.inf, 0.0]
    assert objective.blind_share("c") == (1, 0.5)  # row 1 has no neighbour: the move cannot see it

    def trial(erasure, move):
        return Trial("units", {}, Score({"c": erasure}, 0.01, {"c": 0.2}, {"c": move}))

    assert choose([trial(0.9, 0.5), trial(float("nan"), 0.0)], erased=0.5) == 0
    # and the search records such a trial as an error (`Tuner._trial`): no rung sees it, no Infinity in weditor.json
    assert not trial(float("nan"), 0.0).score.finite and not trial(0.9, math.inf).score.finite
    assert trial(0.9, 0.5).score.finite


def test_a_parts_check_that_cannot_see_most_part_prompts_says_so():
    """Where more than a quarter of the part prompts have no neighbour (pairs that change an article with the word,
    "an orange" -> "a", found no colour siblings), the self-check records and the summary prints it."""
    from weditor.pipeline import tuning
    from weditor.pipeline.objective import Score
    from weditor.pipeline.summary import Summary

    score = Score({"c": 0.9}, 0.01, {"c": 0.01}, {"c": 0.03})
    check = tuning.self_check(score, blind={"c": (5, 5 / 12)})
    assert check["c"]["parts_blind"] == round(5 / 12, 4) and not check["c"]["parts_warning"]
    assert "parts_blind" not in tuning.self_check(score, blind={"c": (1, 1 / 30)})["c"]
    assert "parts_blind" not in tuning.self_check(score, blind={"c": (1, 1 / 3)})["c"]  # one colourless prompt
    from weditor.io.recipe_schema import TOP

    TOP["self_check"].check(check)  # the recipe's schema accepts it (a `--recipe` of this patch reads it back)
    lines = Summary({"self_check": check}).tuning_lines()
    assert any(line.startswith("  warning: concept 'c': 42% of its part prompts have no neighbour") for line in lines)


def test_an_article_that_only_agrees_is_no_part_of_the_change_and_twins_agree_where_the_file_shows_it():
    """ "an orange circle" -> "a circle" removes "orange" (read as "an orange", the run was in no prompt of another
    colour: no colour siblings, a parts check blind to 5 of 12 prompts); part twins then agree ("an orange square" ->
    "a square"), but only in a file whose own pairs swap "a" and "an": "a" is a word of other languages too."""
    from weditor.io.pairs import Pair
    from weditor.io.parts import changed_run, pair_change, part_twin, swaps_articles

    assert pair_change(Pair("an orange circle moving left", "a circle moving left")) == (("orange",), ())
    assert pair_change(Pair("a red circle moving left", "an orange circle moving left")) == (("red",), ("orange",))
    assert pair_change(Pair("a circle moving left", "an circle moving left")) == (("a",), ("an",))
    ps = _pairset("orange-triangle")
    assert changed_run(ps) == (("orange",), ()) and swaps_articles(ps) and not swaps_articles(_pairset("red-square"))
    assert parts(ps)["an orange circle moving left"] == "a circle moving left"
    assert part_twin("a bola vermelha rolando", ("bola",), ("estrela",)) == "a estrela vermelha rolando"
    assert part_twin("an orange (bright) square", ("orange",), (), articles=True) == "a (bright) square"
    assert part_twin("an orange, bright square", ("orange",), (), articles=True) == "a, bright square"
