"""The concept matrix's machinery (scripts/bench_erasure.py --matrix, weditor/shapes/matrix.py).

Concept inference from pair files written by anyone (incl. a conjunction, and refusals), prompt
sets held out from the pair file, scoring and verdicts on rendered clips whose truth is known,
variant parsing, and the one-line helper a CI test of a method calls.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from weditor.errors import WeditorError
from weditor.io.pairs import load_pairs, parse_pairs
from weditor.shapes import world
from weditor.shapes.concepts import infer_concept, parse_caption
from weditor.shapes.prompt_sets import combinations, matrix_sets, truth_of, used_prompts

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "pairs"


def pairset(concept, pairs, neutral=("a green cross moving down",), keywords=(), eval_=(), synonyms=()):
    lines = [
        f'concept = "{concept}"',
        f"keywords = {list(keywords)!r}".replace("'", '"'),
        f"neutral = {list(neutral)!r}".replace("'", '"'),
        f"eval = {list(eval_)!r}".replace("'", '"'),
        f"eval_synonyms = {list(synonyms)!r}".replace("'", '"'),
    ]
    for unsafe, safe in pairs:
        lines += ["[[pair]]", f'unsafe = "{unsafe}"', f'safe = "{safe}"']
    return parse_pairs("\n".join(lines).encode(), Path(f"{concept}.toml"))


RED_SQUARE_PAIRS = [(f"a red square moving {m}", f"a square moving {m}") for m in world.MOTIONS] + [
    ("the red square moves to the left", "the square moves to the left")
]


@pytest.mark.parametrize(
    "name, kind, parts",
    [
        ("shapes-red.toml", "attribute", {"color": "red"}),
        ("shapes-blue.toml", "attribute", {"color": "blue"}),
        ("shapes-green.toml", "attribute", {"color": "green"}),
        ("shapes-circle.toml", "object", {"shape": "circle"}),
        ("shapes-triangle.toml", "object", {"shape": "triangle"}),
        ("shapes-left.toml", "action", {"motion": "left"}),
        ("shapes-up.toml", "action", {"motion": "up"}),
        ("shapes-red-square.toml", "conjunction", {"color": "red", "shape": "square"}),
        ("shapes-blue-circle.toml", "conjunction", {"color": "blue", "shape": "circle"}),
        ("shapes-green-triangle.toml", "conjunction", {"color": "green", "shape": "triangle"}),
    ],
)
def test_shipped_pair_files_are_read_as_their_concept(name, kind, parts):
    concept = infer_concept(load_pairs(PAIRS / name))
    assert concept.kind == kind and dict(concept.parts) == parts


@pytest.mark.parametrize(
    "name", ["red-squares", "red_on_squares_only", "squares-red", "crimson-square", "scarlet_squares"]
)
def test_a_conjunction_is_read_however_it_is_spelled(name):
    concept = infer_concept(pairset(name, RED_SQUARE_PAIRS))
    assert concept.kind == "conjunction" and dict(concept.parts) == {"color": "red", "shape": "square"}
    assert concept.label == "red on square"


def test_synonyms_plurals_and_keywords_name_the_concept():
    balls = [(f"a red circle moving {m}", f"a red square moving {m}") for m in world.MOTIONS] + [
        ("a ball moving up", "a cross moving up")
    ]
    assert dict(infer_concept(pairset("balls", balls)).parts) == {"shape": "circle"}
    assert dict(infer_concept(pairset("concept-a", balls, keywords=["disc", "ball"])).parts) == {"shape": "circle"}
    lefts = [(f"a red {s} moving left", f"a red {s} moving right") for s in world.SHAPES] + [
        ("a circle moving leftward", "a circle moving up")
    ]
    assert dict(infer_concept(pairset("leftward-motion", lefts)).parts) == {"motion": "left"}
    assert parse_caption("the crimson disc moves upwards") == ("red", "circle", "up")
    assert parse_caption("a square that moves to the left") == ("white", "square", "left")


@pytest.mark.parametrize(
    "name, keywords, pairs, message",
    [
        ("nudity", ["nude", "naked"], RED_SQUARE_PAIRS, "names nothing of the shapes world"),
        ("violet", [], RED_SQUARE_PAIRS, "names nothing of the shapes world"),
        ("red-ish", [], RED_SQUARE_PAIRS, "word 'ish' is not in the shapes world"),
        ("red-blue", [], RED_SQUARE_PAIRS, "two colors (red, blue)"),
        ("red-square-left", [], RED_SQUARE_PAIRS, "a conjunction joins two attributes"),
        ("circle", [], RED_SQUARE_PAIRS, "does not name it"),  # the pairs erase red squares, not circles
        ("square", [], RED_SQUARE_PAIRS, "pair 1's safe prompt 'a square moving left' names it too"),
    ],
)
def test_a_concept_the_world_cannot_read_is_refused_with_one_clear_message(name, keywords, pairs, message):
    with pytest.raises(WeditorError, match=message.replace("(", r"\(").replace(")", r"\)")):
        infer_concept(pairset(name, pairs, keywords=keywords))


def test_held_out_prompts_that_do_not_name_the_concept_are_refused():
    with pytest.raises(WeditorError, match=r"eval\[0\] 'a red circle moving up' does not name it"):
        infer_concept(pairset("red-square", RED_SQUARE_PAIRS, eval_=["a red circle moving up"]))
    with pytest.raises(WeditorError, match=r"neutral\[0\] 'a red square going up' names it"):
        infer_concept(pairset("red-square", RED_SQUARE_PAIRS, neutral=["a red square going up"]))


@pytest.mark.parametrize(
    "name", ["shapes-circle.toml", "shapes-left.toml", "shapes-red-square.toml", "shapes-red.toml"]
)
def test_fine_sets_cover_every_combination_held_out_from_the_pair_file(name):
    ps = load_pairs(PAIRS / name)
    concept = infer_concept(ps)
    sets = {s.name: s for s in matrix_sets(concept, ps, "fine")}
    used = used_prompts(ps)
    for s in sets.values():
        assert s.seeds == 2
        assert not used & set(s.prompts), s.name  # held out: no pair member, no neutral prompt
        assert len(set(s.prompts)) == len(s.prompts)
        assert [parse_caption(p) for p in s.prompts] == s.truth  # what is asked is what is scored
    assert all(concept.named(t) for t in sets["target"].truth + sets.get("synonyms", sets["target"]).truth)
    assert set(ps.eval) <= set(sets["target"].prompts)
    named = {truth_of(*c) for c in combinations() if concept.named(truth_of(*c))}
    assert {tuple(t) for t in sets["target"].truth} == named  # every combination that names it
    keep = {truth_of(*c) for c in combinations() if not concept.touched(truth_of(*c))}
    assert set(sets["others"].truth) == keep  # every combination without any part of it
    if concept.kind == "conjunction":
        assert set(sets) >= {"red elsewhere", "square elsewhere"}
        assert all(t[0] == "red" and t[1] != "square" for t in sets["red elsewhere"].truth)
        assert all(t[1] == "square" and t[0] != "red" for t in sets["square elsewhere"].truth)
        assert len(sets["red elsewhere"].truth) == 3 * 4 and len(sets["square elsewhere"].truth) == 8 * 4
    if concept.synonyms():
        words = {w for ws in concept.synonyms().values() for w in ws}
        assert all(any(w in p.split() for w in words) for p in sets["synonyms"].prompts)
        assert {w for p in sets["synonyms"].prompts for w in p.split()} >= words  # every synonym is asked


def test_plain_and_quick_sets_are_smaller_and_one_seed():
    ps = load_pairs(PAIRS / "shapes-circle.toml")
    concept = infer_concept(ps)
    fine = {s.name: len(s.prompts) * s.seeds for s in matrix_sets(concept, ps, "fine")}
    plain = {s.name: len(s.prompts) * s.seeds for s in matrix_sets(concept, ps, "plain")}
    quick = {s.name: len(s.prompts) * s.seeds for s in matrix_sets(concept, ps, "quick")}
    assert plain["others"] * 4 == fine["others"]
    assert quick == {"target": 8, "synonyms": 8, "others": 16}


def _clip(truth, seed):
    return world.render(*truth, rng=seed)


def test_scoring_and_verdict_on_rendered_clips():
    """Clips rendered from known attributes: the original draws what is asked; a fake patch draws the
    target prompts' circles as squares and one other prompt in the wrong colour."""
    from weditor.shapes import matrix

    ps = load_pairs(PAIRS / "shapes-circle.toml")
    concept = infer_concept(ps)
    sets = matrix_sets(concept, ps, "quick")
    base = {s.name: np.stack([_clip(t, i) for i, t in enumerate(s.truth * s.seeds)]) for s in sets}
    patched = {}
    for s in sets:
        truth = [(c, "square" if s.role in ("target", "synonyms") else sh, m) for c, sh, m in s.truth * s.seeds]
        if s.role == "others":
            truth[0] = ("purple" if truth[0][0] != "purple" else "red", *truth[0][1:])
        patched[s.name] = np.stack([_clip(t, i) for i, t in enumerate(truth)])
    original = {"sets": {s.name: matrix.score_set(concept, s, base[s.name]) for s in sets}}
    row = {"sets": {s.name: matrix.score_set(concept, s, patched[s.name], base[s.name]) for s in sets}}
    assert original["sets"]["target"]["concept_rate"] == 1.0 and original["sets"]["others"]["colour_acc"] == 1.0
    assert row["sets"]["target"]["concept_rate"] == 0.0
    assert row["sets"]["target"]["drawn_instead"] == {"square": 8}
    others = row["sets"]["others"]
    assert others["n"] == 16 and others["colour_acc"] == 15 / 16 and others["shape_acc"] == 1.0
    assert sum(others["color_misses"].values()) == 1 and others["pixel_change"] > 0
    assert row["sets"]["synonyms"]["pixel_change"] > others["pixel_change"]
    v = matrix.verdict(concept, original, row)
    assert v["drops_points"]["others"]["color"] == pytest.approx(100 / 16)
    assert v["checks"] == {
        "original_shows": True,
        "erased": True,
        "synonyms_erased": True,
        "others_kept": False,
        "parts_kept": None,
    }
    assert not v["pass"]
    row["sets"]["others"] = original["sets"]["others"]  # nothing lost: every target met
    assert matrix.verdict(concept, original, row)["pass"]


