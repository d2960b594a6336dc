"""The read-out edit on the prompt embeddings (`weditor patch`'s default for pairs without images; `--method text`).

The refusal edit removes a concept from the video tokens, block after block. There it is a
continuous quantity: on the shapes model an orange shape's tokens carry part of "red minus
white", and any linear read-out of red reads some of it (docs/benchmarks.md: orange turns yellow
in 2 of 16 held-out videos, whatever the removal). In the prompt embeddings the same concept is
carried by tokens: "red" and "orange" are different words, and a linear read-out separates them.

So this method fits the read-out of weditor/maths/readout.py on the embeddings the denoiser reads,
and folds `x -> x - strength * Q^T A x` (per token, no intercept: padding that the pipeline
zeroes stays zero) into the linears that read them (weditor/methods/text_fold.py). The text encoder is
untouched, so a prompt embedding made elsewhere (`prompt_embeds=`) passes through the edit too.

What is fitted, per text-embedding space (HunyuanVideo has two: tokens and a pooled vector):

- each prompt is encoded alone, as the pipeline encodes it, all positions included;
- a pair's members differ in length ("a red circle" / "a circle"), so tokens do not pair up;
  a pair is one sample instead, the sum of each member's token vectors: after the edit, the
  unsafe prompt's tokens should sum, along Q, to what the safe prompt's do;
- every token of the safe members and of the neutral prompts should lose nothing;
- Q is the unit mean paired difference of each concept (rows of several concepts need not be
  orthogonal: each row has its own read-out), and the neutral weight per concept is the
  heaviest that still removes `--removal` of the pairs' mean difference.
"""

from __future__ import annotations

import torch

from weditor.errors import WeditorError
from weditor.maths.moments import PairMoments, RunningMoments
from weditor.maths.readout import ConceptReadout

MIN_DIFFERENCE = 1e-6  # a mean paired difference below this share of the unsafe prompts' mean is no concept
# The read-out keeps (d, d) float64 moments of the embeddings: 8 GiB at this width. Cosmos 2.5 concatenates
# every Qwen2.5-VL layer (28 x 3584 = 100,352 wide, 75 GiB): refused in one line rather than run out of memory.
MAX_WIDTH = 32768


def check_width(pipe, adapter) -> None:
    """One WeditorError where an embedding the read-out would fit is too wide for its (d, d) moments."""
    from weditor.adapters.paths import module_at
    from weditor.methods.text_fold import text_linears

    for (component, key), paths in text_linears(pipe, adapter).items():
        d = module_at(getattr(pipe, component), paths[0]).weight.shape[1]
        if d > MAX_WIDTH:
            raise WeditorError(
                f"--method text: the {key} embeddings {component} reads are {d:,} wide; the read-out's (d, d) "
                f"moments would take {d * d * 8 / 2**30:.0f} GiB: use --method safree, uce or refusal"
            )


def _tokens(cond: dict, key: str) -> torch.Tensor:
    """(positions, d) vectors of the one prompt in `cond` (a pooled embedding is one position)."""
    x = cond[key].detach().double()[0]
    return x.reshape(-1, x.shape[-1]).cpu()


def statistics(pipe, adapter, pairsets, device: str):
    """({key: [PairMoments per pair file]}, {key: RunningMoments of safe and neutral tokens})."""
    from weditor.io.pairs import neutral_prompts
    from weditor.methods.text_encodes import neutral_units, pair_units
    from weditor.models.runtime import encode, progress

    check_width(pipe, adapter)
    keys = list(adapter.text_inputs())
    pairs: list[dict[str, PairMoments]] = [{} for _ in pairsets]
    neutral: dict[str, RunningMoments] = {}

    items = [(c, pair) for c, ps in enumerate(pairsets) for pair in ps.pairs]

    def by_key(cond) -> dict:
        return {key: _tokens(cond, key) for key in keys}

    def encode_pair(item) -> dict:  # one unit of work (dealt out to the ranks under torchrun)
        _, pair = item
        with torch.no_grad():
            cu = encode(pipe, adapter, [pair.unsafe], device)
            cs = encode(pipe, adapter, [pair.safe], device)
        return {**{f"u.{k}": v for k, v in by_key(cu).items()}, **{f"s.{k}": v for k, v in by_key(cs).items()}}

    def encode_neutral(prompt) -> dict:
        with torch.no_grad():
            return by_key(encode(pipe, adapter, [prompt], device))

    units = pair_units(pipe, adapter, items, device, by_key, encode_pair)
    for (c, _), tokens in zip(items, progress(units, total=len(items), desc="encode pairs")):
        for key in keys:
            u, s = tokens[f"u.{key}"], tokens[f"s.{key}"]
            pairs[c].setdefault(key, PairMoments(u.shape[1])).update(u.sum(0, keepdim=True), s.sum(0, keepdim=True))
        for key in keys:  # the safe member's tokens are neutral ones
            neutral.setdefault(key, RunningMoments(tokens[f"s.{key}"].shape[1])).update(tokens[f"s.{key}"])
    for tokens in neutral_units(pipe, adapter, neutral_prompts(pairsets), device, by_key, encode_neutral):
        for key in keys:
            neutral.setdefault(key, RunningMoments(tokens[key].shape[1])).update(tokens[key])
    return {key: [p[key] for p in pairs] for key in keys}, neutral


