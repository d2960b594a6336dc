"""Tiny random pipelines of the newer video families (SkyReels-V2, Wan VACE / V2V, ...), for tests.

The same recipe as weditor/testing.py (whose `TINY_PIPELINES` registers these): each reuses the
tiny text encoder, tokenizer and VAE of the family it is built on, and a transformer a few
hundred parameters wide, so a denoiser step takes milliseconds on a CPU. Configurations follow
diffusers' own `get_dummy_components` in tests/pipelines/<family>/, made smaller still.
"""

from __future__ import annotations


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

    from weditor.testing.pipelines import _t5, build_tokenizer

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


HV15_FILLER = 10  # filler tokens in the system turn: the template prefix is then exactly crop_start (108) tokens


def build_qwen_chat_tokenizer(system_message: str):
    """Qwen-like word-level tokenizer with a chat template, for HunyuanVideo 1.5: the system turn and
    the user header tokenize to the pipeline's `prompt_template_encode_start_idx` (108) tokens, as the
    real tokenizer's do, so its crop keeps exactly the prompt."""
    from tokenizers import Regex, pre_tokenizers

    from weditor.testing.pipelines import WORDS, _word_level

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<unk>", "<|fill|>"]
    tok = _word_level(
        f"{system_message} system user assistant \n " + " ".join(WORDS),
        specials,
        pre_tokenizer=pre_tokenizers.Split(Regex(r"\w+|[^\w\s]+|\n"), behavior="removed", invert=True),
        pad_token="<|endoftext|>",
        eos_token="<|im_end|>",
        model_max_length=2048,
    )
    tok.add_special_tokens({"additional_special_tokens": specials[1:3] + specials[4:]})
    tok.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['role'] == 'system' %}"
        + "<|fill|>" * HV15_FILLER
        + "{% endif %}{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    return tok


def build_tiny_hunyuan15_pipeline(seed: int = 0):
    """A random HunyuanVideo15Pipeline: tiny Qwen2.5-VL text model (+ chat template), tiny ByT5, 2 blocks."""
    import torch
    from diffusers import (
        AutoencoderKLHunyuanVideo15,
        ClassifierFreeGuidance,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideo15Pipeline,
        HunyuanVideo15Transformer3DModel,
    )
    from transformers import ByT5Tokenizer, T5Config, T5EncoderModel
    from transformers.models.qwen2_5_vl import Qwen2_5_VLTextConfig, Qwen2_5_VLTextModel

    torch.manual_seed(seed)
    system_message = _hv15_system_message()
    tokenizer = build_qwen_chat_tokenizer(system_message)
    text_encoder = Qwen2_5_VLTextModel(
        Qwen2_5_VLTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=3,
            num_attention_heads=2,
            num_key_value_heads=2,
            rope_scaling={"type": "mrope", "mrope_section": [1, 1, 2]},
            pad_token_id=tokenizer.pad_token_id,
        )
    ).eval()
    tokenizer_2 = ByT5Tokenizer()
    text_encoder_2 = T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer_2),
            d_model=8,
            d_kv=4,
            d_ff=16,
            num_layers=1,
            num_heads=2,
            relative_attention_num_buckets=8,
            dropout_rate=0.0,
        )
    ).eval()
    transformer = HunyuanVideo15Transformer3DModel(
        in_channels=2 * 4 + 1,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=3,
        num_refiner_layers=1,
        mlp_ratio=2.0,
        text_embed_dim=16,
        text_embed_2_dim=8,
        image_embed_dim=8,
        rope_axes_dim=(2, 2, 4),
        target_size=32,
        task_type="t2v",
    ).eval()
    vae = AutoencoderKLHunyuanVideo15(
        latent_channels=4,
        block_out_channels=(16, 16, 16, 16, 16),
        layers_per_block=1,
        spatial_compression_ratio=16,
        temporal_compression_ratio=4,
    ).eval()
    return HunyuanVideo15Pipeline(
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
        text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer_2,
        guider=ClassifierFreeGuidance(guidance_scale=1.0),  # one pass per step, as weditor runs it
    )


def build_tiny_hunyuan15_i2v_pipeline(seed: int = 0):
    """HunyuanVideo15ImageToVideoPipeline: the tiny 1.5 parts plus a tiny SigLIP vision tower (8 wide)."""
    import torch
    from diffusers import HunyuanVideo15ImageToVideoPipeline
    from transformers import SiglipImageProcessor, SiglipVisionConfig, SiglipVisionModel

    parts = build_tiny_hunyuan15_pipeline(seed=seed).components
    torch.manual_seed(seed + 1)
    parts["image_encoder"] = SiglipVisionModel(
        SiglipVisionConfig(
            hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=8
        )
    ).eval()
    parts["feature_extractor"] = SiglipImageProcessor(size={"height": 32, "width": 32})
    return HunyuanVideo15ImageToVideoPipeline(**parts)


