"""Every method by the name `--method` and the recipe give it, and the card paragraph of a recipe's method."""

from __future__ import annotations

import importlib

from weditor.io.migrations import current_params

# name -> "module:object" implementing the protocol of weditor/methods/base.py; imported when asked for
METHODS = {
    "text": "weditor.methods.text:TEXT",
    "refusal": "weditor.methods.refusal:REFUSAL",
    "reins": "weditor.methods.refusal:REINS_ONLY",
    "safree": "weditor.methods.safree:SAFREE",
    "uce": "weditor.methods.uce:UCE",
    "encoder": "weditor.methods.encoder:ENCODER",
    "units": "weditor.methods.units:UNITS",
}


def get(name: str):
    module, attr = METHODS[name].split(":")
    return getattr(importlib.import_module(module), attr)


def card_note(recipe: dict) -> str | None:
    """The edit's paragraph in the model card: the method's (a recipe's "method" may name a fold on top,
    "text+reins"), then the REINS fold's, where there is one."""
    from weditor.methods.reins import CARD_NOTE as REINS_NOTE

    names = str(recipe.get("method", "")).split("+")
    note = None
    for name in names:
        if name in METHODS and name != "reins":
            note = get(name).card_note(current_params(recipe.get("method", ""), recipe.get("params") or {}))
            break
    if "reins" in names:
        note = note + REINS_NOTE if note else REINS_NOTE.strip()
    return note
