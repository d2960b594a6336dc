"""Tiny random pipelines built offline, for tests and benchmarks.

No weights can be downloaded where weditor is developed, so every test that needs a real
diffusers pipeline builds one here: a word-level tokenizer trained locally with `tokenizers`,
a tiny UMT5 encoder and tiny Wan VAE/transformer configs. They are saved with the stock
`save_pretrained`, so the code under test loads them exactly as it loads a Hub checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from weditor.testing.text import (
    _clip_text,
    _t5,
    build_clip_tokenizer,
    build_llama_tokenizer,
    build_tokenizer,
)


def build_tiny_wan_pipeline(
    num_layers: int = 4,
    hidden: int = 32,
    heads: int = 2,
    text_dim: int = 16,
    two_stage: bool = False,
    seed: int = 0,
    dtype=None,
):
    """A random WanPipeline small enough to run a denoiser step in milliseconds on a CPU."""
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(tokenizer),
            d_model=text_dim,
            d_kv=8,
            d_ff=32,
            num_layers=1,
            num_heads=2,
            relative_attention_num_buckets=8,
            dropout_rate=0.0,
        )
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

    def transformer():
        return WanTransformer3DModel(
            patch_size=(1, 2, 2),
            num_attention_heads=heads,
            attention_head_dim=hidden // heads,
            in_channels=4,
            out_channels=4,
            text_dim=text_dim,
            freq_dim=32,
            ffn_dim=2 * hidden,
            num_layers=num_layers,
            cross_attn_norm=True,
            rope_max_seq_len=32,
        ).eval()

    pipe = WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
        transformer=transformer(),
        transformer_2=transformer() if two_stage else None,
        boundary_ratio=0.5 if two_stage else None,
    )
    if dtype is not None:
        pipe.to(dtype=dtype)
    return pipe


def save_tiny_wan_pipeline(path: str | Path, max_shard_size: str | None = None, **kwargs) -> Path:
    """Build and save a tiny Wan pipeline; `max_shard_size` forces a sharded transformer."""
    path = Path(path)
    pipe = build_tiny_wan_pipeline(**kwargs)
    pipe.save_pretrained(path, safe_serialization=True)
    if max_shard_size is not None:
        for name in ("transformer", "transformer_2"):
            model = getattr(pipe, name, None)
            if model is None:
                continue
            for f in (path / name).glob("diffusion_pytorch_model*"):
                f.unlink()
            model.save_pretrained(path / name, safe_serialization=True, max_shard_size=max_shard_size)
    return path


# --------------------------------------------------------------------------- more families
#
# One tiny random pipeline per supported diffusers pipeline class, each saved with the stock
# `save_pretrained`. Text encoders are tiny random T5 / Llama / CLIP models; their tokenizers are
# word-level fast tokenizers trained here with the special tokens and templates of the real ones.


def build_tiny_wan_i2v_pipeline(
    num_layers: int = 4,
    hidden: int = 32,
    heads: int = 2,
    text_dim: int = 16,
    image_encoder: bool = True,
    expand_timesteps: bool = False,
    seed: int = 0,
):
    """A random WanImageToVideoPipeline; `image_encoder`: Wan 2.1 style (CLIP image tokens), else 2.2 A14B
    style (channel-concatenated condition only); `expand_timesteps`: Wan 2.2 TI2V-5B style (the image
    latent replaces frame 0, whose tokens get timestep 0)."""
    import torch
    from diffusers import WanImageToVideoPipeline, WanTransformer3DModel
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    base = build_tiny_wan_pipeline(num_layers=num_layers, hidden=hidden, heads=heads, text_dim=text_dim, seed=seed)
    torch.manual_seed(seed + 1)
    z = base.vae.config.z_dim
    vision = 8
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=heads,
        attention_head_dim=hidden // heads,
        in_channels=z if expand_timesteps else z + base.vae_scale_factor_temporal + z,
        out_channels=z,
        text_dim=text_dim,
        freq_dim=32,
        ffn_dim=2 * hidden,
        num_layers=num_layers,
        cross_attn_norm=True,
        rope_max_seq_len=32,
        image_dim=vision if image_encoder else None,
        added_kv_proj_dim=hidden if image_encoder else None,
    ).eval()
    encoder = processor = None
    if image_encoder:
        encoder = CLIPVisionModel(
            CLIPVisionConfig(
                hidden_size=vision,
                intermediate_size=16,
                num_hidden_layers=2,
                num_attention_heads=2,
                image_size=32,
                patch_size=8,
            )
        ).eval()
        processor = CLIPImageProcessor(crop_size=32, size=32)
    return WanImageToVideoPipeline(
        tokenizer=base.tokenizer,
        text_encoder=base.text_encoder,
        vae=base.vae,
        scheduler=base.scheduler,
        image_processor=processor,
        image_encoder=encoder,
        transformer=transformer,
        expand_timesteps=expand_timesteps,
    )


def build_tiny_cogvideox_pipeline(i2v: bool = False, num_layers: int = 3, seed: int = 0):
    """A random CogVideoX(ImageToVideo)Pipeline; I2V with learned positions (fixed 32x32x9), like CogVideoX-5b-I2V."""
    import torch
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXDPMScheduler,
        CogVideoXImageToVideoPipeline,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
    )

    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    text_encoder = _t5(tokenizer)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=8 if i2v else 4,
        out_channels=4,
        time_embed_dim=4,
        text_embed_dim=16,
        num_layers=num_layers,
        sample_width=4,
        sample_height=4,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=16,
        use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=i2v,
    ).eval()
    vae = AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    ).eval()
    cls, scheduler = (
        (CogVideoXImageToVideoPipeline, CogVideoXDPMScheduler())
        if i2v
        else (CogVideoXPipeline, CogVideoXDDIMScheduler())
    )
    return cls(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer, scheduler=scheduler)


def build_tiny_ltx_pipeline(i2v: bool = False, num_layers: int = 3, seed: int = 0):
    """A random LTX(ImageToVideo)Pipeline with a size-dependent (dynamic) schedule shift, as LTX-Video ships."""
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXImageToVideoPipeline,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    text_encoder = _t5(tokenizer)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        num_layers=num_layers,
        caption_channels=16,
    ).eval()
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4,
        upsample_factor=(1,) * 4,
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    ).eval()
    scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024, max_image_seq_len=4096
    )
    cls = LTXImageToVideoPipeline if i2v else LTXPipeline
    return cls(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer, scheduler=scheduler)


def build_tiny_hunyuan_pipeline(num_layers: int = 2, num_single_layers: int = 2, seed: int = 0):
    """A random HunyuanVideoPipeline: tiny Llama (+ template-exact tokenizer) and tiny CLIP text encoders."""
    import torch
    from diffusers import (
        AutoencoderKLHunyuanVideo,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideoPipeline,
        HunyuanVideoTransformer3DModel,
    )
    from transformers import LlamaConfig, LlamaModel

    torch.manual_seed(seed)
    tokenizer = build_llama_tokenizer()
    text_encoder = LlamaModel(
        LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=3,
            num_attention_heads=2,
            num_key_value_heads=2,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    ).eval()
    tokenizer_2 = build_clip_tokenizer(max_length=77)
    text_encoder_2 = _clip_text(tokenizer_2, hidden=8)
    transformer = HunyuanVideoTransformer3DModel(
        in_channels=4,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=num_layers,
        num_single_layers=num_single_layers,
        num_refiner_layers=1,
        patch_size=2,
        patch_size_t=1,
        guidance_embeds=True,
        text_embed_dim=16,
        pooled_projection_dim=8,
        rope_axes_dim=(2, 2, 4),
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
    return HunyuanVideoPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        tokenizer_2=tokenizer_2,
        text_encoder_2=text_encoder_2,
        vae=vae,
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
    )


def build_tiny_zeroscope_pipeline(seed: int = 0):
    """A random TextToVideoSDPipeline (ModelScope/ZeroScope layout): UNet3D with spatial + temporal transformers."""
    import torch
    from diffusers import AutoencoderKL, DPMSolverMultistepScheduler, TextToVideoSDPipeline, UNet3DConditionModel

    torch.manual_seed(seed)
    tokenizer = build_clip_tokenizer()
    text_encoder = _clip_text(tokenizer)
    unet = UNet3DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=16,
        attention_head_dim=4,
        norm_num_groups=4,
    ).eval()
    vae = AutoencoderKL(
        block_out_channels=(8, 8),
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        sample_size=32,
        norm_num_groups=4,
    ).eval()
    scheduler = DPMSolverMultistepScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")
    return TextToVideoSDPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler
    )


# name -> (builder, kwargs); `save_tiny_pipeline(name, path)` writes one with save_pretrained.
TINY_PIPELINES = {
    "wan": (build_tiny_wan_pipeline, {}),
    "wan-i2v": (build_tiny_wan_i2v_pipeline, {}),
    "wan22-i2v": (build_tiny_wan_i2v_pipeline, {"image_encoder": False}),
    "wan22-ti2v": (build_tiny_wan_i2v_pipeline, {"image_encoder": False, "expand_timesteps": True}),
    "cogvideox": (build_tiny_cogvideox_pipeline, {}),
    "cogvideox-i2v": (build_tiny_cogvideox_pipeline, {"i2v": True}),
    "ltx": (build_tiny_ltx_pipeline, {}),
    "ltx-i2v": (build_tiny_ltx_pipeline, {"i2v": True}),
    "hunyuanvideo": (build_tiny_hunyuan_pipeline, {}),
    "zeroscope": (build_tiny_zeroscope_pipeline, {}),
}
