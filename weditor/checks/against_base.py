"""The half of `weditor verify` that matching hashes cannot give: everything that is not an edit,
compared with the base model.

Whoever can change a file of a patched folder can rewrite the SHA-256 in `weditor.json` to
match, so the hashes (weditor/io/integrity.py) prove only that a folder is what its recipe says,
not that the recipe is true. With the base model at hand, verify also checks:

- every file other than weights, weditor's own files (`weditor.json`, `weditor/`) and the model
  card is in the base, byte for byte, and every such file of the base is in the output (pickles
  the recipe records as left out or converted excepted);
- every component holds the same tensor names as the base's (an added `evil.backdoor` is a
  finding), and every tensor the recipe does not list as edited is bit-identical to the base's
  (the edited ones are recomputed in weditor/checks/verify.py);
- with or without the base, every floating-point tensor of every component is finite: a NaN in
  the VAE is copied untouched, and a comparison with a base that holds it too would pass;
- the model card is rebuilt from the recipe and compared, when this weditor version wrote it.

Tensors are read one at a time from the memory-mapped safetensors files (and their base
counterpart), so a 14B checkpoint is checked shard by shard, never loaded whole.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from weditor import __version__
from weditor.checks.diff import _base_files
from weditor.checks.weights import FolderWeights, same_file
from weditor.io.integrity import folder_entries
from weditor.io.pickles import is_pickle_file
from weditor.io.recipe import CARD_NAME, is_own_file, sha256_file
from weditor.io.tensors import same_bits

USAGE_RE = re.compile(r'\.from_pretrained\(("(?:[^"\\\n]|\\.)*")')  # the snippet's model id, a JSON string


class _Handles:
    """Open safetensors files of one folder, kept open while a verification runs."""

    def __init__(self, weights: FolderWeights):
        self.weights, self.open = weights, {}

    def get(self, comp: str, name: str) -> torch.Tensor:
        rel = self.weights.file_of(comp, name)
        if not rel.endswith(".safetensors"):
            return self.weights.get(comp, name)  # a pickled base, read with --allow-pickle
        if rel not in self.open:
            from safetensors import safe_open

            self.open[rel] = safe_open(self.weights.folder / rel, "pt")
        return self.open[rel].get_tensor(name)


def scan_tensors(patched: FolderWeights, base: FolderWeights | None, edited: set) -> tuple[list[str], int]:
    """(problems, tensors read): non-finite values everywhere; with `base`, every unedited tensor equal to it."""
    problems: list[str] = []
    out, old = _Handles(patched), _Handles(base) if base is not None else None
    checked = 0
    comps = set(patched.tensors) | (set(base.tensors) - base.unreadable if base is not None else set())
    for comp in sorted(comps - patched.unreadable):
        have = patched.tensors.get(comp, {})
        compare = base is not None and comp not in base.unreadable  # an unreadable base component is its own problem
        if compare:
            want = base.tensors.get(comp)
            if want is None:
                problems.append(f"{comp}: a weights folder the base at {base.folder} does not have")
                want = {}
            elif not have:
                problems.append(f"{comp}: the base's weights are missing from the folder")
            for name in sorted(set(want) - set(have))[:3]:
                problems.append(f"{comp}/{name}: in the base, missing from the folder")
            for name in sorted(set(have) - set(want))[:3] if comp in base.tensors else []:
                problems.append(f"{comp}/{name}: a tensor the base does not have (added after patching?)")
        for name in sorted(have, key=lambda n: (have[n], n)):  # file by file
            try:
                value = out.get(comp, name)
            except Exception as e:  # noqa: BLE001 - a tensor that cannot be read is a finding, not a crash
                problems.append(
                    f"{comp}/{name}: cannot be read ({str(e).splitlines()[0] if str(e) else type(e).__name__})"
                )
                continue
            checked += 1
            if value.is_floating_point() and not torch.isfinite(value).all():
                problems.append(f"{comp}/{name}: holds {int((~torch.isfinite(value)).sum())} NaN/Inf value(s)")
            if not compare or (comp, name) in edited or name not in base.tensors.get(comp, {}):
                continue
            if same_file(patched.folder / have[name], base.folder / base.tensors[comp][name]):
                continue  # a hard link to the base's file: the same bytes by construction
            try:
                same = same_bits(value, old.get(comp, name))
            except Exception as e:  # noqa: BLE001
                problems.append(f"{comp}/{name}: the base's copy cannot be read ({type(e).__name__})")
                continue
            if not same:
                problems.append(f"{comp}/{name}: differs from the base, and the recipe lists no edit of it")
    return problems, checked


def compare_headers(base: FolderWeights, patched: FolderWeights) -> list[str]:
    """A shard the base has under the same name keeps its header (names, dtypes, offsets, metadata) and size:
    the writer overwrites tensor bytes in place and nothing else (checkpoint._rewrite_shard)."""
    from weditor.io.checkpoint import safetensors_header

    problems = []
    for rel in sorted({r for names in patched.tensors.values() for r in names.values() if r.endswith(".safetensors")}):
        src, dst = base.folder / rel, patched.folder / rel
        if not src.is_file() or same_file(src, dst):
            continue
        try:
            if safetensors_header(src) != safetensors_header(dst) or src.stat().st_size != dst.stat().st_size:
                problems.append(
                    f"{rel}: its safetensors header or size differs from the base's (metadata or layout changed)"
                )
        except Exception as e:  # noqa: BLE001 - an unreadable file was reported when it was listed
            problems.append(f"{rel}: {getattr(e, 'message', e)}")
    return problems


def compare_files(base: Path, folder: Path, recipe: dict) -> list[str]:
    """Every file that is neither weights nor weditor's own nor the card: the base's, byte for byte."""
    pickles = (recipe.get("base_model") or {}).get("pickles") or {}
    converted = pickles.get("converted") if isinstance(pickles.get("converted"), dict) else {}
    omitted = set(pickles.get("omitted") or []) if isinstance(pickles.get("omitted"), list) else set()

    def compared(rel: str) -> bool:
        return not (is_own_file(rel) or rel == CARD_NAME or rel.endswith(".safetensors") or rel in converted.values())

    problems = []
    for rel in folder_entries(folder).files:
        if not compared(rel):
            continue
        if not (base / rel).is_file():
            problems.append(f"{rel}: not in the base (added after patching?)")
        elif not same_file(base / rel, folder / rel) and sha256_file(base / rel) != sha256_file(folder / rel):
            problems.append(f"{rel}: differs from the base")
    for rel in _base_files(base):
        left_out = is_pickle_file(rel.rsplit("/", 1)[-1]) and (rel in omitted or rel in converted)
        if compared(rel) and not left_out and not (folder / rel).is_file():
            problems.append(f"{rel}: in the base, missing from the folder")
    return problems


def check_card(folder: Path, recipe: dict, base: Path | None) -> tuple[list[str], list[str]]:
    """(problems, notes): the card rebuilt from the recipe, as `weditor patch` or `push` wrote it."""
    path = folder / CARD_NAME
    if path.is_symlink() or not path.is_file():
        return [], []  # no card (push writes one); a link is the hash check's finding
    version = recipe.get("weditor_version")
    if version != __version__:
        return [], [
            f"{CARD_NAME}: written by weditor {version}, whose cards this version ({__version__}) does not "
            "rebuild; only its hash was checked"
        ]
    from weditor.pipeline.card import build_card

    data = path.read_bytes()
    found = USAGE_RE.search(data.decode("utf-8", "replace"))
    try:
        named = json.loads(found.group(1)) if found else None  # the Hub id the card was written for, if any
    except ValueError:
        named = None
    for target in dict.fromkeys([None, named]):
        try:
            if str(build_card(folder, base_dir=base, repo_id=target)).encode("utf-8") == data:
                return [], []
        except Exception:  # noqa: BLE001 - a card that cannot be rebuilt is a card that does not match
            break
    return [f"{CARD_NAME}: not the card weditor builds from this recipe (replaced or edited after patching)"], []
