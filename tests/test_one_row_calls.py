"""Collection taps see both members of a pair even where the adapter calls the denoiser one row at a time.

SkyReels-V2's diffusion-forcing adapter calls the transformer once per row (the pipeline's fps
embedding broadcasts only over a batch of one). The block edit's and REINS' taps reshape what one
call hands them into (members, tokens, d): fed one row, that split one member's tokens in half and
paired the halves. A pair whose two members are the same prompt under the same noise must give a
paired difference of exactly zero, and a REINS row per member equal to the other.
"""

from __future__ import annotations

import pytest
import torch

from tests.test_adapters import load, tiny  # noqa: F401 (fixture)
from weditor.io.pairs import Pair, PairSet
from weditor.models.runtime import Settings, SiteKey


@pytest.mark.parametrize("name", ["skyreels-df", "wan"])
def test_identical_members_give_a_zero_paired_difference(name, tiny):  # noqa: F811
    from weditor.methods.refusal_collect import collect

    pipe, adapter = load(tiny(name))
    same = "a red car on a street"
    ps = PairSet("car", "", (Pair(same, same),), ("a dog", "a cat"))
    keys = [SiteKey("transformer", 0, "ffn_in")]
    settings = Settings(size=(32, 32, 5), steps=2, seed=0)
    with torch.inference_mode():
        delta, neutral, _ = collect(pipe, adapter, keys, [ps], settings)
    m = delta["car"][keys[0]]
    assert m.count > 0
    assert float(m.sum_outer.abs().max()) == 0.0, "the taps paired tokens of one member with each other"


@pytest.mark.parametrize("name", ["skyreels-df", "wan"])
def test_reins_rows_of_identical_members_are_equal(name, tiny):  # noqa: F811
    from weditor.methods.reins import BlockKey, collect_pooled, pair_runs

    pipe, adapter = load(tiny(name))
    same = "a red car on a street"
    ps = PairSet("car", "", (Pair(same, same),), ())
    keys = [BlockKey("transformer", 0)]
    settings = Settings(size=(32, 32, 5), steps=2, seed=0)
    with torch.inference_mode():
        data = collect_pooled(pipe, adapter, keys, pair_runs([ps]), settings)
    rows = data[keys[0]].rows
    assert len(rows) == 4  # 2 members x 2 steps
    assert all((rows[i] == rows[i + 1]).all() for i in range(0, len(rows), 2))


def test_eval_latent_audit_joins_the_rows_of_a_cfg_batch(tiny, tmp_path):  # noqa: F811
    """eval's latent audit runs CFG as a batch of two; on SkyReels DF each row is its own call. The audit
    keeps the conditional row's block output once per step (it stopped with "hooks fired 4 times in 2 steps")."""
    import json

    from tests.conftest import TINY_PAIRS, run_cli

    base, patched, out = tiny("skyreels-df"), tmp_path / "patched", tmp_path / "eval"
    args = ["--size", "32x32x5"]
    result = run_cli(["patch", base, "--pairs", TINY_PAIRS, "--out", patched, "--no-tune", "--no-summary", *args])
    assert result.exit_code == 0, result.output
    result = run_cli(["eval", base, patched, "--out", out, "--limit", "1", "--no-videos", *args])
    assert result.exit_code == 0, result.output
    audit = json.loads((out / "report.json").read_text())["audit"]
    assert audit["train"]["points"] > 0 and 0.0 <= audit["cv_accuracy"] <= 1.0
