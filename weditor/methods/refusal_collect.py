"""The refusal edit's collection: its edit sites, and the paired and neutral activation moments at each.

Collection runs the pipeline on every pair (both members under one noise) and on the neutral
prompts, with taps on each site (models/hooks.py); weditor/methods/refusal.py fits on what it returns."""

from __future__ import annotations

import time

import torch

from weditor import defaults
from weditor.adapters import Adapter
from weditor.errors import WeditorError
from weditor.io.pairs import PairSet
from weditor.io.pairs import neutral_prompts as pairs_neutral_prompts
from weditor.maths.layers import parse_layers
from weditor.maths.moments import PairMoments, RunningMoments
from weditor.models import distributed
from weditor.models.hooks import RowGather
from weditor.models.runtime import (
    Settings,
    SiteKey,
    check_finite,
    encode,
    neutral_images,
    num_blocks,
    present_denoisers,
    progress,
    site_modules,
    taps,
    trajectory,
)


def site_keys(pipe, adapter: Adapter, cfg) -> list[SiteKey]:
    site = cfg.site or adapter.default_site
    if site not in adapter.sites:
        raise WeditorError(f"--site {site}: unknown for {adapter.family} (choose from {', '.join(adapter.sites)})")
    if adapter.sites[site].role == "writes" and adapter.sites[site].gated:
        raise WeditorError(
            f"--site {site}: this write is scaled by a timestep-dependent gate, so an output-side projection "
            f"would not remove the direction from the stream; use an ungated write ({adapter.ungated_write}) or an input site"
        )
    keys = []
    for component in present_denoisers(pipe, adapter):
        for block in parse_layers(cfg.layers, num_blocks(pipe, adapter, component, site)):
            keys.append(SiteKey(component, block, site))
    return keys


def site_width(pipe, adapter: Adapter, key: SiteKey) -> int:
    _, module = site_modules(pipe, adapter, key)[0]
    return module.in_features if adapter.sites[key.site].role == "reads" else module.out_features


# --------------------------------------------------------------------------- collection


def neutral_batches(n: int, size: int) -> list[list[int]]:
    """Indices of the neutral prompts, in batches of about `size` (never one alone when n > 1)."""
    batches = [list(range(i, min(i + size, n))) for i in range(0, n, size)]
    if len(batches) > 1 and len(batches[-1]) == 1:
        last = batches.pop()
        batches[-1] += last
    return batches


