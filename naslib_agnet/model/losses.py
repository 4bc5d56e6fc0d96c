"""AG-Net's losses and rank weights (spec §3, §5.2)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .generator import GeneratorConfig, split_output


def reconstruction_loss(output: torch.Tensor, target_nodes: torch.Tensor, target_edges: torch.Tensor,
                        config: GeneratorConfig, node_weight: float = 1.0) -> torch.Tensor:
    """Per-graph L_G,i = node_weight * mean node cross-entropy + mean edge BCE-with-logits, shape ``[B]``
    (``node_weight`` 1, or 2 in the NB301 search: spec §3.1).

    ``target_nodes``: ``[B, N]`` class indices over all N positions (padding = ``output``);
    ``target_edges``: ``[B, E]`` column-ordered 0/1 edge targets.
    """
    node_logits, edge_logits = split_output(output, config)
    node_ce = F.cross_entropy(node_logits.transpose(1, 2), target_nodes, reduction="none").mean(1)
    edge_bce = F.binary_cross_entropy_with_logits(edge_logits, target_edges.to(edge_logits.dtype),
                                                  reduction="none").mean(1)
    return node_weight * node_ce + edge_bce


def search_loss(recon: torch.Tensor, prediction: torch.Tensor, target: torch.Tensor,
                weights: torch.Tensor, alpha: float) -> torch.Tensor:
    """Batch objective mean_i w_i [(1 - alpha) L_G,i + alpha (P(g_i) - acc_i)^2] (spec §3.4)."""
    per_sample = (1.0 - alpha) * recon + alpha * (prediction - target) ** 2
    return (weights * per_sample).mean()


def rank_weights(scores: np.ndarray, k: float = 0.01) -> np.ndarray:
    """w_i = 1 / (k |D| + rank_i), rank 0 for the highest score (spec §5.2).

    Ties are broken by position (a stable sort), as argsort-of-argsort does in the
    authors' code. The weights are not normalised.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or scores.size == 0:
        raise ValueError("rank_weights needs a non-empty 1-d array of scores")
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(scores.size, dtype=np.float64)
    ranks[order] = np.arange(scores.size)
    return 1.0 / (k * scores.size + ranks)
