import torch

from weditor.edits import add_to_bias, project_input, project_output


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
