"""`weditor verify PATCHED`: every check of a patched folder that can run offline.

1. The recipe's fields, then every entry of the folder against the SHA-256 in weditor.json:
   modified, missing and added files, symbolic links and special files (weditor/io/integrity.py,
   the one check shared with `diff`, `push` and `patch --overwrite`), all listed.
2. Every edited tensor, read from its file, against the recipe's sha256_after (several entries
   for one tensor must chain: base -> entry 1 -> entry 2 -> file).
3. Every tensor of every component finite (weditor/checks/against_base.py), the model card rebuilt
   from the recipe.
4. If the base model is available locally (the recipe's base_model.id is a pipeline folder that
   exists, the embedded model, a Hub id already in the local cache, or --base PATH): every edit
   recomputed from the base weights and the removed directions the folder carries
   (weditor/directions.safetensors: site key -> orthonormal rows; params.strength; for the
   read-out edit also weditor/readout.safetensors: site key -> [A | a]), with
   weditor.maths.edits.remove_input / remove_output (REINS bias folds: add_to_bias with the vector
   in weditor/reins.safetensors), and compared with the stored tensor: bit for bit on the machine
   that patched, within the storage dtype's rounding elsewhere (a GPU sums in another order);
   and every other tensor and file compared with the base (weditor/checks/against_base.py).

Without the base, step 4 cannot run, and the report says so (`unverified`): whoever changed a
file can have rewritten its hash too. `require_verified` then refuses unless the caller accepts
that (`--allow-unverified-base`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from weditor.checks.diff import CheckFailed, edit_chains
from weditor.checks.weights import FolderWeights
from weditor.errors import WeditorError
from weditor.io.integrity import hash_problems, load_checked_recipe
from weditor.io.recipe import DIRECTIONS_FILE, READOUT_FILE, RECIPE_NAME, REINS_FILE
from weditor.io.tensors import same_bits, tensor_sha256

ROUNDING_ULPS = 8  # "within rounding": max |diff| <= 8 eps(dtype) max |value|


@dataclass
class AuditReport:
    folder: str
    files: int = 0
    edits: int = 0
    base: str | None = None
    base_note: str = ""
    recomputed: dict[str, str] = field(
        default_factory=dict
    )  # "component/tensor" -> exact | within rounding ... | skipped ...
    tensors_read: int = 0  # every tensor of the folder: checked finite, and (with the base) equal to it unless edited
    problems: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)  # what could not be checked without the base
    notes: list[str] = field(default_factory=list)  # checked less than fully, for a reason that is no finding

    @property
    def ok(self) -> bool:
        """No problem found; `complete` says whether everything could be checked."""
        return not self.problems

    @property
    def complete(self) -> bool:
        return not self.unverified


def locate_base(recipe: dict, base: str | Path | None) -> tuple[Path | None, str]:
    """The base folder to recompute from, and a note saying where it came from (or why none)."""
    if base is not None:
        path = Path(base).expanduser()
        if not path.is_dir():
            raise WeditorError(f"--base {base}: no such folder")
        return path, f"--base {base}"
    info = recipe.get("base_model") or {}
    model_id, revision = info.get("id"), info.get("revision")
    if not isinstance(model_id, str) or not model_id:
        return None, "the recipe names no base model"
    from weditor.models.loading import BUILTIN_MODEL

    if model_id == BUILTIN_MODEL:
        try:
            from weditor.models.loading import builtin_model_path

            return builtin_model_path(), f"the embedded model {BUILTIN_MODEL}"
        except Exception as e:  # noqa: BLE001 - the embedded model is optional for an audit
            return None, f"the embedded model is not available ({e})"
    path = Path(model_id).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file():  # never walk an arbitrary folder (`/`) the recipe names
            return None, f"base model {model_id!r} is a folder but not a diffusers pipeline (no model_index.json)"
        return path, f"{model_id} (the recipe's base_model.id)"
    if model_id.count("/") == 1 and not model_id.startswith((".", "/", "~")):
        try:
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(model_id, revision=revision, local_files_only=True))
            return folder, f"{model_id} from the local Hugging Face cache"
        except Exception:  # noqa: BLE001 - not cached: say so, do not download
            pass
    return None, f"base model {model_id!r} is not available locally (give --base PATH to recompute the edits)"


def _block_numbers(name: str) -> set[int]:
    return {int(x) for x in re.findall(r"(?:^|\.)(\d+)(?=\.)", name)}


def _candidates(keys, component: str, tensor: str) -> list[str]:
    """Direction keys of `component`, those whose block number occurs in the tensor name first."""
    own = [k for k in keys if k.startswith(f"{component}.")]
    numbers = _block_numbers(tensor)

    def block_of(k):
        m = re.search(r"\.blocks\.(\d+)", k)
        return int(m.group(1)) if m else None

    return sorted(own, key=lambda k: (block_of(k) not in numbers, k))


def _close(a: torch.Tensor, b: torch.Tensor) -> tuple[bool, float]:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False, float("inf")
    diff = float((a.double() - b.double()).abs().max()) if a.numel() else 0.0
    eps = torch.finfo(a.dtype).eps if a.is_floating_point() else 0.0
    scale = float(b.double().abs().max()) if b.numel() else 0.0
    return diff <= ROUNDING_ULPS * eps * max(scale, 1e-30), diff


def _step(
    entry: dict,
    before: torch.Tensor,
    directions: dict,
    reins: dict,
    strength: float,
    want_sha: str,
    readouts: dict | None = None,
):
    """Candidates for the value after `entry`, given the value before it (first exact match wins)."""
    from weditor.maths.edits import add_delta, add_to_bias, remove_input, remove_output

    kind, comp, name = entry.get("kind"), entry["component"], entry["tensor"]
    readouts = readouts or {}
    out = []

    def read(k):  # (A, a) of a read-out edit; (None, None) for the projection
        if kind not in ("input_readout", "output_readout"):
            return None, None
        if k not in readouts:
            return False, None
        return readouts[k][:, :-1].contiguous(), readouts[k][:, -1].contiguous()

    if kind in ("input_projection", "input_readout"):
        for k in _candidates(directions, comp, name):
            Q, (A, _) = directions[k], read(k)
            if A is not False and before.ndim == 2 and Q.ndim == 2 and Q.shape[1] == before.shape[1]:
                out.append((k, remove_input(before, Q, A, strength)))
    elif kind in ("output_projection", "output_readout"):
        for k in _candidates(directions, comp, name):
            Q, (A, a) = directions[k], read(k)
            if A is False:
                continue
            if before.ndim == 2 and Q.shape[1] == before.shape[0]:
                out.append((k, remove_output(before, None, Q, A, None, strength)[0]))
            elif before.ndim == 1 and Q.shape[1] == before.shape[0]:
                dummy = torch.zeros(before.shape[0], 1, dtype=before.dtype)
                out.append((k, remove_output(dummy, before, Q, A, a, strength)[1]))
    elif kind == "weight_delta":  # --method encoder: the base plus the increment saved under the tensor's name
        k = f"{comp}.{name}"
        if k in directions and directions[k].shape == before.shape:
            out.append((k, add_delta(before, directions[k])))
    elif kind == "bias_fold":
        k = f"{comp}.blocks.{entry.get('block')}.vector"
        if k in reins and reins[k].shape[-1] == before.shape[-1]:
            out.append((k, add_to_bias(before, reins[k])))
    else:
        return None
    for k, value in out:  # the exact one, if any
        if tensor_sha256(value) == want_sha:
            return [(k, value)]
    return out  # none exact: the likeliest first (block number in the tensor name)


def recompute_chain(
    chain: list[dict], base_value: torch.Tensor, directions, reins, strength, readouts: dict | None = None
) -> tuple[torch.Tensor | None, str]:
    value, exact = base_value, True
    for entry in chain:
        options = _step(entry, value, directions, reins, strength, entry.get("sha256_after"), readouts)
        if options is None:
            return None, f"skipped (kind {entry.get('kind')!r} is not recomputed)"
        if not options:
            return None, "MISMATCH: no removed direction in the folder fits this tensor"
        value = options[0][1]
        exact = exact and tensor_sha256(value) == entry.get("sha256_after")
    return value, "exact" if exact else "approx"


def verify_patched(
    folder: str | Path, base: str | Path | None = None, use_base: bool = True, allow_pickle: bool = False
) -> AuditReport:
    """Every check `weditor verify` makes; the report lists problems, and what could not be checked."""
    from weditor.checks.against_base import check_card, compare_files, compare_headers, scan_tensors

    folder = Path(folder)
    if not folder.is_dir():
        raise WeditorError(f"{folder}: no such folder")
    recipe = load_checked_recipe(folder)  # `[]`, `null`, `"files": [...]`, `"edits": "abc"`: one line, exit 2
    report = AuditReport(str(folder))
    report.files = len(recipe["files"])
    report.problems += hash_problems(folder, recipe)

    chains = edit_chains(recipe)
    report.edits = sum(len(c) for c in chains.values())
    patched = FolderWeights(folder)
    report.problems += patched.problems
    stored = _check_stored_edits(patched, chains, report)

    if not use_base:
        base_dir, report.base_note = None, "not used (--no-base)"
    else:
        base_dir, report.base_note = locate_base(recipe, base)
    if base_dir is not None and base_dir.resolve() == folder.resolve():
        report.problems.append("the recipe names the folder itself as its base model")
        base_dir = None
    base_weights = None
    if base_dir is not None:
        report.base = str(base_dir)
        base_weights = FolderWeights(base_dir, allow_pickle=allow_pickle)
        report.problems += [f"base: {p}" for p in base_weights.problems]
        _recompute(folder, recipe, chains, stored, base_dir, base_weights, report)
        report.problems += compare_files(base_dir, folder, recipe) + compare_headers(base_weights, patched)
    problems, report.tensors_read = scan_tensors(patched, base_weights, set(chains))
    report.problems += problems
    card_problems, report.notes = check_card(folder, recipe, base_dir)
    report.problems += card_problems
    if base_dir is None:
        unedited = report.tensors_read - len(stored)
        report.unverified = [
            f"{len(chains)} edited tensor(s) not recomputed from the base (a forged edit with matching hashes would pass)",
            f"{unedited} unedited tensor(s) and every config, tokenizer and scheduler file not compared with the base "
            f"(only their SHA-256 in {RECIPE_NAME}, which anyone who changes a file can rewrite)",
        ]
    return report


def _check_stored_edits(patched: FolderWeights, chains: dict, report: AuditReport) -> dict:
    """Each edited tensor is where the recipe says, and hashes to its recorded sha256_after."""
    stored: dict[tuple[str, str], torch.Tensor] = {}
    for (comp, name), chain in sorted(chains.items()):
        where = f"{comp}/{name}"
        rel = chain[-1].get("file")
        if patched.file_of(comp, name) is None:
            report.problems.append(f"{where}: listed in {RECIPE_NAME} but not in the folder")
            continue
        if rel and patched.file_of(comp, name) != rel:
            report.problems.append(f"{where}: recorded in {rel}, found in {patched.file_of(comp, name)}")
        value = patched.get(comp, name)
        stored[(comp, name)] = value
        for a, b in zip(chain, chain[1:]):
            if a.get("sha256_after") != b.get("sha256_before"):
                report.problems.append(f"{where}: the recipe's edit entries do not chain")
        if tensor_sha256(value) != chain[-1].get("sha256_after"):
            report.problems.append(
                f"{where}: does not match its sha256_after in {RECIPE_NAME} (modified after patching)"
            )
    return stored


def _recompute(
    folder: Path,
    recipe: dict,
    chains: dict,
    stored: dict,
    base_dir: Path,
    base_weights: FolderWeights,
    report: AuditReport,
):
    """Every edit recomputed from the base and the directions the folder carries, against the stored tensor."""
    directions = _load(folder / DIRECTIONS_FILE)
    reins = _load(folder / REINS_FILE)
    readouts = _load(folder / READOUT_FILE)
    strength = float((recipe.get("params") or {}).get("strength", 1.0))
    for (comp, name), chain in sorted(chains.items()):
        where = f"{comp}/{name}"
        if (comp, name) not in stored:
            continue
        if base_weights.file_of(comp, name) is None:
            problem = next((p for p in base_weights.problems if f"/{comp}:" in p or p.endswith(comp)), None)
            report.problems.append(problem or f"{where}: not in the base at {base_dir}")
            continue
        original = base_weights.get(comp, name)
        if tensor_sha256(original) != chain[0].get("sha256_before"):
            report.problems.append(
                f"{where}: the base at {base_dir} is not the one this folder was patched from (sha256_before differs)"
            )
            continue
        value, how = recompute_chain(chain, original, directions, reins, strength, readouts)
        if value is None:
            report.recomputed[where] = how
            if how.startswith("MISMATCH"):
                report.problems.append(f"{where}: {how}")
            else:  # a kind this weditor cannot recompute: not verified, and said so
                report.unverified.append(f"{where}: {how}")
            continue
        ok, diff = _close(value, stored[(comp, name)])
        if how == "exact" and same_bits(value, stored[(comp, name)]):
            report.recomputed[where] = "exact"
        elif ok:
            report.recomputed[where] = f"within rounding (max |diff| {diff:.3g})"
        else:
            report.recomputed[where] = f"MISMATCH (max |diff| {diff:.3g})"
            report.problems.append(
                f"{where}: the edit recomputed from the base and the recorded directions differs "
                f"from the stored tensor (max |diff| {diff:.3g})"
            )


def require_verified(report: AuditReport, allow_unverified_base: bool = False) -> AuditReport:
    """Raise unless the report is clean: CheckFailed (exit 1) for a problem found, WeditorError (exit 2)
    when the base was not there to check against and the caller did not accept that."""
    if report.problems:
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        raise CheckFailed(f"{report.folder}: {report.problems[0]}{more}")
    if report.unverified and not allow_unverified_base:
        raise WeditorError(
            f"{report.folder}: not fully verified: {report.base_note}; {report.unverified[0]}. Give the base with "
            "--base PATH, or pass --allow-unverified-base to accept a check of the hashes alone"
        )
    return report


def _load(path: Path) -> dict:
    if not path.is_file():
        return {}
    from safetensors.torch import load_file

    from weditor.io.checkpoint import safetensors_header

    safetensors_header(path)  # a hostile header: one line
    try:
        return load_file(path)
    except Exception as e:  # noqa: BLE001 - the Rust reader's errors: one line naming the file
        raise WeditorError(
            f"{path}: not a readable safetensors file ({str(e).splitlines()[0] if str(e) else type(e).__name__})"
        ) from None


def format_audit(report: AuditReport, allow_unverified_base: bool = False) -> list[str]:
    lines = [f"weditor verify {report.folder}"]
    hash_problems = [
        p
        for p in report.problems
        if "SHA-256" in p or "listed in" in p or "not listed" in p or "symbolic link" in p or "not a regular file" in p
    ]
    lines.append(f"  files: {report.files} listed in {RECIPE_NAME}" + ("" if hash_problems else ", all hashes match"))
    lines.append(f"  edits: {report.edits} recorded")
    lines.append(f"  base: {report.base_note}")
    lines.append(
        f"  tensors: {report.tensors_read} read, checked finite"
        + (", unedited ones compared with the base bit for bit" if report.base else "")
    )
    if report.recomputed:
        kinds: dict[str, int] = {}
        for how in report.recomputed.values():
            label = how.split(" (")[0]
            kinds[label] = kinds.get(label, 0) + 1
        lines.append("  recomputed from the base: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    for p in report.problems:
        lines.append(f"  problem: {p}")
    for p in report.unverified:
        lines.append(f"  not checked: {p}")
    for p in report.notes:
        lines.append(f"  note: {p}")
    if not report.ok:
        lines.append(f"result: FAILED, {len(report.problems)} problem(s)")
    elif not report.complete:
        lines.append(
            "result: OK as far as it could check, without the base (--allow-unverified-base)"
            if allow_unverified_base
            else "result: NOT VERIFIED, the base model was not available to check against"
        )
    else:
        lines.append("result: OK")
    return lines
