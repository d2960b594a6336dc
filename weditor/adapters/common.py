"""Small pieces of runtime glue that several adapters share.

The contract every adapter implements (see base.Adapter):

    encode(pipe, prompts, device, images=None) -> cond
        Everything the denoiser needs besides the noisy latent, for a batch of prompts, computed
        with the pipeline's own methods (encode_prompt, encode_image, prepare_latents). The first
        value is a tensor whose first dimension is the batch. `images` (image-to-video adapters
        only): one image per prompt (a path, a PIL image or None); None means a plain mid-grey
        frame. Entries that depend on the video size are built lazily from the latent's shape
        (`sized`), so callers need not pass the size.
    latents(pipe, size, generator, device) -> x
        One initial noisy latent, batch 1, in the layout the denoiser takes (packed for LTX).
    forward(model, x, t, cond) -> prediction
        One denoiser call on `x` expanded to the batch, as the pipeline's loop makes it.
    denoiser_for(pipe, t) -> component name
"""

from __future__ import annotations

GREY = (128, 128, 128)


def text_length(pipe, cap: int) -> int:
    """The prompt length the pipeline pads to; a tokenizer may declare a shorter one."""
    n = getattr(pipe.tokenizer, "model_max_length", None) or cap
    return int(min(n, cap))


def as_images(images, n: int, size: tuple[int, int] = (64, 64)) -> list:
    """`n` RGB PIL images from paths, PIL images or None (a mid-grey frame of `size` = (height, width))."""
    from PIL import Image

    images = list(images) if images is not None else [None] * n
    if len(images) != n:
        raise ValueError(f"{len(images)} images for {n} prompts")
    out = []
    for im in images:
        if im is None:
            im = Image.new("RGB", (size[1], size[0]), GREY)
        elif not isinstance(im, Image.Image):
            with Image.open(im) as f:
                im = f.convert("RGB")
        else:
            im = im.convert("RGB")
        out.append(im)
    return out


def sized(cond: dict, x, build) -> dict:
    """Entries of `cond` that depend on the latent's shape: `build(x)` once per shape, then cached."""
    cache = cond.setdefault("_sized", {})
    key = tuple(x.shape[1:])
    if key not in cache:
        cache[key] = build(x)
    return cache[key]


def batch(t, n: int):
    """Timestep `t` (0-d or 1-d) as one value per batch member."""
    return t.expand(n) if t.ndim == 0 else t
