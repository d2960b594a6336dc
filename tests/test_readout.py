"""The read-out estimator on synthetic tokens where the answer is known.

The concept adds `c * q` to the unsafe member of each pair; a "neighbour" concept in the neutral
prompts also lies partly along q but is told apart by another coordinate. The orthogonal projection
removes both; the read-out must remove the concept and leave most of the neighbour.
"""

import numpy as np
import pytest
import torch

from weditor.maths.moments import PairMoments, RunningMoments
from weditor.maths.readout import ConceptReadout

D = 6


def _world(seed=0, n=4000, strength=3.0):
    g = torch.Generator().manual_seed(seed)
    q = torch.zeros(D, dtype=torch.float64)
    q[0] = 1.0
    tell = torch.zeros(D, dtype=torch.float64)
    tell[1] = 1.0  # the concept also marks coordinate 1; the neighbour does not
    safe = torch.randn(n, D, generator=g, dtype=torch.float64)
    unsafe = safe + strength * q + 6.0 * tell
    neutral = torch.randn(n, D, generator=g, dtype=torch.float64)
    neighbour = neutral[: n // 4]
    neighbour += 2.5 * q  # a quarter of the neutral tokens lie along q too
    pairs = PairMoments(D).update(unsafe, safe)
    return q, pairs, RunningMoments.from_array(neutral), unsafe, safe, neutral, neighbour


def test_pair_moments_give_the_safe_members_moments_exactly():
    _, pairs, _, unsafe, safe, *_ = _world()
    s = pairs.safe_moments()
    assert s.count == safe.shape[0]
    torch.testing.assert_close(s.sum, safe.sum(0), rtol=0, atol=1e-9)
    torch.testing.assert_close(s.sum_outer, safe.T @ safe, rtol=1e-12, atol=1e-8)
    torch.testing.assert_close(pairs.delta.mean, (unsafe - safe).mean(0), rtol=0, atol=1e-12)


@pytest.mark.parametrize("removal", [0.5, 0.8])
def test_the_fit_reaches_the_removal_asked_for(removal):
    q, pairs, neutral, unsafe, *_ = _world()
    est = ConceptReadout(removal=removal).fit(q, [pairs], neutral)
    assert est.coef_.shape == (1, D) and est.intercept_.shape == (1,)
    assert abs(float(est.removal_[0]) - removal) < 1e-3
    mean_delta = float(pairs.delta.mean @ q)
    reached = float(est.predict(unsafe.numpy()).mean()) / mean_delta
    assert abs(reached - removal) < 1e-3  # removal_ is what predict() does on the unsafe tokens


def test_more_removal_costs_more_of_the_neutral_tokens():
    q, pairs, neutral, _, _, neutral_x, neighbour = _world()
    low, high = (ConceptReadout(removal=r).fit(q, [pairs], neutral) for r in (0.4, 0.9))
    assert low.neutral_weight_ > high.neutral_weight_
    assert np.abs(low.predict(neutral_x.numpy())).mean() < np.abs(high.predict(neutral_x.numpy())).mean()


def test_the_neighbour_keeps_most_of_what_the_projection_would_remove():
    q, pairs, neutral, _, _, _, neighbour = _world()
    est = ConceptReadout(removal=0.8).fit(q, [pairs], neutral)
    projected = (neighbour @ q).mean()  # what x - q q^T x takes from the neighbour
    read = est.predict(neighbour.numpy()).mean()
    assert abs(read) < 0.25 * float(projected)


def test_without_intercept_the_intercept_is_zero():
    q, pairs, neutral, *_ = _world()
    est = ConceptReadout(removal=0.6, fit_intercept=False).fit(q, [pairs], neutral)
    assert np.all(est.intercept_ == 0) and abs(float(est.removal_[0]) - 0.6) < 1e-3


def test_two_concepts_each_reach_at_least_the_removal():
    q, pairs_a, neutral, *_ = _world(seed=0)
    g = torch.Generator().manual_seed(9)
    q2 = torch.zeros(D, dtype=torch.float64)
    q2[2] = 1.0
    safe = torch.randn(3000, D, generator=g, dtype=torch.float64)
    pairs_b = PairMoments(D).update(safe + 1.0 * q2 + 3.0 * torch.eye(D, dtype=torch.float64)[3], safe)
    Q = torch.stack([q, q2])
    est = ConceptReadout(removal=0.7).fit(Q, [pairs_a, pairs_b], neutral)
    assert est.coef_.shape == (2, D)
    assert est.removal_.min() >= 0.7 - 1e-3 and abs(est.removal_.min() - 0.7) < 1e-3


def test_bad_arguments_are_refused():
    q, pairs, neutral, *_ = _world()
    for removal in (0.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="removal"):
            ConceptReadout(removal=removal).fit(q, [pairs], neutral)
    with pytest.raises(ValueError, match="dimension"):
        ConceptReadout().fit(torch.ones(D + 1), [pairs], neutral)
    with pytest.raises(ValueError, match="no paired tokens"):
        ConceptReadout().fit(q, [PairMoments(D)], neutral)


def test_an_unreachable_removal_keeps_the_closest_fit_and_says_so():
    """Removal 1 cannot be reached by least squares over noisy tokens: the lightest neutral weight is
    kept, and removal_ reports what it does (the patch prints a note when this happens)."""
    q, pairs, neutral, *_ = _world()
    est = ConceptReadout(removal=1.0).fit(q, [pairs], neutral)
    assert est.neutral_weight_ == pytest.approx(1e-6)
    assert 0.5 < float(est.removal_[0]) < 1.0
