"""The codec interface between a search space and AG-Net's generator.

A codec knows one search space's encoding and nothing else: its node vocabulary
(index 0 ``output``, index 1 ``input``), the maximal node count N, how an
architecture key becomes generator targets (node classes ``[B, N]``, column-ordered
edge bits ``[B, N(N-1)/2]``) and how a sampled discrete graph becomes an
architecture key again (or ``None`` when it is not a valid cell of the space).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator, Sequence

import numpy as np
import torch

#: An architecture key: the NASLib hash of the architecture (a tuple of ints).
ArchKey = tuple[int, ...]

OUTPUT_CLASS = 0
INPUT_CLASS = 1


def edge_index(u: int, v: int) -> int:
    """Position of edge u->v (u < v) in the column-ordered edge vector (0->1, 0->2, 1->2, 0->3, ...)."""
    if not 0 <= u < v:
        raise ValueError(f"an edge needs 0 <= u < v, got {u}->{v}")
    return v * (v - 1) // 2 + u


class Codec(ABC):
    """One search space's encoding for AG-Net. Subclasses set ``name``, ``node_types``, ``max_nodes``."""

    name: str
    node_types: tuple[str, ...]
    max_nodes: int

    @property
    def num_classes(self) -> int:
        return len(self.node_types)

    @property
    def num_edges(self) -> int:
        return self.max_nodes * (self.max_nodes - 1) // 2

    @abstractmethod
    def encode(self, archs: Sequence[ArchKey]) -> tuple[np.ndarray, np.ndarray]:
        """Targets for the reconstruction loss: node classes ``[B, N]`` int64, edges ``[B, E]`` float32."""

    @abstractmethod
    def decode(self, node_types: np.ndarray, edges: np.ndarray) -> list[ArchKey | None]:
        """Sampled node classes ``[B, N]`` and edge bits ``[B, E]`` -> keys, ``None`` where invalid."""

    def dedup_key(self, arch: ArchKey) -> Hashable:
        """Key under which two architectures count as the same (exact encoding by default)."""
        return arch

    def enumerate(self) -> Iterator[ArchKey]:
        raise NotImplementedError(f"the {self.name} space cannot be enumerated")


def sample_discrete(node_logits: torch.Tensor, edge_logits: torch.Tensor,
                    generator: torch.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stochastic discretisation of generator output (spec §2.4).

    The last node is forced to ``output``; every other node type is drawn from
    Categorical(logits) and every edge from Bernoulli(logits), independently. Nodes
    after the first ``output`` and the edges touching them are dropped: they are set
    to ``output`` and 0, so a codec sees one padded ``[B, N]`` / ``[B, E]`` pair.
    """
    b, n, k = node_logits.shape
    logits = node_logits.detach().clone()
    logits[:, -1] = -float("inf")
    logits[:, -1, OUTPUT_CLASS] = 0.0
    gumbel = -torch.log(-torch.log(torch.rand(b, n, k, generator=generator).clamp_min(1e-20)))
    types = (logits + gumbel).argmax(-1).numpy()
    edges = (torch.rand(edge_logits.shape, generator=generator)
             < torch.sigmoid(edge_logits.detach())).numpy()
    is_out = types == OUTPUT_CLASS
    n_nodes = is_out.argmax(axis=1) + 1  # the last node is always output
    alive = np.arange(n)[None, :] < n_nodes[:, None]
    types = np.where(alive, types, OUTPUT_CLASS)
    v_of_edge = np.concatenate([np.full(v, v) for v in range(1, n)])
    edges = edges & alive[:, v_of_edge]
    return types, edges
