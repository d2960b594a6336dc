"""UCE's closed-form edit of the cross-attention keys and values (`weditor patch --method uce`).

Unified Concept Editing (Gandikota et al., WACV 2024) rewrites every cross-attention key and value
projection `W` so that the tokens of a concept's prompts are read as those of a safe substitute,
while the tokens of prompts to keep are read as before:

    W' = argmin      mean ||W' c - W c*||^2  +  p * mean ||W' c_j - W c_j||^2  +  lam ||W' - W||^2
       = W (X + p P + lam I) (E + p P + lam I)^-1 = W M

with `c` the unsafe tokens, `c*` their safe twins, `c_j` the tokens kept (safe members and neutral
prompts), `E = mean c c^T`, `X = mean c* c^T`, `P = mean c_j c_j^T` (running float64 moments,
weditor/maths/moments.py), and `lam` relative to `trace(P) / d`. Every key and value linear of a
denoiser reads the same tokens (the condition embedder's output in Wan, the caption projection's
in LTX, the text encoder's in ZeroScope and Cosmos 1), so `M` is one (d, d) map per denoiser and the edit is
`W' = W (I - Q^T A)` with `Q^T A = I - M` factored by an SVD (weditor/edits.remove_input: the
same arithmetic as every other input-side edit, so `weditor verify` recomputes it).

What differs from the text read-out (weditor/methods/text.py): it works on tokens, not on a
prompt's summed tokens. A contextual text encoder spreads the concept over every token of the
prompt ("circle" in "a red circle" is not "circle" in "a circle"), so by default every position of
an unsafe prompt is mapped (`tokens = "all"`): the two prompts' token ids are aligned by a diff;
equal tokens map to each other, substituted to substituted, and a deleted token maps to the
padding vector the pipeline feeds (Wan zeroes the encoder's padding, so it is `text_embedder(0)`).
`tokens = "changed"` maps only the substituted and deleted ones (UCE's concept word).

RECE's rounds (Gong et al., ECCV 2024), in closed form: after an edit, the embeddings that the
edited keys and values still read as the concept are `c' = (M^T G M + mu I)^-1 M^T G c` (`G` the sum
of `W^T W` over the edited linears); they join the erased set (mapped to the same twins) and the
map is solved again. Being linear in `c`, every round is a product of moments: nothing is re-encoded.

CogVideoX and HunyuanVideo are refused: their text tokens go through joint attention (CogVideoX's
`to_k`/`to_v` read text and video tokens alike) or are mixed with the video before the text
stream's own projections read them (HunyuanVideo), so no closed form over prompt tokens is exact.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import torch

from weditor.errors import WeditorError
from weditor.maths.moments import RunningMoments
from weditor.models import distributed

SITE = "cross_attn_kv_in"  # every block's attn2.to_k / attn2.to_v
KV_TOKENS = ("all", "changed")
SUBSTITUTES = ("pair", "common")
# The module mapping `encode()`'s encoder_hidden_states onto what attn2.to_k / to_v read (None: read as they are).
KV_READS = {
    "wan": "condition_embedder.text_embedder",
    "ltx": "caption_projection",
    "unet3d": None,
    "animatediff": None,  # the SD UNet's spatial transformers read the CLIP states (repeated per frame) as they are
    "cosmos": None,
    "cosmos2_5": "crossattn_proj",  # Qwen2.5-VL states through a linear and GELU before every block
}
REFUSED = {
    "cogvideox": "its attention is joint: to_k/to_v read the text and the video tokens alike, so a key/value edit "
    "would change the video tokens too",
    "hunyuanvideo": "its text stream is mixed with the video in every dual-stream block before add_k_proj/add_v_proj "
    "read it, so no edit fitted on prompt tokens is exact there",
}
RELATIVE_CUTOFF = 1e-10  # singular values of M - I below this share of the largest are rounding


def refuse_unless_supported(adapter):
    family = adapter.family.removesuffix("_i2v")
    if family in REFUSED:
        raise WeditorError(
            f"--method uce: not available for {adapter.family}: {REFUSED[family]}; use --method text or refusal"
        )
    if family in KV_READS and adapter.text_input is None:  # AnimateDiff's control nets
        raise WeditorError(
            f"--method uce: not available for {adapter.pipelines[0]}: another component (its control net) reads the "
            "prompt too, and an edit of the denoiser's keys and values would not reach it; use --method refusal"
        )
    if family not in KV_READS or SITE not in adapter.sites:
        raise WeditorError(f"--method uce: the {adapter.family} adapter declares no cross-attention key/value linears")
    return family


# --------------------------------------------------------------------------- tokens


def kv_linears(pipe, adapter) -> dict[str, list[str]]:
    """{denoiser: paths of every block's cross-attention key and value linears}."""
    from weditor.models.runtime import SiteKey, num_blocks, present_denoisers, site_modules

    return {
        c: [
            p
            for b in range(num_blocks(pipe, adapter, c, SITE))
            for p, _ in site_modules(pipe, adapter, SiteKey(c, b, SITE))
        ]
        for c in present_denoisers(pipe, adapter)
    }


def kv_inputs(pipe, adapter, component: str, cond: dict) -> torch.Tensor:
    """(positions, d) float64: what the key and value linears of `component` read for the one prompt in `cond`."""
    from weditor.adapters.paths import module_at

    x = cond["encoder_hidden_states"]
    model = getattr(pipe, component)
    path = KV_READS[adapter.family.removesuffix("_i2v")]
    with torch.no_grad():
        if path is not None:
            module = module_at(model, path)
            x = module(x.to(device=next(module.parameters()).device, dtype=next(module.parameters()).dtype))
    return x.detach().double()[0].cpu()


def token_ids(pipe, prompt: str, length: int) -> tuple[list[int], int]:
    """(ids padded to `length`, number of real tokens), tokenised as the pipelines do."""
    tok = pipe.tokenizer(prompt, padding="max_length", max_length=length, truncation=True, add_special_tokens=True)
    ids, mask = list(tok["input_ids"]), list(tok["attention_mask"])
    if len(ids) != length:
        raise WeditorError(f"tokenizer gives {len(ids)} positions for {prompt!r}, the embeddings have {length}")
    return ids, int(sum(mask))


def align(
    unsafe_ids: list[int], n_unsafe: int, safe_ids: list[int], n_safe: int, tokens: str = "all"
) -> list[tuple[int, int]]:
    """[(unsafe position, safe position or -1 for the padding vector)] from a diff of the real token ids.

    Equal tokens map to each other (`tokens="all"` only), substituted to substituted (in order; the
    surplus of a longer unsafe run to padding), deleted to padding; the unsafe padding maps to the
    safe padding in order (`"all"` only). Tokens only the safe prompt has are not targets.
    """
    out = []
    matcher = difflib.SequenceMatcher(a=unsafe_ids[:n_unsafe], b=safe_ids[:n_safe], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            if tokens == "all":
                out += list(zip(range(i1, i2), range(j1, j2)))
        elif op in ("replace", "delete"):
            for k, i in enumerate(range(i1, i2)):
                out.append((i, j1 + k if j1 + k < j2 else -1))
    if tokens == "all":
        for k, i in enumerate(range(n_unsafe, len(unsafe_ids))):
            j = n_safe + k
            out.append((i, j if j < len(safe_ids) else -1))
    return out


@dataclass
class KVMoments:
    """Running float64 moments of one denoiser's key/value inputs: erased tokens `c` with their
    targets `c*`, and the tokens kept. O(d^2) whatever the number of prompts."""

    dim: int
    erase_count: int = 0
    erase_outer: torch.Tensor = None  # sum c c^T
    cross: torch.Tensor = None  # sum c* c^T
    target_outer: torch.Tensor = None  # sum c* c*^T (the summary's distances only)
    keep: RunningMoments = None

    def __post_init__(self):
        self.erase_outer = torch.zeros(self.dim, self.dim, dtype=torch.float64)
        self.cross = torch.zeros(self.dim, self.dim, dtype=torch.float64)
        self.target_outer = torch.zeros(self.dim, self.dim, dtype=torch.float64)
        self.keep = RunningMoments(self.dim)

    def add_erase(self, c: torch.Tensor, target: torch.Tensor):
        self.erase_count += c.shape[0]
        self.erase_outer.addmm_(c.T, c)
        self.cross.addmm_(target.T, c)
        self.target_outer.addmm_(target.T, target)


@dataclass
class KVStatistics:
    """What the solve needs per denoiser: the moments, and `G = sum W^T W` over its key/value linears (RECE)."""

    moments: dict[str, KVMoments]
    gram: dict[str, torch.Tensor]
    tokens: str
    substitute: str = "pair"
    aligned: list[dict] = field(default_factory=list)  # per pair: how many positions were mapped, and to padding


def _substitution(pipe, pair, length: int):
    """(unsafe ids, i1, i2, substituted run, safe run) when the twin is one substitution of the unsafe prompt, else None."""
    (ui, nu), (si, ns) = token_ids(pipe, pair.unsafe, length), token_ids(pipe, pair.safe, length)
    ops = [o for o in difflib.SequenceMatcher(a=ui[:nu], b=si[:ns], autojunk=False).get_opcodes() if o[0] != "equal"]
    if len(ops) == 1 and ops[0][0] == "replace":
        _, i1, i2, j1, j2 = ops[0]
        return ui[:nu], i1, i2, tuple(ui[i1:i2]), tuple(si[j1:j2])
    return None


def common_substitutes(pipe, pairset, length: int) -> dict[tuple, tuple]:
    """{substituted token run: the safe run most of the pair file's pairs put in its place} (ties: the first in the file)."""
    from collections import Counter

    votes: dict[tuple, Counter] = {}
    for pair in pairset.pairs:
        found = _substitution(pipe, pair, length)
        if found is not None:
            votes.setdefault(found[3], Counter())[found[4]] += 1
    return {run: max(c.items(), key=lambda kv: kv[1])[0] for run, c in votes.items()}  # Counter keeps first-seen order


def common_twin(pipe, pair, substitutes: dict, length: int) -> str:
    """`pair`'s safe twin with `substitutes` applied (its own twin when it is not one substitution of a known run)."""
    found = _substitution(pipe, pair, length)
    if found is None or found[3] not in substitutes:
        return pair.safe
    ids, i1, i2, run, _ = found
    return pipe.tokenizer.decode(ids[:i1] + list(substitutes[run]) + ids[i2:], skip_special_tokens=True)


def common_twins(pipe, pairsets, length: int) -> list[str]:
    """Each pair's safe twin rewritten with its concept's most frequent substitute.

    Least squares maps a token onto the mean of its targets: a circle whose twins are a square, a
    triangle and a cross becomes their average, which the shapes model still draws as a round blob
    (docs/benchmarks.md, "UCE"). So per pair file, each substituted run of unsafe tokens (e.g.
    "circle") gets the safe run that most of its pairs use (ties: the first in the file), and the
    twin is the unsafe prompt with that substitution, decoded by the tokenizer. Pairs whose diff is
    not one substitution (a deletion, several edits) keep their own twin.
    """
    out = []
    for ps in pairsets:
        substitutes = common_substitutes(pipe, ps, length)
        out += [common_twin(pipe, pair, substitutes, length) for pair in ps.pairs]
    return out


def statistics(
    pipe, adapter, pairsets, neutral: list[str], tokens: str = "all", device: str = "cpu", substitute: str = "pair"
) -> KVStatistics:
    """Encode every pair member and neutral prompt once; accumulate the moments per denoiser.

    `substitute="common"`: every twin uses its concept's most frequent substitute (`common_twins`)."""
    from weditor.models.runtime import encode, progress

    if tokens not in KV_TOKENS:
        raise WeditorError(f"--uce-tokens {tokens}: must be one of {', '.join(KV_TOKENS)}")
    if substitute not in SUBSTITUTES:
        raise WeditorError(f"--uce-substitute {substitute}: must be one of {', '.join(SUBSTITUTES)}")
    refuse_unless_supported(adapter)
    linears = kv_linears(pipe, adapter)
    moments: dict[str, KVMoments] = {}
    aligned = []

    def inputs(prompt):
        with torch.no_grad():
            cond = encode(pipe, adapter, [prompt], device)
        return {c: kv_inputs(pipe, adapter, c, cond) for c in linears}

    items = [pair for ps in pairsets for pair in ps.pairs]
    twins = [p.safe for p in items]
    encoded = None
    if distributed.world() > 1:  # the pairs' encodes dealt out to the ranks, every result on every rank, in order
        if substitute == "common":
            twins = common_twins(pipe, pairsets, next(iter(inputs(items[0].unsafe).values())).shape[0])
        both = distributed.map_units(
            lambda k: {
                f"{w}.{c}": x.contiguous()
                for w, p in (("u", items[k].unsafe), ("s", twins[k]))
                for c, x in inputs(p).items()
            },
            range(len(items)),
        )
        encoded = [tuple({c: unit[f"{w}.{c}"] for c in linears} for w in "us") for unit in both]
    for k, pair in enumerate(progress(items, total=len(items), desc="encode pairs")):
        xu = inputs(pair.unsafe) if encoded is None else encoded[k][0]
        length = next(iter(xu.values())).shape[0]
        if substitute == "common" and k == 0 and encoded is None:
            twins = common_twins(pipe, pairsets, length)
        safe = twins[k]
        xs = inputs(safe) if encoded is None else encoded[k][1]
        (ui, nu), (si, ns) = token_ids(pipe, pair.unsafe, length), token_ids(pipe, safe, length)
        pairs = align(ui, nu, si, ns, tokens)
        if not pairs:
            raise WeditorError(f"pair {pair.unsafe!r} / {safe!r}: the two prompts have the same tokens; nothing to map")
        if any(j < 0 for _, j in pairs) and ns >= length:
            raise WeditorError(f"{safe!r} fills all {length} positions: no padding to map the deleted tokens onto")
        aligned.append(
            {"unsafe": pair.unsafe, "twin": safe, "mapped": len(pairs), "to_padding": sum(j < 0 for _, j in pairs)}
        )
        iu = torch.tensor([i for i, _ in pairs])
        js = torch.tensor([j if j >= 0 else length - 1 for _, j in pairs])  # the last position is padding
        for c in linears:
            m = moments.setdefault(c, KVMoments(xu[c].shape[1]))
            m.add_erase(xu[c][iu], xs[c][js])
            m.keep.update(xs[c])
    units = (inputs(p) for p in neutral) if distributed.world() == 1 else distributed.map_units(inputs, neutral)
    for unit in progress(units, total=len(neutral), desc="encode neutral"):
        for c, x in unit.items():
            moments[c].keep.update(x)
    gram = {}
    for c, paths in linears.items():
        from weditor.models.runtime import get_module

        model = getattr(pipe, c)
        g = torch.zeros(moments[c].dim, moments[c].dim, dtype=torch.float64)
        for p in paths:
            w = get_module(model, f"{p}.weight").detach().double().cpu()
            g.addmm_(w.T, w)
        gram[c] = g
    return KVStatistics(moments, gram, tokens, substitute, aligned)


# --------------------------------------------------------------------------- the closed form


def normal_matrices(E, X, P, preserve_scale: float, lam: float):
    """(D, N) of the normal equations `W' D = W N` (erased tokens weighted 1); `lam` is relative to trace(P) / d."""
    d = P.shape[0]
    reg = lam * float(torch.trace(P)) / d * torch.eye(d, dtype=torch.float64)
    return E + preserve_scale * P + reg, X + preserve_scale * P + reg


def solve_map(E, X, P, preserve_scale: float = 1.0, lam: float = 0.1) -> torch.Tensor:
    """M = N D^-1: every key/value weight becomes `W M` (D symmetric: M^T = D^-1 N^T)."""
    D, N = normal_matrices(E, X, P, preserve_scale, lam)
    return torch.linalg.solve(D, N.T).T


def rece_inputs(M, G, mu: float) -> torch.Tensor:
    """R with `c' = R c`: the embedding the edited linears `W M` read most like `W c` (ridge `mu` relative to trace/d)."""
    d = M.shape[0]
    H = M.T @ G @ M
    return torch.linalg.solve(H + mu * float(torch.trace(H)) / d * torch.eye(d, dtype=torch.float64), M.T @ G)


@dataclass
class KVParams:
    """The edit's hyper-parameters, as recorded in weditor.json."""

    tokens: str = "all"
    substitute: str = "common"
    preserve_scale: float = 1.0
    lam: float = 0.1
    rounds: int = 0  # RECE rounds
    rece_mu: float = 0.01

    def check(self):
        if self.tokens not in KV_TOKENS:
            raise WeditorError(f"--uce-tokens {self.tokens}: must be one of {', '.join(KV_TOKENS)}")
        if self.substitute not in SUBSTITUTES:
            raise WeditorError(f"--uce-substitute {self.substitute}: must be one of {', '.join(SUBSTITUTES)}")
        if not 0.0 < self.preserve_scale <= 1e6:
            raise WeditorError(f"--uce-preserve {self.preserve_scale}: must be in (0, 1e6] (weight of the kept tokens)")
        if not 0.0 < self.lam <= 1e6:
            raise WeditorError(
                f"--uce-lambda {self.lam}: must be in (0, 1e6] (relative to the mean squared token norm)"
            )
        if not 0 <= self.rounds <= 10:
            raise WeditorError(f"--uce-rounds {self.rounds}: must be in 0..10")
        if not 0.0 < self.rece_mu <= 1e3:
            raise WeditorError(f"--uce-rece-mu {self.rece_mu}: must be in (0, 1e3]")


def solve(stats: KVStatistics, params: KVParams) -> dict[str, torch.Tensor]:
    """{denoiser: M}, with `params.rounds` RECE rounds; cheap (d x d algebra), for a search over parameters."""
    params.check()
    maps = {}
    for c, m in stats.moments.items():
        n = max(m.erase_count, 1)
        E, X, P = m.erase_outer / n, m.cross / n, m.keep.sum_outer / max(m.keep.count, 1)
        M = solve_map(E, X, P, params.preserve_scale, params.lam)
        E0, X0, found_E, found_X = E, X, [], []
        for _ in range(params.rounds):
            R = rece_inputs(M, stats.gram[c], params.rece_mu)
            found_E.append(R @ E0 @ R.T)  # mean c' c'^T
            found_X.append(X0 @ R.T)  # mean c* c'^T
            k = len(found_E) + 1
            E = (E0 + sum(found_E)) / k
            X = (X0 + sum(found_X)) / k
            M = solve_map(E, X, P, params.preserve_scale, params.lam)
        maps[c] = M
    return maps


@dataclass
class KVFactors:
    """`I - M = Q^T A` (Q orthonormal rows): `coef_`/`intercept_` as a read-out, so it saves and audits like one."""

    Q: torch.Tensor
    coef_: torch.Tensor
    intercept_: torch.Tensor


def factor(M: torch.Tensor) -> KVFactors:
    U, s, Vh = torch.linalg.svd(torch.eye(M.shape[0], dtype=torch.float64) - M.double())
    keep = int((s > RELATIVE_CUTOFF * s.max().clamp_min(1e-300)).sum()) or 1
    return KVFactors(
        U[:, :keep].T.contiguous(), (s[:keep, None] * Vh[:keep]).contiguous(), torch.zeros(keep, dtype=torch.float64)
    )


def edit_weight(weight: torch.Tensor, f: KVFactors) -> torch.Tensor:
    """`W (I - Q^T A) = W M`, in weditor.maths.edits.remove_input's arithmetic (so an audit recomputes it bit for bit)."""
    from weditor.maths.edits import remove_input

    return remove_input(weight, f.Q, f.coef_, 1.0)


def edit_in_memory(
    pipe,
    adapter,
    pairsets,
    neutral: list[str] | None = None,
    params: KVParams | None = None,
    device: str = "cpu",
    stats: KVStatistics | None = None,
) -> dict[str, dict[str, torch.Tensor]]:
    """{denoiser: {tensor name: edited weight}} from the live pipeline's weights: no folder written.

    Load it with `weditor.pipeline.run.apply_in_memory(pipe, edited)`. Pass `stats` (from `statistics`)
    to try several `params` without encoding again (`params.tokens` must match `stats.tokens`).
    """
    from weditor.io.pairs import neutral_prompts
    from weditor.models.runtime import get_module

    params = params or KVParams()
    if stats is None:
        stats = statistics(
            pipe,
            adapter,
            pairsets,
            neutral if neutral is not None else neutral_prompts(pairsets),
            params.tokens,
            device,
            params.substitute,
        )
    elif (stats.tokens, stats.substitute) != (params.tokens, params.substitute):
        raise WeditorError(
            f"statistics were collected with tokens={stats.tokens!r}, substitute={stats.substitute!r}; "
            f"the parameters ask {params.tokens!r}, {params.substitute!r}"
        )
    factors = {c: factor(M) for c, M in solve(stats, params).items()}
    out = {}
    for c, paths in kv_linears(pipe, adapter).items():
        model = getattr(pipe, c)
        for p in paths:
            w = get_module(model, f"{p}.weight").detach()
            out.setdefault(c, {})[f"{p}.weight"] = edit_weight(w, factors[c]).to(w.device)
    return out
