"""Differentiable wrappers for non-differentiable functions.

Two ways of passing a gradient through a function whose true derivative is zero almost
everywhere (a ranking) or unavailable (a gradient-boosted tree's ``predict``):

* :func:`blackbox_rank` -- ranks with the *blackbox differentiation* backward of
  Vlastelica et al., "Differentiation of Blackbox Combinatorial Solvers" (ICLR 2020), as
  applied to ranking by Rolinek et al., "Optimizing Rank-based Metrics with Blackbox
  Differentiation" (CVPR 2020): the gradient is the finite difference between the ranks of
  the scores and the ranks of the scores moved along the incoming gradient.
* :func:`smoothed_blackbox` -- any per-row scalar function evaluated in NumPy, with the
  antithetic Gaussian-smoothing (evolution-strategies) estimate of the gradient of its
  smoothed version ``E[fn(x + sigma eps)]``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.autograd.function import FunctionCtx, once_differentiable

__all__ = ["blackbox_rank", "expected_score", "rank_descending", "smoothed_blackbox"]


def rank_descending(scores: torch.Tensor) -> torch.Tensor:
    """Ranks of a 1-d tensor, rank 1 for the highest score, ties broken by position.

    ``argsort(argsort(-s)) + 1`` with stable sorts, so of two equal scores the earlier one
    gets the smaller rank. Returned as a tensor of the scores' floating dtype (the default
    float dtype for integer scores) on the scores' device.
    """
    if scores.dim() != 1:
        raise ValueError(f"scores must be 1-d, got shape {tuple(scores.shape)}")
    dtype = scores.dtype if scores.is_floating_point() else torch.get_default_dtype()
    order = torch.argsort(-scores.detach().to(dtype), stable=True)
    return (torch.argsort(order, stable=True) + 1).to(dtype)


class _BlackboxRank(torch.autograd.Function):
    """``rank_descending`` with the blackbox-differentiation backward (see :func:`blackbox_rank`)."""

    @staticmethod
    def forward(ctx: FunctionCtx, scores: torch.Tensor, lam: float, relative: bool) -> torch.Tensor:
        ranks = rank_descending(scores)
        ctx.save_for_backward(scores, ranks)
        ctx.lam = lam  # type: ignore[attr-defined]
        ctx.relative = relative  # type: ignore[attr-defined]
        return ranks

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, None, None]:
        scores, ranks = ctx.saved_tensors
        lam: float = ctx.lam
        if ctx.relative:  # a step of lam score spreads along the largest gradient component
            largest = float(grad_output.abs().max())
            spread = float(scores.detach().std()) if scores.numel() > 1 else 0.0
            if largest == 0.0:
                return torch.zeros_like(scores), None, None
            lam = lam * (spread if spread > 0 else 1.0) / largest
        # Ranking is argmin_pi <s, pi> over permutations pi of 1..n (rank 1 gets the highest
        # score), the minimisation form of Vlastelica et al.: perturb the scores along the
        # incoming gradient and return minus the (scaled) change of the solution.
        perturbed = scores.detach() + lam * grad_output.to(scores.dtype)
        grad = -(ranks - rank_descending(perturbed)) / lam
        return grad, None, None


def blackbox_rank(scores: torch.Tensor, lam: float = 2.0, relative: bool = False) -> torch.Tensor:
    """Ranks of a 1-d score tensor (rank 1 = highest score), differentiable by blackbox differentiation.

    Forward: ``argsort(argsort(-scores)) + 1`` (stable, ties broken by position), a float
    tensor of the scores' dtype and shape.

    Backward (Vlastelica et al., ICLR 2020; Rolinek et al., CVPR 2020, "Optimizing
    rank-based metrics with blackbox differentiation"): for the incoming gradient ``g``,
    ``s' = s + lam * g`` and ``grad_s = -(rank(s) - rank(s')) / lam``. This is the exact
    gradient of a piecewise-linear interpolation of ``L(rank(s))``, so a descent step on
    ``s`` moves the scores towards the ranking that lowers the loss. ``lam > 0`` sets the
    interpolation range: larger values see further (more swaps) but are coarser.

    ``relative=True`` makes the range independent of the scales of the scores and of the
    loss: the step is ``lam`` standard deviations of the scores along ``g / max|g|``, and the
    difference is divided by that step (``grad`` scales with ``g`` and with ``1 / spread(s)``,
    as a derivative should). With the absolute ``lam`` a loss normalised to O(1) gives
    perturbations too small to swap any two scores, hence a zero gradient.
    """
    if lam <= 0:
        raise ValueError(f"lam must be positive, got {lam}")
    if scores.dim() != 1:
        raise ValueError(f"scores must be 1-d, got shape {tuple(scores.shape)}")
    return _BlackboxRank.apply(scores, float(lam), bool(relative))


def _call_rows(fn: Callable[[np.ndarray], np.ndarray], rows: np.ndarray) -> np.ndarray:
    """Evaluate ``fn`` on ``rows`` [N, D] and check it returns one value per row."""
    values = np.asarray(fn(rows), dtype=np.float64).reshape(-1)
    if values.shape[0] != rows.shape[0]:
        raise ValueError(f"fn returned {values.shape[0]} values for {rows.shape[0]} rows")
    return values


class _SmoothedBlackbox(torch.autograd.Function):
    """``fn(x)`` forward, antithetic Gaussian-smoothing gradient estimate backward."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: torch.Tensor, fn: Callable[[np.ndarray], np.ndarray],
                sigma: float, samples: int, generator: torch.Generator | None) -> torch.Tensor:
        x_np = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        values = _call_rows(fn, x_np)
        ctx.x_np = x_np  # type: ignore[attr-defined]
        ctx.fn = fn  # type: ignore[attr-defined]
        ctx.sigma = sigma  # type: ignore[attr-defined]
        ctx.samples = samples  # type: ignore[attr-defined]
        ctx.generator = generator  # type: ignore[attr-defined]
        return torch.as_tensor(values).to(dtype=x.dtype, device=x.device)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None, None, None, None]:
        x_np: np.ndarray = ctx.x_np
        sigma: float = ctx.sigma
        samples: int = ctx.samples
        generator: torch.Generator | None = ctx.generator
        batch, dim = x_np.shape
        # Directions are drawn here (not in forward), so no randomness is spent without a backward.
        device = generator.device if generator is not None else torch.device("cpu")
        eps = torch.randn((batch, samples, dim), generator=generator, device=device,
                          dtype=torch.float32).cpu().numpy()
        # Stack (row b, direction k, sign +/-) into one array so fn is called exactly once.
        signs = np.array([1.0, -1.0], dtype=np.float32).reshape(1, 1, 2, 1)
        points = x_np[:, None, None, :] + sigma * signs * eps[:, :, None, :]
        values = _call_rows(ctx.fn, np.ascontiguousarray(points.reshape(batch * samples * 2, dim)))
        values = values.reshape(batch, samples, 2)
        slope = (values[:, :, 0] - values[:, :, 1]) / (2.0 * sigma)  # [B, K]
        grad_est = np.einsum("bk,bkd->bd", slope, eps.astype(np.float64)) / samples  # [B, D]
        grad = torch.as_tensor(grad_est).to(dtype=grad_output.dtype, device=grad_output.device)
        return grad * grad_output[:, None], None, None, None, None


