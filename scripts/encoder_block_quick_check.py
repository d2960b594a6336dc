"""Prototype (a development aid): a ridge-regularised gradient fit of the text encoder's LAST BLOCK (its
self-attention q, k, v, o and gated FFN wi_0, wi_1, wo, or a subset) for a conjunction ("red, but only on
squares"), then a quick generation check of erasure and of the concept's parts elsewhere.

After AdvUnlearn (Zhang et al. 2024: the text encoder is the module to unlearn in, with a retain set): every
unsafe prompt's real tokens are sent, at the encoder's output, to its safe twin's (token alignment as
weditor/methods/encoder_edit.py `targets`), every real token of the kept prompts (safe twins, the file's
neutral prompts, i.e. the parts elsewhere) keeps its output, and `lam * sum ||W - W0||^2 / ||W0||^2` ties the
block to the base. CPU, float64, one thread, LBFGS with a fixed iteration count: deterministic.

    python scripts/encoder_block_quick_check.py red-square \
        '[{"params": "ffn", "preserve": 10, "lam": 0.01}, {"params": "attn"}, {"params": "all"}]'

Prints, per setting, the fit's own figures (distance to twin after/before, kept change) and on the quick
set: shown, synonyms, and colour/shape accuracy of the concept's colour on other shapes ("C elsewhere"),
its shape in other colours ("S elsewhere") and the rest (every 3rd other combination, one seed).
"""

import copy
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from weditor.io.pairs import load_pairsets
from weditor.methods.encoder_edit import targets
from weditor.models.loading import load_base
from weditor.shapes import generate, load_pipeline, world
from weditor.shapes.classify import classify

HERE = Path(__file__).resolve().parent
GROUPS = {
    "ffn": ("layer.1.DenseReluDense.wi_0", "layer.1.DenseReluDense.wi_1", "layer.1.DenseReluDense.wo"),
    "wo": ("layer.1.DenseReluDense.wo",),
    "attn": (
        "layer.0.SelfAttention.q",
        "layer.0.SelfAttention.k",
        "layer.0.SelfAttention.v",
        "layer.0.SelfAttention.o",
    ),
}
GROUPS["all"] = GROUPS["attn"] + GROUPS["ffn"]
GROUPS["attn_o_ffn"] = ("layer.0.SelfAttention.v", "layer.0.SelfAttention.o") + GROUPS["ffn"]


def capture(pipe, prompts, block=-1):
    """(block input (B, L, d) float64, the block's other positional args and kwargs, output (B, L, d), real lengths)."""
    enc = pipe.text_encoder.encoder
    got = {}

    def hook(m, args, kwargs):
        got["args"], got["kwargs"] = args, kwargs

    h = enc.block[block].register_forward_pre_hook(hook, with_kwargs=True)
    try:
        with torch.no_grad():
            tok = pipe.tokenizer(prompts, padding="max_length", max_length=16, truncation=True, return_tensors="pt")
            out = pipe.text_encoder(tok.input_ids, tok.attention_mask).last_hidden_state
    finally:
        h.remove()
    x = got["args"][0].double()
    rest = tuple(a.double() if torch.is_tensor(a) and a.is_floating_point() else a for a in got["args"][1:])
    kw = {k: (v.double() if torch.is_tensor(v) and v.is_floating_point() else v) for k, v in got["kwargs"].items()}
    return x, rest, kw, out.double(), tok.attention_mask.sum(1).tolist()


