"""Tiny random pipelines of the newer video families (SkyReels-V2, Wan VACE / V2V, ...), for tests.

The same recipe as weditor/testing.py (whose `TINY_PIPELINES` registers these): each reuses the
tiny text encoder, tokenizer and VAE of the family it is built on, and a transformer a few
hundred parameters wide, so a denoiser step takes milliseconds on a CPU. Configurations follow
diffusers' own `get_dummy_components` in tests/pipelines/<family>/, made smaller still.
"""

from __future__ import annotations

from weditor.testing.hunyuan import (
    build_tiny_hunyuan15_i2v_pipeline,
    build_tiny_hunyuan15_pipeline,
    build_tiny_hunyuan_i2v_pipeline,
)


def _wan_parts(seed: int):
    from weditor.testing.pipelines import build_tiny_wan_pipeline

    base = build_tiny_wan_pipeline(num_layers=1, seed=seed)
    return base.tokenizer, base.text_encoder, base.vae


def _skyreels_transformer(in_channels: int = 4, num_layers: int = 3, **kwargs):
    from diffusers import SkyReelsV2Transformer3DModel

    return SkyReelsV2Transformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=in_channels,
        out_channels=4,
        text_dim=16,
        freq_dim=32,
        ffn_dim=64,
        num_layers=num_layers,
        cross_attn_norm=True,
        rope_max_seq_len=32,
        **kwargs,
    ).eval()


def _unipc():
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=8.0)


def build_tiny_skyreels_pipeline(variant: str = "t2v", seed: int = 0):
    """A random SkyReels-V2 pipeline: `t2v`, `i2v` (CLIP image tokens + concatenated condition),
    `df` (diffusion forcing, fps embedding), `df-i2v` or `df-v2v`."""
    import diffusers
    import torch

    tokenizer, text_encoder, vae = _wan_parts(seed)
    torch.manual_seed(seed + 1)
    common = dict(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=_unipc())
    if variant == "t2v":
        return diffusers.SkyReelsV2Pipeline(transformer=_skyreels_transformer(), **common)
    if variant == "i2v":
        from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

        encoder = CLIPVisionModelWithProjection(
            CLIPVisionConfig(
                hidden_size=8,
                projection_dim=8,
                intermediate_size=16,
                num_hidden_layers=2,
                num_attention_heads=2,
                image_size=32,
                patch_size=8,
            )
        ).eval()
        z = vae.config.z_dim
        transformer = _skyreels_transformer(in_channels=z + 4 + z, image_dim=8, added_kv_proj_dim=32)
        return diffusers.SkyReelsV2ImageToVideoPipeline(
            transformer=transformer,
            image_encoder=encoder,
            image_processor=CLIPImageProcessor(crop_size=32, size=32),
            **common,
        )
    if variant == "chronoedit":  # ChronoEdit: Wan 2.1 I2V layout on its own transformer class
        from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

        encoder = CLIPVisionModel(
            CLIPVisionConfig(
                hidden_size=8,
                intermediate_size=16,
                num_hidden_layers=2,
                num_attention_heads=2,
                image_size=32,
                patch_size=8,
            )
        ).eval()
        z = vae.config.z_dim
        transformer = diffusers.ChronoEditTransformer3DModel(
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=16,
            in_channels=z + 4 + z,
            out_channels=4,
            text_dim=16,
            freq_dim=32,
            ffn_dim=64,
            num_layers=3,
            cross_attn_norm=True,
            rope_max_seq_len=32,
            image_dim=8,
            added_kv_proj_dim=32,
        ).eval()
        common["scheduler"] = diffusers.FlowMatchEulerDiscreteScheduler(shift=3.0)
        return diffusers.ChronoEditPipeline(
            transformer=transformer,
            image_encoder=encoder,
            image_processor=CLIPImageProcessor(crop_size=32, size=32),
            **common,
        )
    cls = {
        "df": diffusers.SkyReelsV2DiffusionForcingPipeline,
        "df-i2v": diffusers.SkyReelsV2DiffusionForcingImageToVideoPipeline,
        "df-v2v": diffusers.SkyReelsV2DiffusionForcingVideoToVideoPipeline,
    }[variant]
    return cls(transformer=_skyreels_transformer(inject_sample_info=True), **common)


