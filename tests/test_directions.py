import numpy as np
import pytest
import torch

from weditor.maths.directions import RefusalDirection, ZeroDirectionError
from weditor.maths.moments import RunningMoments


def unit(v):
    return v / np.linalg.norm(v)


def planted(rng, d=32, n=4000):
    r = unit(rng.normal(size=d))
    noise = rng.normal(scale=0.3, size=(n, d))
    return r, (1.0 + 0.5 * rng.normal(size=(n, 1))) * r + noise


def test_recovers_planted_direction():
    rng = np.random.default_rng(0)
    r, delta = planted(rng)
    neutral = rng.normal(size=(3000, 32))
    est = RefusalDirection(rank=4, alpha=1.0).fit(delta, neutral)
    assert est.components_.shape == (1, 32)
    assert abs(est.components_[0] @ r) > 0.995
    assert est.components_[0] @ r > 0  # points from safe to unsafe
    assert est.n_samples_ == 4000


def test_moments_and_arrays_give_the_same_fit():
    rng = np.random.default_rng(1)
    _, delta = planted(rng)
    neutral = rng.normal(size=(500, 32))
    a = RefusalDirection(rank=3).fit(delta, neutral)
    m = RunningMoments(32)
    for chunk in np.array_split(delta, 7):  # streaming in uneven chunks
        m.update(torch.as_tensor(chunk))
    b = RefusalDirection(rank=3).fit(m, RunningMoments.from_array(neutral))
    np.testing.assert_allclose(a.components_, b.components_, atol=1e-10)


def test_contrastive_alpha_suppresses_a_planted_neutral_direction():
    """The pairs' differences also vary along n (say lighting), which neutral prompts vary along too.

    Plain PCA (alpha = 0) keeps n in the subspace and the direction leans on it; the
    contrastive matrix removes it.
    """
    rng = np.random.default_rng(2)
    d = 24
    r = unit(rng.normal(size=d))
    n_dir = unit(rng.normal(size=d) - (rng.normal(size=d) @ r) * r)
    n_dir = unit(n_dir - (n_dir @ r) * r)
    count = 6000
    delta = (
        np.outer(1.0 + 0.6 * rng.normal(size=count), r)
        + np.outer(0.6 + 3.0 * rng.normal(size=count), n_dir)  # big variance and a mean along n
        + 0.05 * rng.normal(size=(count, d))
    )
    neutral = np.outer(3.0 * rng.normal(size=count), n_dir) + 0.3 * rng.normal(size=(count, d))
    plain = RefusalDirection(rank=1, alpha=0.0).fit(delta, neutral)
    assert abs(plain.components_[0] @ n_dir) > 0.9  # PCA picked the nuisance direction
    # alpha is relative to the trace ratio: here the nuisance carries ~80% of the neutral
    # trace, so it disappears from the subspace once alpha * 0.8 > 1.
    leaning = [
        abs(RefusalDirection(rank=1, alpha=a).fit(delta, neutral).components_[0] @ n_dir) for a in (0.0, 1.0, 2.0)
    ]
    assert leaning[2] < 0.05 and leaning[0] > 0.9
    contrast = RefusalDirection(rank=1, alpha=2.0).fit(delta, neutral)
    assert abs(contrast.components_[0] @ r) > 0.99


def test_rank_none_is_the_mean_difference():
    rng = np.random.default_rng(3)
    _, delta = planted(rng)
    est = RefusalDirection(rank=None).fit(delta)
    np.testing.assert_allclose(est.components_[0], unit(delta.mean(0)), atol=1e-12)
    assert est.subspace_ is None


def test_several_directions_are_orthonormal():
    rng = np.random.default_rng(4)
    _, delta = planted(rng)
    est = RefusalDirection(n_components=3, rank=8).fit(delta, rng.normal(size=(800, 32)))
    np.testing.assert_allclose(est.components_ @ est.components_.T, np.eye(3), atol=1e-10)


def test_zero_direction_is_an_error():
    rng = np.random.default_rng(5)
    delta = rng.normal(size=(1000, 8))
    delta -= delta.mean(0)  # differences with no mean: the pairs do not differ on average
    with pytest.raises(ZeroDirectionError):
        RefusalDirection(rank=None).fit(delta)
    with pytest.raises(ZeroDirectionError):
        RefusalDirection().fit(np.zeros((10, 8)))


def test_nan_is_an_error():
    delta = np.ones((10, 4))
    delta[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RefusalDirection().fit(delta)
