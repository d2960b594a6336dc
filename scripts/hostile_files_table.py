"""The table of docs/reliability.md, "Hostile inputs: model folders, outputs and verification".

Tries each hostile input on this checkout (tiny random Wan pipelines, in-process CLI) and prints
one markdown row per input: what was tried, what is expected, and what was observed (the exit
status and the first `Error:` line, abridged; paths shortened to BASE, OUT, SNAPSHOT).

    python scripts/hostile_files_table.py /tmp/hostile > table.md

Writes only under the given folder (removed first). Run from the repository root: it reuses the
tampering helpers of tests/test_hostile_files.py.
"""

import errno
import json
import os
import re
import shutil
import sys
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, os.getcwd())
import torch

torch.set_num_threads(1)
from safetensors.torch import load_file, save_file

from tests import test_hostile_files as H
from tests.conftest import TINY_PAIRS, TINY_SIZE
from weditor.testing import save_tiny_wan_pipeline

R = Path(sys.argv[1])
shutil.rmtree(R, ignore_errors=True)
R.mkdir(parents=True)
BASE = save_tiny_wan_pipeline(R / "base", seed=1)
(R / "secret.txt").write_text("id_rsa\n")
rows = []


def show(label, result):
    errs = [line for line in result.output.splitlines() if line.startswith("Error:")]
    res = [line for line in result.output.splitlines() if line.startswith("result:")]
    tb = "Traceback" in result.output or result.exception is not None and not isinstance(result.exception, SystemExit)
    first = (errs[0][7:] if errs else (res[0] if res else "")).replace(str(R) + "/", "")
    if len(first) > 150:
        first = first[:147] + "..."
    rows.append((label, result.exit_code, len(errs), tb, first.replace("|", "\\|")))
    print(rows[-1], file=sys.stderr, flush=True)


def cli(args):
    from click.testing import CliRunner

    from weditor.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def patch(base, out, *extra):
    return cli(["patch", base, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, "--no-summary", *extra])


def fresh(name):
    p = R / name
    shutil.copytree(BASE, p)
    return p


n = 0


def case_base(label, make, *extra):
    global n
    n += 1
    b = fresh(f"b{n}")
    make(b)
    show(label, patch(b, R / f"o{n}", *extra))
    assert not (R / f"o{n}").exists() or "keep" in label


# ---- model folders
case_base(
    "base: `tokenizer/special_tokens_map.txt -> /abs/secret.txt` (outside)",
    lambda b: (b / "tokenizer/special_tokens_map.txt").symlink_to(R / "secret.txt"),
)
case_base(
    "base: relative link `scheduler/notes.txt -> ../../secret.txt`",
    lambda b: (b / "scheduler/notes.txt").symlink_to("../../secret.txt"),
)
case_base(
    "base: `extra -> /abs/folder` (folder link outside)",
    lambda b: ((R / "elsewhere").mkdir(exist_ok=True), (b / "extra").symlink_to(R / "elsewhere")),
)
case_base("base: `vae2 -> vae` (folder link inside)", lambda b: (b / "vae2").symlink_to(b / "vae"))
case_base("base: broken link `tokenizer/gone.json`", lambda b: (b / "tokenizer/gone.json").symlink_to(b / "nothing"))
case_base("base: FIFO `scheduler/pipe.json`", lambda b: os.mkfifo(b / "scheduler/pipe.json"))
case_base(
    "base: `transformer/diffusion_pytorch_model.safetensors` -> a file outside",
    lambda b: (
        shutil.move(b / "transformer/diffusion_pytorch_model.safetensors", R / f"moved{n}.safetensors"),
        (b / "transformer/diffusion_pytorch_model.safetensors").symlink_to(R / f"moved{n}.safetensors"),
    ),
)
for comp in ("transformer", "vae"):
    for L in (2**40, 2**63 - 1):
        case_base(
            f"base: {comp} safetensors header length {'2^40' if L == 2**40 else '2^63-1'}",
            lambda b, c=comp, L=L: H.set_header_length(b / c / "diffusion_pytorch_model.safetensors", L),
        )
