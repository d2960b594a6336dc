"""The encoder edits' data completed with the pair file's own synonyms (weditor/methods/encoder_synonyms.py).

On the shipped shapes model: each keyword no pair holds is assigned, by the text encoder's own encoding, to the
pair word it stands for (red's crimson and scarlet to "red", circle's ball and disc to "circle"); a file without
parts is returned as it is (its edit unchanged); the completed block fit is deterministic, the stock reload of the
written text encoder equals it, and it moves a synonym prompt towards its twin where the uncompleted fit does not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_adapters import load, tiny  # noqa: F401 (fixture)
from weditor import defaults, shapes
from weditor.io.pairs import Pair, load_pairs, load_pairsets, neutral_prompts
from weditor.methods import encoder_block, encoder_synonyms
from weditor.models.runtime import encode

PAIRS = Path(__file__).resolve().parents[1] / "pairs"
PURPLE = PAIRS / "shapes-purple-circle.toml"


@pytest.fixture(scope="module")
def shapes_pipe():
    if not (shapes.model_path() / "model_index.json").exists():
        pytest.fail(f"shipped model missing: {shapes.model_path()}")
    return load(shapes.model_path())


@pytest.mark.parametrize(
    "name, expected",
    [("red-square", {"crimson": "red", "scarlet": "red"}), ("purple-circle", {"ball": "circle", "disc": "circle"})],
)
def test_each_synonym_is_assigned_to_the_word_it_stands_for(name, expected, shapes_pipe):
    pipe, adapter = shapes_pipe
    pairset = load_pairs(PAIRS / f"shapes-{name}.toml")
    table = encoder_synonyms.assign(pipe, adapter, pairset)
    assert {s: w for s, (w, _) in table.items()} == expected, table
    for synonym, (word, cosine) in table.items():
        other = next(w for w in encoder_synonyms.pair_words(pairset) if w != word)
        vec = encoder_synonyms.word_vector
        cos_other = torch.nn.functional.cosine_similarity(vec(pipe, adapter, synonym), vec(pipe, adapter, other), dim=0)
        assert cosine > float(cos_other) + 0.3, (synonym, cosine, float(cos_other))  # a margin, not a tie


@pytest.mark.parametrize(
    "path", ["shapes-red.toml", "shapes-circle.toml", "shapes-left.toml", "shapes-cyan-cross.toml"]
)
def test_a_file_without_parts_or_synonyms_is_returned_as_it_is(path, shapes_pipe):
    pipe, adapter = shapes_pipe
    pairsets = load_pairsets([PAIRS / path])
    out, record = encoder_synonyms.with_synonyms(pipe, adapter, pairsets)
    assert record == {} and len(out) == 1 and out[0] is pairsets[0]
    out, record = encoder_synonyms.fit_pairsets(pipe, adapter, pairsets, "cpu", "block")
    assert record == {} and out[0] is pairsets[0]
    out, record = encoder_synonyms.fit_pairsets(pipe, adapter, load_pairsets([PURPLE]), "cpu", "wo")
    assert record == {} and len(out[0].pairs) == len(load_pairs(PURPLE).pairs)  # the wo fit: as before


def test_the_substituted_pairs_and_kept_prompts():
    pairset = load_pairs(PURPLE)
    done = encoder_synonyms.completed(pairset, {"ball": ("circle", 0.5)})
    assert done.pairs[: len(pairset.pairs)] == pairset.pairs and done.neutral[: len(pairset.neutral)] == pairset.neutral
    new = done.pairs[len(pairset.pairs) :]
    assert len(new) == len(pairset.pairs)
    assert new[0] == Pair("a purple ball moving left", "a ball moving left")
    added = done.neutral[len(pairset.neutral) :]
    assert "a blue ball moving up" in added and "a ball moving left" in added
    assert all("ball" in p for p in added) and not any("purple" in p for p in added)
    kept_out = encoder_synonyms.completed(pairset, {"ball": ("circle", 0.5)}, keep=False)
    assert kept_out.neutral == pairset.neutral and kept_out.pairs == done.pairs
    table = {"ball": ("circle", 0.5), "disc": ("circle", 0.5)}
    turns = encoder_synonyms.completed(pairset, table, rotate=True).pairs[len(pairset.pairs) :]
    unsafe = [p.unsafe for p in turns]  # the synonyms take the pairs in turn: one substituted pair per pair
    assert len(turns) == len(pairset.pairs) and "a purple ball moving left" in unsafe
    assert "a purple disc that moves upwards" in unsafe and "a purple disc moving left" not in unsafe
    assert len(encoder_synonyms.completed(pairset, table).pairs) == 3 * len(pairset.pairs)
    capped = encoder_synonyms.completed(pairset, table, rotate=True, per_synonym=1).pairs[len(pairset.pairs) :]
    assert [p.unsafe for p in capped] == ["a purple ball moving left", "a purple disc that moves upwards"]
    assert encoder_synonyms.candidates(pairset) == ["ball", "disc"]
    assert encoder_synonyms.pair_words(pairset) == ["purple", "circle"]
    assert encoder_synonyms.pair_words(load_pairs(TINY_PAIRS)) == []


def _fit(pipe, adapter, base, complete: bool):
    given = pairsets = load_pairsets([PURPLE])
    if complete:
        pairsets, record = encoder_synonyms.fit_pairsets(pipe, adapter, pairsets, "cpu", "block")  # as the patch
        assert record["purple-circle"]["ball"][0] == "circle"
        pairsets, counts = encoder_synonyms.part_prompts(pairsets, given)  # ... with the synthesized part prompts
        assert counts["purple-circle"] > 0
    data = encoder_block.statistics(pipe, adapter, base, pairsets, neutral_prompts(pairsets), "cpu")
    _, names, new, deltas, _, _, info = encoder_block.fit_block(
        pipe, adapter, base, data, defaults.BLOCK_PRESERVE, defaults.BLOCK_LAMBDA
    )
    return names, new, deltas, info


def _twin_distance(pipe, adapter, unsafe: str, safe: str) -> float:
    """Squared distance of the unsafe prompt's encoding to its twin's, token by token as the fit aligns them."""
    from weditor.methods.encoder_edit import targets

    u, s = (encode(pipe, adapter, [p], "cpu")["encoder_hidden_states"][0].detach().double() for p in (unsafe, safe))
    pos = targets(pipe, unsafe, safe, u.shape[0])
    return float(sum(((u[i] - s[j]) ** 2).sum() for i, j in pos))


@pytest.fixture(scope="module")
def purple_patched(tmp_path_factory):
    out = tmp_path_factory.mktemp("syn") / "o"
    args = ["patch", "weditor:shapes", "--pairs", PURPLE, "--method", "encoder", "--encoder-weights", "block"]
    result = run_cli([*args, "--no-tune", "--out", out])
    assert result.exit_code == 0, result.output
    assert "synonyms of the pair words: ball -> circle" in result.output  # the summary says what was assumed
    return out


def test_the_completed_block_fit_is_deterministic_exact_and_reaches_the_synonyms(shapes_pipe, purple_patched):
    from weditor.models.loading import load_base
    from weditor.models.measure import apply_in_memory

    pipe, adapter = shapes_pipe
    base, _ = load_base("weditor:shapes", None)
    names, new, deltas, info = _fit(pipe, adapter, base, True)
    again = _fit(pipe, adapter, base, True)
    for name in names:
        assert deltas[name].numpy().tobytes() == again[2][name].numpy().tobytes(), name
    assert info["erased_tokens"] > 0 and info["distance_to_twin_after"] < 0.5, info

    recipe = json.loads((purple_patched / "weditor.json").read_text())
    (row,) = recipe["summary"]["encoder_block"]
    assert row["synonyms"]["purple-circle"]["ball"][0] == "circle" and row["erased_tokens"] == info["erased_tokens"]
    assert row["part_prompts_synthesized"]["purple-circle"] > 0 and row["kept_tokens"] == info["kept_tokens"]
    reloaded = type(pipe.text_encoder).from_pretrained(purple_patched / "text_encoder")
    for name, value in new.items():
        assert torch.equal(reloaded.get_parameter(name).detach(), value), name

    unsafe, safe = "a purple ball going up", "a ball going up"  # not a pair member
    before = _twin_distance(pipe, adapter, unsafe, safe)
    edited, _ = load(shapes.model_path())  # a fresh pipeline for each edit: the module's stays the base
    apply_in_memory(edited, {"text_encoder": new})
    in_memory = encode(edited, adapter, [unsafe], "cpu")["encoder_hidden_states"].detach()
    completed = _twin_distance(edited, adapter, unsafe, safe)
    edited.text_encoder = reloaded
    stock = encode(edited, adapter, [unsafe], "cpu")["encoder_hidden_states"].detach()
    plain_pipe, _ = load(shapes.model_path())
    apply_in_memory(plain_pipe, {"text_encoder": _fit(pipe, adapter, base, False)[1]})
    plain = _twin_distance(plain_pipe, adapter, unsafe, safe)
    scale = float(in_memory.abs().max())
    assert float((in_memory - stock).abs().max()) <= 1e-6 * scale
    assert completed < 0.5 * before, (completed, before)  # the synonym prompt went most of the way to its twin
    assert plain > 2 * completed, (plain, completed)  # ... which the fit on the pairs alone does not do


def test_the_recipe_of_a_completed_fit_reproduces_it_byte_for_byte(purple_patched, tmp_path):
    from weditor.io.recipe import hash_files

    again = tmp_path / "again" / purple_patched.name
    result = run_cli(["patch", "--recipe", purple_patched / "weditor.json", "--out", again])
    assert result.exit_code == 0, result.output
    assert hash_files(again) == hash_files(purple_patched)


@pytest.mark.parametrize(
    "args, preserve, lam",
    [
        (["--encoder-weights", "block"], defaults.BLOCK_PRESERVE, defaults.BLOCK_LAMBDA),
        (["--encoder-weights", "block", "--encoder-preserve", "20"], 20.0, defaults.BLOCK_LAMBDA),
        (["--encoder-weights", "block", "--encoder-lambda", "0.01"], defaults.BLOCK_PRESERVE, 0.01),
        ([], defaults.ENCODER_PRESERVE, defaults.ENCODER_LAMBDA),
        (["--encoder-preserve", "10"], 10.0, defaults.ENCODER_LAMBDA),
    ],
)
def test_explicit_encoder_options_are_kept_whatever_the_weights(args, preserve, lam, tiny, tmp_path):  # noqa: F811
    """`--encoder-preserve 20 --encoder-weights block` used to become block's 10 (20 is the wo fit's default)."""
    from tests.test_safree import FAMILIES

    out = tmp_path / "o"
    result = run_cli(
        ["patch", tiny("wan"), "--pairs", TINY_PAIRS, "--method", "encoder", *args, "--no-tune", "--no-summary"]
        + ["--out", out, "--size", FAMILIES["wan"]]
    )
    assert result.exit_code == 0, result.output
    params = json.loads((out / "weditor.json").read_text())["params"]
    assert (params["encoder_preserve"], params["encoder_lambda"]) == (preserve, lam)
