"""Every video pipeline class of the installed diffusers has a row: an adapter, or a refusal with its reason."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_adapters import tiny  # noqa: F401 (fixture)
from weditor.adapters import REFUSED, supported_pipelines, unlisted_video_pipelines
from weditor.adapters.catalogue import video_pipeline_classes
from weditor.testing.families import TINY_FAMILY_PIPELINES
from weditor.testing.kandinsky import TINY_KANDINSKY_PIPELINES
from weditor.testing.ltx2 import TINY_LTX2_PIPELINES
from weditor.testing.motif import TINY_MOTIF_PIPELINES
from weditor.testing.pixart import TINY_PIXART_PIPELINES
from weditor.testing.sana import TINY_SANA_PIPELINES


@pytest.fixture(scope="module")
def classes():
    return video_pipeline_classes()


def test_every_video_pipeline_class_of_diffusers_has_a_row(classes):
    # the rule finds the families by their outputs, not by a list (Latte's name does not say video)
    assert {"WanPipeline", "LattePipeline", "MochiPipeline", "AnimateDiffPipeline", "TextToVideoZeroPipeline"} <= set(
        classes
    )
    assert not {"StableDiffusionPipeline", "FluxPipeline"} & set(classes)
    missing = unlisted_video_pipelines(classes)
    assert not missing, f"video pipeline classes with no adapter and no refusal row: {missing}"


def test_a_new_video_pipeline_class_without_a_row_is_caught(monkeypatch):
    """Simulate a diffusers release with two new classes: one named as video, one only returning frames."""
    import diffusers

    @dataclasses.dataclass
    class Out(diffusers.utils.BaseOutput):
        frames: list

    class BrandNewVideoPipeline(diffusers.DiffusionPipeline):
        def __call__(self, prompt: str) -> Out:
            raise NotImplementedError

    class BrandNewMoviePipeline(diffusers.DiffusionPipeline):
        def __call__(self, prompt):
            raise NotImplementedError

    BrandNewMoviePipeline.__call__.__annotations__["return"] = Out | tuple  # an object, as a module's own would resolve

    monkeypatch.setattr(diffusers, "BrandNewVideoPipeline", BrandNewVideoPipeline, raising=False)
    monkeypatch.setattr(diffusers, "BrandNewMoviePipeline", BrandNewMoviePipeline, raising=False)
    monkeypatch.setattr(
        diffusers.__class__,
        "__dir__",
        lambda self: [*object.__dir__(self), "BrandNewVideoPipeline", "BrandNewMoviePipeline"],
        raising=False,
    )
    found = video_pipeline_classes()
    assert {"BrandNewVideoPipeline", "BrandNewMoviePipeline"} <= set(found)
    assert {"BrandNewVideoPipeline", "BrandNewMoviePipeline"} <= set(unlisted_video_pipelines(found))


def test_no_class_is_both_supported_and_refused_and_every_refusal_says_why():
    assert not set(supported_pipelines()) & set(REFUSED)
    assert all(len(reason) > 20 for reason in REFUSED.values())


def test_patching_a_refused_class_prints_its_reason(tmp_path):
    base = tmp_path / "m"
    base.mkdir()
    (base / "model_index.json").write_text(json.dumps({"_class_name": "LTXLatentUpsamplePipeline"}))
    result = run_cli(["patch", base, "--pairs", TINY_PAIRS, "--out", tmp_path / "o"])
    assert result.exit_code == 2
    assert "'LTXLatentUpsamplePipeline' is not supported: a latent upsampler" in result.output
    assert not (tmp_path / "o").exists()


def test_inspect_pipelines_lists_every_row():
    result = run_cli(["inspect", "--pipelines", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["pipeline_class"]: r for r in json.loads(result.output)}
    assert set(rows) == set(supported_pipelines()) | set(REFUSED)
    assert rows["SkyReelsV2Pipeline"]["reins"] == "exact (attn2.to_out.0)"
    assert rows["SkyReelsV2ImageToVideoPipeline"]["pairs"] == "images (I2V)"
    assert rows["WanVideoToVideoPipeline"]["pairs"] == "videos (V2V input video)"
    assert rows["WanVACEPipeline"]["pairs"] == "videos (control video)"
    assert rows["CogVideoXFunControlPipeline"]["pairs"] == "videos (control video)"
    assert rows["WanAnimatePipeline"]["pairs"] == "images (I2V)"
    assert rows["WanAnimatePipeline"]["reins"] == "exact (attn2.to_out.0)"
    assert rows["CogVideoXVideoToVideoPipeline"]["pairs"] == "prompts only"
    assert rows["HunyuanSkyreelsImageToVideoPipeline"]["reins"].startswith("refused")
    assert rows["Kandinsky6SRPipeline"]["reason"].startswith("text-free")
    assert (
        rows["AllegroPipeline"]["status"] == "supported"
        and rows["AllegroPipeline"]["reins"] == "exact (attn2.to_out.0)"
    )
    assert (
        rows["LattePipeline"]["status"] == "supported"
        and "temporal_attn_out" not in rows["LattePipeline"]["refusal_output_side"]
    )
    for cls in ("SanaVideoPipeline", "SanaImageToVideoPipeline"):  # a convolutional FFN: cross-attention default
        assert rows[cls]["refusal_default_site"] == "cross_attn_out" and rows[cls]["reins"] == "exact (attn2.to_out.0)"
    assert rows["SanaImageToVideoPipeline"]["pairs"] == "images (I2V)"
    assert (
        rows["SanaWMPipeline"]["pairs"] == "images (I2V)"
        and rows["SanaWMPipeline"]["reins"] == "exact (cross_attn.proj)"
    )
    assert rows["MotifVideoImage2VideoPipeline"]["pairs"] == "images (I2V)"
    for cls in ("Kandinsky5T2VPipeline", "Kandinsky5I2VPipeline", "Kandinsky6TI2VAPipeline"):  # every write gated
        assert rows[cls]["reins"].startswith("refused") and rows[cls]["refusal_output_side"] == []
    text = run_cli(["inspect", "--pipelines"]).output
    assert all(cls in text for cls in rows)


@pytest.mark.parametrize("name", sorted({**TINY_FAMILY_PIPELINES, **TINY_LTX2_PIPELINES}))
def test_inspect_resolves_every_new_class(name, tiny):
    """`weditor inspect` (configs only, meta device) finds blocks, sites and text-input linears on each."""
    folder = tiny(name)
    result = run_cli(["inspect", folder, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["pipeline_class"] == json.loads((folder / "model_index.json").read_text())["_class_name"]
    for d in report["denoisers"].values():
        assert all(g["blocks"] > 0 for g in d["block_groups"].values())
        assert all(site["width"] for site in d["sites"].values())
        assert d["text_input_linears"] and all(d["text_input_linears"].values())
        if name.startswith("ltx2"):  # both streams read the prompt
            assert set(d["text_input_linears"]) == {"encoder_hidden_states", "audio_encoder_hidden_states"}


@pytest.mark.parametrize("name", sorted(TINY_PIXART_PIPELINES))
def test_inspect_resolves_the_pixart_classes(name, tiny):
    test_inspect_resolves_every_new_class(name, tiny)


@pytest.mark.parametrize("name", sorted(TINY_SANA_PIPELINES))
def test_inspect_resolves_the_sana_video_classes(name, tiny):
    test_inspect_resolves_every_new_class(name, tiny)


@pytest.mark.parametrize("name", sorted(TINY_KANDINSKY_PIPELINES))
def test_inspect_resolves_the_kandinsky5_classes(name, tiny):
    test_inspect_resolves_every_new_class(name, tiny)


@pytest.mark.parametrize("name", sorted(TINY_MOTIF_PIPELINES))
def test_inspect_resolves_the_motif_video_classes(name, tiny):
    test_inspect_resolves_every_new_class(name, tiny)
    report = json.loads(run_cli(["inspect", tiny(name), "--json"]).output)
    sites = report["denoisers"]["transformer"]["sites"]
    assert ("cross_attn_out" in sites) == name.endswith("xattn")  # read off the checkpoint's config
