"""Tiny HunyuanVideo 1.5 (T2V, I2V) and HunyuanVideo I2V pipelines: their chat-template tokenizers (Qwen-like,
LLaVA-like) and builders, registered by weditor/testing/families.py."""

from __future__ import annotations

HV15_FILLER = 10  # filler tokens in the system turn: the template prefix is then exactly crop_start (108) tokens


def build_qwen_chat_tokenizer(system_message: str):
    """Qwen-like word-level tokenizer with a chat template, for HunyuanVideo 1.5: the system turn and
    the user header tokenize to the pipeline's `prompt_template_encode_start_idx` (108) tokens, as the
    real tokenizer's do, so its crop keeps exactly the prompt."""
    from tokenizers import Regex, pre_tokenizers

    from weditor.testing.text import WORDS, _word_level

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

    from weditor.testing.text import WORDS, _word_level

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
