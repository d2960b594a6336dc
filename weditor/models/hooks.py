"""The one hook layer: read-only taps on a module's input or output, registered and removed together.

Modelled on diffusers' `ModelHook` / `HookRegistry` (diffusers/hooks/hooks.py), cut down to what
weditor needs: a tap observes, it never changes what the module computes, so the edited model and
the measured one stay the same function. Collection (models/runtime.Taps), the REINS block
statistics (methods/reins.BlockTaps) and the latent audit (evaluation/latent_audit.py) all tap
through a `TapRegistry`, and one `remove()` (or leaving its `with` block) detaches every tap.
"""

from __future__ import annotations

from typing import Callable

import torch

WHERE = ("input", "output")


def first_tensor(value):
    """A module's output as one tensor: blocks that return (hidden_states, ...) give their first item."""
    return value[0] if isinstance(value, (tuple, list)) else value


class TapRegistry:
    """Taps on modules of a live model; `fn(tensor)` receives the detached input or output of each call."""

    def __init__(self):
        self.handles: list = []

    def tap(self, module: torch.nn.Module, where: str, fn: Callable[[torch.Tensor], None]):
        if where not in WHERE:
            raise ValueError(f"where={where!r}: must be one of {WHERE}")
        if where == "input":
            handle = module.register_forward_pre_hook(lambda m, args: fn(args[0].detach()))
        else:
            handle = module.register_forward_hook(lambda m, args, output: fn(first_tensor(output).detach()))
        self.handles.append(handle)
        return handle

    def remove(self):
        for handle in self.handles:
            handle.remove()
        self.handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class RowGather:
    """The per-row calls of one batch joined back into the batch, for an adapter that calls its denoiser
    one row at a time (`Adapter.one_row_per_call`).

    A tap that pairs a batch's members (unsafe first, safe second) must see the whole batch; fed one
    row, its reshape into (members, tokens, d) would split one member's tokens in half.
    `add(key, x, rows)` keeps `x` and returns None until the batch's `rows` calls at `key` are in,
    then returns them concatenated in call order (row order).
    """

    def __init__(self):
        self.parts: dict = {}

    def add(self, key, x: torch.Tensor, rows: int) -> torch.Tensor | None:
        if rows <= 1:
            return x
        parts = self.parts.setdefault(key, [])
        parts.append(x)
        if len(parts) < rows:
            return None
        del self.parts[key]
        return torch.cat(parts)
