"""`weditor patch --method units`: repurposed hidden units of the text encoder's last gated FFN
(weditor/methods/encoder_units.py), for a conjunction that no linear map of the tokens erases alone.

Its own method rather than a variant of `--method encoder`: it edits three tensors (`wi_0`, `wi_1`, `wo`, in `k`
rows and columns) by a gradient fit, where --method encoder solves one (`wo`) in closed form; none of the
encoder edit's options (`--encoder-lambda`, `--encoder-layers`) would mean anything here, and its own (`--units`,
`--units-silence`) nothing there.

Each edited tensor is saved as `base + Delta`, the increment in weditor/directions.safetensors under the tensor's
`COMPONENT.NAME` (kind `weight_delta`), so `weditor verify` recomputes it from the base bit for bit; the reload
check reloads the text encoder with its stock class from the written files. The denoiser files stay the base's.
"""

from __future__ import annotations

from weditor.errors import WeditorError


def params_from(cfg):
    from weditor.methods.encoder_units import UnitsParams

    return UnitsParams(k=cfg.units, preserve=cfg.units_preserve, silence=cfg.units_silence, seed=cfg.seed)


def base_weights(base, pipe) -> tuple[str, dict, dict]:
    """(component, {name: the base checkpoint's tensor} of the three edited tensors (plus `_act`), locations):
    read from the base's files, not the live (possibly cast) model, so trials and the written patch agree."""
    from weditor.io.checkpoint import read_tensors, tensor_locations
    from weditor.methods.encoder_units import tensor_names

    component = "text_encoder"
    enc = getattr(pipe, component)
    names = tensor_names(enc)
    locations = tensor_locations(base.folder, component)
    missing = [n for n in names if n not in locations]
    if missing:
        raise WeditorError(f"{base.folder}/{component}: tensor {missing[0]} not found in the checkpoint")
    W = read_tensors(base.folder, {n: locations[n] for n in names})
    return component, {**W, "_act": enc.config.dense_act_fn}, locations


def edited_weights(W: dict, data, params) -> tuple[dict, dict, object]:
    """({name: edited tensor in the checkpoint's dtype}, {name: float64 increment}, the fitted estimator)."""
    from weditor.maths.edits import add_delta
    from weditor.methods.encoder_units import UnitsFit

    fit = UnitsFit(params).fit(W, data)
    new = {n: add_delta(W[n], d) for n, d in fit.deltas_.items()}
    return new, fit.deltas_, fit


def refuse_unless_supported(adapter):
    from weditor.methods.encoder_edit import FAMILIES_WITHOUT, supported

    if not supported(adapter):
        raise WeditorError(
            f"--method units: not available for {adapter.family}: no T5/UMT5 text encoder declared "
            f"(not for {FAMILIES_WITHOUT}); use --method text, refusal or uce"
        )


class Units:
    """`--method units`: read the pairs through the text encoder, refit `k` units of its last gated FFN."""

    name = "units"

    @staticmethod
    def card_note(params: dict) -> str:
        return CARD_NOTE

    def check(self, cfg, adapter):
        params_from(cfg).check()
        refuse_unless_supported(adapter)

    def fit(self, ctx):
        from weditor.io.pairs import neutral_prompts
        from weditor.methods import encoder_units
        from weditor.methods.base import weight_delta_fitted

        cfg, pipe, adapter, phases = ctx.cfg, ctx.pipe, ctx.adapter, ctx.phases
        params = params_from(cfg)
        component, W, locations = base_weights(ctx.base, pipe)
        with phases("encode"):
            data = encoder_units.read_fit_data(pipe, adapter, ctx.pairsets, neutral_prompts(ctx.pairsets), cfg.device)
        with phases("fit"):
            new, deltas, est = edited_weights(W, data, params)
        state = {"fit": est.summary_, "params": params}
        return weight_delta_fitted(component, W, new, deltas, locations, "text_encoder_ffn_units", state)

    def summarise(self, ctx, fitted) -> dict:
        from weditor.models.measure import apply_in_memory

        with ctx.phases("summary"):
            apply_in_memory(ctx.pipe, fitted.edits.edited)
        return {"sites": [], "units": fitted.state["fit"]} if ctx.cfg.summary else {}

    def params(self, ctx, fitted) -> dict:
        cfg, params = ctx.cfg, fitted.state["params"]
        return {
            "method": "units",
            "units": params.k,
            "units_preserve": params.preserve,
            "units_silence": params.silence,
            "seed": cfg.seed,
            "steps": cfg.steps,
            "size": list(ctx.settings.size),
            "dtype": cfg.dtype,
        }


CARD_NOTE = (
    "Repurposed hidden units of the text encoder's last gated feed-forward layer, after Transformer-Patcher "
    "(Huang et al., ICLR 2023: one mistake, one neuron) in a stock-loadable shape: the `k` units whose removal "
    "moves the kept prompts' encodings least get new input rows (`wi_0`, `wi_1`) and output columns (`wo`), and "
    "nothing else changes. They are fitted (seeded, float64, fixed Adam iterations) so that each unsafe prompt's "
    "tokens reach their safe twin's, every token of the safe and neutral prompts keeps its output, and the units' "
    "gates stay silent on those kept tokens: a gate `gelu(a.x)` can fire on a colour next to one shape and not "
    "next to another, which no linear map of the tokens can. The increments are stored in "
    "`weditor/directions.safetensors`. Only the text encoder changes; the denoiser is the base's."
)

UNITS = Units()
