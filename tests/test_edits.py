import torch

from weditor.maths.edits import add_to_bias, project_input, project_output


def _q(d, m=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, m, generator=g, dtype=torch.float64))
    return q.T


def test_input_projection_removes_the_direction_exactly():
    g = torch.Generator().manual_seed(0)
    W = torch.randn(48, 16, generator=g)
    Q = _q(16)
    W2 = project_input(W, Q)
    r = Q[0].float()
    assert (W2 @ (5.0 * r)).abs().max() < 1e-5  # reading along r gives nothing
    x = torch.randn(16, generator=g)
    x_perp = x - (x @ r) * r
    torch.testing.assert_close(W2 @ x_perp, W @ x_perp, rtol=0, atol=1e-5)  # everything else untouched
    torch.testing.assert_close(W2 @ x, W @ x_perp, rtol=0, atol=1e-5)


def test_output_projection_never_writes_along_q():
    g = torch.Generator().manual_seed(1)
    W, b = torch.randn(16, 40, generator=g), torch.randn(16, generator=g)
    Q = _q(16, m=2)
    W2, b2 = project_output(W, b, Q)
    y = W2 @ torch.randn(40, generator=g) + b2
    assert (Q.float() @ y).abs().max() < 1e-5


def test_half_strength_and_dtype_round_trip():
    W = torch.randn(8, 8, dtype=torch.bfloat16)
    Q = _q(8)
    W2 = project_input(W, Q, strength=0.5)
    assert W2.dtype == torch.bfloat16
    expected = (W.float() - 0.5 * (W.float() @ Q.float().T) @ Q.float()).to(torch.bfloat16)
    assert torch.equal(W2, expected)


def test_bias_addition():
    b = torch.zeros(4, dtype=torch.float16)
    assert torch.equal(add_to_bias(b, [1.0, 2.0, 3.0, 4.0]), torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float16))


def test_output_readout_writes_the_affine_removal():
    """`(I - s Q^T A) W`, `(I - s Q^T A) b - s Q^T a`: the layer writes y - s Q^T (A y + a)."""
    from weditor.maths.edits import remove_output

    g = torch.Generator().manual_seed(2)
    W, b = torch.randn(16, 24, generator=g, dtype=torch.float64), torch.randn(16, generator=g, dtype=torch.float64)
    Q, A, a = (
        _q(16, m=2),
        torch.randn(2, 16, generator=g, dtype=torch.float64),
        torch.randn(2, generator=g, dtype=torch.float64),
    )
    W2, b2 = remove_output(W, b, Q, A, a, strength=0.7)
    x = torch.randn(5, 24, generator=g, dtype=torch.float64)
    y = x @ W.T + b
    torch.testing.assert_close(x @ W2.T + b2, y - 0.7 * (y @ A.T + a) @ Q, rtol=0, atol=1e-12)


def test_input_readout_reads_the_removed_input():
    from weditor.maths.edits import remove_input

    g = torch.Generator().manual_seed(3)
    W = torch.randn(12, 16, generator=g, dtype=torch.float64)
    Q, A = _q(16), torch.randn(1, 16, generator=g, dtype=torch.float64)
    x = torch.randn(7, 16, generator=g, dtype=torch.float64)
    torch.testing.assert_close(x @ remove_input(W, Q, A, 1.0).T, (x - (x @ A.T) @ Q) @ W.T, rtol=0, atol=1e-12)


def test_readout_with_a_equal_q_is_the_projection_bit_for_bit():
    from weditor.maths.edits import remove_output

    g = torch.Generator().manual_seed(4)
    W, b, Q = torch.randn(16, 8, generator=g), torch.randn(16, generator=g), _q(16)
    for got, want in zip(remove_output(W, b, Q, Q.clone(), None, 0.85), project_output(W, b, Q, 0.85)):
        assert torch.equal(got, want)


def test_an_intercept_needs_a_bias():
    import pytest

    from weditor.maths.edits import remove_output

    with pytest.raises(ValueError, match="needs a bias"):
        remove_output(torch.randn(4, 4), None, _q(4), torch.randn(1, 4), torch.ones(1))


def test_the_edit_does_not_depend_on_how_the_directions_are_strided():
    """A row sliced from a saved [A | a] and the same row made in memory give the same bits (the audit relies on it)."""
    from weditor.maths.edits import remove_output

    g = torch.Generator().manual_seed(5)
    W, b, Q = torch.randn(64, 64, generator=g), torch.randn(64, generator=g), _q(64)
    packed = torch.randn(1, 65, generator=g, dtype=torch.float64)
    sliced, fresh = packed[:, :-1], packed[:, :-1].clone()
    for u, v in zip(
        remove_output(W, b, Q, sliced, packed[:, -1], 1.0), remove_output(W, b, Q, fresh, packed[:, -1].clone(), 1.0)
    ):
        assert torch.equal(u, v)
