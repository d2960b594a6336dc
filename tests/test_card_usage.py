"""The model card a patch writes, as a user meets it (issue 21):

- its usage block runs *as written* in a Python that cannot import weditor (only the packages of
  its install line), on the shipped shapes model's patch;
- every file of the output is independent of the output folder's name: `--recipe` into another
  folder gives the same bytes, card and recipe included;
- `--base-model` / `--license` and a Hugging Face cache snapshot as the base land in the card's
  metadata, as huggingface_hub's `ModelCard` parses it;
- the card shows no noise (`None`, `[]`, unrounded floats) and the pair file's name as passed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TINY_PAIRS, TINY_SIZE, run_cli
from tests.test_publish import folder_digest

ROOT = Path(__file__).resolve().parents[1]
RED = ROOT / "pairs" / "shapes-red.toml"


@pytest.fixture(scope="module")
def shapes_patch(tmp_path_factory) -> Path:
    """The README's first command, fixed settings (the card's layout does not depend on the search)."""
    out = tmp_path_factory.mktemp("card") / "shapes-no-red"
    result = run_cli(["patch", "--pairs", RED, "--out", out, "--no-tune"])
    assert result.exit_code == 0, result.output
    return out


def python_blocks(card: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", card, flags=re.S)


def without_weditor(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `code` in this interpreter with -I -S: no .pth files (weditor's editable install is one), no
    PYTHONPATH, no user site, no current folder; only the venv's site-packages directory on the path."""
    import site

    boot = (
        f"import sys; sys.path.extend({site.getsitepackages()!r})\n"
        "try:\n    import weditor\nexcept ImportError:\n    pass\nelse:\n    raise SystemExit('weditor is importable')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "WEDITOR"))}
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", boot + code], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_usage_block_runs_as_written_without_weditor(shapes_patch, tmp_path):
    card = (shapes_patch / "README.md").read_text(encoding="utf-8")
    install = re.search(r"```bash\n(pip install [^\n]*)\n```", card).group(1).split()
    assert {"torch", "diffusers", "transformers", "accelerate", "imageio-ffmpeg"} <= set(install)
    (block,) = python_blocks(card)
    assert "torch_dtype=" in block and ".to(device)" in block and "export_to_video(" in block
    assert "a blue square moving up" in block  # a neutral prompt of the user's own pair file, not "a dog on a beach"
    code = block.replace('"USER/NAME"', json.dumps(str(shapes_patch)))  # the only change: this folder for the Hub id
    assert code != block
    t0 = time.perf_counter()
    run = without_weditor(code, tmp_path)
    seconds = time.perf_counter() - t0
    assert run.returncode == 0, run.stderr[-3000:]
    video = tmp_path / "video.mp4"
    assert video.is_file() and video.stat().st_size > 1000
    import imageio.v3 as iio

    frames = iio.imread(video)
    assert frames.shape[0] == 9 and frames.shape[-1] == 3  # the shapes model's 9 frames
    print(f"usage block ran in {seconds:.1f} s")


def test_the_isolated_python_really_lacks_weditor(tmp_path):
    run = without_weditor("import weditor", tmp_path)
    assert run.returncode != 0 and "ModuleNotFoundError" in run.stderr


def test_recipe_into_another_folder_is_byte_identical(shapes_patch, tmp_path):
    again = tmp_path / "a-differently-named-folder"
    result = run_cli(["patch", "--recipe", shapes_patch / "weditor.json", "--out", again])
    assert result.exit_code == 0, result.output
    assert folder_digest(again) == folder_digest(shapes_patch)  # every file, README.md and weditor.json included
    card = (again / "README.md").read_text(encoding="utf-8")
    assert "a-differently-named-folder" not in card and "shapes-no-red" not in card


def test_card_has_no_noise_and_names_the_pair_file_as_passed(shapes_patch):
    card = (shapes_patch / "README.md").read_text(encoding="utf-8")
    assert "| None |" not in card and "| [] |" not in card and "| dtype |" not in card and "| sites |" not in card
    assert not re.search(r"\d\.\d{6,}", card)  # floats rounded
    assert "| red | the colour red on the moving shape | shapes-red.toml |" in card
    assert card.count("| concepts | embedding |") <= 1 and "readouts" not in card  # the read-out table once
    for section in ("## What was removed", "## How", "## Measured effect", "## Limitations", "## Usage"):
        assert section in card


def test_every_file_weditor_writes_has_the_same_mode(shapes_patch):
    """safetensors' save_file makes 0600 files; weditor/*.safetensors get the mode of every other new file (0644)."""
    from weditor.io.file_modes import default_file_mode

    own = [p for p in (shapes_patch / "weditor").rglob("*") if p.is_file()] + [
        shapes_patch / "README.md",
        shapes_patch / "weditor.json",
    ]
    assert any(p.suffix == ".safetensors" for p in own)
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in own} == {p.name: oct(default_file_mode()) for p in own}


