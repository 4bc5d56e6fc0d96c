"""What the lightweight, table-backed NASLib spaces (NB201, NB101) share: NASLib's class-level
protocol, ``get_type``, ``clone`` and ``get_loss_fn``, and the shape of a neighbourhood entry."""
from __future__ import annotations

import copy


class TableSpace:
    """Base of a space that answers ``query`` from a benchmark table and has no torch model.

    Subclasses set ``space_name`` (NASLib's ``get_type()``) and ``label`` (for messages)."""

    QUERYABLE = True
    OPTIMIZER_SCOPE = ("stage_1", "stage_2", "stage_3")
    instantiate_model = False
    space_name = ""
    label = ""

    def get_type(self) -> str:
        return self.space_name

    def clone(self):
        return copy.copy(self)

    def get_loss_fn(self):
        raise NotImplementedError(f"the lightweight {self.label} space has no trainable model")


class Neighbour:
    """NASLib's neighbourhood entries are ``nn.Module`` containers with an ``arch``; this is the bare shape."""

    def __init__(self, arch):
        self.arch = arch