case_base(
    "base: header that is a JSON list",
    lambda b: (
        lambda p: (
            lambda d: (
                p.unlink(),
                p.write_bytes((2).to_bytes(8, "little") + b"[]" + d[8 + int.from_bytes(d[:8], "little") :]),
            )
        )(p.read_bytes())
    )(b / "vae/diffusion_pytorch_model.safetensors"),
)


def pt_only(b):
    w = b / "vae/diffusion_pytorch_model.safetensors"
    torch.save(load_file(w), b / "vae/diffusion_pytorch_model.pt")
    w.unlink()


case_base("base: VAE only as `diffusion_pytorch_model.pt`", pt_only)
case_base("base: VAE only as `.pt`, with --allow-pickle", pt_only, "--allow-pickle")


def nan_vae(b):
    p = b / "vae/diffusion_pytorch_model.safetensors"
    t = load_file(p)
    k = H.first_float(b, "vae")
    t[k].view(-1)[0] = float("nan")
    p.unlink()
    save_file(t, p, metadata={"format": "pt"})


case_base("base: one NaN in a VAE weight", nan_vae)
# hub cache
snap = H._as_hub_cache(BASE, R / "hub")
r = patch(snap, R / "ohub")
show("base: Hub cache snapshot (`snapshots/<rev>/f -> ../../blobs/<sha>`)", r)
r = cli(["verify", R / "ohub", "--base", snap])
show("verify of that output against the snapshot", r)
(snap / "tokenizer/stolen.txt").symlink_to("../../../../secret.txt")
(R / "secret.txt").write_text("id_rsa\n")
r = patch(snap, R / "ohub2")
show("base: Hub snapshot link out of its cache repo (`../../../../secret.txt`)", r)
(snap / "tokenizer/stolen.txt").unlink()
link = R / "base-link"
link.symlink_to(BASE)
r = patch(link, R / "olink")
show("base given as a symbolic link to the model folder", r)
# disk full
import weditor.io.checkpoint as ck

real = shutil.copyfile


def full(src, dst, *a, **k):
    if str(dst).endswith("config.json"):
        raise OSError(errno.ENOSPC, "No space left on device", str(src))
    return real(src, dst, *a, **k)


ck.shutil.copyfile = full
r = patch(BASE, R / "ofull", "--copy")
show("disk full while copying a config (ENOSPC, simulated)", r)
ck.shutil.copyfile = real

# ---- an output to tamper with
OUT = R / "out"
r = patch(BASE, OUT)
assert r.exit_code == 0, r.output


def tampered(label, tamper, *args, forged=True, diff=True, **changes):
    global n
    n += 1
    c = R / f"t{n}" / "out"
    shutil.copytree(OUT, c)
    tamper(c)
    if forged:
        H.forge(c, **changes)
    show(f"verify: {label}", cli(["verify", c, *args]))
    if diff:
        show(f"diff: {label}", cli(["diff", BASE, c]))
    return c


sec = R / "secret.txt"
tampered(
    "a non-edited transformer tensor changed, hashes rewritten",
    lambda c: H.rewrite_tensor(c, "transformer", H.UNEDITED, lambda w: w + 1e-3),
)
tampered("a VAE tensor changed, hashes rewritten", lambda c: H._change_vae(c, sec))
tampered("a NaN in a VAE tensor, hashes rewritten", lambda c: H._nan_in_vae(c, sec))
tampered("`evil.backdoor` added to a transformer shard", lambda c: H._add_tensor(c, sec))
tampered("`transformer/config.json` changed", lambda c: H._change_config(c, sec))
tampered("symlink `tokenizer/special_tokens_map.txt -> secret` added", lambda c: H._add_symlink(c, sec))
tampered("card `README.md` replaced", lambda c: H._replace_card(c, sec))
tampered("`weditor/notes.txt` added", lambda c: H._add_own_file(c, sec), diff=False)
tampered("pair file `weditor/pairs/red.toml` replaced", lambda c: H._swap_pair_file(c, sec), diff=False)


