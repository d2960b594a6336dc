"""EasyAnimate (weditor/adapters/easyanimate.py): the T2V, control and inpaint pipelines.

The generic checks are in tests/test_adapters.py ("easyanimate", "easyanimate-control"); here the whole
trajectory against the stock pipeline, a pair's video as the control video, and the refusals.

diffusers 0.42.1's `EasyAnimateControlPipeline.__call__` passes `text_encoder_index=0` to its own
`encode_prompt`, which does not take it: every call raises TypeError. The stock runs here drop that one
argument (`tolerate_text_encoder_index`); the rest of the call, its loop included, is the stock code.
"""

from __future__ import annotations

import pytest
import torch

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_pair_videos import PROMPT, gif, video_pairs
from weditor.adapters import adapter_for_class
from weditor.io.pair_videos import read_video
from weditor.models.runtime import Settings, encode, trajectory

SIZE = (32, 32, 5)


def tolerate_text_encoder_index(pipe):
    """Let the stock control pipeline's `__call__` reach its loop (see the module docstring)."""
    original = type(pipe).encode_prompt

    def encode_prompt(*args, text_encoder_index=None, **kwargs):
        return original(pipe, *args, **kwargs)

    pipe.encode_prompt = encode_prompt


def build(name):
    from weditor.testing import TINY_PIPELINES

    builder, kwargs = TINY_PIPELINES[name]
    return builder(**kwargs)


def stock_calls(pipe, steps, **kwargs):
    seen = []
    handle = pipe.transformer.register_forward_hook(
        lambda m, a, kw, out: seen.append((a[0].clone(), out[0].clone(), kw.get("control_latents"))),
        with_kwargs=True,
    )
    try:
        pipe(
            prompt=PROMPT,
            num_frames=SIZE[2],
            height=SIZE[0],
            width=SIZE[1],
            num_inference_steps=steps,
            guidance_scale=1.0,
            generator=torch.Generator().manual_seed(0),
            output_type="latent",
            **kwargs,
        )
    finally:
        handle.remove()
    return seen


@pytest.mark.parametrize(
    "name, cls", [("easyanimate", "EasyAnimatePipeline"), ("easyanimate-inpaint", "EasyAnimateInpaintPipeline")]
)
def test_the_whole_run_equals_the_stock_pipeline(name, cls):
    """Noise, schedule (flow matching at mu=1) and predictions, unforced; inpaint in its text-to-video mode."""
    pipe, adapter = build(name), adapter_for_class(cls)
    stock = stock_calls(pipe, 3)
    record = trajectory(pipe, adapter, encode(pipe, adapter, [PROMPT], "cpu"), Settings(SIZE, 3), 0)
    assert len(record) == len(stock) == 3
    for (_, _, x, pred), (x_stock, pred_stock, _) in zip(record, stock):
        assert (x - x_stock).abs().max() <= 1e-5 * x_stock.abs().max()
        assert (pred - pred_stock).abs().max() <= 1e-5 * pred_stock.abs().max()


def test_a_pair_video_is_the_control_video(tmp_path):
    """EasyAnimateControlPipeline(control_video=...) and the adapter give the transformer the same latent, control
    latents and predictions; another control changes them."""
    from weditor.adapters.easyanimate import control_tensor

    pipe, adapter = build("easyanimate-control"), adapter_for_class("EasyAnimateControlPipeline")
    tolerate_text_encoder_index(pipe)
    video = gif(tmp_path / "v.gif", (220, 30, 30), frames=6)
    stock = stock_calls(pipe, 3, control_video=control_tensor(read_video(video, SIZE)))
    seen = []
    handle = pipe.transformer.register_forward_pre_hook(
        lambda m, a, kw: seen.append(kw["control_latents"].clone()), with_kwargs=True
    )
    try:
        record = trajectory(pipe, adapter, encode(pipe, adapter, [PROMPT], "cpu", [video]), Settings(SIZE, 3), 0)
        plain = trajectory(pipe, adapter, encode(pipe, adapter, [PROMPT], "cpu", [None]), Settings(SIZE, 3), 0)
    finally:
        handle.remove()
    assert len(record) == len(stock) == 3
    for (_, _, x, pred), control, (x_stock, pred_stock, control_stock) in zip(record, seen, stock):
        assert (x - x_stock).abs().max() <= 1e-5 * x_stock.abs().max()
        assert (control - control_stock).abs().max() <= 1e-6 * control_stock.abs().max()
        assert (pred - pred_stock).abs().max() <= 1e-5 * pred_stock.abs().max()
    assert (seen[0] - seen[3]).abs().max() > 1e-3  # with vs without the video (zeros)
    assert (record[0][3] - plain[0][3]).abs().max() > 1e-5 * plain[0][3].abs().max()


