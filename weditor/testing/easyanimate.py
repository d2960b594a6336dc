"""Tiny EasyAnimate pipelines (T2V, control, inpaint): a Qwen2-VL text model with a chat-template tokenizer,
a two-level MagViT VAE, a two-block EasyAnimate transformer; `TINY_EASYANIMATE_PIPELINES` is registered in
`weditor.testing.TINY_PIPELINES`."""

from __future__ import annotations


def build_qwen2vl_tokenizer():
    """Qwen-like word-level tokenizer whose chat template reads EasyAnimate's message format (content: a list of
    {"type": "text", "text": ...} parts)."""
    from tokenizers import Regex, pre_tokenizers

    from weditor.testing.text import WORDS, _word_level

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<unk>"]
    tok = _word_level(
        "system user assistant \n " + " ".join(WORDS),
        specials,
        pre_tokenizer=pre_tokenizers.Split(Regex(r"\w+|[^\w\s]+|\n"), behavior="removed", invert=True),
        pad_token="<|endoftext|>",
        eos_token="<|im_end|>",
        model_max_length=2048,
    )
    tok.add_special_tokens({"additional_special_tokens": specials[1:3]})
    tok.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
        "{% for c in m['content'] %}{{ c['text'] }}{% endfor %}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    return tok


def build_tiny_easyanimate_pipeline(variant: str = "t2v", seed: int = 0):
    """A random EasyAnimatePipeline (`t2v`), EasyAnimateControlPipeline (`control`: the transformer reads the
    latent, the control and the reference-image latents, 3 x 4 channels) or EasyAnimateInpaintPipeline
    (`inpaint`: latent, mask and masked-video latents, 4 + 1 + 4 channels)."""
    import diffusers
    import torch
    from diffusers import AutoencoderKLMagvit, EasyAnimateTransformer3DModel, FlowMatchEulerDiscreteScheduler
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    torch.manual_seed(seed)
    tokenizer = build_qwen2vl_tokenizer()
    text_encoder = Qwen2VLForConditionalGeneration(
        Qwen2VLConfig(
            text_config=dict(
                vocab_size=len(tokenizer),
                hidden_size=16,
                intermediate_size=32,
                num_hidden_layers=3,
                num_attention_heads=2,
                num_key_value_heads=2,
                rope_scaling={"type": "mrope", "mrope_section": [1, 1, 2]},
                pad_token_id=tokenizer.pad_token_id,
                bos_token_id=None,
                eos_token_id=tokenizer.eos_token_id,
            ),
            vision_config=dict(depth=1, embed_dim=8, hidden_size=16, num_heads=2, patch_size=2, in_channels=3),
            vocab_size=len(tokenizer),
            hidden_size=16,
            bos_token_id=None,
            eos_token_id=tokenizer.eos_token_id,
        )
    ).eval()
    in_channels = {"t2v": 4, "control": 12, "inpaint": 9}[variant]
    transformer = EasyAnimateTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=16,  # the 3D RoPE splits it 4 + 6 + 6
        in_channels=in_channels,
        out_channels=4,
        patch_size=2,
        sample_width=8,
        sample_height=8,
        num_layers=2,
        mmdit_layers=2,
        time_embed_dim=8,
        text_embed_dim=16,
        add_noise_in_inpaint_model=False,
    ).eval()
    vae = AutoencoderKLMagvit(
        latent_channels=4,
        block_out_channels=(8, 8),
        down_block_types=("SpatialDownBlock3D", "SpatialTemporalDownBlock3D"),
        up_block_types=("SpatialUpBlock3D", "SpatialTemporalUpBlock3D"),
        layers_per_block=1,
        norm_num_groups=2,
    ).eval()
    cls = {
        "t2v": diffusers.EasyAnimatePipeline,
        "control": diffusers.EasyAnimateControlPipeline,
        "inpaint": diffusers.EasyAnimateInpaintPipeline,
    }[variant]
    return cls(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(),
    )


TINY_EASYANIMATE_PIPELINES = {
    "easyanimate": (build_tiny_easyanimate_pipeline, {"variant": "t2v"}),
    "easyanimate-control": (build_tiny_easyanimate_pipeline, {"variant": "control"}),
    "easyanimate-inpaint": (build_tiny_easyanimate_pipeline, {"variant": "inpaint"}),
}
