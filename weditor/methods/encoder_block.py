"""`--method encoder --encoder-weights block`: a ridge-regularised gradient fit of the text encoder's last block
(its self-attention q, k, v, o and its feed-forward layer), for a conjunction ("red, but only on squares").

Why: the closed form on the last FFN output projection (weditor/methods/encoder_edit.py) is linear in the hidden
units it reads, and the shape-dependent part of a colour token is small there, so every setting that erases red
squares also moves red elsewhere (docs/benchmarks.md, "The part move"). The block's attention is what mixes the
shape into the colour token, and its gated FFN is non-linear: fitting them together (after AdvUnlearn, Zhang et
al. 2024, which unlearns in the text encoder with a retain set) separates the conjunction from its parts.

    min_W  mean_erased ||f_W(x_u)[i] - y_s[j]||^2 / s  +  p * mean_kept ||f_W(x_k) - f_W0(x_k)||^2 / s
           +  l * sum_t ||W_t - W0_t||^2 / ||W0_t||^2

`f_W` is the last block followed by the encoder's final norm (what the denoiser reads), on the block's inputs as
the unedited earlier blocks give them; `(i, j)` aligns an unsafe prompt's real tokens with its safe twin's
(encoder_edit.targets), `y_s` the twin's original output; the kept tokens are every real token of the safe twins
and the neutral prompts (a conjunction's parts elsewhere); `s` is the targets' mean square. Float64 on the CPU,
one thread, L-BFGS for a fixed number of iterations from the base weights: deterministic, so a search trial and
the written patch are the same arithmetic. The increments are saved (kind `weight_delta`, as encoder.py does),
so `weditor verify` recomputes each tensor as base + increment bit for bit without fitting again.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from weditor.errors import WeditorError

# The block's weights that are fitted, relative to the block (T5's ungated FFN has `wi` for wi_0/wi_1).
BLOCK_TENSORS = (
    "layer.0.SelfAttention.q",
    "layer.0.SelfAttention.k",
    "layer.0.SelfAttention.v",
    "layer.0.SelfAttention.o",
    "layer.1.DenseReluDense.wi",
    "layer.1.DenseReluDense.wi_0",
    "layer.1.DenseReluDense.wi_1",
    "layer.1.DenseReluDense.wo",
)
ITERATIONS = 100  # L-BFGS iterations (fixed: no tolerance-dependent stop beyond torch's own, deterministic)
HISTORY = 20
# L-BFGS keeps 2 * HISTORY float64 copies of the fitted weights (and a few more): 7 tensors of a UMT5-XXL block
# (~190M weights) would need ~65 GB. Measured only on the shapes model's tiny encoder; larger ones are refused.
MAX_FIT_BYTES = 8 << 30


@dataclass
class BlockData:
    """What the fit reads, float64 on the CPU: the block's inputs and arguments for the unsafe and kept prompts,
    the erased tokens' (prompt, position) and targets, the kept prompts' real-token mask."""

    x_erase: torch.Tensor
    args_erase: tuple
    kwargs_erase: dict
    rows: torch.Tensor  # (n erased tokens,) prompt index
    cols: torch.Tensor  # (n erased tokens,) position
    targets: torch.Tensor  # (n erased tokens, d)
    x_keep: torch.Tensor
    args_keep: tuple
    kwargs_keep: dict
    keep_mask: torch.Tensor  # (n kept prompts, length) bool: real tokens
    n_erase: int
    n_keep: int


def block_path(pipe, adapter) -> tuple[str, str, int]:
    """(component, path of the last block, number of blocks)."""
    from weditor.methods.encoder_edit import FFN_SITES, refuse_unless_supported

    refuse_unless_supported(adapter)
    comp = FFN_SITES[adapter.family.removesuffix("_i2v")][0]
    enc = getattr(pipe, comp, None)
    if enc is None or not hasattr(enc, "encoder") or not hasattr(enc.config, "num_layers"):
        raise WeditorError(f"--encoder-weights block: {adapter.family}'s {comp} is not a T5/UMT5 encoder")
    n = enc.config.num_layers
    return comp, f"encoder.block.{n - 1}", n


def tensor_names(pipe, adapter) -> tuple[str, list[str]]:
    """(component, [the fitted tensors' names in the component's checkpoint]), in BLOCK_TENSORS order."""
    from weditor.adapters.paths import module_at

    comp, path, _ = block_path(pipe, adapter)
    block = module_at(getattr(pipe, comp), path)
    have = {n for n, _ in block.named_parameters()}
    names = [f"{path}.{t}.weight" for t in BLOCK_TENSORS if f"{t}.weight" in have]
    if not names:
        raise WeditorError(f"--encoder-weights block: {comp}'s last block has none of {', '.join(BLOCK_TENSORS)}")
    return comp, names


def _double(v):
    return v.detach().double().cpu() if torch.is_tensor(v) and v.is_floating_point() else v


def _cpu(v):
    return v.detach().cpu() if torch.is_tensor(v) else v


def capture(pipe, adapter, prompts: list[str], device: str = "cpu"):
    """The last block's input (B, L, d) float64 and its other arguments, for `prompts` encoded together as the
    pipeline encodes them, and the real token count of each."""
    from weditor.adapters.paths import module_at
    from weditor.methods.kv_edit import token_ids
    from weditor.models.runtime import encode

    comp, path, _ = block_path(pipe, adapter)
    got = {}

    def hook(module, args, kwargs):
        got["args"], got["kwargs"] = args, kwargs

    handle = module_at(getattr(pipe, comp), path).register_forward_pre_hook(hook, with_kwargs=True)
    try:
        with torch.no_grad():
            encode(pipe, adapter, prompts, device)
    finally:
        handle.remove()
    if "args" not in got:
        raise WeditorError(f"--encoder-weights block: {comp}'s last block was not run by the pipeline's encode")
    x = _double(got["args"][0])
    args = tuple(_cpu(_double(a)) for a in got["args"][1:])
    kwargs = {k: _cpu(_double(v)) for k, v in got["kwargs"].items()}
    lengths = [token_ids(pipe, p, x.shape[1])[1] for p in prompts]
    return x, args, kwargs, lengths


def base_block(pipe, adapter, base):
    """A float64 CPU copy of the last block and the final norm, every weight read from the base checkpoint (not the
    live, possibly cast, model), so that trials and the written patch start from the same numbers."""
    from weditor.adapters.paths import module_at
    from weditor.io.checkpoint import read_tensors, tensor_locations

    comp, path, _ = block_path(pipe, adapter)
    enc = getattr(pipe, comp)
    block = copy.deepcopy(module_at(enc, path)).to("cpu", torch.float64)
    norm = copy.deepcopy(enc.encoder.final_layer_norm).to("cpu", torch.float64)
    locations = tensor_locations(base.folder, comp)
    for prefix, module in ((path, block), ("encoder.final_layer_norm", norm)):
        wanted = {f"{prefix}.{n}": locations.get(f"{prefix}.{n}") for n, _ in module.named_parameters()}
        missing = [n for n, loc in wanted.items() if loc is None]
        if missing:
            raise WeditorError(f"{base.folder}/{comp}: tensor {missing[0]} not found in the checkpoint")
        tensors = read_tensors(base.folder, wanted)
        with torch.no_grad():
            for n, p in module.named_parameters():
                p.copy_(tensors[f"{prefix}.{n}"].double())
                p.requires_grad_(False)
    return block, norm


def _run(block, norm, x, args, kwargs):
    out = block(x, *args, **kwargs)
    return norm(out[0] if isinstance(out, tuple) else out)


def _cut(x, args, kwargs, n: int) -> tuple:
    """The block's input (B, L, d) and arguments cut to their first `n` positions: the input's second dimension, and
    each argument's last two that are as long as the sequence (the attention mask's (L, L), or (L,))."""
    length = x.shape[1]

    def cut(v):
        if torch.is_tensor(v):
            for d in range(max(1, v.ndim - 2), v.ndim):
                if v.shape[d] == length:
                    v = v.narrow(d, 0, n)
        return v.contiguous() if torch.is_tensor(v) else v

    return x[:, :n].contiguous(), tuple(cut(a) for a in args), {k: cut(v) for k, v in kwargs.items()}


def trimmed(block, norm, x, args, kwargs, lengths: list[int]) -> tuple:
    """(x, args, kwargs) without the padding past the longest prompt, where the block's outputs on every real token
    are the same without it (checked here, to 1e-12 of their scale; else everything is kept as it was).

    Why: the pipeline pads every prompt to its maximum length (16 tokens on the shapes model, 512 on Wan) and the
    fit runs the block on its kept prompts at every L-BFGS evaluation: the padded positions are masked out of the
    real tokens' attention, so they cost time (Wan: ~25x the real tokens) and change nothing the loss reads."""
    n = max(lengths, default=0)
    if not 0 < n < x.shape[1]:
        return x, args, kwargs
    short = _cut(x, args, kwargs, n)
    with torch.no_grad():
        full = _run(block, norm, x, args, kwargs)[:, :n]
        try:
            cut = _run(block, norm, *short)
        except RuntimeError:  # an argument cut where it should not be (a width as long as the sequence)
            return x, args, kwargs
    mask = torch.zeros(cut.shape[:2], dtype=torch.bool)
    for b, m in enumerate(lengths):
        mask[b, :m] = True
    if cut.shape != full.shape or not mask.any():
        return x, args, kwargs
    scale = float(full[mask].abs().max())
    if float((full[mask] - cut[mask]).abs().max()) > 1e-12 * max(scale, 1e-300):
        return x, args, kwargs
    return short


