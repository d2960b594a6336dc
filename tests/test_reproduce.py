"""`weditor patch --recipe` reproduces a patch; `--push-to-hub` publishes it after verification."""

from pathlib import Path

from tests.conftest import TINY_PAIRS, TINY_SIZE, run_cli
from tests.hub_server import hub_server  # noqa: F401  (fixture)
from weditor.io.recipe import hash_files


def test_recipe_reproduces_the_patch_file_for_file(patched, tmp_path):
    out = tmp_path / "again" / patched.name
    result = run_cli(["patch", "--recipe", patched / "weditor.json", "--out", out])
    assert result.exit_code == 0, result.output
    assert hash_files(out) == hash_files(patched)


def test_recipe_refuses_extra_parameters_and_tampered_pairs(patched, tmp_path):
    result = run_cli(["patch", "--recipe", patched / "weditor.json", "--out", tmp_path / "o", "--rank", "3"])
    assert result.exit_code == 2 and "--rank" in result.output
    import shutil

    copy = Path(shutil.copytree(patched, tmp_path / "copy"))
    pair = next((copy / "weditor" / "pairs").glob("*.toml"))
    pair.write_text(pair.read_text().replace("red car", "red bus"))
    result = run_cli(["patch", "--recipe", copy / "weditor.json", "--out", tmp_path / "o2"])
    assert result.exit_code == 2 and "SHA-256" in result.output
    assert not (tmp_path / "o").exists() and not (tmp_path / "o2").exists()


def test_patch_and_push_to_a_local_hub(tiny_wan_single, tmp_path, monkeypatch, hub_server):  # noqa: F811
    from huggingface_hub import HfApi, ModelCard, constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "ENDPOINT", hub_server.url)
    monkeypatch.setenv("HF_TOKEN", hub_server.token)
    out = tmp_path / "tiny-no-red"
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
            "--push-to-hub",
            "user/tiny-no-red",
            "--private",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "pushed:" in result.output
    api = HfApi(endpoint=hub_server.url, token=hub_server.token)
    info = api.model_info("user/tiny-no-red", files_metadata=True)
    assert info.private
    remote = {s.rfilename for s in info.siblings}
    assert remote - {".gitattributes"} == set(hash_files(out)) | {"weditor.json"}  # the Hub adds .gitattributes
    card = ModelCard.load(out / "README.md")
    assert "user/tiny-no-red" in card.text and "red" in card.data.tags


def test_push_failure_keeps_the_verified_local_folder(tiny_wan_single, tmp_path, monkeypatch, hub_server):  # noqa: F811
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "ENDPOINT", hub_server.url)
    monkeypatch.setenv("HF_TOKEN", "wrong-token")
    out = tmp_path / "o"
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
            "--push-to-hub",
            "user/x",
        ]
    )
    assert result.exit_code == 2
    assert "401" in result.output.splitlines()[-1]
    from weditor.io.integrity import check_folder as verify_folder

    verify_folder(out)  # the patch itself landed, verified; only the upload failed


def _old_recipe(tmp_path, version: str, params: dict, method: str | None):
    """The config `--recipe` makes of a recipe written by weditor `version` (`method` None: a recipe
    that names none), with the tiny red pairs next to it."""
    import json

    from weditor.io.recipe import sha256_file
    from weditor.pipeline.reproduce import config_from_recipe

    folder = tmp_path / "old"
    (folder / "weditor" / "pairs").mkdir(parents=True, exist_ok=True)
    pair = folder / "weditor" / "pairs" / "red.toml"
    pair.write_bytes(TINY_PAIRS.read_bytes())
    recipe = {
        "format": 1,
        "weditor_version": version,
        "base_model": {"id": "some/model", "revision": None, "pipeline_class": "WanPipeline"},
        "pairs": [{"path": "weditor/pairs/red.toml", "concept": "red", "sha256": sha256_file(pair)}],
        "params": params,
    }
    if method is not None:
        recipe["method"] = method
    (folder / "weditor.json").write_text(json.dumps(recipe))
    return config_from_recipe(folder / "weditor.json", str(tmp_path / "o"), None)


def test_a_recipe_from_before_the_neutral_option_is_read_as_raw(tmp_path):
    """0.1 recipes carry no "neutral": their neutral prompts were collected one by one, as "raw" does."""
    params = {"rank": 100, "alpha": 1.0, "strength": 1.0, "layers": "0.5-1.0", "site": "ffn_in", "seed": 0}
    cfg = _old_recipe(tmp_path, "0.1.0", params, "refusal")
    assert cfg.neutral == "raw" and cfg.site == "ffn_in" and cfg.strength == 1.0 and cfg.layers == "0.5-1.0"
    assert cfg.method == "refusal"  # not 0.4's default (text): the recipe's own method
    # the oldest recipes name no method: they could only be the refusal edit
    assert _old_recipe(tmp_path, "0.1.0", params, None).method == "refusal"


def test_a_reins_only_recipe_from_before_0_4_still_checks(tmp_path):
    """0.3 recorded the unused neutral mode of a REINS-only patch; 0.4 refuses --neutral without the
    refusal edit, so reproduction drops it rather than fail on a recipe weditor wrote itself."""
    cfg = _old_recipe(
        tmp_path,
        "0.3.1",
        {"neutral": "prompt", "reins_layer": "0.5", "reins_strength": 0.3, "seed": 0, "steps": 4, "method": "reins"},
        "reins",
    )
    cfg.check()
    assert cfg.method == "reins" and cfg.reins_strength == 0.3 and cfg.neutral == "raw"
