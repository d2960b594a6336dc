"""Tiny random pipelines of the PixArt-style video families (Allegro, Latte), for tests.

The recipe of weditor/testing/pipelines.py: the word-level T5 tokenizer and a tiny T5 encoder, a
VAE with a few channels (never run: the tests stop at latents), a transformer of a few blocks.
Allegro gets the Euler-ancestral scheduler its checkpoint ships (its pipeline calls
`scale_model_input`, which Euler schedulers do not leave as the identity); Latte a DDIM one.
"""

from __future__ import annotations


def build_tiny_allegro_pipeline(seed: int = 0):
    """A random AllegroPipeline: tiny T5, a three-block transformer, a four-level Allegro VAE (8x spatial, 4x time)."""
    import torch
    from diffusers import (
        AllegroPipeline,
        AllegroTransformer3DModel,
        AutoencoderKLAllegro,
        EulerAncestralDiscreteScheduler,
    )

    from weditor.testing.text import _t5, build_tokenizer

    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    transformer = AllegroTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=4,
        out_channels=4,
        num_layers=3,
        cross_attention_dim=24,
        sample_width=8,
        sample_height=8,
        sample_frames=8,
        caption_channels=16,
    ).eval()
    vae = AutoencoderKLAllegro(
        in_channels=3,
        out_channels=3,
        down_block_types=("AllegroDownBlock3D",) * 4,
        up_block_types=("AllegroUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    ).eval()
    return AllegroPipeline(
        tokenizer=tokenizer,
        text_encoder=_t5(tokenizer),
        vae=vae,
        transformer=transformer,
        scheduler=EulerAncestralDiscreteScheduler(),
    )


TINY_PIXART_PIPELINES = {
    "allegro": (build_tiny_allegro_pipeline, {}),
}
