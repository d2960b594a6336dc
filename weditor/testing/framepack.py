"""A tiny random HunyuanVideoFramepackPipeline, for tests: the tiny HunyuanVideo parts (Llama and CLIP text,
VAE, flow-matching scheduler), a tiny SigLIP vision tower (8 wide) and a Framepack transformer of two
dual- and two single-stream blocks with the image projection and the history patch embedders."""

from __future__ import annotations


def build_tiny_framepack_pipeline(seed: int = 0):
    import torch
    from diffusers import HunyuanVideoFramepackPipeline, HunyuanVideoFramepackTransformer3DModel
    from transformers import SiglipImageProcessor, SiglipVisionConfig, SiglipVisionModel

    from weditor.testing.pipelines import build_tiny_hunyuan_pipeline

    parts = build_tiny_hunyuan_pipeline(seed=seed).components
    torch.manual_seed(seed + 1)
    parts["transformer"] = HunyuanVideoFramepackTransformer3DModel(
        in_channels=4,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=2,
        num_single_layers=2,
        num_refiner_layers=1,
        patch_size=2,
        patch_size_t=1,
        guidance_embeds=True,
        text_embed_dim=16,
        pooled_projection_dim=8,
        rope_axes_dim=(2, 2, 4),
        has_image_proj=True,
        image_proj_dim=8,
        has_clean_x_embedder=True,
    ).eval()
    parts["image_encoder"] = SiglipVisionModel(
        SiglipVisionConfig(
            hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=8
        )
    ).eval()
    parts["feature_extractor"] = SiglipImageProcessor(size={"height": 32, "width": 32})
    return HunyuanVideoFramepackPipeline(**parts)


TINY_FRAMEPACK_PIPELINES = {"framepack": (build_tiny_framepack_pipeline, {})}
