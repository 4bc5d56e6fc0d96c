"""The search spaces a run config can name: NASLib's lightweight space class, the builder of its
``dataset_api`` from the data directory, and its dataset names. Imported lazily, so that reading
a config does not load the benchmark code."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from .config import ConfigError


@dataclass(frozen=True)
class SpaceEntry:
    space: type  #: the NASLib-protocol space class (``NasBench201Space``)
    make_dataset_api: Callable[[Any, str], dict]  #: ``(data_dir, dataset) -> dataset_api``
    canonical_dataset: Callable[[str], str]  #: a dataset name or alias -> the canonical name
    data_files: Callable[[Any, str], list]  #: ``(data_dir, dataset) -> [the files the dataset_api reads]``


#: search_space -> the bridge module holding ``{Space}``, ``make_..._dataset_api``, ``canonical_dataset`` and
#: ``data_files``
SPACES = {"nasbench201": ("naslib_agnet.bridge.nasbench201_space", "NasBench201Space", "make_nb201_dataset_api"),
          "nasbench101": ("naslib_agnet.bridge.nasbench101_space", "NasBench101Space", "make_nb101_dataset_api"),
          "nasbench301": ("naslib_agnet.bridge.darts_space", "NasBench301Space", "make_nb301_dataset_api")}


def get_space(name: str) -> SpaceEntry:
    if name not in SPACES:
        raise ConfigError(f"unknown search_space {name!r}; supported: {sorted(SPACES)}")
    module_name, space, make_api = SPACES[name]
    module = importlib.import_module(module_name)
    return SpaceEntry(getattr(module, space), getattr(module, make_api), module.canonical_dataset, module.data_files)


def canonical_dataset(search_space: str, dataset: str) -> str:
    """The canonical spelling of ``dataset`` in ``search_space`` (ConfigError when it has no such dataset)."""
    from ..benchmarks import BenchmarkDataError

    try:
        return get_space(search_space).canonical_dataset(dataset)
    except BenchmarkDataError as exc:
        raise ConfigError(str(exc)) from None