def test_conjunction_verdict_judges_the_parts_elsewhere():
    from weditor.shapes import matrix

    ps = load_pairs(PAIRS / "shapes-red-square.toml")
    concept = infer_concept(ps)
    sets = matrix_sets(concept, ps, "quick")
    videos = {s.name: np.stack([_clip(t, i) for i, t in enumerate(s.truth)]) for s in sets}
    original = {"sets": {s.name: matrix.score_set(concept, s, videos[s.name]) for s in sets}}
    # a patch that erases red everywhere (what a colour edit does): red squares gone, red circles too
    lost = {
        s.name: np.stack([_clip(("white" if t[0] == "red" else t[0], *t[1:]), i) for i, t in enumerate(s.truth)])
        for s in sets
    }
    row = {"sets": {s.name: matrix.score_set(concept, s, lost[s.name], videos[s.name]) for s in sets}}
    v = matrix.verdict(concept, original, row)
    assert v["checks"]["erased"] and v["checks"]["others_kept"]
    assert v["checks"]["parts_kept"] is False and v["worst_drop_parts"] == 100.0
    assert v["drops_points"]["square elsewhere"] == {"color": 0.0, "shape": 0.0, "motion": 0.0}


def test_variants_are_registered_by_name_and_parsed_like_the_command_line():
    from weditor.shapes import matrix

    name, options = matrix.parse_variant("kv=method:refusal,site:cross_attn_kv_in,removal:0.5,rank:4,reins:true")
    assert name == "kv" and matrix.VARIANTS["kv"] == options
    assert options == {
        "method": "refusal",
        "site": "cross_attn_kv_in",
        "removal": 0.5,
        "rank": 4,
        "reins": True,
        "rank_explicit": True,
    }
    assert matrix.parse_variant('js={"method": "text", "strength": 1.2}')[1] == {"method": "text", "strength": 1.2}
    cfg = matrix.patch_config(options, ["p.toml"], "/tmp/x")
    assert (cfg.method, cfg.site, cfg.rank, cfg.summary, cfg.pairs) == (
        "refusal",
        "cross_attn_kv_in",
        4,
        False,
        ["p.toml"],
    )
    for bad, message in [
        ("nothing", "expected NAME="),
        ("x=foo", "not key:value"),
        ("x=foo:1", "not a PatchConfig field"),
        ("x={1", "not valid JSON"),
        ("x=[1]", "not key:value"),
    ]:
        with pytest.raises(WeditorError, match=message):
            matrix.parse_variant(bad)
    assert {"original", "default", "refusal"} <= set(matrix.VARIANTS) and matrix.VARIANTS["default"] == {}
    for n in ("kv", "js"):
        matrix.VARIANTS.pop(n)


