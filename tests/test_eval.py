"""`weditor eval`: videos side by side, resumability, latent audit, representation, scorers, report.

Everything runs on the tiny random Wan pipelines of conftest (2 sampling steps, 32x32x5),
so the numbers mean nothing about erasure; the tests check that each piece is computed from
the right inputs and lands in report.json / report.html.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_PAIRS, TINY_SIZE, run_cli
from PIL import Image

from weditor.errors import WeditorError
from weditor.evaluation import generate as gen
from weditor.evaluation import scorers

CHROMIUM = Path("/usr/bin/chromium")
PLUGIN = """
import json, os
CALLS = []

def score(video, prompt, concept=None, model=None):
    assert video.ndim == 4 and video.shape[-1] == 3 and video.dtype.kind == "f"
    assert 0.0 <= video.min() and video.max() <= 1.0
    with open(os.environ["EVAL_PLUGIN_LOG"], "a") as f:
        f.write(json.dumps({"prompt": prompt, "concept": concept, "model": model, "shape": list(video.shape)}) + "\\n")
    return {"score": float(video[..., 0].mean()), "label": "reddish" if video[..., 0].mean() > 0.5 else "other"}
"""


def eval_args(base, patched, out, *extra):
    return [
        "eval",
        base,
        patched,
        "--out",
        out,
        "--size",
        TINY_SIZE,
        "--steps",
        "2",
        "--limit",
        "2",
        "--video-format",
        "gif",
        *extra,
    ]


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "eval_judge_plugin.py").write_text(PLUGIN)
    return folder


@pytest.fixture(scope="module")
def evaluated(tiny_wan, patched, plugin, tmp_path_factory):
    """One full run: 2 eval + 2 neutral + 1 custom prompt, two scorers, a probe plot in the folder."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("eval")
    out = root / "out"
    out.mkdir()
    Image.new("RGB", (60, 40), (20, 120, 200)).save(out / "probe.png")
    prompts = root / "prompts.txt"
    prompts.write_text("# my prompts\n\na man with a knife in the rain\n")
    log = root / "calls.jsonl"
    mp.setenv("EVAL_PLUGIN_LOG", str(log))
    mp.syspath_prepend(str(plugin))
    try:
        result = run_cli(
            eval_args(
                tiny_wan,
                patched,
                out,
                "--pairs",
                TINY_PAIRS,
                "--prompts",
                prompts,
                "--scorer",
                "eval_judge_plugin:score",
                "--scorer",
                "shapes",
            )
        )
    finally:
        mp.undo()
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return out, report, calls, result.output


def test_videos_and_grids_on_disk(evaluated):
    out, report, _, output = evaluated
    assert {g: len(v["prompts"]) for g, v in report["groups"].items()} == {"eval": 2, "neutral": 2, "custom": 1}
    assert report["groups"]["custom"]["prompts"] == ["a man with a knife in the rain"]
    assert report["videos_generated"] == {"base": 5, "patched": 5}
    assert len(report["videos"]) == 5
    for row in report["videos"]:
        for m in ("base", "patched"):
            assert (out / row[m]["video"]).suffix == ".gif"
            frames = np.load(out / row[m]["frames"])
            assert frames.shape == (5, 32, 32, 3) and frames.dtype == np.uint8
            with Image.open(out / row[m]["video"]) as gif:
                assert gif.n_frames == 5
            assert row[m]["seconds"] > 0
        assert 0 < row["pixel_change"] < 1  # the patch changed the video, a little
    for g in ("eval", "neutral", "custom"):
        with Image.open(out / report["grids"][g]) as im:
            assert im.format == "PNG" and im.width > 8 * 96  # 4 frames x 2 models
    assert "10 generated, 0 reused" in output
    # the bound, said before the work, and the estimate after the first video
    assert "weditor eval: 10 videos (5 per model; 10 to generate)" in output and "--limit N" in output
    assert "first video: " in output and "estimated time for the rest: about " in output


def test_same_seed_for_base_and_patched(evaluated, tiny_wan):
    """The base video is exactly what the stock pipeline makes from that seed."""
    import torch
    from diffusers import WanPipeline

    out, report, _, _ = evaluated
    row = report["videos"][0]
    pipe = WanPipeline.from_pretrained(tiny_wan)
    pipe.set_progress_bar_config(disable=True)
    video = pipe(
        prompt=[row["prompt"]],
        height=32,
        width=32,
        num_frames=5,
        num_inference_steps=2,
        guidance_scale=5.0,
        max_sequence_length=16,
        output_type="np",
        generator=[torch.Generator().manual_seed(row["seed"])],
    ).frames[0]
    assert np.array_equal(gen.to_uint8(video), np.load(out / row["base"]["frames"]))


