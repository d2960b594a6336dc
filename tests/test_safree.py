"""`weditor patch --method safree`: SAFREE's keyword-subspace projection folded into the text-input linears.

Exactness is checked the way SAFREE applies its projection: on the text embeddings, at run time.
The reloaded denoiser fed the original embeddings must equal the base denoiser fed embeddings
projected onto the orthogonal complement of the keyword subspace.
"""

from __future__ import annotations

import json

import pytest
import torch

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_adapters import DATA, all_tensors, assert_edited_as, directions, load, same_bits, tiny  # noqa: F401 (fixture)
from weditor.adapters.paths import expand_all
from weditor.maths.edits import project_input
from weditor.models.runtime import encode

FAMILIES = {
    "wan": "32x32x5",
    "wan-i2v": "32x32x5",
    "cogvideox": "32x32x9",
    "ltx": "32x32x9",
    "hunyuanvideo": "32x32x5",
    "zeroscope": "16x16x4",
    # new text-input linears (Mochi's pooler), or the same linear feeding more blocks (VACE)
    "mochi": "32x32x7",
    "wan-vace": "32x32x5",
    "hunyuan15": "32x32x5",
    "hunyuan-i2v": "32x32x5",  # Llava: the prompt embeddings carry the image's tokens
    "ltx2": "32x32x9",
    "allegro": "32x32x9",  # T5 through caption_projection; Latte: prompts of their own lengths, padded in a batch
    "latte": "32x32x4",
    # Wan's and HunyuanVideo's text read-outs under other steps (flow-map target; Helios' history; Framepack's image)
    "anyflow": "32x32x5",
    "helios": "32x32x9",
    "framepack": "32x32x9",
    "animatediff": "16x16x4",  # the spatial transformers' attn2.to_k/to_v, text repeated per frame
    "animatediff-sdxl": "16x16x4",  # two encoders' states concatenated; the pooled one (with size ids) not folded
    "cosmos": "32x32x9",  # no projection: the T5 states reach every block's attn2.to_k / to_v as they are
    "cosmos25": "32x32x9",  # Qwen2.5-VL's normalised layers through crossattn_proj
    "sana-video": "32x32x9",  # Gemma 2 through caption_projection, with the pipeline's instruction prepended
    "sana-video-i2v": "32x32x9",
    "motif-video": "32x32x9",  # T5Gemma 2 through context_embedder; I2V: SigLIP tokens prepended to the text stream
    "motif-video-i2v": "32x32x9",
    "kandinsky6": "32x32x9",  # one read-out folded into both streams' text linears (and both pooled ones)
}  # two embeddings read: the video and the audio stream's connector outputs


def patcher(tiny, tmp_path_factory, method: str):
    """get(family) -> a folder patched once with `method` for the red and night pairs (two concepts)."""
    cache = {}

    def get(name):
        if name not in cache:
            out = tmp_path_factory.mktemp(method) / name
            result = run_cli(
                [
                    "patch",
                    tiny(name),
                    "--pairs",
                    TINY_PAIRS,
                    "--pairs",
                    DATA / "tiny-night.toml",
                    "--method",
                    method,
                    "--out",
                    out,
                    "--size",
                    FAMILIES[name],
                    "--no-summary",
                    "--no-tune",
                ]
            )
            assert result.exit_code == 0, result.output
            cache[name] = out
        return cache[name]

    return get


def assert_runtime_equivalent(name, pipe, reloaded, adapter, edit_embeddings):
    """The reloaded denoiser fed the original embeddings == the base one fed `edit_embeddings(cond)`."""
    size = tuple(int(v) for v in FAMILIES[name].split("x"))
    cond = encode(pipe, adapter, ["a red house at night"], "cpu")
    changed = edit_embeddings(cond)
    x = adapter.latents(pipe, size, torch.Generator().manual_seed(2), "cpu")
    model = adapter.denoisers[0]
    for t in map(torch.tensor, adapter.check_timesteps or (800.0, 200.0)):  # Cosmos' EDM: log(sigma) / 4
        got = adapter.forward(getattr(reloaded, model), x, t, cond)
        want = adapter.forward(getattr(pipe, model), x, t, changed)
        orig = adapter.forward(getattr(pipe, model), x, t, cond)
        assert_edited_as(got, want, orig, name)


