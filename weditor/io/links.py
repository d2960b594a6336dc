"""Symbolic links and shared inodes: no file from outside the base model reaches an output.

`weditor patch` copies (or hard-links) every file of the base folder into OUT, and hashes,
verifies and pushes OUT as a whole. A link in the base that points outside it
(`tokenizer/special_tokens_map.txt -> ~/.ssh/id_rsa`) would put that file into the checkpoint;
hard-linking it would even make the output file *be* the target, so that writing into one
writes into the other. So, before anything is written:

- a link must resolve inside the model's own tree: the base folder itself, or, for a Hugging
  Face cache snapshot (`.../models--org--name/snapshots/<rev>/file -> ../../blobs/<sha>`), the
  cache repo folder `models--org--name/` that the snapshot belongs to;
- a link to a folder, a broken link, and anything that is not a regular file (a FIFO, a socket,
  a device) is refused too: the writer would skip the folder, fail, or block;
- the writer links (or copies) the file the link resolves to, checked again when it writes: a
  hard-linked output file is a base file, the inode of a file in the model's own tree.

Hard links *into* the base are not traced: a file with several names (an earlier output's, say)
shares its inode with each of them, wherever they are, and nothing on the file system lists them.
Making one to a file needs access to that file already, unlike a symbolic link, which any archive
or git clone can carry.

Hidden folders (`.git`, `.cache`) are neither checked nor copied, as in `checkpoint.write_patched`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from weditor.errors import WeditorError


def model_tree(folder: str | Path) -> Path:
    """The folder a model's links may point into: its cache repo folder for a Hub snapshot, else itself."""
    folder = Path(folder).resolve()
    if folder.parent.name == "snapshots" and folder.parent.parent.name.startswith("models--"):
        return folder.parent.parent
    return folder


def inside(path: str | Path, trees) -> bool:
    path = os.path.realpath(path)
    return any(os.path.commonpath([path, str(t)]) == str(t) for t in trees)


def regular_source(path: Path, trees) -> os.stat_result:
    """The stat of the regular file `path` stands for, checked against `trees`; WeditorError otherwise."""
    if path.is_symlink():
        target = os.path.realpath(path)
        if not inside(target, trees):
            raise WeditorError(
                f"{path}: a symbolic link to {target}, outside the model folder {trees[0]}; weditor copies only the "
                "model's own files into a checkpoint (replace the link with a copy of the file if it belongs to the model)"
            )
        if not os.path.exists(target):
            raise WeditorError(f"{path}: a broken symbolic link (to {target})")
        if os.path.isdir(target):
            raise WeditorError(
                f"{path}: a symbolic link to a folder ({target}); weditor follows links to files only "
                "(replace it with the folder itself)"
            )
    try:
        st = os.stat(path)
    except OSError as e:
        raise WeditorError(f"{path}: cannot read it ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise WeditorError(f"{path}: not a regular file (a FIFO, socket or device); a model folder holds files only")
    return st


def check_base_links(folder: str | Path, trees=None) -> None:
    """Every entry of the base folder that the writer would copy is a regular file of the model's tree."""
    folder = Path(folder)
    trees = tuple(trees) if trees else (model_tree(folder),)
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in list(dirs):
            if (Path(root) / name).is_symlink():
                regular_source(Path(root) / name, trees)  # refuses it: a link to a folder (or outside)
        for name in sorted(files):
            regular_source(Path(root) / name, trees)
