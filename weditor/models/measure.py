"""The one measurement module: load an edit into the live pipeline and measure what it changed.

The summary of every method is made of these: the denoiser's trajectories on a list of prompts
(with taps on the edited sites), then the same trajectories fed the "before" latents step by step
after the edit, so that the relative output change measures the edit and not a diverging run.
"""

from __future__ import annotations

import torch

from weditor.io.pairs import neutral_prompts as pairs_neutral_prompts
from weditor.models.runtime import check_finite, get_module, taps, trajectory


@torch.no_grad()
def apply_in_memory(pipe, edited: dict[str, dict]):
    """Load edited tensors into the live pipeline: it becomes the reference the files must match."""
    for comp, tensors in edited.items():
        model = getattr(pipe, comp)
        for name, value in tensors.items():
            param = get_module(model, name)
            param.copy_(value.to(device=param.device, dtype=param.dtype))


# --------------------------------------------------------------------------- summary


def measure(pipe, adapter, keys, directions, prompts, settings, strength, forced=None, readouts=None):
    """Mean projection on r_hat per site (effective input/output of the edited linear) and predictions."""
    sums = {k: [0.0, 0] for k in keys}
    r_hat = {k: directions[k][0].to(settings.device) for k in keys}
    # After the edit, measure what the edited linear actually uses: a reading site's tap sees its
    # input, which the edit leaves alone, so the projection is applied here; a writing site's tap
    # already sees the edited output.
    apply_q = forced is not None
    state = {}

    def on_activation(key, x):
        check_finite(key, x, state["prompt"])
        x = x.double()
        p = x @ r_hat[key].double()
        if apply_q and adapter.sites[key.site].role == "reads":
            Q = directions[key].to(settings.device).double()
            ro = readouts.get(key) if readouts else None
            A = Q if ro is None else torch.as_tensor(ro.coef_).to(settings.device).double()
            p = p - strength * (x @ A.T) @ (Q @ r_hat[key].double())
        sums[key][0] += float(p.sum())
        sums[key][1] += p.numel()

    records = []
    with taps(pipe, adapter, keys) as t:
        t.fn = on_activation
        for i, prompt in enumerate(prompts):
            state["prompt"] = prompt
            cond = adapter.encode(pipe, [prompt], settings.device)
            rec = trajectory(pipe, adapter, cond, settings, seed=settings.seed + 10_000 + i, forced=None if forced is None else forced[i])
            records.append(rec)
    return {k: s / max(n, 1) for k, (s, n) in sums.items()}, records


def relative_change(before, after) -> float:
    num = sum(float((b[3].float() - a[3].float()).norm() ** 2) for rb, ra in zip(before, after) for b, a in zip(rb, ra))
    den = sum(float(b[3].float().norm() ** 2) for rb in before for b in rb)
    return (num / max(den, 1e-30)) ** 0.5


MOST_CHANGED = 3  # neutral prompts named in the summary


def most_changed(prompts, before, after, n: int = MOST_CHANGED) -> list[dict]:
    """The neutral prompts whose denoiser output the edit changed most, each alone: the pooled
    figure can hide one prompt that lost a neighbouring concept (an orange drawn yellow)."""
    changes = [(relative_change([rb], [ra]), p) for p, rb, ra in zip(prompts, before, after)]
    changes.sort(key=lambda c: -c[0])
    return [{"prompt": p, "change": round(c, 4)} for c, p in changes[:n]]



def eval_prompts(pairsets) -> list[str]:
    """The prompts the "eval" figures run: the pair files' eval prompts, else their unsafe members."""
    return [p for ps in pairsets for p in ps.eval] or [p.unsafe for ps in pairsets for p in ps.pairs]


def output_change(cfg, pipe, adapter, pairsets, settings, edited) -> dict:
    """Load the edit into the live pipeline; with `cfg.summary`, the denoiser's relative output change
    on the eval and neutral prompts (the "after" runs follow the "before" runs' latents)."""
    if not cfg.summary:
        apply_in_memory(pipe, edited)
        return {}
    prompts = eval_prompts(pairsets)
    neutral = pairs_neutral_prompts(pairsets)
    _, rec_eval = measure(pipe, adapter, [], {}, prompts, settings, cfg.strength)
    _, rec_neutral = measure(pipe, adapter, [], {}, neutral, settings, cfg.strength)
    apply_in_memory(pipe, edited)
    _, rec_eval2 = measure(pipe, adapter, [], {}, prompts, settings, cfg.strength, forced=rec_eval)
    _, rec_neutral2 = measure(pipe, adapter, [], {}, neutral, settings, cfg.strength, forced=rec_neutral)
    return {"output_change_eval": round(relative_change(rec_eval, rec_eval2), 4),
            "output_change_neutral": round(relative_change(rec_neutral, rec_neutral2), 4),
            "neutral_most_changed": most_changed(neutral, rec_neutral, rec_neutral2),
            "eval_prompts": len(prompts), "neutral_prompts": len(neutral)}
