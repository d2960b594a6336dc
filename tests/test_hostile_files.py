"""Hostile model folders, outputs and tampered checkpoints (issue 17, first half).

Each case: the exit code, exactly one `Error:` line, no traceback, nothing written outside --out,
nothing of the user's deleted. Tampering is done the strongest way: the file is changed *and*
the recipe's hashes are rewritten to match (`forge`), so only a comparison with the base, a
rebuilt card or a structural check can tell.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from tests.conftest import TINY_PAIRS, TINY_SIZE, run_cli
from tests.test_diff import rewrite_tensor, shard_of
from weditor.checks.verify import verify_patched
from weditor.errors import WeditorError
from weditor.io import recipe as recipes

EDITED = "blocks.1.ffn.net.0.proj.weight"  # edited by PAPER_SITE in both transformers
UNEDITED = "blocks.0.attn1.to_q.weight"


def one_error(result, code: int) -> str:
    assert result.exit_code == code, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert "Traceback" not in result.output and "result: OK" not in result.output
    return errors[0]


def forge(folder: Path, **changes):
    """Rewrite weditor.json as an attacker would: every file's hash matches again (links hashed through).

    With `changes` to the recipe, the card is rebuilt from it too (weditor's own card builder), so
    that it cannot give the forgery away.
    """
    recipe = json.loads((folder / recipes.RECIPE_NAME).read_text())
    recipe.update(changes)
    if changes:
        from weditor.pipeline.card import write_card

        recipes.write_recipe(folder, recipe)
        write_card(folder, repo_id=folder.name)
    recipe["files"] = {
        rel: recipes.sha256_file(folder / rel) for rel in recipes.list_files(folder) if (folder / rel).is_file()
    }
    (folder / recipes.RECIPE_NAME).unlink()
    recipes.write_recipe(folder, recipe)


def first_float(folder: Path, component: str) -> str:
    path = sorted((folder / component).glob("*.safetensors"))[0]
    with safe_open(path, "pt") as f:
        return next(
            k
            for k in sorted(f.keys())
            if f.get_slice(k).get_dtype() in ("F32", "F16", "BF16") and len(f.get_slice(k).get_shape()) >= 1
        )


def set_header_length(path: Path, n: int):
    data = bytearray(path.read_bytes())
    data[:8] = n.to_bytes(8, "little")
    path.unlink()  # never write through a hard link into the base
    path.write_bytes(bytes(data))


@pytest.fixture
def copy(patched, tmp_path) -> Path:
    out = tmp_path / "out"  # the name the card was written for
    shutil.copytree(patched, out)  # real copies: tampering must not reach the base through hard links
    return out


@pytest.fixture
def base_copy(tiny_wan_single, tmp_path) -> Path:
    path = tmp_path / "base"
    shutil.copytree(tiny_wan_single, path)
    return path


def patch(base, out, *extra):
    return run_cli(["patch", base, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, "--no-summary", *extra])


def nothing_left(out: Path):
    assert not out.exists()
    assert not [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


# --------------------------------------------------------------------------- verify and diff on tampered folders


def _change_unedited(folder, outside):
    rewrite_tensor(folder, "transformer", UNEDITED, lambda w: w + 1e-3)


def _change_vae(folder, outside):
    rewrite_tensor(folder, "vae", first_float(folder, "vae"), lambda w: w * 1.01)


def _nan_in_vae(folder, outside):
    def poison(w):
        w = w.clone()
        w.view(-1)[0] = float("nan")
        return w

    rewrite_tensor(folder, "vae", first_float(folder, "vae"), poison)


def _add_tensor(folder, outside):
    path = shard_of(folder, "transformer", UNEDITED)
    with safe_open(path, "pt") as f:
        metadata = f.metadata()
    tensors = load_file(path)
    tensors["evil.backdoor"] = torch.ones(4)
    path.unlink()
    save_file(tensors, path, metadata=metadata)


def _change_config(folder, outside):
    config = folder / "transformer" / "config.json"
    data = json.loads(config.read_text())
    data["eps"] = 0.5
    config.unlink()
    config.write_text(json.dumps(data))


def _add_symlink(folder, outside):
    (folder / "tokenizer" / "special_tokens_map.txt").symlink_to(outside)


def _replace_card(folder, outside):
    (folder / "README.md").unlink()
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# A perfectly safe model\n\nNo changes were made.\n")


def _add_own_file(folder, outside):
    (folder / "weditor" / "notes.txt").write_text("diffusers never loads weditor/, push publishes it")


def _swap_pair_file(folder, outside):
    (folder / "weditor" / "pairs" / "red.toml").unlink()
    (folder / "weditor" / "pairs" / "red.toml").write_text('concept = "red"\n')


TAMPERING = {  # name: (tamper, a phrase of the first problem, does `diff` catch it too)
    "unedited-tensor": (_change_unedited, "differs from the base", True),
    "vae-tensor": (_change_vae, "differs from the base", True),
    "nan-in-vae": (_nan_in_vae, "NaN/Inf", True),
    "added-tensor": (_add_tensor, "evil.backdoor", True),
    "config": (_change_config, "config.json", True),
    "symlink": (_add_symlink, "symbolic link", True),
    "card": (_replace_card, "README.md: not the card weditor builds", False),
    "own-file": (_add_own_file, "not a file weditor writes", True),
    "pair-file": (_swap_pair_file, "not the pair file the recipe records", True),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_verify_catches_tampering_with_forged_hashes(tiny_wan, copy, tmp_path, case):
    tamper, phrase, diff_catches = TAMPERING[case]
    outside = tmp_path / "secret.txt"
    outside.write_text("not part of any model\n")
    tamper(copy, outside)
    forge(copy)
    result = run_cli(["verify", copy])
    line = one_error(result, 1)
    assert phrase in result.output, result.output
    assert "result: FAILED" in result.output, line
    result = run_cli(["diff", tiny_wan, copy])
    if diff_catches:
        one_error(result, 1)
    assert outside.read_text() == "not part of any model\n"


def test_verify_without_the_base_is_not_an_ok(copy):
    """A forged edit, and base_model.id rewritten to a path that does not exist: the recompute can't run,
    and verify says exactly that instead of skipping it silently."""
    from weditor.io.tensors import tensor_sha256

    rewrite_tensor(copy, "transformer", EDITED, lambda w: w * 0.5)
    recipe = json.loads((copy / "weditor.json").read_text())
    new = load_file(shard_of(copy, "transformer", EDITED))[EDITED]
    for entry in recipe["edits"]:
        if entry["component"] == "transformer" and entry["tensor"] == EDITED:
            entry["sha256_after"] = tensor_sha256(new)
    forge(copy, edits=recipe["edits"], base_model={**recipe["base_model"], "id": "/nonexistent/base"})
    result = run_cli(["verify", copy])
    line = one_error(result, 2)
    assert "not fully verified" in line and "--allow-unverified-base" in line
    assert "result: NOT VERIFIED" in result.output
    assert "not checked: 6 edited tensor(s) not recomputed" in result.output
    result = run_cli(["verify", copy, "--allow-unverified-base"])  # accepted explicitly: hashes and structure only
    assert result.exit_code == 0 and "not checked:" in result.output, result.output
    report = json.loads(run_cli(["verify", copy, "--json"]).output.split("\nError:")[0])
    assert report["ok"] is False and report["complete"] is False and len(report["unverified"]) == 2


@pytest.mark.parametrize(
    "text,message",
    [
        ("[]", "a JSON list, expected an object"),
        ("null", "a JSON null, expected an object"),
        ('{"format": 1, "files": ["a"]}', "field 'files' is a list"),
        ("EDITS", "field 'edits' is a string, expected a list"),
        ('{"format": 1, "files": {"../../etc/passwd": "' + "0" * 64 + '"}}', "not a relative path inside the folder"),
        ('{"format": 1, "files": {}, "params": {"strength": "abc"}}', "params.strength"),
        ("[" * 50000, "not valid JSON"),
    ],
)
def test_malformed_recipes_are_one_line_in_verify_and_diff(tiny_wan, copy, text, message):
    if text == "EDITS":
        recipe = json.loads((copy / "weditor.json").read_text())
        text = json.dumps({**recipe, "edits": "abc"})
    (copy / "weditor.json").unlink()
    (copy / "weditor.json").write_text(text)
    for args in (["verify", copy], ["diff", tiny_wan, copy]):
        line = one_error(run_cli(args), 2)
        assert message in line, line


@pytest.mark.parametrize("component", ["transformer", "vae"])  # an edited and a non-edited component
@pytest.mark.parametrize("length", [2**40, 2**63 - 1])
def test_hostile_header_length_in_an_output(tiny_wan, copy, component, length):
    """Corruption of PATCHED is a finding: exit 1 (the verify/diff contract), one line, no MemoryError."""
    set_header_length(sorted((copy / component).glob("*.safetensors"))[0], length)
    forge(copy)
    for args in (["verify", copy], ["diff", tiny_wan, copy]):
        result = run_cli(args)
        one_error(result, 1)
        assert "not a valid safetensors file (header length" in result.output


# --------------------------------------------------------------------------- patch: links, headers, pickles, NaN


def _outside_link(base, tmp):
    (base / "tokenizer" / "special_tokens_map.txt").symlink_to(tmp / "secret.txt")
    return "tokenizer/special_tokens_map.txt", "outside the model folder"


def _relative_outside_link(base, tmp):
    (base / "scheduler" / "notes.txt").symlink_to(Path("..") / ".." / "secret.txt")
    return "scheduler/notes.txt", "outside the model folder"


def _folder_link_outside(base, tmp):
    (tmp / "elsewhere").mkdir()
    (base / "extra").symlink_to(tmp / "elsewhere", target_is_directory=True)
    return "extra", "outside the model folder"


def _folder_link_inside(base, tmp):
    (base / "vae2").symlink_to(base / "vae", target_is_directory=True)
    return "vae2", "a symbolic link to a folder"


def _broken_link(base, tmp):
    (base / "tokenizer" / "gone.json").symlink_to(base / "tokenizer" / "nothing.json")
    return "tokenizer/gone.json", "broken symbolic link"


def _fifo(base, tmp):
    os.mkfifo(base / "scheduler" / "pipe.json")
    return "scheduler/pipe.json", "not a regular file"


@pytest.mark.parametrize(
    "make",
    [_outside_link, _relative_outside_link, _folder_link_outside, _folder_link_inside, _broken_link, _fifo],
    ids=lambda f: f.__name__.strip("_"),
)
def test_links_and_special_files_in_the_base_are_refused(base_copy, tmp_path, make):
    (tmp_path / "secret.txt").write_text("id_rsa\n")
    rel, message = make(base_copy, tmp_path)
    out = tmp_path / "o"
    line = one_error(patch(base_copy, out), 2)
    assert message in line and rel in line, line
    nothing_left(out)
    assert (tmp_path / "secret.txt").read_text() == "id_rsa\n"


def _as_hub_cache(base: Path, cache: Path) -> Path:
    """`base` laid out as huggingface_hub caches it: snapshot files are relative links into ../../blobs."""
    import hashlib

    repo = cache / "models--org--tiny"
    snapshot = repo / "snapshots" / ("0" * 40)
    (repo / "blobs").mkdir(parents=True)
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        rel = path.relative_to(base)
        blob = repo / "blobs" / hashlib.sha256(path.read_bytes()).hexdigest()
        shutil.copyfile(path, blob)
        (snapshot / rel).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / rel).symlink_to(os.path.relpath(blob, (snapshot / rel).parent))
    return snapshot


def test_hub_cache_snapshots_keep_working(tiny_wan_single, tmp_path):
    snapshot = _as_hub_cache(tiny_wan_single, tmp_path / "hub")
    out = tmp_path / "o"
    result = patch(snapshot, out)
    assert result.exit_code == 0, result.output
    from weditor.io.integrity import folder_entries

    assert not folder_entries(out).links  # every file is a regular file: here a hard link to its blob
    blobs = {os.stat(p).st_ino for p in (tmp_path / "hub" / "models--org--tiny" / "blobs").iterdir()}
    assert os.stat(out / "tokenizer" / "tokenizer.json").st_ino in blobs
    assert run_cli(["verify", out, "--base", snapshot]).exit_code == 0
    # ... but a snapshot link out of its cache repo is refused like any other
    (snapshot / "tokenizer" / "stolen.txt").symlink_to(Path("..") / ".." / ".." / ".." / "secret.txt")
    (tmp_path / "hub" / "secret.txt").write_text("token\n")
    line = one_error(patch(snapshot, tmp_path / "o2"), 2)
    assert "stolen.txt" in line and "outside the model folder" in line
    nothing_left(tmp_path / "o2")


def test_written_files_never_link_outside_the_base(base_copy, tmp_path):
    """write_patched re-checks each source as it writes: a link swapped in after the start is refused."""
    from weditor.io.checkpoint import write_patched

    (tmp_path / "secret.txt").write_text("id_rsa\n")
    (base_copy / "tokenizer" / "tokenizer_config.json").unlink()
    (base_copy / "tokenizer" / "tokenizer_config.json").symlink_to(tmp_path / "secret.txt")
    staging = tmp_path / "staging"
    with pytest.raises(WeditorError, match="outside the model folder"):
        write_patched(base_copy, staging, {}, {}, link=True)
    assert (tmp_path / "secret.txt").stat().st_nlink == 1  # never hard-linked


@pytest.mark.parametrize("component", ["transformer", "vae"])  # edited, not edited
@pytest.mark.parametrize("length", [2**40, 2**63 - 1])
def test_hostile_header_length_in_the_base(base_copy, tmp_path, component, length):
    set_header_length(base_copy / component / "diffusion_pytorch_model.safetensors", length)
    out = tmp_path / "o"
    line = one_error(patch(base_copy, out), 2)
    assert component in line, line
    nothing_left(out)


def test_a_pt_only_component_is_named_as_a_pickle(base_copy, tmp_path):
    weights = base_copy / "vae" / "diffusion_pytorch_model.safetensors"
    torch.save(load_file(weights), base_copy / "vae" / "diffusion_pytorch_model.pt")
    weights.unlink()
    out = tmp_path / "o"
    for extra in ((), ("--allow-pickle",)):
        line = one_error(patch(base_copy, out, *extra), 2)
        assert str(base_copy / "vae" / "diffusion_pytorch_model.pt") in line and "pickle" in line, line
        assert "weditor-tmp" not in line
        nothing_left(out)


def test_nan_in_the_vae_is_refused(base_copy, tmp_path):
    path = base_copy / "vae" / "diffusion_pytorch_model.safetensors"
    tensors = load_file(path)
    name = first_float(base_copy, "vae")
    tensors[name].view(-1)[0] = float("nan")
    path.unlink()
    save_file(tensors, path, metadata={"format": "pt"})
    out = tmp_path / "o"
    line = one_error(patch(base_copy, out), 2)
    assert f"vae: weight {name} holds 1 NaN/Inf" in line or f"vae: buffer {name}" in line, line
    nothing_left(out)


def test_disk_full_names_the_output_file(tiny_wan_single, tmp_path, monkeypatch):
    import weditor.io.checkpoint as checkpoint

    real = shutil.copyfile

    def full(src, dst, *a, **k):
        if str(dst).endswith("config.json"):
            raise OSError(errno.ENOSPC, "No space left on device", str(src))  # as copy_file_range reports it
        return real(src, dst, *a, **k)

    monkeypatch.setattr(checkpoint.shutil, "copyfile", full)
    out = tmp_path / "o"
    line = one_error(patch(tiny_wan_single, out, "--copy"), 2)
    assert "No space left on device" in line and "config.json of the output" in line, line
    assert str(tiny_wan_single) not in line
    nothing_left(out)


# --------------------------------------------------------------------------- --overwrite


def test_overwrite_needs_an_intact_weditor_output(tiny_wan_single, copy, tmp_path):
    def overwrite(out):
        return run_cli(
            ["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", out, "--overwrite", "--size", TINY_SIZE]
        )

    stranger = tmp_path / "thesis"
    stranger.mkdir()
    (stranger / "weditor.json").write_text("{}")
    (stranger / "thesis.tex").write_text("four years of work")
    line = one_error(overwrite(stranger), 2)
    assert "not replacing it" in line and "not an intact weditor output" in line, line
    assert (stranger / "thesis.tex").read_text() == "four years of work"

    (copy / "thesis.tex").write_text("four years of work")  # a real output with a stranger's file in it
    line = one_error(overwrite(copy), 2)
    assert "thesis.tex: not listed" in line, line
    assert (copy / "thesis.tex").read_text() == "four years of work"
    (copy / "thesis.tex").unlink()

    (copy / "escape").symlink_to(tmp_path / "thesis", target_is_directory=True)
    line = one_error(overwrite(copy), 2)
    assert "escape: a symbolic link" in line, line
    (copy / "escape").unlink()

    link = tmp_path / "link-to-output"
    link.symlink_to(copy, target_is_directory=True)
    line = one_error(overwrite(link), 2)
    assert "is a symbolic link" in line, line
    assert (stranger / "thesis.tex").exists() and (copy / "weditor.json").exists()
    assert not [p.name for p in tmp_path.iterdir() if ".weditor-" in p.name]


def test_overwrite_is_checked_again_before_the_swap(copy, tmp_path):
    from weditor.io.checkpoint import move_into_place

    staging = tmp_path / "staging"
    staging.mkdir()
    (copy / "thesis.tex").write_text("written while the patch ran")
    with pytest.raises(WeditorError, match="thesis.tex: not listed"):
        move_into_place(staging, copy, overwrite=True)
    assert (copy / "thesis.tex").exists() and staging.exists()


# --------------------------------------------------------------------------- push


def test_push_runs_the_same_verification(copy):
    from weditor.hub.push import push_folder

    _change_vae(copy, None)
    forge(copy)
    with pytest.raises(WeditorError, match="differs from the base") as e:  # before any request
        push_folder(copy, "user/x", token="hf_x", endpoint="http://127.0.0.1:9")
    assert "\n" not in e.value.message
    recipe = json.loads((copy / "weditor.json").read_text())
    forge(copy, base_model={**recipe["base_model"], "id": str(copy.parent / "no-such-base")})
    line = one_error(run_cli(["push", copy, "user/x", "--endpoint", "http://127.0.0.1:9"]), 2)
    assert "not fully verified" in line and "--allow-unverified-base" in line, line


# --------------------------------------------------------------------------- properties


def _apply(folder: Path, op: tuple, outside: Path) -> bool:
    """Apply one tampering; False when it found nothing to act on."""
    kind, i, j = op
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and p.name != "weditor.json")
    shards = [p for p in files if p.suffix == ".safetensors" and "weditor" not in p.parts]
    others = [p for p in files if p.suffix != ".safetensors" and p.name != "README.md" and "weditor" not in p.parts]
    if kind == "flip":  # one byte inside one tensor's data
        from weditor.io.checkpoint import safetensors_header

        path = shards[i % len(shards)]
        header, start = safetensors_header(path)
        names = sorted(
            k for k in header if k != "__metadata__" and header[k]["data_offsets"][1] > header[k]["data_offsets"][0]
        )
        lo, hi = header[names[j % len(names)]]["data_offsets"]
        data = bytearray(path.read_bytes())
        data[start + lo + (j % (hi - lo))] ^= 1 + (i % 255)
        path.unlink()
        path.write_bytes(bytes(data))
    elif kind == "text":
        path = others[i % len(others)]
        data = path.read_bytes()
        path.unlink()
        path.write_bytes(data + b" " * (1 + j % 3))
    elif kind == "add":
        where = ["", "transformer/", "vae/", "weditor/", "weditor/pairs/", "tokenizer/.hidden/"][i % 6]
        path = folder / f"{where}{['notes.txt', '.x', 'evil.safetensors', 'README.md', 'model.bin'][j % 5]}"
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"added" * (1 + j))
    elif kind == "link":
        where = ["tokenizer/special_tokens_map.txt", "scheduler/x.json", "weditor/pairs/y.toml", "transformer/z"][i % 4]
        target = [outside, files[j % len(files)], folder / "nowhere", outside.parent][j % 4]
        (folder / where).parent.mkdir(parents=True, exist_ok=True)
        if (folder / where).exists() or (folder / where).is_symlink():
            return False
        (folder / where).symlink_to(target)
    elif kind == "delete":
        candidates = [p for p in files if p.name != "README.md"]
        candidates[i % len(candidates)].unlink()
    return True


OPS = st.tuples(
    st.sampled_from(["flip", "text", "add", "link", "delete"]), st.integers(0, 10**6), st.integers(0, 10**6)
)


@pytest.fixture(scope="module")
def pristine(patched, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pristine") / "out"
    shutil.copytree(patched, out)
    (out.parent / "secret.txt").write_text("secret\n")  # a file outside the folder, for links to point at
    return out


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(ops=st.lists(OPS, min_size=1, max_size=3), forged=st.booleans())
def test_verify_never_passes_a_tampered_folder(pristine, tiny_wan, ops, forged):
    secret = pristine.parent / "secret.txt"
    work = Path(tempfile.mkdtemp(dir=pristine.parent))
    folder = work / "out"
    try:
        shutil.copytree(pristine, folder)
        applied = [op for op in ops if _apply(folder, op, secret)]
        if not applied:
            return
        if forged:
            forge(folder)
        try:
            report = verify_patched(folder, base=tiny_wan)
        except WeditorError:
            return  # refused outright (a recipe that cannot be read): not an OK either
        assert report.problems, (applied, forged)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert secret.read_text() == "secret\n"


LAYOUT = st.lists(
    st.tuples(
        st.sampled_from(["tokenizer/a.txt", "scheduler/b.json", "c.json", "vae/d.txt", "e"]),
        st.sampled_from(["outside", "outside-dir", "inside", "inside-dir", "dotdot", "broken"]),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda t: t[0],
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=LAYOUT)
def test_patch_never_writes_a_link_to_outside(tiny_wan_single, tmp_path_factory, layout):
    from weditor.io.checkpoint import write_patched

    tmp = tmp_path_factory.mktemp("layout")
    base = tmp / "base"
    shutil.copytree(tiny_wan_single, base)
    (tmp / "secret").mkdir()
    (tmp / "secret" / "id_rsa").write_text("key\n")
    for rel, kind in layout:
        target = {
            "outside": tmp / "secret" / "id_rsa",
            "outside-dir": tmp / "secret",
            "inside": base / "model_index.json",
            "inside-dir": base / "scheduler",
            "dotdot": Path("..") / ".." / "secret" / "id_rsa",
            "broken": base / "missing",
        }[kind]
        (base / rel).symlink_to(target)
    secret_inodes = {os.stat(tmp / "secret" / "id_rsa").st_ino}
    outside = any(kind != "inside" for _, kind in layout)  # a folder link or a broken one is refused too
    try:  # the writer itself refuses (resolve_model checks earlier, in test_links_and_special_files_...)
        write_patched(base, tmp / "staging", {}, {}, link=True)
    except WeditorError:
        assert outside, layout
        return
    finally:
        assert (tmp / "secret" / "id_rsa").read_text() == "key\n"
    assert not outside, layout  # only links to files inside the base pass
    for path in (tmp / "staging").rglob("*"):
        assert not path.is_symlink()
        if path.is_file():
            assert os.stat(path).st_ino not in secret_inodes


def test_errors_name_the_output_not_the_staging_folder(tmp_path):
    from weditor.io.workspace import output_name, sibling_name

    out = tmp_path / "out"
    staged = sibling_name(out, "tmp") / "weditor" / "directions.safetensors"
    assert output_name(staged, out) == str(out / "weditor" / "directions.safetensors")
    assert output_name("/somewhere/else.json", out) == "/somewhere/else.json"
