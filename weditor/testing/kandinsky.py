"""Tiny random Kandinsky 5 pipelines (text-to-video, image-to-video), for tests.

The recipe of weditor/testing/hunyuan.py: a Qwen-like word-level tokenizer whose chat template's
prefix (the pipeline's system turn and user header) tokenizes to exactly the pipeline's
`prompt_template_encode_start_idx` (128) tokens, as the real Qwen2.5-VL tokenizer's does, so the
pipeline's crop keeps exactly the prompt; a tiny Qwen2.5-VL text model; the tiny CLIP text encoder
(pooled output); the tiny HunyuanVideo VAE; a transformer of one text block and three visual blocks.
Kandinsky 5 initialises every modulation to zero (the blocks would then do nothing): here they are
drawn at random, so the tests see gated writes that are not zero.
"""

from __future__ import annotations

PREFIX = 128  # Kandinsky5T2VPipeline.prompt_template_encode_start_idx


def prompt_template() -> str:
    """The pipeline's own Qwen chat template (set in its `__init__`, which accepts no components)."""
    from diffusers import Kandinsky5T2VPipeline

    pipe = Kandinsky5T2VPipeline.__new__(Kandinsky5T2VPipeline)
    Kandinsky5T2VPipeline.__init__(pipe, *[None] * 7)
    return pipe.prompt_template


def build_kandinsky_tokenizer(template: str, prefix: int = PREFIX, max_length: int = 2048):
    """Qwen-like: words, punctuation and newlines are tokens; `<|im_start|>` / `<|im_end|>` special. Three
    two-word phrases of the system turn are one token each, which brings the template's prefix to exactly
    `PREFIX` tokens (131 otherwise); Kandinsky 6's template ("promt engineer") is then its 129 tokens as it is."""
    from tokenizers import Regex, pre_tokenizers

    from weditor.testing.text import WORDS, _word_level

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<unk>"]
    text = template.replace("{}", " ".join(WORDS))
    for s in specials:
        text = text.replace(s, " ")
    tok = _word_level(
        text + " system user",
        specials,
        pre_tokenizer=pre_tokenizers.Split(
            Regex(r"prompt engineer|view angle|key actions|\w+|[^\w\s]+|\n"), behavior="removed", invert=True
        ),
        pad_token="<|endoftext|>",
        eos_token="<|im_end|>",
        model_max_length=max_length,
    )
    tok.add_special_tokens({"additional_special_tokens": specials[1:3]})
    got = len(tok(template.split("{}")[0])["input_ids"])
    assert got == prefix, got
    return tok


def _qwen(tokenizer):
    from transformers.models.qwen2_5_vl import Qwen2_5_VLTextConfig, Qwen2_5_VLTextModel

    return Qwen2_5_VLTextModel(
        Qwen2_5_VLTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            rope_scaling={"type": "mrope", "mrope_section": [1, 1, 2]},
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=None,
            eos_token_id=tokenizer.eos_token_id,
        )
    ).eval()


def _modulations_at_random(transformer, seed: int):
    import torch

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in transformer.named_parameters():
            if "modulation" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    return transformer


def build_tiny_kandinsky5_pipeline(variant: str = "t2v", seed: int = 0):
    """A random Kandinsky5T2VPipeline (`t2v`) or Kandinsky5I2VPipeline (`i2v`: `visual_cond`, the image's
    latent and a mask on the channel axis)."""
    import torch
    from diffusers import (
        AutoencoderKLHunyuanVideo,
        FlowMatchEulerDiscreteScheduler,
        Kandinsky5I2VPipeline,
        Kandinsky5T2VPipeline,
        Kandinsky5Transformer3DModel,
    )

    from weditor.testing.text import _clip_text, build_clip_tokenizer

    if variant not in ("t2v", "i2v"):
        raise ValueError(f"unknown Kandinsky 5 variant {variant!r}")
    torch.manual_seed(seed)
    tokenizer = build_kandinsky_tokenizer(prompt_template())
    text_encoder = _qwen(tokenizer)
    tokenizer_2 = build_clip_tokenizer(max_length=77)
    transformer = Kandinsky5Transformer3DModel(
        in_visual_dim=4,
        in_text_dim=16,
        in_text_dim2=16,
        time_dim=16,
        out_visual_dim=4,
        patch_size=(1, 2, 2),
        model_dim=24,
        ff_dim=32,
        num_text_blocks=1,
        num_visual_blocks=3,
        axes_dims=(4, 4, 4),
        visual_cond=variant == "i2v",
    ).eval()
    vae = AutoencoderKLHunyuanVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        down_block_types=("HunyuanVideoDownBlock3D",) * 4,
        up_block_types=("HunyuanVideoUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        act_fn="silu",
        norm_num_groups=4,
        scaling_factor=0.476986,
        spatial_compression_ratio=8,
        temporal_compression_ratio=4,
        mid_block_add_attention=True,
    ).eval()
    cls = Kandinsky5T2VPipeline if variant == "t2v" else Kandinsky5I2VPipeline
    return cls(
        transformer=_modulations_at_random(transformer, seed),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        text_encoder_2=_clip_text(tokenizer_2),
        tokenizer_2=tokenizer_2,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
    )


def build_tiny_kandinsky6_pipeline(seed: int = 0):
    """A random Kandinsky6TI2VAPipeline without its audio VAE and vocoder (optional components; weditor runs the
    pipeline's video-only mode, `sample_audio=False`): the tokenizer's template prefix is the pipeline's 129
    tokens, `visual_token_type_num_embeddings` 2 for the image-to-video tail frame, random modulations."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, Kandinsky6TI2VAPipeline, Kandinsky6Transformer3DModel
    from diffusers.pipelines.kandinsky6.pipeline_kandinsky6_ti2va import _PROMPT_TEMPLATE, _QWEN_CROP_START

    torch.manual_seed(seed)
    k5 = build_tiny_kandinsky5_pipeline("t2v", seed)  # its CLIP text encoder and tokenizer, and its VAE
    tokenizer = build_kandinsky_tokenizer(_PROMPT_TEMPLATE, _QWEN_CROP_START, max_length=16)
    transformer = Kandinsky6Transformer3DModel(
        in_visual_dim=4,
        out_visual_dim=4,
        in_text_dim=16,
        in_text_dim2=16,
        time_dim=16,
        patch_size=(1, 2, 2),
        model_dim=24,
        ff_dim=32,
        num_text_blocks=1,
        num_visual_blocks=3,
        axes_dims=(4, 4, 4),
        in_audio_dim=4,
        out_audio_dim=4,
        visual_token_type_num_embeddings=2,
    ).eval()
    return Kandinsky6TI2VAPipeline(
        transformer=_modulations_at_random(transformer, seed),
        vae=k5.vae,
        text_encoder=_qwen(tokenizer),
        tokenizer=tokenizer,
        text_encoder_2=k5.text_encoder_2,
        tokenizer_2=k5.tokenizer_2,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
    )


TINY_KANDINSKY_PIPELINES = {
    "kandinsky5": (build_tiny_kandinsky5_pipeline, {"variant": "t2v"}),
    "kandinsky5-i2v": (build_tiny_kandinsky5_pipeline, {"variant": "i2v"}),
    "kandinsky6": (build_tiny_kandinsky6_pipeline, {}),
}
