"""ConsisID (diffusers `ConsisIDPipeline`, `ConsisIDTransformer3DModel`): CogVideoX's blocks, identity-preserving.

The transformer is CogVideoX 5B's (the same `CogVideoXBlock`s under `transformer_blocks`: joint
text + video attention, every residual add gated), so CogVideoX's table as it is (input-side sites,
`patch_embed.text_proj` read-out, REINS and output-side edits refused), and the pipeline's step is
CogVideoX image-to-video's: the face image's VAE latent (frame 0, zeros after) on the channel axis,
3D RoPE, the DDIM / DPM scheduler.

Checkpoints trained with faces (`is_train_face`, as ConsisID-preview) add a face branch: every
`cross_attn_interval` blocks, `local_face_scale * PerceiverCrossAttention(face tokens)` is added to the
video stream, where the face tokens come from `id_cond` and `id_vit_hidden`, embeddings the pipeline
takes as inputs and does not compute: face models outside it do (insightface, facexlib and EVA-CLIP,
loaded by `diffusers.pipelines.consisid.consisid_utils.prepare_face_models`, none a component of the
pipeline). No pair input reaches them, so such checkpoints are refused, read off the transformer's
config (`variant`). Checkpoints without the face branch are supported (prompts, images).

The stock class exists only with OpenCV installed (diffusers exports a placeholder otherwise; the
pipeline draws keypoints with it): `requires` asks for `opencv-python-headless`.
"""

from __future__ import annotations

from dataclasses import replace

from weditor.adapters.cogvideox import COGVIDEOX_I2V

FACE_REFUSAL = (
    "this ConsisIDPipeline checkpoint's transformer reads face-identity embeddings (`is_train_face`: "
    "`id_cond`, `id_vit_hidden`) that face models outside the pipeline compute (insightface, facexlib and "
    "EVA-CLIP, diffusers' consisid_utils.prepare_face_models), none of them a pipeline component: no pair "
    "input can supply them, so its denoiser cannot be run as the pipeline runs it"
)


def variant(adapter, config: dict):
    """The adapter for a face-free checkpoint; one WeditorError for a face-trained one."""
    from weditor.errors import WeditorError

    if config.get("is_train_face", False):
        raise WeditorError(FACE_REFUSAL)
    return adapter


def latents(pipe, size: tuple[int, int, int], generator, device):
    """The pipeline's noise, (1, F, C, h, w), scaled by `init_noise_sigma` (no temporal patch padding: ConsisID's
    transformer has no `patch_size_t`)."""
    from diffusers.utils.torch_utils import randn_tensor

    height, width, frames = size
    s = pipe.vae_scale_factor_spatial
    shape = (
        1,
        (frames - 1) // pipe.vae_scale_factor_temporal + 1,
        pipe.transformer.config.in_channels // 2,
        height // s,
        width // s,
    )
    return (randn_tensor(shape, generator=generator) * pipe.scheduler.init_noise_sigma).to(device)


def forward(model, x, t, cond):
    """CogVideoX I2V's call (the image latent on the channel axis, RoPE) without `ofs`, which ConsisID lacks."""
    import torch

    from weditor.adapters.common import batch, sized

    extra = sized(cond, x, cond["_build"])
    inp = torch.cat([x, extra["image_latents"].to(x.dtype)], dim=2)
    with torch.no_grad():
        return model(
            hidden_states=inp.to(model.dtype),
            encoder_hidden_states=cond["encoder_hidden_states"].to(model.dtype),
            timestep=batch(t, x.shape[0]),
            image_rotary_emb=extra["rotary"],
            return_dict=False,
        )[0]


CONSISID = replace(
    COGVIDEOX_I2V,
    family="cogvideox",
    pipelines=("ConsisIDPipeline",),
    latents=latents,
    forward=forward,
    variant=variant,
    requires=(("cv2", "opencv-python-headless", "diffusers exports ConsisIDPipeline only with OpenCV installed"),),
)
