"""Tests of naslib_agnet.model.blackbox: blackbox-differentiated ranks and Gaussian-smoothed blackbox functions."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from naslib_agnet.model.blackbox import (
    _BlackboxRank,
    blackbox_rank,
    rank_descending,
    smoothed_blackbox,
)


class _FlippedRank(_BlackboxRank):
    """Deliberately broken backward (sign flipped), to show the descent test catches sign errors."""

    @staticmethod
    def backward(ctx, grad_output):  # type: ignore[override]
        grad, none, none2 = _BlackboxRank.backward(ctx, grad_output)
        return -grad, none, none2


def _flipped_rank(scores: torch.Tensor, lam: float = 2.0) -> torch.Tensor:
    return _FlippedRank.apply(scores, lam, False)


def _rank_loss(ranks: torch.Tensor, true_rank: torch.Tensor) -> torch.Tensor:
    return ((ranks - true_rank) ** 2).sum()


def _descend(rank_fn: Callable[[torch.Tensor], torch.Tensor], seed: int, n: int = 4,
             steps: int = 40, lr: float = 1.0) -> list[float]:
    """Plain gradient descent on the scores, step lr / (1 + t); returns the loss before each step and at the end.

    The target is a random ranking, neither the initial one nor its reverse, so the loss can
    both fall and rise. A decaying step is needed: with a constant one, scores that have
    collapsed together can cycle between two rankings (the blackbox gradient does not shrink
    near the optimum).
    """
    gen = torch.Generator().manual_seed(seed)
    s = torch.randn(n, generator=gen, dtype=torch.float64)
    initial = rank_descending(s)
    true_rank = initial
    while torch.equal(true_rank, initial) or torch.equal(true_rank, n + 1 - initial):
        true_rank = torch.randperm(n, generator=gen).to(torch.float64) + 1
    losses = []
    for t in range(steps):
        s = s.detach().requires_grad_(True)
        loss = _rank_loss(rank_fn(s), true_rank)
        loss.backward()
        losses.append(loss.item())
        with torch.no_grad():
            s = s - lr / (1 + t) * s.grad
    losses.append(_rank_loss(rank_descending(s.detach()), true_rank).item())
    return losses


# ---------------------------------------------------------------------------------------------
# blackbox_rank


@pytest.mark.parametrize("scores, expected", [
    ([3.0, 1.0, 2.0], [1.0, 3.0, 2.0]),
    ([1.0, 1.0, 0.0], [1.0, 2.0, 3.0]),          # tie: the earlier position ranks higher
    ([0.5, 2.0, 2.0, -1.0], [3.0, 1.0, 2.0, 4.0]),
    ([7.0, 7.0, 7.0], [1.0, 2.0, 3.0]),
    ([-0.1], [1.0]),
])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rank_forward(scores: list[float], expected: list[float], dtype: torch.dtype) -> None:
    s = torch.tensor(scores, dtype=dtype)
    ranks = blackbox_rank(s)
    assert ranks.dtype == dtype and ranks.shape == s.shape
    assert ranks.tolist() == expected
    assert rank_descending(s).tolist() == expected


def test_rank_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        blackbox_rank(torch.zeros(2, 2))
    with pytest.raises(ValueError):
        blackbox_rank(torch.zeros(3), lam=0.0)


def test_rank_gradient_pushes_swapped_pair_apart() -> None:
    """Two scores ranked the wrong way round: descent must raise the one that should rank first."""
    s = torch.tensor([1.0, 0.0], dtype=torch.float64, requires_grad=True)
    true_rank = torch.tensor([2.0, 1.0], dtype=torch.float64)
    _rank_loss(blackbox_rank(s), true_rank).backward()
    assert s.grad[0] > 0 > s.grad[1]  # descent lowers s[0] and raises s[1]


@pytest.mark.parametrize("seed", range(5))
def test_rank_descent_lowers_loss_and_catches_sign_error(seed: int) -> None:
    losses = _descend(blackbox_rank, seed)
    assert losses[0] > 0
    assert losses[-1] < losses[0]
    assert losses[-1] == 0.0  # a 4-vector reaches the target ranking
    flipped = _descend(_flipped_rank, seed)
    assert flipped[0] == losses[0]
    assert flipped[-1] >= flipped[0]  # a sign error would not lower the loss


# ---------------------------------------------------------------------------------------------
# smoothed_blackbox


def _linear(w: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    w32 = w.astype(np.float32)
    return lambda a: a @ w32


def _step(a: np.ndarray) -> np.ndarray:
    return (a[:, 0] > 0).astype(np.float32)


def _grad(fn: Callable[[np.ndarray], np.ndarray], x: torch.Tensor, sigma: float, samples: int,
          seed: int | None, weights: torch.Tensor | None = None) -> torch.Tensor:
    x = x.detach().clone().requires_grad_(True)
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    y = smoothed_blackbox(fn, x, sigma, samples, gen)
    (y if weights is None else y * weights).sum().backward()
    return x.grad


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_smoothed_forward_is_exact(dtype: torch.dtype) -> None:
    w = np.arange(1.0, 5.0)
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(0), dtype=dtype)
    y = smoothed_blackbox(_linear(w), x, 0.1, 4)
    assert y.dtype == dtype and y.shape == (3,)
    np.testing.assert_allclose(y.numpy(), _linear(w)(x.numpy().astype(np.float32)), rtol=1e-6)


def test_smoothed_linear_gradient_matches_weights() -> None:
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(8, generator=gen, dtype=torch.float64).numpy()
    x = torch.randn(3, 8, generator=gen, dtype=torch.float64)
    grad = _grad(_linear(w), x, sigma=0.1, samples=400, seed=2)
    cos = torch.nn.functional.cosine_similarity(grad, torch.as_tensor(w).expand_as(grad), dim=1)
    assert (cos > 0.95).all(), cos


def test_smoothed_step_gradient_points_along_threshold_normal() -> None:
    x = torch.tensor([[0.05, 0.3, -0.2, 0.1], [-0.1, -0.4, 0.5, 0.0]], dtype=torch.float64)
    grad = _grad(_step, x, sigma=0.5, samples=2000, seed=3)
    first, rest = grad[:, 0], grad[:, 1:].abs().mean(dim=1)
    assert (first > 0).all()
    assert (first > 5 * rest).all(), grad


def test_smoothed_calls_fn_once_per_backward() -> None:
    shapes: list[tuple[int, ...]] = []

    def fn(a: np.ndarray) -> np.ndarray:
        assert a.dtype == np.float32
        shapes.append(a.shape)
        return a.sum(axis=1)

    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(4), requires_grad=True)
    y = smoothed_blackbox(fn, x, 0.2, 7, torch.Generator().manual_seed(5))
    assert shapes == [(5, 3)]
    y.sum().backward()
    assert shapes == [(5, 3), (5 * 2 * 7, 3)]


def test_smoothed_grad_output_scales_rows() -> None:
    w = np.array([1.0, -2.0, 0.5])
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    weights = torch.tensor([1.0, -2.0, 0.0, 3.5], dtype=torch.float64)
    plain = _grad(_linear(w), x, 0.1, 16, seed=7)
    scaled = _grad(_linear(w), x, 0.1, 16, seed=7, weights=weights)
    torch.testing.assert_close(scaled, plain * weights[:, None])


def test_smoothed_deterministic_for_seeded_generator() -> None:
    x = torch.randn(3, 5, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    fn = _linear(np.linspace(-1.0, 1.0, 5))
    a, b = _grad(fn, x, 0.1, 8, seed=9), _grad(fn, x, 0.1, 8, seed=9)
    assert torch.equal(a, b)
    assert not torch.equal(a, _grad(fn, x, 0.1, 8, seed=10))
    assert torch.isfinite(_grad(fn, x, 0.1, 8, seed=None)).all()  # global RNG when no generator


def test_smoothed_rejects_bad_input() -> None:
    fn = _linear(np.ones(2))
    with pytest.raises(ValueError):
        smoothed_blackbox(fn, torch.zeros(2), 0.1, 4)
    with pytest.raises(ValueError):
        smoothed_blackbox(fn, torch.zeros(2, 2), 0.0, 4)
    with pytest.raises(ValueError):
        smoothed_blackbox(fn, torch.zeros(2, 2), 0.1, 0)


# ---------------------------------------------------------------------------------------------
# chaining


def test_chained_rank_of_smoothed_blackbox_descends() -> None:
    """loss = sum((rank(fn(x)) - true_rank)^2) through both wrappers: one descent step on x helps on average."""
    n, dim, lr = 6, 4, 0.1
    before, after = [], []
    for seed in range(5):
        gen = torch.Generator().manual_seed(seed)
        w = torch.randn(dim, generator=gen, dtype=torch.float64).numpy()
        fn = _linear(w)
        x = torch.randn(n, dim, generator=gen, dtype=torch.float64, requires_grad=True)
        true_rank = torch.randperm(n, generator=gen).to(torch.float64) + 1
        loss = _rank_loss(blackbox_rank(smoothed_blackbox(fn, x, 0.1, 64, gen)), true_rank)
        loss.backward()
        assert x.grad is not None and x.grad.abs().sum() > 0
        x_new = (x - lr * x.grad).detach()
        scores_new = torch.as_tensor(fn(x_new.numpy().astype(np.float32)), dtype=torch.float64)
        before.append(loss.item())
        after.append(_rank_loss(rank_descending(scores_new), true_rank).item())
    assert np.mean(after) < np.mean(before), (before, after)


# ------------------------------------------------------------------ relative step, expected score
def test_relative_rank_gradient_does_not_vanish_for_a_small_loss_and_scales_as_a_derivative():
    from naslib_agnet.model.blackbox import blackbox_rank

    scores = torch.tensor([0.3, 0.1, 0.2, 0.4], dtype=torch.float64)
    target = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)

    def grad(s, scale, relative):
        s = s.clone().requires_grad_(True)
        (scale * ((blackbox_rank(s, 2.0, relative=relative) - target) ** 2).mean()).backward()
        return s.grad

    assert torch.count_nonzero(grad(scores, 1e-4, relative=False)) == 0  # absolute step: too small to swap
    g = grad(scores, 1e-4, relative=True)
    assert torch.count_nonzero(g) > 0
    torch.testing.assert_close(grad(scores, 2e-4, relative=True), 2 * g)  # linear in the loss
    torch.testing.assert_close(grad(scores * 10, 1e-4, relative=True), g / 10)  # 1 / the scores' scale


def test_expected_score_forward_is_the_sample_mean_and_its_gradient_follows_the_expectation():
    from naslib_agnet.model.blackbox import expected_score

    k, n, e = 3, 2, 1
    w = np.array([0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 2.0], dtype=np.float32)  # class 1 of node 0 and the edge pay

    def fn(x):
        return x @ w

    out = torch.zeros(4, k * n + e, dtype=torch.float64, requires_grad=True)
    value = expected_score(fn, out, k, n, 4000, torch.Generator().manual_seed(0))
    exact = 1 / 3 + 2 * 0.5  # uniform logits: P(class 1) = 1/3, P(edge) = 1/2
    assert value.shape == (4,) and torch.allclose(value, torch.full((4,), exact, dtype=torch.float64), atol=0.05)
    value.sum().backward()
    g = out.grad.mean(0)
    # d E / d logit: node 0 class 1 up (1 * p (1 - p) = 2/9), its other classes down, edge up (2 * 1/4)
    assert g[1] > 0.15 and g[0] < -0.05 and g[2] < -0.05
    assert float(g[3:6].abs().max()) < 1e-12  # node 1 is not read by fn: no gradient, no noise
    assert abs(float(g[6]) - 0.5) < 1e-9  # 2 * p (1 - p): exact, whatever the draws


def test_expected_score_calls_the_model_once_and_is_deterministic():
    from naslib_agnet.model.blackbox import expected_score

    calls = []

    def fn(x):
        calls.append(x.shape)
        return x.sum(1)

    out = torch.randn(5, 3 * 2 + 1, dtype=torch.float64)
    a = expected_score(fn, out, 3, 2, 8, torch.Generator().manual_seed(1))
    b = expected_score(fn, out, 3, 2, 8, torch.Generator().manual_seed(1))
    assert calls == [(5 * 8 * (1 + 3 * 2 + 2 * 1), 7)] * 2 and torch.equal(a, b)  # samples, one-node and one-edge variants
