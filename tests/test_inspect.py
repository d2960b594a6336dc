"""`weditor inspect`: the adapter's view of a model, from configs and safetensors headers only."""

import json

import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    from weditor.testing import save_tiny_pipeline

    root = tmp_path_factory.mktemp("inspect")
    return {name: save_tiny_pipeline(name, root / name) for name in ("cogvideox", "ltx", "hunyuanvideo", "zeroscope")}


def test_inspect_reads_no_weights(folders, monkeypatch):
    import diffusers
    import safetensors

    def refuse(*args, **kwargs):
        raise AssertionError("inspect loaded weights")

    monkeypatch.setattr(diffusers.ModelMixin, "from_pretrained", classmethod(refuse))
    monkeypatch.setattr(safetensors, "safe_open", refuse)
    result = run_cli(["inspect", folders["hunyuanvideo"]])
    assert result.exit_code == 0, result.output
    assert "double: 2 blocks, single: 2 blocks" in result.output
    assert "REINS fold             refused" in result.output


@pytest.mark.parametrize(
    "name,family,reins,output_side",
    [
        ("cogvideox", "cogvideox", "refused", None),
        ("ltx", "ltx", "exact (attn2.to_out.0)", ["cross_attn_out"]),
        ("hunyuanvideo", "hunyuanvideo", "refused", None),
        ("zeroscope", "unet3d", "exact (attn2.to_out.0)", ["self_attn_out", "cross_attn_out", "ffn_out"]),
    ],
)
def test_inspect_json_matches_the_loaded_model(folders, name, family, reins, output_side):
    import diffusers

    result = run_cli(["inspect", folders[name], "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert report["family"] == family
    assert report["methods"]["reins_fold"].startswith(reins)
    assert report["methods"]["refusal_output_side"] == output_side
    index = json.loads((folders[name] / "model_index.json").read_text())
    pipe = getattr(diffusers, index["_class_name"]).from_pretrained(folders[name])
    for component, d in report["denoisers"].items():
        model = getattr(pipe, component)
        assert d["parameters"] == sum(p.numel() for p in model.state_dict().values())
        assert d["dtype"] == "F32"
        for key, linears in d["text_input_linears"].items():
            assert linears and all(hasattr(model.get_submodule(p), "in_features") for p in linears)


def test_inspect_unsupported_and_missing(tmp_path):
    result = run_cli(["inspect", tmp_path / "nope"])
    assert result.exit_code == 2 and "nope" in result.output
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model_index.json").write_text('{"_class_name": "FluxPipeline"}')
    result = run_cli(["inspect", tmp_path / "m"])
    assert result.exit_code == 2 and "not supported" in result.output


def test_inspect_defaults_to_the_embedded_model():
    result = run_cli(["inspect", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["model"] == "weditor:shapes" and report["pipeline_class"] == "WanPipeline"
    text = run_cli(["inspect"]).output
    assert "WanPipeline" in text and "*cross_attn_out" in text and "8 blocks" in text
