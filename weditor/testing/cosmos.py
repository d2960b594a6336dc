"""Tiny random Cosmos pipelines, for tests (configurations after diffusers' tests/pipelines/cosmos, smaller).

The Cosmos pipelines build their guardrail (`CosmosSafetyChecker`, from the cosmos_guardrail package)
when given none; these are built with weditor's stand-in (weditor/models/guardrail.py), which
`save_pretrained` cannot save, so the saved model_index.json says `"safety_checker": [null, null]`.
Stock `from_pretrained` of such a folder then raises ImportError unless cosmos_guardrail is installed
or a checker is passed, which is what weditor's loader does. Tests that run the stock pipeline pass
`PassingSafetyChecker`, as diffusers' own tests pass their `DummyCosmosSafetyChecker`.

`concat_padding_mask=False`: with it the transformer resizes a padding mask with torchvision, which
is not a dependency of weditor (every released Cosmos checkpoint sets it: the adapter then requires
torchvision, one `Error:` line without it).
"""

from __future__ import annotations


class PassingSafetyChecker:
    """A checker that passes every prompt and video: for tests that run the stock pipeline's loop."""

    def check_text_safety(self, prompt: str) -> bool:
        return True

    def check_video_safety(self, frames):
        return frames

    def to(self, *args, **kwargs):
        return self


def fake_torchvision():
    """A stand-in for the one torchvision call Cosmos 2.5's Image2World path makes (`transforms.functional.
    to_tensor`: uint8 RGB HWC -> float CHW in [0, 1]), where torchvision is not installed (it is no dependency)."""
    from types import SimpleNamespace

    import numpy as np
    import torch

    def to_tensor(pic):
        return torch.from_numpy(np.array(pic.convert("RGB"), dtype=np.uint8)).permute(2, 0, 1).float().div(255)

    return SimpleNamespace(transforms=SimpleNamespace(functional=SimpleNamespace(to_tensor=to_tensor)))


def _t5_parts():
    from weditor.testing.text import _t5, build_tokenizer

    tokenizer = build_tokenizer()
    return tokenizer, _t5(tokenizer)


def _cosmos1_transformer(in_channels: int):
    from diffusers import CosmosTransformer3DModel

    return CosmosTransformer3DModel(
        in_channels=in_channels,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=12,
        num_layers=3,
        mlp_ratio=2,
        text_embed_dim=16,
        adaln_lora_dim=4,
        max_size=(4, 32, 32),
        patch_size=(1, 2, 2),
        rope_scale=(2.0, 1.0, 1.0),
        concat_padding_mask=False,
        extra_pos_embed_type="learnable",
    ).eval()


def _cosmos1_vae():
    from diffusers import AutoencoderKLCosmos

    return AutoencoderKLCosmos(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        encoder_block_out_channels=(8, 8, 8, 8),
        decode_block_out_channels=(8, 8, 8, 8),
        attention_resolutions=(8,),
        resolution=64,
        num_layers=2,
        patch_size=4,
        patch_type="haar",
        scaling_factor=1.0,
        spatial_compression_ratio=4,
        temporal_compression_ratio=4,
        latents_mean=None,
        latents_std=None,
    ).eval()


def build_tiny_cosmos_pipeline(video: bool = False, seed: int = 0):
    """A random Cosmos 1 pipeline: tiny T5, a three-block transformer (a condition-mask channel more for
    `video`: CosmosVideoToWorldPipeline), a 4x Cosmos VAE, EDM Euler as the checkpoints ship it."""
    import torch
    from diffusers import CosmosTextToWorldPipeline, CosmosVideoToWorldPipeline, EDMEulerScheduler

    from weditor.models.guardrail import stand_in

    torch.manual_seed(seed)
    tokenizer, text_encoder = _t5_parts()
    transformer = _cosmos1_transformer(in_channels=5 if video else 4)
    cls = CosmosVideoToWorldPipeline if video else CosmosTextToWorldPipeline
    return cls(
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        vae=_cosmos1_vae(),
        scheduler=EDMEulerScheduler(final_sigmas_type="sigma_min"),
        safety_checker=stand_in(cls),
    )


