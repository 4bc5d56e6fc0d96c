"""The codec interface between a search space and AG-Net's generator.

A codec knows one search space's encoding and nothing else. An architecture consists of one or
more *cells* (:attr:`Codec.cells`: NB201 and NB101 one, DARTS a normal and a reduction cell),
and each cell is one graph of the same generator: the node vocabulary (index 0 ``output``,
index 1 ``input``), the maximal node count N, how cells become generator targets (node classes
``[B, N]``, column-ordered edge bits ``[B, N(N-1)/2]``) and how a sampled discrete graph becomes
a cell again (or ``None`` when it is not a valid cell of the space). :meth:`Codec.split` and
:meth:`Codec.join` take an architecture apart into its cells and put it together again; for a
one-cell space a cell *is* the architecture.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

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
    """One search space's encoding for AG-Net. Subclasses set ``name``, ``node_types``, ``max_nodes``
    (of one cell's graph) and, for a space of several cells, ``cells``, :meth:`split` and :meth:`join`."""

    name: str
    node_types: tuple[str, ...]
    max_nodes: int
    #: the cells an architecture consists of, in the order :meth:`split` returns them
    cells: tuple[str, ...] = ("cell",)
    #: graph nodes of class ``input`` the generator starts from (DARTS: 2, ``input`` and ``input_1``)
    input_nodes: int = 1
    #: GNN layers per direction of this space's generator (spec §2.1: 2; NB301: 4)
    gnn_layers: int = 2
    #: whether :meth:`enumerate` lists every cell (else :meth:`sample_cells` draws them)
    enumerable: bool = True

    @property
    def num_classes(self) -> int:
        return len(self.node_types)

    @property
    def num_edges(self) -> int:
        return self.max_nodes * (self.max_nodes - 1) // 2

    # ------------------------------------------------------------------ architectures
    def key(self, arch: Any) -> ArchKey:
        """The architecture as this space's hashable key (NASLib's ``get_hash()`` form): a tuple of ints
        by default."""
        return tuple(int(v) for v in arch)

    def split(self, arch: Any) -> tuple[Any, ...]:
        """The architecture's cells, one per entry of :attr:`cells`."""
        return (self.key(arch),)

    def join(self, cells: Sequence[Any]) -> ArchKey:
        """The architecture made of ``cells`` (the inverse of :meth:`split`)."""
        if len(cells) != len(self.cells):
            raise ValueError(f"a {self.name} architecture has {len(self.cells)} cell(s) {self.cells}, got {len(cells)}")
        return self.key(cells[0])

    def dedup_key(self, arch: ArchKey) -> Hashable:
        """Key under which two architectures count as the same (exact encoding by default)."""
        return arch

    def cell_dedup_key(self, cell: Any) -> Hashable:
        """Key under which two cells count as the same (a one-cell space: :meth:`dedup_key`)."""
        return self.dedup_key(cell)

    def pretraining_cells(self, rng: np.random.Generator, num: int) -> list[Any]:
        """The cells the generator is pretrained on: every cell of a finite space (``num`` is ignored),
        ``num`` random valid cells of one that is not enumerated (:meth:`sample_cells`)."""
        return list(self.enumerate()) if self.enumerable else self.sample_cells(rng, num)

    def sample_cells(self, rng: np.random.Generator, num: int) -> list[Any]:
        """``num`` uniformly random valid cells (spaces that are not enumerated)."""
        raise NotImplementedError(f"the {self.name} codec does not sample cells; it enumerates them")

    # ------------------------------------------------------------------ cells <-> graphs
    @abstractmethod
    def encode(self, cells: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Targets for the reconstruction loss of cells: node classes ``[B, N]`` int64, edges ``[B, E]`` float32."""

    @abstractmethod
    def decode(self, node_types: np.ndarray, edges: np.ndarray,
               edge_logits: np.ndarray | None = None) -> list[Any | None]:
        """Sampled node classes ``[B, N]`` and edge bits ``[B, E]`` -> cells, ``None`` where invalid.
        ``edge_logits`` (``[B, E]``): the generator's logits, for a space that prunes edges by them (DARTS)."""

    def enumerate(self) -> Iterator[Any]:
        """Every cell of a finite space."""
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
