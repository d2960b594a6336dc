"""The model card's "Usage" block: what a user pastes to run the patched checkpoint without weditor.

It has to run as written in a fresh environment, so it carries everything that environment needs
and stock diffusers does not say: the install line (diffusers loads Wan's fp32-kept modules only
with `accelerate`; Wan's pipelines clean prompts with `ftfy`; `export_to_video` writes MP4 with
`imageio` + `imageio-ffmpeg`), the dtype, the device, and saving the frames. The example prompt is
one of the user's own neutral prompts (a prompt the patch must leave alone, taken from the pair
files the folder carries), so a shapes patch shows a shapes prompt and no card suggests a prompt
the erased concept is in. tests/test_card_usage.py runs the block, as written, with no weditor.
"""

from __future__ import annotations

from pathlib import Path

import tomllib

from weditor.pipeline.card_tables import _py_string

REPO_PLACEHOLDER = "USER/NAME"  # the snippet's model id until the folder has a Hub repository
INSTALL = "pip install torch diffusers transformers accelerate ftfy imageio imageio-ffmpeg"
FALLBACK_PROMPT = "a cat walking through a garden"
SHAPES_MODEL = "weditor:shapes"

# Videos a pipeline's call needs besides the prompt (and the image of an image-to-video one): argument ->
# the file the block reads it from. A class named "...VideoToVideo..." takes `video=`; the others by name.
_INPUT_VIDEO = ("video", "input.mp4", "the video to restyle")
_CONTROL = "control.mp4", "the control frames (depth, pose, edges...) the control net was trained on"
VIDEO_INPUTS = {
    "LucyEditPipeline": (_INPUT_VIDEO,),
    "AnimateDiffControlNetPipeline": (("conditioning_frames", *_CONTROL),),
    "AnimateDiffSparseControlNetPipeline": (("conditioning_frames", *_CONTROL),),
    "AnimateDiffVideoToVideoControlNetPipeline": (_INPUT_VIDEO, ("conditioning_frames", *_CONTROL)),
    "CogVideoXFunControlPipeline": (("control_video", *_CONTROL),),
    "EasyAnimateControlPipeline": (("control_video", *_CONTROL),),
    "WanAnimatePipeline": (
        ("pose_video", "pose.mp4", "the pose video that drives the character"),
        ("face_video", "face.mp4", "the face video that drives its expression"),
    ),
}


def example_prompt(pair_files: list[Path]) -> str:
    """The first neutral prompt of the pair files that names none of their concepts' keywords."""
    sets = []
    for path in pair_files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):
            continue  # a folder to push may hold anything; the card still gets a prompt
        sets.append(data)
    words = {
        str(w).lower()
        for d in sets
        for w in [d.get("concept", ""), *(d.get("keywords") or [])]
        if isinstance(w, str) and w
    }
    for data in sets:
        for prompt in data.get("neutral") or []:
            if isinstance(prompt, str) and prompt.strip() and not any(w in prompt.lower() for w in words):
                return prompt.strip()
    return FALLBACK_PROMPT


def _call_args(base_id: str | None) -> tuple[list[str], int]:
    """Extra pipeline arguments and the frame rate: the shapes model's own (32x32, 9 frames) or the pipeline's defaults."""
    if base_id == SHAPES_MODEL:
        from weditor import shapes

        return [
            f"height={shapes.HEIGHT}",
            f"width={shapes.WIDTH}",
            f"num_frames={shapes.NUM_FRAMES}",
            f"num_inference_steps={shapes.NUM_INFERENCE_STEPS}",
            f"guidance_scale={shapes.GUIDANCE_SCALE}",
            f"max_sequence_length={shapes.MAX_SEQUENCE_LENGTH}",
        ], 8
    return [], 16  # Wan's and LTX's native rates are 16 and 24 fps; 16 plays both at a natural speed


def video_inputs(pipeline_class: str) -> tuple[tuple[str, str, str], ...]:
    """(argument, file, what it is) for each video the class's call needs."""
    if pipeline_class in VIDEO_INPUTS:
        return VIDEO_INPUTS[pipeline_class]
    return (_INPUT_VIDEO,) if "VideoToVideo" in pipeline_class else ()


def usage_block(pipeline_class: str, tag: str | None, target: str | None, prompt: str, base_id: str | None) -> str:
    """Markdown: the install line and a Python block that loads, generates and saves one video."""
    model = _py_string(target or REPO_PLACEHOLDER)
    extra, fps = _call_args(base_id)
    videos = video_inputs(pipeline_class)
    image = tag == "image-to-video" or pipeline_class == "WanAnimatePipeline"
    named = ["image=image"] * image + [f"{arg}={arg}" for arg, _, _ in videos]
    args = [", ".join([*named, f"prompt={_py_string(prompt)}"]) if named else _py_string(prompt), *extra]
    lines = ["import torch", f"from diffusers import {pipeline_class}", "from diffusers.utils import export_to_video"]
    if image:
        lines[-1] += ", load_image"
    if videos:
        lines[-1] += ", load_video"
    lines += [
        "",
        'device = "cuda" if torch.cuda.is_available() else "cpu"',
        'dtype = torch.bfloat16 if device == "cuda" else torch.float32',
        (
            "# the Hub id once pushed (`weditor push`), or the path of this folder"
            if target is None
            else "# or the path of a local copy of this folder"
        ),
        f"pipe = {pipeline_class}.from_pretrained({model}, torch_dtype=dtype).to(device)",
    ]
    if image:
        what = (
            "the character to animate"
            if pipeline_class == "WanAnimatePipeline"
            else "the video starts from this picture"
        )
        lines.append(f'image = load_image("first_frame.png")  # {what}')
    lines += [f'{arg} = load_video("{file}")  # {what}' for arg, file, what in videos]
    lines += [f"frames = pipe({', '.join(args)}).frames[0]", f'export_to_video(frames, "video.mp4", fps={fps})']
    install = INSTALL
    if pipeline_class.startswith("Cosmos"):  # its guardrail (built when loading) and the padding-mask resize
        install += " cosmos_guardrail torchvision"
    return (
        "```bash\n" + install + "\n```\n\n"
        "`accelerate` is needed: without it diffusers refuses to load Wan models (`low_cpu_mem_usage`). "
        "`imageio-ffmpeg` writes the MP4.\n\n```python\n" + "\n".join(lines) + "\n```"
    )
