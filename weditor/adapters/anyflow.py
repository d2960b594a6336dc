"""AnyFlow (diffusers `AnyFlowTransformer3DModel`, `AnyFlowFARTransformer3DModel`): Wan 2.1's blocks, flow-map sampling.

The block (transformer_anyflow.py, `AnyFlowTransformerBlock`, shared by both classes) writes Wan's three
residual adds under Wan's module names, so the two pipelines take Wan's table as it is (sites, the
ungated cross-attention write, the text read-out `condition_embedder.text_embedder.linear_1`):

    h = h + gate   * attn1(modulate(norm1(h)))      # gated by timestep
    h = h +          attn2(norm2(h), text)          # NOT gated: REINS is exact here
    h = h + gate'  * ffn(modulate(norm3(h)))        # gated by timestep

Only the step differs from Wan's:

- latents are laid out (batch, frames, channels, height, width) and every frame gets the timestep;
- the denoiser reads a second timestep `r`, the flow map's target: the schedule's next sigma (times
  1000), as the pipelines' `use_mean_velocity=True` default passes it. `set_timesteps` records the
  schedule it sets for the pipeline, and `forward` looks `r` up there; at a timestep off that schedule
  (the reload check's fixed 900 and 300) `r = t`, the pipelines' `use_mean_velocity=False` call.
- `AnyFlowFARPipeline` samples chunk by chunk (`chunk_partition` latent frames each), every later chunk
  attending to the KV cache of the finished ones. weditor reproduces its first chunk, which the
  pipeline denoises before any other and which attends to an empty cache: the collection's latents
  are the pipeline's noise for the size asked, cut to `chunk_partition[0]` latent frames (by default
  just those frames). The blocks, and so every edit, are the same in every chunk.

Pairs may carry images on `AnyFlowPipeline`: each member's image is the pipeline's conditioning video
(`pipe(video=[image])`, one frame): its VAE latent (`encode_video`, the distribution's mean) replaces the
first latent frame of the denoiser's input, at timestep 0, as the pipeline's loop does; pairs without
images run its text-to-video mode. `AnyFlowFARPipeline` takes prompts only: its conditioning video
becomes context chunks that the first generated chunk reads through a prefilled KV cache.
"""

from __future__ import annotations

import weakref
from dataclasses import replace

from weditor.adapters.wan import WAN

# pipeline -> (timesteps, flow-map targets) of the schedule `set_timesteps` last set for it
_SCHEDULES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def set_timesteps(pipe, scheduler, steps: int, size, device):
    """The pipelines' `scheduler.set_timesteps(steps)`, recording each step's target `sigmas[i + 1] * 1000`."""
    scheduler.set_timesteps(steps, device=device)
    targets = scheduler.sigmas[1:] * scheduler.config.num_train_timesteps
    _SCHEDULES[pipe] = (scheduler.timesteps.detach().cpu().double(), targets.detach().cpu())


def target_of(pipe, t):
    """The flow-map target `r` of source timestep `t` on the schedule last set for `pipe`; `t` itself off it."""
    import torch

    timesteps, targets = _SCHEDULES.get(pipe, (None, None))
    value = float(t.reshape(-1)[0]) if isinstance(t, torch.Tensor) else float(t)
    if timesteps is not None:
        hits = ((timesteps - value).abs() < 1e-4).nonzero()
        if len(hits):
            return targets[int(hits[0])].to(t.device if isinstance(t, torch.Tensor) else "cpu")
    return t if isinstance(t, torch.Tensor) else torch.tensor(value)


def encode(pipe, prompts, device, images=None):
    cond = WAN.encode(pipe, prompts, device)
    cond["_target"] = lambda t: target_of(pipe, t)
    return cond


def encode_i2v(pipe, prompts, device, images=None):
    """Text as above; with images (not all None), each member's image as a one-frame conditioning video."""
    from weditor.adapters.common import as_images

    cond = encode(pipe, prompts, device)
    if images is not None and not all(im is None for im in images):
        images = as_images(images, len(prompts))
        cond["_build"] = lambda x: {"prefix": _prefix(pipe, images, x, device)}
    return cond


