"""Publishing: the model card, `push_folder` / `weditor push`, and loading the result back with
stock diffusers, all against the local Hub in tests/hub_server.py (no internet needed).

In process, huggingface_hub is pointed away from the real Hub by patching its constants (it reads
the environment once, at import): `ENDPOINT` (so stray default-endpoint calls land on the local
server), `HF_HUB_OFFLINE` (tests/conftest.py turns offline mode on for the other tests),
`HF_HUB_DISABLE_XET` (hf_xet is installed, and the client would otherwise upload through Xet
without asking the server) and `HF_TOKEN_PATH` (a developer's saved login must not leak in).
The download side runs in a subprocess with the same settings as environment variables, so stock
`WanPipeline.from_pretrained("user/name")` resolves the repo exactly as a user's would.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.hub_server import hub_server  # noqa: F401  (pytest fixture)
from weditor.errors import WeditorError
from weditor.io import recipe as recipes

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "pairs" / "nudity.toml"
BASE_ID = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
SUMMARY = {
    "sites": [
        {"site": "transformer.blocks.1.ffn", "rank": 1, "proj_eval_before": 0.91, "proj_eval_after": 0.02},
        {"site": "transformer.blocks.2.ffn", "rank": 1, "proj_eval_before": 0.85, "proj_eval_after": 0.01},
    ],
    "nudity": {"before": 0.8125, "after": 0.0625},
    "output_change_eval": 0.31,
    "output_change_neutral": 0.02,
    "eval_prompts": 4,
}


def folder_digest(folder: Path) -> dict[str, str]:
    """Every file, the recipe included, so "byte-identical" means the whole folder."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def write_test_folder(out: Path, base_dir: Path | None = None, base_id: str = BASE_ID) -> Path:
    """A folder shaped like `weditor patch` output: pipeline, pair copy, frame grid, recipe, card."""
    from PIL import Image

    from weditor.pipeline.card import finalize_card
    from weditor.testing import save_tiny_wan_pipeline

    save_tiny_wan_pipeline(out)
    (out / recipes.PAIRS_DIR).mkdir(parents=True)
    shutil.copy(PAIRS, out / recipes.PAIRS_DIR / "nudity.toml")
    Image.new("RGB", (8, 4), (200, 30, 30)).save(out / "weditor" / "grid.png")
    # No-op edit entries with the tensors' real hashes: the folder passes every check that can run
    # without its (Hub, not cached) base, so pushes here need allow_unverified_base.
    from safetensors.torch import load_file

    from weditor.io.tensors import tensor_sha256

    weights = load_file(out / "transformer" / "diffusion_pytorch_model.safetensors")
    recipe = {
        "format": recipes.FORMAT,
        "weditor_version": "0.1.0",
        "base_model": {
            "id": base_id,
            "revision": "0123456789abcdef0123456789abcdef01234567",
            "pipeline_class": "WanPipeline",
        },
        "pairs": [
            {
                "path": f"{recipes.PAIRS_DIR}/nudity.toml",
                "concept": "nudity",
                "sha256": recipes.sha256_file(out / recipes.PAIRS_DIR / "nudity.toml"),
            }
        ],
        "method": "refusal",
        "params": {"rank": 1, "strength": 1.0, "alpha": 0.5, "layers": "1-2", "seed": 0},
        "edits": [
            {
                "component": "transformer",
                "tensor": f"blocks.{i}.ffn.net.0.proj.weight",
                "file": "transformer/diffusion_pytorch_model.safetensors",
                "kind": "input_projection",
                "rank": 1,
                "sha256_before": tensor_sha256(weights[f"blocks.{i}.ffn.net.0.proj.weight"]),
                "sha256_after": tensor_sha256(weights[f"blocks.{i}.ffn.net.0.proj.weight"]),
            }
            for i in (1, 2)
        ],
        "summary": SUMMARY,
        "verification": {"tensors_checked": 42, "forward_max_rel_diff": 0.0, "tolerance": 1e-6},
    }
    recipe["files"] = recipes.hash_files(out)
    recipes.write_recipe(out, recipe)
    finalize_card(out, base_dir=base_dir)
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("publish")
    base = root / "base"
    base.mkdir()
    (base / "README.md").write_text("---\nlicense: apache-2.0\nlibrary_name: diffusers\n---\n\n# Base model\n")
    return write_test_folder(root / "tiny-patched", base_dir=base)