def meta(c):
    p = c / "vae/diffusion_pytorch_model.safetensors"
    t = load_file(p)
    p.unlink()
    save_file(t, p, metadata={"format": "pt", "note": "x"})


tampered("VAE shard metadata changed (tensors equal)", meta, diff=False)
tampered(
    "FIFO `scheduler/x.safetensors` added", lambda c: os.mkfifo(c / "scheduler/x.safetensors"), forged=False, diff=False
)


def recipe_is(text):
    def f(c):
        (c / "weditor.json").unlink()
        (c / "weditor.json").write_text(text(c) if callable(text) else text)

    return f


tampered("`weditor.json` is `[]`", recipe_is("[]"), forged=False)
tampered("`weditor.json` is `null`", recipe_is("null"), forged=False)
tampered('`"files"` is a list', recipe_is('{"format": 1, "files": ["a"]}'), forged=False)
tampered(
    '`"edits": "abc"`',
    recipe_is(lambda c: json.dumps({**json.loads((OUT / "weditor.json").read_text()), "edits": "abc"})),
    forged=False,
)
tampered(
    '`"files"` names `../../etc/passwd`',
    recipe_is('{"format": 1, "files": {"../../etc/passwd": "' + "0" * 64 + '"}}'),
    forged=False,
    diff=False,
)
tampered(
    '`params.strength` is `"abc"`',
    recipe_is(lambda c: json.dumps({**json.loads((OUT / "weditor.json").read_text()), "params": {"strength": "abc"}})),
    forged=False,
    diff=False,
)
tampered("`weditor.json` is 50,000 nested `[`", recipe_is("[" * 50000), forged=False)


def rlink(c):
    (R / "elsewhere-recipe.json").write_bytes((c / "weditor.json").read_bytes())
    (c / "weditor.json").unlink()
    (c / "weditor.json").symlink_to(R / "elsewhere-recipe.json")


tampered("`weditor.json` is a symbolic link", rlink, forged=False, diff=False)
for comp in ("transformer", "vae"):
    tampered(
        f"{comp} shard header length 2^63-1",
        lambda c, comp=comp: H.set_header_length(sorted((c / comp).glob("*.safetensors"))[0], 2**63 - 1),
    )
from weditor.io.tensors import tensor_sha256


def forged_edit(c):
    e = json.loads((c / "weditor.json").read_text())["edits"][0]
    H.rewrite_tensor(c, e["component"], e["tensor"], lambda w: w * 0.5)


rec = json.loads((OUT / "weditor.json").read_text())


def forge_missing_base(c):
    forged_edit(c)
    r = json.loads((c / "weditor.json").read_text())
    e = r["edits"][0]
    e["sha256_after"] = tensor_sha256(load_file(H.shard_of(c, e["component"], e["tensor"]))[e["tensor"]])
    H.forge(c, edits=r["edits"], base_model={**r["base_model"], "id": "/nonexistent/base"})