def collect(
    pipe,
    adapter,
    keys,
    pairsets: list[PairSet],
    settings: Settings,
    phases=None,
    neutral_mode: str = defaults.NEUTRAL,
    paired: bool = False,
):
    """Paired-difference moments per concept and site, neutral moments per site, and paired moments.

    With `paired` (the read-out edit), the third value holds `PairMoments` per concept and site
    (the unsafe tokens and their co-variation with the difference, twice the memory of `delta`,
    whose moments they share); otherwise it is None.

    With `neutral_mode` "prompt", neutral prompts run in small batches that share one noise,
    and each activation is centred on its batch's mean at the same token and step: what is left
    is how *prompts* move the activations, the same kind of variation as the paired differences
    (noise, position and timestep cancel, as they do in `delta`). "raw" keeps the activations
    as they are, each prompt with its own noise.

    With `phases`, the time spent in the taps (finiteness check and moment updates) is added
    to `statistics` (on CUDA: the time to queue that work).
    """
    device = settings.device
    widths = {k: site_width(pipe, adapter, k) for k in keys}
    pairs = {ps.concept: {k: PairMoments(widths[k], device) for k in keys} for ps in pairsets} if paired else None
    if paired:
        delta = {c: {k: m.delta for k, m in by_key.items()} for c, by_key in pairs.items()}
    else:
        delta = {ps.concept: {k: RunningMoments(widths[k], device) for k in keys} for ps in pairsets}
    neutral = {k: RunningMoments(widths[k], device) for k in keys}
    neutral_prompts = pairs_neutral_prompts(pairsets)
    jobs = [("pair", ps.concept, [p.unsafe, p.safe], list(p.conditioning)) for ps in pairsets for p in ps.pairs]
    images = neutral_images(pairsets, len(neutral_prompts))
    if neutral_mode == "prompt" and len(neutral_prompts) > 1:
        jobs += [
            ("neutral batch", None, [neutral_prompts[i] for i in b], [images[i] for i in b])
            for b in neutral_batches(len(neutral_prompts), defaults.NEUTRAL_BATCH)
        ]
    else:
        jobs += [("neutral", None, [p], [im]) for p, im in zip(neutral_prompts, images)]
    state = {}

    text_sites = {k for k in keys if adapter.sites[k.site].tokens == "text"}

    def apply(kind: str, key, concept, x: torch.Tensor, y: torch.Tensor | None = None):
        """One update of the moments, as the tap made it (or as a rank recorded it, under torchrun)."""
        if kind == "n":
            neutral[key].update(x)
        elif paired:
            pairs[concept][key].update(x, y)
        else:
            delta[concept][key].update(x - y)

    gather = RowGather() if adapter.one_row_per_call else None

    def on_activation(key, x):
        t0 = time.perf_counter()
        check_finite(key, x, state["prompt"])
        if gather is not None:  # one call per row: wait for the batch's other rows
            x = gather.add(key, x, state["members"])
            if x is None:
                return
        # (members, tokens, d): a UNet folds frames into the batch (member-major), so x[1] would be
        # the first member's second frame, not the second member.
        x = x.reshape(state["members"], -1, x.shape[-1])
        emit = state["emit"]
        if state["kind"] == "pair":
            unsafe, safe = x[0], x[1]
            if key in text_sites:
                # The prompt's tokens do not pair up; each member's sum is one sample, and the safe
                # member's tokens are neutral ones (they must lose nothing).
                unsafe, safe = unsafe.sum(0), safe.sum(0)
                emit("n", key, None, x[1])
            emit("p", key, state["concept"], unsafe, safe)
        elif state["kind"] == "neutral batch":  # prompts sharing one noise, centred on each other
            emit("n", key, None, x - x.mean(0, keepdim=True))
        else:
            emit("n", key, None, x)
        if phases is not None:
            phases.add("statistics", time.perf_counter() - t0)

    def run(i: int):
        kind, concept, prompts, images = jobs[i]
        state.update(kind=kind, concept=concept, prompt=prompts[0], members=len(prompts))
        cond = encode(pipe, adapter, prompts, device, images)
        trajectory(pipe, adapter, cond, settings, seed=settings.seed + i)

    with taps(pipe, adapter, keys) as t:
        t.fn = on_activation
        if distributed.world() == 1:
            state["emit"] = apply
            for i in progress(range(len(jobs)), len(jobs), "collect"):
                run(i)
        else:  # one job per rank and round; every rank replays every job's updates in job order
            n = distributed.world()
            for start in range(0, len(jobs), n):  # a round's tokens held at once, not every job's
                now = list(range(start, min(start + n, len(jobs))))
                for i, unit in zip(now, distributed.map_units(lambda i: _recorded(run, i, state, keys), now)):
                    _replay(unit, keys, jobs[i][1], apply)
    return delta, neutral, pairs


def _recorded(run, i: int, state: dict, keys) -> dict[str, torch.Tensor]:
    """Job `i`'s updates, in the order the tap made them: {"<n>.<kind>.<site index>.<x|y>": tensor}."""
    index, out, made = {k: j for j, k in enumerate(keys)}, {}, [0]

    def emit(kind, key, concept, x, y=None):
        prefix = f"{made[0]}.{kind}.{index[key]}"
        made[0] += 1
        out[f"{prefix}.x"] = x.detach().contiguous().clone()
        if y is not None:
            out[f"{prefix}.y"] = y.detach().contiguous().clone()

    state["emit"] = emit
    run(i)
    return out


def _updates(unit: dict) -> list[str]:
    """The unit's update prefixes ("<n>.<kind>.<site index>"), in order."""
    return sorted({name.rsplit(".", 1)[0] for name in unit}, key=lambda p: int(p.split(".", 1)[0]))


def _replay(unit: dict, keys, concept, apply):
    for prefix in _updates(unit):
        _, kind, site = prefix.split(".")
        apply(kind, keys[int(site)], concept, unit[f"{prefix}.x"], unit.get(f"{prefix}.y"))
