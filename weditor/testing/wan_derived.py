"""Tiny random pipelines of the families whose transformers copy Wan's blocks under their own class: AnyFlow
(bidirectional and FAR-causal flow maps) and Helios (plain and pyramid), for tests.

Each reuses the tiny Wan pipeline's tokenizer, UMT5 text encoder and VAE (4 latent channels), and a
transformer of three blocks 32 wide, so a denoiser step takes milliseconds on a CPU. Configurations
follow diffusers' own `get_dummy_components` (tests/pipelines/anyflow, tests/pipelines/helios), made
smaller still.
"""

from __future__ import annotations

DIMS = dict(
    patch_size=(1, 2, 2),
    num_attention_heads=2,
    attention_head_dim=16,
    in_channels=4,
    out_channels=4,
    text_dim=16,
    freq_dim=32,
    ffn_dim=64,
    num_layers=3,
    cross_attn_norm=True,
)


def _wan_parts(seed: int):
    from weditor.testing.pipelines import build_tiny_wan_pipeline

    base = build_tiny_wan_pipeline(num_layers=1, seed=seed)
    return dict(tokenizer=base.tokenizer, text_encoder=base.text_encoder, vae=base.vae)


def build_tiny_anyflow_pipeline(far: bool = False, seed: int = 0):
    """A random AnyFlowPipeline, or with `far` an AnyFlowFARPipeline whose chunks are (2, 1) latent frames
    (9 video frames: its first chunk, the one weditor reproduces, is two latent frames)."""
    import diffusers
    import torch

    parts = _wan_parts(seed)
    torch.manual_seed(seed + 1)
    scheduler = diffusers.FlowMapEulerDiscreteScheduler(num_train_timesteps=1000, shift=5.0)
    if far:
        transformer = diffusers.AnyFlowFARTransformer3DModel(
            compressed_patch_size=(1, 4, 4), full_chunk_limit=3, rope_max_seq_len=32, chunk_partition=(2, 1), **DIMS
        )
        return diffusers.AnyFlowFARPipeline(transformer=transformer.eval(), scheduler=scheduler, **parts)
    transformer = diffusers.AnyFlowTransformer3DModel(rope_max_seq_len=32, **DIMS)
    return diffusers.AnyFlowPipeline(transformer=transformer.eval(), scheduler=scheduler, **parts)


def build_tiny_helios_pipeline(pyramid: bool = False, distilled: bool = False, seed: int = 0):
    """A random HeliosPipeline (one-stage scheduler with the size-dependent shift), or with `pyramid` a
    HeliosPyramidPipeline (three-stage scheduler, classifier-free guidance zero-star as Helios-Mid ships;
    with `distilled`, the DMD scheduler of Helios-Distilled)."""
    import diffusers
    import torch

    parts = _wan_parts(seed)
    torch.manual_seed(seed + 1)
    transformer = diffusers.HeliosTransformer3DModel(
        rope_dim=(4, 6, 6),
        has_multi_term_memory_patch=True,
        guidance_cross_attn=True,
        zero_history_timestep=True,
        **DIMS,
    ).eval()
    if pyramid:
        # gamma below 1/3: the block-noise covariance (1 + gamma) I - gamma 11^T of a 2x2 patch is singular at 1/3
        cls = diffusers.HeliosDMDScheduler if distilled else diffusers.HeliosScheduler
        scheduler = cls(use_dynamic_shifting=True, gamma=0.25)
        return diffusers.HeliosPyramidPipeline(
            transformer=transformer, scheduler=scheduler, is_cfg_zero_star=True, is_distilled=distilled, **parts
        )
    scheduler = diffusers.HeliosScheduler(stage_range=[0, 1], stages=1, use_dynamic_shifting=True)
    return diffusers.HeliosPipeline(transformer=transformer, scheduler=scheduler, **parts)


TINY_WAN_DERIVED_PIPELINES = {
    "anyflow": (build_tiny_anyflow_pipeline, {}),
    "anyflow-far": (build_tiny_anyflow_pipeline, {"far": True}),
    "helios": (build_tiny_helios_pipeline, {}),
    "helios-pyramid": (build_tiny_helios_pipeline, {"pyramid": True}),
    "helios-pyramid-distilled": (build_tiny_helios_pipeline, {"pyramid": True, "distilled": True}),
}
