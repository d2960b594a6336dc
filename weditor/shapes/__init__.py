"""The shapes world and the small Wan text-to-video model trained on it (shipped in the package).

The model is a stock diffusers `WanPipeline` folder: it proves, offline and on a CPU, that a
weight patch erases a concept ("red") from generated videos while keeping the rest. Generate
with `generate()` so that every caller uses the constants the model was trained and evaluated
with. Import-light: torch and diffusers are imported inside functions.
"""

from __future__ import annotations

from pathlib import Path

from weditor.shapes.world import HEIGHT, NUM_FRAMES, WIDTH

NUM_INFERENCE_STEPS = 20
GUIDANCE_SCALE = 5.0
MAX_SEQUENCE_LENGTH = 16  # equals the shipped tokenizer's model_max_length


def model_path() -> Path:
    """The shipped pipeline folder, loadable with `WanPipeline.from_pretrained`."""
    return Path(__file__).resolve().parent.parent / "assets" / "shapes-wan"


def load_pipeline(path=None, dtype=None):
    from diffusers import WanPipeline

    pipe = WanPipeline.from_pretrained(path or model_path(), **({"torch_dtype": dtype} if dtype else {}))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def generate(pipe, prompts, seed: int = 0, **overrides):
    """Videos (B, F, H, W, 3) float in [0, 1] from the stock `WanPipeline.__call__`.

    Prompt i always gets the noise of `torch.Generator().manual_seed(seed + i)`, whatever the
    batch holds, so an unsafe prompt and its safe twin at the same index share their noise.
    `overrides` go to the pipeline as they are (e.g. `num_inference_steps`, `prompt_embeds`
    with `prompts=None`).
    """
    import torch

    if isinstance(prompts, str):
        prompts = [prompts]
    n = len(prompts) if prompts is not None else overrides["prompt_embeds"].shape[0]
    kwargs = dict(
        height=HEIGHT,
        width=WIDTH,
        num_frames=NUM_FRAMES,
        num_inference_steps=NUM_INFERENCE_STEPS,
        guidance_scale=GUIDANCE_SCALE,
        max_sequence_length=MAX_SEQUENCE_LENGTH,
        output_type="np",
        generator=[torch.Generator("cpu").manual_seed(seed + i) for i in range(n)],
    )
    kwargs.update(overrides)
    pipe.set_progress_bar_config(disable=True)
    return pipe(prompt=prompts, **kwargs).frames


__all__ = [
    "HEIGHT",
    "WIDTH",
    "NUM_FRAMES",
    "NUM_INFERENCE_STEPS",
    "GUIDANCE_SCALE",
    "MAX_SEQUENCE_LENGTH",
    "model_path",
    "load_pipeline",
    "generate",
]