def _prefix(pipe, images, x, device):
    """`encode_video` of each member's image as a one-frame video at the latent's size: (members, 1, C, h, w)."""
    import torch

    h, w = x.shape[3:]
    s = pipe.vae_scale_factor_spatial
    with torch.no_grad():
        return torch.cat([pipe.encode_video([image], height=h * s, width=w * s) for image in images]).to(device)


def latents(pipe, size, generator, device):
    """The pipelines' `prepare_latents` noise (float32), permuted to (batch, frames, channels, height, width)."""
    import torch

    height, width, frames = size
    x = pipe.prepare_latents(
        1, pipe.transformer.config.in_channels, height, width, frames, torch.float32, "cpu", generator
    )
    return x.permute(0, 2, 1, 3, 4).to(device)


def _timesteps(x, t, r):
    """The loop's per-frame `timestep` and `r_timestep`: (batch, frames) each."""
    from weditor.adapters.common import batch

    n, frames = x.shape[:2]
    t, r = batch(t.to(x.device), n), batch(r.to(x.device), n)
    return t[:, None].expand(n, frames), r[:, None].expand(n, frames)


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import sized

    timestep, r_timestep = _timesteps(x, t, cond["_target"](t))
    if "_build" in cond:  # the conditioning frame: clean, at timestep 0 (the flow map's target r unchanged)
        prefix = sized(cond, x, cond["_build"])["prefix"]
        k = prefix.shape[1]
        x = torch.cat([prefix.to(x.dtype).expand(x.shape[0], -1, -1, -1, -1), x[:, k:]], dim=1)
        timestep = timestep.clone()
        timestep[:, :k] = 0
    dtype = model.dtype
    with torch.no_grad():
        return model(
            hidden_states=x.to(dtype),
            timestep=timestep,
            r_timestep=r_timestep,
            encoder_hidden_states=cond["encoder_hidden_states"].to(dtype),
            return_dict=False,
        )[0]


def denoiser_for(pipe, t) -> str:
    return "transformer"


def latents_far(pipe, size, generator, device):
    """The pipeline's noise for the size asked, cut to its first chunk (`chunk_partition[0]` latent frames)."""
    return latents(pipe, size, generator, device)[:, : pipe.transformer.config.chunk_partition[0]]


def default_size_far(pipe) -> tuple[int, int, int]:
    """256 x 256 and exactly the first chunk's frames (the VAE's 4x time compression: 1 + 4 (n - 1))."""
    return (256, 256, 1 + pipe.vae_scale_factor_temporal * (pipe.transformer.config.chunk_partition[0] - 1))


def forward_far(model, x, t, cond):
    """The first chunk's step: `chunk_partition=[frames]`, an empty KV cache (nothing finished to attend to)."""
    import torch

    cfg = model.config
    n, frames = x.shape[:2]
    dtype = model.dtype
    empty = x.new_zeros(2, n, cfg.num_attention_heads, 0, cfg.attention_head_dim, dtype=dtype)
    cache = {i: {"full_cache": empty, "compressed_cache": empty} for i in range(cfg.num_layers)}
    timestep, r_timestep = _timesteps(x, t, cond["_target"](t))
    with torch.no_grad():
        return model(
            hidden_states=x.to(dtype),
            timestep=timestep,
            r_timestep=r_timestep,
            encoder_hidden_states=cond["encoder_hidden_states"].to(dtype),
            chunk_partition=[frames],
            kv_cache=cache,
            kv_cache_flag={"num_cached_chunks": 0, "is_cache_step": False},
            return_dict=False,
        )[0]


ANYFLOW = replace(
    WAN,
    family="wan",  # Wan's blocks and text read-out: UCE, evaluation and the tables treat it as Wan
    pipelines=("AnyFlowPipeline",),
    denoisers=("transformer",),
    image_to_video=True,
    encode=encode_i2v,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    set_timesteps=set_timesteps,
    default_size=(256, 256, 17),
)
ANYFLOW_FAR = replace(
    ANYFLOW,
    pipelines=("AnyFlowFARPipeline",),
    image_to_video=False,
    encode=encode,
    latents=latents_far,
    forward=forward_far,
    default_size=default_size_far,
)
