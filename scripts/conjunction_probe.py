"""Where a conjunction ("red, but only on squares") lives in the shapes model's prompt tokens.

A development measurement (docs/benchmarks.md, "Conjunctions"): no generation. For every colour x
shape x motion x template caption of the world, the colour word's and the shape word's token is
read at three places:

- `te`:  the text encoder's output (what the condition embedder's first linear reads);
- `kv`:  the condition embedder's output (what every block's attn2.to_k / to_v reads: `--method uce`);
- `ffn`: the hidden units of the text encoder's last feed-forward layer (after its gated activation).

For the conjunction COLOUR-SHAPE it prints

- separability: a logistic regression telling COLOUR-on-SHAPE from COLOUR-on-other-shapes and
  other-colours-on-SHAPE, trained on three caption templates, scored on the fourth;
- the context shift: |mean(token | COLOUR SHAPE) - mean(token | COLOUR other)|, against the token's norm
  and its spread within the class (how far a map must *amplify* a context difference to move one
  and keep the other);
- the interaction `x(C,S) - x(C,S') - x(C',S) + x(C',S')`: zero if the context adds the same shift
  to every colour, in which case no linear map of a token can act on C-on-S alone.

    python scripts/conjunction_probe.py red square
"""

import argparse
import itertools

import numpy as np
from sklearn.linear_model import LogisticRegression

from weditor.methods import kv_edit
from weditor.models.loading import load_base
from weditor.models.runtime import encode
from weditor.shapes import load_pipeline, world


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("colour")
    ap.add_argument("shape")
    a = ap.parse_args()
    _, adapter = load_base("weditor:shapes", None)
    pipe = load_pipeline()
    hidden = {}
    wo = pipe.text_encoder.encoder.block[-1].layer[-1].DenseReluDense.wo
    wo.register_forward_pre_hook(lambda m, args: hidden.__setitem__("ffn", args[0].detach()[0].double().numpy()))
    rows = []  # (colour, shape, template, {space: {"colour": vec, "shape": vec}})
    colours = [c for c in world.COLORS if c != world.DEFAULT_COLOR]
    for c, s, m, t in itertools.product(colours, world.SHAPES, world.MOTIONS, range(len(world.TEMPLATES))):
        p = world.caption(c, s, m, t)
        cond = encode(pipe, adapter, [p], "cpu")
        spaces = {
            "te": cond["encoder_hidden_states"][0].detach().double().numpy(),
            "kv": kv_edit.kv_inputs(pipe, adapter, "transformer", cond).numpy(),
            "ffn": hidden["ffn"],
        }
        ids, _ = kv_edit.token_ids(pipe, p, spaces["kv"].shape[0])
        toks = pipe.tokenizer.convert_ids_to_tokens(ids)
        ci = next(i for i, tk in enumerate(toks) if c in tk)
        si = next(i for i, tk in enumerate(toks) if s in tk)
        rows.append((c, s, t, {k: {"colour": v[ci], "shape": v[si]} for k, v in spaces.items()}))
    C, S = a.colour, a.shape
    print(f"conjunction {C} on {S}; {len(rows)} captions")
    print(
        "| place | token | held-out template accuracy | shift to C-on-other (|x|) | shift to other-on-S | spread within | interaction vs blue/circle-like pair |"
    )
    print("|---|---|---|---|---|---|---|")
    other_c = next(c for c in colours if c != C)
    other_s = next(s for s in world.SHAPES if s != S)
    for space in ("te", "kv", "ffn"):
        for pos in ("colour", "shape"):
            sel = [r for r in rows if r[0] == C or r[1] == S]
            X = np.array([r[3][space][pos] for r in sel])
            y = np.array([r[0] == C and r[1] == S for r in sel])
            g = np.array([r[2] for r in sel])
            clf = LogisticRegression(C=10, max_iter=5000, class_weight="balanced").fit(X[g < 3], y[g < 3])
            acc = clf.score(X[g == 3], y[g == 3])
            mean = lambda f: np.mean([r[3][space][pos] for r in rows if f(r)], 0)
            cs = mean(lambda r: r[0] == C and r[1] == S)
            c_el = mean(lambda r: r[0] == C and r[1] != S)
            s_el = mean(lambda r: r[0] != C and r[1] == S)
            spread = np.mean([np.linalg.norm(r[3][space][pos] - cs) for r in rows if r[0] == C and r[1] == S])
            inter = (
                cs
                - mean(lambda r: r[0] == C and r[1] == other_s)
                - mean(lambda r: r[0] == other_c and r[1] == S)
                + mean(lambda r: r[0] == other_c and r[1] == other_s)
            )
            print(
                f"| {space} | {pos} | {acc:.3f} | {np.linalg.norm(cs - c_el):.3f} ({np.linalg.norm(cs):.2f}) | "
                f"{np.linalg.norm(cs - s_el):.3f} | {spread:.3f} | {np.linalg.norm(inter):.3f} ({other_c}/{other_s}) |"
            )


if __name__ == "__main__":
    main()
