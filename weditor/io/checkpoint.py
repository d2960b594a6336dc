"""Reading the base checkpoint and writing the patched one.

The output is the base folder, file for file, except the safetensors shards that hold an
edited tensor, which are rewritten with the same tensor names, order of shards, dtypes and
metadata. Untouched components (and untouched shards) are copied, so the patched folder loads
with stock `from_pretrained` and every tensor we did not edit is byte-identical.

Everything is written into a temporary sibling folder and renamed into place at the end: an
interrupted run leaves either no output or the complete one, and the base is never written.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from weditor.errors import WeditorError
from weditor.io.recipe import is_own_file

SAFETENSORS_SUFFIX = ".safetensors"
INDEX_SUFFIX = ".safetensors.index.json"


@dataclass(frozen=True)
class BaseModel:
    folder: Path
    id: str  # what the user named: a Hub id or the path as given
    revision: str | None
    pipeline_class: str
    tree: Path | None = None  # for a pickle-converted mirror: the original model's tree its links point into


def _model_index(folder: Path) -> dict:
    path = folder / "model_index.json"
    if not path.is_file():
        raise WeditorError(f"{folder}: not a diffusers pipeline folder (no model_index.json)")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise WeditorError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(index, dict) or "_class_name" not in index:
        raise WeditorError(f"{path}: field '_class_name' is missing")
    return index


def resolve_model(model: str, revision: str | None = None, allow_pickle: bool = False) -> BaseModel:
    """A local pipeline folder, or a Hub id fetched (or found in the cache) as a snapshot folder.

    Pickled weights (*.bin) are fetched only with `allow_pickle` (weditor/io/pickles.py).
    """
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise WeditorError(f"{model}: is a file; give a diffusers pipeline folder or a Hub id")
        folder = path.resolve()
        rev = revision
    else:
        if model.startswith((".", "/", "~")) or model.count("/") != 1:
            raise WeditorError(f"{model}: no such folder, and not a Hub id (user/name)")
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

        try:
            folder = Path(
                snapshot_download(
                    model,
                    revision=revision,
                    allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model", "*.md"]
                    + (["*.bin"] if allow_pickle else []),
                )
            )
        except RepositoryNotFoundError:
            raise WeditorError(
                f"{model}: no such model on the Hub (or no access: log in with `hf auth login`)"
            ) from None
        except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as e:
            raise WeditorError(f"{model}: could not download ({type(e).__name__}: {str(e).splitlines()[0]})") from None
        rev = folder.name  # snapshot folders are named by commit
    index = _model_index(folder)
    from weditor.io.links import check_base_links

    check_base_links(folder)  # before anything is written: no link out of the model's own tree (weditor/io/links.py)
    for path in sorted(folder.rglob(f"*{SAFETENSORS_SUFFIX}")):  # headers only: a hostile length is one line here
        if not any(part.startswith(".") for part in path.relative_to(folder).parts):
            safetensors_header(path)
    return BaseModel(folder=folder, id=model, revision=rev, pipeline_class=index["_class_name"])


def component_files(folder: Path, component: str) -> list[Path]:
    return sorted((folder / component).glob(f"*{SAFETENSORS_SUFFIX}"))


_FLOAT_DTYPES = {"F64": "float64", "F32": "float32", "BF16": "bfloat16", "F16": "float16"}


def stored_dtypes(folder: Path) -> dict[str, str]:
    """{component: name of the floating dtype holding most of its bytes}, from the safetensors headers only.

    diffusers loads every component in float32 unless told otherwise; "as stored" must be asked for.
    """
    out = {}
    for sub in sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith((".", "weditor"))):
        sizes: dict[str, int] = {}
        for path in component_files(Path(folder), sub.name):
            try:
                header, _ = safetensors_header(path)
            except WeditorError:
                continue  # unreadable here: from_pretrained will say why, in one line
            for name, info in header.items():
                if name != "__metadata__" and isinstance(info, dict) and info.get("dtype") in _FLOAT_DTYPES:
                    try:
                        start, end = (int(x) for x in info.get("data_offsets", (0, 0)))
                    except (TypeError, ValueError):
                        continue  # a malformed entry: from_pretrained will say why
                    sizes[_FLOAT_DTYPES[info["dtype"]]] = sizes.get(_FLOAT_DTYPES[info["dtype"]], 0) + end - start
        if sizes:
            out[sub.name] = max(sizes, key=sizes.get)
    return out


def tensor_locations(folder: Path, component: str) -> dict[str, str]:
    """tensor name -> file (relative to `folder`) for a component saved as safetensors."""
    sub = folder / component
    indexes = sorted(sub.glob(f"*{INDEX_SUFFIX}"))
    if indexes:
        try:
            weight_map = json.loads(indexes[0].read_text(encoding="utf-8"))["weight_map"]
            return {str(name): f"{component}/{file}" for name, file in weight_map.items() if isinstance(file, str)}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise WeditorError(f"{indexes[0]}: not a usable weight index ({type(e).__name__}: {e})") from None
    files = component_files(folder, component)
    if not files:
        pickles = sorted(p.name for p in sub.glob("*.bin")) + sorted(p.name for p in sub.glob("*.pt"))
        if pickles:
            raise WeditorError(
                f"{sub}: only pickle weights ({pickles[0]}); weditor reads safetensors only "
                "(convert them with diffusers: load, then save_pretrained(safe_serialization=True))"
            )
        raise WeditorError(f"{sub}: no safetensors weights found")
    if len(files) > 1:
        raise WeditorError(f"{sub}: several safetensors files ({files[0].name}, ...) but no index file")
    header, _ = safetensors_header(files[0])  # a hostile header is one line, not a MemoryError
    return {name: f"{component}/{files[0].name}" for name in sorted(header) if name != "__metadata__"}


def read_tensors(folder: Path, wanted: dict[str, str]) -> dict:
    """{name: tensor} for names mapped to files; reads only those tensors."""
    from safetensors import safe_open

    by_file: dict[str, list[str]] = {}
    for name, rel in wanted.items():
        by_file.setdefault(rel, []).append(name)
    out = {}
    for rel, names in by_file.items():
        with safe_open(folder / rel, "pt") as f:
            for name in names:
                out[name] = f.get_tensor(name)
    return out


MAX_HEADER_BYTES = 100_000_000  # the format's own limit (MAX_HEADER_SIZE in the safetensors crate)


def safetensors_header(path: Path) -> tuple[dict, int]:
    """(header, offset of the data section) of a safetensors file, reading only its header.

    The first 8 bytes say how long the header is; a hostile file says 2^40 or 2^63 - 1, and
    reading that much is a MemoryError or an OverflowError. A length the file cannot hold (or
    over the format's limit), a header that is not a JSON object, a FIFO or a device named
    `*.safetensors`: one WeditorError naming the file.
    """
    import stat

    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise WeditorError(f"{path}: not a regular file")
        with open(path, "rb") as f:
            raw = f.read(8)
            n = int.from_bytes(raw, "little")
            if len(raw) < 8 or n > min(MAX_HEADER_BYTES, st.st_size - 8):
                raise WeditorError(
                    f"{path}: not a valid safetensors file (header length {n} bytes in a file of {st.st_size} bytes)"
                )
            header = json.loads(f.read(n))
    except OSError as e:
        raise WeditorError(f"{path}: cannot read it ({e.strerror or e})") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        raise WeditorError(f"{path}: not a valid safetensors header ({str(e).splitlines()[0]})") from None
    if not isinstance(header, dict):
        raise WeditorError(f"{path}: not a valid safetensors header (a JSON {type(header).__name__}, not an object)")
    return header, 8 + n


_safetensors_header = safetensors_header


_ST_TORCH_DTYPES = {
    "F64": "float64",
    "F32": "float32",
    "BF16": "bfloat16",
    "F16": "float16",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U8": "uint8",
    "BOOL": "bool",
}


def _rewrite_shard(src: Path, dst: Path, replacements: dict):
    """Copy the shard, then overwrite in the copy the bytes of each edited tensor.

    An edit keeps shape and dtype, so every tensor keeps its byte range: header, metadata and every
    untouched byte stay exactly the base's, and memory holds one edited tensor, not the shard twice
    (loading it all and `save_file`, which also serialises every tensor to bytes, did).
    """
    import sys

    import torch

    if sys.byteorder != "little":  # safetensors stores little-endian; torch tensors here are native
        raise WeditorError("weditor writes safetensors on little-endian machines only")
    header, data_start = _safetensors_header(src)
    for name, value in replacements.items():
        info = header.get(name)
        if info is None or name == "__metadata__":
            raise RuntimeError(f"edit of {name}: no such tensor in {src}")
        if (
            list(value.shape) != list(info["shape"])
            or str(value.dtype) != f"torch.{_ST_TORCH_DTYPES.get(info['dtype'])}"
        ):
            raise RuntimeError(
                f"edit of {name} changed shape/dtype {info['shape']}/{info['dtype']} -> {list(value.shape)}/{value.dtype}"
            )
    shutil.copyfile(src, dst)  # in the kernel (copy_file_range / sendfile): no pass through Python
    with open(dst, "r+b") as f:
        for name, value in replacements.items():
            start, end = header[name]["data_offsets"]
            raw = value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy()
            if raw.nbytes != end - start:
                raise RuntimeError(f"edit of {name}: {raw.nbytes} bytes for a {end - start}-byte slot in {src}")
            f.seek(data_start + start)
            f.write(memoryview(raw).cast("B"))


def staging_dir(out_dir: Path) -> Path:
    """A fresh temporary sibling of OUT_DIR, on the same file system so the final rename is atomic.

    Its name records the host and process that made it; leftovers of dead runs are removed
    first (weditor/io/workspace.py).
    """
    from weditor.io.workspace import make_sibling

    try:
        return make_sibling(out_dir, "tmp")
    except OSError as e:
        raise WeditorError(f"--out {out_dir}: cannot create a folder next to it ({e.strerror or e})") from None


def check_out_dir(base: Path, out_dir: Path, overwrite: bool):
    from weditor.io.workspace import clean_stale, stderr

    clean_stale(out_dir, echo=stderr)  # leftovers of killed runs for this OUT_DIR (workspace.py)
    base, out = base.resolve(), out_dir.resolve()
    if out == base or base in out.parents:
        raise WeditorError(f"--out {out_dir}: is inside the base model folder {base}; the base is never modified")
    if out in base.parents:
        raise WeditorError(f"--out {out_dir}: contains the base model folder {base}; choose another folder")
    if out_dir.is_symlink() and not out_dir.exists():
        raise WeditorError(f"--out {out_dir}: is a broken symbolic link; remove it or choose another folder")
    if out_dir.exists() and not overwrite:
        raise WeditorError(f"--out {out_dir}: already exists (pass --overwrite to replace it)")
    if out_dir.exists():  # --overwrite replaces an earlier output, never an arbitrary folder
        replaceable(out_dir)
    parent = next((p for p in out.parents if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise WeditorError(f"--out {out_dir}: cannot write in {parent} (not a writable folder)")


_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}  # copyfile names the source for these too


def replaceable(out_dir: Path, reuse: bool = False):
    """Refuse, touching nothing, unless `--overwrite` may replace `out_dir`: an empty folder, or an
    intact weditor output (valid recipe, every file listed with its hash, nothing else, no links).

    A `weditor.json` alone proves nothing (`{}` is one): a thesis next to it must survive.
    """
    from weditor.io.integrity import check_folder

    if out_dir.is_symlink():
        raise WeditorError(f"--out {out_dir}: is a symbolic link; not replacing it (give the folder itself)")
    if not out_dir.is_dir():
        raise WeditorError(f"--out {out_dir}: is a file, not a folder")
    if not any(out_dir.iterdir()):
        return
    if not (out_dir / "weditor.json").is_file():
        raise WeditorError(f"--out {out_dir}: is not a folder written by weditor (no weditor.json); not replacing it")
    try:
        check_folder(out_dir, reuse=reuse)
    except WeditorError as e:
        raise WeditorError(
            f"--out {out_dir}: not replacing it, it is not an intact weditor output: {e.message}"
        ) from None


def write_patched(
    base: Path,
    staging: Path,
    edited: dict[str, dict],
    locations: dict[str, dict[str, str]],
    link: bool = False,
    trees=(),
):
    """Copy `base` into `staging`, rewriting only the shards that hold edited tensors.

    `edited[component][tensor] = new tensor`; `locations[component][tensor] = relative file`.
    With `link`, unchanged files are hard-linked instead of copied (same file system only). Every
    source must be a regular file of the base's own tree or of `trees` (a pickle-converted mirror's
    links point into the original base), so a linked output file is a base file (weditor/io/links.py).
    An error while writing names the output file, not the base file it came from.
    """
    from weditor.io.links import model_tree, regular_source

    trees = (model_tree(base), *trees)
    rewrite: dict[str, dict] = {}
    for component, tensors in edited.items():
        for name, value in tensors.items():
            rewrite.setdefault(locations[component][name], {})[name] = value
    for root, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for d in dirs:
            if (Path(root) / d).is_symlink():
                regular_source(Path(root) / d, trees)  # refused: os.walk would skip the folder silently
        rel_root = Path(root).relative_to(base)
        (staging / rel_root).mkdir(parents=True, exist_ok=True)
        for name in sorted(files):
            rel = (rel_root / name).as_posix()
            src, dst = Path(root) / name, staging / rel_root / name
            if is_own_file(rel):
                continue  # a base that was itself patched: its recipe and directions are replaced
            regular_source(src, trees)  # checked again here: the folder may have changed since the start
            try:
                if rel in rewrite:
                    _rewrite_shard(src, dst, rewrite[rel])
                    continue
                if link:
                    try:
                        os.link(os.path.realpath(src), dst)
                        continue
                    except OSError:
                        pass  # another file system, or no hard links there: copy
                shutil.copyfile(os.path.realpath(src), dst)
            except OSError as e:  # disk full, quota: the file that could not be written is the output's
                if e.errno in _WRITE_ERRNOS:
                    raise OSError(e.errno, e.strerror or str(e), f"{rel} of the output") from None
                raise
    return sorted(rewrite)


def move_into_place(staging: Path, out_dir: Path, overwrite: bool):
    """Move the finished staging folder to OUT_DIR (replacing an old one only with `overwrite`)."""
    if out_dir.exists() or out_dir.is_symlink():
        if not overwrite:
            raise WeditorError(f"--out {out_dir}: appeared while patching; not replacing it")
        replaceable(
            out_dir, reuse=True
        )  # checked again: it may have changed while we patched (unchanged files are not re-read)
        from weditor.io.workspace import exchange, sibling_name

        if exchange(staging, out_dir):  # one atomic step where the OS offers it (Linux)
            shutil.rmtree(staging, ignore_errors=True)  # it now holds the previous output
            return
        trash = sibling_name(out_dir, "old")  # a dead run's `-old-` folder is put back (workspace.py)
        os.rename(out_dir, trash)
        os.rename(staging, out_dir)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.rename(staging, out_dir)
