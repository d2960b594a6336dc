"""Cheap checks on the loaded pipeline before any activation is collected.

Both catch inputs that would otherwise go through the whole run and end in a confusing
message (or, worse, in a patch that does nothing):

- a pair whose two members the model's tokenizer turns into the *same* tokens (the words that
  differ are unknown to it and become `<unk>`, or are normalised away): the pair carries no
  concept, its activation difference is exactly zero;
- a checkpoint whose weights hold NaN or Inf (any module the pipeline loads: denoisers, text
  encoders, the VAE): every activation downstream, or every decoded frame, is garbage.
"""

from __future__ import annotations

import torch

from weditor.errors import WeditorError
from weditor.maths.finite import all_finite


def tokenizers(pipe) -> list:
    """The pipeline's text tokenizers (`tokenizer`, `tokenizer_2`, ...)."""
    from transformers import PreTrainedTokenizerBase

    components = getattr(pipe, "components", {}) or {}
    return [
        t for n, t in sorted(components.items()) if n.startswith("tokenizer") and isinstance(t, PreTrainedTokenizerBase)
    ]


def check_pairs_tokenize_apart(pipe, pairsets):
    """Every text-only pair's members must differ in the token ids of at least one tokenizer.

    Compared untruncated: a pipeline may pad to more tokens than `model_max_length` says, and
    a difference beyond the length it uses still ends as a zero direction, which the estimator
    reports. Pairs with images are skipped (the images may differ).
    """
    toks = tokenizers(pipe)
    if not toks:
        return
    for ps in pairsets:
        for i, pair in enumerate(ps.pairs, 1):
            if pair.unsafe_image is not None:
                continue
            if all(list(t(pair.unsafe)["input_ids"]) == list(t(pair.safe)["input_ids"]) for t in toks):
                raise WeditorError(
                    f"{ps.path}: pair {i}: 'unsafe' and 'safe' become the same tokens for this model's tokenizer "
                    f"({pair.unsafe!r} / {pair.safe!r}): the words that differ are unknown to it, so the pair "
                    "carries no concept and the patch would do nothing; reword it"
                )


@torch.no_grad()
def check_weights_finite(pipe, components):
    """Every floating-point parameter and buffer of the named components is finite."""
    for comp in components:
        model = getattr(pipe, comp, None)
        if not isinstance(model, torch.nn.Module):
            continue
        for kind, named in (("weight", model.named_parameters()), ("buffer", model.named_buffers())):
            for name, t in named:
                if t.is_floating_point() and not all_finite(t):  # one pass, no temporary (weditor/maths/finite.py)
                    bad = int((~torch.isfinite(t)).sum())
                    raise WeditorError(
                        f"{comp}: {kind} {name} holds {bad} NaN/Inf value(s); the checkpoint is corrupt, nothing was written"
                    )


def run_preflight(pipe, adapter, pairsets):
    from weditor.models.runtime import present_denoisers

    check_pairs_tokenize_apart(pipe, pairsets)
    # Every module the output will load, not only those weditor reads: a NaN in the VAE is copied into the
    # checkpoint untouched and would pass a tensor-for-tensor comparison with the base.
    denoisers = list(present_denoisers(pipe, adapter))
    others = sorted(
        n
        for n, m in (getattr(pipe, "components", {}) or {}).items()
        if isinstance(m, torch.nn.Module) and n not in denoisers
    )
    check_weights_finite(pipe, [*denoisers, *others])
