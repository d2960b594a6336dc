"""A closed-form edit of the text encoder's last feed-forward output projection (conjunctions, issue 19).

Why here: a conjunction ("red, but only on squares") is linearly separable at the encoder's output,
but the shape is a small part of the colour token there (10-25%), so a linear map of the prompt
tokens (UCE's key/value edit, the text read-out) moves red squares and red elsewhere together
(docs/benchmarks.md, "Conjunctions"). The hidden units of the encoder's last feed-forward layer,
after its (gated) non-linearity, hold the colour x shape interaction; the output projection `wo`
that reads them writes straight into the residual the final norm turns into the encoder output.
So UCE's closed form is solved on `wo`:

    W' = argmin  mean ||W' h - t||^2  +  p * mean ||W' h_j - W h_j||^2  +  l ||W' - W||^2
    W' = W + (T - W E) (E + p P + l I)^-1

with `h` the hidden units of an unsafe prompt's token, `t = z* - r` the output that makes the
token's pre-norm residual `r + W' h` equal its safe twin's `z*` (the final RMS norm then gives the
twin's encoder output exactly), `h_j` the real tokens of the kept prompts (safe twins and neutral
prompts: a conjunction's parts elsewhere), `E = mean h h^T`, `T = mean t h^T`, `P = mean h_j h_j^T`,
`l = lam * trace(P) / d_ff`. Only real tokens enter (the pipelines zero or mask the padding).
A token the twin deletes (the colour of "a red square" against "a square") is mapped onto the
twin's next token, so it reads as the twin's own word.

The edit is the increment `Delta` (saved in weditor/readout.safetensors, so `weditor verify`
recomputes the tensor as `base + Delta`, kind `weight_delta`); one tensor of the text encoder
changes, the denoiser is untouched. Families with a T5/UMT5 encoder only (`FFN_SITES`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from weditor import defaults
from weditor.errors import WeditorError

# family -> (pipeline component, path of the last FFN layer, its out projection, relative to the layer).
# `{last}` is the encoder's last block index (config.num_layers - 1). T5LayerFF / UMT5LayerFF: the layer's
# input is the residual `r`; its DenseReluDense.wo reads the gated hidden units; encoder.final_layer_norm follows.
_T5 = ("text_encoder", "encoder.block.{last}.layer.1", "DenseReluDense.wo")
FFN_SITES = {"wan": _T5, "ltx": _T5, "mochi": _T5, "cogvideox": _T5}
FAMILIES_WITHOUT = "HunyuanVideo (Llama + CLIP), LTX-2 (Gemma 3), ZeroScope (CLIP) and the others"


@dataclass
class EncoderParams:
    """The edit's hyper-parameters, as recorded in weditor.json."""

    preserve_scale: float = defaults.ENCODER_PRESERVE
    lam: float = defaults.ENCODER_LAMBDA
    layers: int = defaults.ENCODER_LAYERS  # the encoder's last `layers` feed-forward layers, each fitted alone
    weights: str = defaults.ENCODER_WEIGHTS  # "wo" (this module) or "block" (weditor/methods/encoder_block.py)

    def check(self):
        if self.weights not in defaults.ENCODER_WEIGHTS_CHOICES:
            raise WeditorError(
                f"--encoder-weights {self.weights}: must be one of {', '.join(defaults.ENCODER_WEIGHTS_CHOICES)}"
            )
        if self.weights == "block" and self.layers != 1:
            raise WeditorError(
                f"--encoder-layers {self.layers}: --encoder-weights block fits the text encoder's last block only"
            )
        if not 1 <= self.layers <= 64:
            raise WeditorError(f"--encoder-layers {self.layers}: must be in 1..64 (the encoder's last FFN layers)")
        if not 0.0 < self.preserve_scale <= 1e6:
            raise WeditorError(
                f"--encoder-preserve {self.preserve_scale}: must be in (0, 1e6] (weight of the kept tokens)"
            )
        if not 0.0 < self.lam <= 1e6:
            raise WeditorError(
                f"--encoder-lambda {self.lam}: must be in (0, 1e6] (relative to the kept hidden units' mean square)"
            )


def supported(adapter) -> bool:
    return adapter.family.removesuffix("_i2v") in FFN_SITES


