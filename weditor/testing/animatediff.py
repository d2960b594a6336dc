"""Tiny random pipelines of the motion-adapter family (AnimateDiff, its video-to-video, PIA), for tests.

The recipe of weditor/testing/pipelines.py: the word-level CLIP tokenizer and a one-layer CLIP text
encoder, a two-level Stable Diffusion UNet and a two-level motion adapter merged by the pipeline into
a `UNetMotionModel`, a small VAE, the DDIM scheduler AnimateDiff's model cards use.

The VAE's posterior is made (almost) deterministic: its log-variance is pinned at diffusers' clamp,
-30, so its standard deviation is e^-15 = 3e-7. The video-to-video and PIA pipelines *sample* the
posterior of the input video / image with the run's generator, where weditor takes the posterior's
mode; with this VAE the two agree to 3e-7, and the step-for-step tests compare the denoiser calls,
not a VAE draw (a real SD VAE's posterior is narrow too, but not that narrow).
"""

from __future__ import annotations


def _vae():
    import torch
    from diffusers import AutoencoderKL

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
    with torch.no_grad():  # quant_conv's second half is the log-variance: pin it at the clamp
        vae.quant_conv.weight[4:] = 0
        vae.quant_conv.bias[4:] = -30.0
    return vae


def _unet():
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=4,
        norm_num_groups=4,
    ).eval()


def _motion_adapter(conv_in_channels: int | None = None):
    from diffusers import MotionAdapter

    return MotionAdapter(
        block_out_channels=(8, 16),
        motion_layers_per_block=1,
        motion_num_attention_heads=2,
        motion_norm_num_groups=4,
        conv_in_channels=conv_in_channels,
    ).eval()


def _scheduler():
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="linear",
        clip_sample=False,
        timestep_spacing="linspace",
        steps_offset=1,
    )


def build_tiny_animatediff_pipeline(variant: str = "t2v", seed: int = 0):
    """AnimateDiffPipeline ("t2v"), AnimateDiffPAGPipeline ("pag"), AnimateDiffVideoToVideoPipeline ("v2v") or PIAPipeline ("pia": the motion adapter's
    `conv_in` makes the merged UNet read 4 + 1 + 4 channels: latent, mask, masked image latent)."""
    import diffusers
    import torch

    from weditor.testing.text import _clip_text, build_clip_tokenizer

    torch.manual_seed(seed)
    tokenizer = build_clip_tokenizer()
    text_encoder = _clip_text(tokenizer)
    pia = variant == "pia"
    unet = _unet()
    adapter = _motion_adapter(9 if pia else None)
    cls = {
        "t2v": diffusers.AnimateDiffPipeline,
        "pag": diffusers.AnimateDiffPAGPipeline,
        "v2v": diffusers.AnimateDiffVideoToVideoPipeline,
        "pia": diffusers.PIAPipeline,
    }[variant]
    return cls(
        vae=_vae(),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        motion_adapter=adapter,
        scheduler=_scheduler(),
    )


def _controlnet():
    from diffusers import ControlNetModel

    return ControlNetModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        in_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=4,
        norm_num_groups=4,
        conditioning_embedding_out_channels=(4, 8),  # one stride-2 step: the VAE's factor 2
    ).eval()


def build_tiny_animatediff_controlnet_pipeline(seed: int = 0, v2v: bool = False):
    """AnimateDiffControlNetPipeline (`v2v`: AnimateDiffVideoToVideoControlNetPipeline): the tiny AnimateDiff parts
    and a two-level control net of the same widths."""
    import diffusers
    import torch

    parts = build_tiny_animatediff_pipeline("t2v", seed=seed).components
    torch.manual_seed(seed + 1)
    # its zero-initialised convolutions would make the control a no-op: random, as a trained net's are not zero
    net = _controlnet()
    with torch.no_grad():
        for conv in [*net.controlnet_down_blocks, net.controlnet_mid_block, net.controlnet_cond_embedding.conv_out]:
            conv.weight.normal_(0, 0.3)
    parts = {k: v for k, v in parts.items() if k not in ("feature_extractor", "image_encoder")}
    cls = diffusers.AnimateDiffVideoToVideoControlNetPipeline if v2v else diffusers.AnimateDiffControlNetPipeline
    return cls(**parts, controlnet=net)


