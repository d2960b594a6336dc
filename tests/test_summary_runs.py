"""The summary reuses the self-check's original-model runs (issue 22): one measurement pass, not two.

The neutral prompts the self-check ran (held out, or holding a part) are not run again before the edit: their
trajectories are taken from `Objective.original_runs`. These tests check that those rows are each prompt's own
trajectory (what the summary would compute for it from the same noise), that the summary then runs only the
other prompts before the edit, and that it measures the self-check's number of steps.
"""

from dataclasses import replace
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
RED = ROOT / "pairs" / "shapes-red.toml"


@pytest.fixture(scope="module")
def opened():
    from weditor.io.pairs import load_pairsets
    from weditor.models.loading import load_base
    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.load import open_pipeline

    cfg = PatchConfig(pairs=[RED], out=ROOT / "unused-never-written", seed=0)
    pairsets = load_pairsets(cfg.pairs)
    base, adapter = load_base(cfg.model, None)
    base, _, pipe, settings = open_pipeline(cfg, pairsets, base, adapter, offload=False)
    return pipe, adapter, pairsets, settings


def _rel(a, b) -> float:
    return float((a.double() - b.double()).abs().max() / b.double().abs().max())


def test_the_self_checks_runs_are_each_prompts_own_trajectory(opened):
    from weditor.defaults import MEASURE_STEPS
    from weditor.models.measure import trajectories
    from weditor.pipeline.objective import SEED_OFFSET, Objective, split_pairsets

    pipe, adapter, pairsets, settings = opened
    split = split_pairsets(pairsets, 0)
    with torch.no_grad():
        objective = Objective(MEASURE_STEPS, 0).fit(pipe, adapter, split, settings)
        runs = objective.original_runs()
        assert set(runs) == set(split.held_neutral) and len(runs) >= 2  # red has no parts: the held-out neutral
        for prompt, (cond, records) in runs.items():
            row = objective.prompts_.index(prompt)
            steps = replace(settings, steps=MEASURE_STEPS)
            (alone,) = trajectories(pipe, adapter, [cond], steps, [SEED_OFFSET + row])
            assert len(records) == len(alone) == MEASURE_STEPS
            for (c, t, x, pred), (c2, t2, x2, pred2) in zip(records, alone):
                assert c == c2 and float(t) == float(t2)
                assert _rel(x, x2) < 1e-5 and _rel(pred, pred2) < 1e-5  # a batch of 8 against the prompt alone
            # the check can fail: another prompt's noise is another trajectory
            (other,) = trajectories(pipe, adapter, [cond], steps, [SEED_OFFSET + row + 1])
            assert _rel(records[-1][3], other[-1][3]) > 0.05


def test_the_summary_runs_only_the_other_prompts_before_the_edit(tmp_path, monkeypatch):
    """`--no-tune` on the red pairs: the summary's "before" batch leaves out the held-out neutral prompts, its
    "after" batch has every eval and neutral prompt, and the recipe says how many steps were measured."""
    import json

    from weditor.io.pairs import load_pairsets, neutral_prompts
    from weditor.models import measure
    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.objective import split_pairsets
    from weditor.pipeline.run import run_patch

    calls = []
    original = measure.measure

    def counted(pipe, adapter, keys, directions, prompts, settings, *args, **kwargs):
        calls.append((len(prompts), kwargs.get("forced") is None, settings.steps))
        return original(pipe, adapter, keys, directions, prompts, settings, *args, **kwargs)

    monkeypatch.setattr(measure, "measure", counted)
    result = run_patch(PatchConfig(pairs=[RED], out=tmp_path / "red", tune=False), echo=lambda *_: None)
    pairsets = load_pairsets([RED])
    n_eval, n_neutral = len(pairsets[0].eval), len(neutral_prompts(pairsets))
    held = len(split_pairsets(pairsets, 0).held_neutral)
    assert held >= 2
    assert calls == [(n_eval + n_neutral - held, True, 3), (n_eval + n_neutral, False, 3)]
    summary = json.loads((tmp_path / "red" / "weditor.json").read_text())["summary"]
    assert summary == result.summary and summary["steps"] == 3
    assert summary["eval_prompts"] == n_eval and summary["neutral_prompts"] == n_neutral
    assert 0 < summary["output_change_neutral"] < summary["output_change_eval"]


def test_without_a_self_check_the_summary_runs_every_prompt(tmp_path, monkeypatch):
    """`--reins` (no self-check runs with it): nothing to share, every prompt runs before the edit, still 3 steps."""
    from weditor.io.pairs import load_pairsets, neutral_prompts
    from weditor.models import measure
    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.run import run_patch

    calls = []
    original = measure.measure

    def counted(pipe, adapter, keys, directions, prompts, settings, *args, **kwargs):
        calls.append((len(prompts), kwargs.get("forced") is None, settings.steps))
        return original(pipe, adapter, keys, directions, prompts, settings, *args, **kwargs)

    monkeypatch.setattr(measure, "measure", counted)
    result = run_patch(PatchConfig(pairs=[RED], out=tmp_path / "red", tune=False, reins=True), echo=lambda *_: None)
    pairsets = load_pairsets([RED])
    n = len(pairsets[0].eval) + len(neutral_prompts(pairsets))
    assert "self_check" not in result.recipe
    assert calls[-2:] == [(n, True, 3), (n, False, 3)]
