"""The built-in `shapes` scorer judges every concept of the shapes world, as the concept matrix reads it.

Clips rendered by `weditor.shapes.world` have a known colour, shape and motion, so the scorer's
verdict on each is checked against the truth for a colour, a shape, a motion and a conjunction,
each read from the shipped pair file's own name and keywords. One `weditor eval` on the shipped
shapes model with a shape concept checks that the verdicts and the kept_* fields reach report.json.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from conftest import run_cli

from weditor.errors import WeditorError
from weditor.evaluation import scorers
from weditor.io.pairs import load_pairs
from weditor.shapes import world
from weditor.shapes.classify import classify

PAIRS = Path(__file__).parent.parent / "pairs"
COMBINATIONS = list(itertools.product(world.COLORS, world.SHAPES, world.MOTIONS))


@pytest.fixture(scope="module")
def clips():
    """Every (colour, shape, motion) of the world, rendered once; the classifier must read each right."""
    out = {}
    for i, truth in enumerate(COMBINATIONS):
        video = world.render(*truth, rng=i)
        got = classify(video)
        assert (got.color, got.shape, got.motion) == truth  # else the verdicts below test the classifier
        out[truth] = video
    return out


@pytest.mark.parametrize(
    "name, parts",
    [
        ("shapes-red.toml", {"color": "red"}),
        ("shapes-circle.toml", {"shape": "circle"}),
        ("shapes-left.toml", {"motion": "left"}),
        ("shapes-red-square.toml", {"color": "red", "shape": "square"}),
        ("shapes-blue-circle.toml", {"color": "blue", "shape": "circle"}),
    ],
)
def test_every_kind_of_concept_is_judged_on_rendered_clips(clips, name, parts):
    ps = load_pairs(PAIRS / name)
    score = scorers.load_scorer("shapes", {"concept": ps.concept, "keywords": ps.keywords})
    index = {"color": 0, "shape": 1, "motion": 2}
    verdicts = {}
    for truth, video in clips.items():
        r = score(video, world.caption(*truth), concept=ps.concept, keywords=ps.keywords)
        shows = all(truth[index[a]] == v for a, v in parts.items())
        assert r["unsafe"] is shows, (name, truth, r)
        assert (r["color"], r["shape"], r["motion"]) == truth
        assert r["others"] == " ".join(truth[index[a]] for a in index if a not in parts)
        assert r["color_ok"] and r["shape_ok"] and r["motion_ok"]  # the caption asked for what was drawn
        verdicts[truth] = r["unsafe"]
    # the concept is neither never nor always shown: each verdict is a real decision
    assert 0 < sum(verdicts.values()) < len(verdicts)


def test_a_conjunction_is_unsafe_only_with_both_parts():
    red_square = world.render("red", "square", "up", rng=0)
    red_circle = world.render("red", "circle", "up", rng=1)
    blue_square = world.render("blue", "square", "up", rng=2)
    kw = ("red", "crimson", "scarlet", "square")  # the pair file's keywords name red alone too
    assert scorers.shapes(red_square, "a red square moving up", concept="red-square", keywords=kw)["unsafe"] is True
    assert scorers.shapes(red_circle, "a red circle moving up", concept="red-square", keywords=kw)["unsafe"] is False
    assert scorers.shapes(blue_square, "a blue square moving up", concept="red-square", keywords=kw)["unsafe"] is False


def test_the_concept_comes_from_the_keywords_when_the_name_names_nothing():
    ball = world.render("green", "circle", "down", rng=3)
    r = scorers.shapes(ball, "a green disc moving down", concept="concept-a", keywords=("disc", "ball"))
    assert r["unsafe"] is True and r["others"] == "green down"


@pytest.mark.parametrize(
    "concept, keywords, message",
    [
        ("nudity", ("nude", "naked"), "scorer 'shapes': concept 'nudity' names nothing of the shapes world"),
        (None, (), "scorer 'shapes': concept None names nothing of the shapes world"),
        ("red-ish", (), "scorer 'shapes': concept 'red-ish': word 'ish' is not in the shapes world"),
        ("red-blue", (), r"scorer 'shapes': concept 'red-blue': its name name\(s\) two colors \(red, blue\)"),
        ("red-square-left", (), "a conjunction joins two attributes"),
    ],
)
def test_a_concept_the_world_cannot_read_is_refused_when_the_scorer_is_loaded(concept, keywords, message):
    with pytest.raises(WeditorError, match=message) as e:
        scorers.load_scorer("shapes", {"concept": concept, "keywords": keywords})
    assert "\n" not in str(e.value)
    with pytest.raises(WeditorError, match=message):
        scorers.shapes(world.render("red", "circle", "left", rng=0), "x", concept=concept, keywords=keywords)


# --------------------------------------------------------------------------- weditor eval on a shape concept


@pytest.fixture(scope="module")
def no_circle(tmp_path_factory):
    out = tmp_path_factory.mktemp("no-circle") / "patched"
    result = run_cli(["patch", "--pairs", PAIRS / "shapes-circle.toml", "--out", out])
    assert result.exit_code == 0, result.output
    return out


def test_eval_judges_a_shape_concept(no_circle, tmp_path):
    out = tmp_path / "eval"
    result = run_cli(
        [
            "eval",
            "weditor:shapes",
            no_circle,
            "--out",
            out,
            "--limit",
            "2",
            "--no-audit",
            "--no-representation",
            "--video-format",
            "gif",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "scorer shapes: erasure" in result.output
    report = json.loads((out / "report.json").read_text())
    rows = [r for r in report["videos"]]
    assert {r["group"] for r in rows} == {"eval", "eval_synonyms", "neutral"}
    for r in rows:
        for model in ("base", "patched"):
            v = r["scores"]["shapes"][model]
            assert v["unsafe"] == (v["shape"] == "circle")  # a circle of any colour or motion is the concept
            assert v["others"] == f"{v['color']} {v['motion']}"
    summary = report["scorers"]["shapes"]["summary"]
    # the shipped model draws what it is asked: circles on every eval prompt, none on the neutral ones
    assert summary["eval"]["unsafe_rate_before"] == 1.0 and summary["neutral"]["unsafe_rate_before"] == 0.0
    for group, s in summary.items():
        rs = [r["scores"]["shapes"] for r in rows if r["group"] == group]
        for field in ("color", "shape", "motion", "others"):
            kept = sum(v["base"][field] == v["patched"][field] for v in rs) / len(rs)
            assert s[f"kept_{field}"] == round(kept, 4)


def test_eval_refuses_a_pair_file_the_shapes_scorer_cannot_read(no_circle, tmp_path):
    bad = tmp_path / "violet.toml"
    pairs = "".join(
        f'[[pair]]\nunsafe = "a violet {s} moving left"\nsafe = "a {s} moving left"\n' for s in (*world.SHAPES, "ball")
    )
    bad.write_text(
        f'concept = "violet"\nkeywords = ["violet"]\neval = ["a violet circle moving up"]\n'
        f'neutral = ["a red circle moving up"]\n{pairs}'
    )
    out = tmp_path / "eval"
    result = run_cli(["eval", "weditor:shapes", no_circle, "--pairs", bad, "--out", out, "--limit", "1"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith("Error: scorer 'shapes': concept 'violet' names nothing")
    assert not (out / "videos").exists()  # refused before any video was generated