@pytest.fixture
def folder(built, tmp_path) -> Path:
    """A private copy per test, so a test that tampers with it cannot affect the others."""
    return Path(shutil.copytree(built, tmp_path / "tiny-patched"))


@pytest.fixture(autouse=True)
def hub_client(monkeypatch, tmp_path, request):
    from huggingface_hub import constants

    hub = request.getfixturevalue("hub_server") if "hub_server" in request.fixturenames else None
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-saved-token"))
    monkeypatch.setattr(constants, "ENDPOINT", hub.url if hub else "http://127.0.0.1:9")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def commit_requests(hub) -> list[str]:
    return [path for method, path in hub.state.requests if method == "POST" and "/commit/" in path]


# -- the card ------------------------------------------------------------------------------------


def test_card_metadata_and_sections(folder):
    from huggingface_hub import ModelCard

    card = ModelCard.load(folder / "README.md")
    data = card.data
    assert data.base_model == BASE_ID
    assert data.base_model_relation == "finetune"
    assert data.library_name == "diffusers"
    assert data.pipeline_tag == "text-to-video"
    assert data.license == "apache-2.0"  # carried over from the base folder's card
    assert data.tags == ["weditor", "safety", "concept-erasure", "nudity"]
    text = card.text
    for needle in (
        "## What was removed",
        "## How",
        "## Measured effect",
        "## Limitations",
        "## Reproduce",
        "weditor patch --recipe weditor.json --out OUT",
        "from diffusers import WanPipeline\n",
        'pipe = WanPipeline.from_pretrained("USER/NAME", torch_dtype=dtype)',
        "# Wan2.1-T2V-1.3B-Diffusers without nudity",  # never the folder's name (tiny-patched)
        "![Frame grid](weditor/grid.png)",
        "| nudity | 0.8125 | 0.0625 | -0.75 |",  # before/after/change from recipe["summary"]
        "| transformer.blocks.1.ffn | 0.91 | 0.02 | 1 |",  # per-site records as their own table
        "| strength | 1 |",
        "**Blocks:** 1, 2",
        "**Rank per edit:** 1",
        "not a content filter",
        "Fine-tuning can undo it",
        "Paraphrases and adversarial prompts",
        "| tensors checked | 42 |",
    ):
        assert needle in text, needle


def test_card_is_covered_by_the_recipe(folder):
    from weditor.hub.push import _verify

    recipe = recipes.load_recipe(folder)
    assert recipe["files"]["README.md"] == recipes.sha256_file(folder / "README.md")
    assert recipe["files"] == recipes.hash_files(folder)
    _verify(folder, allow_unverified_base=True)
    with pytest.raises(WeditorError, match="not fully verified.*--allow-unverified-base"):
        _verify(folder)  # the base is a Hub id that is not cached: hashes alone are not enough by default


def test_card_without_hub_base_or_licence(tmp_path):
    from huggingface_hub import ModelCard

    from weditor.pipeline.card import pipeline_tag

    out = write_test_folder(tmp_path / "local-base", base_id="tiny-wan")
    data = ModelCard.load(out / "README.md").data.to_dict()
    assert "base_model" not in data and "base_model_relation" not in data and "license" not in data
    assert "The base model's licence applies" in (out / "README.md").read_text()
    assert pipeline_tag("WanImageToVideoPipeline") == "image-to-video"
    assert pipeline_tag("SomeVideoToVideoPipeline") == "video-to-video"
    assert pipeline_tag("UnknownPipeline") is None


