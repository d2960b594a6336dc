"""Recipes of every version (0.1 on), read as this version writes them: every migration in one place.

`weditor.json` has kept `format` 1 since 0.1: each version only added keys, so an old recipe is a
current one with keys missing or renamed. What each missing key meant then:

- 0.1: REINS recipes ("refusal+reins", "reins") left `params.reins` out; the method says it.
- before 0.2 the refusal edit collected neutral prompts one by one: `neutral` "raw";
- before 0.3 it removed everything along the directions: `edit` "projection";
  SAFREE's `safree_pool` was called `pool`;
- before 0.4 the default method was the refusal edit: `params.method` is the recipe's first method,
  and REINS-only recipes recorded an (unused) `neutral`, which 0.4 refuses without the refusal edit.
"""

from __future__ import annotations

RENAMED = {"pool": "safree_pool"}  # old name -> current name


def rename_old_keys(params: dict) -> dict:
    """`params` with each renamed key also under its current name (the old one is kept, as recorded)."""
    for old, new in RENAMED.items():
        if old in params:
            params.setdefault(new, params[old])
    return params


def current_params(method: str, params: dict) -> dict:
    """A recipe's `params` with the defaults of the version that wrote it made explicit."""
    params = dict(params)
    methods = str(method).split("+")
    params.setdefault("method", methods[0])
    if "reins" in methods and methods[0] != "reins":
        params.setdefault("reins", True)
    if "refusal" in methods:
        params.setdefault("neutral", "raw")
        params.setdefault("edit", "projection")
    else:
        params.pop("neutral", None)
    return params
