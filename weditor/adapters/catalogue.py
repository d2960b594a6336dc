"""Every diffusers video pipeline class, and weditor's answer for it: an adapter, or a refusal with its reason.

`video_pipeline_classes()` enumerates the installed diffusers by a rule, not by a list, so a
new release's new class shows up (tests/test_catalogue.py fails until it gets a row here or an
adapter): a class counts as a video pipeline when it is a `DiffusionPipeline` exported by
`diffusers` whose `__call__` returns an output dataclass with a `frames` or `video` field, or
whose name says "Video" (TextToVideoZero returns `images`).

A refusal says why: the class has no denoiser that reads a prompt or an image (upsamplers,
decoders, super-resolution), or it is not covered *yet* ("not adapted yet": its architecture, in
one phrase, so whoever adds it knows where to start).
"""

from __future__ import annotations

NOT_YET = "not adapted yet"

REFUSED: dict[str, str] = {
    # nothing that reads a prompt or an image
    "LTXLatentUpsamplePipeline": "a latent upsampler: no denoiser, nothing reads a prompt or an image",
    "LTX2LatentUpsamplePipeline": "a latent upsampler: no denoiser, nothing reads a prompt or an image",
    "LTX2VideoDiffusionDecodePipeline": "a diffusion decoder of finished latents: reads no prompt or image",
    "Kandinsky6SRPipeline": "text-free video super-resolution: its transformer reads only the low-resolution video",
    "TextToVideoZeroPipeline": "runs a Stable Diffusion image checkpoint frame by frame (its model_index.json names "
    "StableDiffusionPipeline): no video checkpoint of this class to patch",
    "TextToVideoZeroSDXLPipeline": "runs a Stable Diffusion XL image checkpoint frame by frame (its model_index.json "
    "names StableDiffusionXLPipeline): no video checkpoint of this class to patch",
    # not covered yet (architecture in one phrase)
    "AnyFlowPipeline": f"{NOT_YET}: Wan-style flow-map transformer (AnyFlowTransformer3DModel)",
    "AnyFlowFARPipeline": f"{NOT_YET}: Wan-style flow-map transformer, autoregressive (AnyFlowFARTransformer3DModel)",
    "HeliosPipeline": f"{NOT_YET}: Helios transformer (HeliosTransformer3DModel)",
    "HeliosPyramidPipeline": f"{NOT_YET}: Helios transformer, pyramid sampling",
    "ConsisIDPipeline": f"{NOT_YET}: CogVideoX-based identity-preserving transformer (needs opencv)",
    "HunyuanVideoFramepackPipeline": f"{NOT_YET}: HunyuanVideo blocks with SigLIP image tokens and packed history "
    "latents (HunyuanVideoFramepackTransformer3DModel), sampled section by section",
    "LTXI2VLongMultiPromptPipeline": f"{NOT_YET}: LTX-Video blocks, prompts per temporal window",
    "LTX2DFRPipeline": f"{NOT_YET}: LTX-2 audio-video transformer, keyframe sampling",
    "LTX2DFRTemporalRefinePipeline": f"{NOT_YET}: LTX-2 audio-video transformer, keyframe refinement",
    "LTX2HDRPipeline": f"{NOT_YET}: LTX-2 audio-video transformer with an HDR LoRA",
    "LTX2InContextPipeline": f"{NOT_YET}: LTX-2 audio-video transformer, in-context conditioning",
    "CosmosTextToWorldPipeline": f"{NOT_YET}: Cosmos 1 transformer (EDM, T5 cross-attention)",
    "CosmosVideoToWorldPipeline": f"{NOT_YET}: Cosmos 1 transformer, video-conditioned",
    "Cosmos2VideoToWorldPipeline": f"{NOT_YET}: Cosmos 2 transformer, video-conditioned",
    "Cosmos2_5_PredictBasePipeline": f"{NOT_YET}: Cosmos 2.5 transformer (Qwen2.5-VL text)",
    "Cosmos2_5_TransferPipeline": f"{NOT_YET}: Cosmos 2.5 transformer with a control net",
    "Cosmos3OmniPipeline": f"{NOT_YET}: Cosmos 3 omni transformer (video, sound, actions)",
    "EasyAnimatePipeline": f"{NOT_YET}: EasyAnimate transformer (Qwen2-VL text)",
    "EasyAnimateControlPipeline": f"{NOT_YET}: EasyAnimate transformer with control latents",
    "EasyAnimateInpaintPipeline": f"{NOT_YET}: EasyAnimate transformer with inpainting latents",
    "StableVideoDiffusionPipeline": f"{NOT_YET}: spatio-temporal UNet reading CLIP image embeddings (no text)",
    "I2VGenXLPipeline": f"{NOT_YET}: I2VGen-XL UNet (CLIP text and image)",
    "AnimateDiffPipeline": f"{NOT_YET}: Stable Diffusion UNet with a motion adapter (UNetMotionModel)",
    "AnimateDiffSDXLPipeline": f"{NOT_YET}: Stable Diffusion XL UNet with a motion adapter",
    "AnimateDiffControlNetPipeline": f"{NOT_YET}: motion-adapter UNet with a control net",
    "AnimateDiffSparseControlNetPipeline": f"{NOT_YET}: motion-adapter UNet with a sparse control net",
    "AnimateDiffVideoToVideoPipeline": f"{NOT_YET}: motion-adapter UNet, video-to-video",
    "AnimateDiffVideoToVideoControlNetPipeline": f"{NOT_YET}: motion-adapter UNet, video-to-video with a control net",
    "AnimateDiffPAGPipeline": f"{NOT_YET}: motion-adapter UNet with perturbed-attention guidance",
    "PIAPipeline": f"{NOT_YET}: motion-adapter UNet with image-conditioned first frame",
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