# -- base_model and licence -------------------------------------------------------------------------


def _snapshot(tiny_wan_single: Path, hub: Path, repo: str, rev: str, card: str | None) -> Path:
    folder = hub / f"models--{repo.replace('/', '--')}" / "snapshots" / rev
    shutil.copytree(tiny_wan_single, folder)
    if card is not None:
        (folder / "README.md").write_text(card, encoding="utf-8")
    return folder


def _metadata(folder: Path):
    from huggingface_hub import ModelCard

    return ModelCard.load(folder / "README.md").data


def test_hub_cache_snapshot_gives_id_revision_and_licence(tiny_wan_single, tmp_path):
    rev = "0123456789abcdef0123456789abcdef01234567"
    base = _snapshot(
        tiny_wan_single,
        tmp_path / "hub",
        "Org-A/Tiny.Wan-1",
        rev,
        "---\nlicense: mit\nlibrary_name: diffusers\n---\n# Tiny Wan\n",
    )
    out = tmp_path / "out"
    result = run_cli(
        ["patch", base, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, "--no-tune", "--no-summary"]
    )
    assert result.exit_code == 0, result.output
    data = _metadata(out)
    assert data.base_model == "Org-A/Tiny.Wan-1" and data.license == "mit" and data.base_model_relation == "finetune"
    text = (out / "README.md").read_text(encoding="utf-8")
    assert f"at revision `{rev}`" in text and "https://huggingface.co/Org-A/Tiny.Wan-1" in text
    recorded = json.loads((out / "weditor.json").read_text())["card"]
    assert recorded["base_model"] == "Org-A/Tiny.Wan-1" and recorded["base_revision"] == rev
    assert run_cli(["verify", out, "--base", base]).exit_code == 0


def test_base_model_and_license_options_on_patch_and_recipe(tiny_wan_single, tmp_path):
    out = tmp_path / "out"
    result = run_cli(
        [
            "patch",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            TINY_SIZE,
            "--no-tune",
            "--no-summary",
            "--base-model",
            "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
            "--license",
            "apache-2.0",
        ]
    )
    assert result.exit_code == 0, result.output
    data = _metadata(out)
    assert data.base_model == "Wan-AI/Wan2.1-T2V-1.3B-Diffusers" and data.license == "apache-2.0"
    again = tmp_path / "again"
    result = run_cli(["patch", tiny_wan_single, "--recipe", out / "weditor.json", "--out", again, "--no-summary"])
    assert result.exit_code == 0, result.output
    assert (
        _metadata(again).base_model == "Wan-AI/Wan2.1-T2V-1.3B-Diffusers" and _metadata(again).license == "apache-2.0"
    )
    assert folder_digest(again) == folder_digest(out)


def test_a_local_folder_named_like_a_hub_id_is_not_a_base_model(tiny_wan_single, tmp_path, monkeypatch):
    """`weditor patch models/wan` with that folder on disk: the card must not link the Hub's models/wan."""
    shutil.copytree(tiny_wan_single, tmp_path / "models" / "wan")
    monkeypatch.chdir(tmp_path)
    result = run_cli(
        [
            "patch",
            "models/wan",
            "--pairs",
            TINY_PAIRS,
            "--out",
            tmp_path / "out",
            "--size",
            TINY_SIZE,
            "--no-tune",
            "--no-summary",
        ]
    )
    assert result.exit_code == 0, result.output
    assert _metadata(tmp_path / "out").base_model is None
    assert json.loads((tmp_path / "out" / "weditor.json").read_text())["card"]["base_model"] is None
    assert run_cli(["verify", tmp_path / "out", "--base", tmp_path / "models" / "wan"]).exit_code == 0


