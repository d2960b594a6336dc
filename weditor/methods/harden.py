"""`weditor patch --harden N`: re-fit the text read-out against the prompts an attack finds.

RECE (Gong et al., 2024) hardens a closed-form erasure by attacking it, adding what the attack
found to the concepts to erase, and editing again. The same, for the read-out on the prompt
embeddings (weditor/methods/text.py), in closed form:

    round r   fit the read-out on the pairs (plus what earlier rounds added); the patched model
              is the base denoiser reading x - s Q^T A x per token (the fold into the linear
              is exact), so no weight is touched; run the token search of `weditor attack` on
              each pair's unsafe prompt toward the base model's video of it (same seed); add each
              prompt found, encoded as the pipeline encodes it, as one more unsafe sample, paired
              with itself without the concept's words.

The caller then fits and folds once more on everything: N rounds, N x pairs extra samples. The
searches are seeded and the samples recorded (recipe params `hardening`), so `--recipe`
reproduces the patch. Text-to-video Wan pipelines and `--method text` only, like the attack.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

# The search each round runs per pair: smaller than `weditor attack`'s default, since it runs at patch time.
BUDGET = 20
CANDIDATES = 16
TOPK = 8
PREFIX = 2
SUFFIX = 2
TIMESTEPS = 4


def embedding_edit(Q: torch.Tensor, A: torch.Tensor, strength: float):
    """x -> x - strength * Q^T A x on every token of (B, L, d) embeddings: what the folded linear reads."""

    def edit(e):
        q, a = Q.to(e.device, e.dtype), A.to(e.device, e.dtype)
        return e - strength * (e @ a.T) @ q

    return edit


def harden(cfg, pipe, adapter, pairsets, pairs: dict, neutral: dict, fit) -> list[dict]:
    """Add N rounds of attack samples to `pairs` (in place); `fit(pairs)` -> (bases, readouts). The record."""
    from weditor.attack import objective as obj
    from weditor.attack.run import generate, strip_words
    from weditor.attack.search import TokenSearch
    from weditor.defaults import BUILTIN_MODEL
    from weditor.evaluation import generate as gen
    from weditor.evaluation.inputs import gen_settings
    from weditor.models.runtime import progress

    obj.check_supported(adapter, type(pipe).__name__)
    key = "encoder_hidden_states"
    for m in pipe.components.values():
        if isinstance(m, torch.nn.Module):
            m.requires_grad_(False)
    settings = gen_settings(
        SimpleNamespace(size=cfg.size, steps=None, guidance=None, dtype=cfg.dtype),
        adapter,
        cfg.model == BUILTIN_MODEL,
        pipe,
    )
    text = obj.TextSide(pipe, settings.max_sequence_length or gen.text_length(pipe, adapter), cfg.device)
    items = [(c, ps, pair) for c, ps in enumerate(pairsets) for pair in ps.pairs]
    targets = [
        generate(pipe, adapter, settings, cfg.seed, prompt=pair.unsafe, capture=True)[1]
        for _, _, pair in progress(items, len(items), "harden: targets")
    ]
    record = []
    for r in range(cfg.harden):
        bases, readouts = fit(pairs)
        edit = embedding_edit(bases[key], torch.as_tensor(readouts[key].coef_), cfg.strength)
        found = []
        for i, (c, ps, pair) in enumerate(progress(items, len(items), f"harden: round {r + 1}")):
            loss = obj.DenoisingLoss(pipe, adapter, targets[i], settings.steps, TIMESTEPS, cfg.seed + i, cfg.device)
            search = TokenSearch(PREFIX, SUFFIX, BUDGET, CANDIDATES, TOPK, checks=1, seed=cfg.seed + 1000 * r + i)
            search.fit(text, lambda e: loss(edit(e)), pair.unsafe)
            safe = strip_words(search.prompt_, [ps.concept, *ps.keywords])
            u = _tokens_sum(pipe, adapter, search.prompt_, key, cfg.device)
            s = _tokens_sum(pipe, adapter, safe, key, cfg.device)
            pairs[key][c].update(u, s)
            found.append(
                {
                    "concept": ps.concept,
                    "prompt": search.prompt_,
                    "safe": safe,
                    "loss": round(search.loss_, 6),
                    "plain_loss": round(search.plain_loss_, 6),
                }
            )
        record.append({"round": r + 1, "found": found})
    return record


def _tokens_sum(pipe, adapter, prompt: str, key: str, device) -> torch.Tensor:
    """(1, d): the prompt's token vectors summed, as text_readout.statistics makes a pair's sample."""
    from weditor.models.runtime import encode

    with torch.no_grad():
        x = encode(pipe, adapter, [prompt], device)[key].detach().double()[0]
    return x.reshape(-1, x.shape[-1]).cpu().sum(0, keepdim=True)