def test_finalize_card_is_idempotent(built, tmp_path):
    from weditor.pipeline.card import finalize_card

    again = Path(shutil.copytree(built, tmp_path / "again" / "tiny-patched"))
    finalize_card(again)  # no base_dir: the licence comes from the card already there
    assert folder_digest(again) == folder_digest(built)  # no timestamps: same inputs, same bytes


def test_summary_layouts():
    from weditor.pipeline.card_tables import _split_summary

    paired, single, tables = _split_summary(
        {
            "rate": {"before": 0.5, "after": 0.1},
            "clip_before": 0.3,
            "clip_after": 0.29,
            "lonely_after": 1,
            "by_concept": {"before": {"nudity": 0.9}, "after": {"nudity": 0.1}},
            "sites": [{"site": "a", "x": 1}],
            "n": 3,
        }
    )
    assert ("rate", 0.5, 0.1) in paired and ("clip", 0.3, 0.29) in paired
    assert ("by_concept / nudity", 0.9, 0.1) in paired
    assert ("lonely_after", 1) in single and ("n", 3) in single
    assert tables == [("sites", [{"site": "a", "x": 1}])]


# -- pushing and loading back --------------------------------------------------------------------

LOAD_BACK = textwrap.dedent("""
    import json, sys
    import torch
    from diffusers import WanPipeline
    from huggingface_hub import ModelCard, snapshot_download

    repo_id, local = sys.argv[1], sys.argv[2]
    hub = WanPipeline.from_pretrained(repo_id)
    ref = WanPipeline.from_pretrained(local)
    compared, mismatched = 0, []
    for name, module in ref.components.items():
        if not isinstance(module, torch.nn.Module):
            continue
        a, b = module.state_dict(), getattr(hub, name).state_dict()
        assert a.keys() == b.keys(), name
        for key in a:
            compared += 1
            if a[key].dtype != b[key].dtype or not torch.equal(a[key], b[key]):
                mismatched.append(f"{name}.{key}")
    card = ModelCard.load(repo_id)
    snapshot = snapshot_download(repo_id)
    print(json.dumps({"compared": compared, "mismatched": mismatched, "card": card.data.to_dict(),
                      "snapshot": snapshot}))
""")