def build_llava_llama_tokenizer():
    """Llama-3-like word-level tokenizer for HunyuanVideo I2V's template (`<image>` a special token at
    index 5, as with the real one). Its prefix is 102 tokens where the template's crop_start is 103."""
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video_image2video import DEFAULT_PROMPT_TEMPLATE
    from tokenizers import Regex, pre_tokenizers

    from weditor.testing.pipelines import WORDS, _word_level

    specials = [
        "<|end_of_text|>",
        "<|begin_of_text|>",
        "<unk>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eot_id|>",
        "<image>",
    ]
    text = DEFAULT_PROMPT_TEMPLATE["template"].replace("{}", " ".join(WORDS))
    for token in specials:
        text = text.replace(token, " ")
    tok = _word_level(
        text,
        specials,
        pre_tokenizer=pre_tokenizers.Split(Regex(r"\w+|[^\w\s]+|\n+"), behavior="removed", invert=True),
        template="<|begin_of_text|> $A",
        bos_token="<|begin_of_text|>",
        eos_token="<|end_of_text|>",
        pad_token="<|end_of_text|>",
        model_max_length=16,
    )
    tok.add_special_tokens({"additional_special_tokens": specials[3:]})
    return tok


def build_tiny_hunyuan_i2v_pipeline(seed: int = 0):
    """HunyuanVideoImageToVideoPipeline: a tiny Llava (CLIP tower of 576 patches, as the template expects),
    the tiny HunyuanVideo CLIP text encoder and VAE, a latent_concat transformer."""
    import torch
    from diffusers import HunyuanVideoImageToVideoPipeline, HunyuanVideoTransformer3DModel
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
    )

    from weditor.testing.pipelines import build_tiny_hunyuan_pipeline

    parts = build_tiny_hunyuan_pipeline(seed=seed).components
    torch.manual_seed(seed + 1)
    tokenizer = build_llava_llama_tokenizer()
    text_config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=3,
        num_attention_heads=2,
        num_key_value_heads=2,
        pad_token_id=tokenizer.pad_token_id,
    )
    vision_config = CLIPVisionConfig(
        hidden_size=8, intermediate_size=16, num_hidden_layers=2, num_attention_heads=2, image_size=24, patch_size=1
    )
    text_encoder = LlavaForConditionalGeneration(
        LlavaConfig(
            vision_config=vision_config,
            text_config=text_config,
            image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
            pad_token_id=tokenizer.pad_token_id,
        )
    ).eval()
    transformer = HunyuanVideoTransformer3DModel(
        in_channels=2 * 4 + 1,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=2,
        num_single_layers=2,
        num_refiner_layers=1,
        patch_size=2,
        patch_size_t=1,
        guidance_embeds=False,
        text_embed_dim=16,
        pooled_projection_dim=8,
        rope_axes_dim=(2, 2, 4),
        image_condition_type="latent_concat",
    ).eval()
    return HunyuanVideoImageToVideoPipeline(
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        vae=parts["vae"],
        scheduler=parts["scheduler"],
        text_encoder_2=parts["text_encoder_2"],
        tokenizer_2=parts["tokenizer_2"],
        image_processor=CLIPImageProcessor(crop_size=24, size=24),
    )


def _hv15_system_message() -> str:
    import inspect

    from diffusers import HunyuanVideo15Pipeline

    return inspect.signature(HunyuanVideo15Pipeline._get_mllm_prompt_embeds).parameters["system_message"].default


TINY_FAMILY_PIPELINES = {
    "hunyuan-i2v": (build_tiny_hunyuan_i2v_pipeline, {}),
    "hunyuan15-i2v": (build_tiny_hunyuan15_i2v_pipeline, {}),
    "hunyuan15": (build_tiny_hunyuan15_pipeline, {}),
    "ltx-condition": (build_tiny_ltx_condition_pipeline, {}),
    "mochi": (build_tiny_mochi_pipeline, {}),
    "hunyuan-skyreels-i2v": (build_tiny_hunyuan_skyreels_i2v_pipeline, {}),
    "cogvideox-v2v": (build_tiny_cogvideox_v2v_pipeline, {}),
    "skyreels": (build_tiny_skyreels_pipeline, {"variant": "t2v"}),
    "skyreels-i2v": (build_tiny_skyreels_pipeline, {"variant": "i2v"}),
    "skyreels-df": (build_tiny_skyreels_pipeline, {"variant": "df"}),
    "skyreels-df-i2v": (build_tiny_skyreels_pipeline, {"variant": "df-i2v"}),
    "skyreels-df-v2v": (build_tiny_skyreels_pipeline, {"variant": "df-v2v"}),
    "chronoedit": (build_tiny_skyreels_pipeline, {"variant": "chronoedit"}),
    "wan-vace": (build_tiny_wan_variant_pipeline, {"variant": "vace"}),
    "wan-v2v": (build_tiny_wan_variant_pipeline, {"variant": "v2v"}),
    "lucy-edit": (build_tiny_wan_variant_pipeline, {"variant": "lucy"}),
    "zeroscope-v2v": (build_tiny_zeroscope_v2v_pipeline, {}),
}