def fit(pairs: dict, neutral: dict, pairsets, removal: float):
    """({key: Q (concepts, d)}, {key: ConceptReadout}, {key: [neutral weight per concept]}): one unit
    direction and read-out row per concept, each with the neutral weight its own removal allows."""
    bases, readouts, weights = {}, {}, {}
    for key, per_concept in pairs.items():
        rows, parts = [], []
        for c, (ps, pm) in enumerate(zip(pairsets, per_concept)):
            mean = pm.delta.mean
            if not torch.isfinite(mean).all() or not torch.isfinite(pm.unsafe.mean).all():
                raise WeditorError(f"{ps.path}: the {key} embeddings of concept {ps.concept!r} are NaN/Inf")
            if float(mean.norm()) <= MIN_DIFFERENCE * max(float(pm.unsafe.mean.norm()), 1e-30):
                raise WeditorError(
                    f"{ps.path}: the unsafe and safe prompts of concept {ps.concept!r} give the same "
                    f"{key} embeddings; nothing to remove on the text side"
                )
            q = mean / mean.norm()
            rows.append(q)
            try:
                parts.append(
                    ConceptReadout(removal=removal, fit_intercept=False).fit(
                        q[None], per_concept, neutral[key], calibrate=[c]
                    )
                )
            except ValueError as e:
                raise WeditorError(f"text read-out of the {key} embeddings: {e}") from None
        bases[key] = torch.stack(rows).contiguous()
        readouts[key] = parts[0] if len(parts) == 1 else ConceptReadout.stack(parts)
        weights[key] = [float(p.neutral_weight_) for p in parts]
    return bases, readouts, weights


CARD_NOTE = (
    "a least-squares read-out of the concept, removed from the prompt embeddings the denoiser reads. Prompts "
    "that differ only by the concept give a direction Q in the text-embedding space (their mean difference); "
    "a read-out `A x` of how much of the concept each token carries is fitted so that the unsafe prompts lose "
    "their difference and the safe and neutral prompts lose nothing, and folded into the linear layers that "
    "read the embeddings, `W <- W (I - strength Q^T A)` (the text encoder is unchanged; A is in "
    "`weditor/readout.safetensors`). Closed form: no gradient training."
)


class Text:
    """`--method text`: encode, fit the read-out per text embedding, fold it into the linears that read it."""

    name = "text"

    @staticmethod
    def card_note(params: dict) -> str:
        return CARD_NOTE

    def check(self, cfg, adapter):
        if not adapter.text_inputs():
            raise WeditorError(
                f"--method text: the {adapter.family} adapter declares no linear that reads the text embeddings"
            )

    def fit(self, ctx):
        from weditor.maths.edits import remove_input
        from weditor.methods.base import EditSet, Fitted
        from weditor.methods.text_fold import by_linear_group, fold_input

        cfg, pipe, adapter, phases, pairsets = ctx.cfg, ctx.pipe, ctx.adapter, ctx.phases, ctx.pairsets
        with phases("encode"):
            pairs, neutral = statistics(pipe, adapter, pairsets, cfg.device)
        hardening = None
        if getattr(
            cfg, "harden", 0
        ):  # RECE-style rounds: attack the read-out, add what was found (weditor/methods/harden.py)
            from weditor.methods.harden import harden

            with phases("harden"):
                hardening = harden(
                    cfg, pipe, adapter, pairsets, pairs, neutral, lambda p: fit(p, neutral, pairsets, cfg.removal)[:2]
                )
        with phases("fit"):
            bases, fitted, weights = fit(pairs, neutral, pairsets, cfg.removal)
        pairs = neutral = None  # the moments (d x d per concept) are not needed after the fit
        with phases("edit"):
            edits = EditSet(
                *fold_input(
                    pipe,
                    adapter,
                    ctx.base,
                    bases,
                    lambda w, key: remove_input(w, bases[key], fitted[key].coef_, cfg.strength),
                    "input_readout",
                )
            )
        rows = [
            {
                "embedding": key,
                "concepts": [ps.concept for ps in pairsets],
                "removal": [round(float(r), 4) for r in ro.removal_],
                "neutral_weight": weights[key],
            }
            for key, ro in fitted.items()
        ]
        short = [r["embedding"] for r in rows if min(r["removal"]) < cfg.removal - 1e-3]
        if short:
            ctx.echo(
                f"note: the read-out reaches less than --removal {cfg.removal:g} on the {', '.join(short)} embeddings"
            )
        return Fitted(
            edits,
            by_linear_group(pipe, adapter, bases),
            by_linear_group(pipe, adapter, fitted),
            state={"rows": rows, "hardening": hardening},
        )

    def summarise(self, ctx, fitted) -> dict:
        from weditor.models.measure import output_change

        with ctx.phases("summary"):  # includes loading the edit into the live model
            summary = output_change(ctx.cfg, ctx.pipe, ctx.adapter, ctx.pairsets, ctx.settings, fitted.edits.edited)
        return {"sites": [], "text": fitted.state["rows"], **summary} if summary else summary

    def params(self, ctx, fitted) -> dict:
        from weditor.methods.text_fold import text_input_param

        cfg = ctx.cfg
        params = {
            "method": "text",
            "edit": "readout",
            "removal": cfg.removal,
            "strength": cfg.strength,
            "seed": cfg.seed,
            "steps": cfg.steps,
            "size": list(ctx.settings.size),
            "dtype": cfg.dtype,
            "readouts": fitted.state["rows"],
        }
        if fitted.state["hardening"] is not None:
            params.update(harden=cfg.harden, hardening=fitted.state["hardening"])
        if fitted.folded is not None:
            params.update(
                reins=True,
                reins_layer=cfg.reins_layer,
                reins_strength=cfg.reins_strength,
                reins_layer_resolved=fitted.folded.layer_resolved,
            )
        return {**params, **text_input_param(fitted.edits)}


TEXT = Text()