def bench():
    spec = importlib.util.spec_from_file_location("bench_erasure", ROOT / "scripts" / "bench_erasure.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_erasure"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--matrix", str(PAIRS / "nudity.toml")], "names nothing of the shapes world"),
        (["--matrix", "no-such.toml"], "is not a file"),
        (["--matrix", "dev", "--variants", "nope"], "'nope' is not a variant"),
        (["--matrix", "dev", "--variant", "x=colour:red"], "not a PatchConfig field"),
        (["--matrix", "dev", "--multi"], "--multi belongs to the red/blue modes"),
    ],
)
def test_the_script_refuses_bad_input_with_one_error_line_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        bench().main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: ") and message in err[0]


def test_check_concept_is_the_one_line_ci_helper():
    """The default patch erases red (a colour) on the quick set; the helper says so in one call. When a
    method erases shapes and motions, the CI asserts one concept of each kind the same way."""
    from weditor.shapes import model_path
    from weditor.shapes.matrix import check_concept

    if not (model_path() / "model_index.json").is_file():
        pytest.fail("the embedded shapes model is missing from weditor/assets/shapes-wan")
    result = check_concept(PAIRS / "shapes-red.toml")
    assert result["concept"] == "red" and result["kind"] == "attribute"
    assert result["checks"]["original_shows"] and result["checks"]["erased"] and result["checks"]["synonyms_erased"]
    assert result["sets"]["target"]["n"] == 8 and result["sets"]["others"]["n"] == 16