def fit_block(pipe, ps, group="all", preserve=10.0, lam=0.01, iters=100, extra_keep=()):
    """{param name in the text encoder: float64 delta}, and the fit's figures."""
    torch.set_num_threads(1)
    te = pipe.text_encoder
    nb = te.config.num_layers
    blk = copy.deepcopy(te.encoder.block[nb - 1]).double()
    norm = copy.deepcopy(te.encoder.final_layer_norm).double()
    for p in list(blk.parameters()) + list(norm.parameters()):
        p.requires_grad_(False)
    names = [f"{n}.weight" for n in GROUPS[group]]
    params = dict(blk.named_parameters())
    train = [params[n] for n in names]
    w0 = [p.detach().clone() for p in train]
    for p in train:
        p.requires_grad_(True)

    unsafe = [p.unsafe for p in ps.pairs]
    safe = [p.safe for p in ps.pairs]
    keep = list(dict.fromkeys(safe + list(ps.neutral) + list(extra_keep)))
    xu, ru, ku, _, nu = capture(pipe, unsafe)
    xk, rk, kk, yk, nk = capture(pipe, keep)
    _, _, _, ys, _ = capture(pipe, safe)
    # targets: the safe twin's encoder output at aligned positions
    iu, tgt = [], []
    for b, (u, s) in enumerate(zip(unsafe, safe)):
        for i, j in targets(pipe, u, s, 16):
            iu.append((b, i))
            tgt.append(ys[b, j])
    bi = torch.tensor([b for b, _ in iu])
    pi = torch.tensor([i for _, i in iu])
    tgt = torch.stack(tgt)
    kmask = torch.zeros(yk.shape[:2], dtype=torch.bool)
    for b, n in enumerate(nk):
        kmask[b, :n] = True
    yk_real = yk[kmask]
    t_scale = float((tgt**2).sum(-1).mean())

    def forward(x, rest, kw):
        return norm(blk(x, *rest, **kw))

    with torch.no_grad():
        before = float(((forward(xu, ru, ku)[bi, pi] - tgt) ** 2).sum(-1).mean()) / t_scale

    def loss_fn():
        e = ((forward(xu, ru, ku)[bi, pi] - tgt) ** 2).sum(-1).mean() / t_scale
        k = ((forward(xk, rk, kk)[kmask] - yk_real) ** 2).sum(-1).mean() / t_scale
        r = sum(((p - q) ** 2).sum() / (q**2).sum() for p, q in zip(train, w0))
        return e + preserve * k + lam * r, e, k

    opt = torch.optim.LBFGS(train, lr=1.0, max_iter=iters, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        total, _, _ = loss_fn()
        total.backward()
        return total

    opt.step(closure)
    with torch.no_grad():
        total, e, k = loss_fn()
    prefix = f"encoder.block.{nb - 1}."
    deltas = {prefix + n: (p.detach() - q) for n, p, q in zip(names, train, w0)}
    info = {
        "twin_dist_before": round(before, 4),
        "twin_dist_after": round(float(e), 4),
        "kept_change": round(float(k), 6),
        "rel_delta": round(float(sum((d**2).sum() for d in deltas.values()) / sum((q**2).sum() for q in w0)), 5),
    }
    return deltas, info


# ----------------------------------------------------------------------------- the quick generation check


def attrs_of(v):
    a = classify(v)
    return (a.color, a.shape, a.motion)


def keep_sets(colour, shape, motion_template=0):
    """(C elsewhere: colour on other shapes, every motion; S elsewhere: shape in other colours; rest: every 3rd)."""
    c_else, s_else, rest = [], [], []
    for i, (c, s, m) in enumerate(itertools.product(list(world.COLORS), world.SHAPES, world.MOTIONS)):
        cap = world.caption(None if c == "white" else c, s, m, i % 4)
        if c == colour and s != shape:
            c_else.append((cap, (c, s, m)))
        elif s == shape and c != colour:
            s_else.append((cap, (c, s, m)))
        elif c != colour and s != shape and i % 3 == 0:
            rest.append((cap, (c, s, m)))
    return {"C elsewhere": c_else, "S elsewhere": s_else, "rest": rest}


def videos(pipe, prompts, seed=0):
    return np.concatenate([generate(pipe, prompts[i : i + 32], seed=seed + i) for i in range(0, len(prompts), 32)])


def score(pipe, ps, colour, shape):
    ev = videos(pipe, list(ps.eval))
    out = {"shown": round(float(np.mean([a[:2] == (colour, shape) for a in map(attrs_of, ev)])), 3)}
    if ps.eval_synonyms:
        sy = videos(pipe, list(ps.eval_synonyms))
        out["synonyms"] = round(float(np.mean([a[:2] == (colour, shape) for a in map(attrs_of, sy)])), 3)
    for name, rows in keep_sets(colour, shape).items():
        attrs = [attrs_of(v) for v in videos(pipe, [p for p, _ in rows])]
        out[name] = {
            k: round(100 * float(np.mean([a[i] == t[i] for a, (_, t) in zip(attrs, rows)])), 1)
            for i, k in enumerate(("colour", "shape", "motion"))
        }
    return out


def main():
    concept, grid = sys.argv[1], json.loads(sys.argv[2])
    colour, shape = concept.split("-")
    ps = load_pairsets([str(HERE.parent / "pairs" / f"shapes-{concept}.toml")])[0]
    load_base("weditor:shapes", None)
    pipe = load_pipeline()
    te = pipe.text_encoder
    orig = {n: p.detach().clone() for n, p in te.named_parameters()}
    if "--no-base" not in sys.argv:
        t = time.time()
        print("original", json.dumps(score(pipe, ps, colour, shape)), f"{time.time() - t:.0f}s", flush=True)
    for opts in grid:
        with torch.no_grad():  # every fit reads the base encoder
            for n, p in te.named_parameters():
                p.copy_(orig[n])
        t = time.time()
        deltas, info = fit_block(
            pipe,
            ps,
            opts.get("params", "all"),
            opts.get("preserve", 10.0),
            opts.get("lam", 0.01),
            opts.get("iters", 100),
        )
        tf = time.time() - t
        with torch.no_grad():
            for n, d in deltas.items():
                p = dict(te.named_parameters())[n]
                p.copy_((orig[n].double() + d).to(p.dtype))
        r = score(pipe, ps, colour, shape)
        print(json.dumps(opts), json.dumps(info), f"fit {tf:.1f}s", json.dumps(r), flush=True)
    with torch.no_grad():
        for n, p in te.named_parameters():
            p.copy_(orig[n])


if __name__ == "__main__":
    main()
