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


def test_the_part_move_flags_a_drift_to_a_neighbour_that_the_leak_misses():
    """Red on the other shapes drawn purple (their predictions replaced by the purple prompts', on the same
    latents; every other prompt as the original model predicts it) against drawn white (their part twins'
    colour): the leak, a distance to the white twins, reads purple as a twelfth of white (0.08 against 0.97 when
    written), about its budget; the part move reads both as the whole way (0.93, 0.97), far over its budget."""
    import torch

    from weditor.models.loading import load_base
    from weditor.models.runtime import encode
    from weditor.pipeline import tuning
    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.load import open_pipeline
    from weditor.pipeline.objective import Objective, split_pairsets

    path = ROOT / "pairs" / "shapes-red-square.toml"
    cfg = PatchConfig(pairs=[path], out=ROOT / "unused-never-written", seed=0)
    pairsets = load_pairsets(cfg.pairs)
    base, adapter = load_base(cfg.model, None)
    base, _, pipe, settings = open_pipeline(cfg, pairsets, base, adapter, offload=False)
    split = split_pairsets(pairsets, 0)
    objective = Objective().fit(pipe, adapter, split, settings)
    kept = objective.score_predictions(
        [torch.cat([u, o]) for u, o in zip(objective.unsafe_, objective.others_)]
    )  # the original predictions: nothing moved
    assert kept.parts["red-square"] == pytest.approx(0.0, abs=1e-9)
    assert kept.moves["red-square"] == pytest.approx(0.0, abs=1e-9)

    red_parts = split.held_parts["red-square"]
    rows = [objective.prompts_.index(p) for p in red_parts]

    def drift(colour, share=1.0):
        prompts = [p.replace("red ", f"{colour} ") if p in red_parts else p for p in objective.prompts_]
        cond = encode(pipe, adapter, prompts, settings.device)
        after = []
        for k in range(len(objective.timesteps_)):
            orig = torch.cat([objective.unsafe_[k], objective.others_[k]])
            new = objective._forward(k, cond).double()
            orig[rows] = orig[rows] + share * (new[rows] - orig[rows])
            after.append(orig)
        return objective.score_predictions(after)

    purple, white = drift("purple"), drift("white")
    assert white.parts["red-square"] > 0.9 and purple.parts["red-square"] < 0.15 * white.parts["red-square"]
    assert purple.moves["red-square"] > 0.8 * white.moves["red-square"]
    assert purple.moves["red-square"] > 5 * tuning.PART_MOVE_BUDGET
