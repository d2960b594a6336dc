"""What the PixArt-style video DiTs (Allegro, Latte) share: the block's residual adds and the sampler glue.

A PixArt block ("adaLN-single"), from diffusers' transformer_allegro.py and attention.py
(`BasicTransformerBlock` with norm_type="ada_norm_single"):

    shift, scale, gate, shift', scale', gate' = table + t_emb        # one timestep embedding for all blocks
    h = h + gate  * attn1(norm1(h) * (1 + scale) + shift)            # gated by timestep
    h = h +         attn2(h, text)                                   # NOT gated, not even normalised
    h = h + gate' * ff(norm2(h) * (1 + scale') + shift')             # gated by timestep

The cross-attention write `attn2.to_out.0` is added to the stream as is, bias included: output-side
edits there and a constant (REINS) bias fold are exact; the self-attention and FFN writes are gated
and refused. The prompt (T5) enters through `caption_projection.linear_1`.

Both pipelines take any `KarrasDiffusionSchedulers` scheduler and call `scale_model_input` before the
denoiser: with an Euler scheduler (Allegro's) that divides the latent by sqrt(sigma^2 + 1). The adapter's
forward does the same from the timestep alone (`input_scale`), so weditor's loop needs no scheduler state.
"""

from __future__ import annotations

from weditor.errors import WeditorError

_SIGMA_SCHEDULERS = ("EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler")


def input_scale(scheduler):
    """t -> the factor `scheduler.scale_model_input` applies at timestep t; None where it is the identity.

    Euler schedulers divide by sqrt(sigma(t)^2 + 1), sigma(t) interpolated linearly in the training
    sigmas exactly as their `set_timesteps` does; other sigma schedules cannot be read off t alone
    and are refused."""
    import copy

    import numpy as np
    import torch

    probe = copy.deepcopy(scheduler)
    probe.set_timesteps(2)
    one = torch.ones(1)
    if torch.equal(probe.scale_model_input(one, probe.timesteps[0]), one):
        return None
    cfg = scheduler.config
    exotic = [k for k in ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas") if cfg.get(k)]
    if (
        type(scheduler).__name__ not in _SIGMA_SCHEDULERS
        or cfg.get("interpolation_type", "linear") != "linear"
        or cfg.get("timestep_type", "discrete") != "discrete"
        or exotic
    ):
        raise WeditorError(
            f"scheduler {type(scheduler).__name__} ({', '.join(exotic) or 'its configuration'}) scales the "
            "denoiser's input by a sigma weditor cannot read off the timestep: use the checkpoint's own "
            "Euler, DDIM, DDPM or DPM-Solver scheduler"
        )
    ac = scheduler.alphas_cumprod
    train = (((1 - ac) / ac) ** 0.5).numpy()  # float32, as Euler's set_timesteps computes them

    def factor(t) -> torch.Tensor:
        sigma = torch.tensor(np.float32(np.interp(float(t), np.arange(len(train)), train)))
        return 1 / ((sigma**2 + 1) ** 0.5)

    return factor


def scaled(cond: dict, x, t):
    """`x` as the pipeline hands it to the denoiser at timestep `t` (after `scale_model_input`)."""
    scale = cond.get("_scale")
    return x if scale is None else x * scale(t).to(x.dtype)


def step(scheduler, pred, t, x):
    """`scheduler.step` as the pipelines call it; an ancestral or stochastic step draws from a fixed
    generator (the pipeline passes its own), so collection is deterministic."""
    import inspect

    import torch

    kwargs = {}
    if "generator" in inspect.signature(scheduler.step).parameters:
        if not hasattr(scheduler, "_weditor_generator"):
            scheduler._weditor_generator = torch.Generator(x.device).manual_seed(0)
        kwargs["generator"] = scheduler._weditor_generator
    scheduler.is_scale_input_called = True  # the adapter's forward scaled the input (`scaled`)
    return scheduler.step(pred, t, x, **kwargs, return_dict=False)[0]


def denoiser_for(pipe, t) -> str:
    return "transformer"
