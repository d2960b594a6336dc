"""Resolving the module paths an adapter declares, on a live or meta-device denoiser.

Three spellings, all declarative:

- an attribute path of a block list: `"blocks"` -> `blocks.0`, `blocks.1`, ...
- a pattern in which `*` (or any `fnmatch` wildcard) matches exactly one path component:
  `"down_blocks.*.attentions.*.transformer_blocks.*"` -> every module at that depth whose path
  matches, in the model's registration order (for a UNet: down blocks in order, then up ...);
- a tuple of either, concatenated in the order given (a UNet: down, mid, up = depth order).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

WILDCARDS = ("*", "?", "[")


def is_pattern(path: str) -> bool:
    return any(c in path for c in WILDCARDS)


def module_at(root, path: str):
    for part in path.split("."):
        root = root[int(part)] if part.isdigit() else getattr(root, part)
    return root


def expand(model, pattern: str) -> list[str]:
    """Paths of the modules of `model` matching `pattern` (a plain path is returned as is)."""
    if not is_pattern(pattern):
        return [pattern]
    parts = pattern.split(".")
    out = []
    for name, _ in model.named_modules():
        if not name:
            continue
        names = name.split(".")
        if len(names) == len(parts) and all(fnmatchcase(n, p) for n, p in zip(names, parts)):
            out.append(name)
    return out


def expand_all(model, patterns) -> list[str]:
    patterns = (patterns,) if isinstance(patterns, str) else tuple(patterns)
    out: list[str] = []
    for p in patterns:
        out += [m for m in expand(model, p) if m not in out]
    return out


def block_list(model, specs) -> list[str]:
    """Paths of the blocks named by `specs` (see the module docstring), in depth order."""
    specs = (specs,) if isinstance(specs, str) else tuple(specs)
    out: list[str] = []
    for spec in specs:
        if is_pattern(spec):
            out += expand(model, spec)
        else:
            out += [f"{spec}.{i}" for i in range(len(module_at(model, spec)))]
    return out
