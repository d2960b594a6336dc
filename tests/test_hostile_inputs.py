"""Hostile pair files, recipes and options (issue 17): one `Error:` line and exit 2, never a traceback.

Every case runs the real CLI in-process and checks: exit status 2, exactly one line starting with
"Error:" that names the problem, no traceback, OUT absent (no staging folder beside it), and
nothing else written next to the inputs. The cases are listed in `CASES` (each builds its input
in a fresh folder); scripts/hostile_inputs_table.py runs the same list and prints the table in
docs/reliability.md. Property-based tests (Hypothesis) mutate a real recipe and generate pair
files with hostile strings, and assert the same contract for whatever comes out.

Everything here fails before any model weights are read, except the two tests that patch the
tiny model on purpose (HTML in prompts reaches the card escaped; a mutated recipe that is still
valid reproduces).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import TINY_PAIRS, TINY_SIZE, run_cli

TINY = TINY_PAIRS.read_text()


def tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def check_refused(result, out: Path, message: str) -> str:
    """Exit 2, exactly one "Error:" line containing `message`, no traceback, OUT absent, no staging folder."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert message in errors[0], errors[0]
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    return errors[0]


# --------------------------------------------------------------------------- inputs


def pairs_with(tmp: Path, text: str, name: str = "p.toml") -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def replaced(old: str, new: str) -> str:
    assert old in TINY
    return TINY.replace(old, new, 1)


def recipe_folder(tmp: Path, recipe: dict, pair_text: str = TINY, pair_name: str = "red.toml") -> Path:
    """A folder holding `recipe` as weditor.json and one pair file at weditor/pairs/`pair_name`."""
    folder = tmp / "recipe"
    (folder / "weditor" / "pairs").mkdir(parents=True)
    (folder / "weditor" / "pairs" / pair_name).write_text(pair_text, encoding="utf-8")
    (folder / "weditor.json").write_text(recipe if isinstance(recipe, str) else json.dumps(recipe), encoding="utf-8")
    return folder / "weditor.json"


def good_recipe(pair_text: str = TINY) -> dict:
    """A recipe as `weditor patch --method refusal` writes it (the fields --recipe reads), pair hash included."""
    import hashlib

    return {
        "format": 1,
        "weditor_version": "0.4.0",
        "method": "refusal",
        "base_model": {"id": "weditor:shapes", "revision": None, "pipeline_class": "WanPipeline"},
        "pairs": [
            {
                "path": "weditor/pairs/red.toml",
                "concept": "red",
                "sha256": hashlib.sha256(pair_text.encode()).hexdigest(),
            }
        ],
        "params": {
            "method": "refusal",
            "edit": "readout",
            "layers": "0.0-1.0",
            "site": "cross_attn_out",
            "rank": None,
            "alpha": 4.0,
            "strength": 1.0,
            "removal": 0.6,
            "directions": 1,
            "neutral": "raw",
            "steps": 2,
            "size": [32, 32, 5],
            "seed": 0,
            "dtype": None,
            "reins": False,
            "layers_resolved": {"transformer": [0, 1, 2, 3]},
        },
        "edits": [],
        "summary": {},
        "files": {},
    }


def mutated(**changes) -> dict:
    """good_recipe() with top-level keys or `params.KEY` replaced (None value with key in DELETE: deleted)."""
    recipe = good_recipe()
    for key, value in changes.items():
        where, _, name = key.rpartition("__")
        target = recipe["params"] if where == "params" else recipe["pairs"][0] if where == "pair" else recipe
        if value is DELETE:
            target.pop(name)
        else:
            target[name] = value
    return recipe


DELETE = object()


def fifo(tmp: Path) -> Path:
    path = tmp / "pipe.toml"
    os.mkfifo(path)
    return path


def recipe_pair_outside(tmp: Path) -> Path:
    recipe = good_recipe()
    recipe["pairs"][0]["path"] = "../outside.toml"
    (tmp / "outside.toml").write_text(TINY)
    return recipe_folder(tmp, recipe)


def recipe_pair_symlink(tmp: Path) -> Path:
    (tmp / "elsewhere.toml").write_text(TINY)
    path = recipe_folder(tmp, good_recipe())
    link = path.parent / "weditor" / "pairs" / "red.toml"
    link.unlink()
    link.symlink_to(tmp / "elsewhere.toml")
    return path


