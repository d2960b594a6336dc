"""Key/value distance of held-out prompts to their twins after an in-memory `--method uce` fit (no generation).

For each held-out prompt of a shapes pair file (eval and eval_synonyms), the twin is the prompt with
the given word substitutions; printed: how much of ||W (c - c_twin)|| is left after the edit,
||W (M c - c_twin)|| / ||W (c - c_twin)||, summed over every token and every key/value linear,
with the training pairs' figure ("train") and the kept tokens' change ("kept", weditor/uce.fit_summary).
Seconds on a CPU: a proxy to choose settings before generating videos.

    python scripts/uce_token_distance.py circle '[["circle","square"],["ball","square"],["disc","square"]]' \
        '[{"lam":0.1},{"lam":0.01,"rounds":1}]' common
"""

import json
import sys

import torch

from weditor.io.pairs import load_pairsets
from weditor.methods import kv_edit
from weditor.models.loading import load_base
from weditor.models.runtime import encode
from weditor.shapes import load_pipeline

concept, sub = sys.argv[1], json.loads(sys.argv[2])
ps = load_pairsets([f"pairs/shapes-{concept}.toml"])[0]
_, adapter = load_base("weditor:shapes", None)
pipe = load_pipeline()
W = torch.cat(
    [
        pipe.transformer.get_submodule(p).weight.detach().double()
        for p in kv_edit.kv_linears(pipe, adapter)["transformer"]
    ]
)


def c(p):
    return kv_edit.kv_inputs(pipe, adapter, "transformer", encode(pipe, adapter, [p], "cpu"))


ev = list(ps.eval) + list(ps.eval_synonyms)
SUBST = sys.argv[4] if len(sys.argv) > 4 else "pair"
tw = [p for p in ev]
for a, b in sub:
    tw = [t.replace(a, b) for t in tw]
CE = [c(p) for p in ev]
CT = [c(p) for p in tw]
for tokens in ("all", "changed"):
    st = kv_edit.statistics(pipe, adapter, [ps], ps.neutral, tokens, substitute=SUBST)
    for opts in json.loads(sys.argv[3]):
        M = kv_edit.solve(st, kv_edit.KVParams(tokens=tokens, substitute=SUBST, **opts))["transformer"]
        r = []
        for x, y in zip(CE, CT):
            r.append(float(((x @ M.T - y) @ W.T).norm() / ((x - y) @ W.T).norm()))
        from weditor.methods.uce import fit_summary

        fs = fit_summary(st, {"transformer": M})[0]
        print(
            tokens,
            opts,
            "train",
            fs["distance_to_twin_after"],
            "kept",
            fs["kept_token_change"],
            "eval",
            round(sum(r[: len(ps.eval)]) / len(ps.eval), 3),
            "syn",
            round(sum(r[len(ps.eval) :]) / max(1, len(r) - len(ps.eval)), 3),
        )