def refuse_unless_supported(adapter):
    if not supported(adapter):
        raise WeditorError(
            f"--method encoder: not available for {adapter.family}: no T5/UMT5 text encoder declared "
            f"(not for {FAMILIES_WITHOUT}); use --method text, refusal or uce"
        )


def site(pipe, adapter, layers: int = 1) -> tuple[str, list[tuple[str, str]]]:
    """(component, [(FFN layer path, out projection path)] of the last `layers` FFN layers, earliest first)."""
    refuse_unless_supported(adapter)
    comp, layer, out = FFN_SITES[adapter.family.removesuffix("_i2v")]
    enc = getattr(pipe, comp, None)
    if enc is None or not hasattr(enc, "encoder") or not hasattr(enc.config, "num_layers"):
        raise WeditorError(f"--method encoder: {adapter.family}'s {comp} is not a T5/UMT5 encoder")
    n = enc.config.num_layers
    if layers > n:
        raise WeditorError(f"--encoder-layers {layers}: {adapter.family}'s text encoder has {n} layers")
    paths = [layer.format(last=i) for i in range(n - layers, n)]
    return comp, [(p, f"{p}.{out}") for p in paths]


def read(pipe, adapter, prompt: str, device: str = "cpu", layers: int = 1) -> list[dict]:
    """Per edited layer (earliest first), per real token (float64): {"r": the residual into the FFN layer, "h": the
    hidden units wo reads, "z": the residual after it}, all from one pass of the encoder."""
    from weditor.adapters.paths import module_at
    from weditor.methods.kv_edit import token_ids
    from weditor.models.runtime import encode

    comp, sites = site(pipe, adapter, layers)
    enc = getattr(pipe, comp)
    got: dict = {}
    hooks = []
    for i, (layer, out) in enumerate(sites):
        hooks.append(
            module_at(enc, layer).register_forward_pre_hook(lambda m, a, i=i: got.__setitem__(("r", i), a[0].detach()))
        )
        hooks.append(
            module_at(enc, out).register_forward_pre_hook(lambda m, a, i=i: got.__setitem__(("h", i), a[0].detach()))
        )
    try:
        with torch.no_grad():
            encode(pipe, adapter, [prompt], device)
    finally:
        for hk in hooks:
            hk.remove()
    rows = []
    for i, (_, out) in enumerate(sites):
        w, h, r = module_at(enc, out).weight, got[("h", i)][0], got[("r", i)][0]
        _, n = token_ids(pipe, prompt, h.shape[0])
        z = r + torch.nn.functional.linear(h.to(w.dtype), w.detach())
        rows.append(
            {"r": r[:n].double().cpu(), "h": h[:n].double().cpu(), "z": z[:n].double().cpu(), "length": h.shape[0]}
        )
    return rows


def targets(pipe, unsafe: str, safe: str, length: int, deleted: str = "next") -> list[tuple[int, int]]:
    """[(unsafe real position, safe real position)]: equal to equal, substituted to substituted, a deleted token
    onto the twin's next one (the twin has no padding to send it to: its real tokens are all there is), or with
    `deleted="previous"` onto the twin's token before it (--method units: weditor/methods/encoder_units.py)."""
    import difflib

    from weditor.methods.kv_edit import token_ids

    (ui, nu), (si, ns) = token_ids(pipe, unsafe, length), token_ids(pipe, safe, length)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=ui[:nu], b=si[:ns], autojunk=False).get_opcodes():
        if op == "equal":
            out += list(zip(range(i1, i2), range(j1, j2)))
        elif op in ("replace", "delete"):
            for k, i in enumerate(range(i1, i2)):
                if j2 > j1:
                    out.append((i, min(j1 + k, j2 - 1)))
                else:
                    out.append((i, min(j1, ns - 1) if deleted == "next" else max(j1 - 1, 0)))
    return out


@dataclass
class EncoderStatistics:
    """Float64 moments over the hidden units: erased `E`, targets `T`, kept `P` (O(d_ff^2), whatever the prompts)."""

    E: torch.Tensor
    T: torch.Tensor
    P: torch.Tensor
    n_erase: int
    n_keep: int
    tt: float = 0.0  # mean ||t||^2: the fit's distances in the summary


