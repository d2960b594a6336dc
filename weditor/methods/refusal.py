"""The refusal edit (`--method refusal`): low-rank directions of every block's video tokens, removed in closed form.

Collect the paired differences and neutral activations at each edit site, fit a contrastive PCA
per site (weditor/maths/directions.py) and, for the read-out edit, a read-out of the concept along
it (weditor/maths/readout.py), then edit each site's linear from the checkpoint's own tensors
(weditor/maths/edits.py). `--method reins` alone is this path with no refusal edit and the REINS
fold on top (weditor/methods/reins.py); its summary is this one's.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import torch

from weditor.defaults import MEASURE_STEPS
from weditor.errors import WeditorError
from weditor.io.checkpoint import BaseModel, read_tensors, tensor_locations
from weditor.io.pairs import neutral_prompts as pairs_neutral_prompts
from weditor.io.tensors import tensor_sha256
from weditor.maths.directions import RefusalDirection, ZeroDirectionError, _orthonormal_rows
from weditor.maths.edits import remove_input, remove_output
from weditor.maths.readout import ConceptReadout
from weditor.methods import reins as reins_fold
from weditor.methods.base import EditSet, Fitted
from weditor.methods.refusal_collect import collect, site_keys, site_width
from weditor.models.measure import apply_in_memory, before_after, eval_prompts, most_changed, relative_change
from weditor.models.runtime import (
    Settings,
    present_denoisers,
    site_modules,
)


def fit_directions(delta, neutral, keys, pairsets, cfg, widths, require: bool = True):
    """Orthonormal directions per site (all concepts together), the fitted estimators, and the skips.

    A site where a concept leaves no direction (the pairs do not differ there yet, e.g. before
    the first cross-attention, or the concept varies less than neutral prompts do) is skipped
    for that concept rather than failing the patch: `--layers` defaults to every block, and
    not every block carries every concept. A concept skipped at every site is an error (with
    `require`; `fit_sites` checks it once over all sites).
    """
    directions, estimators, skipped = {}, {}, []
    for key in keys:
        rows = []
        for ps in pairsets:
            rank = cfg.rank
            if rank is not None and rank > widths[key]:
                if cfg.rank_explicit:
                    raise WeditorError(f"--rank {rank}: larger than the width {widths[key]} of {key}")
                rank = widths[key]
            est = RefusalDirection(n_components=cfg.directions, rank=rank, alpha=cfg.alpha)
            try:
                est.fit(delta[ps.concept][key], neutral[key])
            except ZeroDirectionError as e:
                skipped.append({"concept": ps.concept, "site": str(key), "reason": str(e)})
                continue
            except ValueError as e:
                raise WeditorError(f"concept {ps.concept!r} at {key}: {e}") from None
            estimators[(ps.concept, key)] = est
            rows += list(torch.as_tensor(est.components_))
        if rows:
            directions[key] = _orthonormal_rows(rows)  # several concepts: one orthonormal basis
    if require:
        require_every_concept(estimators, skipped, keys, pairsets, cfg)
    return directions, estimators, skipped


def require_every_concept(estimators, skipped, keys, pairsets, cfg):
    for ps in pairsets:
        if not any(c == ps.concept for c, _ in estimators):
            first = next(s for s in skipped if s["concept"] == ps.concept)
            hint = f"; try a lower --alpha than {cfg.alpha:g}" if "positive eigenvalue" in first["reason"] else ""
            raise WeditorError(
                f"concept {ps.concept!r}: no direction at any of the {len(keys)} sites "
                f"(e.g. {first['site']}: {first['reason']}){hint}"
            )


def fit_sites(delta, neutral, paired, keys, pairsets, cfg, widths, adapter):
    """`fit_directions` and `fit_readouts` site by site: (directions, estimators, skips, read-outs or None).

    Each site's d x d sums are formed for its fit and dropped after it (weditor/maths/moments.py:
    while a site saw fewer tokens than its width they are kept as the tokens), so at most one
    site's sums are held at a time instead of all of them (30 x 4 x 1536^2 float64 = 2.1 GiB at
    Wan2.1-1.3B). Sites are independent: the same fits, in the same arithmetic, as all at once.
    """
    directions, estimators, skipped, readouts = {}, {}, [], {} if paired else None
    for key in keys:
        d, e, s = fit_directions(delta, neutral, [key], pairsets, cfg, widths, require=False)
        directions.update(d)
        estimators.update(e)
        skipped += s
        if paired:
            readouts.update(fit_readouts(d, e, paired, neutral, adapter, cfg))
        for by_key in (delta, paired or {}):
            for moments in by_key.values():
                moments[key].release()
        neutral[key].release()
    require_every_concept(estimators, skipped, keys, pairsets, cfg)
    return directions, estimators, skipped, readouts


def fit_readouts(directions, estimators, pairs, neutral, adapter, cfg) -> dict:
    """{site: ConceptReadout} for the read-out edit, fitted on the concepts that have a direction there.

    Each concept's rows of Q get their own neutral weight, the heaviest its own removal allows
    (fitted jointly, the concept hardest to remove would set a light one for all), fitted on
    every concept's pairs; when Gram-Schmidt merged rows of several concepts, they share one. A
    writing site fits the intercept (it folds into the bias); a reading one does not.
    """
    readouts = {}
    for key, Q in directions.items():
        concepts = [c for (c, k) in estimators if k == key]
        intercept = adapter.sites[key.site].role == "writes"
        per = len(Q) // max(len(concepts), 1)
        groups = (
            [(slice(i * per, (i + 1) * per), [i]) for i in range(len(concepts))]
            if per * len(concepts) == len(Q) and per == cfg.directions
            else [(slice(None), None)]
        )
        data = [pairs[c][key] for c in concepts]
        try:
            parts = [
                ConceptReadout(removal=cfg.removal, fit_intercept=intercept).fit(
                    Q[rows], data, neutral[key], calibrate=which
                )
                for rows, which in groups
            ]
        except ValueError as e:
            raise WeditorError(f"read-out at {key}: {e}") from None
        readouts[key] = parts[0] if len(parts) == 1 else ConceptReadout.stack(parts)
    return readouts


# --------------------------------------------------------------------------- edits


def compute_edits(pipe, adapter, base: BaseModel, directions, strength: float, readouts: dict | None = None):
    """{component: {tensor name: edited tensor in the checkpoint's dtype}} from the files on disk.

    With `readouts` (site -> fitted `ConceptReadout`), the read-out edit; otherwise the projection.
    """
    edited: dict[str, dict] = {}
    locations: dict[str, dict[str, str]] = {}
    entries = []
    for key, Q in directions.items():
        comp = key.component
        if comp not in locations:
            locations[comp] = tensor_locations(base.folder, comp)
        role = adapter.sites[key.site].role
        for path, _ in site_modules(pipe, adapter, key):
            names = [f"{path}.weight"] + ([f"{path}.bias"] if role == "writes" else [])
            for n in names:
                if n not in locations[comp]:
                    raise WeditorError(f"{base.folder}/{comp}: tensor {n} not found in the checkpoint")
            originals = read_tensors(base.folder, {n: locations[comp][n] for n in names if n in locations[comp]})
            w = originals[f"{path}.weight"]
            ro = readouts.get(key) if readouts is not None else None
            coef = None if ro is None else torch.as_tensor(ro.coef_)
            intercept = None if ro is None else torch.as_tensor(ro.intercept_)
            if role == "reads":
                new = {f"{path}.weight": remove_input(w, Q, coef, strength)}
                kind = "input_projection" if ro is None else "input_readout"
            else:
                nw, nb = remove_output(w, originals[f"{path}.bias"], Q, coef, intercept, strength)  # checked above
                new = {f"{path}.weight": nw}
                if nb is not None:
                    new[f"{path}.bias"] = nb
                kind = "output_projection" if ro is None else "output_readout"
            edited.setdefault(comp, {}).update(new)
            for name, tensor in new.items():
                entries.append(
                    {
                        "component": comp,
                        "tensor": name,
                        "file": locations[comp][name],
                        "kind": kind,
                        "rank": int(Q.shape[0]),
                        "sha256_before": tensor_sha256(originals[name]),
                        "sha256_after": tensor_sha256(tensor),
                    }
                )
    return edited, locations, entries


def summarise(
    pipe, adapter, keys, directions, estimators, widths, pairsets, settings, cfg, edited, meter, readouts=None
) -> dict:
    """Load the edit into the live pipeline, with before/after figures around it when `cfg.summary`.

    The "after" runs are fed the "before" runs' latents step by step, so the relative output
    change measures the edit, not a diverging trajectory. Forwards: 2 x (eval + neutral prompts)
    / `cfg.batch` per step.
    """
    if not cfg.summary:
        apply_in_memory(pipe, edited)
        return {}
    prompts = eval_prompts(pairsets)
    neutral_prompts = pairs_neutral_prompts(pairsets)
    before, after = before_after(
        pipe,
        adapter,
        keys,
        directions,
        prompts,
        neutral_prompts,
        settings,
        cfg.strength,
        lambda: apply_in_memory(pipe, edited),
        readouts=readouts,
        batch=getattr(cfg, "batch", None),
        meter=meter,
    )
    (proj_eval, rec_eval), (proj_neutral, rec_neutral) = before
    (after_eval, rec_eval2), (_, rec_neutral2) = after
    summary = {
        "sites": [
            {
                "site": str(k),
                "width": widths[k],
                "rank": int(directions[k].shape[0]),
                "retained_norm": round(min(est.retained_norm_ for (c, kk), est in estimators.items() if kk == k), 4),
                "proj_eval_before": round(proj_eval[k], 4),
                "proj_neutral_before": round(proj_neutral[k], 4),
                "proj_eval_after": round(after_eval[k], 4),
                **(
                    {
                        "removal": round(float(readouts[k].removal_.min()), 4),
                        "neutral_weight": float(f"{readouts[k].neutral_weight_:.4g}"),
                    }
                    if readouts
                    else {}
                ),
            }
            for k in keys
        ],
        "output_change_eval": round(relative_change(rec_eval, rec_eval2), 4),
        "output_change_neutral": round(relative_change(rec_neutral, rec_neutral2), 4),
        "neutral_most_changed": most_changed(neutral_prompts, rec_neutral, rec_neutral2),
        "eval_prompts": len(prompts),
        "neutral_prompts": len(neutral_prompts),
        "steps": MEASURE_STEPS,
    }
    if meter.result is not None:  # a REINS fold: projections on its direction too
        summary["reins"] = meter.summary()
    return summary


def recipe_params(cfg, settings: Settings, pipe, adapter, keys, folded) -> dict:
    """Every hyper-parameter that took part, resolved (site, blocks), and none that did not."""
    params = asdict(cfg)
    params.pop("safree_pool")  # method "safree" writes its own recipe (weditor/methods/safree.py)
    for k in (
        "uce_tokens",
        "uce_substitute",
        "uce_preserve",
        "uce_lambda",
        "uce_rounds",
        "encoder_preserve",
        "encoder_lambda",
        "encoder_layers",
        "encoder_weights",
        "units",
        "units_preserve",
        "units_silence",
    ):  # and methods "uce" (weditor/methods/uce.py) and "encoder" (weditor/methods/encoder.py)
        params.pop(k)
    for k in (
        "pairs",
        "out",
        "model",
        "revision",
        "overwrite",
        "device",
        "summary",
        "rank_explicit",
        "link",
        "push_to_hub",
        "offload",
        "allow_pickle",
        "tune",
        "pinned",
        "card",
        "batch",
        "twins",  # recorded where it is not "pair" (weditor/pipeline/run.py)
    ):
        params.pop(k)
    params["size"] = list(settings.size)
    if cfg.uses_refusal:
        params["site"] = cfg.site or adapter.default_site
        params["layers_resolved"] = {
            c: sorted({k.block for k in keys if k.component == c}) for c in present_denoisers(pipe, adapter)
        }
        if cfg.edit != "readout":
            params.pop("removal")
        if cfg.rank is None:
            params.pop("alpha")  # the plain mean difference: no subspace, so no neutral weight in it
    else:  # the refusal edit's hyper-parameters did not take part
        for k in ("layers", "site", "rank", "alpha", "strength", "directions", "edit", "removal", "neutral"):
            params.pop(k)
    if folded is not None:
        params["reins_layer_resolved"] = folded.layer_resolved
    else:
        params.pop("reins_layer")
        params.pop("reins_strength")
    return params


# --------------------------------------------------------------------------- the method (weditor/methods/base.py)

_REFUSAL_NOTE = (
    'a low-rank refusal vector (after Facchiano et al., "Video Unlearning via Low-Rank Refusal Vector"). '
    "Per-token activation differences between prompts that differ only by the concept, under the same "
    "noise, give a concept direction Q per edited layer; "
)
CARD_NOTES = {
    "projection": _REFUSAL_NOTE
    + (
        "kept within a low-rank subspace that discounts the variance of neutral prompts, each edited linear layer "
        "is then projected so that it no longer reads along that direction, `W <- W (I - strength Q^T Q)`, or no "
        "longer writes along it into the residual stream, `W <- (I - strength Q^T Q) W` (the edited sites are "
        "listed below). Closed form: no gradient training."
    ),
    "readout": _REFUSAL_NOTE
    + (
        "each edited linear layer then removes, along Q, a least-squares read-out `A x + a` of how much of the "
        "concept a token carries (fitted so that the unsafe prompts lose their difference and the safe and "
        "neutral prompts lose nothing): `W <- W (I - strength Q^T A)` on a layer that reads the residual stream, "
        "`W <- (I - strength Q^T A) W`, `b <- (I - strength Q^T A) b - strength Q^T a` on one that writes into it "
        "(the edited sites are listed below; A and a are in `weditor/readout.safetensors`). Closed form: no "
        "gradient training."
    ),
}


class Refusal:
    """`--method refusal`: collect at every edit site, fit directions (and read-outs), edit each site's linear."""

    name = "refusal"

    @staticmethod
    def card_note(params: dict) -> str | None:
        return CARD_NOTES.get(params.get("edit"))

    def check(self, cfg, adapter):
        pass  # every adapter declares its edit sites

    def fit(self, ctx) -> Fitted:
        cfg, pipe, adapter, phases, echo = ctx.cfg, ctx.pipe, ctx.adapter, ctx.phases, ctx.echo
        keys = site_keys(pipe, adapter, cfg)
        widths = {k: site_width(pipe, adapter, k) for k in keys}
        with phases("collect"):
            delta, neutral, paired = collect(
                pipe, adapter, keys, ctx.pairsets, ctx.settings, phases, cfg.neutral, paired=cfg.edit == "readout"
            )
        with phases("fit"):
            directions, estimators, skipped, readouts = fit_sites(
                delta, neutral, paired, keys, ctx.pairsets, cfg, widths, adapter
            )
        del delta, neutral, paired  # the moments (d x d per site and concept) are not needed after the fit
        for concept in dict.fromkeys(s["concept"] for s in skipped):
            sites = [s["site"] for s in skipped if s["concept"] == concept]
            echo(
                f"note: concept {concept!r} has no direction at {len(sites)} of {len(keys)} sites, left unedited: "
                f"{', '.join(sites)}"
            )
        short = {
            str(k): float(ro.removal_.min())
            for k, ro in (readouts or {}).items()
            if float(ro.removal_.min()) < cfg.removal - 1e-3
        }
        if short:  # even with (almost) no weight on the neutral prompts the pairs cannot give that much
            echo(
                f"note: the read-out reaches less than --removal {cfg.removal:g} at {len(short)} of {len(readouts)} sites "
                f"(lowest {min(short.values()):.3f}): " + ", ".join(short)
            )
        keys = [k for k in keys if k in directions]
        with phases("edit"):
            edits = EditSet(*compute_edits(pipe, adapter, ctx.base, directions, cfg.strength, readouts))
        return Fitted(
            edits,
            directions,
            readouts,
            state={"keys": keys, "widths": widths, "estimators": estimators},
            extra={"skipped_sites": skipped},
        )

    def summarise(self, ctx, fitted: Fitted) -> dict:
        """The projections at every edited site (and on the REINS direction, when folded), before and after."""
        meter = reins_fold.Meter(ctx.pipe, ctx.adapter, fitted.folded)  # inert without a fold
        t0 = time.perf_counter()
        s = fitted.state
        summary = summarise(
            ctx.pipe,
            ctx.adapter,
            s["keys"],
            fitted.directions,
            s["estimators"],
            s["widths"],
            ctx.pairsets,
            ctx.settings,
            ctx.cfg,
            fitted.edits.edited,
            meter,
            fitted.readouts,
        )
        meter.close()
        ctx.phases.add("summary", time.perf_counter() - t0)  # includes loading the edit into the live model
        return summary

    def params(self, ctx, fitted: Fitted) -> dict:
        return recipe_params(ctx.cfg, ctx.settings, ctx.pipe, ctx.adapter, fitted.state["keys"], fitted.folded)


class ReinsOnly(Refusal):
    """`--method reins`: no refusal edit; the REINS fold (added by the pipeline) is the whole patch."""

    name = "reins"

    @staticmethod
    def card_note(params: dict) -> str | None:
        return None

    def fit(self, ctx) -> Fitted:
        return Fitted(EditSet(), state={"keys": [], "widths": {}, "estimators": {}}, extra={"skipped_sites": []})


REFUSAL = Refusal()
REINS_ONLY = ReinsOnly()
