"""Bad inputs to `weditor patch`: each is refused with exit 2 and one line starting with
"Error:", and leaves neither OUT_DIR nor a hidden staging folder behind.

What tests/test_pairs.py (parser messages) and tests/test_patch.py (--layers, --rank, --site,
missing model, base as output, existing output) already cover is not repeated here.
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pytest
import torch

from tests.conftest import TINY_PAIRS, TINY_SIZE, run_cli
from weditor.io.integrity import check_folder as verify_folder
from weditor.io.recipe import hash_files

GOOD = 'concept = "x"\nneutral = ["a dog"]\n'
PAIRS = "".join(
    f'[[pair]]\nunsafe = "a red car {w}"\nsafe = "a car {w}"\n'
    for w in ("on a street", "at night", "in the rain", "by a river", "in a city")
)


def refused(result, out: Path, message: str, code: int = 2):
    """Exit `code`, exactly one line starting with "Error:" that contains `message`, nothing left behind."""
    assert result.exit_code == code, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert message in errors[0], errors[0]
    assert "Traceback" not in result.output
    assert not out.exists()
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    assert not leftovers, leftovers
    return errors[0]


def patch(model, pairs, out, *extra):
    return run_cli(
        [
            "patch",
            "--method",
            "refusal",
            model,
            "--pairs",
            pairs,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--no-summary",
            "--steps",
            "2",
            *extra,
        ]
    )


# --------------------------------------------------------------------------- pair files


def _png(path: Path):
    from PIL import Image

    Image.new("RGB", (8, 8), (200, 0, 0)).save(path)
    return path


@pytest.mark.parametrize(
    "name,make,message",
    [
        ("missing", None, "pair file does not exist"),
        ("not-toml", lambda d: b"concept = [\n", "not valid TOML"),
        ("wrong-type", lambda d: (GOOD + PAIRS + '[[pair]]\nunsafe = 3\nsafe = "s"\n').encode(), "expected a string"),
        (
            "neutral-type",
            lambda d: ('concept = "x"\nneutral = "a dog"\n' + PAIRS).encode(),
            "expected a list of strings",
        ),
        (
            "too-few",
            lambda d: (GOOD + PAIRS.split("[[pair]]", 3)[1].join(["[[pair]]", ""])).encode(),
            "need at least 5",
        ),
        (
            "duplicate",
            lambda d: (GOOD + PAIRS + '[[pair]]\nunsafe = "a red car at night"\nsafe = "a car at night"\n').encode(),
            "duplicate of pair 2",
        ),
        ("identical", lambda d: (GOOD + PAIRS + '[[pair]]\nunsafe = "a car"\nsafe = "a  car"\n').encode(), "identical"),
        (
            "image-missing",
            lambda d: (
                GOOD + PAIRS.replace('safe = "a car in a city"\n', 'safe = "a car in a city"\nimage = "nope.png"\n')
            ).encode(),
            "does not exist",
        ),
        (
            "image-unreadable",
            lambda d: (
                (d / "bad.png").write_bytes(b"\x89PNG not really"),
                (
                    GOOD + PAIRS.replace('safe = "a car in a city"\n', 'safe = "a car in a city"\nimage = "bad.png"\n')
                ).encode(),
            )[1],
            "not a readable image",
        ),
        ("non-utf8", lambda d: GOOD.encode() + b'description = "caf\xe9"\n' + PAIRS.encode(), "not UTF-8"),
        (
            "images-for-t2v",
            lambda d: (
                (_png(d / "red.png")),
                (
                    GOOD
                    + "".join(
                        f'[[pair]]\nunsafe = "a red car {i}"\nsafe = "a car {i}"\nimage = "red.png"\n' for i in range(5)
                    )
                ).encode(),
            )[1],
            "text-to-video only",
        ),
    ],
)
def test_bad_pair_files(tiny_wan_single, tmp_path, name, make, message):
    path = tmp_path / f"{name}.toml"
    if make is not None:
        path.write_bytes(make(tmp_path))
    out = tmp_path / "out"
    line = refused(patch(tiny_wan_single, path, out), out, message)
    assert str(path) in line


# --------------------------------------------------------------------------- model folders


def _copy_with_index(src: Path, dst: Path, edit) -> Path:
    shutil.copytree(src, dst)
    index = dst / "model_index.json"
    index.write_text(edit(index.read_text()))
    return dst


def test_model_folder_problems(tiny_wan_single, tmp_path):
    out = tmp_path / "out"
    refused(patch(tmp_path / "nope", TINY_PAIRS, out), out, "no such folder")
    (tmp_path / "empty").mkdir()
    refused(patch(tmp_path / "empty", TINY_PAIRS, out), out, "not a diffusers pipeline folder (no model_index.json)")
    (tmp_path / "file").write_text("x")
    refused(patch(tmp_path / "file", TINY_PAIRS, out), out, "is a file")
    broken = _copy_with_index(tiny_wan_single, tmp_path / "broken", lambda t: t[:-5])
    refused(patch(broken, TINY_PAIRS, out), out, "not valid JSON")


def test_unsupported_architecture_lists_the_supported_ones(tiny_wan_single, tmp_path):
    from weditor.adapters import supported_pipelines

    other = _copy_with_index(
        tiny_wan_single, tmp_path / "sd", lambda t: t.replace('"WanPipeline"', '"StableDiffusionPipeline"')
    )
    out = tmp_path / "out"
    line = refused(patch(other, TINY_PAIRS, out), out, "'StableDiffusionPipeline' is not supported")
    assert all(p in line for p in supported_pipelines())


def test_corrupt_weights_fail_cleanly(tiny_wan_single, tmp_path):
    bad = tmp_path / "trunc"
    shutil.copytree(tiny_wan_single, bad)
    shard = bad / "transformer" / "diffusion_pytorch_model.safetensors"
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    out = tmp_path / "out"
    refused(patch(bad, TINY_PAIRS, out), out, "could not load it")


# --------------------------------------------------------------------------- pickles


@pytest.fixture(scope="module")
def pickled_wan(tmp_path_factory) -> Path:
    """tiny_wan_single's weights (same seed), every component saved as a pickle (.bin)."""
    from safetensors.torch import load_file

    from weditor.testing import save_tiny_wan_pipeline

    folder = save_tiny_wan_pipeline(tmp_path_factory.mktemp("pickled") / "tiny-wan-bin", seed=1)
    for st in sorted(folder.rglob("*.safetensors")):
        name = "pytorch_model.bin" if st.name == "model.safetensors" else st.name.replace(".safetensors", ".bin")
        torch.save(load_file(st), st.with_name(name))
        st.unlink()
    return folder


