"""Helios (diffusers `HeliosTransformer3DModel`): Wan's blocks reading packed history latents, sampled chunk by chunk.

The block (transformer_helios.py, `HeliosTransformerBlock`) keeps Wan's module names and residual adds;
with `guidance_cross_attn` (the released checkpoints) the cross-attention reads and writes the current
chunk's tokens only, never the history tokens in front of them:

    h         = h + gate  * attn1(modulate(norm1(h)))          # gated by timestep (history: timestep 0)
    h[chunk]  = h[chunk] + attn2(norm2(h[chunk]), text)        # NOT gated: REINS is exact here
    h         = h + gate' * ffn(modulate(norm3(h)))            # gated by timestep

so Wan's table applies as it is (sites, ungated write `attn2.to_out.0`, text read-out
`condition_embedder.text_embedder.linear_1`). Both pipelines generate a video chunk by chunk
(`num_latent_frames_per_chunk` latent frames each), every chunk reading the finished ones as short,
mid and long history latents. weditor reproduces the first chunk of a text-to-video call: its
history is all zeros (and its first-frame prefix too), exactly as the pipeline builds it before any
chunk is done. The chunk is the collection size's frames (the pipeline called with
`num_latent_frames_per_chunk = (frames - 1) / 4 + 1`); the default size is the pipelines' own chunk,
33 frames (9 latent frames) at 384 x 640.

- `HeliosPipeline`: the chunk's schedule is `sigmas = linspace(0.999, 0, steps + 1)[:-1]` with the
  shift `mu` of the chunk's token count, as the pipeline sets it.
- `HeliosPyramidPipeline`: each chunk is sampled in stages, from a quarter of the resolution up
  (noise bilinearly downsampled, then upsampled and re-noised between stages). weditor reproduces the
  first stage: the pipeline's noise downsampled as it does, that stage's schedule, integer timesteps,
  and for distilled checkpoints (`HeliosDMDScheduler`) the DMD step, which re-noises each prediction
  towards the stage's starting latent.

Pairs carry prompts only: the pipelines' image and video conditioning VAE-encode with a sampled
latent and add random noise (`add_noise_to_image_latents`), so no fixed input reproduces them.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.wan import WAN, WAN_I2V

HISTORY_SIZES = (16, 2, 1)  # the pipelines' default `history_sizes`: long, mid, short (with keep_first_frame)


def _mu(pipe, tokens: int) -> float:
    from diffusers.pipelines.helios.pipeline_helios import calculate_shift

    cfg = pipe.scheduler.config
    return calculate_shift(
        tokens,
        cfg.get("base_image_seq_len", 256),
        cfg.get("max_image_seq_len", 4096),
        cfg.get("base_shift", 0.5),
        cfg.get("max_shift", 1.15),
    )


def _grid(pipe, size):
    """Latent (frames, height, width) of the chunk at collection size `size`."""
    height, width, frames = size
    s = pipe.vae_scale_factor_spatial
    return (frames - 1) // pipe.vae_scale_factor_temporal + 1, height // s, width // s


def latents(pipe, size, generator, device):
    """The pipeline's `prepare_latents` noise of one chunk (float32)."""
    import torch

    height, width, frames = size
    k = _grid(pipe, size)[0]
    window = (k - 1) * pipe.vae_scale_factor_temporal + 1
    x = pipe.prepare_latents(
        1, pipe.transformer.config.in_channels, height, width, window, torch.float32, "cpu", generator
    )
    return x.to(device)


def set_timesteps(pipe, scheduler, steps: int, size, device):
    import numpy as np

    k, h, w = _grid(pipe, size)
    tokens = k * h * w // int(np.prod(pipe.transformer.config.patch_size))
    sigmas = np.linspace(0.999, 0.0, steps + 1)[:-1]
    scheduler.set_timesteps(steps, device=device, sigmas=sigmas, mu=_mu(pipe, tokens))


def _history(x):
    """The first chunk's history, as the pipelines build it with `keep_first_frame`: zero latents (a zero
    first-frame prefix in front of the short history) and the frame indices around the chunk."""
    import torch

    n, c, k, h, w = x.shape
    long_, mid, one = HISTORY_SIZES
    indices = torch.arange(0, 1 + sum(HISTORY_SIZES) + k, device=x.device)
    prefix, i_long, i_mid, i_one, i_chunk = indices.split([1, long_, mid, one, k])

    def zeros(frames):
        return x.new_zeros(n, c, frames, h, w)

    return dict(
        indices_hidden_states=i_chunk[None],
        indices_latents_history_short=torch.cat([prefix, i_one])[None],
        indices_latents_history_mid=i_mid[None],
        indices_latents_history_long=i_long[None],
        latents_history_short=zeros(1 + one),
        latents_history_mid=zeros(mid),
        latents_history_long=zeros(long_),
    )