def build_tiny_wan_variant_pipeline(variant: str = "vace", seed: int = 0):
    """A random `WanVACEPipeline` (two VACE layers), `WanVideoToVideoPipeline` or `LucyEditPipeline`."""
    import diffusers
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler

    tokenizer, text_encoder, vae = _wan_parts(seed)
    torch.manual_seed(seed + 1)
    common = dict(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0)
    )
    dims = dict(
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
        rope_max_seq_len=32,
    )
    if variant == "lucy":  # Lucy Edit: source-video latents on the channel axis, Wan 2.2 5B's per-token timesteps
        transformer = diffusers.WanTransformer3DModel(**{**dims, "in_channels": 2 * vae.config.z_dim}).eval()
        return diffusers.LucyEditPipeline(transformer=transformer, expand_timesteps=True, **common)
    if variant == "vace":
        z, s = vae.config.z_dim, 2 ** len(vae.temperal_downsample)
        transformer = diffusers.WanVACETransformer3DModel(vace_layers=[0, 2], vace_in_channels=2 * z + s * s, **dims)
        return diffusers.WanVACEPipeline(transformer=transformer.eval(), **common)
    return diffusers.WanVideoToVideoPipeline(transformer=diffusers.WanTransformer3DModel(**dims).eval(), **common)


def build_tiny_wan_animate_pipeline(seed: int = 0):
    """A random WanAnimatePipeline: Wan 2.1 I2V blocks (CLIP image tokens), a 16-pixel face motion encoder, a face
    adapter after blocks 0 and 2."""
    import diffusers
    import torch
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    tokenizer, text_encoder, vae = _wan_parts(seed)
    torch.manual_seed(seed + 1)
    z = vae.config.z_dim
    transformer = diffusers.WanAnimateTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=2 * z + 4,
        latent_channels=z,
        out_channels=z,
        text_dim=16,
        freq_dim=32,
        ffn_dim=64,
        num_layers=4,
        cross_attn_norm=True,
        image_dim=8,
        added_kv_proj_dim=32,
        rope_max_seq_len=32,
        motion_encoder_channel_sizes={"4": 16, "8": 16, "16": 16},
        motion_encoder_size=16,
        motion_style_dim=8,
        motion_dim=4,
        motion_encoder_dim=16,
        face_encoder_hidden_dim=16,
        face_encoder_num_heads=2,
        inject_face_latents_blocks=2,
        motion_encoder_batch_size=4,
    ).eval()
    encoder = CLIPVisionModel(
        CLIPVisionConfig(
            hidden_size=8, intermediate_size=16, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=8
        )
    ).eval()
    return diffusers.WanAnimatePipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        scheduler=_unipc(),
        image_processor=CLIPImageProcessor(crop_size=32, size=32),
        image_encoder=encoder,
        transformer=transformer,
    )


def build_tiny_zeroscope_v2v_pipeline(seed: int = 0):
    """ZeroScope's video-to-video pipeline around the tiny TextToVideoSD parts."""
    from diffusers import VideoToVideoSDPipeline

    from weditor.testing.pipelines import build_tiny_zeroscope_pipeline

    return VideoToVideoSDPipeline(**build_tiny_zeroscope_pipeline(seed=seed).components)


def build_tiny_cogvideox_v2v_pipeline(seed: int = 0):
    """CogVideoXVideoToVideoPipeline around the tiny CogVideoX text-to-video parts."""
    from diffusers import CogVideoXVideoToVideoPipeline

    from weditor.testing.pipelines import build_tiny_cogvideox_pipeline

    return CogVideoXVideoToVideoPipeline(**build_tiny_cogvideox_pipeline(seed=seed).components)


def build_tiny_cogvideox_fun_control_pipeline(seed: int = 0):
    """CogVideoXFunControlPipeline: the tiny CogVideoX parts, a transformer reading 2x4 channels (latent, control)."""
    import torch
    from diffusers import CogVideoXFunControlPipeline, CogVideoXTransformer3DModel

    from weditor.testing.pipelines import build_tiny_cogvideox_pipeline

    parts = build_tiny_cogvideox_pipeline(seed=seed).components
    torch.manual_seed(seed + 1)
    config = {**parts["transformer"].config, "in_channels": 8}
    parts["transformer"] = CogVideoXTransformer3DModel.from_config(config).eval()
    return CogVideoXFunControlPipeline(**parts)


