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
    python scripts/encoder_units_prototype.py red-square '[...]' --probe   # token moves on every world caption
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from weditor.io.pairs import load_pairsets
from weditor.methods import encoder_units
from weditor.methods.encoder_edit import targets
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


def probe_rows(pipe, adapter, concept):
    """Every caption of the world (colour x shape x motion x template; synonyms of the concept's colour too),
    read once: {group: [(x, r)]}, the concept's held-out captions with their twins' (x, r) for the targets."""
    import itertools

    from weditor.shapes import world

    colour, shape = concept.split("-")
    groups = {"concept": [], "synonyms": [], "colour elsewhere": [], "shape elsewhere": [], "rest": []}
    for c, s, m, t in itertools.product(list(world.COLORS), world.SHAPES, world.MOTIONS, range(4)):
        cap = world.caption(None if c == "white" else c, s, m, t)
        x, r, _ = encoder_units.read(pipe, adapter, cap)
        if c == colour and s == shape:
            twin = world.caption(None, s, m, t)
            xs, rs, _ = encoder_units.read(pipe, adapter, twin)
            groups["concept"].append((cap, x, r, twin, xs, rs))
            for syn in world.SYNONYMS.get(colour, ()):
                cap2 = world.caption(c, s, m, t, synonyms={colour: syn})
                x2, r2, _ = encoder_units.read(pipe, adapter, cap2)
                groups["synonyms"].append((cap2, x2, r2, twin, xs, rs))
        else:
            g = "colour elsewhere" if c == colour else "shape elsewhere" if s == shape else "rest"
            groups[g].append((cap, x, r))
    return groups


def probe(pipe, adapter, groups, W, new):
    """Per group: the concept's remaining distance to its twin (aligned tokens, relative), and for the kept
    captions the largest and the mean token move ||z' - z|| against the concept's mean ||z - t|| per token."""
    act = encoder_units.ACTS[W["_act"]]
    names = [n for n in W if not n.startswith("_")]

    def z(weights, x, r):
        wi0, wi1, wo = (weights[n].double() for n in names)
        return r + encoder_units.hidden(x, wi0, wi1, act) @ wo.T

    out, scale = {}, None
    for g in ("concept", "synonyms"):
        before = after = 0.0
        for cap, x, r, twin, xs, rs in groups[g]:
            pos = targets(pipe, cap, twin, 512, encoder_units.DELETED)
            iu, js = torch.tensor([i for i, _ in pos]), torch.tensor([j for _, j in pos])
            t = z(W, xs, rs)[js]
            before += float(((z(W, x, r)[iu] - t) ** 2).sum(1).sqrt().mean())
            after += float(((z(new, x, r)[iu] - t) ** 2).sum(1).sqrt().mean())
        if groups[g]:
            out[g] = round(after / before, 3)
            scale = scale or before / len(groups[g])
    for g in ("colour elsewhere", "shape elsewhere", "rest"):
        moves = [float(((z(new, x, r) - z(W, x, r)) ** 2).sum(1).sqrt().max()) / scale for _, x, r in groups[g]]
        out[g] = {"max": round(max(moves), 3), "mean": round(float(np.mean(moves)), 4)}
    return out


def main():
    concept, grid = sys.argv[1], json.loads(sys.argv[2])
    videos = "--no-videos" not in sys.argv and "--probe" not in sys.argv
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
    if "--lda" in sys.argv:
        encoder_units.GATE_INIT = "lda"
    if "--next" in sys.argv:  # --method encoder's alignment of a deleted word
        encoder_units.DELETED = "next"
    data = encoder_units.read_fit_data(pipe, adapter, [ps], ps.neutral)
    groups = probe_rows(pipe, adapter, concept) if "--probe" in sys.argv else None
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
        out = {"fit": {k: fit.summary_[k] for k in ("distance_to_twin_after", "kept_output_change")}}
        out["fit_s"] = round(secs, 2)
        if groups:
            out["probe"] = probe(pipe, adapter, groups, W, fit.weights_)
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
