"""Quick check of in-memory UCE-style token maps on a conjunction pair file (a development aid).

Like scripts/uce_quick_check.py (whose prompt sets and cached original videos it reuses), but it
reports a conjunction's parts separately: "C elsewhere" (the colour on the other shapes: colour
accuracy), "S elsewhere" (the shape in the other colours: colour and shape accuracy) and the rest.
Each grid entry is `weditor.methods.kv_edit.KVParams` fields plus `site`:

- `kv`: the map on what every block's attn2.to_k / to_v reads (`--method uce` as shipped);
- `te`: the same closed form on the text encoder's output, folded into the condition embedder's
  first linear (`condition_embedder.text_embedder.linear_1`), where Wan's zeroed padding drops out
  of the moments and the conjunction is most separable (scripts/conjunction_probe.py). For this
  measurement only: the `te` map is computed by swapping kv_edit's two read functions in memory.

    python scripts/conjunction_quick_check.py red-square '[{"site": "te", "preserve_scale": 10, "lam": 0.01}]'
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

from weditor.io.pairs import load_pairsets
from weditor.methods import kv_edit
from weditor.models.loading import load_base
from weditor.models.measure import apply_in_memory
from weditor.shapes import load_pipeline

HERE = Path(__file__).resolve().parent
_src = (HERE / "uce_quick_check.py").read_text().replace("\nmain()\n", "\n")
uqc = type(sys)("uce_quick_check")
exec(compile(_src, str(HERE / "uce_quick_check.py"), "exec"), uqc.__dict__)


def parts(videos, keep, colour, shape):
    attrs = [uqc.attrs_of(v) for v in videos]
    groups = {
        "C elsewhere": lambda t: t[0] == colour,
        "S elsewhere": lambda t: t[1] == shape,
        "rest": lambda t: t[0] != colour and t[1] != shape,
    }
    out = {}
    for name, f in groups.items():
        rows = [(a, t) for a, (_, t) in zip(attrs, keep) if f(t)]
        out[name] = {
            "n": len(rows),
            "colour": round(100 * np.mean([a[0] == t[0] for a, t in rows]), 1),
            "shape": round(100 * np.mean([a[1] == t[1] for a, t in rows]), 1),
        }
    return out


def main():
    concept, grid = sys.argv[1], json.loads(sys.argv[2])
    colour, shape = concept.split("-")
    ps = load_pairsets([str(HERE.parent / "pairs" / f"shapes-{concept}.toml")])[0]
    _, adapter = load_base("weditor:shapes", None)
    pipe = load_pipeline()
    orig = {n: p.detach().clone() for n, p in pipe.transformer.named_parameters()}
    base, base_videos = uqc.score(concept, ps, pipe, "base")
    keep = uqc.keep_prompts(concept)
    print(
        "original",
        json.dumps({"shown": base["erase"], "synonyms": base["synonyms"], **parts(base_videos, keep, colour, shape)}),
        flush=True,
    )
    kv_inputs, kv_linears = kv_edit.kv_inputs, kv_edit.kv_linears
    for opts in grid:
        site = opts.pop("site", "kv")
        if site == "te":
            kv_edit.kv_inputs = lambda pipe, adapter, c, cond: cond["encoder_hidden_states"].detach().double()[0].cpu()
            kv_edit.kv_linears = lambda pipe, adapter: {"transformer": ["condition_embedder.text_embedder.linear_1"]}
        else:
            kv_edit.kv_inputs, kv_edit.kv_linears = kv_inputs, kv_linears
        params = kv_edit.KVParams(**opts)
        stats = kv_edit.statistics(pipe, adapter, [ps], ps.neutral, params.tokens, substitute=params.substitute)
        with torch.no_grad():
            for n, p in pipe.transformer.named_parameters():
                p.copy_(orig[n])
            apply_in_memory(pipe, kv_edit.edit_in_memory(pipe, adapter, [ps], params=params, stats=stats))
        r, videos = uqc.score(concept, ps, pipe, "patched")
        print(
            site,
            json.dumps(opts),
            json.dumps(
                {
                    "shown": r["erase"],
                    "synonyms": r["synonyms"],
                    **parts(videos, keep, colour, shape),
                    "pixel": round(float(np.abs(videos - base_videos).mean()), 4),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