def recipe_pair_image_outside(tmp: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp / "secret.png")
    text = "".join(
        f'[[pair]]\nunsafe = "a red car {i}"\nsafe = "a car {i}"\nimage = "../../../secret.png"\n' for i in range(5)
    )
    text = 'concept = "red"\nneutral = ["a dog"]\n' + text
    return recipe_folder(tmp, good_recipe(text), text)


def recipe_concept_mismatch(tmp: Path) -> Path:
    recipe = good_recipe()
    recipe["pairs"][0]["concept"] = "blue"
    return recipe_folder(tmp, recipe)


def i2v_without_ftfy(tmp: Path, monkeypatch) -> Path:
    """A tiny Wan image-to-video pipeline, with ftfy not importable (as if never installed)."""
    import diffusers.pipelines.wan.pipeline_wan_i2v as wan_i2v

    from weditor.testing import save_tiny_pipeline

    monkeypatch.setitem(sys.modules, "ftfy", None)  # `import ftfy` raises ImportError
    monkeypatch.delattr(wan_i2v, "ftfy", raising=False)  # diffusers imported it only if available
    return save_tiny_pipeline("wan-i2v", tmp / "i2v")


def image_pairs(tmp: Path, image: str, make=None) -> Path:
    """A pair file at `tmp`/sub/p.toml whose five pairs name `image`; `make(tmp)` builds the files first.

    tmp/secret.png is a real image *outside* the pair file's folder: what a hostile pair file reaches for.
    """
    from PIL import Image

    (tmp / "sub").mkdir()
    Image.new("RGB", (8, 8)).save(tmp / "secret.png")
    if make is not None:
        make(tmp)
    text = 'concept = "red"\nneutral = ["a dog"]\n' + "".join(
        f'[[pair]]\nunsafe = "a red car {i}"\nsafe = "a car {i}"\nimage = "{image}"\n' for i in range(5)
    )
    return pairs_with(tmp / "sub", text)


def _sparse_png(path: Path, size: int) -> None:
    """A file of `size` bytes that starts like a PNG (sparse: nothing is written to disk)."""
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.truncate(size)


def _huge_png(path: Path) -> None:
    """A 9,000 x 9,000 bilevel PNG: 81 million pixels (under PIL's own limit, over weditor's) in a few hundred kilobytes."""
    from PIL import Image

    Image.new("1", (9_000, 9_000)).save(path)


# (id, what the input is, builder(tmp, ctx) -> extra CLI args, message the one Error line must contain).
# `ctx` holds the tiny model ("model") and the monkeypatch fixture.
P = "--pairs"


def _patch(pairs, *extra):
    return lambda tmp, ctx: [
        "patch",
        ctx["model"],
        P,
        pairs(tmp) if callable(pairs) else pairs,
        "--size",
        TINY_SIZE,
        *extra,
    ]


def _edited(old: str, new: str):
    """`weditor patch` with tests/data/tiny-red.toml, `old` replaced by `new`."""
    return _patch(lambda tmp: pairs_with(tmp, replaced(old, new)))


def _recipe(make):
    return lambda tmp, ctx: ["patch", "--recipe", make(tmp) if callable(make) else recipe_folder(tmp, make)]