def build_tiny_hunyuan_skyreels_i2v_pipeline(seed: int = 0):
    """HunyuanSkyreelsImageToVideoPipeline: the tiny HunyuanVideo parts, a transformer reading 2x4 channels."""
    import torch
    from diffusers import HunyuanSkyreelsImageToVideoPipeline, HunyuanVideoTransformer3DModel

    from weditor.testing.pipelines import build_tiny_hunyuan_pipeline

    parts = build_tiny_hunyuan_pipeline(seed=seed).components
    torch.manual_seed(seed + 1)
    parts["transformer"] = HunyuanVideoTransformer3DModel(
        in_channels=8,
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
    ).eval()
    return HunyuanSkyreelsImageToVideoPipeline(**parts)


def build_tiny_mochi_pipeline(seed: int = 0):
    """A random MochiPipeline: tiny T5, a two-block transformer, the Mochi VAE of diffusers' own tests (GroupNorm wants 32 channels)."""
    import torch
    from diffusers import AutoencoderKLMochi, FlowMatchEulerDiscreteScheduler, MochiPipeline, MochiTransformer3DModel

    from weditor.testing.text import _t5, build_tokenizer

    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    transformer = MochiTransformer3DModel(
        patch_size=2,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=3,
        pooled_projection_dim=16,
        in_channels=12,
        qk_norm="rms_norm",
        text_embed_dim=16,
        time_embed_dim=4,
        activation_fn="swiglu",
        max_sequence_length=16,
    ).eval()
    vae = AutoencoderKLMochi(
        latent_channels=12,
        out_channels=3,
        encoder_block_out_channels=(32, 32, 32, 32),
        decoder_block_out_channels=(32, 32, 32, 32),
        layers_per_block=(1, 1, 1, 1, 1),
    ).eval()
    return MochiPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=_t5(tokenizer),
        tokenizer=tokenizer,
        transformer=transformer,
    )


def build_tiny_ltx_condition_pipeline(seed: int = 0):
    """LTXConditionPipeline around the tiny LTX parts, with the plain flow-matching scheduler it passes timesteps to."""
    from diffusers import FlowMatchEulerDiscreteScheduler, LTXConditionPipeline

    from weditor.testing.pipelines import build_tiny_ltx_pipeline

    parts = build_tiny_ltx_pipeline(seed=seed).components
    parts["scheduler"] = FlowMatchEulerDiscreteScheduler()
    return LTXConditionPipeline(**parts)


TINY_FAMILY_PIPELINES = {
    "hunyuan-i2v": (build_tiny_hunyuan_i2v_pipeline, {}),
    "hunyuan15-i2v": (build_tiny_hunyuan15_i2v_pipeline, {}),
    "hunyuan15": (build_tiny_hunyuan15_pipeline, {}),
    "ltx-condition": (build_tiny_ltx_condition_pipeline, {}),
    "mochi": (build_tiny_mochi_pipeline, {}),
    "hunyuan-skyreels-i2v": (build_tiny_hunyuan_skyreels_i2v_pipeline, {}),
    "cogvideox-v2v": (build_tiny_cogvideox_v2v_pipeline, {}),
    "cogvideox-fun-control": (build_tiny_cogvideox_fun_control_pipeline, {}),
    "skyreels": (build_tiny_skyreels_pipeline, {"variant": "t2v"}),
    "skyreels-i2v": (build_tiny_skyreels_pipeline, {"variant": "i2v"}),
    "skyreels-df": (build_tiny_skyreels_pipeline, {"variant": "df"}),
    "skyreels-df-i2v": (build_tiny_skyreels_pipeline, {"variant": "df-i2v"}),
    "skyreels-df-v2v": (build_tiny_skyreels_pipeline, {"variant": "df-v2v"}),
    "chronoedit": (build_tiny_skyreels_pipeline, {"variant": "chronoedit"}),
    "wan-vace": (build_tiny_wan_variant_pipeline, {"variant": "vace"}),
    "wan-v2v": (build_tiny_wan_variant_pipeline, {"variant": "v2v"}),
    "lucy-edit": (build_tiny_wan_variant_pipeline, {"variant": "lucy"}),
    "wan-animate": (build_tiny_wan_animate_pipeline, {}),
    "zeroscope-v2v": (build_tiny_zeroscope_v2v_pipeline, {}),
}