def smoothed_blackbox(fn: Callable[[np.ndarray], np.ndarray], x: torch.Tensor, sigma: float,
                      samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply a non-differentiable per-row scalar ``fn`` to ``x`` [B, D], returning [B] with a smoothed gradient.

    ``fn`` takes a float32 array [N, D] and returns N values (e.g. a tree model's
    ``predict``). The forward value is exactly ``fn(x)`` (one call), in ``x``'s dtype and
    device. The backward estimates, per row, the gradient of the Gaussian smoothing
    ``E[fn(x_b + sigma eps)]`` with antithetic pairs,
    ``mean_k (fn(x_b + sigma eps_k) - fn(x_b - sigma eps_k)) / (2 sigma) * eps_k``,
    ``eps_k ~ N(0, I)``, ``samples`` directions per row, all ``B * 2 * samples`` points
    evaluated in ONE call of ``fn`` (expensive per call, cheap per row); the estimate is
    multiplied by ``grad_output`` row by row.

    The directions are drawn from ``generator`` (torch's global RNG when ``None``) when the
    backward runs, so the gradient is deterministic given the generator's state at that time.
    """
    if x.dim() != 2:
        raise ValueError(f"x must be [B, D], got shape {tuple(x.shape)}")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    return _SmoothedBlackbox.apply(x, fn, float(sigma), int(samples), generator)


class _ExpectedScore(torch.autograd.Function):
    """``E[fn(a)]`` over architectures ``a`` sampled from the generator's output (see :func:`expected_score`)."""

    @staticmethod
    def forward(ctx: FunctionCtx, out: torch.Tensor, fn: Callable[[np.ndarray], np.ndarray], num_classes: int,
                max_nodes: int, samples: int, generator: torch.Generator | None) -> torch.Tensor:
        b, k, n = out.shape[0], num_classes, max_nodes
        node_p = torch.softmax(out[:, :n * k].detach().reshape(b, n, k).double(), -1)  # [B, N, K]
        edge_p = torch.sigmoid(out[:, n * k:].detach().double())  # [B, E]
        e = edge_p.shape[1]
        types = torch.multinomial(node_p.reshape(-1, k), samples, replacement=True, generator=generator)
        types = types.reshape(b, n, samples).permute(0, 2, 1)  # [B, S, N]
        nodes = torch.nn.functional.one_hot(types, k).float()  # [B, S, N, K]
        edges = (torch.rand(b, samples, e, generator=generator, dtype=torch.float64) < edge_p[:, None]).float()
        base = torch.cat([nodes.flatten(2), edges], 2)  # [B, S, D], D = N K + E
        d = base.shape[2]
        # the samples themselves, then each one with one node set to each class, then each edge set to 1 and to 0
        node_variants = nodes[:, :, None, None].expand(b, samples, n, k, n, k).clone()  # [B, S, n, k, N, K]
        idx = torch.arange(n)
        node_variants[:, :, idx, :, idx, :] = torch.eye(k)  # node j of variant (j, c) becomes class c
        node_variants = torch.cat([node_variants.reshape(b, samples, n * k, n * k),
                                   edges[:, :, None].expand(b, samples, n * k, e)], 3)
        edge_variants = base[:, :, None].expand(b, samples, 2 * e, d).clone()  # [B, S, 2E, D]
        eidx = torch.arange(e)
        edge_variants[:, :, eidx, n * k + eidx] = 1.0
        edge_variants[:, :, e + eidx, n * k + eidx] = 0.0
        rows = torch.cat([base[:, :, None], node_variants, edge_variants], 2)  # [B, S, 1 + N K + 2E, D]
        values = torch.as_tensor(np.asarray(fn(rows.reshape(-1, d).numpy()), dtype=np.float64))
        values = values.reshape(b, samples, 1 + n * k + 2 * e).mean(1)  # [B, 1 + N K + 2E]
        # local expectation gradients: dE/dp(node j = c) = E[f | node j = c]; dE/dp(edge) = E[f | 1] - E[f | 0]
        g_nodes = values[:, 1:1 + n * k].reshape(b, n, k)
        d_nodes = node_p * (g_nodes - (node_p * g_nodes).sum(-1, keepdim=True))  # through the softmax
        g_edges = values[:, 1 + n * k:1 + n * k + e] - values[:, 1 + n * k + e:]
        d_edges = edge_p * (1 - edge_p) * g_edges  # through the sigmoid
        ctx.save_for_backward(torch.cat([d_nodes.flatten(1), d_edges], 1).to(out.dtype))
        return values[:, 0].to(out.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: torch.Tensor):
        (jacobian_rows,) = ctx.saved_tensors
        return grad_output[:, None] * jacobian_rows, None, None, None, None, None


def expected_score(fn: Callable[[np.ndarray], np.ndarray], out: torch.Tensor, num_classes: int, max_nodes: int,
                   samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """The expected value of a non-differentiable score of the architecture that the generator's output
    ``out [B, N K + E]`` decodes to, differentiable in ``out``.

    The decoding samples node types from ``softmax`` of the node logits and edges from ``sigmoid`` of
    the edge logits, independently (as the generator's own sampling does). ``fn`` takes discrete
    encodings [one-hot nodes ; edge bits] (``[M, N K + E]`` float32, one call) and returns ``[M]``.
    Forward: the mean of ``fn`` over ``samples`` draws per row. Backward: *local expectation
    gradients* (Titsias and Lazaro-Gredilla, NeurIPS 2015): for each node and class the mean of
    ``fn`` over the draws with that node set to that class, for each edge the mean difference
    between the draws with the edge on and off, chained through the softmax and sigmoid. Unlike a
    score-function (REINFORCE) estimate it is exactly zero for a coordinate ``fn`` does not read
    (e.g. the fixed edges of an NB201 cell), so it adds no noise there; unlike smoothing the
    model's input it stays informative where every probability lies on one side of a tree's split.
    Costs ``samples (1 + N K + 2 E)`` evaluations of ``fn`` per row.
    """
    if out.dim() != 2 or out.shape[1] <= num_classes * max_nodes:
        raise ValueError(f"out must be [B, {num_classes} * {max_nodes} + E], got {tuple(out.shape)}")
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    return _ExpectedScore.apply(out, fn, int(num_classes), int(max_nodes), int(samples), generator)