CASES = [
    # pair files
    (
        "toml-nested",
        "pair file: 50,000 nested `[`",
        _patch(lambda t: pairs_with(t, "x = " + "[" * 50_000)),
        "nested too deeply",
    ),
    (
        "toml-nested-tables",
        "pair file: 50,000 nested inline tables",
        _patch(lambda t: pairs_with(t, "x = " + "{a=" * 50_000)),
        "nested too deeply",
    ),
    (
        "nul-unsafe",
        "prompt with a NUL byte (`\\u0000`)",
        _edited('"a red car on a street"', '"a red car\\u0000 on a street"'),
        "pair 1: unsafe: character 10 is the control character U+0000",
    ),
    (
        "rlo-safe",
        "prompt with a right-to-left override (U+202E)",
        _edited('safe = "a car on a street"', 'safe = "a car \u202eteerts a no"'),
        "pair 1: safe: character 7 is the control character U+202E (RIGHT-TO-LEFT OVERRIDE)",
    ),
    (
        "lri-neutral",
        "neutral prompt with a left-to-right isolate (U+2066)",
        _edited('"a dog running in a forest"', '"a dog \u2066running"'),
        "neutral[1]: character 7 is the control character U+2066",
    ),
    (
        "esc-eval",
        "eval prompt with a terminal escape (ESC [31m)",
        _edited('"a red boat on a river"', '"a \\u001b[31mred boat"'),
        "eval[0]: character 3 is the control character U+001B",
    ),
    (
        "nul-description",
        "description with a NUL byte",
        _edited('"the colour red"', '"the colour\\u0000red"'),
        "description: character 11 is the control character U+0000",
    ),
    (
        "del-keyword",
        "keyword with DEL (U+007F)",
        _edited('["red"]', '["re\\u007fd"]'),
        "keywords[0]: character 3 is the control character U+007F",
    ),
    (
        "c1-neutral",
        "neutral prompt with a C1 control (U+0085)",
        _edited('"a cat on a table"', '"a cat\\u0085on a table"'),
        "neutral[5]: character 6 is the control character U+0085",
    ),
    (
        "alm-unsafe",
        "prompt with an Arabic letter mark (U+061C)",
        _edited('"a red square moving up"', '"a red \u061csquare moving up"'),
        "pair 5: unsafe",
    ),
    (
        "concept-300",
        "concept name of 300 characters",
        _edited('concept = "red"', f'concept = "{"r" * 300}"'),
        "concept is 300 characters long; at most 64",
    ),
    (
        "concept-nul-device",
        "concept `nul` (a Windows device name)",
        _edited('concept = "red"', 'concept = "nul"'),
        "reserved device name",
    ),
    ("pairs-fifo", "`--pairs` a named pipe (FIFO)", _patch(fifo), "pair file is a named pipe (FIFO)"),
    (
        "pairs-chardev",
        "`--pairs /dev/null` (a character device)",
        _patch("/dev/null"),
        "pair file is a character device",
    ),
    (
        "pairs-broken-link",
        "`--pairs` a dangling symbolic link",
        _patch(lambda t: ((t / "dangling.toml").symlink_to(t / "nowhere"), t / "dangling.toml")[1]),
        "is a broken symbolic link",
    ),
    (
        "pairs-huge",
        "pair file of 17 MiB (a valid file plus a long comment)",
        _patch(lambda t: pairs_with(t, TINY + "#" + "x" * (17 << 20) + "\n")),
        "larger than 16 MiB",
    ),
    (
        "image-fifo",
        "pair image that is a named pipe",
        _patch(
            lambda t: (
                os.mkfifo(t / "img.png"),
                pairs_with(
                    t,
                    'concept = "red"\nneutral = ["a dog"]\n'
                    + "".join(
                        f'[[pair]]\nunsafe = "a red car {i}"\nsafe = "a car {i}"\nimage = "img.png"\n' for i in range(5)
                    ),
                ),
            )[1]
        ),
        "img.png is a named pipe (FIFO)",
    ),
    (
        "image-zero-width",
        "pair image name with a zero-width space (U+200B), not there",
        _edited('safe = "a car on a street"', 'safe = "a car on a street"\nimage = "a\u200bb.png"'),
        "a\\u200bb.png does not exist",
    ),
    (
        "image-dotdot",
        "pair image `../secret.png`, outside the pair file's folder",
        _patch(lambda t: image_pairs(t, "../secret.png")),
        "sub/../secret.png is outside the pair file's folder",
    ),
    (
        "image-absolute",
        "pair image an absolute path outside the pair file's folder",
        _patch(lambda t: image_pairs(t, str(t / "secret.png"))),
        "is outside the pair file's folder",
    ),
    (
        "image-symlink-out",
        "pair image a symbolic link out of the pair file's folder",
        _patch(lambda t: image_pairs(t, "img.png", lambda t: (t / "sub" / "img.png").symlink_to(t / "secret.png"))),
        "img.png is a symbolic link to ",
    ),
    (
        "image-big-file",
        "pair image of 65 MiB",
        _patch(lambda t: image_pairs(t, "img.png", lambda t: _sparse_png(t / "sub" / "img.png", 65 << 20))),
        "img.png is 65 MiB; at most 64 MiB",
    ),
    (
        "image-pixels",
        "pair image of 9,000 x 9,000 pixels",
        _patch(lambda t: image_pairs(t, "img.png", lambda t: _huge_png(t / "sub" / "img.png"))),
        "9000x9000 pixels, more than 64,000,000",
    ),
    # options
    ("seed-huge", "`--seed 1180591620717411303424`", _patch(TINY_PAIRS, "--seed", "1180591620717411303424"), "--seed"),
    ("seed-negative", "`--seed -1`", _patch(TINY_PAIRS, "--seed", "-1"), "--seed"),
    (
        "size-huge",
        "`--size 8192x8192x161`",
        lambda t, c: ["patch", c["model"], P, TINY_PAIRS, "--size", "8192x8192x161"],
        "height 8192 is larger than 4096",
    ),
    (
        "size-frames",
        "`--size 32x32x100000`",
        lambda t, c: ["patch", c["model"], P, TINY_PAIRS, "--size", "32x32x100000"],
        "frames 100000 is larger than 1024",
    ),
    (
        "ftfy-missing",
        "Wan image-to-video with `ftfy` not installed",
        lambda t, c: ["patch", i2v_without_ftfy(t, c["monkeypatch"]), P, TINY_PAIRS, "--size", TINY_SIZE],
        "pip install ftfy",
    ),
    # recipes
    (
        "recipe-params-out",
        "recipe `params.out`",
        _recipe(mutated(params__out="/tmp/elsewhere")),
        "params.out: not a recipe parameter",
    ),
    (
        "recipe-params-model",
        "recipe `params.model`",
        _recipe(mutated(params__model="evil/model")),
        "params.model: not a recipe parameter",
    ),
    (
        "recipe-params-revision",
        "recipe `params.revision`",
        _recipe(mutated(params__revision="main")),
        "params.revision: not a recipe",
    ),
    (
        "recipe-params-pairs",
        "recipe `params.pairs`",
        _recipe(mutated(params__pairs=["/etc/passwd"])),
        "params.pairs: not a recipe",
    ),
    (
        "recipe-params-push",
        "recipe `params.push_to_hub`",
        _recipe(mutated(params__push_to_hub="evil/x")),
        "params.push_to_hub",
    ),
    ("recipe-top-model", "recipe top-level `model`", _recipe(mutated(model="evil/model")), "model: unknown key"),
    (
        "recipe-pairs-string",
        'recipe `"pairs": "abc"`',
        _recipe(mutated(pairs="abc")),
        "pairs: expected a list of pair-file entries",
    ),
    (
        "recipe-pair-no-sha",
        "recipe pair entry without `sha256`",
        _recipe(mutated(pair__sha256=DELETE)),
        "pairs[0].sha256: missing",
    ),
    (
        "recipe-pair-sha-int",
        "recipe pair `sha256` a number",
        _recipe(mutated(pair__sha256=7)),
        "pairs[0].sha256: expected a string",
    ),
    (
        "recipe-pair-extra",
        "recipe pair entry with an unknown key",
        _recipe(mutated(pair__image="/etc/passwd")),
        "pairs[0].image: unknown key",
    ),
    ("recipe-params-list", "recipe `params` a list", _recipe(mutated(params=[1, 2])), "params: expected an object"),
    (
        "recipe-removal-string",
        'recipe `removal: "0.5"`',
        _recipe(mutated(params__removal="0.5")),
        "params.removal: expected a number, got str",
    ),
    (
        "recipe-method-evil",
        'recipe `method: "text+evil"`',
        _recipe(mutated(method="text+evil")),
        "method: str 'text+evil' is not one of",
    ),
    (
        "recipe-params-method",
        'recipe `params.method: "evil"`',
        _recipe(mutated(params__method="evil")),
        "params.method",
    ),
    (
        "recipe-method-mismatch",
        "recipe `method` refusal, `params.method` text",
        _recipe(mutated(params__method="text")),
        "disagrees with method",
    ),
    (
        "recipe-reins-mismatch",
        "recipe `params.reins: true` without a REINS method",
        _recipe(mutated(params__reins=True)),
        "has no REINS fold",
    ),
    ("recipe-seed-huge", "recipe `seed: 2**70`", _recipe(mutated(params__seed=2**70)), "params.seed"),
    (
        "recipe-strength-nan",
        "recipe `strength: NaN`",
        _recipe(json.dumps(mutated(params__strength=float("nan")))),
        "params.strength: nan",
    ),
    (
        "recipe-size-huge",
        "recipe `size: [8192, 8192, 161]`",
        _recipe(mutated(params__size=[8192, 8192, 161])),
        "params.size: height 8192",
    ),
    (
        "recipe-steps-bool",
        "recipe `steps: true`",
        _recipe(mutated(params__steps=True)),
        "params.steps: expected an integer",
    ),
    (
        "recipe-layers-junk",
        'recipe `layers: "0.5; rm -rf /"`',
        _recipe(mutated(params__layers="0.5; rm -rf /")),
        "params.layers",
    ),
    ("recipe-unknown-param", "recipe `params.evil`", _recipe(mutated(params__evil=1)), "params.evil: unknown key"),
    ("recipe-format-2", "recipe `format: 2`", _recipe(mutated(format=2)), "format: 2 is outside 1..1"),
    (
        "recipe-base-list",
        "recipe `base_model` a list",
        _recipe(mutated(base_model=["x"])),
        "base_model: expected an object",
    ),
    ("recipe-null", "recipe `null`", _recipe("null"), "expected a JSON object"),
    ("recipe-list", "recipe `[]`", _recipe("[]"), "expected a JSON object"),
    ("recipe-nested", "recipe of 50,000 nested `[`", _recipe("[" * 50_000), "nested too deeply"),
    (
        "recipe-long-int",
        "recipe with a 5,000-digit integer",
        _recipe('{"format": ' + "9" * 5000 + "}"),
        "not valid JSON",
    ),
    ("recipe-fifo", "`--recipe` a named pipe", lambda t, c: ["patch", "--recipe", fifo(t)], "recipe is a named pipe"),
    ("recipe-pair-dotdot", "recipe pair path `../outside.toml`", _recipe(recipe_pair_outside), "without '..'"),
    (
        "recipe-pair-absolute",
        "recipe pair path `/etc/passwd`",
        _recipe(mutated(pair__path="/etc/passwd")),
        "must be a relative path",
    ),
    (
        "recipe-pair-symlink",
        "recipe pair file a symbolic link out of its folder",
        _recipe(recipe_pair_symlink),
        "leads outside the recipe's folder",
    ),
    (
        "recipe-pair-image-out",
        "recipe pair file whose images are outside its folder",
        _recipe(recipe_pair_image_outside),
        "is outside",
    ),
    (
        "recipe-concept-mismatch",
        "recipe pair `concept` that the pair file contradicts",
        _recipe(recipe_concept_mismatch),
        "the pair file says 'red'",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hostile_input_is_refused_in_one_line(case, tiny_wan_single, tmp_path, monkeypatch):
    _, _, build, message = case
    work = tmp_path / "in"
    work.mkdir()
    args = [str(a) for a in build(work, {"model": tiny_wan_single, "monkeypatch": monkeypatch})]
    before = tree(tmp_path)
    out = tmp_path / "out"
    check_refused(run_cli([*args, "--out", out]), out, message)
    assert tree(tmp_path) == before  # nothing written beside the inputs


def test_html_in_prompts_reaches_the_card_escaped(tiny_wan_single, tmp_path):
    """`<script>` in a description, neutral and eval prompts is shown, not run (OUT's own name, here HTML too,
    is not on the card at all)."""
    text = replaced('"the colour red"', '"<script>alert(1)</script> & red"').replace(
        '"a red house at night"', '"a red house </td>"'
    )
    neutral = text[
        text.index("neutral = ") : text.index("eval = ")
    ]  # every neutral prompt: three are named in the card
    text = text.replace(neutral, re.sub(r'"(?=\w)', '"<img src=x onerror=alert(1)> ', neutral))
    out = tmp_path / "o<b>&"
    result = run_cli(["patch", tiny_wan_single, P, pairs_with(tmp_path, text), "--out", out, "--size", TINY_SIZE])
    assert result.exit_code == 0, result.output
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "<script>" not in card and "<img" not in card and "</td>" not in card and "<b>" not in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; red" in card  # the description, escaped
    assert "&lt;img src=x onerror=alert(1)&gt;" in card  # the most changed neutral prompts table
    assert "o&lt;b&gt;" not in card and "o\\u003cb" not in card  # the card never names the output folder
    assert 'pipe("\\u003cimg src=x onerror=alert(1)\\u003e ' in card  # the usage block's prompt, a neutral one
    assert run_cli(["verify", out]).exit_code == 0  # the card is hashed like every file


# --------------------------------------------------------------------------- property-based


@pytest.fixture(scope="module")
def text_recipe(tiny_wan_single, tmp_path_factory) -> Path:
    """A real recipe (the default text read-out on the tiny model, no summary): the mutations' seed."""
    out = tmp_path_factory.mktemp("recipe") / "out"
    result = run_cli(["patch", tiny_wan_single, P, TINY_PAIRS, "--out", out, "--size", TINY_SIZE, "--no-summary"])
    assert result.exit_code == 0, result.output
    return out


HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\u202e",
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "/etc/passwd",
        "0.5",
        "text+evil",
        "r" * 300,
        "nan",
        "refusal",
        "raw",
        "weditor/pairs/red.toml",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, -1, 2**63, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    HOSTILE_TEXT,
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(HOSTILE_TEXT, inner, max_size=3)),
    max_leaves=6,
)
KEYS = st.sampled_from(
    [
        "format",
        "weditor_version",
        "base_model",
        "pairs",
        "method",
        "params",
        "edits",
        "summary",
        "files",
        "model",
        "out",
        "params.method",
        "params.removal",
        "params.strength",
        "params.seed",
        "params.size",
        "params.steps",
        "params.edit",
        "params.dtype",
        "params.out",
        "params.pairs",
        "params.layers",
        "params.site",
        "params.reins",
        "params.reins_layer",
        "params.readouts",
        "pairs.0",
        "pairs.0.path",
        "pairs.0.sha256",
        "pairs.0.concept",
        "base_model.id",
        "base_model.revision",
    ]
)
MUTATION = st.tuples(st.sampled_from(["set", "delete"]), KEYS, VALUES)