def statistics(pipe, adapter, base, pairsets, neutral: list[str], device: str = "cpu") -> BlockData:
    """Read the pairs and the neutral prompts through the unedited encoder once (the fit's data)."""
    from weditor.methods.encoder_edit import targets

    pairs = [pair for ps in pairsets for pair in ps.pairs]
    if not pairs:
        raise WeditorError("--method encoder: the pair files hold no pairs")
    unsafe, safe = [p.unsafe for p in pairs], [p.safe for p in pairs]
    keep = list(dict.fromkeys(safe + list(neutral)))
    block, norm = base_block(pipe, adapter, base)
    xu, au, ku, nu = capture(pipe, adapter, unsafe, device)
    xs, as_, ks, _ = capture(pipe, adapter, safe, device)
    xk, ak, kk, nk = capture(pipe, adapter, keep, device)
    length = xu.shape[1]  # the pipeline's padded length, which the tokens' positions are read at
    xu, au, ku = trimmed(block, norm, xu, au, ku, nu)
    xk, ak, kk = trimmed(block, norm, xk, ak, kk, nk)
    with torch.no_grad():
        ys = _run(block, norm, xs, as_, ks)
    rows, cols, tg = [], [], []
    for b, (u, s) in enumerate(zip(unsafe, safe)):
        pos = targets(pipe, u, s, length)
        if not pos:
            raise WeditorError(f"pair {u!r} / {s!r}: no real tokens to map")
        for i, j in pos:
            rows.append(b)
            cols.append(i)
            tg.append(ys[b, j])
    mask = torch.zeros(xk.shape[:2], dtype=torch.bool)
    for b, n in enumerate(nk):
        mask[b, :n] = True
    return BlockData(
        xu, au, ku, torch.tensor(rows), torch.tensor(cols), torch.stack(tg), xk, ak, kk, mask, len(tg), int(mask.sum())
    )