def build_tiny_cosmos2_pipeline(seed: int = 0):
    """A random Cosmos2VideoToWorldPipeline: tiny T5, the Cosmos 1 transformer with a condition-mask channel,
    the tiny Wan VAE (8x spatial, 4x time), flow-matching Euler on Karras sigmas as Cosmos-Predict2 ships."""
    import torch
    from diffusers import AutoencoderKLWan, Cosmos2VideoToWorldPipeline, FlowMatchEulerDiscreteScheduler

    from weditor.models.guardrail import stand_in

    torch.manual_seed(seed)
    tokenizer, text_encoder = _t5_parts()
    vae = AutoencoderKLWan(
        base_dim=8,
        z_dim=4,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
        latents_mean=[0.0] * 4,
        latents_std=[1.0] * 4,
    ).eval()
    return Cosmos2VideoToWorldPipeline(
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=_cosmos1_transformer(in_channels=5),
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(use_karras_sigmas=True),
        safety_checker=stand_in(Cosmos2VideoToWorldPipeline),
    )


COSMOS25_SYSTEM = "You are a helpful assistant who will provide prompts to an image generator."
COSMOS25_TEXT_LENGTH = 32  # the tiny tokenizer's model_max_length: system turn (17 tokens) + the prompt


def build_cosmos25_tokenizer():
    """Qwen-like word-level tokenizer whose chat template reads list-of-parts contents, as Cosmos 2.5's
    pipeline writes its conversation."""
    from tokenizers import Regex, pre_tokenizers

    from weditor.testing.text import WORDS, _word_level

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<unk>"]
    tok = _word_level(
        f"{COSMOS25_SYSTEM} system user assistant \n " + " ".join(WORDS),
        specials,
        pre_tokenizer=pre_tokenizers.Split(Regex(r"\w+|[^\w\s]+|\n"), behavior="removed", invert=True),
        pad_token="<|endoftext|>",
        eos_token="<|im_end|>",
        model_max_length=COSMOS25_TEXT_LENGTH,
    )
    tok.add_special_tokens({"additional_special_tokens": specials[1:3]})
    tok.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for part in m['content'] %}{{ part['text'] }}"
        "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    return tok


def build_tiny_cosmos25_pipeline(seed: int = 0):
    """A random Cosmos2_5_PredictBasePipeline: tiny Qwen2.5-VL text model (3 layers of 16: 48-wide embeddings,
    `crossattn_proj` 48 -> 16), the Cosmos transformer with a condition-mask channel, the tiny Wan VAE, UniPC on
    flow sigmas."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        Cosmos2_5_PredictBasePipeline,
        CosmosTransformer3DModel,
        UniPCMultistepScheduler,
    )
    from transformers.models.qwen2_5_vl import Qwen2_5_VLTextConfig, Qwen2_5_VLTextModel

    from weditor.models.guardrail import stand_in

    torch.manual_seed(seed)
    tokenizer = build_cosmos25_tokenizer()
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
            bos_token_id=tokenizer.convert_tokens_to_ids("<|im_start|>"),
            eos_token_id=tokenizer.eos_token_id,
        )
    ).eval()
    transformer = CosmosTransformer3DModel(
        in_channels=5,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=12,
        num_layers=3,
        mlp_ratio=2,
        text_embed_dim=16,
        adaln_lora_dim=4,
        max_size=(4, 32, 32),
        patch_size=(1, 2, 2),
        rope_scale=(1.0, 3.0, 3.0),
        concat_padding_mask=False,
        extra_pos_embed_type=None,
        use_crossattn_projection=True,
        crossattn_proj_in_channels=48,
        encoder_hidden_states_channels=16,
    ).eval()
    vae = AutoencoderKLWan(
        base_dim=8,
        z_dim=4,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
        latents_mean=[0.0] * 4,
        latents_std=[1.0] * 4,
    ).eval()
    scheduler = UniPCMultistepScheduler(use_flow_sigmas=True, prediction_type="flow_prediction", flow_shift=5.0)
    return Cosmos2_5_PredictBasePipeline(
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        vae=vae,
        scheduler=scheduler,
        safety_checker=stand_in(Cosmos2_5_PredictBasePipeline),
    )


TINY_COSMOS_PIPELINES = {
    "cosmos": (build_tiny_cosmos_pipeline, {}),
    "cosmos-v2w": (build_tiny_cosmos_pipeline, {"video": True}),
    "cosmos2-v2w": (build_tiny_cosmos2_pipeline, {}),
    "cosmos25": (build_tiny_cosmos25_pipeline, {}),
}