def _call(model, x, timestep, cond, full_size=None):
    import torch

    from weditor.adapters.common import batch

    dtype = model.dtype
    history = _history(x if full_size is None else x.new_zeros(*x.shape[:3], *full_size))
    history = {k: v.to(dtype) if k.startswith("latents") else v for k, v in history.items()}
    n = x.shape[0]
    with torch.no_grad():
        return model(
            hidden_states=x.to(dtype),
            timestep=batch(timestep, n),
            encoder_hidden_states=cond["encoder_hidden_states"].to(dtype),
            **history,
            return_dict=False,
        )[0]


def forward(model, x, t, cond):
    return _call(model, x, t, cond)


def denoiser_for(pipe, t) -> str:
    return "transformer"


# --------------------------------------------------------------------------- pyramid


def _stages(pipe) -> int:
    return int(pipe.scheduler.config.stages)


def encode_pyramid(pipe, prompts, device, images=None):
    """Text as Wan; the full-resolution latent size (the history latents keep it in every stage) once known."""
    cond = WAN.encode(pipe, prompts, device)
    cond["_full"] = 2 ** (_stages(pipe) - 1)  # stage 0 runs at 1 / 2^(stages - 1) of the resolution
    return cond


def latents_pyramid(pipe, size, generator, device):
    """The chunk's noise, downsampled for stage 0 as the pipeline does (bilinear, times 2, per halving)."""
    import torch.nn.functional as F

    from weditor.errors import WeditorError

    x = latents(pipe, size, generator, "cpu")
    n, c, k, h, w = x.shape
    f, (_, ph, pw) = 2 ** (_stages(pipe) - 1), pipe.transformer.config.patch_size
    if h // f < ph or w // f < pw:
        s = pipe.vae_scale_factor_spatial
        raise WeditorError(
            f"--size {size[0]}x{size[1]}x{size[2]} is too small for HeliosPyramidPipeline: its first stage runs "
            f"at 1/{f} of the latent ({h // f}x{w // f}), under the transformer's {ph}x{pw} patch; use at least "
            f"{ph * f * s}x{pw * f * s}"
        )
    frames = x.permute(0, 2, 1, 3, 4).reshape(n * k, c, h, w)
    for _ in range(_stages(pipe) - 1):
        h, w = h // 2, w // 2
        frames = F.interpolate(frames, size=(h, w), mode="bilinear") * 2
    return frames.reshape(n, k, c, h, w).permute(0, 2, 1, 3, 4).to(device)


def set_timesteps_pyramid(pipe, scheduler, steps: int, size, device):
    import numpy as np

    k, h, w = _grid(pipe, size)
    f = 2 ** (_stages(pipe) - 1)
    tokens = k * (h // f) * (w // f) // int(np.prod(pipe.transformer.config.patch_size))
    scheduler.set_timesteps(steps, 0, device=device, mu=_mu(pipe, tokens), is_amplify_first_chunk=False)
    scheduler.weditor_start = None  # the DMD step's starting latent (this copy of the scheduler is weditor's own)


def step_pyramid(scheduler, pred, t, x):
    """`scheduler.step`; for `HeliosDMDScheduler` (distilled checkpoints) with the extra arguments the pipeline
    passes: the step's index, the stage's starting latent and the schedule."""
    if type(scheduler).__name__ != "HeliosDMDScheduler":
        return scheduler.step(pred, t, x, return_dict=False)[0]
    i = int(((scheduler.timesteps - t).abs() < 1e-6).nonzero()[0])
    if i == 0 or getattr(scheduler, "weditor_start", None) is None:
        scheduler.weditor_start = x
    return scheduler.step(
        pred,
        t,
        x,
        return_dict=False,
        cur_sampling_step=i,
        dmd_noisy_tensor=scheduler.weditor_start,
        dmd_sigmas=scheduler.sigmas,
        dmd_timesteps=scheduler.timesteps,
        all_timesteps=scheduler.timesteps,
    )[0]


def forward_pyramid(model, x, t, cond):
    """Stage 0: integer timesteps; the history latents at full resolution, as the pipeline keeps them."""
    import torch

    f = cond["_full"]
    return _call(model, x, t.to(torch.int64), cond, full_size=(x.shape[3] * f, x.shape[4] * f))


HELIOS = replace(
    WAN,
    family="wan",  # Wan's blocks and text read-out: UCE, evaluation and the tables treat it as Wan
    pipelines=("HeliosPipeline",),
    denoisers=("transformer",),
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    set_timesteps=set_timesteps,
    default_size=(384, 640, 33),
    requires=WAN_I2V.requires,  # pipeline_helios.basic_clean calls ftfy.fix_text unguarded
)
HELIOS_PYRAMID = replace(
    HELIOS,
    pipelines=("HeliosPyramidPipeline",),
    encode=encode_pyramid,
    latents=latents_pyramid,
    forward=forward_pyramid,
    set_timesteps=set_timesteps_pyramid,
    step=step_pyramid,
)
