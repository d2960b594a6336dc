"""Prototype: repurpose k hidden units of the text encoder's last gated FFN for a conjunction (issue 19).

Transformer-Patcher ("one mistake worth one neuron", Huang et al. ICLR 2023) in a stock-loadable shape: the k
units of `encoder.block[-1].layer[1].DenseReluDense` whose removal moves the kept prompts' outputs least are
refitted (their rows of wi_0 / wi_1 and their columns of wo, nothing else) by a seeded float64 gradient fit so
that the unsafe prompts' real tokens reach their safe twins' pre-norm residuals (the targets of --method
encoder) while the kept prompts' tokens (twins, neutral prompts: the parts) keep theirs, plus a penalty that
keeps the units' gates silent on the kept tokens. Then the quick set of scripts/uce_quick_check.py is
generated, with the conjunction's parts reported apart (scripts/conjunction_quick_check.py).

    python scripts/encoder_units_prototype.py red-square '[{"k": 4, "preserve": 10, "silence": 1}]'
    python scripts/encoder_units_prototype.py red-square '[...]' --no-videos   # fit figures only
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from weditor.io.pairs import load_pairsets
from weditor.methods import encoder_units
from weditor.models.loading import load_base
from weditor.shapes import load_pipeline

HERE = Path(__file__).resolve().parent
_src = (HERE / "conjunction_quick_check.py").read_text().replace('\nif __name__ == "__main__":\n    main()\n', "\n")
cqc = type(sys)("conjunction_quick_check")
cqc.__file__ = str(HERE / "conjunction_quick_check.py")
exec(compile(_src, str(HERE / "conjunction_quick_check.py"), "exec"), cqc.__dict__)
uqc = cqc.uqc


def _is_concept(concept, a):
    colour, shape = concept.split("-")
    return a[0] == colour and a[1] == shape


uqc.is_concept = _is_concept  # any colour-shape conjunction


def main():
    concept, grid = sys.argv[1], json.loads(sys.argv[2])
    videos = "--no-videos" not in sys.argv
    colour, shape = concept.split("-")
    ps = load_pairsets([str(HERE.parent / "pairs" / f"shapes-{concept}.toml")])[0]
    _, adapter = load_base("weditor:shapes", None)
    pipe = load_pipeline()
    enc = pipe.text_encoder
    orig = {n: p.detach().clone() for n, p in enc.named_parameters()}
    if videos:
        base, base_videos = uqc.score(concept, ps, pipe, "base")
        keep = uqc.keep_prompts(concept)
        row = {"shown": base["erase"], "synonyms": base["synonyms"], **cqc.parts(base_videos, keep, colour, shape)}
        print("original", json.dumps(row), flush=True)
    data = encoder_units.read_fit_data(pipe, adapter, [ps], ps.neutral)
    for opts in grid:
        params = encoder_units.UnitsParams(**opts)
        t = time.time()
        with torch.no_grad():
            for n, p in enc.named_parameters():
                p.copy_(orig[n])
        W = encoder_units.base_weights(enc)
        fit = encoder_units.UnitsFit(params).fit(W, data)
        secs = time.time() - t
        with torch.no_grad():
            for name, w in fit.weights_.items():
                dict(enc.named_parameters())[name].copy_(w.to(torch.float32))
        out = {"fit": fit.summary_, "fit_s": round(secs, 2)}
        if videos:
            r, v = uqc.score(concept, ps, pipe, "patched")
            out.update(
                {
                    "shown": r["erase"],
                    "synonyms": r["synonyms"],
                    **cqc.parts(v, keep, colour, shape),
                    "pixel": round(float(np.abs(v - base_videos).mean()), 4),
                }
            )
        print(json.dumps(opts), json.dumps(out, default=float), flush=True)


if __name__ == "__main__":
    main()
