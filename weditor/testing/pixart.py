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


def build_tiny_latte_pipeline(seed: int = 0):
    """A random LattePipeline: tiny T5, two spatial + two temporal blocks for 4 frames, an 8x 2D VAE, DDIM."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, LattePipeline, LatteTransformer3DModel

    from weditor.testing.text import _t5, build_tokenizer

    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    transformer = LatteTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=4,
        out_channels=8,  # the learned-variance half, as Latte-1's
        num_layers=2,
        cross_attention_dim=24,
        sample_size=4,
        patch_size=2,
        activation_fn="gelu-approximate",
        num_embeds_ada_norm=1000,
        norm_type="ada_norm_single",
        norm_elementwise_affine=False,
        norm_eps=1e-6,
        caption_channels=16,
        video_length=4,
    ).eval()
    vae = AutoencoderKL(
        block_out_channels=(8, 8, 8, 8),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
    ).eval()
    return LattePipeline(
        tokenizer=tokenizer, text_encoder=_t5(tokenizer), vae=vae, transformer=transformer, scheduler=DDIMScheduler()
    )


TINY_PIXART_PIPELINES = {
    "allegro": (build_tiny_allegro_pipeline, {}),
    "latte": (build_tiny_latte_pipeline, {}),
}
