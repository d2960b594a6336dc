"""What the shared adapter tests (tests/test_adapters.py) do not cover: LTX-2's joint latent layout and
why its audio stream's prompt read-out is edited too; every adapter's declared package requirements."""

from __future__ import annotations

import pytest
import torch

from tests.test_adapters import load, tiny  # noqa: F401 (fixture)
from weditor.adapters.ltx2 import join, split
from weditor.models.runtime import encode


def test_joint_latent_round_trips(tiny):
    pipe, adapter = load(tiny("ltx2"))
    cond = encode(pipe, adapter, ["a red car"], "cpu")
    x = adapter.latents(pipe, (32, 32, 9), torch.Generator().manual_seed(0), "cpu")
    video, audio = split(x, pipe.transformer, cond)
    assert video.shape == (1, 4, 5, 16, 16) and audio.shape == (1, 9, 4)  # 9 frames at 24 fps: 9 audio latents
    assert torch.equal(join(video, audio), x)
    assert not x[:, 4:].reshape(-1)[audio.numel() :].any()  # the padding is zero ...
    pred = adapter.forward(pipe.transformer, x, torch.tensor(700.0), cond)
    assert not pred[:, 4:].reshape(-1)[audio.numel() :].any()  # ... and so is its prediction: it stays zero


def test_the_video_reads_the_prompt_through_the_audio_stream_too(tiny):
    """Changing only the audio stream's prompt embeddings changes the video prediction (audio-to-video
    cross-attention): a concept removed from the video stream's read-out alone could come back this way,
    so the text-side edits fold into both caption projections."""
    pipe, adapter = load(tiny("ltx2"))
    assert set(adapter.text_inputs()) == {"encoder_hidden_states", "audio_encoder_hidden_states"}
    red, blue = (encode(pipe, adapter, [p], "cpu") for p in ("a red car", "a blue car"))
    mixed = {**red, "audio_encoder_hidden_states": blue["audio_encoder_hidden_states"], "_sized": {}}
    x = adapter.latents(pipe, (32, 32, 9), torch.Generator().manual_seed(0), "cpu")
    t = torch.tensor(700.0)
    c = pipe.transformer.config.in_channels
    video_red = adapter.forward(pipe.transformer, x, t, red)[:, :c]
    video_mixed = adapter.forward(pipe.transformer, x, t, mixed)[:, :c]
    assert (video_red - video_mixed).abs().max() > 1e-4 * video_red.abs().max()


def _ftfy_guarded(source: str, i: int) -> bool:
    """The `ftfy.fix_text(` call at `i` runs only with ftfy installed: behind `if is_ftfy_available()`, or inside
    the IF/PixArt-style `_clean_caption`, which `_text_preprocessing` skips (clean_caption off) without ftfy."""
    if "if is_ftfy_available()" in source[max(0, i - 80) : i]:
        return True
    enclosing = source.rfind("def ", 0, i)
    return source.startswith("def _clean_caption", enclosing) and "clean_caption and not is_ftfy_available()" in source


def test_every_pipeline_calling_ftfy_unguarded_requires_it():
    """diffusers imports ftfy only if installed, then some pipelines call `ftfy.fix_text` anyway (a NameError
    mid-run without it): their adapters must declare it (one Error line up front). Read off the sources."""
    import inspect
    import re
    import sys

    import diffusers

    from weditor.adapters import ADAPTERS

    for adapter in ADAPTERS:
        for cls in adapter.pipelines:
            source = inspect.getsource(sys.modules[getattr(diffusers, cls).__module__])
            calls = [m.start() for m in re.finditer(r"ftfy\.fix_text\(", source)]
            unguarded = any(not _ftfy_guarded(source, i) for i in calls)
            assert (("ftfy", "ftfy") in adapter.requires) == unguarded, cls


@pytest.mark.parametrize(
    "config, gated, text",
    [
        ({}, False, True),  # LTX-2.0
        (
            {"cross_attn_mod": True, "audio_cross_attn_mod": True, "use_prompt_embeddings": False},
            True,
            False,
        ),  # LTX-2.3
    ],
)
def test_ltx23_checkpoints_get_the_gated_table(tmp_path, config, gated, text):
    """LTX-2.3 gates the prompt's cross-attention add (`gate_text_q`) and has no caption projection: the
    adapter read off the checkpoint's transformer config refuses REINS and output-side cross-attention edits
    there, and declares no text-side fold; LTX-2.0 keeps the ungated table."""
    import json

    from weditor.adapters import adapter_for_model

    (tmp_path / "transformer").mkdir()
    (tmp_path / "transformer" / "config.json").write_text(
        json.dumps({"_class_name": "LTX2VideoTransformer3DModel", **config})
    )
    adapter = adapter_for_model(tmp_path, "LTX2ConditionPipeline")
    assert adapter.pipelines == ("LTX2ConditionPipeline",) and adapter.encode is not None
    assert adapter.sites["cross_attn_out"].gated is gated and adapter.sites["audio_cross_attn_out"].gated is gated
    assert (adapter.ungated_write is None) is gated
    assert bool(adapter.text_inputs()) is text
    assert not adapter.sites[adapter.default_site].gated


def test_a_bad_denoiser_config_is_one_error(tmp_path):
    from weditor.adapters import adapter_for_model
    from weditor.errors import WeditorError

    (tmp_path / "transformer").mkdir()
    (tmp_path / "transformer" / "config.json").write_text("[1, 2")
    with pytest.raises(WeditorError, match="not a JSON config"):
        adapter_for_model(tmp_path, "LTX2Pipeline")