class _Moments:
    """Running sums of one layer's moments."""

    def __init__(self):
        self.E = self.T = self.P = None
        self.n_e = self.n_k = 0
        self.tt = 0.0

    def erase(self, h, t):
        if self.E is None:
            d = h.shape[1]
            self.E, self.P = torch.zeros(d, d, dtype=torch.float64), torch.zeros(d, d, dtype=torch.float64)
            self.T = torch.zeros(t.shape[1], d, dtype=torch.float64)
        self.E.addmm_(h.T, h)
        self.T.addmm_(t.T, h)
        self.tt += float((t * t).sum())
        self.n_e += h.shape[0]

    def keep(self, h):
        self.P.addmm_(h.T, h)
        self.n_k += h.shape[0]

    def done(self) -> EncoderStatistics:
        n_e = max(self.n_e, 1)
        return EncoderStatistics(
            self.E / n_e, self.T / n_e, self.P / max(self.n_k, 1), self.n_e, self.n_k, self.tt / n_e
        )


def statistics(
    pipe, adapter, pairsets, neutral: list[str], device: str = "cpu", layers: int = 1
) -> list[EncoderStatistics]:
    """Read every pair member and neutral prompt once through the text encoder: one set of moments per edited
    layer (earliest first). Each layer is fitted alone, towards the twin's residual after that layer, on the
    original encoder's readings (an earlier layer's edit already sends a token towards its twin, where the
    later layer's preservation of the twins' own tokens keeps it)."""
    from weditor.models.runtime import progress

    items = [pair for ps in pairsets for pair in ps.pairs]
    if not items:
        raise WeditorError("--method encoder: the pair files hold no pairs")
    moments = [_Moments() for _ in range(layers)]
    for pair in progress(items, total=len(items), desc="encode pairs"):
        us, ss = read(pipe, adapter, pair.unsafe, device, layers), read(pipe, adapter, pair.safe, device, layers)
        pos = targets(pipe, pair.unsafe, pair.safe, us[0]["length"])
        if not pos:
            raise WeditorError(f"pair {pair.unsafe!r} / {pair.safe!r}: no real tokens to map")
        iu, js = torch.tensor([i for i, _ in pos]), torch.tensor([j for _, j in pos])
        for m, u, s in zip(moments, us, ss):
            m.erase(u["h"][iu], s["z"][js] - u["r"][iu])
            m.keep(s["h"])
    for prompt in progress(neutral, total=len(neutral), desc="encode neutral"):
        for m, row in zip(moments, read(pipe, adapter, prompt, device, layers)):
            m.keep(row["h"])
    return [m.done() for m in moments]


def solve_delta(W: torch.Tensor, stats: EncoderStatistics, params: EncoderParams) -> torch.Tensor:
    """Delta = (T - W E)(E + p P + l I)^-1 in float64 (the system is symmetric: solve D X = N^T)."""
    params.check()
    W = W.double().cpu()
    d = stats.P.shape[0]
    reg = params.lam * float(torch.trace(stats.P)) / d
    D = stats.E + params.preserve_scale * stats.P + reg * torch.eye(d, dtype=torch.float64)
    return torch.linalg.solve(D, (stats.T - W @ stats.E).T).T


def fit_summary(W: torch.Tensor, delta: torch.Tensor, stats: EncoderStatistics) -> dict:
    """Relative mean squares from the moments: how far the erased tokens' pre-norm outputs are from their twins'
    after the edit (against before), and how much the kept tokens' outputs moved (against their size)."""
    W, D = W.double().cpu(), delta.double().cpu()
    W2 = W + D

    def dist(M):  # mean ||M h - t||^2
        return float(torch.trace(M @ stats.E @ M.T) - 2 * torch.trace(M @ stats.T.T)) + stats.tt

    kept = float(torch.trace(D @ stats.P @ D.T) / torch.trace(W @ stats.P @ W.T).clamp_min(1e-300))
    return {
        "erased_tokens": stats.n_erase,
        "kept_tokens": stats.n_keep,
        "distance_to_twin_after": round(dist(W2) / max(dist(W), 1e-300), 4),
        "kept_output_change": round(kept, 6),
    }
