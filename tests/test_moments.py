"""The moments keep their rows while they are fewer than the width, and sum to the same bits either way."""

import pytest
import torch

from weditor.maths.moments import PairMoments, RunningMoments

D = 48


def _blocks(dtype, rows, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, D, generator=g).to(dtype) for n in rows]


def _eager_outer(blocks, form):
    """Each update's float64 outer product added as it comes: what the moments did before issue 22's third pass."""
    acc = torch.zeros(D, D, dtype=torch.float64)
    for b in blocks:
        left, right = form(b)
        acc.addmm_(left.T, right)
    return acc


def _d_by_d_bytes(m: RunningMoments) -> int:
    return 0 if m._outer.value is None else m._outer.value.numel() * 8


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("rows", [(3, 5, 7), (3, 5, 7, 40, 90, 2)])  # kept throughout; outgrown on the way
def test_running_moments_same_bits_kept_or_summed(dtype, rows):
    blocks = _blocks(dtype, rows)
    m = RunningMoments(D)
    for b in blocks:
        m.update(b)
    expected = _eager_outer(blocks, lambda b: (b.double(), b.double()))
    assert m.count == sum(rows)
    assert torch.equal(m.sum_outer, expected)  # bit for bit, not close
    m.release()
    assert torch.equal(m.sum_outer, expected)  # formed again from the rows: the same bits
    assert torch.equal(m.sum, sum(b.double().sum(0) for b in blocks))


def test_rows_are_kept_while_smaller_than_the_sum():
    blocks = _blocks(torch.bfloat16, (3, 5, 7))
    m = RunningMoments(D)
    for b in blocks:
        m.update(b)
    assert _d_by_d_bytes(m) == 0  # no d x d float64 sum held during collection
    assert m._outer.kept_bytes == 15 * D * 2  # the rows, bf16
    _ = m.covariance
    assert _d_by_d_bytes(m) == D * D * 8
    m.release()
    assert _d_by_d_bytes(m) == 0
    m.update(torch.randn(4 * D, D).to(torch.bfloat16))  # now more rows (bytes) than the sum: summed as before
    assert not m._outer.rows_kept and m._outer.blocks == []
    m.release()
    assert _d_by_d_bytes(m) == D * D * 8  # nothing to form it again from: kept


def test_kept_rows_are_copies():
    x = torch.randn(4, D)
    m = RunningMoments(D).update(x)
    expected = x.double().T @ x.double()
    x.fill_(7.0)  # a tap's buffer reused by the next forward must not change what was collected
    assert torch.allclose(m.sum_outer, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("rows", [(2, 6, 3), (2, 6, 3, 80, 5)])
def test_pair_moments_same_bits_kept_or_summed(rows):
    us, ss = _blocks(torch.bfloat16, rows, 1), _blocks(torch.bfloat16, rows, 2)
    p = PairMoments(D)
    for u, s in zip(us, ss):
        p.update(u, s)
    pairs = list(zip(us, ss))

    def delta(pair):
        d = pair[0].double() - pair[1].double()
        return d, d

    assert torch.equal(p.unsafe.sum_outer, _eager_outer(us, lambda u: (u.double(), u.double())))
    assert torch.equal(p.delta.sum_outer, _eager_outer(pairs, delta))
    cross = _eager_outer(pairs, lambda pair: (pair[0].double(), pair[0].double() - pair[1].double()))
    assert torch.equal(p.cross, cross)
    safe = p.safe_moments()  # s = u - delta, from the three sums
    s_outer = sum(s.double().T @ s.double() for s in ss)
    assert torch.allclose(safe.sum_outer, s_outer, rtol=1e-10, atol=1e-9)
    p.release()
    assert torch.equal(p.cross, cross) and torch.equal(p.delta.sum_outer, _eager_outer(pairs, delta))


def test_pair_moments_share_one_copy_of_the_rows():
    p = PairMoments(D)
    u, s = torch.randn(5, D).to(torch.bfloat16), torch.randn(5, D).to(torch.bfloat16)
    p.update(u, s)
    kept = {id(t) for sums in (p.unsafe._outer, p.delta._outer, p._cross) for b in sums.blocks for t in b}
    assert len(kept) == 2  # u and s, once each, for the three sums


def test_merge_after_kept_rows():
    a, b = _blocks(torch.float32, (4, 6)), _blocks(torch.float32, (5,), 3)
    m, n = RunningMoments(D), RunningMoments(D)
    for x in a:
        m.update(x)
    for x in b:
        n.update(x)
    m.merge(n)
    assert m.count == 15
    assert torch.allclose(m.sum_outer, _eager_outer(a + b, lambda x: (x.double(), x.double())), rtol=1e-12)


def test_block_edit_fits_site_by_site_holding_one_sites_sums(monkeypatch):
    """`fit_sites`: while a site is fitted, no other site's d x d sums are formed; after it, none are."""
    from types import SimpleNamespace

    from weditor.methods import refusal
    from weditor.models.runtime import SiteKey

    keys = [SiteKey("transformer", b, "s") for b in range(3)]
    g = torch.Generator().manual_seed(5)
    concept_dir = torch.randn(D, generator=g)
    neutral = {k: RunningMoments(D) for k in keys}
    paired = {"red": {k: PairMoments(D) for k in keys}}
    for k in keys:
        for _ in range(3):
            s = torch.randn(6, D, generator=g)
            paired["red"][k].update((s + concept_dir).to(torch.bfloat16), s.to(torch.bfloat16))
            neutral[k].update(torch.randn(8, D, generator=g).to(torch.bfloat16))
    delta = {c: {k: m.delta for k, m in by_key.items()} for c, by_key in paired.items()}

    def formed(k):
        sums = [
            neutral[k]._outer,
            paired["red"][k].unsafe._outer,
            paired["red"][k].delta._outer,
            paired["red"][k]._cross,
        ]
        return [s.value is not None for s in sums]

    seen = []
    real = refusal.fit_readouts

    def spy(directions, *args):
        (key,) = directions
        seen.append(key)
        assert not any(any(formed(k)) for k in keys if k != key)  # the other sites hold their rows only
        return real(directions, *args)

    monkeypatch.setattr(refusal, "fit_readouts", spy)
    cfg = SimpleNamespace(rank=4, rank_explicit=False, directions=1, alpha=1.0, removal=0.6)
    adapter = SimpleNamespace(sites={"s": SimpleNamespace(role="writes")})
    pairsets = [SimpleNamespace(concept="red")]
    directions, estimators, skipped, readouts = refusal.fit_sites(
        delta, neutral, paired, keys, pairsets, cfg, {k: D for k in keys}, adapter
    )
    assert seen == keys and set(readouts) == set(keys) and not skipped
    assert not any(any(formed(k)) for k in keys)  # all released after their fit
    for k in keys:  # the same fit as with every site's sums held at once
        d, e, _ = refusal.fit_directions(delta, neutral, [k], pairsets, cfg, {k: D})
        assert torch.equal(d[k], directions[k])
        ro = real(d, e, paired, neutral, adapter, cfg)[k]
        assert (ro.coef_ == readouts[k].coef_).all() and (ro.intercept_ == readouts[k].intercept_).all()
