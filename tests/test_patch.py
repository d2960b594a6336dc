"""End to end: `weditor patch` on tiny random Wan pipelines, checked against stock diffusers."""

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from tests.conftest import PAPER_SITE, TINY_PAIRS, TINY_SIZE, run_cli
from weditor.io.integrity import check_folder as verify_folder
from weditor.io.recipe import DIRECTIONS_FILE, hash_files
from weditor.maths.edits import project_input, project_output


def load(folder):
    from diffusers import WanPipeline

    pipe = WanPipeline.from_pretrained(folder)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def all_tensors(folder: Path) -> dict:
    out = {}
    for path in sorted(folder.rglob("*.safetensors")):
        if "weditor" in path.relative_to(folder).parts:
            continue
        with safe_open(path, "pt") as f:
            for name in f.keys():
                out[(path.relative_to(folder).parent.as_posix(), name)] = f.get_tensor(name)
    return out


def directions(folder) -> dict:
    from safetensors.torch import load_file

    return load_file(folder / DIRECTIONS_FILE)


def test_recipe_lists_edits_and_hashes(patched):
    recipe = json.loads((patched / "weditor.json").read_text())
    assert recipe["base_model"]["pipeline_class"] == "WanPipeline"
    assert {e["component"] for e in recipe["edits"]} == {"transformer", "transformer_2"}  # Wan 2.2: both edited
    assert sorted({int(e["tensor"].split(".")[1]) for e in recipe["edits"]}) == [1, 2, 3]
    assert recipe["files"] == hash_files(patched)
    assert recipe["pairs"][0]["concept"] == "red"
    assert (patched / recipe["pairs"][0]["path"]).read_bytes() == TINY_PAIRS.read_bytes()
    assert recipe["verification"]["forward_max_rel_diff"] <= 1e-6
    verify_folder(patched)


def test_edited_tensors_equal_the_edit_recomputed_from_the_base(tiny_wan, patched):
    base, out = all_tensors(tiny_wan), all_tensors(patched)
    dirs = directions(patched)
    assert base.keys() == out.keys()
    edited = 0
    for (component, name), tensor in out.items():
        key = f"{component}.blocks.{name.split('.')[1]}.ffn_in" if name.startswith("blocks.") else None
        if key in dirs and name.endswith("ffn.net.0.proj.weight"):
            expected = project_input(base[(component, name)], dirs[key])
            assert torch.equal(tensor, expected), name
            assert not torch.equal(tensor, base[(component, name)])
            edited += 1
        else:  # untouched tensors are byte-identical
            assert torch.equal(
                tensor.view(torch.uint8) if tensor.dtype != torch.bool else tensor,
                base[(component, name)].view(torch.uint8) if tensor.dtype != torch.bool else base[(component, name)],
            ), name
    assert edited == 6  # 3 blocks x 2 transformers


def _hooked_base(tiny_wan, dirs, strength=1.0):
    """The base pipeline with the edit applied at run time by hooks instead of in the weights."""
    pipe = load(tiny_wan)
    for key, Q in dirs.items():
        component, _, block, _ = key.split(".")
        module = getattr(pipe, component).blocks[int(block)].ffn.net[0].proj
        Qf = Q.float()
        module.register_forward_pre_hook(lambda m, args, Q=Qf: (args[0] - strength * (args[0] @ Q.T) @ Q,))
    return pipe


def test_reloaded_checkpoint_matches_a_runtime_hook(tiny_wan, patched):
    hooked, reloaded = _hooked_base(tiny_wan, directions(patched)), load(patched)
    base = load(tiny_wan)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 2, 4, 4, generator=g)
    text = torch.randn(2, 16, 16, generator=g)
    for component in ("transformer", "transformer_2"):
        for t in (999.0, 500.0, 20.0):
            kwargs = dict(hidden_states=x, timestep=torch.tensor([t, t]), encoder_hidden_states=text, return_dict=False)
            want = getattr(hooked, component)(**kwargs)[0]
            got = getattr(reloaded, component)(**kwargs)[0]
            orig = getattr(base, component)(**kwargs)[0]
            assert (got - want).abs().max() <= 1e-5 * want.abs().max()
            assert (got - orig).abs().max() > 1e-4 * orig.abs().max()  # the edit does something


def test_full_pipeline_generation_matches_the_hooked_base(tiny_wan, patched):
    hooked, reloaded = _hooked_base(tiny_wan, directions(patched)), load(patched)
    kwargs = dict(
        prompt="a red car on a street",
        height=32,
        width=32,
        num_frames=5,
        num_inference_steps=3,
        max_sequence_length=16,
        output_type="pt",
        guidance_scale=3.0,
    )
    want = hooked(**kwargs, generator=torch.Generator().manual_seed(0)).frames
    got = reloaded(**kwargs, generator=torch.Generator().manual_seed(0)).frames
    assert (got - want).abs().max() <= 1e-5


def test_patch_is_deterministic(tiny_wan, patched, tmp_path):
    out = tmp_path / "again" / patched.name  # the folder name appears in the model card
    result = run_cli(["patch", tiny_wan, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, *PAPER_SITE])
    assert result.exit_code == 0, result.output
    assert hash_files(out) == hash_files(patched)
    assert (out / "weditor.json").read_bytes() == (patched / "weditor.json").read_bytes()