def test_an_interrupted_run_resumes(evaluated, tiny_wan, patched, plugin, monkeypatch, tmp_path):
    """Videos already on disk are kept; only the missing ones (an interrupted run's) are generated."""
    first, report, _, _ = evaluated
    out = tmp_path / "interrupted"
    shutil.copytree(first / "videos", out / "videos")
    patched_npy = [out / r["patched"]["frames"] for r in report["videos"] if r["group"] != "custom"]
    for path in patched_npy[:3]:  # the run stopped before these three
        path.unlink()
    kept = {p: p.stat().st_mtime_ns for p in (out / "videos").rglob("*.npy")}
    monkeypatch.setenv("EVAL_PLUGIN_LOG", str(tmp_path / "log"))
    monkeypatch.syspath_prepend(str(plugin))
    result = run_cli(
        eval_args(
            tiny_wan,
            patched,
            out,
            "--pairs",
            TINY_PAIRS,
            "--no-audit",
            "--no-representation",
            "--scorer",
            "eval_judge_plugin:score",
        )
    )
    assert result.exit_code == 0, result.output
    assert f"8 videos (4 per model; 3 to generate; 5 already in {out} from an earlier run)" in result.output
    report = json.loads((out / "report.json").read_text())
    assert report["videos_generated"] == {"base": 0, "patched": 3}
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())  # nothing generated twice
    assert all(p.is_file() for p in patched_npy)


def test_second_run_generates_nothing(evaluated, tiny_wan, patched, plugin, monkeypatch, tmp_path):
    first, report, _, _ = evaluated
    out = tmp_path / "again"  # a copy, so that the other tests keep reading the first run's report
    shutil.copytree(first / "videos", out / "videos")
    before = {p: p.stat().st_mtime_ns for p in (out / "videos").rglob("*.npy")}
    monkeypatch.setenv("EVAL_PLUGIN_LOG", str(tmp_path / "log"))
    monkeypatch.syspath_prepend(str(plugin))
    result = run_cli(
        eval_args(
            tiny_wan,
            patched,
            out,
            "--pairs",
            TINY_PAIRS,
            "--no-audit",
            "--no-representation",
            "--scorer",
            "eval_judge_plugin:score",
        )
    )
    assert result.exit_code == 0, result.output
    again = json.loads((out / "report.json").read_text())
    assert again["videos_generated"] == {"base": 0, "patched": 0}
    assert again["videos_reused"] == {"base": 4, "patched": 4}
    assert {p: p.stat().st_mtime_ns for p in (out / "videos").rglob("*.npy")} == before
    assert "0 generated, 8 reused" in result.output
    # the same verdicts from the same frames
    old = {(r["prompt"], r["seed"]): r["scores"]["eval_judge_plugin:score"] for r in report["videos"]}
    for r in again["videos"]:
        assert r["scores"]["eval_judge_plugin:score"] == old[(r["prompt"], r["seed"])]


def test_video_key_covers_model_prompt_seed_settings():
    s = gen.GenSettings(32, 32, 5, 2, 5.0)
    job = gen.Job("eval", "a red car", 0)
    key = gen.video_key("m", job, s)
    assert key == gen.video_key("m", gen.Job("neutral", "a red car", 0), s)  # the group is not part of the video
    assert (
        len(
            {
                key,
                gen.video_key("m2", job, s),
                gen.video_key("m", gen.Job("eval", "a blue car", 0), s),
                gen.video_key("m", gen.Job("eval", "a red car", 1), s),
                gen.video_key("m", job, gen.GenSettings(32, 32, 5, 3, 5.0)),
                gen.video_key("m", job, gen.GenSettings(32, 32, 5, 2, 4.0)),
            }
        )
        == 6
    )


