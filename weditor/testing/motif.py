"""Tiny random Motif-Video pipelines (text-to-video, image-to-video), for tests.

The recipe of weditor/testing/ltx2.py: the Gemma-like word-level tokenizer (right padding, as Motif's
pipeline pads to `max_length`), a tiny random T5Gemma 2 encoder (text, and a one-layer SigLIP tower
that the image-to-video pipeline calls for its image tokens), the tiny Wan VAE, and a transformer of
two dual-stream and two single-stream blocks. `xattn` builds the variant whose dual-stream blocks
carry Motif's optional text cross-attention (`enable_text_cross_attention_dual`), an ungated write.
"""

from __future__ import annotations


def _t5gemma2(tokenizer):
    from transformers import SiglipVisionConfig, T5Gemma2Encoder
    from transformers.models.t5gemma2.configuration_t5gemma2 import T5Gemma2EncoderConfig

    text = dict(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        sliding_window=8,
        dropout_rate=0.0,
        attention_dropout=0.0,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    vision = SiglipVisionConfig(
        hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2, image_size=8, patch_size=4
    )
    unk = tokenizer.unk_token_id  # no image tokens in a prompt: the special image ids are the unknown word
    config = T5Gemma2EncoderConfig(
        text_config=text,
        vision_config=vision,
        mm_tokens_per_image=4,
        image_token_index=unk,
        boi_token_index=unk,
        eoi_token_index=unk,
    )
    return T5Gemma2Encoder(config, eoi_token_index=unk).eval()


def build_tiny_motif_video_pipeline(variant: str = "t2v", seed: int = 0):
    """A random MotifVideoPipeline (`t2v`, `xattn`) or MotifVideoImage2VideoPipeline (`i2v`)."""
    import torch
    from diffusers import (
        ClassifierFreeGuidance,
        FlowMatchEulerDiscreteScheduler,
        MotifVideoImage2VideoPipeline,
        MotifVideoPipeline,
        MotifVideoTransformer3DModel,
    )
    from transformers import SiglipImageProcessor

    from weditor.testing.ltx2 import build_gemma_tokenizer
    from weditor.testing.sana import _wan_vae

    if variant not in ("t2v", "i2v", "xattn"):
        raise ValueError(f"unknown Motif-Video variant {variant!r}")
    torch.manual_seed(seed)
    tokenizer = build_gemma_tokenizer()
    tokenizer.padding_side = "right"
    transformer = MotifVideoTransformer3DModel(
        in_channels=2 * 4 + 1,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=2,
        num_single_layers=2,
        mlp_ratio=2.0,
        text_embed_dim=16,
        image_embed_dim=8 if variant == "i2v" else None,
        rope_axes_dim=(2, 2, 4),
        enable_text_cross_attention_dual=variant == "xattn",
    ).eval()
    kwargs = dict(
        scheduler=FlowMatchEulerDiscreteScheduler(shift=1.0, use_dynamic_shifting=True),
        vae=_wan_vae(),
        text_encoder=_t5gemma2(tokenizer),
        tokenizer=tokenizer,
        transformer=transformer,
        guider=ClassifierFreeGuidance(guidance_scale=1.0),  # one pass per step, as weditor runs it
    )
    if variant == "i2v":
        processor = SiglipImageProcessor(size={"height": 8, "width": 8})
        return MotifVideoImage2VideoPipeline(feature_extractor=processor, **kwargs)
    return MotifVideoPipeline(**kwargs)


TINY_MOTIF_PIPELINES = {
    "motif-video": (build_tiny_motif_video_pipeline, {"variant": "t2v"}),
    "motif-video-xattn": (build_tiny_motif_video_pipeline, {"variant": "xattn"}),
    "motif-video-i2v": (build_tiny_motif_video_pipeline, {"variant": "i2v"}),
}
