"""Tiny random LTX-2 pipelines (joint audio-video transformer, Gemma 3 text), for tests.

The recipe of weditor/testing.py: a word-level tokenizer trained here (Gemma's special tokens,
left padding as the pipeline asks), a tiny random Gemma 3 (text and a 1-layer SigLIP tower, which
the class requires but the pipeline never calls), the text connectors, and a 3-block transformer
of the widths diffusers' own tests use (tests/pipelines/ltx2/testing_utils.py), so a denoiser step
takes milliseconds on a CPU. `TINY_LTX2_PIPELINES` is registered in `weditor.testing.TINY_PIPELINES`.
"""

from __future__ import annotations


def build_gemma_tokenizer(max_length: int = 16):
    """Gemma-like word-level tokenizer: `<bos>` first, `<pad>` (id 0) padding on the left."""
    from weditor.testing.text import WORDS, _word_level

    tok = _word_level(
        WORDS,
        ["<pad>", "<eos>", "<bos>", "<unk>"],
        template="<bos> $A",
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        model_max_length=max_length,
        padding_side="left",
    )
    return tok


def _gemma3(tokenizer):
    from transformers import (
        Gemma3Config,
        Gemma3ForConditionalGeneration,
        Gemma3TextConfig,
        SiglipVisionConfig,
    )

    text = Gemma3TextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        sliding_window=8,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    vision = SiglipVisionConfig(
        hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2, image_size=8, patch_size=4
    )
    return Gemma3ForConditionalGeneration(
        Gemma3Config(
            text_config=text, vision_config=vision, mm_tokens_per_image=4, image_token_index=tokenizer.unk_token_id
        )
    ).eval()


def build_tiny_ltx2_pipeline(variant: str = "t2v", seed: int = 0):
    """A random `LTX2Pipeline` (`t2v`), `LTX2ImageToVideoPipeline` (`i2v`), `LTX2ConditionPipeline` (`condition`),
    `LTX2DFRPipeline` (`dfr`, with LTX-2.5's keyframe marker), `LTX2HDRPipeline` (`hdr`) or
    `LTX2InContextPipeline` (`in-context`): the same parts."""
    import diffusers
    import torch
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder

    torch.manual_seed(seed)
    tokenizer = build_gemma_tokenizer()
    text_encoder = _gemma3(tokenizer)
    width, layers = text_encoder.config.text_config.hidden_size, text_encoder.config.text_config.num_hidden_layers
    transformer = diffusers.LTX2VideoTransformer3DModel(
        in_channels=4,
        out_channels=4,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        audio_in_channels=4,
        audio_out_channels=4,
        audio_num_attention_heads=2,
        audio_attention_head_dim=4,
        audio_cross_attention_dim=8,
        num_layers=3,
        caption_channels=width,
        rope_double_precision=False,
        rope_type="split",
        use_keyframes_abs_pos_embedding=variant == "dfr",  # LTX-2.5's keyframe marker: DFR's slots need it
    ).eval()
    connectors = LTX2TextConnectors(
        caption_channels=width,
        text_proj_in_factor=layers + 1,
        video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=32,
        rope_theta=10000.0,
        rope_double_precision=False,
        causal_temporal_positioning=False,
        rope_type="split",
    ).eval()
    vae = AutoencoderKLLTX2Video(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(8,),
        decoder_block_out_channels=(8,),
        layers_per_block=(1,),
        decoder_layers_per_block=(1, 1),
        spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,),
        decoder_inject_noise=(False, False),
        downsample_type=("spatial",),
        upsample_residual=(False,),
        upsample_factor=(1,),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    ).eval()
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4,
        output_channels=2,
        ch_mult=(1,),
        num_res_blocks=1,
        attn_resolutions=None,
        in_channels=2,
        resolution=32,
        latent_channels=2,
        norm_type="pixel",
        causality_axis="height",
        dropout=0.0,
        mid_block_add_attention=False,
        sample_rate=16000,
        mel_hop_length=160,
        is_causal=True,
        mel_bins=8,
    ).eval()
    vocoder = LTX2Vocoder(
        in_channels=2 * 8,
        hidden_channels=32,
        out_channels=2,
        upsample_kernel_sizes=[4, 4],
        upsample_factors=[2, 2],
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]],
        leaky_relu_negative_slope=0.1,
        output_sampling_rate=16000,
    ).eval()
    cls = {
        "t2v": diffusers.LTX2Pipeline,
        "i2v": diffusers.LTX2ImageToVideoPipeline,
        "condition": diffusers.LTX2ConditionPipeline,
        "dfr": diffusers.LTX2DFRPipeline,
        "hdr": diffusers.LTX2HDRPipeline,
        "in-context": diffusers.LTX2InContextPipeline,
    }[variant]
    return cls(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        audio_vae=audio_vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        connectors=connectors,
        transformer=transformer,
        vocoder=vocoder,
    )


TINY_LTX2_PIPELINES = {
    "ltx2": (build_tiny_ltx2_pipeline, {"variant": "t2v"}),
    "ltx2-i2v": (build_tiny_ltx2_pipeline, {"variant": "i2v"}),
    "ltx2-condition": (build_tiny_ltx2_pipeline, {"variant": "condition"}),
    "ltx2-dfr": (build_tiny_ltx2_pipeline, {"variant": "dfr"}),
    "ltx2-hdr": (build_tiny_ltx2_pipeline, {"variant": "hdr"}),
    "ltx2-in-context": (build_tiny_ltx2_pipeline, {"variant": "in-context"}),
}
