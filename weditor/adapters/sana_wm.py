"""SANA-WM, the camera-controlled world model (diffusers `SanaWMTransformer3DModel`, `SanaWMPipeline`).

A SANA-WM block, from diffusers' transformer_sana_wm.py (`SanaVideoMSCamCtrlBlock`):

    h = h + gate  * attn(norm1(h) * (1 + scale) + shift, camera)    # Gated DeltaNet or softmax, gated
    h = h + plucker_proj(camera rays)                                  # the camera, no prompt
    h = h +         cross_attn(h, text)                                # NOT gated, not normalised
    h = h + gate' * mlp(norm2(h) * (1 + scale') + shift')            # GLUMBConvTemp: convolutions, gated

(the pipeline passes no `frame_valid_mask`, so no frame mask multiplies the stream). The cross-attention
write `cross_attn.proj` is added as is: output-side edits and REINS are exact there, and it is the
refusal default (the FFN is convolutions, no site). The prompt (Gemma 2, the pipeline's default "chi"
instruction prepended, as Sana-Video's) enters through `y_embedder.y_proj.fc1`; each block's
`cross_attn.kv_linear` reads it as keys and values (one fused linear).

The pipeline makes one video per call from a first-frame image and a camera trajectory (with its
intrinsics); pair files carry no camera, so collection uses a fixed one: a still camera (identity
pose at every frame) with focal length the image's width and the principal point at its centre, in
the image's own pixels (`camera`); the pipeline's own `preprocess_with_intrinsics` and
`_build_camera_kwargs` turn that into its ray map and Plücker rays. The edit of a linear does not
depend on the camera; which directions a patch removes was collected with this one. The image's VAE
latent (the pipeline's `_encode_first_frame`, the posterior mean) is frame 0, at timestep 0.
"""

from __future__ import annotations

from weditor.adapters.base import Adapter, Site

MAX_TEXT_LENGTH = 300  # the pipeline's default max_sequence_length


def encode(pipe, prompts: list[str], device, images=None):
    import torch
    from diffusers.pipelines.sana_wm.pipeline_sana_wm import DEFAULT_CHI_PROMPT

    from weditor.adapters.common import as_images, text_length

    embeds, masks = [], []
    for prompt in prompts:  # the pipeline encodes one prompt per call, padded to a fixed length
        e, m, _, _ = pipe.encode_prompt(
            prompt,
            device=device,
            max_sequence_length=text_length(pipe, MAX_TEXT_LENGTH),
            chi_prompt=DEFAULT_CHI_PROMPT,
        )
        embeds.append(e[:, 0])  # (1, 1, L, D): the transformer's layout; (1, L, D) here, as every adapter's
        masks.append(m)
    images = as_images(images, len(prompts))
    cond = {"encoder_hidden_states": torch.cat(embeds), "encoder_attention_mask": torch.cat(masks)}
    cond["_build"] = lambda x: _conditioning(pipe, images, x, device)
    return cond


def camera(image, frames: int):
    """The collection's camera for `image` (PIL): `frames` identity poses, [fx, fy, cx, cy] = [W, W, W/2, H/2]."""
    import numpy as np

    width, height = image.size
    c2w = np.broadcast_to(np.eye(4, dtype=np.float32), (frames, 4, 4)).copy()
    return c2w, np.array([width, width, width / 2, height / 2], dtype=np.float32)


def _conditioning(pipe, images, x, device) -> dict:
    """Per member, at the size of latent `x`: the first-frame latent and the camera tensors, as `__call__` builds them."""
    import torch

    f, h, w = x.shape[2:]
    height, width = h * pipe.vae_spatial_compression_ratio, w * pipe.vae_spatial_compression_ratio
    frames = (f - 1) * pipe.vae_temporal_compression_ratio + 1
    dtype = pipe.transformer.dtype
    first, rays, pluckers = [], [], []
    for image in images:
        c2w, intrinsics = camera(image, frames)
        c2w, intrinsics = pipe.prepare_camera_trajectory(c2w, None, intrinsics, frames)
        pixels, intrinsics = pipe.image_processor.preprocess_with_intrinsics(image, intrinsics, height, width)
        with torch.no_grad():
            first.append(pipe._encode_first_frame(pixels, device, dtype))
        cam = pipe._build_camera_kwargs(c2w, intrinsics, (height, width), device=device, dtype=dtype, do_cfg=False)
        rays.append(cam["camera_conditions"])
        pluckers.append(cam["chunk_plucker"])
    return {
        "first": torch.cat(first),
        "camera_conditions": torch.cat(rays),
        "chunk_plucker": torch.cat(pluckers),
        "img_hw": torch.tensor([[height, width]], dtype=torch.float, device=device),
    }


def latents(pipe, size: tuple[int, int, int], generator, device):
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    shape = (
        1,
        pipe.transformer.config.in_channels,
        (frames - 1) // pipe.vae_temporal_compression_ratio + 1,
        height // pipe.vae_spatial_compression_ratio,
        width // pipe.vae_spatial_compression_ratio,
    )
    return randn_tensor(shape, generator=generator, device=None).to(device)


def forward(model, x, t, cond):
    """As the pipeline's loop: frame 0 the first-frame latent at timestep 0, every other frame at t."""
    import torch

    from weditor.adapters.common import sized

    c = sized(cond, x, cond["_build"])
    n, frames = x.shape[0], x.shape[2]
    inp = torch.cat([c["first"].to(x.dtype).expand(n, -1, -1, -1, -1), x[:, :, 1:]], dim=2)
    timestep = t.float().reshape(-1, 1, 1).expand(n, 1, frames).clone()
    timestep[:, :, 0] = 0.0
    dtype = model.dtype
    with torch.no_grad():
        return model(
            inp.to(dtype),
            timestep,
            cond["encoder_hidden_states"][:, None].to(dtype),
            return_dict=False,
            data_info={"img_hw": c["img_hw"]},
            mask=cond["encoder_attention_mask"],
            camera_conditions=c["camera_conditions"].expand(n, -1, -1),
            chunk_plucker=c["chunk_plucker"].expand(n, -1, -1, -1, -1),
        )[0]


def denoiser_for(pipe, t) -> str:
    return "transformer"


SITES = {
    "self_attn_in": Site(("attn.qkv",), "reads", doc="main attention's fused q, k, v"),
    "cross_attn_in": Site(("cross_attn.q_linear",), "reads", doc="cross-attention query"),
    "cross_attn_kv_in": Site(
        ("cross_attn.kv_linear",), "reads", tokens="text", doc="cross-attention key and value (one fused linear)"
    ),
    "self_attn_out": Site(("attn.proj",), "writes", gated=True, doc="main attention output"),
    "cross_attn_out": Site(("cross_attn.proj",), "writes", gated=False, doc="cross-attention output"),
}

SANA_WM = Adapter(
    family="sana-wm",
    pipelines=("SanaWMPipeline",),
    denoisers=("transformer",),
    blocks="blocks",
    sites=SITES,
    default_site="cross_attn_out",  # the FFN is convolutions: no ffn_in site
    ungated_write="cross_attn.proj",
    text_input="y_embedder.y_proj.fc1",
    image_to_video=True,
    encode=encode,
    latents=latents,
    forward=forward,
    denoiser_for=denoiser_for,
    default_size=(256, 256, 17),
)