def test_pickle_only_base_is_refused_without_the_flag(pickled_wan, tmp_path):
    out = tmp_path / "out"
    line = refused(patch(pickled_wan, TINY_PAIRS, out), out, "--allow-pickle")
    assert "pickle" in line


def test_allow_pickle_converts_and_writes_safetensors_only(pickled_wan, tiny_wan_single, tmp_path):
    from safetensors import safe_open

    out, ref = tmp_path / "out", tmp_path / "ref"
    result = patch(pickled_wan, TINY_PAIRS, out, "--allow-pickle", "--layers", "2-3")
    assert result.exit_code == 0, result.output
    assert not [p for p in out.rglob("*") if p.suffix in (".bin", ".pt", ".pth", ".ckpt")]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # the converted mirror is gone
    verify_folder(out)
    recipe = json.loads((out / "weditor.json").read_text())
    assert (
        recipe["base_model"]["pickles"]["converted"]["transformer/diffusion_pytorch_model.bin"]
        == "transformer/diffusion_pytorch_model.safetensors"
    )
    assert recipe["base_model"]["id"] == str(pickled_wan)
    # The same weights patched from safetensors give the same edited transformer, bit for bit.
    assert patch(tiny_wan_single, TINY_PAIRS, ref, "--layers", "2-3").exit_code == 0
    name = "transformer/diffusion_pytorch_model.safetensors"
    with safe_open(out / name, "pt") as a, safe_open(ref / name, "pt") as b:
        assert set(a.keys()) == set(b.keys())
        for k in a.keys():
            assert torch.equal(a.get_tensor(k), b.get_tensor(k)), k
    from diffusers import WanPipeline

    WanPipeline.from_pretrained(out)  # stock diffusers loads the converted output
    assert run_cli(["diff", pickled_wan, out, "--allow-pickle"]).exit_code == 0
    assert run_cli(["verify", out, "--allow-pickle"]).exit_code == 0


