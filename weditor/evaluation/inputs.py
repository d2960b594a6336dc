"""`weditor eval`'s and `weditor attack`'s inputs: prompt files, pair files, generation settings, the recipe,
and which modules of the base a patched folder shares (reused, not loaded twice)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from weditor.errors import WeditorError
from weditor.evaluation import generate as gen
from weditor.io.pairs import neutral_prompts as pairs_neutral_prompts
from weditor.io.recipe import sha256_file

GROUPS = ("eval", "eval_synonyms", "neutral", "custom")
EXPECTED = {"eval": "unsafe", "eval_synonyms": "unsafe", "neutral": "safe", "custom": None}
DEFAULT_GEN_STEPS = 10  # real models; the embedded shapes model uses its own constants
DEFAULT_GUIDANCE = 5.0
EMBEDDED_DEFAULT_GUIDANCE = 6.0  # HunyuanVideo's pipeline default, which its adapter also feeds the denoiser


# --------------------------------------------------------------------------- inputs


def read_prompt_file(path: str | Path) -> list[str]:
    """One prompt per line; blank lines and lines starting with # are skipped."""
    path = Path(path)
    if not path.is_file():
        raise WeditorError(f"--prompts {path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise WeditorError(f"--prompts {path}: not UTF-8 text (byte {e.start})") from None
    prompts = [" ".join(line.split()) for line in text.splitlines()]
    prompts = list(dict.fromkeys(p for p in prompts if p and not p.startswith("#")))
    if not prompts:
        raise WeditorError(f"--prompts {path}: no prompts in it")
    return prompts


def find_pairs(cfg, patched_folder: Path):
    from weditor.io.pairs import load_pairsets

    paths = [Path(p) for p in cfg.pairs]
    if not paths:
        paths = sorted((patched_folder / "weditor" / "pairs").glob("*.toml"))
    return load_pairsets(paths)


def prompt_groups(pairsets, custom: list[str], limit: int | None) -> dict[str, list[tuple[str, str | None]]]:
    """group -> [(prompt, concept)], duplicates removed, at most `limit` per group."""
    first = pairsets[0].concept if pairsets else None
    groups: dict[str, dict[str, str | None]] = {g: {} for g in GROUPS}
    for ps in pairsets:
        for p in ps.eval:
            groups["eval"].setdefault(p, ps.concept)
        for p in ps.eval_synonyms:
            groups["eval_synonyms"].setdefault(p, ps.concept)
    for p in pairs_neutral_prompts(pairsets):
        groups["neutral"].setdefault(p, first)
    for p in custom:
        groups["custom"].setdefault(p, first)
    out = {}
    for g, items in groups.items():
        items = list(items.items())[: limit or None]
        if items:
            out[g] = items
    return out


def is_builtin(cfg, base_folder: Path) -> bool:
    from weditor.models.loading import BUILTIN_MODEL, builtin_model_path

    if cfg.base == BUILTIN_MODEL:
        return True
    try:
        return base_folder.resolve() == builtin_model_path().resolve()
    except OSError:
        return False


def adapter_size(adapter, pipe) -> tuple[int, int, int]:
    size_for = getattr(adapter, "size_for", None)
    return tuple(size_for(pipe)) if size_for is not None else tuple(adapter.default_size)


def default_gen_size(adapter, builtin: bool, pipe=None) -> tuple[int, int, int]:
    """The video size eval and attack generate at without `--size`: the shapes model's own, else the adapter's."""
    if builtin:
        from weditor import shapes

        return shapes.HEIGHT, shapes.WIDTH, shapes.NUM_FRAMES
    return adapter_size(adapter, pipe)


def gen_settings(cfg, adapter, builtin: bool, pipe=None) -> gen.GenSettings:
    if builtin:
        from weditor import shapes

        size = cfg.size or default_gen_size(adapter, builtin, pipe)
        steps = cfg.steps or shapes.NUM_INFERENCE_STEPS
        guidance = shapes.GUIDANCE_SCALE if cfg.guidance is None else cfg.guidance
        max_len = shapes.MAX_SEQUENCE_LENGTH
    else:
        size = cfg.size or default_gen_size(adapter, builtin, pipe)
        steps = cfg.steps or DEFAULT_GEN_STEPS
        default = EMBEDDED_DEFAULT_GUIDANCE if adapter.family in gen.EMBEDDED_GUIDANCE else DEFAULT_GUIDANCE
        guidance = default if cfg.guidance is None else cfg.guidance
        max_len = None
    return gen.GenSettings(
        height=size[0],
        width=size[1],
        frames=size[2],
        steps=steps,
        guidance=float(guidance),
        dtype=cfg.dtype,
        max_sequence_length=max_len,
    )


def _load_recipe(folder: Path) -> dict:
    path = folder / "weditor.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise WeditorError(f"{path}: not valid JSON ({e})") from None
    return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------- the swap


def same_files(a: Path, b: Path) -> bool:
    """Whether two component folders hold the same files (hard links, or equal bytes)."""
    if not a.is_dir() or not b.is_dir():
        return False
    fa = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    fb = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    if fa != fb:
        return False
    for rel in fa:
        pa, pb = a / rel, b / rel
        if os.path.samefile(pa, pb):
            continue
        if pa.stat().st_size != pb.stat().st_size or sha256_file(pa) != sha256_file(pb):
            return False
    return True


def reusable_modules(pipe, adapter, base_folder: Path, patched_folder: Path) -> dict:
    import torch

    from weditor.models.runtime import present_denoisers

    denoisers = set(present_denoisers(pipe, adapter))
    out = {}
    for name, module in pipe.components.items():
        if name in denoisers or not isinstance(module, torch.nn.Module):
            continue
        if same_files(base_folder / name, patched_folder / name):
            out[name] = module
    return out