def test_video_pairs_patch_the_control_model(tmp_path):
    from weditor.testing import save_tiny_pipeline

    model = save_tiny_pipeline("easyanimate-control", tmp_path / "model")
    (tmp_path / "p").mkdir()
    out = tmp_path / "out"
    args = ["patch", model, "--pairs", video_pairs(tmp_path / "p"), "--out", out, "--size", "32x32x5"]
    result = run_cli(args + ["--method", "refusal", "--no-summary", "--steps", "2", "--edit", "projection"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "case, message",
    [
        ("mmdit", "blocks past mmdit_layers (1 of 2) run one FFN"),
        ("reins", "REINS"),
    ],
)
def test_refusals_are_one_line(case, message, tmp_path):
    import json

    from weditor.testing import save_tiny_pipeline

    model = save_tiny_pipeline("easyanimate", tmp_path / "model")
    extra = []
    if case == "mmdit":
        config = json.loads((model / "transformer" / "config.json").read_text())
        (model / "transformer" / "config.json").write_text(json.dumps({**config, "mmdit_layers": 1}))
    else:
        extra = ["--reins"]
    out = tmp_path / "out"
    args = ["patch", model, "--pairs", TINY_PAIRS, "--out", out, "--size", "32x32x5", "--method", "refusal", *extra]
    result = run_cli(args)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert result.exit_code == 2 and len(errors) == 1 and message in errors[0], result.output
    assert "Traceback" not in result.output and not out.exists()


@pytest.mark.parametrize("name", ["easyanimate", "easyanimate-control", "easyanimate-inpaint"])
def test_inspect_resolves_it(name, tmp_path):
    import json

    from weditor.testing import save_tiny_pipeline

    result = run_cli(["inspect", save_tiny_pipeline(name, tmp_path / "m"), "--json"])
    assert result.exit_code == 0, result.output
    (d,) = json.loads(result.output)["denoisers"].values()
    assert d["block_groups"]["blocks"]["blocks"] == 2 and all(site["width"] for site in d["sites"].values())
    assert d["text_input_linears"] == {"encoder_hidden_states": ["text_proj"]}


def test_a_normed_text_projection_gets_no_text_fold(tmp_path):
    """`add_norm_text_encoder`: an RMSNorm before `text_proj`'s linear, so no linear reads the embeddings as
    encoded; the text-side fold is refused (no text input), the block sites stay."""
    import json

    from weditor.adapters import adapter_for_model

    (tmp_path / "transformer").mkdir()
    config = {"_class_name": "EasyAnimateTransformer3DModel", "add_norm_text_encoder": True}
    (tmp_path / "transformer" / "config.json").write_text(json.dumps(config))
    adapter = adapter_for_model(tmp_path, "EasyAnimatePipeline")
    assert adapter.text_input is None and adapter.default_site == "ffn_in"
    (tmp_path / "transformer" / "config.json").write_text(json.dumps({**config, "add_norm_text_encoder": False}))
    assert adapter_for_model(tmp_path, "EasyAnimatePipeline").text_input == "text_proj"


def test_the_stock_inpaint_image_path_is_broken_in_this_diffusers():
    """Why image pairs are refused on EasyAnimateInpaintPipeline: its mask path reads `vae.config.cache_mag_vae`,
    which AutoencoderKLMagvit does not have (diffusers 0.42.1). When this starts passing, feed images."""
    pipe = build("easyanimate-inpaint")
    mask = torch.full((1, 1, SIZE[2], SIZE[0], SIZE[1]), 255.0)
    mask[:, :, 0] = 0
    with pytest.raises(AttributeError, match="cache_mag_vae"):
        pipe(
            prompt=PROMPT,
            video=torch.rand(1, 3, SIZE[2], SIZE[0], SIZE[1]),
            mask_video=mask,
            num_frames=SIZE[2],
            height=SIZE[0],
            width=SIZE[1],
            num_inference_steps=1,
            guidance_scale=1.0,
            output_type="latent",
        )


def test_the_stock_control_call_is_broken_in_this_diffusers():
    """diffusers 0.42.1's EasyAnimateControlPipeline.__call__ passes `text_encoder_index` to its own encode_prompt
    (the module docstring); when this starts passing, drop `tolerate_text_encoder_index`."""
    with pytest.raises(TypeError, match="text_encoder_index"):
        build("easyanimate-control")(prompt=PROMPT, num_frames=SIZE[2], height=SIZE[0], width=SIZE[1])
