"""Self-tuning (`weditor patch`'s default) and the self-check, on the shipped shapes model.

- `--no-tune` writes 0.4's patch, byte for byte (SHA-256 pinned from 0.4.0's output);
- the search is deterministic (a second process gives the same trials and files), records every
  trial, and `--recipe` reproduces the patch file for file without scoring a single trial;
- the self-check warns on a concept the edit does not reach, and not on red.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli
from weditor.io.recipe import hash_files
from weditor.pipeline.tuning import WARN_BELOW

ROOT = Path(__file__).resolve().parents[1]
RED = ROOT / "pairs" / "shapes-red.toml"

# `weditor patch --pairs pairs/shapes-red.toml` with weditor 0.4.0 (commit 4fdfd62): every file but the recipe and
# the card, which now carry the self-check.
RED_0_4 = {
    "model_index.json": "c65e3e76b9e22a389f710861053277384cc379a46de1488bbb69739660872f07",
    "scheduler/scheduler_config.json": "2e579a73ae8dc38a5b75e6ebb5d639e962fe527e1804f64f248dbdfba8212a00",
    "text_encoder/config.json": "c04ca3dedf6331e1df4c0a37546f77fa49534db63b1883c6bd2f6413e4a2fdaa",
    "text_encoder/model.safetensors": "814e1a5500be53f0be762cddda65ab3607db951c075ae3ffc33b2c1696f92cc3",
    "tokenizer/tokenizer.json": "83cf17bd30c6cd0a8546f6170a1fbebd6bf184afd2cdabd6680b99b5126b83d4",
    "tokenizer/tokenizer_config.json": "e740cefeb50240e7df11c7ed4121f277ab369414b96b3204ca15c113cddad78d",
    "transformer/config.json": "0819f0384284e19db5d87fc01da18138316d267ee314b020ca1373bb445164ca",
    "transformer/diffusion_pytorch_model.safetensors": "c8c8b1fd8ab030734514b750bb17b6f387fc77009f599ce94a1a869f12217609",
    "vae/config.json": "f00978bc0ec7d9520c31a6b736249711de021586db3a6a02e6a38229d6fcf5d5",
    "vae/diffusion_pytorch_model.safetensors": "9f117458ea26216a52a2965fb2dfd8b173623b455f17df7d23b63f1b6f335c0b",
    "weditor/directions.safetensors": "b8567573890eb5e6e7578da1a3ed1d2d35c6191505b8397b9353f14675b24725",
    "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
    "weditor/readout.safetensors": "49feb3345ecb1a7a98f83d7ae081cf737ab56935a7a2a751d7e3993b26c8f246",
}


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """The default command on the red pairs: (output folder, CLI output)."""
    out = tmp_path_factory.mktemp("tuned") / "red"
    result = run_cli(["patch", "--pairs", RED, "--out", out])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_no_tune_writes_0_4s_patch_byte_for_byte(tmp_path):
    out = tmp_path / "fixed"
    result = run_cli(["patch", "--pairs", RED, "--out", out, "--no-tune"])
    assert result.exit_code == 0, result.output
    files = hash_files(out)
    assert {k: v for k, v in files.items() if k not in ("README.md", "weditor.json")} == RED_0_4
    recipe = json.loads((out / "weditor.json").read_text())
    assert "tuning" not in recipe  # no search ran
    assert recipe["params"]["removal"] == 0.6 and recipe["params"]["strength"] == 1.0
    check = recipe["self_check"]["red"]  # but the self-check did, on the held-out split
    assert check["erasure"] > 0.25 and not check["warning"]
    assert "self-check" in result.output and "warning:" not in result.output


# The tuned default's patch (`weditor patch --pairs pairs/shapes-red.toml --out OUT/red`): every file it wrote. (The
# card and the recipe moved with the summary's figures when it went to the self-check's 3 steps and runs, issue 22;
# the trials, the choice, the self-check and every tensor stayed.)
TUNED_RED = {
    "README.md": "8c59f74921765a2f8e29a5b6cf75becb9f4ca3c26f47371c9053a550547f80c6",
    "transformer/diffusion_pytorch_model.safetensors": "6f1629c09dfb60127ca6e82225956cd64b28b0d4233ca46d271fa3c8df7c8225",
    "weditor/directions.safetensors": "b8567573890eb5e6e7578da1a3ed1d2d35c6191505b8397b9353f14675b24725",
    "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
    "weditor/readout.safetensors": "19bb59b3d221b5370b701ba6a2fc2425d394f37a12fd7a8efa6622a61d952a8f",
    "weditor.json": "43e42ce2c7a68672b3d3a8193cb91ce4b29e7e0514cd2e0958153bb24bb69798",
}


def test_the_tuned_patch_is_pinned(tuned):
    from tests.test_golden import SHAPES, check, written

    out, _ = tuned
    check("tuned red", written(out, SHAPES), TUNED_RED)


def test_the_search_records_every_trial_and_its_choice(tuned):
    out, output = tuned
    recipe = json.loads((out / "weditor.json").read_text())
    tuning = recipe["tuning"]
    assert len(tuning["trials"]) >= 1  # red: the fixed default (the text ladder's first setting) already erases
    for trial in tuning["trials"]:
        assert {"method", "params", "erasure", "neutral_change"} <= set(trial) and "seconds" not in trial
        assert set(trial["erasure"]) == {"red", "red (synonyms)"}  # the file's unused keywords: crimson, scarlet
    chosen = tuning["trials"][tuning["chosen"]]
    assert recipe["method"].split("+")[0] == chosen["method"]
    for k, v in chosen["params"].items():  # the patch was made with the chosen fields
        assert recipe["params"][k] == v
    assert recipe["self_check"]["red"]["erasure"] == chosen["erasure"]["red"]
    # the choice rule: within the neutral budget; a file without parts counts 0.8 as erased, and where no setting
    # reaches it for the word and its synonyms, the one that moves them furthest (their mean) within the budget
    budget, erased = tuning["objective"]["neutral_budget"], tuning["objective"]["erased"]
    assert chosen["neutral_change"] <= budget and erased == 0.8

    def rank(t):
        return (t["erasure"]["red"] + t["erasure"]["red (synonyms)"]) / 2

    feasible = [t for t in tuning["trials"] if t["neutral_change"] <= budget]
    if min(chosen["erasure"].values()) < erased:
        assert not [t for t in feasible if min(t["erasure"].values()) >= erased]
        assert rank(chosen) == max(rank(t) for t in feasible)
    assert "tuned:" in output and "warning:" not in output
    card = (out / "README.md").read_text()
    assert "Self-tuning" in card and "Self-check" in card


def test_recipe_reproduces_the_tuned_patch_without_a_trial(tuned, tmp_path, monkeypatch):
    from weditor.pipeline import tuning

    out, _ = tuned
    monkeypatch.setattr(tuning, "TRIALS_RUN", 0)
    again = tmp_path / "again" / out.name  # the card is titled after the folder
    result = run_cli(["patch", "--recipe", out / "weditor.json", "--out", again])
    assert result.exit_code == 0, result.output
    assert tuning.TRIALS_RUN == 0
    assert hash_files(again) == hash_files(out)


def test_the_search_is_deterministic_across_processes(tuned, tmp_path):
    out, _ = tuned
    other = tmp_path / "other" / out.name
    weditor = Path(sys.executable).parent / "weditor"
    subprocess.run(
        [str(weditor), "patch", "--pairs", str(RED), "--out", str(other)], check=True, capture_output=True, cwd=ROOT
    )
    a, b = (json.loads((d / "weditor.json").read_text()) for d in (out, other))
    assert a["tuning"] == b["tuning"]
    assert hash_files(other) == hash_files(out)  # the recipe and the card too: no wall time is recorded


def test_the_self_check_warns_when_the_concept_is_not_reached(tmp_path):
    """A shape: each safe twin names another shape. The text read-out alone barely moves it (issue 19)."""
    from weditor.shapes import world

    shapes = ["square", "triangle", "cross"]
    pairs = "\n".join(
        f'[[pair]]\nunsafe = "{world.caption(c, "circle", m)}"\nsafe = "{world.caption(c, shapes[i % 3], m)}"\n'
        for i, (c, m) in enumerate(
            [
                ("red", "left"),
                ("blue", "up"),
                ("green", "right"),
                ("yellow", "down"),
                ("purple", "left"),
                ("cyan", "up"),
                (None, "right"),
                ("orange", "down"),
            ]
        )
    )
    neutral = [
        world.caption(c, s, m)
        for c, s, m in [
            ("red", "square", "up"),
            ("blue", "triangle", "left"),
            ("green", "cross", "right"),
            (None, "square", "down"),
        ]
    ]
    path = tmp_path / "circle.toml"
    path.write_text(f'concept = "circle"\ndescription = "the shape circle"\nneutral = {json.dumps(neutral)}\n\n{pairs}')
    result = run_cli(["patch", "--pairs", path, "--out", tmp_path / "o", "--no-tune", "--method", "text"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.strip().startswith("warning:")]
    assert len(warnings) == 1 and "'circle'" in warnings[0]
    recipe = json.loads((tmp_path / "o" / "weditor.json").read_text())
    assert recipe["self_check"]["circle"]["warning"] and recipe["self_check"]["circle"]["erasure"] < WARN_BELOW


def test_the_choice_rule_is_erasure_first_then_preservation():
    from weditor.pipeline.objective import Score
    from weditor.pipeline.tuning import Trial, choose

    def t(erasure, change):
        return Trial("text", {}, Score({"c": erasure}, change))

    # erased within the budget: the least neutral change among those, not the most erasure
    assert choose([t(0.2, 0.01), t(0.45, 0.015), t(0.8, 0.025), t(0.95, 0.05)], budget=0.03, erased=0.4) == 1
    # nothing erased: the most erasure within the budget
    assert choose([t(0.1, 0.01), t(0.3, 0.02), t(0.9, 0.2)], budget=0.03, erased=0.4) == 1
    # nothing within the budget: the least neutral change
    assert choose([t(0.9, 0.2), t(0.5, 0.1)], budget=0.03, erased=0.4) == 1
    # the worst concept decides, failed trials are skipped
    two = Trial("uce", {}, Score({"a": 0.9, "b": 0.1}, 0.01))
    assert choose([Trial("x", {}, error="no direction"), two, t(0.41, 0.02)], budget=0.03, erased=0.4) == 2
    assert choose([Trial("x", {}, error="no direction")]) is None


def test_with_parts_and_nothing_within_the_budgets_a_setting_that_erases_comes_first():
    """Every trial moves the parts past the budget (red on triangles): the last resort is the least part move among
    the settings that erase, not a setting that erases nothing but reads a smaller move (the refusal edit there:
    85% of red triangles left, -9.4 points of parts; docs/benchmarks.md, "The parts measure against the videos")."""
    from weditor.pipeline.objective import Score
    from weditor.pipeline.tuning import PART_MOVE_BUDGET, Trial, choose

    def t(erasure, move, method="encoder"):
        return Trial(method, {}, Score({"c": erasure}, 0.05, {"c": 0.01}, {"c": move}))

    over = PART_MOVE_BUDGET
    trials = [t(0.16, over + 0.17, "refusal"), t(0.72, over + 1.1, "units"), t(0.74, over + 0.4), t(0.75, over + 0.42)]
    assert choose(trials, erased=0.5) == 2  # the block that erases with the least move, not the refusal
    assert choose(trials[:1] + [t(0.3, over + 0.4)], erased=0.5) == 0  # none erases: the least move, as before
    # a file without parts: the least neutral change, whatever erases
    plain = [Trial("text", {}, Score({"c": 0.9}, 0.2)), Trial("text", {}, Score({"c": 0.1}, 0.1))]
    assert choose(plain, budget=0.03, erased=0.8) == 1


def test_pinned_fields_collapse_their_axis():
    from weditor.pipeline.candidates import SPACES, pin

    ladders = pin(SPACES["text"].ladders, {"strength": 1.0})
    assert all(p["strength"] == 1.0 for ladder in ladders for p in ladder)
    removals = [p["removal"] for ladder in ladders for p in ladder]
    assert len(removals) == len(set(removals))  # duplicates dropped
    assert pin(SPACES["text"].ladders, {"removal": 0.5, "strength": 1.2}) == (({"removal": 0.5, "strength": 1.2},),)


def test_the_split_is_seeded_and_holds_out_a_quarter():
    from weditor.io.pairs import load_pairsets
    from weditor.pipeline.objective import split_pairsets

    pairsets = load_pairsets([str(RED)])
    a, b, c = split_pairsets(pairsets, 0), split_pairsets(pairsets, 0), split_pairsets(pairsets, 1)
    assert a == b and a != c
    held = a.held_pairs["red"]
    assert len(held) == 2 and len(a.train[0].pairs) == 6  # of 8
    assert not {u for u, *_ in held} & {p.unsafe for p in a.train[0].pairs}
    assert len(a.held_neutral) == 4 and not set(a.held_neutral) & set(a.train[0].neutral)  # of 14
