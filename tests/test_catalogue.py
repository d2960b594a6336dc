"""Every video pipeline class of the installed diffusers has a row: an adapter, or a refusal with its reason."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_adapters import tiny  # noqa: F401 (fixture)
from weditor.adapters import REFUSED, supported_pipelines, unlisted_video_pipelines
from weditor.adapters.catalogue import video_pipeline_classes
from weditor.testing.animatediff import TINY_ANIMATEDIFF_PIPELINES
from weditor.testing.cosmos import TINY_COSMOS_PIPELINES
from weditor.testing.families import TINY_FAMILY_PIPELINES
from weditor.testing.framepack import TINY_FRAMEPACK_PIPELINES
from weditor.testing.kandinsky import TINY_KANDINSKY_PIPELINES
from weditor.testing.ltx2 import TINY_LTX2_PIPELINES
from weditor.testing.motif import TINY_MOTIF_PIPELINES
from weditor.testing.pixart import TINY_PIXART_PIPELINES
from weditor.testing.sana import TINY_SANA_PIPELINES
from weditor.testing.wan_derived import TINY_WAN_DERIVED_PIPELINES


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
    assert rows["CogVideoXVideoToVideoPipeline"]["pairs"] == "videos (V2V input video)"
    assert rows["VideoToVideoSDPipeline"]["pairs"] == "videos (V2V input video)"
    assert rows["LTX2InContextPipeline"]["pairs"] == rows["LTX2HDRPipeline"]["pairs"] == "videos (reference video)"
    assert rows["EasyAnimateControlPipeline"]["pairs"] == "videos (control video)"
    assert rows["LTX2DFRTemporalRefinePipeline"]["status"] == "refused"
    assert rows["HunyuanSkyreelsImageToVideoPipeline"]["reins"].startswith("refused")
    assert rows["Kandinsky6SRPipeline"]["reason"].startswith("text-free")
    assert rows["StableVideoDiffusionPipeline"]["reason"].startswith("no prompt reaches its UNet")
    assert (
        rows["AllegroPipeline"]["status"] == "supported"
        and rows["AllegroPipeline"]["reins"] == "exact (attn2.to_out.0)"
    )
    assert (
        rows["LattePipeline"]["status"] == "supported"
        and "temporal_attn_out" not in rows["LattePipeline"]["refusal_output_side"]
    )
    for cls in ("AnyFlowPipeline", "AnyFlowFARPipeline", "HeliosPipeline", "HeliosPyramidPipeline"):
        assert rows[cls]["reins"] == "exact (attn2.to_out.0)", cls
        assert rows[cls]["pairs"] == ("images (I2V)" if cls == "AnyFlowPipeline" else "prompts only"), cls
    assert rows["HunyuanVideoFramepackPipeline"]["pairs"] == "images (I2V)"
    assert rows["HunyuanVideoFramepackPipeline"]["reins"].startswith("refused")
    assert rows["AnimateDiffPipeline"]["reins"] == "exact (attn2.to_out.0)"
    assert rows["AnimateDiffVideoToVideoPipeline"]["pairs"] == "videos (V2V input video)"
    assert rows["PIAPipeline"]["pairs"] == "images (I2V)"
    assert rows["AnimateDiffControlNetPipeline"]["pairs"] == "videos (control video)"
    assert rows["AnimateDiffSparseControlNetPipeline"]["pairs"] == "images (I2V)"
    assert not rows["I2VGenXLPipeline"]["text_and_safree"] and rows["AnimateDiffSDXLPipeline"]["text_and_safree"]
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
    (i2vgenxl,) = [line for line in text.splitlines() if line.strip().startswith("I2VGenXLPipeline")]
    assert "text methods refused" in i2vgenxl
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


@pytest.mark.parametrize("name", sorted({**TINY_WAN_DERIVED_PIPELINES, **TINY_FRAMEPACK_PIPELINES}))
def test_inspect_resolves_the_wan_derived_classes(name, tiny):
    test_inspect_resolves_every_new_class(name, tiny)


NO_TEXT_FOLD = {"i2vgenxl", "animatediff-controlnet", "animatediff-v2v-controlnet", "animatediff-sparsectrl"}


@pytest.mark.parametrize("name", sorted(set(TINY_ANIMATEDIFF_PIPELINES) - NO_TEXT_FOLD))
def test_inspect_resolves_the_motion_adapter_classes(name, tiny):
    test_inspect_resolves_every_new_class(name, tiny)


@pytest.mark.parametrize("name", sorted(NO_TEXT_FOLD))
def test_inspect_resolves_the_classes_without_a_text_fold(name, tiny):
    """I2VGen-XL (the prompt is read with the image's tokens) and AnimateDiff with a control net (which reads the
    prompt outside the UNet): no text-input linears; I2VGen-XL has no prompt-token kv site either."""
    folder = tiny(name)
    result = run_cli(["inspect", folder, "--json"])
    assert result.exit_code == 0, result.output
    (d,) = json.loads(result.output)["denoisers"].values()
    assert d["block_groups"]["blocks"]["blocks"] > 0 and all(site["width"] for site in d["sites"].values())
    assert not d["text_input_linears"] and ("cross_attn_kv_in" in d["sites"]) == (name != "i2vgenxl")


@pytest.mark.parametrize("name", sorted(TINY_COSMOS_PIPELINES))
def test_inspect_resolves_the_cosmos_classes(name, tiny):
    test_inspect_resolves_every_new_class(name, tiny)


def test_cosmos_rows():
    rows = {r["pipeline_class"]: r for r in json.loads(run_cli(["inspect", "--pipelines", "--json"]).output)}
    assert rows["CosmosVideoToWorldPipeline"]["pairs"] == "images, videos (V2W)"
    assert rows["CosmosTextToWorldPipeline"]["pairs"] == "prompts only"
    assert rows["Cosmos2VideoToWorldPipeline"]["pairs"] == "images, videos (V2W)"
    assert rows["Cosmos2_5_PredictBasePipeline"]["pairs"] == "images, videos (V2W)"
    cosmos = ("CosmosTextToWorldPipeline", "CosmosVideoToWorldPipeline", "Cosmos2VideoToWorldPipeline")
    for cls in (*cosmos, "Cosmos2_5_PredictBasePipeline"):
        assert rows[cls]["reins"].startswith("refused") and rows[cls]["refusal_output_side"] == []
        assert rows[cls]["text_and_safree"]


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