@pytest.mark.parametrize(
    "option, value",
    [("--base-model", "not an id"), ("--base-model", "../x/y"), ("--base-model", "a/b/c"), ("--license", "Apache 2.0")],
)
def test_bad_base_model_or_license_is_one_error_line(tiny_wan_single, tmp_path, option, value):
    for command in (
        ["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", tmp_path / "out"],
        ["push", tmp_path, "user/name"],
    ):
        result = run_cli([*command, option, value])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error:") and option in lines[0], result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "card, message",
    [
        ({"base_model": "not-an-id"}, "card.base_model"),
        ({"license": "Apache 2"}, "card.license"),
        ({"pair_files": {"red": "../x.toml"}}, "card.pair_files"),
        ({"extra": 1}, "card.extra: unknown key"),
    ],
)
def test_a_recipes_card_record_is_checked(shapes_patch, tmp_path, card, message):
    """The `card` record travels with a download like the rest of the recipe: checked before any model work."""
    folder = Path(shutil.copytree(shapes_patch / "weditor", tmp_path / "r" / "weditor"))
    recipe = json.loads((shapes_patch / "weditor.json").read_text())
    recipe["card"] = card
    (folder.parent / "weditor.json").write_text(json.dumps(recipe))
    result = run_cli(["patch", "--recipe", folder.parent / "weditor.json", "--out", tmp_path / "out"])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and message in lines[0], result.output
    assert not (tmp_path / "out").exists()


VIDEO_CLASSES = [
    "WanVideoToVideoPipeline",
    "CogVideoXVideoToVideoPipeline",
    "VideoToVideoSDPipeline",
    "AnimateDiffVideoToVideoPipeline",
    "SkyReelsV2DiffusionForcingVideoToVideoPipeline",
    "LucyEditPipeline",
    "AnimateDiffControlNetPipeline",
    "AnimateDiffVideoToVideoControlNetPipeline",
    "CogVideoXFunControlPipeline",
    "EasyAnimateControlPipeline",
    "WanAnimatePipeline",
]


@pytest.mark.parametrize("cls", VIDEO_CLASSES)
def test_usage_block_passes_the_videos_the_pipeline_needs(cls):
    """A video-to-video or control pipeline's block loads its input videos and passes each under an argument
    name its stock `__call__` takes (a misspelt name would be a TypeError in the user's hands)."""
    import inspect

    import diffusers

    from weditor.pipeline.card import pipeline_tag
    from weditor.pipeline.card_usage import usage_block

    (block,) = python_blocks(usage_block(cls, pipeline_tag(cls), None, "a cat", None))
    compile(block, cls, "exec")
    call = re.search(r"frames = pipe\((.*)\)\.frames\[0\]", block).group(1)
    named = re.findall(r"(\w+)=", call)
    assert "prompt" in named and len(named) >= 2, call
    params = inspect.signature(getattr(diffusers, cls).__call__).parameters
    assert set(named) <= set(params), (named, list(params))
    for arg in set(named) - {"prompt", "image"}:
        assert re.search(rf'^{arg} = load_video\("\w+\.mp4"\)', block, flags=re.M), block


def test_video_to_video_usage_block_runs_on_a_tiny_pipeline(tmp_path):
    """The Wan video-to-video block, as written but for the tiny model's size (it cannot run 480x832), loads
    `input.mp4` and generates from it with stock diffusers."""
    import numpy as np
    import PIL.Image
    from diffusers.utils import export_to_video

    from weditor.pipeline.card_usage import usage_block
    from weditor.testing.families import build_tiny_wan_variant_pipeline

    build_tiny_wan_variant_pipeline("v2v").save_pretrained(tmp_path / "model")
    rng = np.random.RandomState(0)
    export_to_video(
        [PIL.Image.fromarray((rng.rand(32, 32, 3) * 255).astype("uint8")) for _ in range(5)],
        str(tmp_path / "input.mp4"),
        fps=8,
    )
    (block,) = python_blocks(usage_block("WanVideoToVideoPipeline", "video-to-video", None, "a cat", None))
    code = block.replace('"USER/NAME"', json.dumps(str(tmp_path / "model")))
    code = code.replace("pipe(video=video, ", "pipe(video=video, height=32, width=32, num_inference_steps=2, ")
    assert code.count("height=32") == 1
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    import imageio.v3 as iio

    assert iio.imread(tmp_path / "video.mp4").shape[:3] == (5, 32, 32)