def test_fingerprint_of_a_patched_folder_follows_its_weights(patched, tmp_path):
    fp = gen.fingerprint(patched)
    assert fp.startswith("recipe:") and fp == gen.fingerprint(patched)
    copy = tmp_path / "copy"
    shutil.copytree(patched, copy)
    assert gen.fingerprint(copy) == fp  # content, not location
    recipe = json.loads((copy / "weditor.json").read_text())
    name = next(k for k in recipe["files"] if k.startswith("transformer/"))
    recipe["files"][name] = "0" * 64
    (copy / "weditor.json").write_text(json.dumps(recipe))
    assert gen.fingerprint(copy) != fp


def test_scorer_plugin_called_with_video_and_context(evaluated):
    _, report, calls, _ = evaluated
    assert len(calls) == 10  # 5 prompts x (base, patched)
    assert {c["model"] for c in calls} == {"base", "patched"}
    assert all(c["shape"] == [5, 32, 32, 3] and c["concept"] == "red" for c in calls)
    s = report["scorers"]["eval_judge_plugin:score"]
    assert s["calls"] == 10
    assert set(s["summary"]) == {"eval", "neutral", "custom"}
    row = s["summary"]["eval"]
    assert row["n"] == 2 and 0 <= row["unsafe_rate_before"] <= 1 and "kept_label" in row and "score_before" in row
    assert set(s["headline"]) == {"erasure", "preservation"}
    for r in report["videos"]:
        v = r["scores"]["eval_judge_plugin:score"]["base"]
        assert v["unsafe"] == (v["score"] >= 0.5)
    # the built-in shapes scorer ran too, with the pair file's concept as its target colour
    shapes_rows = [r["scores"]["shapes"]["base"] for r in report["videos"]]
    assert all(set(v) >= {"unsafe", "color", "shape", "motion"} for v in shapes_rows)
    assert all(v["unsafe"] == (v["color"] == "red") for v in shapes_rows)


def test_latent_audit_reported(evaluated):
    _, report, _, output = evaluated
    a = report["audit"]
    assert 0.0 <= a["cv_accuracy"] <= 1.0 and a["folds"] >= 2
    # 5 pairs x 2 members + 6 neutral prompts, 2 seeds each; eval prompts held out
    assert a["train"] == {"points": 32, "groups": 11, "unsafe": 10, "safe": 22, "seeds": 2}
    assert a["steps_used"] == 2 and a["steps_full"] == 2
    assert a["denoiser_calls_probe"] == 4 and a["denoiser_calls_full"] == 4  # guidance 5: two calls a step
    assert a["decodes"] == {"probe": 0, "full": 1}
    assert a["seconds_per_video_probe"] > 0 and a["seconds_per_video_full"] > 0 and a["speedup"] > 0
    assert set(a["estimates"]) == {"eval", "neutral", "custom"}
    assert len(a["predictions"]) == 5 and all(0 <= p["p_before"] <= 1 for p in a["predictions"])
    assert set(a["agreement"]) == {"eval_judge_plugin:score", "shapes"}
    assert "audit probe: CV accuracy" in output


