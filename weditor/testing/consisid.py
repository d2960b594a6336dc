"""A tiny random ConsisIDPipeline, for tests: the tiny CogVideoX image-to-video parts (T5, VAE, DPM scheduler) and
a ConsisID transformer of three blocks with learned positions (32 x 32 x 9, as CogVideoX-5b-I2V's), without the
face branch; with `face`, the face branch of ConsisID-preview (`is_train_face`), which weditor refuses.
Building either needs OpenCV: diffusers exports the pipeline class only with it."""

from __future__ import annotations


def build_tiny_consisid_pipeline(face: bool = False, seed: int = 0):
    import torch
    from diffusers import ConsisIDPipeline, ConsisIDTransformer3DModel

    from weditor.testing.pipelines import build_tiny_cogvideox_pipeline

    parts = build_tiny_cogvideox_pipeline(i2v=True, seed=seed).components
    torch.manual_seed(seed + 1)
    faces = dict(
        cross_attn_interval=1,
        cross_attn_dim_head=4,
        cross_attn_num_heads=1,
        LFE_id_dim=2,
        LFE_vit_dim=2,
        LFE_depth=5,
        LFE_dim_head=8,
        LFE_num_heads=2,
        LFE_num_id_token=1,
        LFE_num_querie=1,
        LFE_output_dim=21,
        LFE_ff_mult=1,
        LFE_num_scale=1,
    )
    parts["transformer"] = ConsisIDTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=8,
        out_channels=4,
        time_embed_dim=4,
        text_embed_dim=16,
        num_layers=3,
        sample_width=4,
        sample_height=4,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=16,
        use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=True,
        is_kps=False,
        is_train_face=face,
        **(faces if face else {}),
    ).eval()
    return ConsisIDPipeline(**parts)


TINY_CONSISID_PIPELINES = {"consisid": (build_tiny_consisid_pipeline, {})}
