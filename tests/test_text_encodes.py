"""weditor/methods/text_encodes.py: the text read-out's prompts encoded several per call give the same bits
as one prompt per call (so `--method text` writes the same bytes: tests/test_tuning.py pins them),
and the statistics built from them are equal to those built one prompt at a time."""

from __future__ import annotations

import pytest
import torch

from weditor.methods import text_encodes


@pytest.fixture(scope="module")
def shapes():
    from diffusers import WanPipeline

    from weditor.adapters import adapter_for_class
    from weditor.shapes import model_path

    pipe = WanPipeline.from_pretrained(model_path(), use_safetensors=True)
    return pipe, adapter_for_class(type(pipe).__name__)


def test_batched_encodes_are_the_single_encodes_bit_for_bit(shapes):
    from weditor.models.runtime import encode

    pipe, adapter = shapes
    prompts = ["a red circle on the left", "a circle", "a blue square", "a red circle on the left", "a green cross"]
    assert text_encodes.batchable(adapter)
    got = list(text_encodes.encoded(pipe, adapter, prompts, "cpu", chunk=3))  # chunks of 3 and 2
    assert len(got) == len(prompts)
    for p, cond in zip(prompts, got):
        with torch.no_grad():
            one = encode(pipe, adapter, [p], "cpu")
        assert set(cond) == set(one)
        for k in one:
            assert cond[k].shape == one[k].shape and torch.equal(cond[k], one[k]), (p, k)


def test_statistics_equal_one_prompt_at_a_time(shapes, monkeypatch):
    from tests.test_tuning import RED
    from weditor.io.pairs import load_pairsets
    from weditor.methods.text import statistics

    pipe, adapter = shapes
    pairsets = load_pairsets([RED])
    batched = statistics(pipe, adapter, pairsets, "cpu")
    monkeypatch.setattr(text_encodes, "batchable", lambda adapter: False)  # the old path: one prompt per call
    single = statistics(pipe, adapter, pairsets, "cpu")

    def tensors(stats):
        pairs, neutral = stats
        out = {}
        for key, per in pairs.items():
            for c, pm in enumerate(per):
                out.update({f"{key}.{c}.{n}": v for n, v in vars(pm).items() if isinstance(v, torch.Tensor)})
                for side in ("unsafe", "delta"):
                    m = getattr(pm, side, None)
                    out.update({f"{key}.{c}.{side}.{n}": v for n, v in vars(m).items() if isinstance(v, torch.Tensor)})
        for key, rm in neutral.items():
            out.update({f"{key}.neutral.{n}": v for n, v in vars(rm).items() if isinstance(v, torch.Tensor)})
        return out

    a, b = tensors(batched), tensors(single)
    assert a and a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
