"""Representation metrics: how much of the refusal direction is left, and what else moved.

The directions a patch removed are in `PATCHED/weditor/directions.safetensors`, one
orthonormal matrix per edit site, keyed like "transformer.blocks.3.ffn_in". For each site the
mean projection of the eval prompts' activations on the first direction is measured on the
base model and on the patched model, on identical inputs: the patched model's denoiser is fed
the base model's latents at every step, so any difference comes from the weights. For a site
that reads the stream (input-side edit), the patched linear effectively sees
`x - lambda Q^T Q x`; that effective input is what is projected. For a site that writes into
the stream, the linear's output is tapped as is.

Collateral damage: the relative change of the denoiser's output, ||after - before|| / ||before||
over all steps and prompts, on the neutral prompts (it should be small) next to the eval
prompts (where the edit should act).
"""

from __future__ import annotations

from pathlib import Path

from weditor.errors import WeditorError

DIRECTIONS_FILE = "weditor/directions.safetensors"


def parse_site(name: str):
    """ "transformer.blocks.3.ffn_in" -> SiteKey("transformer", 3, "ffn_in")."""
    from weditor.models.runtime import SiteKey

    parts = name.split(".")
    if len(parts) != 4 or parts[1] != "blocks" or not parts[2].isdigit():
        raise WeditorError(f"{DIRECTIONS_FILE}: cannot read site name {name!r} (expected COMPONENT.blocks.N.SITE)")
    return SiteKey(parts[0], int(parts[2]), parts[3])


def load_directions(patched: Path, adapter) -> dict | None:
    """{SiteKey: (r, d) tensor} or None when the patched folder has no directions file.

    Directions of text-side edits (`COMPONENT.text_input.KEY`) are left out: they act on the
    prompt embeddings, not at a block; the output-change figures still measure such a patch."""
    path = Path(patched) / DIRECTIONS_FILE
    if not path.is_file():
        return None
    from safetensors.torch import load_file

    out = {}
    for name, q in load_file(path).items():
        if ".text_input." in name:  # a text-side edit (--method safree / text): no block site to project at
            continue
        key = parse_site(name)
        if key.site not in adapter.sites:
            raise WeditorError(f"{path}: site {key.site!r} is unknown to the {adapter.family} adapter")
        out[key] = q.double() if q.ndim == 2 else q.double()[None]
    return out


def measure(
    pipe,
    adapter,
    directions: dict,
    prompts: list[str],
    settings,
    strength: float = 1.0,
    forced=None,
    effective: bool = False,
):
    """Mean projections on the first direction per site, and the trajectories (for forcing).

    Returns (effective, arriving, records): `effective` is what the (edited) linear uses, with
    `effective=True` the input-side edit applied; `arriving` the projection of the activation
    as it arrives at the site, which upstream edits may already have changed.
    """
    import torch

    from weditor.models.runtime import check_finite, present_denoisers, taps, trajectory

    present = set(present_denoisers(pipe, adapter))
    keys = [k for k in directions if k.component in present]
    sums = {k: [0.0, 0.0, 0] for k in keys}  # effective, arriving, count
    state = {}

    def on_activation(key, x):
        check_finite(key, x, state["prompt"])
        x = x.double()
        Q = directions[key].to(x.device)
        raw = x @ Q[0]
        p = raw
        if effective and adapter.sites[key.site].role == "reads":
            p = raw - strength * (x @ Q.T) @ (Q @ Q[0])
        sums[key][0] += float(p.sum())
        sums[key][1] += float(raw.sum())
        sums[key][2] += p.numel()

    records = []
    with torch.no_grad(), taps(pipe, adapter, keys) as t:
        t.fn = on_activation
        for i, prompt in enumerate(prompts):
            state["prompt"] = prompt
            cond = adapter.encode(pipe, [prompt], settings.device)
            rec = trajectory(
                pipe,
                adapter,
                cond,
                settings,
                seed=settings.seed + 20_000 + i,
                forced=None if forced is None else forced[i],
            )
            records.append([(c, t_, x.cpu(), p.cpu()) for c, t_, x, p in rec])
    proj = {k: (s / n if n else None) for k, (s, _, n) in sums.items()}
    arriving = {k: (r / n if n else None) for k, (_, r, n) in sums.items()}
    return proj, arriving, records


def forced_records(records, device):
    return [[(c, t, x.to(device), p) for c, t, x, p in rec] for rec in records]


def relative_change(before, after) -> float | None:
    num = den = 0.0
    for rb, ra in zip(before, after):
        for b, a in zip(rb, ra):
            num += float((b[3].double() - a[3].double()).norm() ** 2)
            den += float(b[3].double().norm() ** 2)
    return (num / den) ** 0.5 if den > 0 else None
