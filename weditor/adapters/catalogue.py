"""Every diffusers video pipeline class, and weditor's answer for it: an adapter, or a refusal with its reason.

`video_pipeline_classes()` enumerates the installed diffusers by a rule, not by a list, so a
new release's new class shows up (tests/test_catalogue.py fails until it gets a row here or an
adapter): a class counts as a video pipeline when it is a `DiffusionPipeline` exported by
`diffusers` whose `__call__` returns an output dataclass with a `frames` or `video` field, or
whose name says "Video" (TextToVideoZero returns `images`).

A refusal says why: the class has no denoiser that reads a prompt or an image (upsamplers,
decoders, super-resolution), or only an image that no weight edit can take out (Stable Video
Diffusion), or a structure the methods cannot edit in the denoiser alone (a control net that reads
the prompt too; a prompt read as token ids with no linear over its encoding). A new class with no
adapter yet gets a row that starts with NOT_YET ("not adapted yet") and its architecture in one
phrase, so whoever adds it knows where to start.
"""

from __future__ import annotations

NOT_YET = "not adapted yet"

REFUSED: dict[str, str] = {
    # nothing that reads a prompt or an image
    "LTXLatentUpsamplePipeline": "a latent upsampler: no denoiser, nothing reads a prompt or an image",
    "LTX2LatentUpsamplePipeline": "a latent upsampler: no denoiser, nothing reads a prompt or an image",
    "LTX2VideoDiffusionDecodePipeline": "a diffusion decoder of finished latents: reads no prompt or image",
    "Kandinsky6SRPipeline": "text-free video super-resolution: its transformer reads only the low-resolution video",
    "LTX2DFRTemporalRefinePipeline": "a refine round of an LTX2DFRPipeline pass: it starts from that pass's "
    "latents, keyframes and frozen audio (all required), never from a prompt and noise; its transformer is the "
    "DFR pass's, so patch the checkpoint as LTX2DFRPipeline (supported) and run the rounds from the edited folder",
    "TextToVideoZeroPipeline": "runs a Stable Diffusion image checkpoint frame by frame (its model_index.json names "
    "StableDiffusionPipeline): no video checkpoint of this class to patch",
    "TextToVideoZeroSDXLPipeline": "runs a Stable Diffusion XL image checkpoint frame by frame (its model_index.json "
    "names StableDiffusionXLPipeline): no video checkpoint of this class to patch",
    # an image reaches the denoiser, no prompt, and the image goes around every edited linear
    "StableVideoDiffusionPipeline": "no prompt reaches its UNet, only the input image: one CLIP image-embedding token "
    "(cross-attention) and the image's VAE latent concatenated to every frame's input (plus fps, motion and "
    "noise-augmentation ids). weditor's concepts are prompt pairs; an image pair could only contrast two input "
    "images, which the UNet reproduces in every frame through the concatenated latent, around every edited "
    "linear: no weight edit erases them",
    # the prompt reaches the video through something the methods do not edit
    "Cosmos2_5_TransferPipeline": "the Cosmos 2.5 transformer plus a CosmosControlNetModel that reads the "
    "prompt too (its own crossattn_proj and every control block's attn2) and adds its blocks' outputs to the "
    "transformer's stream, so a patch must edit the control net as well, a second prompt-reading component no "
    "adapter declares yet; it also requires control videos and samples in autoregressive chunks",
    "Cosmos3OmniPipeline": "Cosmos 3 mixture-of-transformers: the prompt is token ids through the "
    "transformer's own embed_tokens and an understanding stream RMS-normalised before every linear, so no linear "
    "reads the prompt as encoded (the text methods cannot fold); its generation stream (ungated adds) would take "
    "the block edits, but its packed text/video/sound/action sequences are not run yet",
}


def _output_fields(cls) -> set[str]:
    """Field names of the output dataclass(es) `cls.__call__` returns (annotation, else its docstring)."""
    import dataclasses
    import re
    import sys
    import typing

    import diffusers

    try:
        ret = typing.get_type_hints(cls.__call__).get("return")
    except Exception:  # unresolvable annotations: fall back on the docstring
        ret = None
    outs = [a for a in (typing.get_args(ret) or (ret,)) if isinstance(a, type) and dataclasses.is_dataclass(a)]
    if not outs:
        module = sys.modules.get(cls.__module__)
        for name in re.findall(r"(\w+Output)`", cls.__call__.__doc__ or ""):
            out = getattr(module, name, None) or getattr(diffusers.pipelines, name, None)
            if isinstance(out, type) and dataclasses.is_dataclass(out):
                outs.append(out)
    return {f.name for out in outs for f in dataclasses.fields(out)}


def video_pipeline_classes() -> list[str]:
    """Names of the installed diffusers' video pipeline classes, by the rule in the module docstring."""
    import diffusers

    out = []
    for name in dir(diffusers):
        if not name.endswith("Pipeline"):
            continue
        cls = getattr(diffusers, name, None)
        if (
            not isinstance(cls, type)
            or cls is diffusers.DiffusionPipeline
            or not issubclass(cls, diffusers.DiffusionPipeline)
        ):
            continue
        if "Video" in name or _output_fields(cls) & {"frames", "video"}:
            out.append(name)
    return sorted(out)
