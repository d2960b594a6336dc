"""The text read-out's encodes, several prompts per text-encoder call (issue 22).

`weditor/methods/text.py` needs every pair member's and every neutral prompt's embedding. Encoded
one prompt at a time they cost most of what the shapes patch spends on the text side (52 calls,
2 ms each on the shapes model; one call of 30 prompts: 5 ms). Every adapter pads prompts to a
fixed length, so a prompt's embedding does not depend on its batch-mates (on the shapes model
the rows are the same bits: `tests/test_text_encodes.py`). Chunks of `CHUNK` prompts keep the
embeddings held at once bounded (Wan: 512 tokens x 4096 x 4 B = 8 MB per prompt), and each
chunk's results are handed on before the next chunk is encoded.

Under torchrun the units stay one prompt (pair) each, dealt out to the ranks
(`weditor.models.distributed.map_units`); image- and video-conditioned adapters are encoded one prompt
at a time as before (their conditioning is not a per-prompt batch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import torch

CHUNK = 32  # prompts per text-encoder call


def batchable(adapter) -> bool:
    """Whether this process may encode several prompts per call (one process, text-only adapter)."""
    from weditor.models import distributed

    return distributed.world() == 1 and not adapter.image_to_video and not adapter.video_input


def encoded(pipe, adapter, prompts: Sequence[str], device, chunk: int = CHUNK) -> Iterator[dict]:
    """Each prompt's cond (batch 1), in order, `chunk` prompts per text-encoder call."""
    from weditor.models.measure import encode_once

    for start in range(0, len(prompts), chunk):
        part = list(prompts[start : start + chunk])
        with torch.no_grad():
            yield from encode_once(pipe, adapter, part, device, batch=chunk)


def pair_units(
    pipe, adapter, items: Sequence, device, tokens: Callable[[dict], dict], one: Callable[[object], dict]
) -> Iterable[dict]:
    """`one(item)` for each (concept, pair) item, computed from batched encodes where `batchable`:
    {"u.KEY": unsafe tokens, "s.KEY": safe tokens} per pair (`tokens(cond)` gives {KEY: tokens})."""
    from weditor.models.distributed import map_units

    if not batchable(adapter):
        return map_units(one, items)
    prompts = [p for _, pair in items for p in (pair.unsafe, pair.safe)]
    conds = encoded(pipe, adapter, prompts, device)

    def gen():
        for _ in items:
            u, s = tokens(next(conds)), tokens(next(conds))
            yield {**{f"u.{k}": v for k, v in u.items()}, **{f"s.{k}": v for k, v in s.items()}}

    return gen()


def neutral_units(
    pipe, adapter, prompts: Sequence[str], device, tokens: Callable[[dict], dict], one: Callable[[str], dict]
) -> Iterable[dict]:
    """`one(prompt)` for each neutral prompt, from batched encodes where `batchable`."""
    from weditor.models.distributed import map_units

    if not batchable(adapter):
        return map_units(one, prompts)
    return (tokens(cond) for cond in encoded(pipe, adapter, prompts, device))