def test_audit_reads_the_trajectory_the_pipeline_samples(tiny_wan):
    """The probe's early steps are the stock pipeline's first steps for that seed (with guidance)."""
    import torch
    from diffusers import WanPipeline

    from weditor.adapters import WAN
    from weditor.evaluation import latent_audit as audit

    pipe = WanPipeline.from_pretrained(tiny_wan)
    pipe.set_progress_bar_config(disable=True)
    block = pipe.transformer.blocks[3]
    seen = []
    handle = block.register_forward_hook(lambda m, a, o: seen.append(o.detach().double().mean(1)[0]))
    try:
        pipe(
            prompt=["a red car on a street"],
            height=32,
            width=32,
            num_frames=5,
            num_inference_steps=4,
            guidance_scale=5.0,
            max_sequence_length=16,
            output_type="latent",
            generator=[torch.Generator().manual_seed(7)],
        )
    finally:
        handle.remove()
    feats = audit.early_features(
        pipe,
        WAN,
        [audit.Point("a red car on a street", 7, None, 0)],
        (32, 32, 5),
        steps=4,
        k=2,
        guidance=5.0,
        negative="",
        layer="-1",
        device="cpu",
    )
    assert feats.block == {"transformer": 3, "transformer_2": 3}
    expected = torch.cat([seen[0], seen[2]]).numpy()  # the pipeline runs cond, then uncond, every step
    np.testing.assert_allclose(feats.X[0], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("family", ["zeroscope", "cogvideox", "ltx", "hunyuanvideo"])
def test_audit_trajectory_on_other_families(family):
    """Same check on every text-to-video family: schedulers, packed latents, frames folded into the batch."""
    import torch

    from weditor.adapters import adapter_for_class
    from weditor.evaluation import latent_audit as audit
    from weditor.models.runtime import get_module
    from weditor.testing import TINY_PIPELINES

    builder, kwargs = TINY_PIPELINES[family]
    pipe = builder(**kwargs)
    pipe.set_progress_bar_config(disable=True)
    adapter = adapter_for_class(type(pipe).__name__)
    size = {"zeroscope": (16, 16, 4), "hunyuanvideo": (32, 32, 5)}.get(family, (32, 32, 9))
    guidance = 6.0 if family == "hunyuanvideo" else 5.0  # HunyuanVideo: embedded guidance, no CFG pass
    comp, block = next(iter(audit.probe_blocks(pipe, adapter, "-1").items()))
    seen = []
    module = get_module(getattr(pipe, comp), audit._block_path(pipe, adapter, comp, block))
    handle = module.register_forward_hook(
        lambda m, a, o: seen.append((o[0] if isinstance(o, tuple) else o).detach().double())
    )
    settings = gen.GenSettings(*size, steps=4, guidance=guidance)
    try:
        pipe(
            prompt=["a red car on a street"],
            generator=[torch.Generator().manual_seed(7)],
            **{**gen.call_kwargs(pipe, adapter, settings), "output_type": "latent"},
        )
    finally:
        handle.remove()
    feats = audit.early_features(
        pipe,
        adapter,
        [audit.Point("a red car on a street", 7, None, 0)],
        size,
        steps=4,
        k=2,
        guidance=guidance,
        negative="",
        layer="-1",
        device="cpu",
    )
    assert len(seen) == 4  # one batched call per step (CFG branches batched, or no CFG)
    d = feats.X.shape[1] // 2
    for step in range(2):
        h = seen[step]
        half = h.shape[0] // 2 if gen.uses_cfg(adapter, guidance) else h.shape[0]
        cond = h[h.shape[0] - half :]  # diffusers batches [uncond, cond]
        want = cond.reshape(1, -1, h.shape[-1]).mean(1)[0].numpy()
        np.testing.assert_allclose(feats.X[0, step * d : (step + 1) * d], want, rtol=1e-4, atol=1e-5)


def test_eval_on_a_unet_family(tmp_path):
    """ZeroScope (UNet3D, blocks found by pattern, no max_sequence_length) end to end."""
    from weditor.testing import save_tiny_pipeline

    base = save_tiny_pipeline("zeroscope", tmp_path / "zs")
    patched = tmp_path / "zs-patched"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            base,
            "--pairs",
            TINY_PAIRS,
            "--out",
            patched,
            "--size",
            "16x16x4",
            "--layers",
            "0-3",
            "--no-summary",
            "--alpha",
            "1",
        ]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "ev"
    result = run_cli(
        [
            "eval",
            base,
            patched,
            "--out",
            out,
            "--size",
            "16x16x4",
            "--steps",
            "2",
            "--limit",
            "1",
            "--video-format",
            "gif",
            "--scorer",
            "shapes",
        ]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["videos_generated"] == {"base": 2, "patched": 2}
    assert np.load(out / report["videos"][0]["base"]["frames"]).shape == (4, 16, 16, 3)
    assert len(report["representation"]["sites"]) == 4 and report["audit"]["cv_accuracy"] is not None


def test_representation_metrics(evaluated, patched):
    from safetensors.torch import load_file

    _, report, _, _ = evaluated
    r = report["representation"]
    names = sorted(load_file(patched / "weditor" / "directions.safetensors"))
    assert sorted(s["site"] for s in r["sites"]) == names
    for s in r["sites"]:
        assert abs(s["proj_eval_before"]) > 1e-3
        assert abs(s["proj_eval_after"]) < 1e-6  # lambda = 1: the edited linear no longer sees the direction
        assert s["proj_eval_arriving_after"] is not None and s["proj_neutral_before"] is not None
    assert 0 < r["output_change_neutral"] < 0.5 and 0 < r["output_change_eval"] < 0.5
    assert r["strength"] == 1.0 and r["prompts"] == {"eval": 2, "neutral": 2}


def test_report_html_is_self_contained(evaluated):
    out, report, _, _ = evaluated
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("data:image/png;base64,") == 4  # three grids and the probe plot
    assert "REINS probe curve" in page and report["probe_plot"].endswith("probe.png")
    assert page.count("data:image/gif;base64,") == 10  # small videos are embedded too
    for needle in ("Latent audit", "Representation", "eval_judge_plugin:score", "a man with a knife in the rain"):
        assert needle in page


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs headless Chromium: apt-get install -y chromium")
def test_report_renders_in_chromium(evaluated, tmp_path):
    """Screenshot the page, and the page with the grids hidden: the difference is the grid, and not blank."""
    out, report, _, _ = evaluated
    page = (out / "report.html").read_text()
    hidden = out / "hidden.html"
    hidden.write_text(page.replace("</style>", "img.grid { visibility: hidden; }</style>", 1))

    def shot(html: Path, name: str) -> np.ndarray:
        png = tmp_path / name
        subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={tmp_path / 'profile'}",
                f"--screenshot={png}",
                "--window-size=1200,1600",
                html.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return np.asarray(Image.open(png).convert("RGB")).astype(np.int16)

    full, blank = shot(out / "report.html", "full.png"), shot(hidden, "hidden.png")
    assert full.shape == blank.shape == (1600, 1200, 3)
    diff = np.abs(full - blank).sum(-1) > 30
    ys, xs = np.nonzero(diff)
    assert len(ys) > 0, "the grid is not visible"
    region = full[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    with Image.open(out / report["grids"]["eval"]) as g:
        grid_w = g.width
    assert xs.max() - xs.min() + 1 >= 0.9 * min(grid_w, 1100)  # the grid is shown at (about) full width
    assert ys.max() - ys.min() + 1 >= 100
    assert region.std() > 20 and len(np.unique(region.reshape(-1, 3), axis=0)) > 50  # frames, not a blank box
    assert blank[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].std() < region.std()


MEASURE = """<script>
window.addEventListener("load", () => {
  const w = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > w + 1)
    .map(e => e.tagName + (e.className ? "." + e.className : "") + " " + Math.round(e.getBoundingClientRect().right));
  const out = document.createElement("pre");
  out.id = "measure";
  out.textContent = JSON.stringify({scrollWidth: document.documentElement.scrollWidth, clientWidth: w, wide: wide.slice(0, 5)});
  document.body.appendChild(out);
});
</script>"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs headless Chromium: apt-get install -y chromium")
@pytest.mark.parametrize("width", [1400, 800])
def test_report_fits_the_window_in_chromium(evaluated, tmp_path, width):
    """At 1400 and 800 px wide nothing is wider than the window (no horizontal scrollbar): measured in the page
    by a script after layout, and a screenshot at that width for a person to look at."""
    out, _, _, _ = evaluated
    page = (out / "report.html").read_text()
    measured = out / f"measure-{width}.html"
    measured.write_text(page.replace("</body>", MEASURE + "</body>", 1))
    flags = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={width},900",
        "--virtual-time-budget=5000",
    ]
    dom = subprocess.run(
        [*flags, "--dump-dom", measured.resolve().as_uri()], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    found = re.search(r'<pre id="measure">(.*?)</pre>', dom, flags=re.S)
    assert found, dom[-2000:]
    m = json.loads(html.unescape(found.group(1)))
    assert m["clientWidth"] <= width and m["clientWidth"] > width - 40
    assert m["scrollWidth"] <= m["clientWidth"], f"the page overflows at {width} px: {m}"
    assert not m["wide"], m
    png = tmp_path / f"report-{width}.png"
    subprocess.run(
        [*flags, f"--screenshot={png}", (out / "report.html").resolve().as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with Image.open(png) as im:
        assert im.width == width


def test_report_page_uses_words_and_marks_intended_changes(evaluated):
    out, _, _, _ = evaluated
    page = (out / "report.html").read_text()
    for raw in ("erased_of_shown", "unsafe_rate_before", "verdict_changed", ">kept_"):
        assert raw not in page, raw
    assert "judged unsafe, original" in page and "same label as the original" in page


# --------------------------------------------------------------------------- scorer interface


def test_scorer_results_are_checked():
    v = np.zeros((2, 4, 4, 3), np.float32)
    with pytest.raises(WeditorError, match="neither 'unsafe'"):
        scorers.Scorer("x", lambda video, prompt: {"label": "a"})(v, "p")
    with pytest.raises(WeditorError, match="must return a dict"):
        scorers.Scorer("x", lambda video, prompt: 0.3)(v, "p")
    with pytest.raises(WeditorError, match="'unsafe' must be a bool"):
        scorers.Scorer("x", lambda video, prompt: {"unsafe": "yes"})(v, "p")
    with pytest.raises(WeditorError, match="scorer 'x' failed on 'p': ZeroDivisionError"):
        scorers.Scorer("x", lambda video, prompt: {"unsafe": 1 / 0})(v, "p")
    s = scorers.Scorer("x", lambda video, prompt: {"score": np.float32(0.7), "n": np.int64(3)}, threshold=0.8)
    assert s(v, "p") == {"score": pytest.approx(0.7), "n": 3, "unsafe": False}


def test_scorers_load_from_module_class_and_entry_point(monkeypatch, tmp_path):
    (tmp_path / "judges_for_test.py").write_text(
        textwrap.dedent("""
        class Judge:
            def __init__(self, concept):
                self.concept = concept
            def __call__(self, video, prompt, **context):
                return {"unsafe": self.concept in prompt, "group": context.get("group")}

        def plain(video, prompt):
            return {"unsafe": False}
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    v = np.zeros((1, 2, 2, 3), np.float32)
    judge = scorers.load_scorer("judges_for_test:Judge", {"concept": "red"})
    assert judge(v, "a red car", group="eval", model="base") == {"unsafe": True, "group": "eval"}
    plain = scorers.load_scorer("judges_for_test:plain", {"concept": "red"})
    assert plain(v, "a red car", concept="red", group="eval") == {
        "unsafe": False
    }  # context it does not take is dropped
    ep = EntryPoint(name="my-judge", value="judges_for_test:plain", group=scorers.ENTRY_POINT_GROUP)
    monkeypatch.setattr(scorers, "entry_points", lambda: {"my-judge": ep})
    assert scorers.load_scorer("my-judge").fn.__name__ == "plain"
    with pytest.raises(WeditorError, match="unknown .*my-judge"):
        scorers.load_scorer("nope")
    with pytest.raises(WeditorError, match="has no attribute"):
        scorers.load_scorer("judges_for_test:missing")
    with pytest.raises(WeditorError, match="cannot import"):
        scorers.load_scorer("no_such_module_here:x")


def test_shapes_entry_point_is_declared():
    import tomllib

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    declared = project["project"]["entry-points"][scorers.ENTRY_POINT_GROUP]
    assert declared == {"shapes": scorers.BUILTIN["shapes"]}
    assert scorers.load_scorer("shapes", {"concept": "red"}).fn is scorers.shapes


def test_shapes_scorer_on_rendered_clips():
    from weditor.shapes.world import render

    red = render("red", "circle", "left", rng=0)
    blue = render("blue", "square", "up", rng=1)
    r = scorers.shapes(red, "a crimson ball moving leftward", concept="red")
    assert r == {
        "unsafe": True,
        "color": "red",
        "shape": "circle",
        "motion": "left",
        "others": "circle left",
        "color_ok": True,
        "shape_ok": True,
        "motion_ok": True,
    }
    b = scorers.shapes(blue, "a square that moves upwards", concept="red")
    assert b["unsafe"] is False and b["color"] == "blue" and b["color_ok"] is False  # no colour word means white
    assert b["shape_ok"] and b["motion_ok"]
    # a name the world does not know falls back on the keywords; a name mixing world words with others is refused
    assert scorers.shapes(red, "x", concept="things-to-hide", keywords=("scarlet",))["unsafe"] is True
    with pytest.raises(WeditorError, match="word 'things' is not in the shapes world"):
        scorers.shapes(red, "x", concept="crimson-things", keywords=("scarlet",))
    with pytest.raises(WeditorError, match="concept 'nudity' names nothing of the shapes world"):
        scorers.shapes(red, "x", concept="nudity", keywords=("nude",))


def test_summary_vocabulary():
    rows = [
        {"group": "eval", "base": {"unsafe": True, "color": "red"}, "patched": {"unsafe": False, "color": "white"}},
        {"group": "eval", "base": {"unsafe": True, "color": "red"}, "patched": {"unsafe": True, "color": "red"}},
        {"group": "neutral", "base": {"unsafe": False, "color": "blue"}, "patched": {"unsafe": False, "color": "blue"}},
        {
            "group": "neutral",
            "base": {"unsafe": False, "color": "green"},
            "patched": {"unsafe": False, "color": "cyan"},
        },
    ]
    s = scorers.summarise(rows)
    assert s["eval"]["unsafe_rate_before"] == 1.0 and s["eval"]["unsafe_rate_after"] == 0.5
    assert s["eval"]["erased_of_shown"] == 0.5
    assert s["neutral"]["kept_color"] == 0.5 and s["neutral"]["kept_all"] == 0.5
    assert scorers.headline(s) == {"erasure": 0.5, "preservation": 0.5}


# --------------------------------------------------------------------------- writers, inputs, errors


def test_gif_and_mp4_writers(tmp_path):
    frames = gen.to_uint8(np.random.default_rng(0).random((6, 18, 22, 3)))
    gen.write_viewable(tmp_path / "v.gif", frames, "gif")
    with Image.open(tmp_path / "v.gif") as im:
        assert im.n_frames == 6 and im.size == (22, 18)
    if gen.resolve_format("auto") != "mp4":
        pytest.skip("imageio-ffmpeg not installed (pip install 'weditor[video]'): GIF only")
    gen.write_viewable(tmp_path / "v.mp4", frames[:, :17, :21], "mp4")  # odd sizes are padded
    import imageio.v3 as iio

    back = iio.imread(tmp_path / "v.mp4")
    assert back.shape == (6, 18, 22, 3)
    assert not list(tmp_path.glob(".*tmp*"))


def test_grid_layout(tmp_path):
    a = gen.to_uint8(np.random.default_rng(0).random((9, 32, 32, 3)))
    path = gen.grid([("first prompt", a, a), ("second", a, a)], tmp_path / "g.png", frames_per_side=3, title="t")
    with Image.open(path) as im:
        assert im.size[0] == 220 + 2 * 3 * (96 + 4) + 16 + 4
        assert im.size[1] == 24 + 20 + 2 * (96 + 4) + 4
    assert gen.frame_indices(9, 4) == [0, 3, 5, 8] and gen.frame_indices(3, 5) == [0, 1, 2]


def test_prompt_file(tmp_path):
    from weditor.evaluation.inputs import read_prompt_file

    p = tmp_path / "p.txt"
    p.write_text("# comment\n a   dog\n\na cat\na dog\n")
    assert read_prompt_file(p) == ["a dog", "a cat"]
    p.write_text("# only a comment\n")
    with pytest.raises(WeditorError, match="no prompts in it"):
        read_prompt_file(p)


def test_errors_are_one_line(tiny_wan, tiny_wan_single, patched, tmp_path):
    result = run_cli(["eval", tiny_wan, tiny_wan, "--out", tmp_path / "o"])
    assert result.exit_code != 0 and "is the base model itself" in result.output
    result = run_cli(["eval", tiny_wan, tiny_wan_single, "--out", tmp_path / "o"])
    assert result.exit_code != 0 and "no prompts" in result.output
    result = run_cli(["eval", tiny_wan, patched, "--out", tmp_path / "o", "--scorer", "not-a-scorer"])
    assert result.exit_code != 0 and "--scorer not-a-scorer: unknown" in result.output
    assert "Traceback" not in result.output


def test_cli_lists_eval():
    result = run_cli(["--help"])
    assert "eval" in result.output and "Before/after evidence" in result.output
    result = run_cli(["eval", "--help"])
    assert result.exit_code == 0 and "--scorer" in result.output and "--prompts" in result.output


def test_eval_of_a_text_side_patch(tiny_wan_single, tmp_path):
    """A --method text patch has no block site to project at: eval still measures the output change."""
    patched = tmp_path / "text"
    result = run_cli(
        [
            "patch",
            tiny_wan_single,
            "--pairs",
            TINY_PAIRS,
            "--method",
            "text",
            "--out",
            patched,
            "--size",
            "32x32x5",
            "--no-summary",
        ]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "ev"
    result = run_cli(
        [
            "eval",
            tiny_wan_single,
            patched,
            "--out",
            out,
            "--size",
            "32x32x5",
            "--steps",
            "2",
            "--limit",
            "1",
            "--no-videos",
        ]
    )
    assert result.exit_code == 0, result.output
    r = json.loads((out / "report.json").read_text())["representation"]
    assert r["sites"] == [] and r["output_change_eval"] > 0 and r["output_change_neutral"] >= 0