def apply(recipe: dict, op: str, key: str, value):
    *parents, last = key.split(".")
    node = recipe
    for part in parents:
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            return
        if op == "delete":
            node.pop(int(last))
        else:
            node[int(last)] = value
    elif isinstance(node, dict):
        if op == "delete":
            node.pop(last, None)
        else:
            node[last] = value


def exits_cleanly(result, out: Path):
    """Success, or exit 2 with exactly one Error line, no traceback, no OUT."""
    assert "Traceback" not in result.output
    event(f"exit {result.exit_code}")
    if result.exit_code == 0:
        assert (out / "weditor.json").is_file()
        return
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert len([line for line in result.output.splitlines() if line.startswith("Error:")]) == 1, result.output
    assert not out.exists()


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(mutations=st.lists(MUTATION, min_size=1, max_size=3))
def test_mutated_recipes_reproduce_or_fail_in_one_line(text_recipe, tmp_path_factory, mutations):
    recipe = json.loads((text_recipe / "weditor.json").read_text())
    for op, key, value in mutations:
        apply(recipe, op, key, value)
    folder = tmp_path_factory.mktemp("mutant")
    shutil.copytree(text_recipe / "weditor", folder / "weditor")
    try:
        (folder / "weditor.json").write_text(json.dumps(recipe))
    except ValueError:  # an integer too long for str(): no JSON file can be written from it
        return
    out = folder / "out"
    exits_cleanly(run_cli(["patch", "--recipe", folder / "weditor.json", "--out", out, "--no-summary"]), out)