class _Sneaky:
    """Unpickling this would create a file: what a malicious checkpoint could do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_pickle_with_code_is_refused_even_with_the_flag(pickled_wan, tmp_path):
    evil = tmp_path / "evil"
    shutil.copytree(pickled_wan, evil)
    marker = tmp_path / "pwned"
    state = torch.load(evil / "vae" / "diffusion_pytorch_model.bin", weights_only=True)
    state["payload"] = _Sneaky(str(marker))
    torch.save(state, evil / "vae" / "diffusion_pytorch_model.bin")
    out = tmp_path / "out"
    refused(patch(evil, TINY_PAIRS, out, "--allow-pickle"), out, "refused by torch.load(weights_only=True)")
    assert not marker.exists()


def test_redundant_pickles_are_not_carried_into_the_output(tiny_wan_single, tmp_path):
    """A component with both safetensors and an (unpatched) .bin: the .bin never reaches OUT."""
    base = tmp_path / "both"
    shutil.copytree(tiny_wan_single, base)
    (base / "transformer" / "diffusion_pytorch_model.bin").write_bytes(b"never read")
    out = tmp_path / "out"
    result = patch(base, TINY_PAIRS, out, "--layers", "3")
    assert result.exit_code == 0, result.output
    assert not list(out.rglob("*.bin"))
    recipe = json.loads((out / "weditor.json").read_text())
    assert recipe["base_model"]["pickles"]["omitted"] == ["transformer/diffusion_pytorch_model.bin"]
    assert run_cli(["diff", base, out]).exit_code == 0


# --------------------------------------------------------------------------- options and OUT_DIR


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--strength", "2.5"], "--strength"),
        (["--strength", "nan"], "--strength"),
        (["--strength", "-1"], "--strength"),
        (["--alpha", "101"], "--alpha"),
        (["--alpha", "nan"], "--alpha"),
        (["--alpha", "inf"], "--alpha"),
        (["--directions", "0"], "--directions"),
        (["--steps", "0"], "--steps"),
        (["--layers", "-9"], "out of range"),
        (["--layers", "1.5"], "outside [0, 1]"),
        (["--layers", "3-1"], "is empty"),
        (["--rank", "33"], "larger than the width 32"),
        (["--rank", "0"], "--rank"),
    ],
)
def test_out_of_range_options(tiny_wan_single, tmp_path, extra, message):
    out = tmp_path / "out"
    refused(patch(tiny_wan_single, TINY_PAIRS, out, *extra), out, message)


def test_more_directions_than_exist(tiny_wan_single, tmp_path):
    out = tmp_path / "out"
    refused(
        patch(tiny_wan_single, TINY_PAIRS, out, "--directions", "40", "--layers", "3", "--rank", "none"),
        out,
        "independent directions",
    )


def test_out_dir_refusals(tiny_wan_single, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    result = patch(tiny_wan_single, TINY_PAIRS, mine, "--overwrite")
    assert result.exit_code == 2 and "not a folder written by weditor" in result.output
    assert (mine / "thesis.tex").read_text() == "precious"
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "out"
    result = patch(tiny_wan_single, TINY_PAIRS, out)
    assert result.exit_code == 2 and "not a writable folder" in result.output
    before = hash_files(tiny_wan_single)
    result = patch(tiny_wan_single, TINY_PAIRS, tiny_wan_single / "transformer" / "out")
    assert result.exit_code == 2 and "inside the base model folder" in result.output
    assert hash_files(tiny_wan_single) == before


# --------------------------------------------------------------------------- numbers


def _tiny_with(tmp_path_factory, name: str, edit) -> Path:
    from weditor.testing import build_tiny_wan_pipeline

    pipe = build_tiny_wan_pipeline(seed=1)
    with torch.no_grad():
        edit(pipe)
    path = tmp_path_factory.mktemp(name) / name
    pipe.save_pretrained(path, safe_serialization=True)
    return path


@pytest.fixture(scope="module")
def inf_weights(tmp_path_factory):
    return _tiny_with(
        tmp_path_factory,
        "inf-weights",
        lambda p: p.transformer.blocks[0].ffn.net[0].proj.weight.__setitem__((0, 0), float("inf")),
    )


@pytest.fixture(scope="module")
def overflowing(tmp_path_factory):
    """Finite weights whose activations overflow float32 from block 1 on."""
    return _tiny_with(
        tmp_path_factory, "overflow", lambda p: p.transformer.blocks[0].attn2.to_out[0].weight.fill_(3e37)
    )


@pytest.fixture(scope="module")
def red_is_blue(tmp_path_factory):
    """'red' and 'blue' have the same text embedding: pairs red/blue differ in tokens, not in effect."""

    def edit(pipe):
        red, blue = pipe.tokenizer.convert_tokens_to_ids(["red", "blue"])
        pipe.text_encoder.shared.weight[blue] = pipe.text_encoder.shared.weight[red]

    return _tiny_with(tmp_path_factory, "red-is-blue", edit)


def test_nan_or_inf_weights_are_named(inf_weights, tmp_path):
    out = tmp_path / "out"
    refused(
        patch(inf_weights, TINY_PAIRS, out), out, "transformer: weight blocks.0.ffn.net.0.proj.weight holds 1 NaN/Inf"
    )


def test_non_finite_activations_name_the_layer_and_prompt(overflowing, tmp_path):
    out = tmp_path / "out"
    line = refused(patch(overflowing, TINY_PAIRS, out, "--layers", "1-3"), out, "NaN/Inf")
    assert "transformer.blocks.1.cross_attn_out" in line and "'a red car on a street'" in line


def test_pairs_the_tokenizer_cannot_tell_apart(tiny_wan_single, tmp_path):
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(
        GOOD
        + "".join(
            f'[[pair]]\nunsafe = "a zorblax car {w}"\nsafe = "a quuxit car {w}"\n'
            for w in ("on a street", "at night", "in the rain", "by a river", "in a city")
        )
    )
    out = tmp_path / "out"
    line = refused(patch(tiny_wan_single, unknown, out), out, "become the same tokens")
    assert "pair 1" in line and "zorblax" in line


def test_a_numerically_zero_direction_is_reported_not_written(red_is_blue, tmp_path):
    pairs = tmp_path / "red-blue.toml"
    pairs.write_text(
        GOOD
        + "".join(
            f'[[pair]]\nunsafe = "a red car {w}"\nsafe = "a blue car {w}"\n'
            for w in ("on a street", "at night", "in the rain", "by a river", "in a city")
        )
    )
    out = tmp_path / "out"
    refused(patch(red_is_blue, pairs, out, "--layers", "3"), out, "numerically zero")
    refused(patch(red_is_blue, pairs, out, "--method", "text"), out, "give the same encoder_hidden_states embeddings")


# --------------------------------------------------------------------------- failures while writing


def test_disk_full_while_writing(tiny_wan_single, tmp_path, monkeypatch):
    import safetensors.torch

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    out = tmp_path / "out"
    refused(patch(tiny_wan_single, TINY_PAIRS, out, "--layers", "3"), out, "No space left on device")


@pytest.mark.parametrize(
    "where",
    [
        "weditor.io.checkpoint.write_patched",
        "weditor.pipeline.verify.verify_staged",
        "weditor.io.checkpoint.move_into_place",
    ],
)
def test_interrupt_while_writing_leaves_nothing(tiny_wan_single, tmp_path, monkeypatch, where):
    """Ctrl-C (or any exception) at any point of the write: no OUT_DIR, no staging folder."""
    import importlib

    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.run import run_patch

    module, name = where.rsplit(".", 1)
    real = getattr(importlib.import_module(module), name)

    def interrupted(*args, **kwargs):
        real(*args, **kwargs) if name != "move_into_place" else None
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module("weditor.pipeline.write"), name, interrupted)
    out = tmp_path / "out"
    cfg = PatchConfig(
        method="refusal",
        pairs=[str(TINY_PAIRS)],
        out=str(out),
        model=str(tiny_wan_single),
        layers="3",
        size=(32, 32, 5),
        steps=2,
        summary=False,
    )
    with pytest.raises(KeyboardInterrupt):
        run_patch(cfg, echo=lambda *a: None)
    assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
