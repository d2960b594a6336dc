"""weditor/maths/finite.py: the one-pass finiteness test the preflight scan and the activation checks use."""

from __future__ import annotations

import pytest
import torch

from weditor.maths.finite import all_finite

DTYPES = (torch.bfloat16, torch.float16, torch.float32, torch.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_finds_every_nan_and_inf_wherever_it_is(dtype):
    t = torch.randn(100_003, generator=torch.Generator().manual_seed(0)).to(dtype)
    assert all_finite(t)
    for pos in (0, 1, 50_001, 100_002):
        for bad in (float("nan"), float("inf"), float("-inf")):
            u = t.clone()
            u[pos] = bad
            assert not all_finite(u), (dtype, pos, bad)
            assert all_finite(u) == bool(torch.isfinite(u).all())


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_views_and_extremes(dtype):
    m = torch.randn(301, 257, generator=torch.Generator().manual_seed(1)).to(dtype)
    big = torch.finfo(dtype).max
    m[0, 0], m[1, 1] = big, -big  # the largest finite values are finite
    assert all_finite(m.t()) and all_finite(m[::3, 1::2])
    m[300, 255] = float("nan")
    assert not all_finite(m.t())
    assert not all_finite(m[::3, 1::2][100:, 127:])  # the NaN is in this strided view (row 300, column 255)


def test_empty_and_single():
    assert all_finite(torch.empty(0)) and all_finite(torch.empty(3, 0, dtype=torch.bfloat16))
    assert not all_finite(torch.tensor(float("nan")))


def test_preflight_still_names_the_corrupt_weight():
    from weditor.errors import WeditorError
    from weditor.models.preflight import check_weights_finite

    class Pipe:
        transformer = torch.nn.Linear(4, 4).to(torch.bfloat16)

    pipe = Pipe()
    check_weights_finite(pipe, ["transformer"])
    with torch.no_grad():
        pipe.transformer.weight[3, 2] = float("inf")
    with pytest.raises(WeditorError, match="transformer: weight weight holds 1 NaN/Inf"):
        check_weights_finite(pipe, ["transformer"])
