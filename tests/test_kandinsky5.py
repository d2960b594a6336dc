"""Kandinsky 5's own glue (weditor/adapters/kandinsky5.py): its transformer takes no text mask, so a batch of
prompts of different lengths is padded and the padding masked out of the text keys for that call; REINS and
output-side edits are refused (every write gated); the tiny tokenizer crops as the real one does."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_adapters import load, tiny  # noqa: F401 (fixture)
from tests.test_safree import safree_patched  # noqa: F401 (fixture)
from tests.test_text_readout import text_patched  # noqa: F401 (fixture)


@pytest.mark.parametrize("name", ["kandinsky5", "kandinsky5-i2v"])
def test_a_padded_batch_gives_each_prompt_alone(name, tiny):
    """Each row of a batch of prompts of different lengths equals that prompt run alone (its own length, the
    stock processors); without the mask the padding changes the shorter prompt's prediction."""
    from weditor.adapters import kandinsky5
    from weditor.models.runtime import encode

    pipe, adapter = load(tiny(name))
    prompts = ["a red car on a street at night", "a dog"]
    cond = encode(pipe, adapter, prompts, "cpu")
    lengths = cond["encoder_attention_mask"].sum(1).tolist()
    assert lengths[1] < lengths[0] == cond["encoder_hidden_states"].shape[1]
    x = adapter.latents(pipe, (32, 32, 9), torch.Generator().manual_seed(1), "cpu")
    both = adapter.forward(pipe.transformer, x.expand(2, *x.shape[1:]), torch.tensor(700.0), cond)
    for i, prompt in enumerate(prompts):
        one = encode(pipe, adapter, [prompt], "cpu")
        assert one["encoder_hidden_states"].shape[1] == lengths[i]
        alone = adapter.forward(pipe.transformer, x, torch.tensor(700.0), one)
        assert (both[i : i + 1] - alone).abs().max() <= 1e-5 * alone.abs().max(), prompt
    processors = [b.cross_attention.processor for b in pipe.transformer.visual_transformer_blocks]
    assert all(type(p).__name__ == "Kandinsky5AttnProcessor" for p in processors), "stock processors put back"
    unmasked = dict(cond, encoder_attention_mask=torch.ones_like(cond["encoder_attention_mask"]))
    moved = (adapter.forward(pipe.transformer, x.expand(2, *x.shape[1:]), torch.tensor(700.0), unmasked) - both)[1]
    assert moved.abs().max() > 1e-4, "the padding mask changes nothing: the check above checks nothing"
    assert kandinsky5.KANDINSKY5.ungated_write is None


def test_the_tiny_tokenizer_crops_to_the_prompt(tiny):
    """The pipeline drops the first 128 tokens (its template's system turn and user header): the tiny tokenizer's
    prefix is exactly that long, so what the transformer reads is the prompt and the closing token."""
    pipe, _ = load(tiny("kandinsky5"))
    embeds, _, cu = pipe.encode_prompt(["a red car"], device="cpu")
    assert int(cu[-1]) == embeds.shape[1] == len("a red car".split()) + 1  # + <|im_end|>


@pytest.mark.parametrize("method,site", [("reins", None), ("refusal", "cross_attn_out")])
def test_gated_writes_refuse_reins_and_output_side_edits(method, site, tiny, tmp_path):
    out = tmp_path / "o"
    args = ["patch", tiny("kandinsky5"), "--pairs", TINY_PAIRS, "--out", out, "--method", method]
    result = run_cli(args + (["--site", site] if site else []))
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "gate" in errors[0] and "Traceback" not in result.output
    assert not out.exists()


def _bf16_rounding_left_out(monkeypatch):
    """Every Kandinsky5AttnProcessor as the stock one but for its bfloat16 rounding of the rotated q and k."""
    from diffusers.models.transformers import transformer_kandinsky

    from weditor.adapters.kandinsky5 import _KeyMasked

    plain = _KeyMasked(None, bf16=False)
    monkeypatch.setattr(
        transformer_kandinsky.Kandinsky5AttnProcessor, "__call__", lambda self, attn, *a, **k: plain(attn, *a, **k)
    )


@pytest.mark.parametrize("name", ["kandinsky5", "kandinsky5-i2v"])
@pytest.mark.parametrize("method", ["safree", "text"])
def test_the_text_folds_are_exact_but_for_the_stock_bf16_rounding(method, name, tiny, safree_patched, text_patched):
    """SAFREE's and the read-out's folds into `text_embeddings.in_layer` and `pooled_text_embeddings.in_layer`
    (tests/test_safree.py, test_text_readout.py). The stock attention rounds the rotated query and key of the
    text blocks to bfloat16, so a float32 rounding difference between the folded weight and the run-time
    projection can flip one bfloat16 step: relative differences up to 3e-4 were seen with it (the edit itself
    moves the output by far more; checked below at 1e-3), 1e-5 without it."""
    import tests.test_safree as safree
    import tests.test_text_readout as readout
    from tests import test_adapters

    run = {
        "safree": lambda: safree.test_safree_fold_is_exact(name, tiny, safree_patched),
        "text": lambda: readout.test_text_readout_fold_is_exact(name, tiny, text_patched),
    }[method]
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(safree.FAMILIES, name, "32x32x9")
        mp.setattr(test_adapters, "assert_edited_as", _loose)
        mp.setattr(safree, "assert_edited_as", _loose)
        run()  # the stock processors, 1e-3
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(safree.FAMILIES, name, "32x32x9")
        _bf16_rounding_left_out(mp)
        run()  # without the rounding, the shared 1e-5


def _loose(got, want, orig, label):
    assert (got - want).abs().max() <= 1e-3 * want.abs().max(), label
    assert (got - orig).abs().max() > 1e-2 * orig.abs().max(), f"{label}: the edit does nothing at this tolerance"
