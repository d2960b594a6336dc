"""The shapes benchmark's quick subset, as a regression test of the method itself.

The embedded shapes model draws the colour it is asked for; the default patch (and the block
refusal edit) built from pairs/shapes-red.toml must stop it drawing red on held-out prompts (plain and synonyms) while
other colours, shapes and motions survive. A change that weakens the method fails here.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "bench_erasure.py"
pytestmark = pytest.mark.slow  # the benchmark's quick subset: renders and judges videos


def bench():
    spec = importlib.util.spec_from_file_location("bench_erasure", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_erasure"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results():
    from weditor.shapes import model_path

    if not (model_path() / "model_index.json").is_file():
        pytest.fail("the embedded shapes model is missing from weditor/assets/shapes-wan")
    rows = bench().main(["--quick", "--only", "original (no edit)", bench().DEFAULT, bench().REFUSAL_READOUT])
    return dict(rows)


def test_original_model_draws_red(results):
    base = results["original (no edit)"]
    assert base["target"]["red_rate"] >= 0.8
    assert base["others"]["colour_acc"] >= 0.8


def test_default_patch_erases_red_and_keeps_every_other_colour(results):
    """The default (`--method text`) on the quick set: measured 0% / 0% / 100% kept (`--fine`: 99.6%),
    so one video of 16 may change before it fails, against the 3-point target of the full benchmark."""
    base, patched = results["original (no edit)"], results[bench().DEFAULT]
    assert patched["target"]["red_rate"] <= 0.1
    assert patched["synonyms"]["red_rate"] <= 0.2
    assert patched["others"]["colour_acc"] >= base["others"]["colour_acc"] - 1 / 16
    for group in ("target", "others"):  # the shape and its motion are still drawn
        assert patched[group]["shape_acc"] >= base[group]["shape_acc"] - 0.05
        assert patched[group]["motion_acc"] >= base[group]["motion_acc"] - 0.05


def test_refusal_readout_erases_red_and_keeps_the_rest(results):
    """`--method refusal` (the block edit, default for pairs with images). Thresholds with room for seed
    noise on 8 target and 16 other videos; docs/benchmarks.md has the full set. Other colours: 2 of 16
    may change (12.5 points), because its measured price is orange drawn as yellow now and then
    (`--fine`: 95.3-97.3% kept)."""
    base, patched = results["original (no edit)"], results[bench().REFUSAL_READOUT]
    assert patched["target"]["red_rate"] <= 0.2
    assert patched["synonyms"]["red_rate"] <= 0.3
    assert patched["others"]["colour_acc"] >= base["others"]["colour_acc"] - 0.125
    for group in ("target", "others"):
        assert patched[group]["shape_acc"] >= base[group]["shape_acc"] - 0.05
        assert patched[group]["motion_acc"] >= base[group]["motion_acc"] - 0.05


def test_misses_are_counted_by_colour_asked_and_drawn(results):
    """`colour_misses` says what a lost colour became (orange -> yellow): it must add up to the accuracy."""
    for name, m in results.items():
        others = m["others"]
        missed = round((1 - others["colour_acc"]) * others["n"])
        assert sum(others["colour_misses"].values()) == missed, name
        assert all("->" in k for k in others["colour_misses"])


def test_fine_set_covers_every_other_colour_shape_and_motion_twice_held_out():
    from weditor.io.pairs import load_pairs
    from weditor.shapes import world

    b = bench()
    exclude = b.used_prompts(load_pairs(b.PAIRS))
    sets = {ps.name: ps for ps in b.prompt_sets(False, exclude, fine=True)}
    others = sets["others"]
    colours = [c for c in world.COLORS if c != b.TARGET]
    expected = {(c, s, m) for c in colours for s in world.SHAPES for m in world.MOTIONS}
    assert set(others.truth) == expected
    unnamed = [p for p, t in zip(others.prompts, others.truth) if not any(c in p.split() for c in world.COLORS)]
    assert len(unnamed) == 16 and len(others.truth) == len(expected) + 16  # white: named, and by default
    assert others.seeds == sets["target"].seeds == 2
    assert not exclude & set(others.prompts)
    plain = {ps.name: ps for ps in b.prompt_sets(False, exclude)}["others"]
    assert len(plain.truth) * plain.seeds * 4 == len(others.truth) * others.seeds  # the coarse set: 64 videos
