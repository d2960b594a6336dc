"""A `--size` the model cannot run is one `Error:` line naming `--size`, before any work, on every command that takes it.

Without the probe (weditor/models/size_probe.py), a size smaller than the transformer's patch
surfaced as a reshape traceback from inside diffusers: for the default method only at
verification, after the fit; for eval and attack after loading both models.
"""

from __future__ import annotations

from conftest import TINY_PAIRS, patch_tiny, run_cli

BAD = "4x4x1"  # 4 pixels: below one latent patch of the tiny Wan; its stock pipeline wants multiples of 16


def _refused(result, out):
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1 and lines[0].startswith(f"Error: --size {BAD}: WanPipeline cannot run at this size"), (
        result.output
    )
    assert "default is" in lines[0] and "Traceback" not in result.output
    assert not out.exists()


def test_patch_refuses_a_size_the_denoiser_cannot_run(tiny_wan_single, tmp_path):
    for tune in ([], ["--no-tune"]):
        out = tmp_path / f"out{len(tune)}"
        args = ["patch", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", out, "--size", BAD, *tune]
        _refused(run_cli(args), out)


def test_probe_refuses_a_size_the_denoiser_cannot_run(tiny_wan_single, tmp_path):
    out = tmp_path / "probe"
    _refused(run_cli(["probe", tiny_wan_single, "--pairs", TINY_PAIRS, "--out", out, "--size", BAD]), out)


def test_eval_refuses_a_size_the_stock_pipeline_refuses(tiny_wan_single, tmp_path):
    patched = tmp_path / "patched"
    patch_tiny(tiny_wan_single, patched)
    out = tmp_path / "eval"
    _refused(run_cli(["eval", tiny_wan_single, patched, "--out", out, "--size", BAD, "--limit", "1"]), out)
