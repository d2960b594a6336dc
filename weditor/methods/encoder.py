"""`weditor patch --method encoder`: the closed-form edit of the text encoder's last FFN output projection
(weditor/methods/encoder_edit.py), for concepts a map of the prompt's tokens cannot separate (a colour on
one shape only).

One tensor of the text encoder changes (`text_encoder/...DenseReluDense.wo.weight`); the denoiser files
stay links to the base. The increment is saved in weditor/directions.safetensors under the tensor's
`COMPONENT.NAME`, so `weditor verify` recomputes the tensor from the base (kind `weight_delta`); the
reload check reloads the text encoder from the written files (an edited component is never handed over
from memory) and compares the prompt encodings and the denoiser's output with the in-memory edit.

The summary is the fit's, in the encoder (how far the erased tokens' pre-norm outputs moved to their
twins', how much the kept tokens' moved); the denoiser-level figures are the self-check's, which
encodes the held-out prompts again with the edited encoder (weditor/pipeline/objective.py).
"""

from __future__ import annotations

from weditor.errors import WeditorError


def params_from(cfg):
    """The edit's parameters. A value the user gave is kept as given; one left unset (None) takes the default of
    the weights fitted (`--encoder-weights block` has its own), so `--encoder-preserve 20` means 20 on either."""
    from weditor import defaults
    from weditor.methods.encoder_edit import EncoderParams

    weights = getattr(cfg, "encoder_weights", defaults.ENCODER_WEIGHTS)
    block = weights == "block"
    preserve, lam = cfg.encoder_preserve, cfg.encoder_lambda
    if preserve is None:
        preserve = defaults.BLOCK_PRESERVE if block else defaults.ENCODER_PRESERVE
    if lam is None:
        lam = defaults.BLOCK_LAMBDA if block else defaults.ENCODER_LAMBDA
    return EncoderParams(preserve_scale=preserve, lam=lam, layers=cfg.encoder_layers, weights=weights)


def edited_weights(base, component: str, names: list[str], stats: list, params) -> tuple[dict, dict, dict, dict]:
    """({name: edited weight}, {name: increment}, {name: base weight}, locations), solved from the base checkpoint's
    tensors (not the live, possibly cast, model's), so the search's trials and the written patch are one arithmetic."""
    from weditor.io.checkpoint import read_tensors, tensor_locations
    from weditor.maths.edits import add_delta
    from weditor.methods.encoder_edit import solve_delta

    locations = tensor_locations(base.folder, component)
    new, deltas, olds = {}, {}, {}
    for name, st in zip(names, stats):
        if name not in locations:
            raise WeditorError(f"{base.folder}/{component}: tensor {name} not found in the checkpoint")
        w = read_tensors(base.folder, {name: locations[name]})[name]
        if w.ndim != 2 or w.shape[1] != st.P.shape[0]:
            raise WeditorError(
                f"{component}.{name}: reads width {w.shape[-1]}, but the hidden units have {st.P.shape[0]}"
            )
        deltas[name] = solve_delta(w, st, params)
        new[name], olds[name] = add_delta(w, deltas[name]), w
    return new, deltas, olds, locations


class Encoder:
    """`--method encoder`: read the pairs through the text encoder, solve `wo`'s increment, add it."""

    name = "encoder"

    @staticmethod
    def card_note(params: dict) -> str:
        if params.get("encoder_weights") == "block":
            from weditor.methods.encoder_block import CARD_NOTE as BLOCK_NOTE

            return BLOCK_NOTE
        return CARD_NOTE

    def check(self, cfg, adapter):
        from weditor.methods.encoder_edit import refuse_unless_supported

        params_from(cfg).check()
        refuse_unless_supported(adapter)

    def fit(self, ctx):
        from weditor.io.pairs import neutral_prompts
        from weditor.methods import encoder_edit
        from weditor.methods.base import weight_delta_fitted
        from weditor.methods.encoder_synonyms import fit_pairsets, record_entry

        cfg, pipe, adapter, phases = ctx.cfg, ctx.pipe, ctx.adapter, ctx.phases
        params = params_from(cfg)
        if params.weights == "block":
            from weditor.methods.encoder_block import fitted_block

            return fitted_block(ctx, params)
        component, sites = encoder_edit.site(pipe, adapter, params.layers)
        names = [f"{out}.weight" for _, out in sites]
        with phases("encode"):
            pairsets, synonyms = fit_pairsets(pipe, adapter, ctx.pairsets, cfg.device, params.weights)
            stats = encoder_edit.statistics(
                pipe, adapter, pairsets, neutral_prompts(pairsets), cfg.device, params.layers
            )
        with phases("fit"):
            new, deltas, olds, locations = edited_weights(ctx.base, component, names, stats, params)
        fit = [
            {"tensor": name, **encoder_edit.fit_summary(olds[name], deltas[name], st), **record_entry(synonyms)}
            for name, st in zip(names, stats)
        ]
        state = {"fit": fit, "params": params}
        return weight_delta_fitted(component, olds, new, deltas, locations, "text_encoder_ffn_hidden", state)

    def summarise(self, ctx, fitted) -> dict:
        from weditor.models.measure import apply_in_memory

        with ctx.phases("summary"):
            apply_in_memory(ctx.pipe, fitted.edits.edited)
        key = fitted.state.get("summary_key", "encoder")  # "encoder_block": weditor/methods/encoder_block.py
        return {"sites": [], key: fitted.state["fit"]} if ctx.cfg.summary else {}

    def params(self, ctx, fitted) -> dict:
        cfg, params = ctx.cfg, fitted.state["params"]
        return {
            "method": "encoder",
            "encoder_preserve": params.preserve_scale,
            "encoder_lambda": params.lam,
            "encoder_layers": params.layers,
            **({"encoder_weights": params.weights} if params.weights != "wo" else {}),  # wo's recipes stay as they were
            "seed": cfg.seed,
            "steps": cfg.steps,
            "size": list(ctx.settings.size),
            "dtype": cfg.dtype,
            "encoder_fit": fitted.state["fit"],
        }


CARD_NOTE = (
    "A closed-form edit of the text encoder's last feed-forward output projection (`wo`), after Unified Concept "
    "Editing's least squares (Gandikota et al.) moved into the encoder: there the hidden units read, after the "
    "layer's non-linearity, what a word means in its context (a colour on one shape), which a map of the prompt's "
    "tokens cannot separate. Each unsafe prompt's tokens are aligned with its safe twin's; `wo` gets the increment "
    "`Delta = (T - W E)(E + p P + l I)^-1` that sends the unsafe tokens' pre-norm outputs to their twins' while "
    "keeping those of the safe and neutral prompts (weight `p`; the parameters are listed below). `Delta` is "
    "stored in `weditor/directions.safetensors`. Only the text encoder changes; the denoiser is the base's. "
    "Closed form: no gradient training."
)

ENCODER = Encoder()