PROMPT = st.one_of(HOSTILE_TEXT, st.text(max_size=20), st.from_regex(r"\Aa (red )?(car|dog|cat|boat) [a-z]{1,6}\Z"))
FIELD = st.one_of(PROMPT, st.integers(), st.lists(PROMPT, max_size=3), st.booleans(), st.floats())
PAIR_FIELDS = st.sampled_from(
    [
        "concept",
        "description",
        "keywords",
        "neutral",
        "eval",
        "eval_synonyms",
        "evil",
        *(f"pair.{i}.{m}" for i in range(5) for m in ("unsafe", "safe", "image", "evil")),
    ]
)


def toml_value(value) -> str:
    """`value` as TOML; strings as basic strings, every control character escaped as \\uXXXX."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(str(value), str(value))
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")  # JSON leaves DEL raw; TOML does not


def pair_document(fields: dict, pairs: list[dict], extra: str) -> str:
    return (
        "".join(f"{k} = {toml_value(v)}\n" for k, v in fields.items())
        + extra
        + "".join("[[pair]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in p.items()) for p in pairs)
    )


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    mutations=st.lists(st.tuples(st.sampled_from(["set", "delete"]), PAIR_FIELDS, FIELD), max_size=2),
    extra=st.sampled_from(["", "", "", "x = " + "[" * 3000 + "\n", "[bad\n"]),
)
def test_hostile_pair_files_parse_or_fail_in_one_line(tmp_path_factory, mutations, extra):
    """tests/data/tiny-red.toml with fields set to hostile values or deleted, through the CLI, against a
    model folder that does not exist: a pair file that parses reaches the model check ("no such
    folder"); any other fails on the pair file, in one line."""
    import tomllib

    data = tomllib.loads(TINY)
    pairs = data.pop("pair")
    for op, key, value in mutations:
        target, name = (pairs[int(key.split(".")[1])], key.split(".")[2]) if key.startswith("pair.") else (data, key)
        if op == "delete":
            target.pop(name, None)
        else:
            target[name] = value
    folder = tmp_path_factory.mktemp("pairs")
    path = pairs_with(folder, pair_document(data, pairs, extra))
    out = folder / "out"
    result = run_cli(["patch", folder / "no-model", P, path, "--out", out])
    exits_cleanly(result, out)
    line = next(x for x in result.output.splitlines() if x.startswith("Error:"))
    assert str(path) in line or "no-model" in line, line
    assert line.isprintable()  # no raw control or bidi character reaches the terminal
    event("parsed" if "no-model" in line else "refused")


def test_old_recipes_still_check(tmp_path):
    """Recipes as 0.1 (no method, no neutral, no edit) and 0.3 (REINS-only with a neutral mode) wrote them."""
    from weditor.pipeline.reproduce import config_from_recipe

    old = {
        "format": 1,
        "weditor_version": "0.1.0",
        "base_model": {"id": "some/model", "revision": None, "pipeline_class": "WanPipeline"},
        "pairs": good_recipe()["pairs"],
        "edits": [],
        "summary": {},
        "files": {},
        "params": {
            "rank": 100,
            "alpha": 1.0,
            "strength": 1.0,
            "layers": "0.5-1.0",
            "site": "ffn_in",
            "seed": 0,
            "directions": 1,
            "steps": 4,
            "size": [32, 32, 5],
            "dtype": None,
            "layers_resolved": {"transformer": [2, 3]},
        },
    }
    cfg = config_from_recipe(recipe_folder(tmp_path, old), str(tmp_path / "o"))
    assert (cfg.method, cfg.edit, cfg.neutral, cfg.rank, cfg.size) == ("refusal", "projection", "raw", 100, (32, 32, 5))
    safree = {
        **old,
        "weditor_version": "0.2.0",
        "method": "safree",
        "params": {
            "rank": 4,
            "strength": 1.0,
            "pool": "tokens",
            "steps": 4,
            "size": [32, 32, 5],
            "seed": 0,
            "dtype": None,
            "keywords": ["red"],
            "subspaces": {},
            "text_input": {"transformer": ["x"]},
        },
    }
    shutil.rmtree(tmp_path / "recipe")
    cfg = config_from_recipe(recipe_folder(tmp_path, safree), str(tmp_path / "o"))
    assert (cfg.method, cfg.safree_pool, cfg.rank) == ("safree", "tokens", 4)
