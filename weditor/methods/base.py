"""The method protocol: what every edit method gives the pipeline, and nothing about writing it.

A method is a module-level object with

- `name`: what `--method` calls it and the recipe records;
- `card_note`: its paragraph in the model card;
- `check(cfg, adapter)`: refuse a model it cannot edit, before any weight is read;
- `fit(ctx) -> Fitted`: collect what it needs from the loaded pipeline, fit, and compute the edited
  tensors from the files on disk (`EditSet`), without touching the live model;
- `summarise(ctx, fitted) -> dict`: load the edit into the live pipeline (`models.measure`) and,
  with `cfg.summary`, measure it: the figures the terminal and the card show;
- `params(ctx, fitted) -> dict`: its recipe parameters, every one that took part and none other.

The pipeline (weditor/pipeline/run.py) calls them in that order, with the load stage before and the
write, verify and card stages after. A fold on top of another method (`--reins`) is a `Fitted.folded`
that the REINS module adds to the same `EditSet` between `fit` and `summarise`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EditSet:
    """The edited tensors, where they live, and the recipe's rows for them."""

    edited: dict = field(default_factory=dict)  # {component: {tensor name: new value, in the checkpoint's dtype}}
    locations: dict = field(default_factory=dict)  # {component: {tensor name: shard file}}
    entries: list = field(default_factory=list)  # the recipe's "edits": one row per tensor written (and per fold)

    def by_file(self) -> dict[str, dict]:
        """{shard file: {tensor name: value}}: what the reload check compares bit for bit."""
        files: dict[str, dict] = {}
        for comp, tensors in self.edited.items():
            for name, value in tensors.items():
                files.setdefault(self.locations[comp][name], {})[name] = value
        return files


@dataclass
class Fitted:
    """What a method's `fit` returns: the edit and whatever its summary, recipe and files need."""

    edits: EditSet
    directions: dict = field(default_factory=dict)  # saved to weditor/directions.safetensors
    readouts: dict | None = None  # saved to weditor/readout.safetensors
    folded: object = None  # a REINS fold on top (weditor/methods/reins.py), saved to weditor/reins.safetensors
    state: dict = field(default_factory=dict)  # the method's own (keys, estimators, rows ...), for summarise/params
    extra: dict = field(default_factory=dict)  # recipe fields besides "params" (refusal: "skipped_sites")
    release: bool = True  # the reload check drops the in-memory denoisers once it has its reference outputs


def recipe_method(method, fitted: Fitted) -> str:
    """The recipe's "method": the method's name, with "+reins" when the REINS fold went on top of it."""
    if fitted.folded is None or method.name == "reins":
        return method.name
    return f"{method.name}+reins"


WEIGHT_DELTA = "weight_delta"  # base + saved increment: weditor.checks.verify recomputes the tensor bit for bit


def weight_delta_fitted(
    component: str, before: dict, after: dict, deltas: dict, locations: dict, reads: str, state: dict
) -> Fitted:
    """The `Fitted` of an edit stored as base + increment (the text encoder's edits): the edited tensors `after`,
    one recipe entry each (where it lives, what the edit read, its hashes before and after), and the increments,
    saved to weditor/directions.safetensors for `weditor verify` to recompute the tensors from the base."""
    from weditor.io.tensors import tensor_sha256

    entries = [
        {
            "component": component,
            "tensor": name,
            "file": locations[name],
            "kind": WEIGHT_DELTA,
            "rank": int(min(before[name].shape)),
            "reads": reads,
            "sha256_before": tensor_sha256(before[name]),
            "sha256_after": tensor_sha256(after[name]),
        }
        for name in after
    ]
    return Fitted(
        EditSet({component: after}, {component: locations}, entries),
        {f"{component}.{name}": d for name, d in deltas.items()},
        state=state,
    )
