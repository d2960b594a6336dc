"""The read-out edit on the prompt embeddings (`weditor patch`'s default for pairs without images; `--method text`).

The refusal edit removes a concept from the video tokens, block after block. There it is a
continuous quantity: on the shapes model an orange shape's tokens carry part of "red minus
white", and any linear read-out of red reads some of it (docs/benchmarks.md: orange turns yellow
in 2 of 16 held-out videos, whatever the removal). In the prompt embeddings the same concept is
carried by tokens: "red" and "orange" are different words, and a linear read-out separates them.

So this method fits the read-out of weditor/readout.py on the embeddings the denoiser reads,
and folds `x -> x - strength * Q^T A x` (per token, no intercept: padding that the pipeline
zeroes stays zero) into the linears that read them (weditor/text_edits.py). The text encoder is
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
from weditor.moments import PairMoments, RunningMoments
from weditor.readout import ConceptReadout

MIN_DIFFERENCE = 1e-6  # a mean paired difference below this share of the unsafe prompts' mean is no concept


def _tokens(cond: dict, key: str) -> torch.Tensor:
    """(positions, d) vectors of the one prompt in `cond` (a pooled embedding is one position)."""
    x = cond[key].detach().double()[0]
    return x.reshape(-1, x.shape[-1]).cpu()


def statistics(pipe, adapter, pairsets, device: str):
    """({key: [PairMoments per pair file]}, {key: RunningMoments of safe and neutral tokens})."""
    from weditor.collect import encode, progress
    from weditor.pairs import neutral_prompts
    from weditor.text_encodes import neutral_units, pair_units

    keys = list(adapter.text_inputs())
    pairs: list[dict[str, PairMoments]] = [{} for _ in pairsets]
    neutral: dict[str, RunningMoments] = {}

    items = [(c, pair) for c, ps in enumerate(pairsets) for pair in ps.pairs]

    def encode_pair(item) -> dict:  # one unit of work (dealt out to the ranks under torchrun)
        _, pair = item
        with torch.no_grad():
            cu = encode(pipe, adapter, [pair.unsafe], device)
            cs = encode(pipe, adapter, [pair.safe], device)
        return {**{f"u.{key}": _tokens(cu, key) for key in keys}, **{f"s.{key}": _tokens(cs, key) for key in keys}}

    def encode_neutral(prompt) -> dict:
        with torch.no_grad():
            cond = encode(pipe, adapter, [prompt], device)
        return {key: _tokens(cond, key) for key in keys}

    def by_key(cond):
        return {key: _tokens(cond, key) for key in keys}

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
                raise WeditorError(f"{ps.path}: the unsafe and safe prompts of concept {ps.concept!r} give the same "
                                   f"{key} embeddings; nothing to remove on the text side")
            q = mean / mean.norm()
            rows.append(q)
            try:
                parts.append(ConceptReadout(removal=removal, fit_intercept=False).fit(q[None], per_concept, neutral[key],
                                                                                     calibrate=[c]))
            except ValueError as e:
                raise WeditorError(f"text read-out of the {key} embeddings: {e}") from None
        bases[key] = torch.stack(rows).contiguous()
        readouts[key] = parts[0] if len(parts) == 1 else ConceptReadout.stack(parts)
        weights[key] = [float(p.neutral_weight_) for p in parts]
    return bases, readouts, weights


def run_text_readout(cfg, echo=print):
    """`weditor patch --method text`: encode, fit, fold, then the shared write / verify path."""
    import time

    from weditor.edits import remove_input
    from weditor.pairs import load_pairsets
    from weditor.patching import Phases, load_base, open_pipeline
    from weditor.text_edits import by_linear_group, fold_input, output_change, publish

    t_start, phases = time.perf_counter(), Phases(cfg.device)
    pairsets = load_pairsets(cfg.pairs)
    base, adapter = load_base(cfg.model, cfg.revision, getattr(cfg, "allow_pickle", False))
    if not adapter.text_inputs():
        raise WeditorError(f"--method text: the {adapter.family} adapter declares no linear that reads the text embeddings")
    if cfg.reins:
        from weditor.reins import refuse_unless_foldable

        refuse_unless_foldable(adapter)
    base, out_dir, pipe, settings = open_pipeline(cfg, pairsets, base, adapter, offload=cfg.offload, phases=phases)
    with phases("encode"):
        pairs, neutral = statistics(pipe, adapter, pairsets, cfg.device)
    hardening = None
    if getattr(cfg, "harden", 0):  # RECE-style rounds: attack the read-out, add what was found (weditor/harden.py)
        from weditor.harden import harden

        with phases("harden"):
            hardening = harden(cfg, pipe, adapter, pairsets, pairs, neutral,
                               lambda p: fit(p, neutral, pairsets, cfg.removal)[:2])
    with phases("fit"):
        bases, fitted, weights = fit(pairs, neutral, pairsets, cfg.removal)
    del pairs, neutral  # the moments (d x d per concept) are not needed after the fit
    with phases("edit"):
        edited, locations, entries = fold_input(
            pipe, adapter, base, bases, lambda w, key: remove_input(w, bases[key], fitted[key].coef_, cfg.strength),
            "input_readout")
    folded = None
    if cfg.reins:  # on the unedited model, as with the refusal edit: the summary loads both edits after
        from weditor import reins as reins_fold

        with phases("reins"):
            folded = reins_fold.fold(pipe, adapter, base, pairsets, settings,
                                     reins_fold.reins_blocks(pipe, adapter, cfg.reins_layer), cfg.reins_strength,
                                     edited, locations, entries)
    rows = [{"embedding": key, "concepts": [ps.concept for ps in pairsets],
             "removal": [round(float(r), 4) for r in ro.removal_], "neutral_weight": weights[key]}
            for key, ro in fitted.items()]
    short = [r["embedding"] for r in rows if min(r["removal"]) < cfg.removal - 1e-3]
    if short:
        echo(f"note: the read-out reaches less than --removal {cfg.removal:g} on the {', '.join(short)} embeddings")
    with phases("summary"):  # includes loading the edit into the live model
        summary = output_change(cfg, pipe, adapter, pairsets, settings, edited)
    if summary:
        summary = {"sites": [], "text": rows, **summary}
    params = {"method": "text", "edit": "readout", "removal": cfg.removal, "strength": cfg.strength, "seed": cfg.seed,
              "steps": cfg.steps, "size": list(settings.size), "dtype": cfg.dtype, "readouts": rows}
    if hardening is not None:
        params.update(harden=cfg.harden, hardening=hardening)
    if folded is not None:
        params.update(reins=True, reins_layer=cfg.reins_layer, reins_strength=cfg.reins_strength,
                      reins_layer_resolved=folded.layer_resolved)
    return publish(cfg, base, adapter, pipe, settings, out_dir, pairsets, "text+reins" if folded else "text", params,
                   edited, locations, entries, summary, by_linear_group(pipe, adapter, bases),
                   by_linear_group(pipe, adapter, fitted), phases=phases, t_start=t_start, folded=folded)
