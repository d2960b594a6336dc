"""Tiny random Sana-Video pipelines (text-to-video, image-to-video), for tests.

The recipe of weditor/testing/ltx2.py: a word-level Gemma-like tokenizer trained here (`<bos>` first;
the pipeline pads on the right itself), a tiny random Gemma 2 text model (`Gemma2Model`, what the
checkpoints ship), the tiny Wan VAE of weditor/testing/pipelines.py (Sana-Video's VAE is Wan 2.1's),
and a three-block `SanaVideoTransformer3DModel`. T2V gets the flow DPM-Solver its checkpoint ships,
I2V the flow-matching Euler scheduler.
"""

from __future__ import annotations


def _gemma2(tokenizer):
    from transformers import Gemma2Config, Gemma2Model

    return Gemma2Model(
        Gemma2Config(
            vocab_size=len(tokenizer),
            hidden_size=16,
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
    ).eval()


def _wan_vae():
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(
        base_dim=8,
        z_dim=4,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
        latents_mean=[0.0] * 4,
        latents_std=[1.0] * 4,
    ).eval()


def build_tiny_sana_video_pipeline(variant: str = "t2v", seed: int = 0):
    """A random SanaVideoPipeline (`t2v`) or SanaImageToVideoPipeline (`i2v`)."""
    import torch
    from diffusers import (
        DPMSolverMultistepScheduler,
        FlowMatchEulerDiscreteScheduler,
        SanaImageToVideoPipeline,
        SanaVideoPipeline,
        SanaVideoTransformer3DModel,
    )

    from weditor.testing.ltx2 import build_gemma_tokenizer

    torch.manual_seed(seed)
    tokenizer = build_gemma_tokenizer()
    tokenizer.padding_side = "right"
    transformer = SanaVideoTransformer3DModel(
        in_channels=4,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=12,
        num_layers=3,
        num_cross_attention_heads=2,
        cross_attention_head_dim=12,
        cross_attention_dim=24,
        caption_channels=16,
        mlp_ratio=2.0,
        sample_size=8,
        patch_size=(1, 2, 2),
        rope_max_seq_len=32,
    ).eval()
    if variant == "t2v":
        cls = SanaVideoPipeline
        scheduler = DPMSolverMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=8.0)
    elif variant == "i2v":
        cls, scheduler = SanaImageToVideoPipeline, FlowMatchEulerDiscreteScheduler(shift=8.0)
    else:
        raise ValueError(f"unknown Sana-Video variant {variant!r}")
    return cls(
        tokenizer=tokenizer,
        text_encoder=_gemma2(tokenizer),
        vae=_wan_vae(),
        transformer=transformer,
        scheduler=scheduler,
    )


def build_tiny_sana_wm_pipeline(seed: int = 0):
    """A random SanaWMPipeline: the tiny Gemma 2 above, the one-level LTX-2 VAE (2x spatial and temporal) and the
    two-block transformer (one Gated-DeltaNet, one softmax camera block) of diffusers' own SANA-WM tests."""
    import torch
    from diffusers import (
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        SanaWMPipeline,
        SanaWMTransformer3DModel,
    )

    from weditor.testing.ltx2 import build_gemma_tokenizer

    torch.manual_seed(seed)
    tokenizer = build_gemma_tokenizer()
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
    transformer = SanaWMTransformer3DModel(
        in_channels=4,
        num_layers=2,
        hidden_size=32,
        num_attention_heads=2,
        softmax_every_n=2,
        linear_head_dim=16,
        t_kernel_size=3,
        conv_kernel_size=4,
        caption_channels=16,
        mlp_ratio=2.0,
        chunk_plucker_channels=6 * vae.temporal_compression_ratio,
        chunk_plucker_post_attn_blocks=2,
    ).eval()
    return SanaWMPipeline(
        tokenizer=tokenizer,
        text_encoder=_gemma2(tokenizer),
        vae=vae,
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(),
    )


TINY_SANA_PIPELINES = {
    "sana-video": (build_tiny_sana_video_pipeline, {"variant": "t2v"}),
    "sana-video-i2v": (build_tiny_sana_video_pipeline, {"variant": "i2v"}),
    "sana-wm": (build_tiny_sana_wm_pipeline, {}),
}