def assert_only_text_inputs_folded(pipe, adapter, base_dir, out_dir, recipe, fold):
    """Each text-input weight is `fold(base weight, key)` (key: the embedding it reads), the recipe lists
    exactly those, and every other tensor is the base's bit for bit."""
    model = adapter.denoisers[0]
    edited = {
        (model, f"{path}.weight"): key
        for key, patterns in adapter.text_inputs().items()
        for path in expand_all(getattr(pipe, model), patterns)
    }
    assert len(recipe["edits"]) == len(edited)
    base, new = all_tensors(base_dir), all_tensors(out_dir)
    for k, tensor in new.items():
        if k in edited:
            assert torch.equal(tensor, fold(base[k], edited[k])), k
        else:
            assert same_bits(tensor, base[k]), k


@pytest.fixture(scope="module")
def safree_patched(tiny, tmp_path_factory):
    return patcher(tiny, tmp_path_factory, "safree")


@pytest.mark.parametrize("name", list(FAMILIES))
def test_safree_fold_is_exact(name, tiny, safree_patched):
    base_dir, out_dir = tiny(name), safree_patched(name)
    recipe = json.loads((out_dir / "weditor.json").read_text())
    assert recipe["method"] == "safree"
    assert recipe["params"]["keywords"] == ["red", "night"]
    pipe, adapter = load(base_dir)
    dirs = directions(out_dir)
    for key in adapter.text_inputs():
        Q = dirs[f"{adapter.denoisers[0]}.text_input.{key}"]
        assert torch.allclose(Q @ Q.T, torch.eye(Q.shape[0], dtype=Q.dtype), atol=1e-10)
        assert Q.shape[0] == 2  # two keywords, two directions
    assert_only_text_inputs_folded(
        pipe,
        adapter,
        base_dir,
        out_dir,
        recipe,
        lambda w, key: project_input(w, dirs[f"{adapter.denoisers[0]}.text_input.{key}"]),
    )

    # the reloaded denoiser == the base denoiser with the embeddings projected at run time
    def projected(cond):
        out = dict(cond)
        for key in adapter.text_inputs():
            Q = dirs[f"{adapter.denoisers[0]}.text_input.{key}"].float()
            out[key] = cond[key] - (cond[key] @ Q.T) @ Q
        return out

    assert_runtime_equivalent(name, pipe, load(out_dir)[0], adapter, projected)


def test_subspace_spans_the_centred_keywords():
    from weditor.methods.safree import energy_in, subspace

    g = torch.Generator().manual_seed(0)
    neutral = torch.randn(6, 10, generator=g, dtype=torch.float64)
    keywords = neutral.mean(0) + torch.randn(3, 10, generator=g, dtype=torch.float64)
    Q, s = subspace(keywords, neutral, rank=None)
    assert Q.shape == (3, 10) and torch.allclose(Q @ Q.T, torch.eye(3, dtype=Q.dtype), atol=1e-12)
    assert energy_in(keywords - neutral.mean(0), Q) == pytest.approx(1.0, abs=1e-12)
    Q1, _ = subspace(keywords, neutral, rank=1)  # the rank caps it, keeping the strongest direction
    assert torch.allclose((Q1 @ Q[:1].T).abs(), torch.ones(1, 1, dtype=Q.dtype), atol=1e-12)


def test_safree_needs_keywords(tiny, tmp_path):
    pairs = tmp_path / "nokw.toml"
    pairs.write_text("\n".join(line for line in TINY_PAIRS.read_text().splitlines() if not line.startswith("keywords")))
    result = run_cli(["patch", tiny("ltx"), "--pairs", pairs, "--method", "safree", "--out", tmp_path / "o"])
    assert result.exit_code == 2 and "keywords" in result.output
    assert not (tmp_path / "o").exists()


def test_safree_summary_and_token_pooling(tiny, tmp_path):
    out = tmp_path / "o"
    result = run_cli(
        [
            "patch",
            tiny("ltx"),
            "--pairs",
            TINY_PAIRS,
            "--method",
            "safree",
            "--safree-pool",
            "tokens",
            "--rank",
            "3",
            "--out",
            out,
            "--size",
            "32x32x9",
        ]
    )
    assert result.exit_code == 0, result.output
    recipe = json.loads((out / "weditor.json").read_text())
    (row,) = recipe["summary"]["safree"]
    assert row["rank"] <= 3 and row["keyword_energy"] > row["neutral_energy"]
    assert recipe["params"]["safree_pool"] == "tokens"
    again = tmp_path / "again"  # the recipe reproduces the patch, file for file
    result = run_cli(["patch", "--recipe", out / "weditor.json", "--out", again])
    assert result.exit_code == 0, result.output
    files = json.loads((again / "weditor.json").read_text())["files"]
    files.pop("README.md"), recipe["files"].pop("README.md")  # the model card names the output folder
    assert files == recipe["files"]