c = tampered("forged edited tensor, `base_model.id` -> a missing path", forge_missing_base, forged=False, diff=False)
show("verify --allow-unverified-base: the same folder", cli(["verify", c, "--allow-unverified-base"]))
c = tampered(
    "`base_model.id` -> `/` (not a pipeline)",
    lambda c: None,
    forged=True,
    diff=False,
    base_model={**rec["base_model"], "id": "/"},
)
c = tampered(
    "the recipe names the folder itself as base (`edits: []`)",
    lambda c: H.forge(c, edits=[], base_model={**rec["base_model"], "id": str(c)}),
    forged=False,
    diff=False,
)
# ---- overwrite
st = R / "thesis"
st.mkdir()
(st / "weditor.json").write_text("{}")
(st / "thesis.tex").write_text("4 years")
show("--overwrite: folder with `weditor.json` = `{}` and a thesis", patch(BASE, st, "--overwrite"))
assert (st / "thesis.tex").exists()
c = R / "ov" / "out"
shutil.copytree(OUT, c)
(c / "thesis.tex").write_text("4 years")
show("--overwrite: an intact output plus `thesis.tex`", patch(BASE, c, "--overwrite"))
(c / "thesis.tex").unlink()
(c / "escape").symlink_to(st)
show("--overwrite: an output with a folder link inside", patch(BASE, c, "--overwrite"))
(c / "escape").unlink()
lk = R / "ov-link"
lk.symlink_to(c)
show("--overwrite: `--out` is a symbolic link to an output", patch(BASE, lk, "--overwrite"))
bl = R / "broken-out"
bl.symlink_to(R / "nothing-here")
show("`--out` is a broken symbolic link", patch(BASE, bl))
show("--overwrite: an intact output", patch(BASE, c, "--overwrite"))
# ---- push
c = R / "push" / "out"
shutil.copytree(OUT, c)
H._change_vae(c, sec)
H.forge(c)
show(
    "push: VAE tensor changed, hashes rewritten (no network)",
    cli(["push", c, "user/x", "--endpoint", "http://127.0.0.1:9"]),
)
r2 = json.loads((c / "weditor.json").read_text())
H.forge(c, base_model={**r2["base_model"], "id": "/nonexistent"})
show(
    "push: the same, base id rewritten to a missing path",
    cli(["push", c, "user/x", "--endpoint", "http://127.0.0.1:9"]),
)
assert (R / "secret.txt").read_text() == "id_rsa\n"
rows_md = [
    f"| {label} | exit {code}{', traceback' if tb else ''}{'' if nerr == 1 or code == 0 else f', {nerr} Error lines'} | {first} |"
    for label, code, nerr, tb, first in rows
]


def expected(label):
    L = label
    if L.startswith("base: Hub cache snapshot"):
        return "patched; output files are regular files (hard links to the blobs)"
    if L.startswith("verify of that output"):
        return "OK, exit 0"
    if L.startswith("base given as a symbolic link"):
        return "patched (the link is the user's own name for the folder)"
    if L.startswith("base:"):
        return "refused before anything is written: exit 2, one line naming the file, no OUT"
    if L.startswith("disk full"):
        return "exit 2, one line naming the output file, no OUT"
    if L.startswith("diff: card"):
        return "not diff's check (the card's hash matches): exit 0; verify catches it"
    if (
        "weditor.json" in L
        and ("`[]`" in L or "`null`" in L or "nested" in L or "symbolic link" in L)
        or "is a list" in L
        or "abc" in L
        or "../../etc" in L
    ):
        return "exit 2, one line naming the field"
    if L.startswith("verify: forged edited") or L.startswith("verify: `base_model.id` -> `/`"):
        return "NOT VERIFIED: exit 2, says what was not checked"
    if L.startswith("verify --allow-unverified-base"):
        return "exit 0, with the `not checked:` lines (accepted explicitly)"
    if L.startswith("verify:") or L.startswith("diff:"):
        return "FAILED: exit 1, one line naming it"
    if L.startswith("--overwrite: an intact output"):
        return "replaced, exit 0"
    if L.startswith("--overwrite") or L.startswith("`--out`"):
        return "refused: exit 2, one line, nothing touched"
    if L.startswith("push: the same"):
        return "refused: exit 2, needs --allow-unverified-base"
    if L.startswith("push"):
        return "refused before any request: exit 2"
    raise KeyError(L)


out = ["| input tried | expected | observed (exit status: first `Error:` line, abridged) |", "| --- | --- | --- |"]
for r in rows_md:
    label, code, msg = [x.strip() for x in r.strip("|").split(" | ", 2)]
    msg = msg.rstrip(" |")
    msg = re.sub(r"^t\d+/out: ", "", msg)
    msg = re.sub(r"\bt\d+/out/", "OUT/", msg)
    msg = re.sub(r"\bb\d+/", "BASE/", msg)
    msg = re.sub(r"\bb\d+\b", "BASE", msg)
    msg = msg.replace("hub/models--org--tiny/snapshots/0000000000000000000000000000000000000000/", "SNAPSHOT/")
    if len(msg) > 140:
        msg = msg[:137].rstrip() + "..."
    obs = code + (f": `{msg}`" if msg else "")
    out.append(f"| {label} | {expected(label)} | {obs} |")
print("\n".join(out))