def build_tiny_animatediff_sparsectrl_pipeline(seed: int = 0):
    """AnimateDiffSparseControlNetPipeline: the tiny AnimateDiff parts and a two-level sparse control net (RGB:
    the simplified embedding of a frame's VAE latent, plus the mask channel)."""
    import diffusers
    import torch

    parts = build_tiny_animatediff_pipeline("t2v", seed=seed).components
    torch.manual_seed(seed + 1)
    net = diffusers.SparseControlNetModel(
        in_channels=4,
        conditioning_channels=4,
        block_out_channels=(8, 16),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlockMotion", "DownBlockMotion"),
        cross_attention_dim=16,
        attention_head_dim=4,
        norm_num_groups=4,
        motion_num_attention_heads=2,
        use_simplified_condition_embedding=True,
        conditioning_embedding_out_channels=None,
    ).eval()
    with torch.no_grad():  # zero-initialised outputs would make the control a no-op
        for conv in [*net.controlnet_down_blocks, net.controlnet_mid_block]:
            conv.weight.normal_(0, 0.3)
        for p in net.controlnet_cond_embedding.parameters():
            p.normal_(0, 0.3)
    parts = {k: v for k, v in parts.items() if k not in ("feature_extractor", "image_encoder")}
    return diffusers.AnimateDiffSparseControlNetPipeline(**parts, controlnet=net)


def build_tiny_animatediff_sdxl_pipeline(seed: int = 0):
    """AnimateDiffSDXLPipeline: two CLIP text encoders (the second with a projection: the pooled embedding),
    an SDXL-style UNet (size-conditioned `text_time` embedding, two transformer layers at the inner level),
    a motion adapter without a mid-block module (as the SDXL beta adapter)."""
    import diffusers
    import torch
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    from weditor.testing.text import _clip_text, build_clip_tokenizer

    torch.manual_seed(seed)
    tokenizer, tokenizer_2 = build_clip_tokenizer(), build_clip_tokenizer()
    text_encoder = _clip_text(tokenizer)
    config = CLIPTextConfig(
        vocab_size=len(tokenizer_2),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=77,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        projection_dim=8,
    )
    text_encoder_2 = CLIPTextModelWithProjection(config).eval()
    unet = diffusers.UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        transformer_layers_per_block=(1, 2),
        cross_attention_dim=32,  # both encoders' states, concatenated
        attention_head_dim=4,
        norm_num_groups=4,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=6 * 8 + 8,  # six size ids, the pooled projection
    ).eval()
    adapter = diffusers.MotionAdapter(
        block_out_channels=(8, 16),
        motion_layers_per_block=1,
        motion_num_attention_heads=2,
        motion_norm_num_groups=4,
        use_motion_mid_block=False,
    ).eval()
    return diffusers.AnimateDiffSDXLPipeline(
        vae=_vae(),
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
        unet=unet,
        motion_adapter=adapter,
        scheduler=_scheduler(),
    )


def build_tiny_i2vgenxl_pipeline(seed: int = 0):
    """I2VGenXLPipeline: the tiny CLIP text encoder, a CLIP vision encoder whose projection is the UNet's
    cross-attention width (its `context_embedding` reads it), a two-level I2VGen-XL UNet."""
    import diffusers
    import torch
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    from weditor.testing.text import _clip_text, build_clip_tokenizer

    torch.manual_seed(seed)
    tokenizer = build_clip_tokenizer()
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=16,
            projection_dim=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=32,
            patch_size=8,
        )
    ).eval()
    unet = diffusers.I2VGenXLUNet(
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        block_out_channels=(8, 16),
        layers_per_block=1,
        norm_num_groups=4,
        cross_attention_dim=16,
        attention_head_dim=4,
        num_attention_heads=(2, 2),
    ).eval()
    return diffusers.I2VGenXLPipeline(
        vae=_vae(),
        text_encoder=_clip_text(tokenizer),
        tokenizer=tokenizer,
        image_encoder=encoder,
        feature_extractor=CLIPImageProcessor(crop_size=32, size=32),
        unet=unet,
        scheduler=_scheduler(),
    )


TINY_ANIMATEDIFF_PIPELINES = {
    "animatediff-sparsectrl": (build_tiny_animatediff_sparsectrl_pipeline, {}),
    "animatediff-controlnet": (build_tiny_animatediff_controlnet_pipeline, {}),
    "animatediff-v2v-controlnet": (build_tiny_animatediff_controlnet_pipeline, {"v2v": True}),
    "i2vgenxl": (build_tiny_i2vgenxl_pipeline, {}),
    "animatediff-sdxl": (build_tiny_animatediff_sdxl_pipeline, {}),
    "animatediff": (build_tiny_animatediff_pipeline, {"variant": "t2v"}),
    "animatediff-v2v": (build_tiny_animatediff_pipeline, {"variant": "v2v"}),
    "animatediff-pag": (build_tiny_animatediff_pipeline, {"variant": "pag"}),
    "pia": (build_tiny_animatediff_pipeline, {"variant": "pia"}),
}