def test_output_side_edit_on_a_single_file_checkpoint(tiny_wan_single, tmp_path):
    out = tmp_path / "out"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--site",
            "cross_attn_out",
            "--layers",
            "-1",
            "--rank",
            "none",
            "--edit",
            "projection",
            "--strength",
            "1",
            "--no-summary",
        ]
    )
    assert result.exit_code == 0, result.output
    dirs = directions(out)
    assert list(dirs) == ["transformer.blocks.3.cross_attn_out"]
    Q = dirs["transformer.blocks.3.cross_attn_out"]
    base, new = all_tensors(tiny_wan_single), all_tensors(out)
    prefix = ("transformer", "blocks.3.attn2.to_out.0")
    w, b = project_output(base[(prefix[0], prefix[1] + ".weight")], base[(prefix[0], prefix[1] + ".bias")], Q)
    assert torch.equal(new[(prefix[0], prefix[1] + ".weight")], w)
    assert torch.equal(new[(prefix[0], prefix[1] + ".bias")], b)
    # what the cross-attention writes into the stream has no component along Q
    pipe = load(out)
    seen = []
    pipe.transformer.blocks[3].attn2.to_out[0].register_forward_hook(lambda m, a, o: seen.append(o))
    g = torch.Generator().manual_seed(1)
    pipe.transformer(
        hidden_states=torch.randn(1, 4, 2, 4, 4, generator=g),
        timestep=torch.tensor([500.0]),
        encoder_hidden_states=torch.randn(1, 16, 16, generator=g),
    )
    assert (seen[0] @ Q.float().T).abs().max() < 1e-5 * seen[0].abs().max()


def test_gated_write_site_is_refused(tiny_wan_single, tmp_path):
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            tmp_path / "o",
            "--site",
            "ffn_out",
        ]
    )
    assert result.exit_code == 2
    assert "gate" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--layers", "9"], "out of range"),
        (["--rank", "999"], "larger than the width"),
        (["--strength", "0"], "--strength"),
        (["--alpha", "-1"], "--alpha"),
        (["--site", "nope"], "unknown for wan"),
    ],
)
def test_bad_options_fail_cleanly(tiny_wan_single, tmp_path, extra, message):
    out = tmp_path / "out"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--no-summary",
            *extra,
        ]
    )
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and message in errors[0], result.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind


def test_missing_model_and_bad_pairs(tmp_path, tiny_wan_single):
    result = run_cli(["patch", tmp_path / "no-such-model", "--pairs", TINY_PAIRS, "--out", tmp_path / "o"])
    assert result.exit_code == 2 and "no-such-model" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('concept = "x"\nneutral = ["a"]\n[[pair]]\nunsafe = "a"\nsafe = "b"\n')
    result = run_cli(["patch", tiny_wan_single, "--pairs", bad, "--out", tmp_path / "o"])
    assert result.exit_code == 2 and "bad.toml" in result.output and "need at least 5" in result.output
    assert not (tmp_path / "o").exists()


def test_base_folder_is_never_an_output(tiny_wan_single):
    before = hash_files(tiny_wan_single)
    for out in (tiny_wan_single, tiny_wan_single / "sub"):
        result = run_cli(["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", out, "--overwrite"])
        assert result.exit_code == 2 and "base" in result.output
    assert hash_files(tiny_wan_single) == before


def test_existing_output_needs_overwrite(tiny_wan_single, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run_cli(["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", out])
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert (out / "keep.txt").read_text() == "mine"


def test_verify_folder_detects_tampering(patched, tmp_path):
    import shutil

    from weditor.errors import WeditorError

    copy = tmp_path / "copy"
    shutil.copytree(patched, copy)
    shard = sorted((copy / "transformer").glob("*.safetensors"))[0]
    data = bytearray(shard.read_bytes())
    data[-1] ^= 1
    shard.write_bytes(bytes(data))
    with pytest.raises(WeditorError, match="does not match the SHA-256"):
        verify_folder(copy)
    (copy / "extra.bin").write_bytes(b"x")
    with pytest.raises(WeditorError, match="not listed"):
        verify_folder(copy)


def test_unchanged_files_are_hard_links_unless_copy(tiny_wan_single, tmp_path):
    import os

    for flag, linked in (([], True), (["--copy"], False)):
        out = tmp_path / f"out{len(flag)}"
        result = run_cli(
            ["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, "--no-summary", *flag]
        )
        assert result.exit_code == 0, result.output
        vae = "vae/diffusion_pytorch_model.safetensors"
        assert os.path.samefile(out / vae, tiny_wan_single / vae) is linked
        edited = "transformer/diffusion_pytorch_model.safetensors"
        assert not os.path.samefile(out / edited, tiny_wan_single / edited)  # rewritten, never linked


def test_hard_linked_base_files_are_never_written_through(tiny_wan_single, patched, tmp_path):
    """The output's card and recipe replace hard links by new files: the base's own stay as they were."""
    import shutil

    base = Path(shutil.copytree(tiny_wan_single, tmp_path / "base-with-card"))
    (base / "README.md").write_text("---\nlicense: apache-2.0\n---\n# the base model's own card\n")
    before = hash_files(base)
    out = tmp_path / "o1"
    result = run_cli(["patch", base, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, "--no-summary"])
    assert result.exit_code == 0, result.output
    assert hash_files(base) == before
    assert "weditor" in (out / "README.md").read_text() and "apache-2.0" in (out / "README.md").read_text()
    # patching a patched folder: its recipe, pairs and directions are replaced, never modified
    before = hash_files(out)
    recipe_before = (out / "weditor.json").read_bytes()
    out2 = tmp_path / "o2"
    result = run_cli(["patch", out, "--pairs", TINY_PAIRS, "--out", out2, "--size", TINY_SIZE, "--no-summary"])
    assert result.exit_code == 0, result.output
    assert hash_files(out) == before and (out / "weditor.json").read_bytes() == recipe_before
    verify_folder(out2)
