"""The speed and memory fixes of issue #9 change no result (never timed here: see scripts/bench_patch.py)."""

import numpy as np
import pytest
import torch

from tests.conftest import TINY_PAIRS


def test_pipeline_loads_in_the_stored_dtype(tmp_path):
    """dtype None means as stored: diffusers alone would load a bf16 checkpoint as float32 (2x memory)."""
    from weditor.io.checkpoint import resolve_model, stored_dtypes
    from weditor.models.loading import load_pipeline
    from weditor.testing import save_tiny_wan_pipeline

    folder = save_tiny_wan_pipeline(tmp_path / "bf16", dtype=torch.bfloat16)
    assert stored_dtypes(folder) == {"text_encoder": "bfloat16", "transformer": "bfloat16", "vae": "bfloat16"}
    pipe = load_pipeline(resolve_model(str(folder)), None, "cpu")
    assert pipe.transformer.blocks[0].ffn.net[0].proj.weight.dtype == torch.bfloat16
    assert pipe.text_encoder.dtype == torch.bfloat16
    assert load_pipeline(resolve_model(str(folder)), "float32", "cpu").transformer.dtype == torch.float32


def _full_gram_schmidt_rows(delta, neutral, rank, n):
    """What RefusalDirection.fit returned before: Gram-Schmidt over every positive eigenvector."""
    from weditor.maths.directions import _orthonormal_rows

    m = delta.covariance.double()
    c = neutral.covariance.double()
    m = m - (m.diagonal().sum() / c.diagonal().sum()) * c
    values, vectors = torch.linalg.eigh((m + m.T) / 2)
    order = torch.argsort(values, descending=True)
    values, vectors = values[order], vectors[:, order]
    keep = values > values.abs().max() * 1e-10
    vectors = vectors[:, keep]
    u = vectors[:, :rank].T
    r_k = u.T @ (u @ delta.mean.double())
    return _orthonormal_rows([r_k] + list(vectors.T))[:n].numpy()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [1, 2, 4])
def test_truncated_gram_schmidt_gives_the_same_directions_bit_for_bit(seed, n):
    from weditor.maths.directions import RefusalDirection
    from weditor.maths.moments import RunningMoments

    g = torch.Generator().manual_seed(seed)
    d = 48
    delta, neutral = RunningMoments(d), RunningMoments(d)
    delta.update(torch.randn(200, d, generator=g, dtype=torch.float64) + torch.linspace(-1, 1, d, dtype=torch.float64))
    neutral.update(torch.randn(300, d, generator=g, dtype=torch.float64))
    rank = [3, 10, 48][seed]
    got = RefusalDirection(n_components=n, rank=rank, alpha=1.0).fit(delta, neutral).components_
    assert np.array_equal(got, _full_gram_schmidt_rows(delta, neutral, rank, n))


def test_run_patch_reports_phase_timings(tiny_wan, tmp_path):
    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.run import run_patch

    result = run_patch(
        PatchConfig(
            method="refusal",
            pairs=[str(TINY_PAIRS)],
            out=str(tmp_path / "out"),
            model=str(tiny_wan),
            size=(32, 32, 5),
            layers="1-3",
            steps=2,
            summary=False,
        )
    )
    for phase in ("load", "collect", "statistics", "fit", "edit", "save", "hash", "verify", "total"):
        assert result.timings[phase] >= 0.0, phase
    assert result.timings["statistics"] <= result.timings["collect"] <= result.timings["total"]
    assert result.peak_gpu_bytes == {}  # CPU run


def test_hash_reuse_never_returns_a_stale_hash(tmp_path):
    """`hash_files(reuse=True)` skips unchanged files only, and results equal plain sequential hashing.

    (An edit that keeps size, mtime and ctime, i.e. within one kernel clock tick of our own read, is
    the one change the stat key cannot see; `verify_folder` never reuses.)"""
    import os

    from weditor.io.recipe import hash_files, sha256_file

    for i in range(5):
        (tmp_path / f"f{i}.bin").write_bytes(bytes([i]) * (1000 + i))
    first = hash_files(tmp_path)
    assert first == {f"f{i}.bin": sha256_file(tmp_path / f"f{i}.bin") for i in range(5)}
    assert hash_files(tmp_path, reuse=True) == first
    target = tmp_path / "f2.bin"
    st = os.stat(target)
    with open(target, "ab") as f:  # in place (same inode), old mtime put back below
        f.write(b"\xff")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = hash_files(tmp_path, reuse=True)
    assert again["f2.bin"] == sha256_file(target) != first["f2.bin"]


@pytest.mark.parametrize("method,own", [("text", ("encode", "fit", "edit")), ("safree", ("fit",))])
def test_text_side_methods_report_phase_timings(tiny_wan, tmp_path, method, own):
    """The default method times its phases too: scripts/bench_patch.py --method text reads them."""
    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.run import run_patch

    result = run_patch(
        PatchConfig(
            method=method,
            pairs=[str(TINY_PAIRS)],
            out=str(tmp_path / "out"),
            model=str(tiny_wan),
            size=(32, 32, 5),
            steps=2,
            summary=True,
        )
    )
    for phase in ("load", *own, "summary", "save", "hash", "verify", "card", "total"):
        assert result.timings[phase] >= 0.0, phase
    assert sum(v for k, v in result.timings.items() if k not in ("total", "hash")) <= result.timings["total"]