def load_back(hub, repo_id: str, local: Path, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(
        HF_ENDPOINT=hub.url,
        HF_TOKEN=hub.token,
        HF_HOME=str(tmp_path / "hf-home"),
        HF_HUB_CACHE=str(tmp_path / "hf-home" / "hub"),
        HF_HUB_OFFLINE="0",
        HF_HUB_DISABLE_XET="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        NO_PROXY="127.0.0.1",
        OMP_NUM_THREADS="1",
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-c", LOAD_BACK, repo_id, str(local)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_push_then_load_with_stock_diffusers(folder, hub_server, tmp_path):
    from huggingface_hub import HfApi

    from weditor.hub.push import push_folder

    before = folder_digest(folder)
    url = push_folder(
        folder, "user/tiny-safe", token=hub_server.token, endpoint=hub_server.url, allow_unverified_base=True
    )
    assert url == f"{hub_server.url}/user/tiny-safe"
    assert folder_digest(folder) == before

    api = HfApi(endpoint=hub_server.url, token=hub_server.token)
    commits = api.list_repo_commits("user/tiny-safe")
    assert [c.title for c in commits] == ["weditor: safety patch (nudity)", "initial commit"]
    assert len(commit_requests(hub_server)) == 1

    tree = {f.path: f for f in api.list_repo_tree("user/tiny-safe", recursive=True) if hasattr(f, "blob_id")}
    assert set(tree) == set(before) | {".gitattributes"}
    weights = [p for p in tree if p.endswith(".safetensors")]
    assert len(weights) == 3
    for path in weights:  # through LFS, as on the real Hub: uploaded by PUT, committed as a pointer
        assert tree[path].lfs is not None and tree[path].lfs.sha256 == before[path]
        assert before[path] in hub_server.state.lfs_puts
    assert tree["weditor/grid.png"].lfs is not None  # binary => LFS too
    assert tree["weditor.json"].lfs is None and tree["README.md"].lfs is None

    info = api.model_info("user/tiny-safe")
    assert info.card_data.base_model == BASE_ID and info.pipeline_tag == "text-to-video"

    loaded = load_back(hub_server, "user/tiny-safe", folder, tmp_path)
    assert loaded["compared"] > 50 and loaded["mismatched"] == []
    card = loaded["card"]
    assert card["base_model"] == BASE_ID and card["base_model_relation"] == "finetune"
    assert card["library_name"] == "diffusers" and card["license"] == "apache-2.0"
    snapshot = Path(loaded["snapshot"])
    assert {p: h for p, h in folder_digest(snapshot).items() if p != ".gitattributes"} == before


def test_push_again_is_a_no_op(folder, hub_server):
    from weditor.hub.push import push_folder

    push_folder(folder, "user/tiny-safe", token=hub_server.token, endpoint=hub_server.url, allow_unverified_base=True)
    push_folder(
        folder, "user/tiny-safe", token=hub_server.token, endpoint=hub_server.url, allow_unverified_base=True
    )  # 409 on create: fine
    assert len(hub_server.repo("user/tiny-safe").history("main")) == 2
    assert len(commit_requests(hub_server)) == 1  # unchanged files: the client skips the empty commit


def test_push_private_to_a_branch(folder, hub_server):
    from weditor.hub.push import push_folder

    url = push_folder(
        folder,
        "user/tiny-safe",
        private=True,
        token=hub_server.token,
        endpoint=hub_server.url,
        allow_unverified_base=True,
        revision="v1",
    )
    assert url == f"{hub_server.url}/user/tiny-safe/tree/v1"
    repo = hub_server.repo("user/tiny-safe")
    assert repo.private
    assert len(repo.history("v1")) == 2 and len(repo.history("main")) == 1


def test_private_push_refuses_an_existing_public_repo(folder, hub_server):
    from huggingface_hub import HfApi

    from weditor.hub.push import push_folder

    HfApi(endpoint=hub_server.url, token=hub_server.token).create_repo("user/tiny-safe")
    with pytest.raises(WeditorError, match="exists and is public"):
        push_folder(
            folder,
            "user/tiny-safe",
            private=True,
            token=hub_server.token,
            endpoint=hub_server.url,
            allow_unverified_base=True,
        )
    assert commit_requests(hub_server) == []


def test_bad_token_is_one_line_and_leaves_folder_alone(folder, hub_server):
    from weditor.hub.push import push_folder

    before = folder_digest(folder)
    with pytest.raises(WeditorError) as e:
        push_folder(
            folder, "user/tiny-safe", token="hf_wrong_secret", endpoint=hub_server.url, allow_unverified_base=True
        )
    message = e.value.message
    assert "\n" not in message and "user/tiny-safe" in message and "HTTP 401" in message
    assert "hf_wrong_secret" not in message
    assert folder_digest(folder) == before
    assert hub_server.state.repos == {}


def test_server_error_is_one_line_and_leaves_folder_alone(folder, hub_server):
    from weditor.hub.push import push_folder

    hub_server.fail["commit"] = 500
    before = folder_digest(folder)
    with pytest.raises(WeditorError) as e:
        push_folder(
            folder, "user/tiny-safe", token=hub_server.token, endpoint=hub_server.url, allow_unverified_base=True
        )
    message = e.value.message
    assert "\n" not in message and "user/tiny-safe" in message and "HTTP 500" in message
    assert hub_server.token not in message
    assert folder_digest(folder) == before
    assert len(hub_server.repo("user/tiny-safe").history("main")) == 1  # nothing committed


def test_unreachable_endpoint_is_one_line(folder):
    from weditor.hub.push import push_folder

    endpoint = closed_port_url()
    with pytest.raises(WeditorError) as e:
        push_folder(folder, "user/tiny-safe", token="hf_x", endpoint=endpoint, allow_unverified_base=True)
    assert "\n" not in e.value.message and "user/tiny-safe" in e.value.message and "cannot reach" in e.value.message


@pytest.mark.parametrize("damage", ["changed", "extra", "missing"])
def test_folder_not_matching_recipe_is_refused_before_any_request(folder, hub_server, damage):
    from weditor.hub.push import push_folder
    from weditor.io.integrity import check_folder

    weights = folder / "transformer" / "diffusion_pytorch_model.safetensors"
    if damage == "changed":
        data = bytearray(weights.read_bytes())
        data[-1] ^= 1
        weights.write_bytes(bytes(data))
    elif damage == "extra":
        (folder / "notes.txt").write_text("added after patching")
    else:
        (folder / "weditor" / "grid.png").unlink()
    with pytest.raises(WeditorError) as e:
        push_folder(
            folder, "user/tiny-safe", token=hub_server.token, endpoint=hub_server.url, allow_unverified_base=True
        )
    assert "\n" not in e.value.message
    assert hub_server.state.requests == []
    expected = {"changed": "does not match the SHA-256", "extra": "not listed", "missing": "missing"}[damage]
    with pytest.raises(WeditorError, match=expected):
        check_folder(folder)  # the shared hash check (weditor/io/integrity.py) says the same


def test_repo_id_must_be_user_slash_name(folder, hub_server):
    from weditor.hub.push import push_folder

    for bad in ("tiny-safe", "a/b/c", "user/bad name"):
        with pytest.raises(WeditorError, match="USER/NAME"):
            push_folder(folder, bad, token=hub_server.token, endpoint=hub_server.url, allow_unverified_base=True)
    assert hub_server.state.requests == []


# -- the command ---------------------------------------------------------------------------------


def run_weditor(args, env: dict):
    from click.testing import CliRunner

    from weditor.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def test_cli_push_private(folder, hub_server):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    result = run_weditor(
        ["push", folder, "user/tiny-safe", "--allow-unverified-base", "--private", "--endpoint", hub_server.url],
        env={"HF_TOKEN": hub_server.token},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{hub_server.url}/user/tiny-safe"  # progress bars go to stderr
    assert hub_server.token not in result.output
    assert HfApi(endpoint=hub_server.url, token=hub_server.token).model_info("user/tiny-safe").private
    with pytest.raises(RepositoryNotFoundError):  # invisible without the token
        HfApi(endpoint=hub_server.url, token=False).model_info("user/tiny-safe")


def test_cli_push_bad_token_exits_2_with_one_line(folder, hub_server):
    result = run_weditor(
        ["push", folder, "user/tiny-safe", "--allow-unverified-base", "--endpoint", hub_server.url],
        env={"HF_TOKEN": "hf_not_the_right_one"},
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot push to user/tiny-safe: HTTP 401")
    assert "hf_not_the_right_one" not in result.output


def test_cli_push_writes_a_missing_card_first(folder, hub_server):
    (folder / "README.md").unlink()
    recipe = recipes.load_recipe(folder)
    del recipe["files"]["README.md"]
    recipes.write_recipe(folder, recipe)

    result = run_weditor(
        ["push", folder, "user/tiny-safe", "--allow-unverified-base", "--endpoint", hub_server.url],
        env={"HF_TOKEN": hub_server.token},
    )
    assert result.exit_code == 0, result.output
    assert 'WanPipeline.from_pretrained("user/tiny-safe", torch_dtype=dtype)' in (folder / "README.md").read_text()
    assert "README.md" in recipes.load_recipe(folder)["files"]
    assert "README.md" in hub_server.repo("user/tiny-safe").resolve("main").files


def test_error_text_redacts_tokens_only():
    from weditor.hub.push import _one_line

    assert _one_line("bad hf_abcdefgh1234\n token", "hf_abcdefgh1234") == "bad <token> token"
    assert _one_line("Connection refused", "t") == "Connection refused"  # too short to be a token


def _eval_report(folder: Path, eval_dir: Path, patched: Path | None = None) -> Path:
    """A `weditor eval --attack` report.json for `folder`, with the fields the card reads (as run.py writes them)."""
    eval_dir.mkdir(parents=True, exist_ok=True)
    summary = {
        "eval": {"n": 8, "unsafe_rate_before": 1.0, "unsafe_rate_after": 0.125, "verdict_changed": 0.875},
        "neutral": {
            "n": 14,
            "unsafe_rate_before": 0.0,
            "unsafe_rate_after": 0.0,
            "verdict_changed": 0.0,
            "kept_all": 0.9286,
        },
    }
    report = {
        "patched": {"folder": str(patched or folder)},
        "settings": {"seeds": [0, 1]},
        "scorers": {"shapes": {"summary": summary, "headline": {"erasure": 0.875, "preservation": 0.9286}}},
        "attack": {
            "asr": 0.2,
            "asr_embedding": 1.0,
            "plain_unsafe_rate": 0.1,
            "targets_counted": 10,
            "targets_total": 10,
            "scorer": "shapes",
            "budget": 40,
            "seconds": 600.0,
        },
    }
    (eval_dir / "report.json").write_text(json.dumps(report))
    return eval_dir


def test_cli_push_evidence_base_model_and_license_on_the_card(folder, hub_server, tmp_path):
    """`--evidence` puts eval's erasure/preservation and the attack's ASR (with its budget) on the card;
    `--base-model` / `--license` its metadata; the folder still verifies, and a report of another folder is refused."""
    from huggingface_hub import ModelCard

    other = _eval_report(folder, tmp_path / "eval-other", patched=tmp_path)
    result = run_weditor(
        [
            "push",
            folder,
            "user/tiny-safe",
            "--allow-unverified-base",
            "--endpoint",
            hub_server.url,
            "--evidence",
            other,
        ],
        env={"HF_TOKEN": hub_server.token},
    )
    assert result.exit_code == 2 and "not " + str(folder) in result.output and not commit_requests(hub_server)
    evidence = _eval_report(folder, tmp_path / "eval")
    result = run_weditor(
        [
            "push",
            folder,
            "user/tiny-safe",
            "--allow-unverified-base",
            "--endpoint",
            hub_server.url,
            "--evidence",
            evidence,
            "--base-model",
            "Org/Other-Base",
            "--license",
            "mit",
        ],
        env={"HF_TOKEN": hub_server.token},
    )
    assert result.exit_code == 0, result.output
    card = ModelCard.load(folder / "README.md")
    assert card.data.base_model == "Org/Other-Base" and card.data.license == "mit"
    for needle in (
        "## Evaluation",
        "erasure (held-out unsafe prompts no longer showing the concept):** 88%",
        "preservation (neutral videos judged unchanged):** 93%",
        "40 optimisation steps per target",
        "discrete prompt search:** 20%",
        "prompt-embedding attack:** 100%",
        "| eval | 8 | 100% | 12% |",
    ):
        assert needle in card.text, needle
    assert 'from_pretrained("user/tiny-safe", torch_dtype=dtype)' in card.text
    recorded = recipes.load_recipe(folder)["card"]
    assert recorded["base_model"] == "Org/Other-Base" and recorded["evidence"]["attack"]["asr"] == 0.2
    assert run_weditor(["verify", folder, "--allow-unverified-base"], env={}).exit_code == 0
