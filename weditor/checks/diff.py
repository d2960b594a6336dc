"""`weditor diff BASE PATCHED`: every difference between two folders, and whether the recipe explains it.

Weight files are compared tensor by tensor (by component folder and tensor name, so a change of
shard layout alone is not a difference), everything else by SHA-256. A changed tensor is
reported with its shape, dtype, the Frobenius norm of the change and its numerical rank; it is
*explained* when weditor.json lists it in "edits" with a hash chain that starts at the base
tensor and ends at the patched one (several entries for one tensor, e.g. an output projection
of a bias and then a REINS fold on top, must link up). Added or changed files are explained only
when they are weditor's own (weditor.json, weditor/*, the model card README.md) and match the
recipe's hashes; removed files only when the recipe records them as pickles left out or
converted. Separately, every file of PATCHED is checked against the recipe's "files" hashes.

Anything else (a tensor edited after patching, a changed config, an added file) makes the diff
fail: tampering, corruption, or a folder weditor did not write.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from weditor.checks.weights import FolderWeights, _hidden, same_file
from weditor.errors import WeditorError
from weditor.io.integrity import folder_entries, hash_problems
from weditor.io.pickles import INDEX_RE, WEIGHT_RE, is_pickle_file
from weditor.io.recipe import CARD_NAME, RECIPE_NAME, is_own_file, list_files, sha256_file
from weditor.io.tensors import same_bits, tensor_sha256

EXACT_SVD_MAX = 2048  # smaller side up to this: full SVD; above, a randomized range finder first


class CheckFailed(WeditorError):
    """The check ran and found problems (exit 1); WeditorError proper means it could not run (exit 2)."""

    exit_code = 1


# --------------------------------------------------------------------------- the size of a change


def _noise_level(old: torch.Tensor, new: torch.Tensor) -> float:
    """The spectral norm a difference made only of rounding to the storage dtype can reach.

    Rounding error per entry is at most eps/2 of the entry; a matrix of such independent errors
    has spectral norm about rms * eps * (sqrt(m) + sqrt(n)) / 2. Twice that is the threshold.
    """
    eps = torch.finfo(new.dtype).eps if new.is_floating_point() else 0.0
    rms = (
        max(float(old.double().pow(2).mean().sqrt()), float(new.double().pow(2).mean().sqrt())) if new.numel() else 0.0
    )
    m, n = _as_matrix(new).shape
    return eps * rms * (math.sqrt(m) + math.sqrt(n))


def _as_matrix(t: torch.Tensor) -> torch.Tensor:
    if t.ndim == 0:
        return t.reshape(1, 1)
    if t.ndim == 1:
        return t.reshape(1, -1)
    return t.reshape(t.shape[0], -1)


def _spectral_norm_estimate(R: torch.Tensor, iters: int = 30) -> float:
    g = torch.Generator().manual_seed(0)
    v = torch.randn(R.shape[1], generator=g, dtype=R.dtype)
    v /= v.norm().clamp_min(1e-300)
    sigma = 0.0
    for _ in range(iters):
        u = R @ v
        sigma = float(u.norm())
        if sigma == 0:
            return 0.0
        v = R.T @ (u / sigma)
        v /= v.norm().clamp_min(1e-300)
    return sigma


def numerical_rank(D: torch.Tensor, atol: float) -> int:
    """Number of singular values of `D` (float64) above `atol`.

    Small matrices: an exact SVD. Large ones (a 5120 x 13824 FFN weight): a randomized range
    finder of 64 columns, accepted when the spectral norm of what it leaves out is below
    `atol` (the edit is low-rank, as weditor's are), otherwise the full SVD.
    """
    D = _as_matrix(D).double()
    if D.numel() == 0:
        return 0
    if min(D.shape) <= EXACT_SVD_MAX:
        return int((torch.linalg.svdvals(D) > atol).sum())
    k = min(64, min(D.shape))
    g = torch.Generator().manual_seed(0)
    Y = D @ torch.randn(D.shape[1], k + 8, generator=g, dtype=D.dtype)
    Q, _ = torch.linalg.qr(Y)
    B = Q.T @ D
    residual = _spectral_norm_estimate(D - Q @ B)
    if residual * 1.1 <= atol:
        return int((torch.linalg.svdvals(B) > atol).sum())
    return int((torch.linalg.svdvals(D) > atol).sum())


def change_stats(old: torch.Tensor, new: torch.Tensor) -> dict:
    d = new.double() - old.double()
    if not torch.isfinite(d).all():
        return {"norm": math.inf, "rel_norm": math.inf, "rank": None}
    norm = float(d.norm())
    base = float(old.double().norm())
    return {
        "norm": norm,
        "rel_norm": norm / base if base > 0 else math.inf,
        "rank": numerical_rank(d, 2 * _noise_level(old, new)),
    }


# --------------------------------------------------------------------------- the recipe


def load_recipe_or_none(folder: Path) -> dict | None:
    """The checked recipe (weditor/io/integrity.py), or None when the folder has none; a malformed one is an error."""
    from weditor.io.integrity import load_checked_recipe

    if not (folder / RECIPE_NAME).exists() and not (folder / RECIPE_NAME).is_symlink():
        return None
    return load_checked_recipe(folder)


def edit_chains(recipe: dict | None) -> dict[tuple[str, str], list[dict]]:
    """(component, tensor) -> the recipe's edit entries for it, in the order they were applied."""
    chains: dict[tuple[str, str], list[dict]] = {}
    for entry in (recipe or {}).get("edits", []) or []:
        if isinstance(entry, dict) and "component" in entry and "tensor" in entry:
            chains.setdefault((entry["component"], entry["tensor"]), []).append(entry)
    return chains


def chain_verdict(chain: list[dict], sha_before: str | None, sha_after: str) -> str:
    """'ok', or what breaks the chain base -> entry 1 -> ... -> patched."""
    if not chain:
        return "not in recipe"
    if sha_before is not None and chain[0].get("sha256_before") != sha_before:
        return "sha256_before differs (another base?)"
    for a, b in zip(chain, chain[1:]):
        if a.get("sha256_after") != b.get("sha256_before"):
            return "recipe entries do not chain"
    if chain[-1].get("sha256_after") != sha_after:
        return "sha256_after differs (modified after patching)"
    return "ok"


# --------------------------------------------------------------------------- the diff


@dataclass
class TensorDiff:
    component: str
    tensor: str
    status: str  # changed | added | removed | retyped
    shape: list[int] | None = None
    dtype: str | None = None
    rank: int | None = None
    norm: float | None = None
    rel_norm: float | None = None
    recipe: str = "not in recipe"

    @property
    def explained(self) -> bool:
        return self.status == "changed" and self.recipe == "ok"


@dataclass
class FileDiff:
    path: str
    status: str  # added | removed | changed
    note: str = ""
    explained: bool = False


@dataclass
class DiffReport:
    base: str
    patched: str
    tensors_compared: int = 0
    tensors: list[TensorDiff] = field(default_factory=list)
    files: list[FileDiff] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # recipe hashes, unreadable weights, unmatched edits

    @property
    def unexplained(self) -> list[str]:
        out = [f"{t.component}/{t.tensor}: {t.status}, {t.recipe}" for t in self.tensors if not t.explained]
        out += [f"{f.path}: {f.status}{', ' + f.note if f.note else ''}" for f in self.files if not f.explained]
        return out + self.problems

    @property
    def ok(self) -> bool:
        return not self.unexplained

    def to_dict(self) -> dict:
        d = asdict(self)
        for t, td in zip(self.tensors, d["tensors"]):
            td["explained"] = t.explained
        d["ok"] = self.ok
        d["unexplained"] = self.unexplained
        return d


def _weight_file(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return (
        name.endswith(".safetensors")
        or name.endswith(".safetensors.index.json")
        or bool(WEIGHT_RE.match(name) or INDEX_RE.match(name))
    )


def _base_files(folder: Path) -> list[str]:
    """The base's files (a link into a Hub cache's blobs included); a FIFO or device is never read."""
    return [
        rel
        for rel in list_files(folder)
        if not _hidden(Path(rel)) and not is_own_file(rel) and (folder / rel).is_file()
    ]


def _compare_files(base: Path, patched: Path, recipe: dict | None, report: DiffReport):
    want = (recipe or {}).get("files") or {}
    pickles = ((recipe or {}).get("base_model") or {}).get("pickles") or {}
    converted = pickles.get("converted") or {}
    omitted = set(pickles.get("omitted") or [])
    base_files = set(_base_files(base))
    # regular files only: links and special files are reported by the hash check (weditor/io/integrity.py), never read
    patched_files = set(folder_entries(patched).files) | ({RECIPE_NAME} if (patched / RECIPE_NAME).is_file() else set())
    for rel in sorted(base_files | patched_files):
        in_base, in_patched = rel in base_files, rel in patched_files
        if in_base and in_patched:
            if _weight_file(rel) and rel.endswith(".safetensors"):
                continue  # compared tensor by tensor
            if same_file(base / rel, patched / rel) or sha256_file(base / rel) == sha256_file(patched / rel):
                continue
            own = rel == CARD_NAME and want.get(rel) == sha256_file(patched / rel)
            report.files.append(FileDiff(rel, "changed", "the model card (in the recipe)" if own else "", own))
        elif in_patched:
            if rel == RECIPE_NAME:
                continue
            if rel.endswith(".safetensors") and not is_own_file(rel):
                continue  # new weight layout (a converted pickle): its tensors are compared
            listed = want.get(rel) == sha256_file(patched / rel)
            own = (is_own_file(rel) or rel == CARD_NAME or rel in converted.values()) and listed
            note = "written by weditor (in the recipe)" if own else ""
            report.files.append(FileDiff(rel, "added", note, own))
        else:
            if is_pickle_file(rel.rsplit("/", 1)[-1]) and (rel in omitted or rel in converted):
                what = "converted to safetensors" if rel in converted else "pickle left out"
                report.files.append(FileDiff(rel, "removed", f"{what} (in the recipe)", True))
            elif rel.endswith(".safetensors"):
                continue  # its tensors are compared (missing tensors are reported there)
            else:
                report.files.append(FileDiff(rel, "removed"))


def diff_folders(base: str | Path, patched: str | Path, allow_pickle: bool = False) -> DiffReport:
    from weditor.models.loading import BUILTIN_MODEL, builtin_model_path

    if str(base) == BUILTIN_MODEL:  # the embedded model, as `patch` and `eval` name it
        base = builtin_model_path()
    base, patched = Path(base), Path(patched)
    for folder, label in ((base, "BASE"), (patched, "PATCHED")):
        if not folder.is_dir():
            raise WeditorError(f"{label} {folder}: no such folder")
    recipe = load_recipe_or_none(patched)
    report = DiffReport(str(base), str(patched))
    chains = edit_chains(recipe)
    old, new = FolderWeights(base, allow_pickle), FolderWeights(patched, allow_pickle)
    report.problems += [f"BASE {p}" for p in old.problems] + [f"PATCHED {p}" for p in new.problems]
    seen_chains = set()
    for comp in sorted((set(old.tensors) | set(new.tensors)) - old.unreadable - new.unreadable):
        a, b = old.tensors.get(comp, {}), new.tensors.get(comp, {})
        for name in sorted(set(a) | set(b)):
            if name not in b:
                report.tensors.append(TensorDiff(comp, name, "removed", recipe="not in recipe"))
                continue
            if name not in a:
                t = new.get(comp, name)
                report.tensors.append(
                    TensorDiff(comp, name, "added", list(t.shape), str(t.dtype).replace("torch.", ""))
                )
                continue
            report.tensors_compared += 1
            if same_file(base / a[name], patched / b[name]):
                if (comp, name) in chains:
                    seen_chains.add((comp, name))
                    report.problems.append(
                        f"{comp}/{name}: listed in the recipe's edits, but PATCHED holds the base's file"
                    )
                continue
            x, y = old.get(comp, name), new.get(comp, name)
            if same_bits(x, y):
                if (comp, name) in chains:
                    seen_chains.add((comp, name))
                    report.problems.append(
                        f"{comp}/{name}: listed in the recipe's edits, but identical to the base (edit undone?)"
                    )
                continue
            seen_chains.add((comp, name))
            shape, dtype = list(y.shape), str(y.dtype).replace("torch.", "")
            if x.dtype != y.dtype or x.shape != y.shape:
                report.tensors.append(
                    TensorDiff(
                        comp,
                        name,
                        "retyped",
                        shape,
                        dtype,
                        recipe=f"was {list(x.shape)} {str(x.dtype).replace('torch.', '')}",
                    )
                )
                continue
            stats = change_stats(x, y)
            verdict = chain_verdict(chains.get((comp, name), []), tensor_sha256(x), tensor_sha256(y))
            report.tensors.append(
                TensorDiff(
                    comp, name, "changed", shape, dtype, stats["rank"], stats["norm"], stats["rel_norm"], verdict
                )
            )
    for key in sorted(set(chains) - seen_chains):
        if key[0] in new.tensors and key[1] not in new.tensors[key[0]]:
            report.problems.append(f"{key[0]}/{key[1]}: listed in the recipe's edits, but not in PATCHED")
        elif key[0] not in new.tensors:
            report.problems.append(
                f"{key[0]}/{key[1]}: listed in the recipe's edits, but PATCHED has no such component"
            )
    _compare_files(base, patched, recipe, report)
    report.problems += [f"recipe: {p}" for p in hash_problems(patched, recipe)]
    return report


# --------------------------------------------------------------------------- printing


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    return "inf" if math.isinf(x) else f"{x:.3g}"


def format_report(report: DiffReport) -> list[str]:
    changed = [t for t in report.tensors]
    lines = [
        f"weditor diff {report.base} -> {report.patched}",
        f"tensors: {report.tensors_compared} compared, {len(changed)} differ "
        f"({sum(t.explained for t in changed)} explained by {RECIPE_NAME})",
    ]
    if changed:
        w_comp = max(9, *(len(t.component) for t in changed))
        w_name = max(6, *(len(t.tensor) for t in changed))
        lines.append(
            f"  {'component':<{w_comp}}  {'tensor':<{w_name}}  {'shape':<12} {'dtype':<9} {'rank':>4} "
            f"{'|delta|_F':>10} {'relative':>9}  recipe"
        )
        for t in changed:
            shape = "x".join(map(str, t.shape)) if t.shape is not None else "-"
            status = "" if t.status == "changed" else f"[{t.status}] "
            lines.append(
                f"  {t.component:<{w_comp}}  {t.tensor:<{w_name}}  {shape:<12} {t.dtype or '-':<9} "
                f"{'-' if t.rank is None else t.rank:>4} {_fmt(t.norm):>10} {_fmt(t.rel_norm):>9}  {status}{t.recipe}"
            )
    if report.files:
        lines.append(f"files: {len(report.files)} differ")
        sign = {"added": "+", "removed": "-", "changed": "~"}
        for f in report.files:
            lines.append(
                f"  {sign[f.status]} {f.path}{'  ' + f.note if f.note else ''}{'' if f.explained else '  UNEXPLAINED'}"
            )
    for p in report.problems:
        lines.append(f"problem: {p}")
    lines.append(
        "result: OK, every difference is explained by weditor.json"
        if report.ok
        else f"result: FAILED, {len(report.unexplained)} unexplained difference(s) or problem(s)"
    )
    return lines
