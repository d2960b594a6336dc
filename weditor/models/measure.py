"""The one measurement module: denoiser trajectories before and after an edit, prompts batched.

Each prompt follows its own trajectory from its own seeded noise (seed + 10000 + its index), as
it did when prompts ran one at a time; several prompts now share one denoiser forward (batch
`batch`), and each distinct prompt is encoded once for the "before" and the "after" runs (the
edit never touches the text encoder: an edit of the embeddings folds into the denoiser). On a
CPU one forward of 24 prompts costs about a quarter of 24 forwards of one (issue 22); the figures
change only in the last bits (a batched matmul sums in another order), below the 4 digits the
summary reports.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import torch

from weditor.defaults import MEASURE_STEPS
from weditor.io.pairs import neutral_prompts as pairs_neutral_prompts
from weditor.maths.finite import all_finite
from weditor.models import distributed
from weditor.models.runtime import check_finite, get_module, taps, trajectory

DEFAULT_BATCH = 32  # prompts per forward unless --batch; halved while the device runs out of memory
SEED_OFFSET = 10_000  # the summary's trajectories start from other noise than collection's


def _batchable(cond: dict) -> bool:
    return all(isinstance(v, torch.Tensor) and v.ndim >= 1 and v.shape[0] == 1 for v in cond.values())


def encode_once(pipe, adapter, prompts: list[str], device, batch: int | None = None) -> list[dict]:
    """One cond per prompt (batch 1 each), each distinct prompt encoded once, `batch` prompts per
    text-encoder call (every adapter pads to a fixed length, so a prompt's embedding does not
    depend on its batch-mates beyond the last bits); an adapter whose cond is not per prompt
    along the first dimension is encoded one prompt at a time."""
    distinct = list(dict.fromkeys(prompts))
    size = max(1, batch or DEFAULT_BATCH)
    cache: dict[str, dict] = {}
    for start in range(0, len(distinct), size):
        chunk = distinct[start : start + size]
        cond = adapter.encode(pipe, chunk, device) if len(chunk) > 1 else None
        if cond is not None and all(
            isinstance(v, torch.Tensor) and v.ndim >= 1 and v.shape[0] == len(chunk) for v in cond.values()
        ):
            for m, p in enumerate(chunk):
                cache[p] = {k: v[m : m + 1] for k, v in cond.items()}
        else:
            for p in chunk:
                cache[p] = adapter.encode(pipe, [p], device)
    return [cache[p] for p in prompts]


def trajectories(pipe, adapter, conds: list[dict], settings, seeds: list[int], forced=None) -> list[list]:
    """`weditor.models.runtime.trajectory` of each prompt alone, run as one batch: [(component, t, x, pred)] per prompt.

    Every member starts from its own noise and steps on its own prediction; with `forced`, each
    member is fed the latents of its own earlier run."""
    if len(conds) == 1 or not all(_batchable(c) for c in conds):
        return [
            trajectory(pipe, adapter, c, settings, seed=s, forced=None if forced is None else forced[i])
            for i, (c, s) in enumerate(zip(conds, seeds))
        ]
    cond = {k: torch.cat([c[k] for c in conds]) for k in conds[0]}
    first = torch.cat(
        [adapter.latents(pipe, settings.size, torch.Generator("cpu").manual_seed(s), settings.device) for s in seeds]
    )
    scheduler = copy.deepcopy(pipe.scheduler)
    if adapter.set_timesteps is not None:
        adapter.set_timesteps(pipe, scheduler, settings.steps, settings.size, settings.device)
    else:
        scheduler.set_timesteps(settings.steps, device=settings.device)
    x = first
    records: list[list] = [[] for _ in conds]
    for i, t in enumerate(scheduler.timesteps):
        if forced is not None:
            x = torch.cat([f[i][2] for f in forced])
        component = adapter.denoiser_for(pipe, t)
        pred = adapter.forward(getattr(pipe, component), x, t, cond)
        for m, rec in enumerate(records):
            rec.append((component, t, x[m : m + 1], pred[m : m + 1]))
        if forced is None:
            if adapter.step is not None:
                x = adapter.step(scheduler, pred.float(), t, x)
            else:
                x = scheduler.step(pred.float(), t, x, return_dict=False)[0]
    return records


def _out_of_memory(e: BaseException) -> bool:
    return isinstance(e, MemoryError) or "out of memory" in str(e).lower()


def measure(
    pipe,
    adapter,
    keys,
    directions,
    prompts,
    settings,
    strength,
    forced=None,
    readouts=None,
    batch=None,
    conds=None,
    seeds=None,
):
    """Mean projection on r_hat per site (effective input/output of the edited linear) and predictions.

    `conds`: the prompts' encodings (one per prompt, from `encode_once`), else encoded here.
    `batch`: prompts per forward (None: `DEFAULT_BATCH`, halved on out-of-memory).
    `seeds`: each prompt's noise seed (None: seed + 10000 + its index in `prompts`)."""
    r_hat = {k: directions[k][0].to(settings.device) for k in keys}
    # After the edit, measure what the edited linear actually uses: a reading site's tap sees its
    # input, which the edit leaves alone, so the projection is applied here; a writing site's tap
    # already sees the edited output.
    apply_q = forced is not None
    state = {}

    def on_activation(key, x):
        if not all_finite(x):  # name the prompt that failed (a UNet folds frames in member-major)
            rows = x.reshape(len(state["prompts"]), -1)
            for m, prompt in enumerate(state["prompts"]):
                check_finite(key, rows[m], prompt)
        x = x.double()
        p = x @ r_hat[key].double()
        if apply_q and adapter.sites[key.site].role == "reads":
            Q = directions[key].to(settings.device).double()
            ro = readouts.get(key) if readouts else None
            A = Q if ro is None else torch.as_tensor(ro.coef_).to(settings.device).double()
            p = p - strength * (x @ A.T) @ (Q @ r_hat[key].double())
        state["sums"][key][0] += float(p.sum())
        state["sums"][key][1] += p.numel()

    if conds is None:
        conds = encode_once(pipe, adapter, prompts, settings.device, batch)
    if seeds is None:
        seeds = [settings.seed + SEED_OFFSET + i for i in range(len(prompts))]

    def run(part: slice):
        """One batch: its members' records and its own projection sums (added up in batch order below)."""
        state["prompts"], state["sums"] = prompts[part], {k: [0.0, 0] for k in keys}
        recs = trajectories(pipe, adapter, conds[part], settings, seeds[part], None if forced is None else forced[part])
        return recs, state["sums"]

    size = max(1, min(batch or DEFAULT_BATCH, len(prompts)))
    done: list[tuple] = []
    with taps(pipe, adapter, keys) as t:
        t.fn = on_activation
        if distributed.world() > 1:  # batches dealt out to the ranks, every result on every rank, in order
            parts = [slice(i, i + size) for i in range(0, len(prompts), size)]
            done = [
                _unpack(u, pipe, adapter, keys)
                for u in distributed.map_units(lambda part: _pack(*run(part), adapter), parts, settings.device)
            ]
        else:
            start = 0
            while start < len(prompts):
                try:
                    done.append(run(slice(start, start + size)))
                except (RuntimeError, MemoryError) as e:
                    if batch is not None or size == 1 or not _out_of_memory(e):
                        raise
                    size = max(1, size // 2)  # what fits: the default batch, halved until it does
                    if torch.cuda.is_available():
                        torch.cuda.empty_cache()
                    continue
                start += size
    sums = {k: [0.0, 0] for k in keys}
    records: list[list] = []
    for recs, part_sums in done:
        records += recs
        for k, (s, n) in part_sums.items():
            sums[k][0] += s
            sums[k][1] += n
    return {k: s / max(n, 1) for k, (s, n) in sums.items()}, records


def _pack(records, sums, adapter) -> dict:
    """One batch's result as tensors (weditor/models/distributed.py sends them as safetensors)."""
    out = {"sums": torch.tensor([v for k in sorted(sums, key=str) for v in sums[k]], dtype=torch.float64)}
    for m, rec in enumerate(records):
        for s, (component, t, x, pred) in enumerate(rec):
            out[f"{m}.{s}.c"] = torch.tensor([adapter.denoisers.index(component)])
            out[f"{m}.{s}.t"], out[f"{m}.{s}.x"], out[f"{m}.{s}.pred"] = torch.as_tensor(t), x, pred
    return out


def _unpack(unit: dict, pipe, adapter, keys) -> tuple:
    flat = unit["sums"].tolist()
    sums = {k: [flat[2 * i], int(flat[2 * i + 1])] for i, k in enumerate(sorted(keys, key=str))}
    members = sorted({int(name.split(".")[0]) for name in unit if name != "sums"})
    records = []
    for m in members:
        steps = sorted({int(name.split(".")[1]) for name in unit if name.startswith(f"{m}.")})
        records.append(
            [
                (
                    adapter.denoisers[int(unit[f"{m}.{s}.c"])],
                    unit[f"{m}.{s}.t"],
                    unit[f"{m}.{s}.x"],
                    unit[f"{m}.{s}.pred"],
                )
                for s in steps
            ]
        )
    return records, sums


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


def before_after(
    pipe,
    adapter,
    keys,
    directions,
    eval_prompts,
    neutral_prompts,
    settings,
    strength,
    apply_edit,
    readouts=None,
    batch=None,
    meter=None,
    shared=None,
):
    """The summary's four measurements with each prompt encoded once and eval and neutral prompts in
    the same batches: ((proj_eval, rec_eval), (proj_neutral, rec_neutral)) before `apply_edit()`,
    then the same after it (the "after" runs fed the "before" runs' latents), as two pairs each.

    Trajectories of `MEASURE_STEPS` steps, the self-check's (not `settings.steps`, the collection's):
    `shared` ({prompt: (cond, records)}, `Objective.original_runs`) are neutral prompts the self-check
    already ran on the original model; their "before" runs are taken from there, not run again.

    The eval and neutral projections are kept apart by running the two lists as separate calls
    when `keys` (sites to project at) or a REINS `meter` need per-list sums; otherwise both lists
    share batches."""
    settings = replace(settings, steps=MEASURE_STEPS)
    separate = bool(keys) or (meter is not None and meter.result is not None)
    if not separate:
        return _before_after_shared(
            pipe, adapter, eval_prompts, neutral_prompts, settings, strength, apply_edit, batch, shared or {}
        )
    conds = encode_once(pipe, adapter, eval_prompts + neutral_prompts, settings.device, batch)
    conds_eval, conds_neutral = conds[: len(eval_prompts)], conds[len(eval_prompts) :]

    def run(forced_eval, forced_neutral, after: bool):
        if meter is not None:
            meter.phase = "eval_after" if after else "eval_before"
        ev = measure(
            pipe,
            adapter,
            keys,
            directions,
            eval_prompts,
            settings,
            strength,
            forced=forced_eval,
            readouts=readouts if after else None,
            batch=batch,
            conds=conds_eval,
        )
        if meter is not None:
            meter.phase = "neutral_after" if after else "neutral_before"
        ne = measure(
            pipe,
            adapter,
            keys,
            directions,
            neutral_prompts,
            settings,
            strength,
            forced=forced_neutral,
            batch=batch,
            conds=conds_neutral,
        )
        return ev, ne

    before = run(None, None, after=False)
    apply_edit()
    after = run(before[0][1], before[1][1], after=True)
    return before, after


def _before_after_shared(pipe, adapter, eval_prompts, neutral_prompts, settings, strength, apply_edit, batch, shared):
    """`before_after` without sites to project at: eval and neutral prompts in the same batches, the
    neutral prompts found in `shared` not run again before the edit (see `before_after`)."""
    prompts, n_eval = eval_prompts + neutral_prompts, len(eval_prompts)
    seeds = [settings.seed + SEED_OFFSET + i for i in range(n_eval)]
    seeds += [settings.seed + SEED_OFFSET + i for i in range(len(neutral_prompts))]
    reused = {
        i: shared[p]
        for i, p in enumerate(prompts)
        if i >= n_eval and p in shared and len(shared[p][1]) == settings.steps
    }
    own = [i for i in range(len(prompts)) if i not in reused]
    conds: list = [None] * len(prompts)
    for i, cond in zip(own, encode_once(pipe, adapter, [prompts[i] for i in own], settings.device, batch)):
        conds[i] = cond
    records: list = [None] * len(prompts)
    for i, (cond, rec) in reused.items():
        conds[i], records[i] = cond, rec
    if own:
        _, rec = measure(
            pipe,
            adapter,
            [],
            {},
            [prompts[i] for i in own],
            settings,
            strength,
            batch=batch,
            conds=[conds[i] for i in own],
            seeds=[seeds[i] for i in own],
        )
        for i, r in zip(own, rec):
            records[i] = r
    apply_edit()
    proj, after = measure(
        pipe, adapter, [], {}, prompts, settings, strength, forced=records, batch=batch, conds=conds, seeds=seeds
    )
    return ((proj, records[:n_eval]), (proj, records[n_eval:])), ((proj, after[:n_eval]), (proj, after[n_eval:]))


@torch.no_grad()
def apply_in_memory(pipe, edited: dict[str, dict]):
    """Load edited tensors into the live pipeline: it becomes the reference the files must match."""
    for comp, tensors in edited.items():
        model = getattr(pipe, comp)
        for name, value in tensors.items():
            param = get_module(model, name)
            param.copy_(value.to(device=param.device, dtype=param.dtype))


# --------------------------------------------------------------------------- summary


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
    shared = getattr(cfg, "shared_runs", None)  # the self-check's runs of some neutral prompts (pipeline/tuning.py)
    shared = shared() if callable(shared) else shared  # (run again on demand where a recipe carried the self-check)
    before, after = before_after(
        pipe,
        adapter,
        [],
        {},
        prompts,
        neutral,
        settings,
        cfg.strength,
        lambda: apply_in_memory(pipe, edited),
        batch=getattr(cfg, "batch", None),
        shared=shared,
    )
    (_, rec_eval), (_, rec_neutral) = before
    (_, rec_eval2), (_, rec_neutral2) = after
    return {
        "output_change_eval": round(relative_change(rec_eval, rec_eval2), 4),
        "output_change_neutral": round(relative_change(rec_neutral, rec_neutral2), 4),
        "neutral_most_changed": most_changed(neutral, rec_neutral, rec_neutral2),
        "eval_prompts": len(prompts),
        "neutral_prompts": len(neutral),
        "steps": MEASURE_STEPS,
    }
