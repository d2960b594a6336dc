"""`weditor.json`: the recipe that travels with every patched checkpoint.

It records everything needed to reproduce the patch (version, base model, pair-file hashes,
every hyper-parameter) and to audit it (the list of edited tensors and the SHA-256 of every
file written), so `weditor verify` and `weditor diff` can detect tampering or corruption.

Layout (JSON, keys sorted, no timestamps so that identical inputs give identical bytes):

    {
      "format": 1,
      "weditor_version": "0.1.0",
      "base_model": {"id": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers" or local folder name,
                     "revision": "<commit sha or null>", "pipeline_class": "WanPipeline"},
      "pairs": [{"path": "weditor/pairs/nudity.toml", "concept": "nudity", "sha256": "..."}],
      "method": "refusal",
      "params": {... every hyper-parameter of the run ...},
      "edits": [{"component": "transformer", "tensor": "blocks.7.ffn.net.0.proj.weight",
                 "file": "transformer/diffusion_pytorch_model.safetensors",
                 "kind": "input_projection", "rank": 1, "sha256_before": "...", "sha256_after": "..."}],
      "summary": {... measured figures printed at the end of `weditor patch` ...},
      "files": {"transformer/diffusion_pytorch_model.safetensors": "<sha256>", ...}
    }

"files" covers every file in the output folder except `weditor.json` itself.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from weditor.errors import WeditorError

RECIPE_NAME = "weditor.json"
PAIRS_DIR = "weditor/pairs"
DIRECTIONS_FILE = "weditor/directions.safetensors"  # removed directions per site, rows orthonormal
READOUT_FILE = "weditor/readout.safetensors"  # edit "readout": [A | a] per site, (m, d + 1)
REINS_FILE = "weditor/reins.safetensors"  # REINS: per block, the unit direction d and the vector folded
CARD_NAME = "README.md"  # the model card, covered by the recipe's hashes
FORMAT = 1


def is_own_file(rel: str) -> bool:
    """Files weditor writes into an output folder (a base may itself be a patched folder)."""
    return rel == RECIPE_NAME or rel.startswith("weditor/")


def replace_file(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` through a new file and a rename.

    Unchanged files of a patched folder may be hard links to the base model's files: writing
    into an existing file in place would modify the base. A rename only swaps the name.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def sha256_file(path: str | Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def list_files(folder: str | Path) -> list[str]:
    """Every regular file under `folder`, as sorted POSIX relative paths, the recipe excluded."""
    folder = Path(folder)
    out = []
    for root, _, files in os.walk(folder):
        for name in files:
            rel = (Path(root) / name).relative_to(folder).as_posix()
            if rel != RECIPE_NAME:
                out.append(rel)
    return sorted(out)


# (device, inode) -> (size, mtime_ns, ctime_ns, sha256) of files hashed by this process. Any write,
# link, chmod or utime moves ctime, so an entry is reused only for unchanged bytes (short of a
# same-size rewrite within one kernel clock tick of our own read, as with git's racy entries).
_HASHED: dict[tuple[int, int], tuple[int, int, int, str]] = {}


def _sha256_remembered(path: Path, reuse: bool) -> str:
    st = os.stat(path)
    key, stamp = (st.st_dev, st.st_ino), (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    known = _HASHED.get(key)
    if reuse and known is not None and known[:3] == stamp:
        return known[3]
    digest = sha256_file(path)
    _HASHED[key] = (*stamp, digest)
    return digest


def hash_files(folder: str | Path, reuse: bool = False, rels: list[str] | None = None) -> dict[str, str]:
    """SHA-256 of every file (`list_files`), several files at a time (hashlib releases the GIL).

    With `reuse`, a file this process already hashed and that has not changed since (same inode,
    size, mtime and ctime) is not read again: `weditor patch` re-hashes its folder after writing
    the model card, and the multi-gigabyte shards have not changed by then. Checks of a folder
    against its recipe (weditor/io/integrity.py) never reuse. `rels`: these files only (default: `list_files`).
    """
    from concurrent.futures import ThreadPoolExecutor

    folder = Path(folder)
    rels = list_files(folder) if rels is None else list(rels)
    workers = max(1, min(8, os.cpu_count() or 1, len(rels)))
    with ThreadPoolExecutor(workers) as pool:
        digests = list(pool.map(lambda rel: _sha256_remembered(folder / rel, reuse), rels))
    return dict(zip(rels, digests))


def dumps(recipe: dict) -> str:
    return json.dumps(recipe, indent=2, sort_keys=True) + "\n"


def write_recipe(folder: str | Path, recipe: dict) -> Path:
    return replace_file(Path(folder) / RECIPE_NAME, dumps(recipe).encode("utf-8"))


def load_recipe(folder: str | Path) -> dict:
    path = Path(folder) / RECIPE_NAME
    if not path.is_file():
        raise WeditorError(f"{path}: no weditor recipe here; is this a folder written by `weditor patch`?")
    try:
        recipe = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise WeditorError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(recipe, dict):  # `[]`, `null`: one line, not an AttributeError
        raise WeditorError(f"{path}: not a weditor recipe (a JSON {type(recipe).__name__}, expected an object)")
    if recipe.get("format") != FORMAT:
        raise WeditorError(f"{path}: field 'format' is {recipe.get('format')!r}, expected {FORMAT}")
    return recipe