def solve(block, norm, names: list[str], prefix: str, data: BlockData, preserve: float, lam: float) -> tuple:
    """({name: float64 increment}, fit figures): the L-BFGS fit described above, on a copy of `block`."""
    block = copy.deepcopy(block)
    params = dict(block.named_parameters())
    local = [n[len(prefix) + 1 :] for n in names]
    train = [params[n] for n in local]
    need = sum(p.numel() for p in train) * 8 * (2 * HISTORY + 6)
    if need > MAX_FIT_BYTES:
        raise WeditorError(
            f"--encoder-weights block: fitting the text encoder's last block ({sum(p.numel() for p in train):,} "
            f"weights) would hold ~{need / 2**30:.0f} GiB of float64 optimiser state (limit {MAX_FIT_BYTES / 2**30:.0f} "
            "GiB); use --encoder-weights wo"
        )
    w0 = [p.detach().clone() for p in train]
    for p in train:
        p.requires_grad_(True)
    scale = float((data.targets**2).sum(-1).mean()) or 1.0
    with torch.no_grad():
        kept_base = _run(block, norm, data.x_keep, data.args_keep, data.kwargs_keep)[data.keep_mask]

    def losses():
        out = _run(block, norm, data.x_erase, data.args_erase, data.kwargs_erase)[data.rows, data.cols]
        erase = ((out - data.targets) ** 2).sum(-1).mean() / scale
        kept = _run(block, norm, data.x_keep, data.args_keep, data.kwargs_keep)[data.keep_mask]
        keep = ((kept - kept_base) ** 2).sum(-1).mean() / scale
        ridge = sum(((p - q) ** 2).sum() / (q**2).sum().clamp_min(1e-300) for p, q in zip(train, w0))
        return erase + preserve * keep + lam * ridge, erase, keep

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one summation order: the same bytes on every machine with the same torch
    try:
        with torch.no_grad():
            _, before, _ = losses()
        opt = torch.optim.LBFGS(train, lr=1.0, max_iter=ITERATIONS, history_size=HISTORY, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            total, _, _ = losses()
            total.backward()
            return total

        opt.step(closure)
        with torch.no_grad():
            _, after, kept = losses()
    finally:
        torch.set_num_threads(threads)
    deltas = {n: (p.detach() - q) for n, p, q in zip(names, train, w0)}
    if not all(torch.isfinite(d).all() for d in deltas.values()):
        raise WeditorError("--encoder-weights block: the fit diverged (non-finite weights); raise --encoder-lambda")
    info = {
        "erased_tokens": data.n_erase,
        "kept_tokens": data.n_keep,
        "distance_to_twin_after": round(float(after) / max(float(before), 1e-300), 4),
        "kept_output_change": round(float(kept), 6),
        "tensors": len(names),
        "iterations": ITERATIONS,
    }
    return deltas, info


def edited_weights(base, component: str, names: list[str], deltas: dict) -> tuple[dict, dict, dict]:
    """({name: base + increment, in the checkpoint's dtype}, {name: base weight}, locations)."""
    from weditor.io.checkpoint import read_tensors, tensor_locations
    from weditor.maths.edits import add_delta

    locations = tensor_locations(base.folder, component)
    olds = read_tensors(base.folder, {n: locations[n] for n in names})
    return {n: add_delta(olds[n], deltas[n]) for n in names}, olds, locations


def fit_block(pipe, adapter, base, data: BlockData, preserve: float, lam: float):
    """(component, names, {name: edited}, {name: increment}, {name: base}, locations, fit figures)."""
    component, names = tensor_names(pipe, adapter)
    block, norm = base_block(pipe, adapter, base)
    prefix = block_path(pipe, adapter)[1]
    deltas, info = solve(block, norm, names, prefix, data, preserve, lam)
    new, olds, locations = edited_weights(base, component, names, deltas)
    return component, names, new, deltas, olds, locations, info


def fitted_block(ctx, params):
    """`Encoder.fit` for `--encoder-weights block`: the method protocol's `Fitted` (weditor/methods/base.py)."""
    from weditor.io.pairs import neutral_prompts
    from weditor.methods.base import weight_delta_fitted
    from weditor.methods.encoder_synonyms import fit_pairsets, part_prompts, record_entry

    cfg, pipe, adapter = ctx.cfg, ctx.pipe, ctx.adapter
    with ctx.phases("encode"):
        pairsets, synonyms = fit_pairsets(pipe, adapter, ctx.pairsets, cfg.device, "block")
        pairsets, synthesized = part_prompts(pairsets, ctx.pairsets)
        data = statistics(pipe, adapter, ctx.base, pairsets, neutral_prompts(pairsets), cfg.device)
    with ctx.phases("fit"):
        component, names, new, deltas, olds, locations, info = fit_block(
            pipe, adapter, ctx.base, data, params.preserve_scale, params.lam
        )
    fit = [{"tensor": block_path(pipe, adapter)[1], **info, **record_entry(synonyms, synthesized)}]
    state = {"fit": fit, "params": params, "summary_key": "encoder_block"}
    return weight_delta_fitted(component, olds, new, deltas, locations, "text_encoder_last_block", state)


CARD_NOTE = (
    "A fitted edit of the text encoder's last block (its self-attention q, k, v, o and its feed-forward weights), "
    "after AdvUnlearn (Zhang et al. 2024), which unlearns in the text encoder with a retain set: the block's "
    "attention mixes the context (a shape) into a word (a colour), so an edit there can tell a colour on one shape "
    "from the same colour elsewhere, which a linear map of the tokens cannot. Each unsafe prompt's tokens are sent, "
    "at the encoder's output, to its safe twin's; every token of the safe and neutral prompts keeps its output "
    "(weight `p`), with a ridge `l * sum ||W - W0||^2 / ||W0||^2` towards the base weights (the parameters are "
    "listed below). Fitted in float64 on the CPU by L-BFGS for a fixed number of iterations (deterministic); the "
    "increments are stored in `weditor/directions.safetensors` and each tensor is base + increment. Only the "
    "text encoder changes; the denoiser is the base's."
)