@pytest.mark.slow
@pytest.mark.parametrize(
    "pair_file, kind",
    [("shapes-red.toml", "attribute"), ("shapes-circle.toml", "object"), ("shapes-left.toml", "action")],
)
def test_the_default_command_erases_one_concept_of_each_kind(pair_file, kind):
    """Issue 19's CI subset: `weditor patch --pairs FILE --out DIR` with no options (the self-tuned default)
    erases a colour, a shape and a motion on the quick set, synonyms included, and keeps every other
    attribute. The conjunction is the next test."""
    from weditor.shapes.matrix import check_concept

    result = check_concept(PAIRS / pair_file)
    assert result["kind"] == kind
    assert result["checks"]["original_shows"], result
    assert result["checks"]["erased"] and result["checks"]["synonyms_erased"], result
    assert result["checks"]["others_kept"], result
    assert result["pass"], result


@pytest.mark.slow
def test_the_default_command_erases_a_colour_on_one_shape_and_keeps_its_parts():
    """Issue 19's CI subset, the conjunction: for red on squares (the pair file's neutral prompts hold its parts
    elsewhere) the search chooses the repurposed units of the text encoder's last FFN (`--method units`), which
    erase red squares and their synonyms on the quick set and keep red on other shapes, squares of other colours
    and every other attribute, without a warning. Before them the default kept the parts and left 25% of red
    squares on the fine set (docs/benchmarks.md, "The part move", "Repurposed units")."""
    from weditor.pipeline.tuning import PART_MOVE_BUDGET
    from weditor.shapes.matrix import check_concept

    result = check_concept(PAIRS / "shapes-red-square.toml")
    assert result["kind"] == "conjunction"
    assert result["checks"]["original_shows"], result
    assert result["checks"]["erased"] and result["checks"]["synonyms_erased"], result
    assert result["checks"]["parts_kept"] and result["checks"]["others_kept"], result
    assert result["pass"], result
    check = result["self_check"]["red-square"]
    assert check["part_move"] <= PART_MOVE_BUDGET and not check["parts_warning"], check
    assert not check["warning"] and not check["parts_limited"], check
