"""I2VGen-XL, image-to-video (diffusers `I2VGenXLPipeline`, `I2VGenXLUNet`).

The UNet is ModelScope's UNet3D layout (down/mid/up `CrossAttn*Block3D`: spatial transformers
`attentions.*`, temporal ones `temp_attentions.*`), found by UNet3D's patterns (weditor/adapters/unet3d.py);
its `BasicTransformerBlock`s are ungated, so UNet3D's output-side sites and the REINS fold at
`attn2.to_out.0` are exact. What differs is the cross-attention's context (unet_i2vgen_xl.py, forward):

    context = [prompt tokens (CLIP text), image tokens (a conv net over the image latent),
               in_channels tokens (`context_embedding` of the CLIP image embedding)]

so every spatial `attn2.to_k` / `attn2.to_v` reads the prompt's tokens *together with* the image's. No
linear reads the prompt embeddings alone: a fold into those linears would change how the image tokens
are read too, so the text methods (`--method text`, `safree`, `uce`) are refused (`text_input` None),
and so is the `cross_attn_kv_in` site (its tokens are not the prompt's). The block sites
(`ffn_in` and the rest) and REINS work as on ZeroScope.

The image (a pair's image, else mid-grey) enters as the pipeline feeds it, per member: CLIP image
embedding of the image center-cropped to a square of the video's width, and the VAE latent of the image
center-cropped to the video's size (posterior *mode*; the stock pipeline samples it without a generator)
followed by the frame-position ramp, at the default `target_fps=16`.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters import pixart
from weditor.adapters.unet3d import UNET3D

FPS = 16  # the pipeline's default target_fps
CLIP_SKIP = 1  # the pipeline's default clip_skip: the penultimate CLIP layer, then the final LayerNorm


def encode(pipe, prompts: list[str], device, images=None):
    from weditor.adapters.common import as_images

    with _guidance_off(pipe), text_model_alias(pipe):
        embeds, _ = pipe.encode_prompt(prompts, device, 1, clip_skip=CLIP_SKIP)
    cond = {"encoder_hidden_states": embeds}
    scale = pixart.input_scale(pipe.scheduler)
    if scale is not None:
        cond["_scale"] = scale
    images = as_images(images, len(prompts))
    cond["_build"] = lambda x: _image_condition(pipe, images, x, device)
    return cond


class text_model_alias:
    """The pipeline's `clip_skip` path calls `text_encoder.text_model.final_layer_norm`; transformers 5 flattened
    CLIPTextModel (its `final_layer_norm` is the model's own), so the stock default fails there. While
    active, `text_model` names the model itself (an instance attribute, not a registered submodule)."""

    def __init__(self, pipe):
        self.encoder = pipe.text_encoder
        self.added = self.encoder is not None and not hasattr(self.encoder, "text_model")

    def __enter__(self):
        if self.added:
            object.__setattr__(self.encoder, "text_model", self.encoder)

    def __exit__(self, *exc):
        if self.added:
            object.__delattr__(self.encoder, "text_model")


class _guidance_off:
    """The pipeline's `do_classifier_free_guidance` reads `_guidance_scale`, set only by `__call__`: 1 while
    weditor calls its methods (one row per prompt, no negative half), restored after."""

    def __init__(self, pipe):
        self.pipe = pipe

    def __enter__(self):
        self.saved = self.pipe.__dict__.get("_guidance_scale")
        self.pipe._guidance_scale = 1.0

    def __exit__(self, *exc):
        if self.saved is None:
            del self.pipe._guidance_scale
        else:
            self.pipe._guidance_scale = self.saved


def _image_condition(pipe, images, x, device) -> dict:
    """The pipeline's image embeddings and image latents for latent `x`, one image per member."""
    import torch
    from diffusers.pipelines.deprecated.i2vgen_xl.pipeline_i2vgen_xl import _center_crop_wide, _resize_bilinear

    frames, h, w = x.shape[2:]
    height, width = h * pipe.vae_scale_factor, w * pipe.vae_scale_factor
    crop = pipe.feature_extractor.crop_size
    embeds, latents = [], []
    with _guidance_off(pipe), torch.no_grad():
        for image in images:
            square = _resize_bilinear(_center_crop_wide(image, (width, width)), (crop["width"], crop["height"]))
            embeds.append(pipe._encode_image(square, device, 1))
            pixels = pipe.video_processor.preprocess(_center_crop_wide(image, (width, height))).to(device)
            latent = pipe.vae.encode(pixels.to(pipe.vae.dtype)).latent_dist.mode() * pipe.vae.config.scaling_factor
            latent = latent.unsqueeze(2)
            ramp = [torch.ones_like(latent) * (k + 1) / (frames - 1) for k in range(frames - 1)]
            latents.append(torch.cat([latent, *ramp], dim=2))
    return {"image_embeddings": torch.cat(embeds), "image_latents": torch.cat(latents).float()}


def forward(model, x, t, cond):
    import torch

    from weditor.adapters.common import batch, sized

    n = x.shape[0]
    c = sized(cond, x, cond["_build"])
    with torch.no_grad():
        return model(
            pixart.scaled(cond, x, t).to(model.dtype),
            batch(t, n),
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            fps=torch.full((n,), FPS, device=x.device),
            image_latents=c["image_latents"].to(model.dtype),
            image_embeddings=c["image_embeddings"].to(model.dtype),
            return_dict=False,
        )[0]


I2VGENXL = replace(
    UNET3D,
    family="i2vgenxl",
    pipelines=("I2VGenXLPipeline",),
    sites={k: v for k, v in UNET3D.sites.items() if k != "cross_attn_kv_in"},
    text_input=None,
    image_to_video=True,
    encode=encode,
    forward=forward,
    step=pixart.step,
    default_size=(256, 448, 16),  # height, width: I2VGen-XL's 704x1280 aspect, cheaper to collect at; 16 frames
)
